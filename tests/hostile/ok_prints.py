"""Correct network that prints chatter to stdout at import, in adapter(), forward and train_step:
the verdict is still "match".  (Run in-process: that ``--json -`` keeps stdout one pure JSON
document with such a network is tested by a real command in tests/test_check_cli.py, and at the
file-descriptor level by ok_os_write_fd1.py.)"""

import numpy as np

from handnet.adapter import Adapter, Layer

EXPECT = "match"
ARGS = ["--json", "-"]
SUBPROCESS = False

print("loading my network...")


class Net:
    def __init__(self):
        rng = np.random.default_rng(3)
        self.W1, self.b1 = rng.standard_normal((2, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        print("forward on", x.shape)
        self.h = 1 / (1 + np.exp(-(x @ self.W1 + self.b1)))
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def train_step(self, x, y):
        o = self.forward(x)
        print("loss", 0.5 * float(((o - y) ** 2).sum()))
        d2 = (o - y) * o * (1 - o)
        d1 = d2 @ self.W2.T * self.h * (1 - self.h)
        self.W2 -= 0.5 * self.h.T @ d2
        self.b2 -= 0.5 * d2.sum(0, keepdims=True)
        self.W1 -= 0.5 * x.T @ d1
        self.b1 -= 0.5 * d1.sum(0, keepdims=True)


def adapter():
    print("building the adapter")
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, train_step=net.train_step, lr=0.5)
