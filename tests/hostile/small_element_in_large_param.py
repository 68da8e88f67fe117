"""Wrong in the SMALL elements only: the W1 gradient drops every element whose magnitude is
below 2% of the largest one (a "sparsify the update" hack). Each dropped element is 100% wrong,
but its error is small against max|expected|, where a tolerance relative to the largest element
looks."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(105)
        self.W1, self.b1 = rng.standard_normal((4, 6)), np.zeros((1, 6))
        self.W2, self.b2 = rng.standard_normal((6, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def gradients(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        g1 = x.T @ d1
        g1[np.abs(g1) < 0.02 * np.abs(g1).max()] = 0.0  # BUG
        return {"W1": g1, "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients)
