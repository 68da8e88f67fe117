"""Wrong: all-zero initialisation of the relu layer (weights and biases) plus relu'(0) = 1
(``z >= 0``). At the network's own initial state every pre-activation is exactly 0, so its first
layer trains while torch's (relu'(0) = 0) never moves: the network differs where the user
actually starts. A check only at random parameter values (z is never exactly 0) misses it."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"
ARGS = ["--steps", "2"]


class Net:
    def __init__(self):
        rng = np.random.default_rng(71)
        self.W1, self.b1 = np.zeros((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.z = x @ self.W1 + self.b1
        self.h = np.maximum(self.z, 0)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T * (self.z >= 0)  # BUG: torch's relu'(0) is 0
        self.W2 -= 0.1 * self.h.T @ d2
        self.b2 -= 0.1 * d2.sum(0, keepdims=True)
        self.W1 -= 0.1 * x.T @ d1
        self.b1 -= 0.1 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "relu"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.1)
