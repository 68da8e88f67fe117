"""Wrong: inverted dropout (p = 0.1) left on in train_step, its generator seeded. About one
hidden unit in ten is zeroed (and the rest scaled by 1/0.9) in each step's backward."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(118)
        self.W1, self.b1 = rng.standard_normal((3, 8)), np.zeros((1, 8))
        self.W2, self.b2 = rng.standard_normal((8, 1)), np.zeros((1, 1))
        self.noise = np.random.default_rng(7)  # seeded, still left on

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        self.forward(x)
        mask = (self.noise.random(self.h.shape) > 0.1) / 0.9  # BUG: dropout in training
        h = self.h * mask
        o = h @ self.W2 + self.b2
        d2 = (o - y) / x.shape[0]
        d1 = d2 @ self.W2.T * (1 - self.h ** 2) * mask
        self.W2 -= 0.1 * h.T @ d2
        self.b2 -= 0.1 * d2.sum(0, keepdims=True)
        self.W1 -= 0.1 * x.T @ d1
        self.b1 -= 0.1 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-mse", forward=net.forward, train_step=net.train_step, lr=0.1)
