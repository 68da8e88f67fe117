"""Wrong: plain SGD whose step schedule halves the lr one epoch late (at epochs 6, 11, ... for
lr_epoch=5, an off-by-one in ``e % 5 == 1``). Steps 1-5 are right; the twin halves its lr for
step 6. A check must compare enough steps to cross the stated decay."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(73)
        self.W1, self.b1 = rng.standard_normal((2, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))
        self.lr = 0.2

    def start_epoch(self, e):
        if e > 1 and e % 5 == 1:  # BUG: should be e > 0 and e % 5 == 0
            self.lr /= 2

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        self.W2 -= self.lr * self.h.T @ d2
        self.b2 -= self.lr * d2.sum(0, keepdims=True)
        self.W1 -= self.lr * x.T @ d1
        self.b1 -= self.lr * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.2,
                   start_epoch=net.start_epoch, lr_epoch=5, lr_gamma=0.5)
