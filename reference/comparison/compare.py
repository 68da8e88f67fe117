"""Compare two sets of named arrays, parameter by parameter, under the tolerance policy.

For each name, with ``a`` the actual array (e.g. handnet's) and ``e`` the expected one (the
twin's)::

    max_abs_error = max |a - e|
    max_rel_error = max_abs_error / (max |e| + s)   (normwise, infinity norm)
    ok            = max_rel_error <= rtol           (rtol from ``reference.comparison.tolerance``)

``s`` is 0 unless the caller passes an error scale for that name (``scales``): the first-order
sensitivity of an ill-conditioned quantity (see ``reference.comparison.scales``).  Each record also
counts the elements over tolerance (``|a_i - e_i| / (max |e| + s) > rtol``, ``mismatched`` of
``total``), as ``torch.testing.assert_close`` reports "Mismatched elements: 3 / 6".

**Like with like.**  Shapes must be equal.  With ``check_dtype=True`` (the equivalence suite's
:func:`assert_matches_reference` default, as ``assert_close``) so must dtypes: a float64 array
against a float32 expectation is a mismatch, noted ``dtype float64 != expected float32``, even if
its values are within tolerance -- the tolerance comes from the expected dtype, so a result
computed in a wider type than intended would otherwise always pass.  :func:`compare_arrays` and
:func:`compare` leave it off by default: ``handnet check`` converts a user's arrays to float64
itself and compares values only.

The error is measured against the scale of the whole array rather than element by element: an
entry that cancels to nearly zero (a gradient summed over a batch of terms of both signs) carries
rounding error of the size of its terms, so its own relative error says nothing about
correctness, while an error of a formula shows up at the scale of the array.  Equal entries
(including equal infinities) count as error 0; a NaN on either side counts as error infinity.
An all-zero ``e`` therefore demands ``a`` be exactly zero.

Records are plain data (``to_dict`` is JSON-able) so that other tools (``handnet check``) can use
them; :func:`assert_matches_reference` raises with a per-parameter table, worst first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from reference.comparison.tolerance import Tolerance, tolerance


@dataclass(frozen=True)
class Record:
    """How one named array compares with its expected value."""

    name: str
    shape: tuple[int, ...]
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...]
    actual_at_worst: float
    expected_at_worst: float
    rtol: float
    ok: bool
    note: str = ""
    mismatched: int = 0  # elements over tolerance ...
    total: int = 0  # ... of this many
    dtype: str = ""  # the actual array's dtype ...
    expected_dtype: str = ""  # ... and the expected one's
    atol: float = 0.0  # an absolute tolerance added to rtol * scale (an override; policy: 0)

    @property
    def score(self) -> float:
        """``max_rel_error / rtol``: at most 1 when ok; how to order records, worst first."""
        if self.max_rel_error == 0:
            return 0.0
        return self.max_rel_error / self.rtol if self.rtol > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-able data (non-finite floats become the strings "inf"/"nan")."""
        d = asdict(self)
        d["shape"] = list(self.shape)
        d["worst_index"] = list(self.worst_index)
        for key, value in d.items():
            if isinstance(value, float) and not math.isfinite(value):
                d[key] = str(value)
        return d


def _as_array(x: ArrayLike) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor, without importing torch here
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def compare_arrays(
    name: str,
    actual: ArrayLike,
    expected: ArrayLike,
    rtol: float,
    extra_scale: float = 0.0,
    *,
    check_dtype: bool = False,
    atol: float = 0.0,
) -> Record:
    """Compare one pair of arrays (see the module docstring for the measure).

    Shapes must be equal; with ``check_dtype`` dtypes too (a dtype mismatch still reports the
    values' errors, so the table shows whether only the dtype is wrong).  ``atol`` (an
    override, ``reference.comparison.tolerance``) relaxes the test to
    ``|a - e| <= rtol * scale + atol``.
    """
    a, e = _as_array(actual), _as_array(expected)
    dt, edt = a.dtype.name, e.dtype.name
    if a.shape != e.shape:
        return Record(name, tuple(e.shape), math.inf, math.inf, (), math.nan, math.nan, rtol,
                      False, f"shape {tuple(a.shape)} != expected {tuple(e.shape)}",
                      dtype=dt, expected_dtype=edt)
    note = ""
    if check_dtype and a.dtype != e.dtype:
        note = f"dtype {a.dtype.name} != expected {e.dtype.name}"
    if a.size == 0:
        return Record(name, tuple(e.shape), 0.0, 0.0, (), 0.0, 0.0, rtol, not note, note,
                      dtype=dt, expected_dtype=edt)
    a64, e64 = a.astype(np.float64).reshape(-1), e.astype(np.float64).reshape(-1)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(a64 - e64)
    err[a64 == e64] = 0.0
    err[np.isnan(err)] = math.inf
    finite_e = np.abs(e64[np.isfinite(e64)])
    scale = (float(finite_e.max()) if finite_e.size else 0.0) + extra_scale
    flat = int(np.argmax(err))
    worst = np.unravel_index(flat, e.shape)
    max_abs = float(err[flat])
    if max_abs == 0:
        rel = 0.0
    elif scale == 0 or not math.isfinite(max_abs):
        rel = math.inf
    else:
        rel = max_abs / scale
    # Element by element the same test as ``rel <= rtol`` (division is monotonic), so
    # ``mismatched == 0`` exactly when the values are ok.
    if atol > 0:
        bound = rtol * scale + atol
        ok = max_abs <= bound
        mismatched = int(np.count_nonzero(err > bound))
    elif scale == 0:
        ok = rel <= rtol
        mismatched = int(np.count_nonzero(err > 0))
    else:
        ok = rel <= rtol
        with np.errstate(over="ignore"):
            mismatched = int(np.count_nonzero(err / scale > rtol))
    return Record(name, tuple(e.shape), max_abs, rel, tuple(int(i) for i in worst),
                  float(a64[flat]), float(e64[flat]), rtol, ok and not note, note,
                  mismatched, int(e.size), dt, edt, atol)


def compare(
    actual: Mapping[str, ArrayLike],
    expected: Mapping[str, ArrayLike],
    tol: Tolerance | float,
    scales: Mapping[str, ArrayLike | float] | None = None,
    *,
    check_dtype: bool = False,
) -> list[Record]:
    """One record per name of ``expected`` (in its order); names missing from ``actual`` fail.

    ``scales`` optionally adds an error scale per name (its maximum is used); ``check_dtype``
    as in :func:`compare_arrays`.
    """
    rtol = tol.rtol if isinstance(tol, Tolerance) else float(tol)
    atol = tol.atol if isinstance(tol, Tolerance) else 0.0
    scales = scales or {}
    records = []
    for name, e in expected.items():
        if name not in actual:
            records.append(Record(name, tuple(np.shape(_as_array(e))), math.inf, math.inf, (),
                                  math.nan, math.nan, rtol, False, "missing from actual"))
            continue
        extra = float(np.max(_as_array(scales[name]))) if name in scales else 0.0
        records.append(compare_arrays(name, actual[name], e, rtol, extra,
                                      check_dtype=check_dtype, atol=atol))
    for name in actual:
        if name not in expected:
            records.append(Record(name, tuple(np.shape(_as_array(actual[name]))), math.inf,
                                  math.inf, (), math.nan, math.nan, rtol, False,
                                  "not in expected"))
    return records


def format_table(records: Sequence[Record], title: str = "") -> str:
    """A readable table of ``records``, worst first.

    ``over tol`` is the number of elements over tolerance of the total (``-`` where no values
    were compared: shapes differ, a name is missing, an array is empty); a dtype or shape
    mismatch is named after the verdict.
    """
    rows = sorted(records, key=lambda r: (r.ok, -r.score))
    header = (f"{'parameter':<12} {'shape':<11} {'max abs err':>11} {'max rel err':>11} "
              f"{'rtol':>8} {'over tol':>11} {'worst at':<10} {'actual':>12} {'expected':>12}"
              "  verdict")
    lines = [title] if title else []
    lines += [header, "-" * len(header)]
    for r in rows:
        shape = "x".join(str(s) for s in r.shape) or "()"
        at = ",".join(str(i) for i in r.worst_index)
        over = f"{r.mismatched}/{r.total}" if r.total else "-"
        verdict = "ok" if r.ok else "MISMATCH"
        if r.note:
            verdict += f" ({r.note})"
        lines.append(
            f"{r.name:<12} {shape:<11} {r.max_abs_error:>11.3e} {r.max_rel_error:>11.3e} "
            f"{r.rtol:>8.1e} {over:>11} {at:<10} {r.actual_at_worst:>12.5g} "
            f"{r.expected_at_worst:>12.5g}  {verdict}"
        )
    return "\n".join(lines)


def describe_worst(r: Record, element: str | None = None) -> str:
    """One line on a record's worst element, at full precision (``repr``: an error of 1e-9 on
    1.0 reads ``1.000000001`` against ``1.0``, never ``1`` against ``1``)."""
    where = element or (f"{r.name}[{', '.join(map(str, r.worst_index))}]" if r.worst_index
                        else r.name)
    if r.note and not r.total:
        return f"{r.name}: {r.note}"
    over = f"{r.mismatched} of {r.total} elements over tolerance"
    tol = f"rtol {r.rtol!r}" + (f", atol {r.atol!r}" if r.atol else "")
    return (f"{where}: actual {r.actual_at_worst!r}, expected {r.expected_at_worst!r} "
            f"(abs error {r.max_abs_error!r}, rel error {r.max_rel_error!r}; {over}; {tol})"
            + (f"; {r.note}" if r.note else ""))


class MismatchError(AssertionError):
    """Raised by :func:`assert_matches_reference`; ``records`` holds every comparison."""

    def __init__(self, message: str, records: list[Record]) -> None:
        super().__init__(message)
        self.records = records


def assert_matches_reference(
    actual: Mapping[str, ArrayLike],
    expected: Mapping[str, ArrayLike],
    *,
    steps: int = 0,
    tol: Tolerance | None = None,
    scales: Mapping[str, ArrayLike | float] | None = None,
    what: str = "",
    check_dtype: bool = True,
) -> list[Record]:
    """Compare ``actual`` with ``expected``; raise :class:`MismatchError` with a table if any fails.

    Without ``tol`` the policy's tolerance for the expected arrays' dtype and ``steps`` is used.
    Dtypes must match unless ``check_dtype=False`` (the policy compares like with like: the
    tolerance is the expected dtype's).  Returns the records when everything matches.
    """
    __tracebackhide__ = True  # pytest: the failure is the caller's line, not this one
    if tol is None:
        dtypes = [_as_array(e).dtype for e in expected.values()]
        dtype = np.float32 if any(d == np.float32 for d in dtypes) else np.float64
        tol = tolerance(dtype, steps)
    records = compare(actual, expected, tol, scales, check_dtype=check_dtype)
    if not all(r.ok for r in records):
        bad = [r.name for r in sorted(records, key=lambda r: -r.score) if not r.ok]
        title = (f"{what or 'arrays'} differ from the reference in {', '.join(bad)} "
                 f"({tol.describe()})")
        worst = [describe_worst(r) for r in sorted(records, key=lambda r: -r.score) if not r.ok]
        raise MismatchError("\n".join([title, *worst, "", format_table(records)]), records)
    return records
