"""Wrong: hand-written Adam whose state (moments and the step count) lives in a MODULE-level
dict keyed by parameter name, shared by every network the module ever builds ("so the optimiser
survives re-creating the model"). The first network trains right; a second one starts with the
first one's moments and step count."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"

STATE = {"t": 0}  # BUG: shared across networks


class Net:
    def __init__(self):
        rng = np.random.default_rng(128)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = 2 * (o - y) / o.size
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        grads = {"W1": x.T @ d1, "b1": d1.sum(0, keepdims=True),
                 "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}
        STATE["t"] += 1
        t = STATE["t"]
        for k, g in grads.items():
            m = STATE.setdefault("m" + k, np.zeros_like(g))
            v = STATE.setdefault("v" + k, np.zeros_like(g))
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p = getattr(self, k)
            p -= 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="mse", forward=net.forward, train_step=net.train_step, lr=0.01,
                   optimizer="adam")
