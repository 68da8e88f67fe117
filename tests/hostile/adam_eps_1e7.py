"""Wrong: hand-written Adam with eps = 1e-7 (a Keras default) where the adapter declares torch's
1e-8. The gradients of a tanh layer on small batches are ~0.1, so the eps is a relative 1e-6 of
sqrt(v_hat): small, but far above float64 rounding."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(114)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))
        self.m = [np.zeros_like(p) for p in (self.W1, self.b1, self.W2, self.b2)]
        self.v = [np.zeros_like(p) for p in (self.W1, self.b1, self.W2, self.b2)]
        self.t = 0

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = 2 * (o - y) / o.size
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        grads = (x.T @ d1, d1.sum(0, keepdims=True), self.h.T @ d2, d2.sum(0, keepdims=True))
        params = (self.W1, self.b1, self.W2, self.b2)
        self.t += 1
        for p, m, v, g in zip(params, self.m, self.v, grads, strict=True):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            mh = m / (1 - 0.9 ** self.t)
            vh = v / (1 - 0.999 ** self.t)
            p -= 0.01 * mh / (np.sqrt(vh) + 1e-7)  # BUG: Keras's eps


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="mse", forward=net.forward, train_step=net.train_step, lr=0.01,
                   optimizer="adam", betas=(0.9, 0.999), eps=1e-8)
