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
