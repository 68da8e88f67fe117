"""A mini-batch network with its parameters in lists (this file is *user code*).

``weights[i]`` is (in, out), ``biases[i]`` a 1-D vector, samples are rows; relu hidden layers, a
sigmoid output, mean squared error.  The optimiser is meant to be PyTorch's SGD with momentum
(``v = m*v + g; p -= lr*v``, biases included) with the lr multiplied by ``gamma`` every
``step_size`` epochs.

``planted_bug=True`` (the default) writes the velocity the classic way, with the lr inside it:
identical to PyTorch's while the lr is constant, different after the first decay.  Only a
trajectory across a decay shows it: ``handnet check adapter.py --steps 4``.
"""

import numpy as np


class MiniBatchNet:
    def __init__(self, sizes=(2, 8, 8, 1), lr=0.1, momentum=0.9, step_size=2, gamma=0.5,
                 seed=0, planted_bug=True):
        rng = np.random.default_rng(seed)
        shapes = list(zip(sizes, sizes[1:], strict=False))
        self.weights = [rng.normal(0, np.sqrt(2 / m), (m, n)) for m, n in shapes]
        self.biases = [np.full(n, 0.01) for n in sizes[1:]]
        self.velocity = [np.zeros_like(p) for p in self.weights + self.biases]
        self.lr, self.momentum = lr, momentum
        self.step_size, self.gamma = step_size, gamma
        self.epoch = 0
        self.planted_bug = planted_bug

    def forward(self, X):
        self.inputs, self.pre = [], []
        a = X
        for i, (W, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            self.inputs.append(a)
            z = a @ W + b
            self.pre.append(z)
            a = 1 / (1 + np.exp(-z)) if i == len(self.weights) - 1 else np.maximum(z, 0)
        return a

    def backward(self, X, Y):
        out = self.forward(X)
        grad = 2 * (out - Y) / Y.size * out * (1 - out)  # mse through the sigmoid
        gw, gb = [], []
        for i in reversed(range(len(self.weights))):
            gw.insert(0, self.inputs[i].T @ grad)
            gb.insert(0, grad.sum(axis=0))
            if i > 0:
                grad = (grad @ self.weights[i].T) * (self.pre[i - 1] > 0)
        return gw + gb

    def set_epoch(self, epoch):
        if epoch > 0 and epoch % self.step_size == 0:
            self.lr *= self.gamma

    def fit_batch(self, X, Y):
        grads = self.backward(X, Y)
        params = self.weights + self.biases
        for k, (p, g) in enumerate(zip(params, grads, strict=True)):
            if self.planted_bug:
                self.velocity[k] = self.momentum * self.velocity[k] + self.lr * g  # PLANTED BUG
                p -= self.velocity[k]
            else:
                self.velocity[k] = self.momentum * self.velocity[k] + g
                p -= self.lr * self.velocity[k]
