"""A small classifier written the way many tutorials write one (this file is *user code*).

Weights are (out, in), samples are columns, biases are columns, the parameters live in a dict,
and ``backward`` returns a dict of gradients.  Hidden layers use tanh, the output a sigmoid,
the loss is binary cross-entropy averaged over the batch.

``planted_bug=True`` (the default) keeps one deliberate mistake in ``backward``; the adapter in
``adapter.py`` checks this version, ``adapter_fixed.py`` the corrected one.
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class TinyClassifier:
    def __init__(self, sizes=(2, 16, 8, 1), seed=0, planted_bug=True):
        rng = np.random.default_rng(seed)
        self.params = {}
        for k in range(1, len(sizes)):
            scale = np.sqrt(1.0 / sizes[k - 1])
            self.params[f"W{k}"] = rng.standard_normal((sizes[k], sizes[k - 1])) * scale
            self.params[f"b{k}"] = rng.standard_normal((sizes[k], 1)) * 0.1
        self.planted_bug = planted_bug

    def forward(self, X):
        p = self.params
        self.Z1 = p["W1"] @ X + p["b1"]
        self.A1 = np.tanh(self.Z1)
        self.Z2 = p["W2"] @ self.A1 + p["b2"]
        self.A2 = np.tanh(self.Z2)
        self.Z3 = p["W3"] @ self.A2 + p["b3"]
        self.A3 = sigmoid(self.Z3)
        return self.A3

    def backward(self, X, Y):
        """Gradients of the mean binary cross-entropy, as a dict ``dW1, db1, ...``."""
        p, m = self.params, X.shape[1]
        A3 = self.forward(X)
        dZ3 = (A3 - Y) / m  # BCE through the sigmoid
        dW3 = dZ3 @ self.A2.T
        db3 = np.sum(dZ3, axis=1, keepdims=True)
        dA2 = p["W3"].T @ dZ3
        if self.planted_bug:
            dZ2 = dA2 * (1 - self.Z2 ** 2)  # PLANTED BUG: tanh' written at Z2, not A2
        else:
            dZ2 = dA2 * (1 - self.A2 ** 2)
        dW2 = dZ2 @ self.A1.T
        db2 = np.sum(dZ2, axis=1, keepdims=True)
        dA1 = p["W2"].T @ dZ2
        dZ1 = dA1 * (1 - self.A1 ** 2)
        dW1 = dZ1 @ X.T
        db1 = np.sum(dZ1, axis=1, keepdims=True)
        return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2, "dW3": dW3, "db3": db3}
