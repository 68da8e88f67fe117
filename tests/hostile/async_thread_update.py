"""Wrong: train_step hands the update to a background thread ("to overlap compute") and returns
at once; the thread applies it after a short delay. When train_step returns, the weights have
not moved yet; each update lands during the NEXT step (and the last one after the check read
it). Needs a real process (a thread left running)."""

import threading
import time

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"
ALSO_OK = ("adapter-error",)


class Net:
    def __init__(self):
        rng = np.random.default_rng(121)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        g = (self.h.T @ d2, d2.sum(0, keepdims=True), x.T @ d1, d1.sum(0, keepdims=True))

        def apply():
            time.sleep(0.05)
            for p, gi in zip((self.W2, self.b2, self.W1, self.b1), g, strict=True):
                p -= 0.1 * gi

        threading.Thread(target=apply, daemon=True).start()  # BUG: returns before the update


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.1)
