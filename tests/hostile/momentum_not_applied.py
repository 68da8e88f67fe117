"""Wrong: the adapter (and the network's constructor) declare classic momentum 0.9, but the step
is plain SGD: the velocity is allocated and never used. Identical on the first step, where every
buffer is zero."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self, lr=0.1, momentum=0.9):
        rng = np.random.default_rng(27)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))
        self.lr, self.momentum = lr, momentum
        self.V1, self.V2 = np.zeros((3, 4)), np.zeros((4, 1))

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        self.W2 -= self.lr * self.h.T @ d2  # BUG: self.V2 never used
        self.W1 -= self.lr * x.T @ d1
        self.b2 -= self.lr * d2.sum(0, keepdims=True)
        self.b1 -= self.lr * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.1,
                   momentum=0.9, momentum_style="classic", bias_momentum=False)
