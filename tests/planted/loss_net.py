"""Small classifiers written out by hand, the way tutorials write them: the fourth base the
planted bugs edit (user code, from the textbook formulas; nothing from handnet or reference
besides the adapter types at the end).

3-5-K, tanh hidden layer, weights (in, out), samples as rows, biases (1, out), plain SGD:

* ``loss="softmax-ce"`` (MNIST-style, K = 3): the output layer gives logits, the loss is the
  softmax cross-entropy averaged over the batch, its gradient the fused ``(softmax(z) - y) / n``;
  targets one-hot rows, or class indices with ``index=True``.
* ``loss="ce"`` (K = 3): a softmax output layer, the cross-entropy ``-sum(y log p) / n`` and its
  gradient pushed back through the softmax's Jacobian.
* ``loss="bce-logits"`` (K = 2): BCE on logits, mean over every element.
* ``loss="half-mse"`` (K = 3): ``0.5 * mean((out - y)**2)``, identity output.

``loss(out, y)`` is the network's own loss value.  ``tests/test_check_losses.py`` replaces one
line of this file by the wrong line a person writes.
"""

import numpy as np

from handnet.adapter import Adapter, Layer


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z):
    zs = z - z.max(axis=1, keepdims=True)
    return zs - np.log(np.exp(zs).sum(axis=1, keepdims=True))


OUTPUTS = {"softmax-ce": 3, "ce": 3, "bce-logits": 2, "half-mse": 3}


class LossNet:
    def __init__(self, loss="softmax-ce", lr=0.5, index=False, dtype=np.float64):
        rng = np.random.default_rng(4)
        k = OUTPUTS[loss]
        self.W1 = (rng.standard_normal((3, 5)) / np.sqrt(3)).astype(dtype)
        self.W2 = (rng.standard_normal((5, k)) / np.sqrt(5)).astype(dtype)
        self.b1, self.b2 = np.zeros((1, 5), dtype), np.zeros((1, k), dtype)
        self.kind, self.lr, self.index, self.k = loss, lr, index, k

    def onehot(self, y):
        return np.eye(self.k, dtype=self.W1.dtype)[y] if self.index else y

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        z = self.h @ self.W2 + self.b2
        self.out = softmax(z) if self.kind == "ce" else z
        return self.out

    def loss(self, out, y):
        y = self.onehot(y)
        n = len(out)
        if self.kind == "softmax-ce":
            return -np.sum(y * log_softmax(out)) / n
        if self.kind == "ce":
            return -np.sum(y * np.log(out)) / n
        if self.kind == "bce-logits":
            return np.mean(np.maximum(out, 0) - out * y + np.log1p(np.exp(-np.abs(out))))
        return 0.5 * np.mean((out - y) ** 2)

    def output_delta(self, out, y):
        y = self.onehot(y)
        n = len(out)
        if self.kind == "softmax-ce":
            d2 = (softmax(out) - y) / n
        elif self.kind == "ce":
            s = out
            g = -y / s / n
            d2 = s * (g - np.sum(g * s, axis=1, keepdims=True))
        elif self.kind == "bce-logits":
            d2 = (sigmoid(out) - y) / y.size
        else:
            d2 = (out - y) / y.size
        return d2

    def gradients(self, x, y):
        out = self.forward(x)
        d2 = self.output_delta(out, y)
        d1 = (d2 @ self.W2.T) * (1 - self.h ** 2)
        return {"W1": x.T @ d1, "b1": d1.sum(axis=0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(axis=0, keepdims=True)}

    def train_step(self, x, y):
        for k, g in self.gradients(x, y).items():
            setattr(self, k, getattr(self, k) - self.lr * g)


def adapter(mode="gradients", loss="softmax-ce", **options):
    net = LossNet(loss, **options)
    out = "softmax" if loss == "ce" else "identity"
    common = dict(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", out)],
                  loss=loss, forward=net.forward, loss_value=net.loss,
                  targets="index" if net.index else "rows")
    if mode == "gradients":
        return Adapter(**common, gradients=net.gradients)
    return Adapter(**common, train_step=net.train_step, lr=net.lr)
