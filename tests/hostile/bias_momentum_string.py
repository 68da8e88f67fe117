"""Adapter error: bias_momentum="False" (a string from a config file, and truthy). The network
puts no momentum on its biases (it uses none at all); a tool that reads the string as True
expects bias momentum, which first shows at step 2. The field must be a bool."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "adapter-error"


class Net:
    def __init__(self):
        rng = np.random.default_rng(60)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T * (1 - self.h**2)
        self.W2 -= 0.1 * self.h.T @ d2
        self.b2 -= 0.1 * d2.sum(0, keepdims=True)
        self.W1 -= 0.1 * x.T @ d1
        self.b1 -= 0.1 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.1,
                   momentum=0.0, bias_momentum="False")
