"""Correct network (softmax output with the max shift, ce) whose module calls
``np.seterr(all="raise")`` at import (a debugging habit: every overflow an exception). At the
saturation probe's logits far apart, ``exp(z - max)`` underflows to 0, as it should; the probe
asks only whether the output is finite, so the underflow must not become a user error, and the
process-wide setting must not outlive the check."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "match"

np.seterr(all="raise")


class Net:
    def __init__(self):
        rng = np.random.default_rng(139)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 3)), np.zeros((1, 3))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        z = self.h @ self.W2 + self.b2
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def gradients(self, x, y):
        d2 = (self.forward(x) - y) / x.shape[0]
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        return {"W1": x.T @ d1, "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "softmax")],
                   loss="ce", forward=net.forward, gradients=net.gradients)
