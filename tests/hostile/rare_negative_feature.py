"""Wrong: samples whose first feature is below -1 get their hidden delta without the tanh
derivative (a "clipping" branch written for outliers). About one sample in six is affected."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(103)
        self.W1, self.b1 = rng.standard_normal((3, 5)) * 0.5, np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 2)) * 0.5, np.zeros((1, 2))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y)
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        out = x[:, 0] < -1.0
        d1[out] = (d2 @ self.W2.T)[out]  # BUG: outliers skip the derivative
        self.W2 -= 0.1 * self.h.T @ d2
        self.b2 -= 0.1 * d2.sum(0, keepdims=True)
        self.W1 -= 0.1 * x.T @ d1
        self.b1 -= 0.1 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.1)
