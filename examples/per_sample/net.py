"""A per-sample network in the style of the course write-up (this file is *user code*).

One attribute per layer (``W1, b1, W2, ...``), weights (in, out), rows, biases (1, out),
sigmoid everywhere, loss ``0.5 * sum((y_hat - y)**2)``.  ``train_step`` does forward, deltas and
the update in one go: classic momentum on the weights (``U = m*U + lr*dW; W -= U``), plain SGD
on the biases, and ``start_epoch`` halves the lr every ``lr_epoch`` epochs.

``planted_bug=True`` (the default) updates each layer inside the backward pass, before the delta
below it is computed; ``adapter_fixed.py`` checks the corrected version.
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class SimpleNet:
    def __init__(self, seed=0, lr=1e-2, momentum=0.9, lr_epoch=1500, lr_gamma=0.5,
                 planted_bug=True):
        rng = np.random.default_rng(seed)
        self.W1, self.b1 = rng.standard_normal((2, 20)), np.zeros((1, 20))
        self.W2, self.b2 = rng.standard_normal((20, 10)), np.zeros((1, 10))
        self.W3, self.b3 = rng.standard_normal((10, 1)), np.zeros((1, 1))
        self.U1, self.U2, self.U3 = (np.zeros_like(w) for w in (self.W1, self.W2, self.W3))
        self.lr, self.momentum = lr, momentum
        self.lr_epoch, self.lr_gamma = lr_epoch, lr_gamma
        self.planted_bug = planted_bug

    def forward(self, x):
        self.x = x
        self.a1 = sigmoid(x @ self.W1 + self.b1)
        self.a2 = sigmoid(self.a1 @ self.W2 + self.b2)
        self.a3 = sigmoid(self.a2 @ self.W3 + self.b3)
        return self.a3

    def start_epoch(self, epoch):
        if epoch % self.lr_epoch == 0 and epoch != 0:
            self.lr = self.lr * (1 - self.lr_gamma)

    def train_step(self, x, y):
        """One sample: x of shape (1, 2), y of shape (1, 1)."""
        lr, m = self.lr, self.momentum
        a3 = self.forward(x)
        d3 = (a3 - y) * a3 * (1 - a3)
        if self.planted_bug:
            # PLANTED BUG: each layer is updated before the delta below it is computed
            self.U3 = m * self.U3 + lr * (self.a2.T @ d3)
            self.W3 -= self.U3
            self.b3 -= lr * d3
            d2 = (d3 @ self.W3.T) * self.a2 * (1 - self.a2)
            self.U2 = m * self.U2 + lr * (self.a1.T @ d2)
            self.W2 -= self.U2
            self.b2 -= lr * d2
            d1 = (d2 @ self.W2.T) * self.a1 * (1 - self.a1)
        else:
            d2 = (d3 @ self.W3.T) * self.a2 * (1 - self.a2)
            d1 = (d2 @ self.W2.T) * self.a1 * (1 - self.a1)
            self.U3 = m * self.U3 + lr * (self.a2.T @ d3)
            self.W3 -= self.U3
            self.b3 -= lr * d3
            self.U2 = m * self.U2 + lr * (self.a1.T @ d2)
            self.W2 -= self.U2
            self.b2 -= lr * d2
        self.U1 = m * self.U1 + lr * (self.x.T @ d1)
        self.W1 -= self.U1
        self.b1 -= lr * d1
