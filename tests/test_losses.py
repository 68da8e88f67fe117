"""Losses: hand-computed values, finite-difference gradients, and bce's behaviour at 0 and 1.

bce follows torch's ``BCELoss``: each log is clamped below at -100 (so a confident wrong answer
costs exactly 100, never inf), and the derivative ``(p - y) / max(p (1 - p), 1e-12) / N``
divides by at least 1e-12 (so it is finite at p in {0, 1}).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from support import exactly

from handnet.losses import BCE_EPS, BCE_LOG_FLOOR, LOSSES, get_loss

# Three samples, one output:  y_hat - y = (-0.5, 1.0, 0.0)
#   squared errors 0.25, 1.0, 0.0 -> sum 1.25
Y_HAT = np.array([[0.5], [1.0], [0.0]])
Y = np.array([[1.0], [0.0], [0.0]])


def test_half_sse_by_hand() -> None:
    loss = get_loss("half-sse")
    assert loss.value(Y_HAT, Y) == 0.625  # 0.5 * 1.25: half the SUM, not the mean
    np.testing.assert_array_equal(loss.gradient(Y_HAT, Y), [[-0.5], [1.0], [0.0]])
    np.testing.assert_array_equal(loss.per_sample(Y_HAT, Y), [0.125, 0.5, 0.0])


def test_mse_by_hand() -> None:
    loss = get_loss("mse")
    assert loss.value(Y_HAT, Y) == pytest.approx(1.25 / 3, rel=1e-15)  # mean over elements
    # 2 * (y_hat - y) / N, N = 3
    np.testing.assert_allclose(loss.gradient(Y_HAT, Y), [[-1 / 3], [2 / 3], [0.0]], rtol=1e-15)
    np.testing.assert_array_equal(loss.per_sample(Y_HAT, Y), [0.25, 1.0, 0.0])


def test_mse_divides_by_every_element_not_the_batch() -> None:
    # (2 samples, 2 outputs): errors 1, 0, 0, 3 -> squares sum 10 -> mean over 4 elements 2.5
    y_hat = np.array([[1.0, 0.0], [0.0, 3.0]])
    y = np.zeros((2, 2))
    loss = get_loss("mse")
    assert loss.value(y_hat, y) == 2.5
    np.testing.assert_array_equal(loss.gradient(y_hat, y), [[0.5, 0.0], [0.0, 1.5]])  # 2e/4
    np.testing.assert_array_equal(loss.per_sample(y_hat, y), [0.5, 4.5])
    assert get_loss("half-sse").value(y_hat, y) == 5.0


def test_bce_by_hand_in_the_interior() -> None:
    loss = get_loss("bce")
    p = np.array([[0.5], [0.8], [0.25]])
    y = np.array([[1.0], [0.0], [0.0]])
    # -log 0.5 = ln 2;  -log(1 - 0.8) = ln 5;  -log(1 - 0.25) = ln(4/3)
    terms = [math.log(2), math.log(5), math.log(4 / 3)]
    assert loss.value(p, y) == pytest.approx(sum(terms) / 3, rel=1e-14)
    np.testing.assert_allclose(loss.per_sample(p, y), terms, rtol=1e-14)
    # (p - y) / (p (1 - p)) / 3:  -0.5/0.25/3, 0.8/0.16/3, 0.25/0.1875/3
    np.testing.assert_allclose(
        loss.gradient(p, y), [[-2 / 3], [5 / 3], [4 / 9]], rtol=1e-14
    )


def test_bce_is_finite_at_zero_and_one() -> None:
    # torch's clamp constants: logs floored at -100; EPSILON is the C++ float 1e-12f.
    assert BCE_LOG_FLOOR == -100.0 and BCE_EPS == float(np.float32(1e-12))
    loss = get_loss("bce")
    p = np.array([[1.0], [0.0], [0.0], [1.0]])
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    # right and certain: 0; wrong and certain: -(-100) = 100 each -> mean (0+0+100+100)/4 = 50
    assert loss.value(p, y) == 50.0
    np.testing.assert_array_equal(loss.per_sample(p, y), [0.0, 0.0, 100.0, 100.0])
    # (p - y) / max(p(1-p), eps) / 4 -> 0, 0, -1/(4 eps), +1/(4 eps), eps = float32(1e-12)
    g = loss.gradient(p, y)
    assert np.all(np.isfinite(g))
    quarter = 0.25 / float(np.float32(1e-12))
    np.testing.assert_allclose(g, [[0.0], [0.0], [-quarter], [quarter]], rtol=1e-15)


def test_bce_log_clamp_kicks_in_only_below_minus_100() -> None:
    loss = get_loss("bce")
    y = np.ones((2, 1))
    # -ln(1e-40) = 40 ln 10 = 92.1 (not clamped); -ln(1e-50) = 115.1 -> clamped to 100
    np.testing.assert_allclose(
        loss.per_sample(np.array([[1e-40], [1e-50]]), y), [40 * math.log(10), 100.0], rtol=1e-14
    )
    # the same on the other side, through log(1 - p) with y = 0
    np.testing.assert_allclose(
        loss.per_sample(np.array([[1 - 2.0**-40], [1.0 - 1e-17]]), np.zeros((2, 1))),
        [40 * math.log(2), 100.0], rtol=1e-12,
    )


def _central_difference(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6
) -> np.ndarray:
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = f(x)
        x[idx] = old - h
        down = f(x)
        x[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad


def _inputs(name: str, targets: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(y_hat, y)`` of shape (4, 3) in the loss's domain: logits in [-4, 4], probabilities
    in [0.05, 0.95] (rows normalised for ``ce``); 0/1 or soft targets (class rows: one-hot or
    soft rows that sum to 1)."""
    loss = get_loss(name)
    y_hat = (rng.uniform(-4, 4, size=(4, 3)) if loss.takes == "logits"
             else rng.uniform(0.05, 0.95, size=(4, 3)))
    if loss.takes == "distributions":
        y_hat /= y_hat.sum(axis=1, keepdims=True)
    if loss.classes:
        y = (np.eye(3)[rng.integers(0, 3, size=4)] if targets == "binary"
             else rng.dirichlet(np.ones(3), size=4))
    else:
        y = (rng.integers(0, 2, size=(4, 3)).astype(float) if targets == "binary"
             else rng.uniform(0, 1, size=(4, 3)))
    return y_hat, y


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("targets", ["binary", "soft"])
def test_gradient_matches_central_difference(name: str, targets: str) -> None:
    y_hat, y = _inputs(name, targets, np.random.default_rng(7))
    loss = get_loss(name)
    numeric = _central_difference(lambda v: loss.value(v, y), y_hat.copy())
    np.testing.assert_allclose(loss.gradient(y_hat, y), numeric, rtol=1e-6, atol=1e-9)


SUMMED = {"half-sse", "sse", "bce-sum", "bce-logits-sum", "softmax-ce-sum", "ce-sum"}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_value_is_consistent_with_per_sample(name: str) -> None:
    y_hat, y = _inputs(name, "binary", np.random.default_rng(3))
    loss = get_loss(name)
    per = loss.per_sample(y_hat, y)
    assert per.shape == (4,)
    # the summed losses add the samples' losses, the others average them (every element of a
    # row counts alike, so the mean of the row means is the mean over every element)
    combined = per.sum() if name in SUMMED else per.mean()
    assert loss.reduction == ("sum" if name in SUMMED else "mean")
    assert loss.value(y_hat, y) == pytest.approx(combined, rel=1e-14)


def test_unknown_loss_names_the_problem() -> None:
    assert set(LOSSES) == {"half-sse", "sse", "mse", "half-mse", "bce", "bce-sum", "bce-logits",
                           "bce-logits-sum", "softmax-ce", "softmax-ce-sum", "ce", "ce-sum"}
    with pytest.raises(ValueError, match=exactly(
            "unknown loss 'hinge'; choose one of half-sse, sse, mse, half-mse, bce, bce-sum, "
            "bce-logits, bce-logits-sum, softmax-ce, softmax-ce-sum, ce, ce-sum")):
        get_loss("hinge")
