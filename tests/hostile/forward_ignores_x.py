"""Wrong: ``forward`` computes from the FIRST input it ever saw (``self.x0``, kept "for the plot"),
so every later call ignores its argument, though it uses the current weights. Style (a): the
gradients are right for the batch they are given."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(111)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))
        self.x0 = None

    def _fwd(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def forward(self, x):
        if self.x0 is None:
            self.x0 = x.copy()
        return self._fwd(self.x0)  # BUG

    def gradients(self, x, y):
        o = self._fwd(x)
        d2 = o - y
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        return {"W1": x.T @ d1, "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients)
