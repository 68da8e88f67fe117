"""Wrong: the hidden delta is averaged over the hidden units (``back.mean(axis=1)`` broadcast
back, a shape "fix") instead of ``d2 @ W2.T``. The network starts with every weight equal
(0.1) and the adapter says ``randomize=False``; style (b) trains, so the weights soon hold
different values, but the hidden units stay identical to each other (plain SGD keeps a
symmetric network symmetric), and so are the right and the wrong delta. Never a match."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "inconclusive"
ALSO_OK = ("mismatch",)


class Net:
    def __init__(self):
        self.W1, self.b1 = np.full((3, 4), 0.1), np.zeros((1, 4))
        self.W2, self.b2 = np.full((4, 2), 0.1), np.zeros((1, 2))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = o - y
        back = d2 @ self.W2.T
        back = np.repeat(back.mean(axis=1, keepdims=True), back.shape[1], axis=1)  # BUG
        d1 = back * (1 - self.h ** 2)
        self.W2 -= 0.1 * self.h.T @ d2
        self.b2 -= 0.1 * d2.sum(0, keepdims=True)
        self.W1 -= 0.1 * x.T @ d1
        self.b1 -= 0.1 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.1,
                   randomize=False)
