"""Wrong: a regression network (identity output, mse) that clips its targets to [1e-7, 1 - 1e-7]
("for numerical safety", copied from a bce network). On targets inside (0, 1) the clip changes
nothing; on real regression targets (negative, or above 1) it trains towards the wrong values."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(137)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 2)), np.zeros((1, 2))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def gradients(self, x, y):
        y = np.clip(y, 1e-7, 1 - 1e-7)  # BUG: a bce habit in a regression network
        o = self.forward(x)
        d2 = 2 * (o - y) / o.size
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        return {"W1": x.T @ d1, "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="mse", forward=net.forward, gradients=net.gradients)
