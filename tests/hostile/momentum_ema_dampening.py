"""Wrong: momentum written as an exponential moving average, ``v = m * v + (1 - m) * g`` (the
form of a popular course), where the adapter declares torch's ``v = m * v + g``: every update
is (1 - m) = 0.1 times torch's from the first step on, the same ratio at every step."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(140)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))
        self.v = [np.zeros_like(p) for p in (self.W1, self.b1, self.W2, self.b2)]

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) / x.shape[0]
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        grads = (x.T @ d1, d1.sum(0, keepdims=True), self.h.T @ d2, d2.sum(0, keepdims=True))
        params = (self.W1, self.b1, self.W2, self.b2)
        for p, v, g in zip(params, self.v, grads, strict=True):
            v *= 0.9
            v += 0.1 * g  # BUG: the EMA form, (1 - m) * g
            p -= 0.5 * v


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-mse", forward=net.forward, train_step=net.train_step, lr=0.5,
                   momentum=0.9, momentum_style="torch", bias_momentum=True)
