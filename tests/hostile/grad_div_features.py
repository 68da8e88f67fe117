"""Wrong: the mse gradient is divided by ``x.shape[1]`` (the number of input features) instead of
the number of output elements (batch x 1 here). The network has 8 inputs and the adapter states
no batch, so a tool that always checks with its default batch of 8 cannot tell them apart."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(31)
        self.W1, self.b1 = rng.standard_normal((8, 3)) * 0.5, np.zeros((1, 3))
        self.W2, self.b2 = rng.standard_normal((3, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def gradients(self, x, y):
        o = self.forward(x)
        d2 = 2 * (o - y) / x.shape[1]  # BUG: should be o.size (batch * outputs)
        d1 = d2 @ self.W2.T * (1 - self.h**2)
        return {"W1": x.T @ d1, "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="mse", forward=net.forward, gradients=net.gradients)
