"""Wrong: the step schedule halves the lr one epoch early (``(e + 1) % lr_epoch == 0``) with
plain SGD (no momentum, so no hint about conventions either). Step 1 is right; the second step
already uses half the lr."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(41)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))
        self.lr = 0.2

    def start_epoch(self, e):
        if (e + 1) % 2 == 0:  # BUG: should be e % 2 == 0 and e > 0
            self.lr *= 0.5

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T * (1 - self.h**2)
        self.W2 -= self.lr * self.h.T @ d2
        self.b2 -= self.lr * d2.sum(0, keepdims=True)
        self.W1 -= self.lr * x.T @ d1
        self.b1 -= self.lr * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.2,
                   start_epoch=net.start_epoch, lr_epoch=2, lr_gamma=0.5)
