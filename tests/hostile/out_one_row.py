"""Wrong: forward returns the mean prediction over the batch (shape (1, 1)) instead of one row
per sample, e.g. for a batch of 4. (1, 1) broadcasts against (4, 1), and for a batch of 1 it is
even right; for the stated batch of 4 the network's output is wrong."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(52)
        self.W1, self.b1 = rng.standard_normal((2, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        o = 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))
        return o.mean(axis=0, keepdims=True)  # BUG: one row for the whole batch

    def gradients(self, x, y):
        self.forward(x)
        o = 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        return {"W1": x.T @ d1, "b1": d1.sum(0), "W2": self.h.T @ d2, "b2": d2.sum(0)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients, batch=4)
