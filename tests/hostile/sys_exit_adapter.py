"""User error: adapter() calls sys.exit(0) (a CLI-style early exit after building the network).
Nothing is compared; exit 0 would be a false pass."""

import sys

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "user-error"


class Net:
    def __init__(self):
        rng = np.random.default_rng(60)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T * (1 - self.h**2)
        self.W2 -= 0.1 * self.h.T @ d2
        self.b2 -= 0.1 * d2.sum(0, keepdims=True)
        self.W1 -= 0.1 * x.T @ d1
        self.b1 -= 0.1 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    if __name__ != "__main__":
        sys.exit(0)
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.1)
