"""The stable regime's rules (reference.comparison.stability), with hand-chosen numbers."""

import numpy as np
import pytest

from reference.comparison.stability import (
    MAX_AMPLIFICATION,
    WIDEST_RTOL,
    Unstable,
    check_range,
    comparable,
    widening,
)


def test_weights_past_the_square_root_of_the_range_leave_the_regime() -> None:
    # float32's largest value is 3.4028235e38; its square root 1.8446743e19
    check_range({"W0": np.array([[1.8e19, -1.8e19]], dtype=np.float32)}, np.dtype("float32"), 3)
    with pytest.raises(Unstable, match=r"^the twin's W0 leaves \|p\| <= 1\.84e\+19 .* at step 3$"):
        check_range({"W0": np.array([[1.9e19]], dtype=np.float32)}, np.dtype("float32"), 3)
    # float64 allows up to 1.34e154
    check_range({"b1": np.array([[1e150]])}, np.dtype("float64"), 1)
    with pytest.raises(Unstable):
        check_range({"b1": np.array([[np.inf]])}, np.dtype("float64"), 1)


def test_widening_is_one_inside_the_regime_and_amplification_over_eight_beyond() -> None:
    assert MAX_AMPLIFICATION == 8.0
    assert widening(1.0) == 1.0 and widening(8.0) == 1.0
    assert widening(80.0) == 10.0


def test_a_step_is_comparable_while_the_widened_rtol_is_at_most_1e_3() -> None:
    assert WIDEST_RTOL == 1e-3
    assert comparable(1e-6, 8000.0)          # 1e-6 * 1000 = 1e-3
    assert not comparable(1e-6, 8000.0 * 1.01)
