"""handnet.softmax by hand: the max shift, log-softmax at large logits, the vector-Jacobian
product, and class targets."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from handnet.softmax import class_targets, log_softmax, softmax, softmax_vjp


def test_softmax_by_hand() -> None:
    # exp(0), exp(ln 3), exp(0) = 1, 3, 1 -> sum 5 -> .2, .6, .2 (each row on its own)
    z = np.array([[0.0, math.log(3), 0.0], [10.0, 10.0, 10.0]])
    np.testing.assert_allclose(softmax(z), [[0.2, 0.6, 0.2], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)


def test_large_logits_are_finite_and_silent() -> None:
    """Without the max shift exp(1000) = inf and the row is inf / inf = nan."""
    z = np.array([[1000.0, 0.0], [-1000.0, -1001.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s, log_s = softmax(z), log_softmax(z)
    # row 0: (1, e^-1000) = (1, 0); log: (0 - log(1 + e^-1000), -1000) = (0, -1000)
    # row 1: shifted (0, -1): softmax 1 / (1 + e^-1), log (-log(1 + e^-1), -1 - log(1 + e^-1))
    np.testing.assert_array_equal(s[0], [1.0, 0.0])
    np.testing.assert_array_equal(log_s[0], [0.0, -1000.0])
    c = math.log1p(math.exp(-1))
    np.testing.assert_allclose(s[1], [1 / (1 + math.exp(-1)), math.exp(-1) / (1 + math.exp(-1))],
                               rtol=1e-6)
    np.testing.assert_allclose(log_s[1], [-c, -1 - c], rtol=1e-6)
    assert s.dtype == log_s.dtype == np.float32


def test_log_softmax_stays_finite_where_log_of_softmax_does_not() -> None:
    z = np.array([[0.0, -800.0]])  # softmax (1, e^-800): e^-800 underflows to 0 in float64
    with np.errstate(divide="ignore"):
        assert np.log(softmax(z))[0, 1] == -np.inf
    np.testing.assert_array_equal(log_softmax(z), [[0.0, -800.0]])


def test_vjp_by_hand() -> None:
    # s = (.2, .6, .2), g = (1, 0, 0): sum g s = .2; s * (g - .2) = (.16, -.12, -.04)
    # (the element-wise s (1 - s) g would give (.16, 0, 0): the off-diagonal terms are missing)
    s = np.array([[0.2, 0.6, 0.2]])
    np.testing.assert_allclose(softmax_vjp(s, np.array([[1.0, 0.0, 0.0]])),
                               [[0.16, -0.12, -0.04]], rtol=1e-14)
    # a constant upstream moves nothing: the softmax is invariant to adding c to every logit
    np.testing.assert_allclose(softmax_vjp(s, np.full((1, 3), 7.0)), [[0.0, 0.0, 0.0]],
                               atol=1e-15)


def test_class_targets() -> None:
    np.testing.assert_array_equal(class_targets(np.array([2, 0]), 3, np.float32),
                                  [[0, 0, 1], [1, 0, 0]])
    assert class_targets(np.array([2, 0]), 3, np.float32).dtype == np.float32
    rows = np.array([[0.5, 0.5]])
    assert class_targets(rows, 2, np.float64) is rows
    with pytest.raises(ValueError, match="class indices"):
        class_targets(np.array([-1]), 3, np.float64)
