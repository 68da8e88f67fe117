"""Correct network whose schedule hook is stateful: ``start_epoch(e)`` counts the epochs itself
(``self.epochs_seen += 1``, the argument unused) and halves the lr in place every 3rd epoch, with
torch-style momentum. Called once per epoch, as a training loop does, it is StepLR; a check that
called it before every update of an epoch holding two updates would count one epoch too many."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "match"


class Net:
    def __init__(self):
        rng = np.random.default_rng(141)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))
        self.v = [np.zeros_like(p) for p in (self.W1, self.b1, self.W2, self.b2)]
        self.lr = 0.3
        self.epochs_seen = 0

    def start_epoch(self, e):
        if self.epochs_seen > 0 and self.epochs_seen % 3 == 0:
            self.lr *= 0.5
        self.epochs_seen += 1

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        grads = (x.T @ d1, d1.sum(0, keepdims=True), self.h.T @ d2, d2.sum(0, keepdims=True))
        params = (self.W1, self.b1, self.W2, self.b2)
        for p, v, g in zip(params, self.v, grads, strict=True):
            v *= 0.9
            v += g
            p -= self.lr * v


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.3,
                   momentum=0.9, momentum_style="torch", bias_momentum=True,
                   start_epoch=net.start_epoch, lr_epoch=3, lr_gamma=0.5)
