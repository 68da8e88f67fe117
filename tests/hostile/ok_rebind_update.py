"""Correct: classic momentum on the weights, plain SGD on the biases, every update written as a
rebinding (``self.W = self.W - ...``) rather than in place. Must match, over several steps."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "match"
ARGS = ["--steps", "4"]


class Net:
    def __init__(self):
        rng = np.random.default_rng(1)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))
        self.U1, self.U2 = np.zeros((3, 5)), np.zeros((5, 1))

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        self.U2 = 0.9 * self.U2 + 0.1 * (self.h.T @ d2)
        self.U1 = 0.9 * self.U1 + 0.1 * (x.T @ d1)
        self.W2 = self.W2 - self.U2
        self.W1 = self.W1 - self.U1
        self.b2 = self.b2 - 0.1 * d2.sum(axis=0, keepdims=True)
        self.b1 = self.b1 - 0.1 * d1.sum(axis=0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step,
                   lr=0.1, momentum=0.9, momentum_style="classic", bias_momentum=False)
