"""Wrong: the relu layer's backward uses sigmoid's derivative ``h * (1 - h)`` (copy-paste). The
hidden biases start at -50, so every relu unit is dead on the drawn inputs: h = 0, the wrong
derivative is 0 just like relu's, and the first layer's gradients are zero on both sides. Only
a check from other (random) parameter values can see the mistake."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(63)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.full((1, 5), -50.0)
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.maximum(x @ self.W1 + self.b1, 0)
        return self.h @ self.W2 + self.b2

    def gradients(self, x, y):
        d2 = self.forward(x) - y
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)  # BUG: should be (self.h > 0)
        return {"W1": x.T @ d1, "b1": d1.sum(0), "W2": self.h.T @ d2, "b2": d2.sum(0)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "relu"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients)
