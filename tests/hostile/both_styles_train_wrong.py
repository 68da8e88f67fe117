"""Wrong: the adapter declares BOTH gradients() and train_step(). gradients() is right;
train_step does not use it and has its own copy of the backward, which forgets the tanh
derivative of the hidden layer."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(120)
        self.W1, self.b1 = rng.standard_normal((3, 5)) * 0.5, np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)) * 0.5, np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def gradients(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        return {"W1": x.T @ d1, "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T  # BUG: derivative missing in this copy
        self.W2 -= 0.05 * self.h.T @ d2
        self.b2 -= 0.05 * d2.sum(0, keepdims=True)
        self.W1 -= 0.05 * x.T @ d1
        self.b1 -= 0.05 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients,
                   train_step=net.train_step, lr=0.05)
