"""Biases folded into the weight matrix the way textbooks write them: a constant input of -1
appended (or prepended) to every layer's input, its row of the weight the bias."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import check_planted

NET = '''
import numpy as np
from handnet.adapter import Adapter, Layer

C = -1.0  # the constant input the bias row multiplies

def extend(a):
    ones = C * np.ones((a.shape[0], 1))
    return np.hstack([a, ones]) if AT == "end" else np.hstack([ones, a])

class Net:
    def __init__(self):
        rng = np.random.default_rng(4)
        self.w1 = rng.uniform(-0.5, 0.5, (4, 5))   # 3 inputs + the bias input
        self.w2 = rng.uniform(-0.5, 0.5, (6, 2))   # 5 hidden + the bias input

    def fwd(self, x):
        self.x = extend(x)
        self.h = extend(1 / (1 + np.exp(-(self.x @ self.w1))))
        return self.h @ self.w2

    def train(self, x, y):
        o = self.fwd(x)
        d2 = o - y
        hidden = self.h[:, :-1] if AT == "end" else self.h[:, 1:]
        w2 = self.w2[:-1] if AT == "end" else self.w2[1:]
        d1 = (d2 @ w2.T) * hidden * (1 - hidden)
        self.w2 -= 0.05 * self.h.T @ d2
        self.w1 -= 0.05 * self.x.T @ d1

def adapter():
    n = Net()
    return Adapter(network=n, layers=[Layer("w1", None, "sigmoid"), Layer("w2", None, "identity")],
                   loss="half-sse", forward=n.fwd, train_step=n.train, lr=0.05,
                   bias_layout="folded", folded_input=C, folded_at=AT)
'''


def _check(tmp_path: Path, at: str, *edits: tuple[str, str]):  # type: ignore[no-untyped-def]
    text = NET.replace("AT ==", f"{at!r} ==").replace("folded_at=AT", f"folded_at={at!r}")
    return check_planted(tmp_path, text, *edits)


@pytest.mark.parametrize("at", ["end", "start"])
@pytest.mark.parametrize("c", ["-1.0", "1.0"])
def test_folded_bias_with_its_constant_input_matches(tmp_path: Path, at: str, c: str) -> None:
    outcome = _check(tmp_path, at, ("C = -1.0", f"C = {c}"))
    assert outcome.verdict == "match", outcome.text


def test_the_wrong_constant_declared_is_a_mismatch(tmp_path: Path) -> None:
    outcome = _check(tmp_path, "end", ("folded_input=C", "folded_input=1.0"))
    assert outcome.verdict == "mismatch", outcome.text


def test_a_bug_behind_a_folded_minus_one_bias_is_named(tmp_path: Path) -> None:
    outcome = _check(tmp_path, "end", ("d2 = o - y", "d2 = (o - y) / len(y)"))
    assert outcome.verdict == "mismatch", outcome.text
    assert outcome.data["forward"]["ok"], outcome.text
    assert "1/B" in outcome.text, outcome.text


def test_folded_input_must_be_plus_or_minus_one(tmp_path: Path) -> None:
    outcome = _check(tmp_path, "end", ("folded_input=C", "folded_input=0.5"))
    assert outcome.verdict == "adapter-error", outcome.text
    assert "folded_input must be 1 or -1" in outcome.text
