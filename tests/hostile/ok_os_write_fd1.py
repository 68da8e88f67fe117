"""Correct network whose train_step logs with ``os.write(1, ...)`` straight to file descriptor 1
(as C extensions and some loggers do), bypassing ``sys.stdout``. ``--json -`` must still be pure
JSON with verdict "match": the tool has to keep fd 1 for itself, not only ``sys.stdout``."""

import os

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "match"
ARGS = ["--json", "-"]
SUBPROCESS = True


class Net:
    def __init__(self):
        rng = np.random.default_rng(4)
        self.W1, self.b1 = rng.standard_normal((2, 3)), np.zeros((1, 3))
        self.W2, self.b2 = rng.standard_normal((3, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def train_step(self, x, y):
        os.write(1, b"step {not json\n")
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * (1 - self.h**2)
        self.W2 -= 0.3 * self.h.T @ d2
        self.b2 -= 0.3 * d2.sum(0, keepdims=True)
        self.W1 -= 0.3 * x.T @ d1
        self.b1 -= 0.3 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.3)
