"""Activations: values, derivatives (through the output where the seed does so), edge cases.

Decision on extreme inputs (issue 2: "no overflow warning and finite gradients for |z| up to
1e4"): sigmoid is defined and warning-free on the whole extended real line, ``+-inf``
included: ``sigmoid(+inf) = 1``, ``sigmoid(-inf) = 0``, derivative 0 at both; NaN stays NaN.
pytest runs with ``filterwarnings = error``, so any overflow/invalid warning fails these tests.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from support import exactly

from handnet.activations import ACTIVATIONS, get_activation, sigmoid

EXTREME = np.array([-np.inf, -1e4, -1e3, -800.0, -745.0, -710.0, -1.0, -0.0, 0.0, 1.0,
                    710.0, 800.0, 1e3, 1e4, np.inf])


def _textbook_sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_extremes_are_finite_and_warning_free(dtype: type) -> None:
    act = get_activation("sigmoid")
    z: np.ndarray = EXTREME.astype(dtype)
    a = act.forward(z)
    d = act.derivative(z, a)
    assert a.dtype == dtype and d.dtype == dtype
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(d))
    assert np.all((a >= 0) & (a <= 1)) and np.all((d >= 0) & (d <= 0.25))
    assert a[0] == 0.0 and a[-1] == 1.0  # -inf -> 0, +inf -> 1
    assert d[0] == 0.0 and d[-1] == 0.0
    assert np.all(a[z >= 1e3] == 1.0) and np.all(a[z <= -1e3] == 0.0)


def test_sigmoid_is_monotone_over_a_wide_range() -> None:
    z = np.linspace(-1e4, 1e4, 20001)
    assert np.all(np.diff(sigmoid(z)) >= 0)


def test_sigmoid_nan_propagates_quietly() -> None:
    assert np.isnan(sigmoid(np.array([np.nan]))[0])


def test_sigmoid_matches_textbook_formula_where_that_is_safe() -> None:
    # math.exp(-z) raises OverflowError for z < -709.78; stay well inside.
    z = np.linspace(-700.0, 700.0, 2801)
    expected = np.array([_textbook_sigmoid(v) for v in z])
    np.testing.assert_allclose(sigmoid(z), expected, rtol=1e-14, atol=0)


def test_sigmoid_exact_points() -> None:
    assert sigmoid(np.array([0.0]))[0] == 0.5
    # sigmoid(ln 3) = 1 / (1 + 1/3) = 3/4; sigmoid(-ln 3) = 1/4
    np.testing.assert_allclose(sigmoid(np.log([3.0, 1 / 3])), [0.75, 0.25], rtol=1e-15)
    # far left the value is exp(z) itself (1 + exp(-z) == exp(-z) in float64) ...
    np.testing.assert_allclose(sigmoid(np.array([-700.0])), [math.exp(-700.0)], rtol=1e-12)
    # ... until exp(-z) overflows (z < -709.78): then 0, as torch.sigmoid gives there too, where
    # the true value is subnormal (sigmoid(-740) = 4.2e-322).  Pinned, not an accident.
    assert sigmoid(np.array([-709.0]))[0] > 0
    assert np.all(sigmoid(np.array([-710.0, -740.0])) == 0.0)


def test_sigmoid_symmetry() -> None:
    z = np.linspace(-30, 30, 601)
    # 1 - s rounds to the float64 grid near 1, hence an absolute tolerance of one ulp at 1
    np.testing.assert_allclose(sigmoid(-z), 1.0 - sigmoid(z), rtol=0, atol=np.finfo(float).eps)


def _check_derivative_by_central_difference(name: str, z: np.ndarray) -> None:
    act = get_activation(name)
    h = 1e-6
    numeric = (act.forward(z + h) - act.forward(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z, act.forward(z)), numeric, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "identity"])
def test_derivative_matches_central_difference(name: str) -> None:
    z = np.random.default_rng(1).uniform(-6, 6, size=(5, 4))
    _check_derivative_by_central_difference(name, z)


def test_relu_derivative_matches_central_difference_away_from_the_kink() -> None:
    z = np.array([-3.0, -0.5, -1e-3, 1e-3, 0.5, 3.0])
    _check_derivative_by_central_difference("relu", z)


def test_sigmoid_derivative_is_the_textbook_one() -> None:
    act = get_activation("sigmoid")
    z = np.linspace(-20, 20, 81)
    # sigma'(z) = exp(-z) / (1 + exp(-z))**2, written independently of s * (1 - s)
    expected = np.exp(-z) / (1.0 + np.exp(-z)) ** 2
    got = act.derivative(z, act.forward(z))
    # Through the output, 1 - s cancels for large z: the error is absolute (about one ulp of 1),
    # not relative -- the seed's convention, kept on purpose.
    np.testing.assert_allclose(got, expected, rtol=0, atol=2 * np.finfo(float).eps)
    small = np.abs(z) <= 5
    np.testing.assert_allclose(got[small], expected[small], rtol=1e-12, atol=0)
    assert act.derivative(np.array([0.0]), act.forward(np.array([0.0])))[0] == 0.25


def test_relu_values_and_derivative_at_exactly_zero() -> None:
    act = get_activation("relu")
    z = np.array([-2.0, -0.0, 0.0, 3.0])
    a = act.forward(z)
    np.testing.assert_array_equal(a, [0.0, 0.0, 0.0, 3.0])
    # relu'(0) = 0 (torch's convention): gradient flows only where z > 0
    np.testing.assert_array_equal(act.derivative(z, a), [0.0, 0.0, 0.0, 1.0])


def test_tanh_values_and_derivative() -> None:
    act = get_activation("tanh")
    z = np.array([-1e4, -2.0, 0.0, 0.5, 1e4])
    a = act.forward(z)
    expected = [(math.exp(2 * v) - 1) / (math.exp(2 * v) + 1) for v in (-2.0, 0.0, 0.5)]
    np.testing.assert_allclose(a[1:4], expected, rtol=1e-14)
    assert a[0] == -1.0 and a[-1] == 1.0
    # tanh'(z) = 1 / cosh(z)**2
    np.testing.assert_allclose(act.derivative(z, a)[1:4], 1 / np.cosh(z[1:4]) ** 2, rtol=1e-12)
    assert act.derivative(z, a)[2] == 1.0


def test_identity() -> None:
    act = get_activation("identity")
    z = np.array([[-1e300, 0.0, 2.5]])
    np.testing.assert_array_equal(act.forward(z), z)
    np.testing.assert_array_equal(act.derivative(z, act.forward(z)), np.ones_like(z))


def test_every_activation_keeps_the_shape() -> None:
    z = np.linspace(-2, 2, 12).reshape(3, 4)
    for act in ACTIVATIONS.values():
        a = act.forward(z)
        back = act.derivative(z, a) if act.vjp is None else act.vjp(a, z)
        assert a.shape == z.shape and back.shape == z.shape


def test_softmax_has_no_elementwise_derivative() -> None:
    act = get_activation("softmax")
    z = np.zeros((1, 3))
    message = ("softmax has no element-wise derivative: its Jacobian couples the outputs of a "
               "row; use Activation.vjp")
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        act.derivative(z, act.forward(z))


def test_registry_names() -> None:
    assert set(ACTIVATIONS) == {"sigmoid", "tanh", "relu", "identity", "softmax"}
    assert get_activation("sigmoid") is ACTIVATIONS["sigmoid"]
    assert all(act.name == key for key, act in ACTIVATIONS.items())


def test_unknown_activation_names_the_problem() -> None:
    with pytest.raises(ValueError, match=exactly(
            "unknown activation 'softsign'; choose one of sigmoid, tanh, relu, identity, softmax")):
        get_activation("softsign")
