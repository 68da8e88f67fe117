"""Wrong: neither forward nor train_step ever adds the biases (they are updated, never used).
The biases start at zero, so a check that keeps them there and compares one step sees nothing."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(24)
        self.W1, self.b1 = rng.standard_normal((2, 6)), np.zeros((1, 6))
        self.W2, self.b2 = rng.standard_normal((6, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1)))  # BUG: + self.b1 forgotten
        return 1 / (1 + np.exp(-(self.h @ self.W2)))  # BUG: + self.b2 forgotten

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        self.W2 -= 0.5 * self.h.T @ d2
        self.b2 -= 0.5 * d2.sum(0, keepdims=True)
        self.W1 -= 0.5 * x.T @ d1
        self.b1 -= 0.5 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.5)
