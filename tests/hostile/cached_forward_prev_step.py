"""Wrong: train_step takes its activations from a cache filled by the previous call (it refreshes
the cache at the end, "for the next step"), so from the second step on it backpropagates the
previous batch through the weights before the last update. The first step is right. (A tool
that varies the batch size between steps makes this code crash on the stale cache: reporting
that user-code error is also a right answer, ALSO_OK.)"""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"
ALSO_OK = ("user-error",)


class Net:
    def __init__(self):
        rng = np.random.default_rng(40)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))
        self.cache = None

    def forward(self, x):
        h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return 1 / (1 + np.exp(-(h @ self.W2 + self.b2))), h

    def train_step(self, x, y):
        if self.cache is None:
            self.cache = (x, *self.forward(x))
        cx, o, h = self.cache  # BUG: stale after the first step
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * h * (1 - h)
        self.W2 -= 0.5 * h.T @ d2
        self.b2 -= 0.5 * d2.sum(0, keepdims=True)
        self.W1 -= 0.5 * cx.T @ d1
        self.b1 -= 0.5 * d1.sum(0, keepdims=True)
        self.cache = (x, *self.forward(x))


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=lambda x: net.forward(x)[0],
                   train_step=net.train_step, lr=0.5)
