"""Wrong, style (a): gradients() accumulates into buffers it never zeroes (the "forgot
zero_grad" bug). The first call returns exactly the right gradient; every later call returns the
running sum. A tool that calls gradients() once cannot see it."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(33)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))
        self.grad = {k: np.zeros_like(getattr(self, k)) for k in ("W1", "b1", "W2", "b2")}

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def gradients(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T * (1 - self.h**2)
        self.grad["W2"] += self.h.T @ d2  # BUG: += without zeroing first
        self.grad["b2"] += d2.sum(0, keepdims=True)
        self.grad["W1"] += x.T @ d1
        self.grad["b1"] += d1.sum(0, keepdims=True)
        return {k: v.copy() for k, v in self.grad.items()}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients)
