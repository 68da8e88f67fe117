"""Wrong: the adapter declares a per-UPDATE step schedule (StepLR stepped after every
train_step, step_size 2), but the network decays its lr in start_epoch, once per EPOCH. With one
update per epoch the two agree; with 100 batches per epoch the real network's lr decays 100
times too slowly."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(142)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))
        self.lr = 0.2

    def start_epoch(self, e):
        self.lr = 0.2 * 0.5 ** (e // 2)  # BUG: per epoch, where per update is declared

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
                   start_epoch=net.start_epoch, lr_epoch=2, lr_gamma=0.5, schedule_per="update")
