"""Wrong: a "dead unit revival" hack: after each update, any relu unit that was zero for every
sample of the batch gets fresh random incoming weights. Torch (and the stated plain SGD) never
does this; it only shows on a step where some unit is dead for the whole batch."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(131)
        self.W1, self.b1 = rng.standard_normal((3, 16)) * 0.6, np.zeros((1, 16))
        self.W2, self.b2 = rng.standard_normal((16, 1)) * 0.3, np.zeros((1, 1))
        self.rng = np.random.default_rng(5)

    def forward(self, x):
        self.h = np.maximum(x @ self.W1 + self.b1, 0)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) / x.shape[0]
        d1 = d2 @ self.W2.T * (self.h > 0)
        self.W2 -= 0.1 * self.h.T @ d2
        self.b2 -= 0.1 * d2.sum(0, keepdims=True)
        self.W1 -= 0.1 * x.T @ d1
        self.b1 -= 0.1 * d1.sum(0, keepdims=True)
        dead = ~(self.h > 0).any(axis=0)
        self.W1[:, dead] = self.rng.standard_normal((3, int(dead.sum()))) * 0.6  # BUG
        self.b1[:, dead] = 0.0


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "relu"), Layer("W2", "b2", "identity")],
                   loss="half-mse", forward=net.forward, train_step=net.train_step, lr=0.1)
