"""Wrong: the third call of train_step (and only it) forgets the hidden layer's tanh derivative,
and the network trains at a large lr (3.0) where two correct implementations may part after a
few steps. The check may stop comparing before step 3; it must then say inconclusive — never
match."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"
ALSO_OK = ("inconclusive",)


class Net:
    def __init__(self):
        rng = np.random.default_rng(129)
        self.W1, self.b1 = rng.standard_normal((3, 6)), np.zeros((1, 6))
        self.W2, self.b2 = rng.standard_normal((6, 1)), np.zeros((1, 1))
        self.t = 0

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        self.t += 1
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T
        if self.t != 3:  # BUG: skipped on the third step
            d1 = d1 * (1 - self.h ** 2)
        self.W2 -= 3.0 * self.h.T @ d2
        self.b2 -= 3.0 * d2.sum(0, keepdims=True)
        self.W1 -= 3.0 * x.T @ d1
        self.b1 -= 3.0 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=3.0)
