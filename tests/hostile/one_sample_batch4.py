"""A per-sample network (written for ONE sample: it takes ``x[0]`` and works with 1-D vectors),
correct for batch 1, checked with ``--batch 4``: it silently uses only the first sample of each
batch. That must not pass. A clear error saying the network does not take batches of 4 is also a
right answer (ALSO_OK)."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"
ALSO_OK = ("adapter-error",)
ARGS = ["--batch", "4"]


class Net:
    def __init__(self):
        rng = np.random.default_rng(53)
        self.W1, self.b1 = rng.standard_normal((2, 3)), np.zeros((1, 3))
        self.W2, self.b2 = rng.standard_normal((3, 1)), np.zeros((1, 1))

    def forward(self, x):
        x = x[0]  # one sample: a vector of 2
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1[0])))
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2[0])))

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y[0]) * o * (1 - o)
        d1 = (self.W2 @ d2) * self.h * (1 - self.h)
        self.W2 -= 0.5 * np.outer(self.h, d2)
        self.b2 -= 0.5 * d2
        self.W1 -= 0.5 * np.outer(x[0], d1)
        self.b1 -= 0.5 * d1


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.5,
                   batch=1)
