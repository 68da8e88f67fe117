"""Wrong: the hidden bias gradient is summed over the units (axis=1) instead of the batch. The
hidden layer has 4 units and the network states batch 4, so the wrong sum still has the bias's
shape (1, 4) after a reshape: only the values give it away."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(35)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * (1 - self.h**2)
        self.W2 -= 0.5 * self.h.T @ d2
        self.b2 -= 0.5 * d2.sum(axis=0, keepdims=True)
        self.W1 -= 0.5 * x.T @ d1
        self.b1 -= 0.5 * d1.sum(axis=1).reshape(self.b1.shape)  # BUG: axis=1


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.5,
                   batch=4)
