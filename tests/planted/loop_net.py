"""A loop-style network, written out by hand: the second base the planted bugs edit (user code).

Layers in a loop over a dict ``params`` (``"W1"``, ``"b1"``, ...), weights (out, in), samples
as columns ``(features, batch)``, biases (out, 1); sigmoid hidden layers and a sigmoid output,
loss mse or bce (the mean over every output element).  ``train_step`` is SGD with PyTorch-style
momentum (``v = m*v + g; p -= lr*v``; Nesterov ``p -= lr*(g + m*v)``) on every parameter,
weight decay added to the gradient (biases included, as torch.optim.SGD does), and the lr
scaled by ``1 - lr_gamma`` every ``lr_epoch`` epochs.  ``tests/test_check_patterns.py`` replaces
exactly one line of this file by the wrong line a person writes.
"""

import numpy as np

from handnet.adapter import Adapter, Layer


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


class LoopNet:
    def __init__(self, sizes=(3, 5, 5, 2), loss="mse", lr=0.2, momentum=0.0, nesterov=False,
                 weight_decay=0.0, lr_epoch=0, lr_gamma=0.0, dtype=np.float64):
        rng = np.random.default_rng(1)
        self.L = len(sizes) - 1
        self.loss = loss
        self.params = {}
        for i in range(1, self.L + 1):
            n_in, n_out = sizes[i - 1], sizes[i]
            W = rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)
            self.params[f"W{i}"] = W.astype(dtype)
            self.params[f"b{i}"] = (0.1 * rng.standard_normal((n_out, 1))).astype(dtype)
        self.v = {k: np.zeros_like(p) for k, p in self.params.items()}
        self.lr, self.m, self.nesterov, self.wd = lr, momentum, nesterov, weight_decay
        self.lr0, self.lr_epoch, self.lr_gamma = lr, lr_epoch, lr_gamma
        self.epoch = 0

    def forward(self, X):
        A = X
        self.cache = [(None, X)]
        for i in range(1, self.L + 1):
            Z = self.params[f"W{i}"] @ A + self.params[f"b{i}"]
            A = sigmoid(Z)
            self.cache.append((Z, A))
        return A

    def backward(self, X, Y):
        A = self.forward(X)
        m = X.shape[1]
        if self.loss == "bce":
            dA = (A - Y) / (A * (1 - A)) / (m * Y.shape[0])
        else:
            dA = 2 * (A - Y) / (m * Y.shape[0])
        grads = {}
        for i in range(self.L, 0, -1):
            Z, A = self.cache[i]
            A_prev = self.cache[i - 1][1]
            dZ = dA * A * (1 - A)
            grads[f"W{i}"] = dZ @ A_prev.T
            grads[f"b{i}"] = np.sum(dZ, axis=1, keepdims=True)
            dA = self.params[f"W{i}"].T @ dZ
        return grads

    def train_step(self, X, Y):
        grads = self.backward(X, Y)
        for k, p in self.params.items():
            g = grads[k] + self.wd * p
            self.v[k] = self.m * self.v[k] + g
            step = g + self.m * self.v[k] if self.nesterov else self.v[k]
            p -= self.lr * step

    def start_epoch(self, epoch):
        self.epoch = epoch
        self.lr = self.lr0 * (1 - self.lr_gamma) ** (self.epoch // self.lr_epoch)


def adapter(mode="gradients", **options):
    net = LoopNet(**options)
    layers = [Layer(f"params['W{i}']", f"params['b{i}']", "sigmoid")
              for i in range(1, net.L + 1)]
    common = dict(network=net, layers=layers, loss=net.loss, forward=net.forward,
                  weight_layout="out_in", bias_layout="column", input_layout="columns")
    if mode == "gradients":
        return Adapter(**common, gradients=net.backward,
                       gradient_keys={f"params['{k}']": k for k in net.params})
    return Adapter(**common, train_step=net.train_step, lr=net.lr, momentum=net.m,
                   momentum_style="torch", nesterov=net.nesterov, weight_decay=net.wd,
                   start_epoch=net.start_epoch if net.lr_epoch else None,
                   lr_epoch=net.lr_epoch, lr_gamma=net.lr_gamma)
