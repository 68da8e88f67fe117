"""Wrong: ``self.b2 = self.b1`` in __init__ (meant ``np.zeros_like(self.b1)``): with 4 hidden
units and 4 outputs the two biases are ONE array, so both layers add the same bias and every
update to one also moves the other. Zero at the start, so the first forward is right."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"
ALSO_OK = ("adapter-error",)


class Net:
    def __init__(self):
        rng = np.random.default_rng(108)
        self.W1, self.b1 = rng.standard_normal((3, 4)) * 0.5, np.zeros((1, 4))
        self.W2 = rng.standard_normal((4, 4)) * 0.5
        self.b2 = self.b1  # BUG: aliased

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) / x.shape[0]
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        self.W2 -= 0.2 * self.h.T @ d2
        self.b2 -= 0.2 * d2.sum(0, keepdims=True)
        self.W1 -= 0.2 * x.T @ d1
        self.b1 -= 0.2 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-mse", forward=net.forward, train_step=net.train_step, lr=0.8)
