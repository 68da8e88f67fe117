"""Wrong: forward never adds the hidden bias. The adapter says ``randomize=False`` ("my network
cannot take other values") and the biases start at zero, and style (a) never trains: at the
only parameters compared the missing bias changes nothing. Never a match: a check that
compares only at zero biases has not seen them."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "inconclusive"
ALSO_OK = ("mismatch",)


class Net:
    def __init__(self):
        rng = np.random.default_rng(134)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1)  # BUG: + self.b1 missing
        return self.h @ self.W2 + self.b2

    def gradients(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        return {"W1": x.T @ d1, "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients,
                   randomize=False)
