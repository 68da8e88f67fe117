"""Correct network with the bias folded into the weight matrix (a column of ones appended to the
input, the weight's last row is the bias), style (a): gradients() returns a dict. Must match."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "match"


def ones(a):
    return np.hstack([a, np.ones((a.shape[0], 1))])


class Net:
    def __init__(self):
        rng = np.random.default_rng(7)
        self.params = {"W1": rng.standard_normal((4, 5)), "W2": rng.standard_normal((6, 1))}

    def forward(self, x):
        self.x1 = ones(x)
        self.h = np.tanh(self.x1 @ self.params["W1"])
        self.h1 = ones(self.h)
        return 1 / (1 + np.exp(-(self.h1 @ self.params["W2"])))

    def gradients(self, x, y):
        p = self.forward(x)
        d2 = (p - y) / y.size  # bce (mean) through the sigmoid
        d1 = (d2 @ self.params["W2"][:-1].T) * (1 - self.h**2)
        return {"dW1": self.x1.T @ d1, "dW2": self.h1.T @ d2}


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("params['W1']", None, "tanh"),
                                        Layer("params['W2']", None, "sigmoid")],
                   loss="bce", forward=net.forward, gradients=net.gradients, bias_layout="folded",
                   gradient_keys={"params['W1']": "dW1", "params['W2']": "dW2"})
