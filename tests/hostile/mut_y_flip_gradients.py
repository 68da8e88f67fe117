"""Wrong, style (a): gradients() "converts labels" with ``y[:] = 1 - y`` on the caller's array and
returns the gradient for the flipped targets. A twin computed from the same array afterwards
flips with it."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(22)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.maximum(x @ self.W1 + self.b1, 0)
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def gradients(self, x, y):
        y[:] = 1 - y  # BUG: flips the caller's labels
        p = self.forward(x)
        d2 = (p - y) / y.size
        d1 = d2 @ self.W2.T * (self.h > 0)
        return {"W1": x.T @ d1, "b1": d1.sum(0), "W2": self.h.T @ d2, "b2": d2.sum(0)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "relu"), Layer("W2", "b2", "sigmoid")],
                   loss="bce", forward=net.forward, gradients=net.gradients)
