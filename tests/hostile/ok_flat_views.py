"""Correct network whose parameters all live in ONE flat vector; W1, b1, W2, b2 are reshaped
views into it, forward reads the views, the update is ``theta -= lr * g`` on the flat vector.
A tool that replaces parameters by rebinding attributes (rather than writing into the arrays)
disconnects them from ``theta``; it must still say "match"."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "match"
SHAPES = [(3, 4), (1, 4), (4, 2), (1, 2)]


class FlatNet:
    def __init__(self):
        sizes = [int(np.prod(s)) for s in SHAPES]
        self.theta = np.random.default_rng(5).standard_normal(sum(sizes)) * 0.5
        ends = np.cumsum(sizes)
        self.W1, self.b1, self.W2, self.b2 = (
            self.theta[e - n:e].reshape(s) for e, n, s in zip(ends, sizes, SHAPES, strict=True))

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        g = [x.T @ d1, d1.sum(0), self.h.T @ d2, d2.sum(0)]
        self.theta -= 0.2 * np.concatenate([a.ravel() for a in g])


def adapter():
    net = FlatNet()
    layers = [Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "identity")]
    return Adapter(network=net, layers=layers,
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.2)
