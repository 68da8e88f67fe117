"""In-place updates: a constant factor on the first step is named by its law, found by one
more step of a fresh network at the other batch size (the wrong line a person writes)."""

from __future__ import annotations

from pathlib import Path

from support import check_planted

NET = '''
import numpy as np
from handnet.adapter import Adapter, Layer

class Net:
    def __init__(self):
        rng = np.random.default_rng(3)
        self.W1, self.b1 = rng.standard_normal((4, 3)), np.zeros((1, 3))
        self.W2, self.b2 = rng.standard_normal((3, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.x = x
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def step(self, x, y):
        o = self.forward(x)
        m = x.shape[0]
        d2 = (o - y) / m
        d1 = (d2 @ self.W2.T) * (1 - self.h ** 2)
        self.W2 -= 0.1 * self.h.T @ d2
        self.b2 -= 0.1 * d2.sum(0, keepdims=True)
        self.W1 -= 0.1 * self.x.T @ d1
        self.b1 -= 0.1 * d1.sum(0, keepdims=True)

def adapter():
    n = Net()
    return Adapter(network=n, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="mse", forward=n.forward, train_step=n.step, lr=0.1 / 2)
'''


def _check(tmp_path: Path, *edits: tuple[str, str]):  # type: ignore[no-untyped-def]
    # batch 8 with 4 input features: x.shape[1] for x.shape[0] is a factor 2 at that size,
    # which one batch size cannot tell from the factor 2 of a square
    return check_planted(tmp_path, NET, *edits, argv=("--batch", "8"))


def test_the_mean_loss_network_matches(tmp_path: Path) -> None:
    # mse over one output: d/dy_hat = 2 (y_hat - y) / B; the step takes 0.1 * (y_hat - y) / B,
    # which is lr = 0.05 times that gradient.
    assert _check(tmp_path).verdict == "match"


def test_features_for_the_batch_is_named_from_two_batch_sizes(tmp_path: Path) -> None:
    outcome = _check(tmp_path, ("m = x.shape[0]", "m = x.shape[1]"))
    assert outcome.verdict == "mismatch", outcome.text
    assert "divided by the number of input features (x.shape[1]) instead of the batch size" \
        in outcome.text, outcome.text
    assert "factor 2 of a square" not in outcome.text


def test_a_sum_where_the_mean_is_meant_is_named_B(tmp_path: Path) -> None:
    outcome = _check(tmp_path, ("m = x.shape[0]", "m = 1"))
    assert outcome.verdict == "mismatch", outcome.text
    assert "B (batch" in outcome.text and "summed where the loss averages" in outcome.text
