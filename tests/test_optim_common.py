"""handnet.optim.common.times: a scalar product taken in the dtype the pair promotes to, no wider
(found by mutmut on handnet/optim/common.py: with float32/float64 alone a float64 result cannot
be told from the promoted one; a float16 operand can)."""

import numpy as np
import pytest

from handnet.optim.common import times


@pytest.mark.parametrize(("a_dtype", "into_dtype"), [(np.float16, np.float32),
                                                    (np.float32, np.float16)])
def test_times_is_computed_in_the_promoted_dtype(a_dtype: type, into_dtype: type) -> None:
    a = np.array([0.1, 3.0], dtype=a_dtype)
    into = np.zeros(2, dtype=into_dtype)
    out = times(0.5, a, into)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.multiply(a, 0.5, dtype=np.float32))


def test_times_of_equal_dtypes_stays_in_that_dtype() -> None:
    a = np.array([0.1], dtype=np.float16)
    assert times(0.5, a, np.zeros(1, dtype=np.float16)).dtype == np.float16


def test_sgd_weight_decay_with_a_narrower_gradient_stays_in_the_parameters_dtype() -> None:
    """torch adds ``weight_decay * p`` to a float16 gradient of a float32 parameter in float32
    (the pair's promotion); computed in float64 and rounded once at the end, the step differs
    in the last bit of many elements (mutmut on handnet/optim/sgd.py: the widening of ``p`` to
    ``float64`` survived, as every other test pairs float32 with float64)."""
    from handnet.optim import SGD

    rng = np.random.default_rng(0)
    p32 = rng.standard_normal((8, 8)).astype(np.float32)
    g16 = rng.standard_normal((8, 8)).astype(np.float16)
    lr, wd = 0.1, 0.3
    in32 = p32 - np.float32(lr) * (g16.astype(np.float32) + np.float32(wd) * p32)
    in64 = (p32 - lr * (g16.astype(np.float64) + wd * p32.astype(np.float64))).astype(np.float32)
    assert not np.array_equal(in32, in64)  # the data tell the two apart
    params = {"W0": p32.copy()}
    SGD(lr, weight_decay=wd).step(params, {"W0": g16})
    assert params["W0"].dtype == np.float32
    np.testing.assert_array_equal(params["W0"], in32)
