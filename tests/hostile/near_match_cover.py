"""Wrong twice, the second hidden under the first: the sigmoid carries a "safety" 1e-9 in its
denominator (a forward difference of about 1e-9 relative, a near match) and the hidden layer's
weight gradient is (1 + 3e-7) times too large (a wrong "stabiliser" factor). The near match
widens the tolerance to 256 * f per step; the 3e-7 error hides inside it. The network is wrong:
never a match."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


def sigmoid(z):
    return 1 / (1 + np.exp(-z) + 1e-9)


class Net:
    def __init__(self):
        rng = np.random.default_rng(125)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = sigmoid(x @ self.W1 + self.b1)
        return sigmoid(self.h @ self.W2 + self.b2)

    def gradients(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        return {"W1": (1 + 3e-7) * (x.T @ d1), "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients)
