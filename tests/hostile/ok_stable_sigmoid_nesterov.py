"""Correct network in a tricky style: sigmoid written as ``0.5 * (1 + tanh(z / 2))`` (rounds
differently from ``1 / (1 + exp(-z))``), torch-style Nesterov momentum with weight decay on every
parameter, the lr halved every 2 epochs by start_epoch. Must match over 5 steps."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "match"
ARGS = ["--steps", "5"]
LR, M, WD = 0.2, 0.8, 0.01


class Net:
    def __init__(self):
        rng = np.random.default_rng(10)
        self.p = [rng.standard_normal((2, 6)), np.zeros((1, 6)), rng.standard_normal((6, 1)),
                  np.zeros((1, 1))]
        self.v = [np.zeros_like(a) for a in self.p]
        self.lr = LR

    def forward(self, x):
        W1, b1, W2, b2 = self.p
        self.h = 0.5 * (1 + np.tanh((x @ W1 + b1) / 2))
        return 0.5 * (1 + np.tanh((self.h @ W2 + b2) / 2))

    def start_epoch(self, e):
        self.lr = LR * 0.5 ** (e // 2)

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.p[2].T * self.h * (1 - self.h)
        grads = [x.T @ d1, d1.sum(0, keepdims=True), self.h.T @ d2, d2.sum(0, keepdims=True)]
        for p, v, g in zip(self.p, self.v, grads, strict=True):
            g = g + WD * p
            v[...] = M * v + g
            p -= self.lr * (g + M * v)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("p[0]", "p[1]", "sigmoid"),
                                        Layer("p[2]", "p[3]", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=LR,
                   momentum=M, momentum_style="torch", nesterov=True, weight_decay=WD,
                   start_epoch=net.start_epoch, lr_epoch=2, lr_gamma=0.5)
