"""Wrong: the schedule hook ``start_epoch(e)`` sets the lr AND shrinks every weight by 1% ("a
weight decay once per epoch", never declared). train_step itself is right, so each update read
as ``before - after`` around train_step is right for the parameters it started from; the
network still trains differently from torch's (no decay declared)."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(132)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))
        self.lr = 0.2

    def start_epoch(self, e):
        self.lr = 0.2 * 0.5 ** (e // 3)
        self.W1 *= 0.99  # BUG: an undeclared decay, outside train_step
        self.W2 *= 0.99

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        self.W2 -= self.lr * self.h.T @ d2
        self.b2 -= self.lr * d2.sum(0, keepdims=True)
        self.W1 -= self.lr * x.T @ d1
        self.b1 -= self.lr * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.2,
                   start_epoch=net.start_epoch, lr_epoch=3, lr_gamma=0.5)
