"""Wrong: the step schedule halves ``self.lr`` but the bias update uses ``self.lr_b``, a copy of
the lr taken in __init__, so after the first decay the biases train at the old lr. Classic
momentum 0.9 on the weights, plain SGD on the biases (the seed's layout)."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(116)
        self.W1, self.b1 = rng.standard_normal((2, 6)), np.zeros((1, 6))
        self.W2, self.b2 = rng.standard_normal((6, 1)), np.zeros((1, 1))
        self.V1, self.V2 = np.zeros((2, 6)), np.zeros((6, 1))
        self.lr0 = self.lr = self.lr_b = 0.05

    def start_epoch(self, e):
        self.lr = self.lr0 * 0.5 ** (e // 3)

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        self.V2 = 0.9 * self.V2 + self.lr * self.h.T @ d2
        self.V1 = 0.9 * self.V1 + self.lr * x.T @ d1
        self.W2 -= self.V2
        self.W1 -= self.V1
        self.b2 -= self.lr_b * d2.sum(0, keepdims=True)  # BUG: never decays
        self.b1 -= self.lr_b * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.05,
                   momentum=0.9, momentum_style="classic", bias_momentum=False,
                   start_epoch=net.start_epoch, lr_epoch=3, lr_gamma=0.5)
