"""Wrong: forward() is right, but train_step has its own copy of the forward pass that leaves out
the hidden bias. With zero-initialised biases the first update is still right."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(25)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        h = np.tanh(x @ self.W1 + self.b1)
        return h @ self.W2 + self.b2

    def train_step(self, x, y):
        h = np.tanh(x @ self.W1)  # BUG: no + self.b1 in the training copy
        o = h @ self.W2 + self.b2
        d2 = (o - y) / o.size
        d1 = d2 @ self.W2.T * (1 - h**2)
        self.W2 -= 0.2 * 2 * h.T @ d2
        self.b2 -= 0.2 * 2 * d2.sum(0, keepdims=True)
        self.W1 -= 0.2 * 2 * x.T @ d1
        self.b1 -= 0.2 * 2 * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="mse", forward=net.forward, train_step=net.train_step, lr=0.2)
