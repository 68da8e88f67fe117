"""Correct float32 network: tanh hidden layer, identity output, mse, torch-style momentum, every
array float32 (inputs are cast by the caller). Must match at float32 tolerance."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "match"
ARGS = ["--steps", "3"]
F = np.float32


class Net:
    def __init__(self):
        rng = np.random.default_rng(2)
        self.W1, self.b1 = rng.standard_normal((4, 6)).astype(F), np.zeros((1, 6), F)
        self.W2, self.b2 = rng.standard_normal((6, 2)).astype(F), np.zeros((1, 2), F)
        self.v = [np.zeros_like(p) for p in (self.W1, self.b1, self.W2, self.b2)]

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = F(2) * (o - y) / F(o.size)
        d1 = (d2 @ self.W2.T) * (F(1) - self.h * self.h)
        grads = (x.T @ d1, d1.sum(0, keepdims=True), self.h.T @ d2, d2.sum(0, keepdims=True))
        for p, v, g in zip((self.W1, self.b1, self.W2, self.b2), self.v, grads, strict=True):
            v *= F(0.5)
            v += g
            p -= F(0.05) * v


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="mse", forward=net.forward, train_step=net.train_step,
                   lr=0.05, momentum=0.5, momentum_style="torch", bias_momentum=True)
