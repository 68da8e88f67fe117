"""The comparison module and the tolerance policy: records, tables, and the policy's numbers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from reference.comparison.compare import (
    MismatchError,
    assert_matches_reference,
    compare,
    compare_arrays,
    format_table,
)
from reference.comparison.tolerance import C, fd_tolerance, rtol_constant, tolerance


def test_policy_numbers_follow_from_eps_and_steps() -> None:
    assert C == rtol_constant(5, 128) == 256
    for dtype in (np.float64, np.float32):
        eps = float(np.finfo(dtype).eps)
        assert tolerance(dtype).rtol == C * eps
        assert tolerance(dtype, steps=9).rtol == 10 * C * eps
    assert tolerance(np.float32).rtol / tolerance(np.float64).rtol == 2.0**29
    assert 1e-8 < fd_tolerance().rtol < 1e-7
    with pytest.raises(ValueError, match="float16"):
        tolerance(np.float16)


def test_records_measure_normwise_error_and_point_at_the_worst_element() -> None:
    expected = {"W0": np.array([[1.0, -4.0], [2.0, 0.5]]), "b0": np.zeros((1, 2))}
    actual = {"W0": expected["W0"] + np.array([[0.0, 0.0], [0.0, 1e-3]]), "b0": np.zeros((1, 2))}
    w, b = compare(actual, expected, 1e-6)
    assert (w.name, w.shape, w.worst_index, w.ok) == ("W0", (2, 2), (1, 1), False)
    assert math.isclose(w.max_abs_error, 1e-3, rel_tol=1e-9)
    assert math.isclose(w.max_rel_error, 1e-3 / 4.0, rel_tol=1e-9)
    assert (b.max_abs_error, b.max_rel_error, b.ok) == (0.0, 0.0, True)
    json.dumps([r.to_dict() for r in (w, b)], allow_nan=False)


def test_an_extra_scale_widens_only_its_own_array() -> None:
    expected = {"a": np.array([1e-9]), "b": np.array([1e-9])}
    actual = {"a": np.array([2e-9]), "b": np.array([2e-9])}
    a, b = compare(actual, expected, 1e-6, scales={"a": 1.0})
    assert a.ok and not b.ok


def test_missing_nan_and_shape_mismatches_fail_with_a_note() -> None:
    expected = {"W0": np.ones((2, 2)), "b0": np.ones((1, 2)), "W1": np.ones(3)}
    actual = {"W0": np.array([[1.0, np.nan], [1.0, 1.0]]), "b0": np.ones((2, 1)),
              "extra": np.ones(1)}
    records = {r.name: r for r in compare(actual, expected, 1e-3)}
    assert not any(r.ok for r in records.values())
    assert records["W0"].max_abs_error == math.inf and records["W0"].worst_index == (0, 1)
    assert "shape" in records["b0"].note
    assert "missing" in records["W1"].note and "not in expected" in records["extra"].note
    json.dumps([r.to_dict() for r in records.values()], allow_nan=False)


def test_failure_message_is_a_table_worst_first_naming_the_parameter() -> None:
    rng = np.random.default_rng(0)
    expected = {f"{k}{i}": rng.standard_normal((3, 2)) for i in range(3) for k in "Wb"}
    actual = {k: v.copy() for k, v in expected.items()}
    actual["W1"][2, 1] *= 1.01
    actual["b2"][0, 0] += 1e-9
    with pytest.raises(MismatchError) as info:
        assert_matches_reference(actual, expected, what="gradients")
    message = str(info.value)
    lines = message.strip().splitlines()
    assert "differ from the reference in W1, b2" in lines[0]
    # the worst element of each wrong parameter at full precision, worst first
    assert lines[1].startswith("W1[2, 1]: actual ") and lines[2].startswith("b2[0, 0]: actual ")
    assert f"expected {float(expected['b2'][0, 0])!r}" in lines[2]
    assert lines[3] == ""
    assert lines[4].split()[:5] == ["parameter", "shape", "max", "abs", "err"]
    assert lines[6].startswith("W1 ") and "MISMATCH" in lines[6]
    assert lines[7].startswith("b2 ") and "MISMATCH" in lines[7]
    assert all(line.endswith("ok") for line in lines[8:])
    assert [r.name for r in info.value.records if not r.ok] == ["W1", "b2"]
    assert format_table(info.value.records).count("\n") == len(expected) + 1


def test_matching_arrays_pass_and_return_their_records() -> None:
    expected = {"x": np.linspace(-1, 1, 7)}
    actual = {"x": expected["x"] * (1 + 10 * np.finfo(float).eps)}
    records = assert_matches_reference(actual, expected)
    assert records[0].ok and records[0].max_rel_error > 0


def test_dtypes_are_compared_like_with_like_when_asked() -> None:
    """A float64 result against a float32 expectation is a mismatch even with equal values (its
    values would otherwise always pass float32's tolerance); handnet check's values-only
    comparison (``compare_arrays`` without ``check_dtype``) is unchanged."""
    expected = {"W0": np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3),
                "b0": np.ones((1, 3), dtype=np.float64)}
    actual = {"W0": expected["W0"].astype(np.float64), "b0": np.ones((1, 3), dtype=np.float32)}
    w, b = compare(actual, expected, 1e-6, check_dtype=True)
    assert not w.ok and w.note == "dtype float64 != expected float32" and w.mismatched == 0
    assert not b.ok and b.note == "dtype float32 != expected float64"
    assert (w.dtype, w.expected_dtype) == ("float64", "float32")
    assert all(r.ok for r in compare(actual, expected, 1e-6))
    assert compare_arrays("W0", actual["W0"], expected["W0"], 1e-6).ok
    assert not compare_arrays("W0", actual["W0"], expected["W0"], 1e-6, check_dtype=True).ok
    with pytest.raises(MismatchError) as info:
        assert_matches_reference(actual, expected, what="gradients")
    message = str(info.value)
    assert "MISMATCH (dtype float64 != expected float32)" in message
    assert "MISMATCH (dtype float32 != expected float64)" in message
    assert_matches_reference(actual, expected, check_dtype=False)


def test_records_count_the_elements_over_tolerance_of_the_total() -> None:
    expected = np.arange(1.0, 7.0).reshape(2, 3)  # max |e| = 6: tolerance 6e-6 at rtol 1e-6
    actual = expected.copy()
    actual[0, 1] += 1e-4
    actual[1, 0] -= 5e-4
    actual[1, 2] += 7e-6
    actual[0, 0] += 5e-6  # within tolerance
    record = compare_arrays("W0", actual, expected, 1e-6)
    assert (record.mismatched, record.total, record.worst_index) == (3, 6, (1, 0))
    row = format_table([record]).splitlines()[-1].split()
    assert row[5:7] == ["3/6", "1,0"]
    ok = compare_arrays("W0", expected + 5e-6, expected, 1e-6)
    assert ok.ok and (ok.mismatched, ok.total) == (0, 6)
    nan = compare_arrays("W0", np.full((2, 3), np.nan), expected, 1e-6)
    assert (nan.mismatched, nan.total) == (6, 6)
