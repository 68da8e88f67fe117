"""A constant factor is named by how it changes with the batch size: check returns gradients at
two alternating batch sizes, and only a law that fits both names the divisor.

The networks return gradients (style a) and carry the wrong line a person writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reference.checker.guard import check_file

NET = '''
import numpy as np
from handnet.adapter import Adapter, Layer

class Net:
    def __init__(self):
        rng = np.random.default_rng(2)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 2)), np.zeros((1, 2))

    def forward(self, x):
        self.x = x
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def grads(self, x, y):
        o = self.forward(x)
        d2 = (o - y) / SCALE
        d1 = (d2 @ self.W2.T) * (1 - self.h ** 2)
        return {"W2": self.h.T @ d2, "b2": d2.sum(0, keepdims=True),
                "W1": x.T @ d1, "b1": d1.sum(0, keepdims=True)}

def adapter():
    n = Net()
    return Adapter(network=n, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss=LOSS, forward=n.forward, gradients=n.grads)
'''


def _check(tmp_path: Path, scale: str, loss: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "case.py"
    path.write_text(NET.replace("/ SCALE", f"/ {scale}").replace("loss=LOSS", f"loss={loss!r}"))
    return check_file([str(path)], timeout=30)


def test_correct_mean_loss_matches(tmp_path: Path) -> None:
    # torch's mse_loss: mean over B * outputs elements, factor 2 kept.
    assert _check(tmp_path, "(x.shape[0] * 2) * 2", "mse").verdict == "match"


@pytest.mark.parametrize(("scale", "loss", "named"), [
    # divided by the number of input features where the batch size is meant (mean loss)
    ("(x.shape[1] * 2) * 2", "mse", "divided by the number of input features (x.shape[1]) "
                                    "instead of the batch size"),
    # averaged over the batch where the loss sums
    ("x.shape[0]", "half-sse", "1/B (batch"),
])
def test_the_divisor_is_named_by_its_law(tmp_path: Path, scale: str, loss: str,
                                         named: str) -> None:
    outcome = _check(tmp_path, scale, loss)
    assert outcome.verdict == "mismatch", outcome.text
    assert named in outcome.text, outcome.text
    assert "factor 2 of a square" not in outcome.text, outcome.text
