"""Wrong (dtype drift): a float32 network whose output-layer derivative picks up float64 (a
float64 constant), and whose update rebinds, so after one step W2 and b2 are float64 while W1 and
b1 stay float32: the network silently stops being the float32 network it claims to be. Values
agree to float32 tolerance; only the parameters' dtypes show it."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"
ARGS = ["--steps", "2"]
F = np.float32
HALF = np.array(0.5)  # float64


class Net:
    def __init__(self):
        rng = np.random.default_rng(43)
        self.W1, self.b1 = rng.standard_normal((3, 5)).astype(F), np.zeros((1, 5), F)
        self.W2, self.b2 = rng.standard_normal((5, 1)).astype(F), np.zeros((1, 1), F)

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def train_step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * (2 * HALF)  # BUG: float64 from here on
        d1 = (d2 @ self.W2.T).astype(F) * (F(1) - self.h**2)
        self.W2 = self.W2 - F(0.1) * self.h.T @ d2
        self.b2 = self.b2 - F(0.1) * d2.sum(0, keepdims=True)
        self.W1 = self.W1 - F(0.1) * x.T @ d1
        self.b1 = self.b1 - F(0.1) * d1.sum(0, keepdims=True)


def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.1)
