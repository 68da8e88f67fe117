"""Wrong: ``forward`` memoises its output by the input's SHAPE ("predict is called on the same
validation set every epoch"), so after the first call per batch size it returns the old output,
whatever the weights or inputs now are. train_step has its own (right) forward and backward."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(110)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))
        self.memo = {}

    def _fwd(self, x):
        h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return h, 1 / (1 + np.exp(-(h @ self.W2 + self.b2)))

    def forward(self, x):
        if x.shape not in self.memo:  # BUG: stale memo
            self.memo[x.shape] = self._fwd(x)[1]
        return self.memo[x.shape]

    def train_step(self, x, y):
        h, o = self._fwd(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * h * (1 - h)
        self.W2 -= 0.5 * h.T @ d2
        self.b2 -= 0.5 * d2.sum(0, keepdims=True)
        self.W1 -= 0.5 * x.T @ d1
        self.b1 -= 0.5 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.5)
