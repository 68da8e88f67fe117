"""A near match: a forward pass that differs from the twin's by a small systematic amount (a
constant inside an activation, float32 somewhere) must not hide a real gradient bug behind
"the forward differs", nor make every parameter wrong.

Each network is written the way people write it, with the wrong lines a person writes; the
check runs through ``reference.checker.guard.check_file`` in this process.
"""

from __future__ import annotations

from pathlib import Path

from support import check_planted

NET = '''
import numpy as np
from handnet.adapter import Adapter, Layer

def sig(z):
    return 1 / (1 + np.exp(-z))

class Net:
    def __init__(self):
        rng = np.random.default_rng(1)
        self.W1, self.b1 = rng.standard_normal((3, 5)), np.zeros((1, 5))
        self.W2, self.b2 = rng.standard_normal((5, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.x = x
        self.h = np.tanh(x @ self.W1 + self.b1)
        self.o = sig(self.h @ self.W2 + self.b2)
        return self.o

    def step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * o * (1 - o)
        d1 = (d2 @ self.W2.T) * (1 - self.h ** 2)
        self.W2 -= 0.1 * self.h.T @ d2
        self.b2 -= 0.1 * d2.sum(0, keepdims=True)
        self.W1 -= 0.1 * self.x.T @ d1
        self.b1 -= 0.1 * d1.sum(0, keepdims=True)

def adapter():
    n = Net()
    return Adapter(network=n, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=n.forward, train_step=n.step, lr=0.1)
'''

EPS_IN_SIGMOID = ("return 1 / (1 + np.exp(-z))", "return 1 / (1 + np.exp(-z) + 1e-8)")
W1_TEN_PERCENT = ("self.W1 -= 0.1 * self.x.T @ d1", "self.W1 -= 0.11 * self.x.T @ d1")


def _check(tmp_path: Path, *edits: tuple[str, str]):  # type: ignore[no-untyped-def]
    return check_planted(tmp_path, NET, *edits)


def _data(outcome):  # type: ignore[no-untyped-def]
    return outcome.data


def test_the_network_matches(tmp_path: Path) -> None:
    assert _check(tmp_path).verdict == "match"


def test_a_real_bug_behind_a_constant_in_the_sigmoid_is_named(tmp_path: Path) -> None:
    outcome = _check(tmp_path, EPS_IN_SIGMOID, W1_TEN_PERCENT)
    data = outcome.data
    assert outcome.verdict == "mismatch", outcome.text
    assert data["forward"]["near_match"] is True, outcome.text
    assert data["root_causes"] == ["W1"], outcome.text
    assert data["start_here"] == "W1", outcome.text
    assert "constant factor 1.1" in outcome.text


def test_a_constant_in_the_sigmoid_alone_is_a_forward_finding_with_hints(tmp_path: Path) -> None:
    outcome = _check(tmp_path, EPS_IN_SIGMOID)
    assert outcome.verdict == "mismatch", outcome.text
    assert outcome.data["root_causes"] == [], outcome.text
    assert outcome.data["start_here"] == "forward"
    assert "a small constant inside an activation" in outcome.text


def test_float32_inside_a_float64_network_is_a_near_match_with_that_hint(tmp_path: Path) -> None:
    outcome = _check(tmp_path, ("self.h = np.tanh(x @ self.W1 + self.b1)",
                                "self.h = np.tanh(x @ self.W1 + self.b1).astype(np.float32)"))
    assert outcome.data["forward"]["near_match"] is True, outcome.text
    assert "float32 arithmetic somewhere" in outcome.text


def test_a_clearly_wrong_forward_is_not_a_near_match(tmp_path: Path) -> None:
    outcome = _check(tmp_path, ("return 1 / (1 + np.exp(-z))",
                                "return 1 / (1 + np.exp(-z) + 1e-3)"))
    assert outcome.verdict == "mismatch", outcome.text
    assert outcome.data["forward"]["near_match"] is False, outcome.text
    assert outcome.data["start_here"] == "forward"
