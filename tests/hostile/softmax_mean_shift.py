"""Wrong (overflow): the softmax output layer subtracts each row's MEAN before exp instead of its
maximum ("centre the logits"). At ordinary logits it equals the right softmax to rounding, and a
uniform shift of every logit is removed by it as well as by the max; but logits that are far
APART (one class at +800 over the others, as a confident network gives) overflow exp and the
output becomes nan where torch's softmax is one-hot. Declared loss_value uses the same softmax."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


def softmax(z):
    e = np.exp(z - z.mean(axis=1, keepdims=True))  # BUG: mean, not max
    return e / e.sum(axis=1, keepdims=True)


class Net:
    def __init__(self):
        rng = np.random.default_rng(136)
        self.W1, self.b1 = rng.standard_normal((3, 6)), np.zeros((1, 6))
        self.W2, self.b2 = rng.standard_normal((6, 3)), np.zeros((1, 3))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return softmax(self.h @ self.W2 + self.b2)

    def loss(self, p, y):
        return float(-np.sum(y * np.log(p)) / y.shape[0])

    def gradients(self, x, y):
        p = self.forward(x)
        g = -y / p / x.shape[0]
        d2 = p * (g - np.sum(g * p, axis=1, keepdims=True))
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        return {"W1": x.T @ d1, "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "softmax")],
                   loss="ce", forward=net.forward, gradients=net.gradients, loss_value=net.loss)
