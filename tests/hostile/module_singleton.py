"""Correct network, notebook style: ONE network built at import, and adapter() hands out that same
object every time instead of building a fresh one. A tool that calls adapter() again after
training gets the trained network; it must notice (adapter-error is an acceptable answer) or
manage with one call (match). Never a mismatch blamed on the user's backprop."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "match"
ALSO_OK = ("adapter-error",)
ARGS = ["--steps", "2"]


class Net:
    def __init__(self):
        rng = np.random.default_rng(62)
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


NET = Net()


def adapter():
    return Adapter(network=NET, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=NET.forward, train_step=NET.train_step, lr=0.1)
