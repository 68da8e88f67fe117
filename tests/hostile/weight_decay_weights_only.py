"""Wrong: the adapter states weight_decay=0.05 (torch's SGD decays every parameter), but the
network decays only the weights. Its biases start at zero, so on the first step the missing
bias decay is exactly 0."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(42)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        self.W2 -= 0.5 * (self.h.T @ d2 + 0.05 * self.W2)
        self.W1 -= 0.5 * (x.T @ d1 + 0.05 * self.W1)
        self.b2 -= 0.5 * d2.sum(0, keepdims=True)  # BUG: no decay on biases
        self.b1 -= 0.5 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.5,
                   weight_decay=0.05)
