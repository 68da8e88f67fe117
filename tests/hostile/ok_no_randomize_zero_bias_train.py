"""Correct network checked at its own parameters (``randomize=False``): random weights, zero
biases, plain SGD in train_step. The biases move from the first step on, so every later step
compares them at non-zero values: a match, not inconclusive."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "match"


class Net:
    def __init__(self):
        rng = np.random.default_rng(135)
        self.W1, self.b1 = rng.standard_normal((3, 5)) * 0.5, np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)) * 0.5, np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        self.W2 -= 0.1 * self.h.T @ d2
        self.b2 -= 0.1 * d2.sum(0, keepdims=True)
        self.W1 -= 0.1 * x.T @ d1
        self.b1 -= 0.1 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.1,
                   randomize=False)
