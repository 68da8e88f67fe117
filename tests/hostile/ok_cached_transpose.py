"""Correct network that keeps derived state: backward uses ``self.W2T``, a transposed copy of W2
made at __init__ and refreshed after every update (a "speed-up"). Consistent in its own training
loop. A tool that overwrites W2 in place with its own values leaves W2T stale and would blame the
backprop: it must not say mismatch (match; or a clear adapter-error / inconclusive saying the
network keeps state derived from its parameters)."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "match"
ALSO_OK = ("adapter-error", "inconclusive")
ARGS = ["--steps", "2"]


class Net:
    def __init__(self):
        rng = np.random.default_rng(70)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))
        self.W2T = self.W2.T.copy()

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2T * (1 - self.h**2)
        self.W2 -= 0.1 * self.h.T @ d2
        self.b2 -= 0.1 * d2.sum(0, keepdims=True)
        self.W1 -= 0.1 * x.T @ d1
        self.b1 -= 0.1 * d1.sum(0, keepdims=True)
        self.W2T = self.W2.T.copy()


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.1)
