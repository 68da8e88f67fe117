"""Wrong: a float64 network whose returned output-layer weight gradient is computed in float32
(``np.float32`` cast on the hidden activations for one matmul, then back to float64): the dtype is
float64 everywhere the check looks, the forward is exact, the error is float32 rounding (~1e-7
relative) in W2's gradient only."""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "mismatch"


class Net:
    def __init__(self):
        rng = np.random.default_rng(113)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 2)), np.zeros((1, 2))

    def forward(self, x):
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return self.h @ self.W2 + self.b2

    def gradients(self, x, y):
        o = self.forward(x)
        d2 = o - y
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        h32, d32 = self.h.astype(np.float32), d2.astype(np.float32)
        gW2 = (h32.T @ d32).astype(np.float64)  # BUG: one matmul in float32
        return {"W1": x.T @ d1, "b1": d1.sum(0, keepdims=True),
                "W2": gW2, "b2": d2.sum(0, keepdims=True)}


def adapter():
    net = Net()
    return Adapter(network=net,
                   layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "identity")],
                   loss="half-sse", forward=net.forward, gradients=net.gradients)
