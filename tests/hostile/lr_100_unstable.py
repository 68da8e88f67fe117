"""Mismatch: lr=100 and the output layer's gradient doubled. Step 1 starts both sides from the
same parameters, so nothing has been amplified yet and the factor 2 shows there; later steps
leave the comparable regime. Never "every parameter matches" (the tool once said inconclusive
here, stopping before step 1; a wrong network found at step 1 is the better answer)."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(54)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = 2 * (o - y)  # BUG: factor 2 for half-sse
        d1 = d2 @ self.W2.T * (1 - self.h**2)
        self.W2 -= 100 * self.h.T @ d2
        self.b2 -= 100 * d2.sum(0, keepdims=True)
        self.W1 -= 100 * x.T @ d1
        self.b1 -= 100 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=100.0)
