"""Correct float32 network with a harmless float64 leak: one derivative is computed in float64
(a float64 constant array), but the in-place update casts back into the float32 weights, so every
parameter stays float32 and the values agree to float32 tolerance. Must match."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "match"
ARGS = ["--steps", "2"]
F = np.float32
ONE = np.ones(1)  # float64


class Net:
    def __init__(self):
        rng = np.random.default_rng(11)
        self.W1, self.b1 = rng.standard_normal((3, 5)).astype(F), np.zeros((1, 5), F)
        self.W2, self.b2 = rng.standard_normal((5, 1)).astype(F), np.zeros((1, 1), F)

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (ONE - o)  # float64 from here on in this layer
        d1 = (d2 @ self.W2.T).astype(F) * self.h * (F(1) - self.h)
        self.W2 -= F(0.5) * self.h.T @ d2
        self.b2 -= F(0.5) * d2.sum(0, keepdims=True)
        self.W1 -= F(0.5) * x.T @ d1
        self.b1 -= F(0.5) * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.5)
