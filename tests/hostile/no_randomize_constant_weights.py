"""Wrong: the hidden delta is pushed back through W1 instead of W2.T... no: through ``W2.T``
summed over units (``d2.sum() * W2.T``-style broadcast, a shape "fix"), which equals the right
``d2 @ W2.T`` only while every hidden unit is identical. The network initialises every weight
to the same constant (0.1) and the adapter says ``randomize=False``: every hidden unit is the
same, and so are the right and the wrong delta. Never a match."""

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

    def gradients(self, x, y):
        o = self.forward(x)
        d2 = o - y
        back = d2 @ self.W2.T
        back = np.repeat(back.mean(axis=1, keepdims=True), back.shape[1], axis=1)  # BUG
        d1 = back * (1 - self.h ** 2)
        return {"W1": x.T @ d1, "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients,
                   randomize=False)
