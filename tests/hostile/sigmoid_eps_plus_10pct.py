"""Wrong twice: the sigmoid has a "safety" 1e-8 in its denominator (a tiny forward difference)
and the first layer's weight gradient is 10% too large. Both are mistakes; the 10% one must not be
excused as rounding because the forward already differs a little."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


def sigmoid(z):
    return 1 / (1 + np.exp(-z) + 1e-8)


class Net:
    def __init__(self):
        rng = np.random.default_rng(32)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = sigmoid(x @ self.W1 + self.b1)
        return sigmoid(self.h @ self.W2 + self.b2)

    def gradients(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        return {"W1": 1.1 * (x.T @ d1), "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients)
