"""Wrong: every third call of train_step (``t % 3 == 2``) forgets the sigmoid derivative of the
hidden layer (a leftover "fast path" experiment). Steps 1, 2, 4, 5 are right; step 3 is not."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(101)
        self.W1, self.b1 = rng.standard_normal((3, 6)), np.zeros((1, 6))
        self.W2, self.b2 = rng.standard_normal((6, 1)), np.zeros((1, 1))
        self.t = 0

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        if self.t % 3 == 2:
            d1 = d2 @ self.W2.T  # BUG: derivative left out on this path
        else:
            d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        self.t += 1
        self.W2 -= 0.3 * self.h.T @ d2
        self.b2 -= 0.3 * d2.sum(0, keepdims=True)
        self.W1 -= 0.3 * x.T @ d1
        self.b1 -= 0.3 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.3)
