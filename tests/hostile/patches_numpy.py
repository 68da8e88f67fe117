"""Adapter error (or mismatch): the module installs a "fast" tanh into NumPy itself at import
(``np.tanh = ...``, a rational approximation, ~1e-3 off). The network uses it, and so would any
part of the checker that computes with np.tanh. The check cannot be trusted once its own
libraries are patched: refusing (adapter-error) is the clean answer; a mismatch is acceptable,
a pass is not."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "adapter-error"
ALSO_OK = ("mismatch",)


def fast_tanh(z):
    z = np.clip(z, -3, 3)
    return z * (27 + z * z) / (27 + 9 * z * z)


np.tanh = fast_tanh  # the point of the case


class Net:
    def __init__(self):
        rng = np.random.default_rng(74)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def gradients(self, x, y):
        d2 = self.forward(x) - y
        d1 = d2 @ self.W2.T * (1 - self.h**2)
        return {"W1": x.T @ d1, "b1": d1.sum(0), "W2": self.h.T @ d2, "b2": d2.sum(0)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients)
