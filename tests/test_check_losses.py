"""The wrong line a person writes in a hand-written classifier's loss: ``check`` flags exactly the
parameters it affects (or the forward, for an overflow) and names the pattern; the network
without it matches under every loss, in float32 and float64, with one-hot or index targets.

The network is ``tests/planted/loss_net.py`` (user code from the textbook formulas: an
MNIST-style softmax cross-entropy net, a softmax output layer with cross-entropy, BCE on logits,
half-MSE); each case replaces one line (or a few adjacent ones) of its source.  3-5-K, three
steps: each check runs in a fraction of a second.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from planted import load, plant

from handnet.adapter import AdapterError
from reference.checker.check import check
from reference.checker.report import Report

ALL = {"W1", "b1", "W2", "b2"}
MODES = ("gradients", "train_step")

# (name, loss, right line(s), wrong line(s), pattern)
CASES: list[tuple[str, str, str, str, str]] = [
    ("softmax backward element-wise", "ce",
     "d2 = s * (g - np.sum(g * s, axis=1, keepdims=True))", "d2 = g * s * (1 - s)",
     "softmax_elementwise"),
    ("fused gradient pushed through the softmax layer", "ce",
     "g = -y / s / n", "g = (s - y) / n", "softmax_twice"),
    ("fused gradient times s * (1 - s)", "softmax-ce",
     "d2 = (softmax(out) - y) / n", "s = softmax(out)\nd2 = (s - y) / n * s * (1 - s)",
     "softmax_twice"),
    ("cross-entropy not divided by the batch", "softmax-ce",
     "d2 = (softmax(out) - y) / n", "d2 = softmax(out) - y", "factor"),
    ("half-mse without its 1/N", "half-mse",
     "d2 = (out - y) / y.size", "d2 = out - y", "factor"),
    ("half-mse with the 2 kept", "half-mse",
     "d2 = (out - y) / y.size", "d2 = 2 * (out - y) / y.size", "factor"),
]


def assert_named(report: Report, flagged: set[str], pattern: str) -> None:
    text = report.to_text()
    assert report.forward.ok, text
    assert {p.name for p in report.wrong} == flagged, text
    for p in report.wrong:
        assert pattern in p.patterns, f"{p.name}: {p.patterns}\n{text}"
    assert report.exit_code == 1, text


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "loss", "right", "wrong", "pattern"), CASES,
                         ids=[c[0] for c in CASES])
def test_wrong_line_in_a_loss_gradient_is_named(name: str, loss: str, right: str, wrong: str,
                                                pattern: str, mode: str) -> None:
    module = plant("loss_net", right, wrong)
    report = check(lambda: module.adapter(mode, loss), steps=3, seed=3)
    assert_named(report, ALL, pattern)


def test_cross_entropy_not_divided_by_the_batch_says_so() -> None:
    module = plant("loss_net", "d2 = (softmax(out) - y) / n", "d2 = softmax(out) - y")
    text = check(lambda: module.adapter("gradients", "softmax-ce"), steps=3, seed=3).to_text()
    assert "= B (batch 8): summed where the loss averages" in text, text


# (name, loss, right line(s), wrong line(s), what the forward's finding says)
OVERFLOWS: list[tuple[str, str, str, str, str]] = [
    ("log-softmax without the max shift", "softmax-ce",
     "zs = z - z.max(axis=1, keepdims=True)", "zs = z", "subtract each row's maximum"),
    ("softmax without the max shift", "ce",
     "e = np.exp(z - z.max(axis=1, keepdims=True))", "e = np.exp(z)",
     "the output is not finite where the twin's is"),
    # the row's mean removes the uniform shift too: only logits far apart overflow it
    ("log-softmax shifted by the mean", "softmax-ce",
     "zs = z - z.max(axis=1, keepdims=True)", "zs = z - z.mean(axis=1, keepdims=True)",
     "in its first unit only"),
    ("softmax shifted by the mean", "ce",
     "e = np.exp(z - z.max(axis=1, keepdims=True))",
     "e = np.exp(z - z.mean(axis=1, keepdims=True))", "in its first unit only"),
    ("bce on logits through sigmoid", "bce-logits",
     "return np.mean(np.maximum(out, 0) - out * y + np.log1p(np.exp(-np.abs(out))))",
     "p = sigmoid(out)\nreturn -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))",
     "stable form"),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("name", "loss", "right", "wrong", "says"), OVERFLOWS,
                         ids=[c[0] for c in OVERFLOWS])
def test_a_loss_that_overflows_is_named_on_the_forward(name: str, loss: str, right: str,
                                                       wrong: str, says: str) -> None:
    module = plant("loss_net", right, wrong)
    report = check(lambda: module.adapter("gradients", loss), steps=2, seed=3)
    text = report.to_text()
    assert not report.forward.ok and report.forward.patterns == ["overflow"], text
    assert not report.wrong and report.exit_code == 1, text  # every gradient is right
    assert says in text and "start here: the forward pass" in text, text


CONTROLS: list[tuple[str, dict[str, Any]]] = [
    (f"{loss} {mode} {np.dtype(dtype).name}", {"mode": mode, "loss": loss, "dtype": dtype})
    for loss in ("softmax-ce", "ce", "bce-logits", "half-mse") for mode in MODES
    for dtype in (np.float64, np.float32)
] + [("softmax-ce index targets", {"loss": "softmax-ce", "index": True}),
     ("ce index targets", {"loss": "ce", "index": True, "mode": "train_step"})]


@pytest.mark.parametrize("options", [c[1] for c in CONTROLS], ids=[c[0] for c in CONTROLS])
def test_the_network_without_the_wrong_line_matches(options: dict[str, Any]) -> None:
    module = load("loss_net")
    report = check(lambda: module.adapter(**options), steps=3, seed=3)
    assert report.exit_code == 0, report.to_text()


def test_index_targets_reach_the_network_as_class_indices() -> None:
    """Declared targets='index', the network gets int64 indices; declared rows, it gets the
    one-hot rows (a network that takes indices then fails on them: not a silent pass)."""
    module = load("loss_net")
    seen: list[np.ndarray] = []

    def adapter() -> Any:
        ad = module.adapter(loss="softmax-ce", index=True)
        inner = ad.gradients
        ad.gradients = lambda x, y: (seen.append(y), inner(x, y))[1]
        return ad

    assert check(adapter, steps=1, seed=3).exit_code == 0
    assert seen[0].dtype == np.int64 and seen[0].shape == (8,)
    assert set(np.unique(seen[0])) <= {0, 1, 2}


@pytest.mark.parametrize(("declare", "message"), [
    ({"loss": "ce", "out": "identity"}, "loss 'ce' takes distributions, but the output layer's "
                                        "activation is 'identity'; state softmax there"),
    ({"loss": "softmax-ce", "out": "softmax"}, "loss 'softmax-ce' takes logits"),
    ({"loss": "half-mse", "targets": "index"}, "targets='index' (class indices) needs a class "
                                              "loss"),
    ({"loss": "softmax-ce", "targets": "labels"}, "targets is 'labels'; choose one of rows, "
                                                 "index"),
    ({"loss": "softmax-ce", "hidden": "softmax"}, "softmax is checked as the output layer's "
                                                  "activation only"),
])
def test_bad_loss_declarations_are_one_line_adapter_errors(declare: dict[str, Any],
                                                           message: str) -> None:
    module = load("loss_net")

    def adapter() -> Any:
        ad = module.adapter(loss=declare["loss"])
        if "out" in declare:
            ad.layers[-1].activation = declare["out"]
        if "hidden" in declare:
            ad.layers[0].activation = declare["hidden"]
        if "targets" in declare:
            ad.targets = declare["targets"]
        return ad

    with pytest.raises(AdapterError) as err:
        check(adapter, steps=1)
    assert message in str(err.value)


def test_the_diagnosis_keeps_its_simulations_floating_point_trouble_to_itself(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A hypothesis the diagnosis simulates may divide by an output that is exactly 0 (field
    network 27: the cross-entropy's ``-y / p`` on a saturated softmax); the result simply does
    not fit, and NumPy's RuntimeWarnings must not reach the user's terminal (this suite turns
    warnings into errors, so a leaked one fails here)."""
    from reference.checker import simulate

    description, derivative = simulate.LOSS_DERIVATIVES["ce"]

    def with_a_zero(p: np.ndarray, y: np.ndarray) -> np.ndarray:
        np.divide(1.0, np.zeros(1))  # "divide by zero" warning, result dropped
        return derivative(p, y)

    monkeypatch.setitem(simulate.LOSS_DERIVATIVES, "ce", (description, with_a_zero))
    right, wrong = CASES[0][2], CASES[0][3]
    module = plant("loss_net", right, wrong)
    report = check(lambda: module.adapter("gradients", "ce"), steps=3, seed=3)
    assert report.exit_code == 1 and {p.name for p in report.wrong} == ALL, report.to_text()
