"""Wrong: the network zeroes its momentum buffers whenever the lr decays (every 4 epochs), which
torch's StepLR never does. Everything is right until the first decay, at step 5: a check that
compares fewer steps than it takes to cross a decay cannot see it."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(72)
        self.W1, self.b1 = rng.standard_normal((3, 4)) * 0.5, np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)) * 0.5, np.zeros((1, 1))
        self.v = [np.zeros_like(p) for p in (self.W1, self.b1, self.W2, self.b2)]
        self.lr = 0.05

    def start_epoch(self, e):
        if e > 0 and e % 4 == 0:
            self.lr *= 0.5
            for v in self.v:
                v[...] = 0  # BUG: "fresh momentum for the new lr"

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        d2 = self.forward(x) - y
        d1 = d2 @ self.W2.T * (1 - self.h**2)
        g = (x.T @ d1, d1.sum(0, keepdims=True), self.h.T @ d2, d2.sum(0, keepdims=True))
        for p, v, gi in zip((self.W1, self.b1, self.W2, self.b2), self.v, g, strict=True):
            v[...] = 0.9 * v + gi
            p -= self.lr * v


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.05,
                   momentum=0.9, momentum_style="torch", start_epoch=net.start_epoch,
                   lr_epoch=4, lr_gamma=0.5)
