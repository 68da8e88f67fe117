"""A course-style network, written out by hand: the base the planted bugs edit (user code).

3-4-4-4, tanh, sigmoid, sigmoid, loss ``0.5 * sum((y_hat - y)**2)``; one attribute per layer,
weights (in, out), samples as rows, biases (1, out).  ``gradients`` returns every gradient;
``train_step`` does forward, deltas and updates in one go (classic momentum on the weights,
``U = m*U + lr*dW; W -= U``, plain SGD on the biases); ``start_epoch`` scales the lr by
``1 - lr_gamma`` every ``lr_epoch`` epochs.  ``tests/test_check_patterns.py`` replaces exactly
one line of this file by the wrong line a person writes, and checks what ``handnet check`` says.
Nothing here comes from handnet or reference (besides the adapter types at the end).
"""

import numpy as np

from handnet.adapter import Adapter, Layer


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def relu(z):
    return np.maximum(z, 0)


class CourseNet:
    def __init__(self, lr=0.1, momentum=0.0, lr_epoch=0, lr_gamma=0.0, first="tanh",
                 zero_first_layer=False):
        rng = np.random.default_rng(0)
        self.W1, self.b1 = rng.standard_normal((3, 4)) / np.sqrt(3), np.full((1, 4), 0.1)
        self.W2, self.b2 = rng.standard_normal((4, 4)) / 2, np.full((1, 4), -0.2)
        self.W3, self.b3 = rng.standard_normal((4, 4)) / 2, np.full((1, 4), 0.3)
        if zero_first_layer:  # every unit of layer 1 starts dead: z1 = 0 for every input
            self.W1, self.b1 = np.zeros((3, 4)), np.zeros((1, 4))
        self.U1, self.U2, self.U3 = np.zeros((3, 4)), np.zeros((4, 4)), np.zeros((4, 4))
        self.lr, self.m = lr, momentum
        self.lr_epoch, self.lr_gamma = lr_epoch, lr_gamma
        self.first = first  # the first layer's activation: "tanh" or "relu"

    def forward(self, x):
        self.x = x
        self.z1 = x @ self.W1 + self.b1
        self.a1 = np.tanh(self.z1) if self.first == "tanh" else relu(self.z1)
        self.z2 = self.a1 @ self.W2 + self.b2
        self.a2 = sigmoid(self.z2)
        self.z3 = self.a2 @ self.W3 + self.b3
        self.a3 = sigmoid(self.z3)
        return self.a3

    def first_prime(self):
        if self.first == "relu":
            return (self.z1 > 0).astype(float)
        return 1 - self.a1 ** 2

    def gradients(self, x, y):
        a3 = self.forward(x)
        d3 = (a3 - y) * a3 * (1 - a3)
        dW3 = self.a2.T @ d3
        db3 = d3.sum(axis=0, keepdims=True)
        d2 = (d3 @ self.W3.T) * self.a2 * (1 - self.a2)
        dW2 = self.a1.T @ d2
        db2 = d2.sum(axis=0, keepdims=True)
        d1 = (d2 @ self.W2.T) * self.first_prime()
        dW1 = x.T @ d1
        db1 = d1.sum(axis=0, keepdims=True)
        return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "W3": dW3, "b3": db3}

    def train_step(self, x, y):
        lr, m = self.lr, self.m
        a3 = self.forward(x)
        d3 = (a3 - y) * a3 * (1 - a3)
        d2 = (d3 @ self.W3.T) * self.a2 * (1 - self.a2)
        d1 = (d2 @ self.W2.T) * self.first_prime()
        self.U3 = m * self.U3 + lr * (self.a2.T @ d3)
        self.W3 -= self.U3
        self.b3 -= lr * d3.sum(axis=0, keepdims=True)
        self.U2 = m * self.U2 + lr * (self.a1.T @ d2)
        self.W2 -= self.U2
        self.b2 -= lr * d2.sum(axis=0, keepdims=True)
        self.U1 = m * self.U1 + lr * (self.x.T @ d1)
        self.W1 -= self.U1
        self.b1 -= lr * d1.sum(axis=0, keepdims=True)

    def start_epoch(self, epoch):
        if epoch > 0 and epoch % self.lr_epoch == 0:
            self.lr *= 1 - self.lr_gamma


def adapter(mode="gradients", randomize=True, **options):
    net = CourseNet(**options)
    layers = [Layer("W1", "b1", net.first), Layer("W2", "b2", "sigmoid"),
              Layer("W3", "b3", "sigmoid")]
    if mode == "gradients":
        return Adapter(network=net, layers=layers, loss="half-sse", forward=net.forward,
                       gradients=net.gradients, randomize=randomize)
    return Adapter(network=net, layers=layers, loss="half-sse", forward=net.forward,
                   train_step=net.train_step, lr=net.lr, momentum=net.m,
                   momentum_style="classic", bias_momentum=False,
                   start_epoch=net.start_epoch if net.lr_epoch else None,
                   lr_epoch=net.lr_epoch, lr_gamma=net.lr_gamma, randomize=randomize)
