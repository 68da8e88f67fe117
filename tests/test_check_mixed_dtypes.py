"""A network whose biases are float32 while its weights are float64 (the bias made with a
``dtype="float32"`` default, the weights by ``randn``): a finding about the network — the
float32 parameters named, flagged and explained, exit 1 — not an adapter error.

The network is our own 3-4-2 sigmoid net (rows, biases (1, out), half-SSE, plain SGD); the
wrong line is the bias's creation.
"""

from __future__ import annotations

import numpy as np
import pytest

from handnet.adapter import Adapter, Layer
from reference.checker.check import check


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


class Net:
    def __init__(self, bias_dtype: str) -> None:
        rng = np.random.default_rng(4)
        self.W1, self.W2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
        self.b1 = np.zeros((1, 4), dtype=bias_dtype)
        self.b2 = np.zeros((1, 2))

    def forward(self, x):
        self.x, self.h = x, sigmoid(x @ self.W1 + self.b1)
        self.o = sigmoid(self.h @ self.W2 + self.b2)
        return self.o

    def gradients(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = (d2 @ self.W2.T) * self.h * (1 - self.h)
        return {"W1": x.T @ d1, "b1": d1.sum(0, keepdims=True),
                "W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True)}

    def step(self, x, y):
        for k, g in self.gradients(x, y).items():
            getattr(self, k)[...] -= 0.1 * g


def adapter(bias_dtype: str, style: str) -> Adapter:
    net = Net(bias_dtype)
    fit = {"train_step": net.step, "lr": 0.1} if style == "b" else {"gradients": net.gradients}
    return Adapter(network=net, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=net.forward, **fit)


def test_a_float32_bias_in_a_float64_network_is_flagged_and_named() -> None:
    report = check(lambda: adapter("float32", "b"), steps=3, seed=1)
    text = report.to_text()
    assert report.exit_code == 1 and report.dtype == "float64", text
    assert {p.name for p in report.wrong if not p.consequence} == {"b1"}, text
    b1 = next(p for p in report.parameters if p.name == "b1")
    assert b1.patterns[0] == "odd_dtype" and "unexplained" not in b1.patterns, text
    assert any("'b1' is float32 in a float64 network" in f for f in report.faults), text


def test_a_float64_bias_in_a_float32_network_is_named_against_the_weights() -> None:
    """The network's dtype is its weights': the one float64 parameter is the odd one."""
    def make() -> Adapter:
        ad = adapter("float64", "b")
        ad.network.W1, ad.network.W2 = (ad.network.W1.astype(np.float32),
                                        ad.network.W2.astype(np.float32))
        ad.network.b2 = ad.network.b2.astype(np.float32)
        return ad

    report = check(make, steps=3, seed=1)
    assert report.dtype == "float32" and report.exit_code == 1, report.to_text()
    assert [f for f in report.faults if "float64 in a float32 network" in f] and \
        all("'b1'" in f for f in report.faults if "network:" in f), report.to_text()


@pytest.mark.parametrize("style", ["a", "b"])
def test_the_same_network_in_one_dtype_matches(style: str) -> None:
    report = check(lambda: adapter("float64", style), steps=3, seed=1)
    assert report.exit_code == 0, report.to_text()


def test_returned_gradients_of_a_float32_bias_network_give_the_fault() -> None:
    """Style (a) sees no update to round; the stored dtype is still a fault of the network."""
    report = check(lambda: adapter("float32", "a"), seed=1)
    assert report.exit_code == 1, report.to_text()
    assert any("'b1' is float32" in f for f in report.faults), report.to_text()
