"""Wrong: the mse gradient is divided by ``B - 1`` instead of ``B`` — but only when the batch size
is odd (a half-finished "unbiased estimate" switch keyed on ``B % 2``). Even batches are right."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(102)
        self.W1, self.b1 = rng.standard_normal((4, 5)) * 0.5, np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)) * 0.5, np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def gradients(self, x, y):
        o = self.forward(x)
        b = x.shape[0]
        n = b - 1 if b % 2 == 1 else b  # BUG
        d2 = 2 * (o - y) / n
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        return {"W1": x.T @ d1, "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="mse", forward=net.forward, gradients=net.gradients)
