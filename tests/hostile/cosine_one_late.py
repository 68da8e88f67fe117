"""Wrong: per-update cosine annealing whose lr is computed from the step count BEFORE it is
incremented for this step... after it was already used: the lr of step t is the schedule's value
at t - 1 from the second step on, i.e. one update late (plain SGD)."""

import math

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(117)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))
        self.t = 0
        self.lr = 0.1
        self.prev_lr = 0.1

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) / x.shape[0]
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        lr = self.prev_lr  # BUG: one update late
        self.W2 -= lr * self.h.T @ d2
        self.b2 -= lr * d2.sum(0, keepdims=True)
        self.W1 -= lr * x.T @ d1
        self.b1 -= lr * d1.sum(0, keepdims=True)
        self.prev_lr = self.lr
        self.t += 1
        self.lr = 0.1 * (1 + math.cos(math.pi * self.t / 10)) / 2


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-mse", forward=net.forward, train_step=net.train_step, lr=0.1,
                   schedule="cosine", t_max=10, schedule_per="update")
