"""Adapter error: the network's update is twice the right one (sse's 2 under a declared
half-sse), and the adapter module "calibrates" torch at import by wrapping the METHOD
``torch.optim.SGD.step`` (a class attribute, not a module attribute) so that torch's SGD steps
twice per call. Whether or not the twin steps through that method, a patched class of torch
makes no verdict trustworthy (and, in one process, would outlive this check): it must be
refused like a patched module function, and put back."""

import numpy as np
import torch

from handnet.adapter import Adapter, Layer

EXPECT = "adapter-error"
ALSO_OK = ("mismatch",)

_step = torch.optim.SGD.step


def _twice(self, closure=None):
    _step(self, closure)
    return _step(self, closure)


torch.optim.SGD.step = _twice


class Net:
    def __init__(self):
        rng = np.random.default_rng(122)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = 2 * (o - y)  # BUG: sse's derivative under half-sse
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        self.W2 -= 0.05 * self.h.T @ d2
        self.b2 -= 0.05 * d2.sum(0, keepdims=True)
        self.W1 -= 0.05 * x.T @ d1
        self.b1 -= 0.05 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.05)
