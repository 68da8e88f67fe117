"""Wrong: the network's own loss function divides by the batch size it saw on its FIRST call
(``self.n``, fixed "for speed"), so every later batch of another size gets a wrong mean. The
declared loss_value must be judged on more than one batch size."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(133)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))
        self.n = None

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def loss(self, y_hat, y):
        if self.n is None:
            self.n = y.size  # BUG: the first batch's size, forever
        return float(np.sum((y_hat - y) ** 2) / self.n)

    def gradients(self, x, y):
        o = self.forward(x)
        d2 = 2 * (o - y) / o.size
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        return {"W1": x.T @ d1, "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="mse", forward=net.forward, gradients=net.gradients, loss_value=net.loss)
