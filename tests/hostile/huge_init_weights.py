"""Correct code, absurd initial state: weights of 1e200 (an init scaled by mistake) overflow the
second layer, so at the network's own initial weights the user's output and the twin's are
inf/NaN before any gradient exists. A tool that compares at the user's weights can compare
nothing: "inconclusive" (twin not finite). A tool that sets its own random parameter values
checks the code itself, which is right: "match". Never mismatch, never an adapter error."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "inconclusive"
ALSO_OK = ("match",)


class Net:
    def __init__(self):
        rng = np.random.default_rng(61)
        self.W1, self.b1 = rng.standard_normal((3, 4)) * 1e200, np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)) * 1e200, np.zeros((1, 1))

    def forward(self, x):
        with np.errstate(all="ignore"):
            self.h = np.maximum(x @ self.W1 + self.b1, 0)
            return self.h @ self.W2 + self.b2

    def gradients(self, x, y):
        with np.errstate(all="ignore"):
            d2 = self.forward(x) - y
            d1 = d2 @ self.W2.T * (self.h > 0)
            return {"W1": x.T @ d1, "b1": d1.sum(0), "W2": self.h.T @ d2, "b2": d2.sum(0)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "relu"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients)
