"""Correct network that freezes its parameter arrays (``flags.writeable = False``) and updates by
rebinding fresh, again read-only, arrays. A tool that writes into parameters in place must cope
(or say clearly that it cannot: an adapter-error is acceptable); never a mismatch."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "match"
ALSO_OK = ("adapter-error",)


def frozen(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


class Net:
    def __init__(self):
        rng = np.random.default_rng(8)
        self.W1, self.b1 = frozen(rng.standard_normal((3, 4))), frozen(np.zeros((1, 4)))
        self.W2, self.b2 = frozen(rng.standard_normal((4, 1))), frozen(np.zeros((1, 1)))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T * (1 - self.h**2)
        self.W2 = frozen(self.W2 - 0.1 * self.h.T @ d2)
        self.b2 = frozen(self.b2 - 0.1 * d2.sum(0, keepdims=True))
        self.W1 = frozen(self.W1 - 0.1 * x.T @ d1)
        self.b1 = frozen(self.b1 - 0.1 * d1.sum(0, keepdims=True))


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.1)
