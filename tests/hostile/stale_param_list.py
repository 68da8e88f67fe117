"""Wrong: forward reads the weights from a list built in __init__, while train_step rebinds the
attributes (``self.W1 = self.W1 - ...``). The first update is right; from then on the network keeps
computing with the initial weights (the list still holds them)."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(26)
        self.W1, self.b1 = rng.standard_normal((2, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))
        self.params = [self.W1, self.b1, self.W2, self.b2]

    def forward(self, x):
        W1, b1, W2, b2 = self.params  # BUG: stale after the first rebinding update
        self.h = 1 / (1 + np.exp(-(x @ W1 + b1)))
        return 1 / (1 + np.exp(-(self.h @ W2 + b2)))

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.params[2].T * self.h * (1 - self.h)
        self.W2 = self.W2 - 0.5 * self.h.T @ d2
        self.b2 = self.b2 - 0.5 * d2.sum(0, keepdims=True)
        self.W1 = self.W1 - 0.5 * x.T @ d1
        self.b1 = self.b1 - 0.5 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.5)
