"""The losses added for issue 12, by hand: the squared-error family, summed BCE, BCE on logits,
softmax cross-entropy (fused) and cross-entropy on softmax probabilities (separate), with index
and one-hot targets, at large logits, and the two softmax paths against each other."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from handnet.losses import BCE_EPS, get_loss, loss_gradient
from handnet.network import Network
from handnet.softmax import softmax, softmax_vjp

# Three samples, one output:  y_hat - y = (-0.5, 1.0, 0.0); squared errors 0.25, 1.0, 0.0
Y_HAT = np.array([[0.5], [1.0], [0.0]])
Y = np.array([[1.0], [0.0], [0.0]])


def test_sse_by_hand() -> None:
    loss = get_loss("sse")
    assert loss.value(Y_HAT, Y) == 1.25  # the sum, no 1/2
    np.testing.assert_array_equal(loss.gradient(Y_HAT, Y), [[-1.0], [2.0], [0.0]])  # 2 e
    np.testing.assert_array_equal(loss.per_sample(Y_HAT, Y), [0.25, 1.0, 0.0])


def test_half_mse_by_hand() -> None:
    loss = get_loss("half-mse")
    assert loss.value(Y_HAT, Y) == pytest.approx(0.5 * 1.25 / 3, rel=1e-15)
    # e / N, N = 3:  -0.5/3, 1/3, 0
    np.testing.assert_allclose(loss.gradient(Y_HAT, Y), [[-1 / 6], [1 / 3], [0.0]], rtol=1e-15)
    np.testing.assert_array_equal(loss.per_sample(Y_HAT, Y), [0.125, 0.5, 0.0])


def test_half_mse_divides_by_every_element() -> None:
    # (2 samples, 2 outputs): errors 1, 0, 0, 3 -> squares sum 10 -> 0.5 * 10 / 4 = 1.25
    y_hat = np.array([[1.0, 0.0], [0.0, 3.0]])
    y = np.zeros((2, 2))
    loss = get_loss("half-mse")
    assert loss.value(y_hat, y) == 1.25
    np.testing.assert_array_equal(loss.gradient(y_hat, y), [[0.25, 0.0], [0.0, 0.75]])  # e / 4


def test_bce_sum_by_hand() -> None:
    loss = get_loss("bce-sum")
    p = np.array([[0.5], [0.8], [0.25]])
    y = np.array([[1.0], [0.0], [0.0]])
    # ln 2 + ln 5 + ln(4/3) = ln(40/3); (p - y) / (p (1 - p)): -0.5/0.25, 0.8/0.16, 0.25/0.1875
    assert loss.value(p, y) == pytest.approx(math.log(40 / 3), rel=1e-14)
    np.testing.assert_allclose(loss.gradient(p, y), [[-2.0], [5.0], [4 / 3]], rtol=1e-14)
    # at the clamp: (0 - 1) / max(0, eps) = -1 / eps, the same constant as the mean's
    np.testing.assert_array_equal(loss.gradient(np.array([[0.0]]), np.array([[1.0]])),
                                  [[-1.0 / BCE_EPS]])


def test_bce_logits_by_hand() -> None:
    loss = get_loss("bce-logits")
    z = np.array([[0.0], [math.log(3)], [-math.log(3)]])  # sigmoid: 1/2, 3/4, 1/4
    y = np.array([[1.0], [0.0], [1.0]])
    # -ln(1/2) = ln 2;  -ln(1 - 3/4) = ln 4;  -ln(1/4) = ln 4  -> mean 5 ln 2 / 3
    assert loss.value(z, y) == pytest.approx(5 * math.log(2) / 3, rel=1e-14)
    # (sigmoid(z) - y) / 3: -1/2, 3/4, -3/4 over 3
    np.testing.assert_allclose(loss.gradient(z, y), [[-1 / 6], [1 / 4], [-1 / 4]], rtol=1e-14)
    assert get_loss("bce-logits-sum").value(z, y) == pytest.approx(5 * math.log(2), rel=1e-14)


def test_bce_logits_is_exact_at_plus_minus_100() -> None:
    """Where sigmoid(100) rounds to 1, the stable form still gives every loss: wrong and sure
    costs 100 (not inf), right and sure costs e^-100 (not 0 * -inf = nan)."""
    z = np.array([[100.0], [-100.0], [100.0], [-100.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    loss = get_loss("bce-logits")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        per = loss.per_sample(z, y)
        g = loss.gradient(z, y)
    tiny = math.exp(-100)  # log1p(e^-100) = e^-100 to double precision
    np.testing.assert_allclose(per, [100.0, 100.0, tiny, tiny], rtol=1e-15)
    assert loss.value(z, y) == 50.0  # (100 + 100 + 2e-44) / 4
    # (sigmoid(z) - y) / 4: (1 - 0), (~0 - 1), (1 - 1), (e^-100 - 0), each over 4
    np.testing.assert_allclose(g, [[0.25], [-0.25], [0.0], [tiny / 4]], rtol=1e-15)


# Two samples, three classes.  Row 0: z = (0, ln 3, 0) -> exp 1, 3, 1 -> softmax (.2, .6, .2);
# row 1: z = (ln 2, 0, ln 2) -> exp 2, 1, 2 -> softmax (.4, .2, .4).  Targets: classes 1 and 2.
Z = np.array([[0.0, math.log(3), 0.0], [math.log(2), 0.0, math.log(2)]])
INDEX = np.array([1, 2])
ONE_HOT = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


@pytest.mark.parametrize("targets", [INDEX, ONE_HOT], ids=["index", "one-hot"])
def test_softmax_ce_by_hand(targets: np.ndarray) -> None:
    loss = get_loss("softmax-ce")
    # -ln .6 = ln(5/3), -ln .4 = ln(5/2); mean over the batch of 2: ln(25/6) / 2
    assert loss.value(Z, targets) == pytest.approx(math.log(25 / 6) / 2, rel=1e-14)
    np.testing.assert_allclose(loss.per_sample(Z, targets), [math.log(5 / 3), math.log(5 / 2)],
                               rtol=1e-14)
    # (softmax - y) / 2: (.2, -.4, .2) / 2 and (.4, .2, -.6) / 2
    expected = [[0.1, -0.2, 0.1], [0.2, 0.1, -0.3]]
    np.testing.assert_allclose(loss.gradient(Z, targets), expected, rtol=1e-14)
    summed = get_loss("softmax-ce-sum")
    assert summed.value(Z, targets) == pytest.approx(math.log(25 / 6), rel=1e-14)
    np.testing.assert_allclose(summed.gradient(Z, targets), 2 * np.array(expected), rtol=1e-14)


def test_softmax_ce_with_soft_targets_keeps_their_sum() -> None:
    # one row z = (0, ln 3, 0), softmax (.2, .6, .2); targets (.5, .5, 0) sum to 1:
    # loss -(.5 ln .2 + .5 ln .6) = .5 ln(25/3);  gradient softmax * 1 - y = (-.3, .1, .2)
    z, y = Z[:1], np.array([[0.5, 0.5, 0.0]])
    loss = get_loss("softmax-ce")
    assert loss.value(z, y) == pytest.approx(0.5 * math.log(25 / 3), rel=1e-14)
    np.testing.assert_allclose(loss.gradient(z, y), [[-0.3, 0.1, 0.2]], rtol=1e-14, atol=1e-16)


def test_softmax_ce_at_logits_of_1000_is_exact_and_silent() -> None:
    """exp(1000) overflows; with the max shift the row is (1, 0, 0) exactly and the loss of the
    wrong class is the logit gap, 1000."""
    z = np.array([[1000.0, 0.0, -1000.0], [1000.0, 0.0, -1000.0]])
    loss = get_loss("softmax-ce")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        per = loss.per_sample(z, np.array([0, 1]))
        g = loss.gradient(z, np.array([0, 1]))
    np.testing.assert_array_equal(per, [0.0, 1000.0])
    np.testing.assert_array_equal(g, [[0.0, 0.0, 0.0], [0.5, -0.5, 0.0]])  # (s - y) / 2


def test_ce_on_probabilities_by_hand() -> None:
    p = softmax(Z)  # (.2, .6, .2) and (.4, .2, .4)
    loss = get_loss("ce")
    assert loss.value(p, INDEX) == pytest.approx(math.log(25 / 6) / 2, rel=1e-14)
    # -y / p / 2: -1 / (.6 * 2) at class 1 of row 0, -1 / (.4 * 2) at class 2 of row 1
    np.testing.assert_allclose(loss.gradient(p, ONE_HOT),
                               [[0.0, -5 / 6, 0.0], [0.0, 0.0, -1.25]], rtol=1e-14)


def test_fused_and_separate_softmax_gradients_agree() -> None:
    """``(softmax(z) - y) / N`` against ``softmax_vjp(s, -y / (N s))``, on random logits and
    soft targets, to rounding (the two orders of operations differ)."""
    rng = np.random.default_rng(12)
    z = rng.normal(scale=3.0, size=(16, 5))
    y = rng.dirichlet(np.ones(5), size=16)
    fused = loss_gradient("softmax-ce", z, y)
    s = softmax(z)
    separate = softmax_vjp(s, loss_gradient("ce", s, y))
    np.testing.assert_allclose(separate, fused, rtol=0, atol=64 * np.finfo(float).eps)
    # ... and the element-wise "derivative" s (1 - s) does not give it
    wrong = s * (1 - s) * loss_gradient("ce", s, y)
    assert np.max(np.abs(wrong - fused)) > 1e-3


def test_networks_on_both_paths_get_the_same_gradients() -> None:
    """identity output + softmax-ce and softmax output + ce: one network, two backward paths."""
    rng = np.random.default_rng(5)
    fused = Network.create([3, 6, 4], ["tanh", "identity"], rng=rng)
    separate = Network([layer for layer in fused.copy().layers], ["tanh", "softmax"])
    x, labels = rng.normal(size=(8, 3)), rng.integers(0, 4, size=8)
    g_fused, dx_fused = fused.backward(loss_gradient("softmax-ce", fused.forward(x), labels))
    g_sep, dx_sep = separate.backward(loss_gradient("ce", separate.forward(x), labels))
    for name in g_fused:
        np.testing.assert_allclose(g_sep[name], g_fused[name], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dx_sep, dx_fused, rtol=1e-12, atol=1e-15)


def test_class_targets_are_checked() -> None:
    loss = get_loss("softmax-ce")
    with pytest.raises(ValueError, match=r"class indices must lie in 0\.\.2"):
        loss.value(Z, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"shape \(batch, 3\)"):
        loss.value(Z, np.ones((2, 2)))
