"""Adapter error: the returned gradients are twice the right ones (sse's 2 under a declared
half-sse) and the adapter module wraps the METHOD ``torch.Tensor.backward`` at import (a class
attribute, invisible to a check that watches module attributes) so that every backward pass in
the process doubles the loss first. A twin computed through the patched method agrees with the
wrong network; the patch must be refused like a patched module function."""

import numpy as np
import torch

from handnet.adapter import Adapter, Layer

EXPECT = "adapter-error"
ALSO_OK = ("mismatch",)

_backward = torch.Tensor.backward


def _doubled(self, *args, **kwargs):
    return _backward(2 * self, *args, **kwargs)


torch.Tensor.backward = _doubled


class Net:
    def __init__(self):
        rng = np.random.default_rng(124)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def gradients(self, x, y):
        o = self.forward(x)
        d2 = 2 * (o - y)  # BUG: sse's derivative under half-sse
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        return {"W1": x.T @ d1, "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients)
