"""Wrong: forward returns its output transposed (``out.T``, a habit from a columns-layout
version). With 4 outputs and the stated batch of 4 the shape (4, 4) is exactly what the rows
layout expects, so only the values show it."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(51)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 4)), np.zeros((1, 4))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return (self.h @ self.W2 + self.b2).T  # BUG

    def gradients(self, x, y):
        o = self.forward(x).T
        d2 = o - y
        d1 = d2 @ self.W2.T * (1 - self.h**2)
        return {"W1": x.T @ d1, "b1": d1.sum(0), "W2": self.h.T @ d2, "b2": d2.sum(0)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients, batch=4)
