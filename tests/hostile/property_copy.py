"""Wrong (adapter points at copies): the network keeps its weights in ``self._p`` and exposes
``W1``... as read-only properties that return COPIES ("defensive" getters). The network itself is
ALSO wrong: its output-layer delta has the factor 2 of sse under a declared half-sse. Whatever the
check writes into the copies never reaches the network; it must not call this a match, and must
not blame a pattern it did not see on the network's own arrays."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "adapter-error"
ALSO_OK = ("mismatch",)


class Net:
    def __init__(self):
        rng = np.random.default_rng(106)
        self._p = {"W1": rng.standard_normal((3, 4)), "b1": np.zeros((1, 4)),
                   "W2": rng.standard_normal((4, 1)), "b2": np.zeros((1, 1))}

    W1 = property(lambda self: self._p["W1"].copy())
    b1 = property(lambda self: self._p["b1"].copy())
    W2 = property(lambda self: self._p["W2"].copy())
    b2 = property(lambda self: self._p["b2"].copy())

    def forward(self, x):
        p = self._p
        self.h = 1 / (1 + np.exp(-(x @ p["W1"] + p["b1"])))
        return 1 / (1 + np.exp(-(self.h @ p["W2"] + p["b2"])))

    def train_step(self, x, y):
        p = self._p
        o = self.forward(x)
        d2 = 2 * (o - y) * o * (1 - o)  # BUG: sse's 2 under half-sse
        d1 = d2 @ p["W2"].T * self.h * (1 - self.h)
        p["W2"] -= 0.5 * self.h.T @ d2
        p["b2"] -= 0.5 * d2.sum(0, keepdims=True)
        p["W1"] -= 0.5 * x.T @ d1
        p["b1"] -= 0.5 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.5)
