"""Wrong: the adapter declares a per-epoch step schedule (halve every 2 epochs, through
start_epoch), but the network ignores the epoch and halves its lr every 2 calls of train_step
(per UPDATE). With one update per epoch the two agree; with 100 batches per epoch the real
network's lr collapses 50 times faster."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(138)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))
        self.updates = 0
        self.epoch = 0

    def start_epoch(self, e):
        self.epoch = e  # kept for logging; the lr below does not use it

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def train_step(self, x, y):
        lr = 0.2 * 0.5 ** (self.updates // 2)  # BUG: counts updates, not epochs
        self.updates += 1
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        self.W2 -= lr * self.h.T @ d2
        self.b2 -= lr * d2.sum(0, keepdims=True)
        self.W1 -= lr * x.T @ d1
        self.b1 -= lr * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.2,
                   start_epoch=net.start_epoch, lr_epoch=2, lr_gamma=0.5)
