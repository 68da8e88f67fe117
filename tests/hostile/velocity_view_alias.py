"""Wrong: the bias's momentum buffer is a VIEW of the first row of the weight's buffer
(``self.vb1 = self.vW1[:1]``, a "memory saving"), so the two velocities overwrite each other.
Torch-style momentum 0.9 on every parameter. W1's buffer is written first, so already at step 1
b1's velocity starts from W1's gradient row instead of zero; W1 itself drifts from step 2."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(109)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))
        self.vW1, self.vW2, self.vb2 = np.zeros((3, 5)), np.zeros((5, 1)), np.zeros((1, 1))
        self.vb1 = self.vW1[:1]  # BUG: aliases row 0 of vW1

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        grads = ((self.W2, self.vW2, self.h.T @ d2), (self.b2, self.vb2, d2.sum(0, keepdims=True)),
                 (self.W1, self.vW1, x.T @ d1), (self.b1, self.vb1, d1.sum(0, keepdims=True)))
        for p, v, g in grads:
            v *= 0.9
            v += g
            p -= 0.5 * v


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.5,
                   momentum=0.9, momentum_style="torch", bias_momentum=True)
