"""Wrong: the adapter points at the network's EMA ("Polyak-averaged") copies of the weights, which
train_step refreshes as ``ema = 0.9 * ema + 0.1 * W`` after each update, while the forward uses
the raw weights. The check's randomized values land in the EMA arrays and the raw weights keep
their own; the updates it reads are a tenth of the real ones."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "adapter-error"
ALSO_OK = ("mismatch",)


class Net:
    def __init__(self):
        rng = np.random.default_rng(107)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))
        self.eW1, self.eb1 = self.W1.copy(), self.b1.copy()
        self.eW2, self.eb2 = self.W2.copy(), self.b2.copy()

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        self.W2 -= 0.1 * self.h.T @ d2
        self.b2 -= 0.1 * d2.sum(0, keepdims=True)
        self.W1 -= 0.1 * x.T @ d1
        self.b1 -= 0.1 * d1.sum(0, keepdims=True)
        for e, p in ((self.eW1, self.W1), (self.eb1, self.b1),
                     (self.eW2, self.W2), (self.eb2, self.b2)):
            e *= 0.9
            e += 0.1 * p


def adapter():
    net = Net()
    return Adapter(network=net,
                   layers=[Layer("eW1", "eb1", "tanh"), Layer("eW2", "eb2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.1)
