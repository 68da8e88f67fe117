"""Wrong: the sigmoid derivative helper returns 0 (a typo: ``a * (1 - a) * 0``), so every delta
and every update is zero and train_step changes nothing. That is a wrong network (the twin
learns), not an adapter that points at the wrong arrays: "mismatch"."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


def dsigmoid(a):
    return a * (1 - a) * 0  # BUG


class Net:
    def __init__(self):
        rng = np.random.default_rng(30)
        self.W1, self.b1 = rng.standard_normal((2, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * dsigmoid(o)
        d1 = d2 @ self.W2.T * dsigmoid(self.h)
        self.W2 -= 0.5 * self.h.T @ d2
        self.b2 -= 0.5 * d2.sum(0, keepdims=True)
        self.W1 -= 0.5 * x.T @ d1
        self.b1 -= 0.5 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.5)
