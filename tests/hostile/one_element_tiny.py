"""Wrong in one element only, and only slightly: the gradient of W1[1, 2] is 1 + 1e-9 times the
right one (a float64 network: a relative 1e-9 is ~4500 eps, far above rounding)."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(104)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def gradients(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        g1 = x.T @ d1
        g1[1, 2] *= 1 + 1e-9  # BUG
        return {"W1": g1, "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients)
