"""Correct network in torch's layout: weights (out, in) stored in Fortran order, samples as
columns, column biases, in-place updates that keep the Fortran order. Must match."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "match"
ARGS = ["--steps", "3"]


class Net:
    def __init__(self):
        rng = np.random.default_rng(6)
        self.W1 = np.asfortranarray(rng.standard_normal((5, 3)))
        self.W2 = np.asfortranarray(rng.standard_normal((2, 5)))
        self.b1, self.b2 = np.zeros((5, 1), order="F"), np.zeros((2, 1), order="F")

    def forward(self, X):  # X: (features, batch)
        self.X = X
        self.A1 = np.maximum(self.W1 @ X + self.b1, 0)
        return 1 / (1 + np.exp(-(self.W2 @ self.A1 + self.b2)))

    def train_step(self, X, Y):
        A2 = self.forward(X)
        dZ2 = (A2 - Y) * A2 * (1 - A2)
        dZ1 = (self.W2.T @ dZ2) * (self.A1 > 0)
        self.W2 -= 0.4 * dZ2 @ self.A1.T
        self.b2 -= 0.4 * dZ2.sum(axis=1, keepdims=True)
        self.W1 -= 0.4 * dZ1 @ X.T
        self.b1 -= 0.4 * dZ1.sum(axis=1, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "relu"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.4,
                   weight_layout="out_in", bias_layout="column", input_layout="columns")
