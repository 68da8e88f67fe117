"""What the field study's networks taught, re-created as our own small networks with the wrong
line a person writes (docs/field-study.md, tool defects 4-6)."""

from __future__ import annotations

from pathlib import Path

from support import check_planted

NET = '''
import numpy as np
from handnet.adapter import Adapter, Layer

class Net:
    def __init__(self):
        rng = np.random.default_rng(5)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 2)), np.zeros((1, 2))

    def forward(self, x):
        self.x = x
        self.h = np.tanh(x @ self.W1 + self.b1)
        self.o = np.tanh(self.h @ self.W2 + self.b2)
        return self.o

    def step(self, x, y):
        o = self.forward(x)
        d2 = (o - y) * (1 - o ** 2)
        d1 = (d2 @ self.W2.T) * (1 - self.h ** 2)
        self.W2 -= 0.1 * self.h.T @ d2
        self.b2 -= 0.1 * d2.sum(axis=0, keepdims=True)
        self.W1 -= 0.1 * self.x.T @ d1
        self.b1 -= 0.1 * d1.sum(axis=0, keepdims=True)

def adapter():
    n = Net()
    return Adapter(network=n, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "tanh")],
                   loss=LOSS, forward=n.forward, train_step=n.step, lr=LR)
'''


def _check(tmp_path: Path, loss: str, lr: str,  # type: ignore[no-untyped-def]
           *edits: tuple[str, str]):
    text = NET.replace("loss=LOSS", f"loss={loss!r}").replace("lr=LR", f"lr={lr}")
    return check_planted(tmp_path, text, *edits)


def _patterns(outcome, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return next(p["patterns"] for p in outcome.data["parameters"] if p["canonical"] == name)


def test_the_network_matches(tmp_path: Path) -> None:
    assert _check(tmp_path, "half-sse", "0.1").verdict == "match"


def test_a_bias_gradient_reduced_to_one_number_is_named(tmp_path: Path) -> None:
    outcome = _check(tmp_path, "half-sse", "0.1",
                     ("d1.sum(axis=0, keepdims=True)", "np.sum(d1)"))
    assert outcome.data["root_causes"] == ["b1"], outcome.text
    assert "bias_axis" in _patterns(outcome, "b0"), outcome.text
    assert "np.sum(delta) with no axis" in outcome.text


def test_a_second_division_by_the_batch_under_a_mean_loss_is_worded_so(tmp_path: Path) -> None:
    # mse over B x 2 outputs: dL/dy_hat = 2 (y_hat - y) / (2B) = (y_hat - y) / B; the step
    # takes 0.1 * (o - y) / (2B), which is lr = 0.05 times that; the hidden delta is then
    # divided by the batch once more by mistake.
    outcome = _check(tmp_path, "mse", "0.1 / 2",
                     ("d2 = (o - y) * (1 - o ** 2)",
                      "d2 = (o - y) * (1 - o ** 2) / (2 * len(x))"),
                     ("d1 = (d2 @ self.W2.T) * (1 - self.h ** 2)",
                      "d1 = (d2 @ self.W2.T) * (1 - self.h ** 2) / len(x)"))
    assert outcome.verdict == "mismatch", outcome.text
    assert outcome.data["root_causes"] == ["W1", "b1"], outcome.text
    assert "divided by the batch size twice (the loss already averages)" in outcome.text
    assert "averaged where the loss sums" not in outcome.text


def test_one_layer_finding_is_not_repeated_as_every_layer(tmp_path: Path) -> None:
    # the output layer's tanh' taken through the output (1 - tanh(o)**2) and, separately, the
    # hidden layer's derivative left out: two mistakes, each named once
    outcome = _check(tmp_path, "half-sse", "0.1",
                     ("d2 = (o - y) * (1 - o ** 2)", "d2 = (o - y) * (1 - np.tanh(o) ** 2)"),
                     ("d1 = (d2 @ self.W2.T) * (1 - self.h ** 2)", "d1 = (d2 @ self.W2.T)"))
    assert outcome.verdict == "mismatch", outcome.text
    patterns = _patterns(outcome, "W1")
    assert patterns.count("deriv_at_output") == 1, outcome.text
    assert "at every tanh layer" not in outcome.text, outcome.text


def test_softmax_output_declared_with_the_logits_loss_says_which_loss_it_is() -> None:
    # field networks 15, 16, 25: a forward returning softmax probabilities, declared softmax-ce
    import numpy as np
    import pytest

    from handnet.adapter import Adapter, AdapterError, Layer

    class Net:
        W1, b1 = np.ones((2, 3)), np.zeros((1, 3))

    for loss, meant in (("softmax-ce", "ce"), ("softmax-ce-sum", "ce-sum")):
        ad = Adapter(network=Net(), layers=[Layer("W1", "b1", "softmax")], loss=loss,
                     forward=lambda x: x, gradients=lambda x, y: {})
        with pytest.raises(AdapterError, match=f"is loss='{meant}' "):
            ad.validate()
