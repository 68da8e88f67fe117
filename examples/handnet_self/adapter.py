"""handnet's own network, checked like anyone else's.

    handnet check examples/handnet_self/adapter.py --steps 4

Both styles at once: ``gradients`` is ``Network.backward`` of the loss gradient, ``train_step``
is one ``SGD.step`` (classic momentum on the weights only, as the seed), ``start_epoch`` sets the
lr from ``StepDecay`` (times 0.7 every 2 epochs, so ``--steps 4`` crosses a decay; with
``lr_gamma = 0.5`` a mistaken ``lr *= lr_gamma`` would be invisible).  Biases start
non-zero so that every bias gradient is exercised.  With a mutated copy of handnet on
``PYTHONPATH`` this is how ``make mutants`` asks the check tool to name the planted bug.
"""

import numpy as np

from handnet.adapter import Adapter, Layer
from handnet.losses import get_loss
from handnet.network import Network
from handnet.optim import SGD
from handnet.schedule import StepDecay

SIZES = [3, 6, 5, 2]
ACTIVATIONS = ["tanh", "sigmoid", "sigmoid"]
LOSS = "half-sse"
LR, MOMENTUM, LR_EPOCH, LR_GAMMA = 0.1, 0.9, 2, 0.3  # 0.3: lr *= 0.7, not 0.3


class HandnetUnderCheck:
    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.net = Network.create(SIZES, ACTIVATIONS, rng=rng)
        for layer in self.net.layers:
            b = layer.parameters["b"]
            b[...] = 0.3 * rng.standard_normal(b.shape)
        self.loss = get_loss(LOSS)
        self.opt = SGD(lr=LR, momentum=MOMENTUM, style="classic", bias_momentum=False)
        self.schedule = StepDecay(LR, LR_EPOCH, LR_GAMMA)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.net.forward(x)

    def gradients(self, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        grads, _ = self.net.backward(self.loss.gradient(self.net.forward(x), y))
        return {name: g.copy() for name, g in grads.items()}

    def start_epoch(self, epoch: int) -> None:
        self.opt.lr = self.schedule.lr_at(epoch)

    def train_step(self, x: np.ndarray, y: np.ndarray) -> None:
        self.opt.step(self.net.parameters, self.gradients(x, y))


def adapter() -> Adapter:
    h = HandnetUnderCheck()
    layers = [Layer(f"net.layers[{i}].parameters['W']", f"net.layers[{i}].parameters['b']", act)
              for i, act in enumerate(ACTIVATIONS)]
    keys = {}
    for i, layer in enumerate(layers):
        keys[layer.weight] = f"W{i}"
        keys[str(layer.bias)] = f"b{i}"
    return Adapter(
        network=h, layers=layers, loss=LOSS, forward=h.forward,
        gradients=h.gradients, gradient_keys=keys,
        train_step=h.train_step, start_epoch=h.start_epoch,
        lr=LR, momentum=MOMENTUM, momentum_style="classic", bias_momentum=False,
        lr_epoch=LR_EPOCH, lr_gamma=LR_GAMMA,
    )
