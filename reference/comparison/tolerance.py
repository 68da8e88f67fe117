"""The tolerance policy: one rule, derived from the dtype, for every comparison in the suite.

**The rule.**  An array computed by handnet matches the twin's when, normwise,

    max |actual - expected|  <=  rtol(dtype, steps) * scale

where ``scale`` is ``max |expected|`` plus, for quantities that are ill-conditioned functions of
the forward pass, their first-order error scale from ``reference.comparison.scales`` (sums that
cancel, derivatives through saturated outputs, underflow).  With that scale the remaining difference
between two correct implementations is rounding error of a *well-conditioned* computation, and
``rtol`` only has to bound how rounding errors accumulate:

    rtol(dtype, steps) = C * eps(dtype) * (1 + steps),        C = 2**8 = 256

**Why C = 256 (float64: rtol = 5.7e-14 for one evaluation).**  Each value is at most ``2L = 10``
chained dot products deep (forward and backward through at most 5 layers), each of length
``n <= 128`` (width 64 or batch 128).  Recursive summation of ``n`` terms with independent
rounding errors of at most ``u = eps / 2`` each errs by about ``sqrt(n) * u`` relative to the
terms' 2-norm (the probabilistic bound; the worst case ``n * u`` needs every error to align).
Two independent implementations differ by at most twice that:
``2 * 10 * sqrt(128) * u = 226 u = 113 eps``, rounded up to a power of two with room for the
few-ulp errors of ``exp``/``tanh``/``log`` in either library: ``C = 2**8``.  Measured on 10^4
random cases of the suite's strategies the largest error is about 4 eps: the bound is not
tight, as intended, and a wrong formula (errors of order 1) is still caught by thirteen orders
of magnitude in float64.

**float32 follows from its epsilon** with the same C: ``rtol = 256 * 2**-23 = 3.1e-5``.  Nothing
else changes: the error model counts roundings, and a rounding costs ``eps`` in any format.

**Growth with the number of steps compared.**  A training step recomputes forward, backward and
update from parameters that already carry the previous steps' differences.  Each step adds fresh
rounding error of the size of one evaluation, relative to the update, plus ``u * |p|`` for
``p - update``; earlier differences are carried forward by the update map, which is a mild
contraction or expansion (``|1 - lr * curvature| <= ~1``) in stable training.  So differences
accumulate at most linearly: ``(1 + steps)`` times the one-evaluation budget.  This is
conservative (independent errors add in quadrature, ``sqrt(steps)``) and does not hold for
unstable training, where any two implementations diverge exponentially; the strategies stay in
the stable regime.  Depth and width enter only through ``C`` (``L <= 5``, ``n <= 128``); a
larger network needs a larger ``C`` by the same formula (:func:`rtol_constant`).

**A near match** (``handnet check`` only).  A user's forward pass may differ from the twin's by a
small but systematic relative amount ``f`` (a constant inside an activation, float32 arithmetic
somewhere in a float64 network, another formula for ``exp``): each evaluation then carries an
error of about ``f`` instead of ``eps``, and the same rule applies with ``f`` in the place of
``eps``: ``rtol = C * max(eps, f) * (1 + steps)`` (:func:`near_match_rtol`), for
``f <= NEAR_MATCH_LIMIT = 1e-6`` (an error of 0.2 % in a gradient is still seen after five
steps).  A larger forward difference is a wrong forward pass, and the gradients after it are not
judged.

**Overrides for ports that accept less** (``rtol=``, ``atol=`` of :func:`tolerance`, used by
``reference.assert_network_matches`` and ``reference.check``): ``rtol`` replaces the
one-evaluation budget ``C * eps(dtype)`` and still grows by ``(1 + steps)``; ``atol`` adds an
absolute term, so the test becomes ``max|actual - expected| <= rtol(steps) * scale + atol``.
Nothing else changes: the scale, the error scales and the growth with steps are the policy's.

**Finite differences** (the third oracle) have their own, much larger, error: see
:func:`fd_tolerance`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_DEPTH = 5
MAX_DOT_LENGTH = 128


def rtol_constant(max_depth: int = MAX_DEPTH, max_dot_length: int = MAX_DOT_LENGTH) -> int:
    """``C``: ``2 * 2L * sqrt(n) * u`` in units of eps, rounded up to a power of two, times 2.

    For the suite's limits (depth 5, dot products of length 128) this is ``2**8``.
    """
    in_eps = 2 * (2 * max_depth) * math.sqrt(max_dot_length) / 2  # u = eps / 2
    return int(2 ** (math.ceil(math.log2(in_eps)) + 1))


C = rtol_constant()
NEAR_MATCH_LIMIT = 1e-6


@dataclass(frozen=True)
class Tolerance:
    """A relative tolerance (and an absolute one, 0 unless overridden) and where it came from."""

    rtol: float
    dtype: str
    steps: int
    rule: str = ""
    atol: float = 0.0
    base_rule: str = ""  # one evaluation's budget, as the rule says it ("256 * eps(float64)")

    @property
    def base(self) -> float:
        """One evaluation's rtol (the budget before the growth with steps)."""
        return self.rtol / (1 + self.steps)

    def describe(self) -> str:
        text = f"rtol {self.rtol:.2e} = {self.rule}" if self.rule else f"rtol {self.rtol:.2e}"
        return text + (f", atol {self.atol:.2e}" if self.atol else "")


def _override(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return float(value)


def tolerance(dtype: np.dtype | type | str, steps: int = 0, *, rtol: float | None = None,
              atol: float | None = None) -> Tolerance:
    """The policy's tolerance for results in ``dtype`` after ``steps`` compared steps.

    ``rtol`` (one evaluation's budget, default ``C * eps(dtype)``) and ``atol`` (default 0)
    override the policy for ports that accept less; see the module docstring."""
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"no tolerance policy for dtype {dt}; use float64 or float32")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    base, absolute = _override("rtol", rtol), _override("atol", atol) or 0.0
    base_rule = f"{C} * eps({dt.name})" if base is None else f"{base!r} (given)"
    if base is None:
        base = C * float(np.finfo(dt).eps)
    return Tolerance(base * (1 + steps), dt.name, steps,
                     f"{base_rule} * (1 + {steps} steps)", absolute, base_rule)


def near_match_rtol(dtype: np.dtype | type | str, steps: int, forward_rel: float) -> float:
    """The policy's rtol with the forward's observed relative difference ``forward_rel`` as
    the per-evaluation error when it exceeds ``eps`` (see the module's "near match")."""
    eps = float(np.finfo(np.dtype(dtype)).eps)
    return C * max(eps, forward_rel) * (1 + steps)


def fd_step(theta: float) -> float:
    """The central-difference step for a parameter of value ``theta`` (float64).

    ``h = eps**(1/3) * max(1, |theta|)`` balances the truncation error ``h**2 / 6 * |f'''|``
    against the rounding error ``eps * |f| / h`` of the two function values.
    """
    return float(np.finfo(np.float64).eps ** (1 / 3)) * max(1.0, abs(theta))


def fd_tolerance() -> Tolerance:
    """Central differences in float64 against an exact gradient: ``rtol = 2**10 * eps**(2/3)``.

    With ``h`` from :func:`fd_step` both error terms are about ``eps**(2/3) = 3.7e-11`` times the
    size of ``f'''`` and of ``f``: so the comparison's scale is ``max |f'| + sum |terms of f|``
    (the rounding error of ``f(theta + h) - f(theta - h)`` is relative to the values subtracted,
    not to their difference).  On the small networks the oracle runs on
    (depth <= 3, width <= 4, inputs and weights of order 1) those ratios stay below about
    ``2**10``, giving ``rtol = 3.7e-8``: far below any formula error, far above rounding.
    """
    eps = float(np.finfo(np.float64).eps)
    return Tolerance(2**10 * eps ** (2 / 3), "float64", 0, "2**10 * eps(float64)**(2/3)")
