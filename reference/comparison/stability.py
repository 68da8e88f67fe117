"""The stable regime: where the tolerance policy holds, one rule for the suite and the check.

The tolerance policy lets differences between two correct implementations grow linearly with the
steps taken. That holds while the training dynamics do not amplify perturbations. The rule: a second
twin, each of its weights perturbed by ``sqrt(eps)`` relative (:func:`perturbation_size`, far above
rounding, small enough to act linearly), is stepped alongside the twin; a step is in the stable
regime while

    amplification = deviation(twin, probe) / sqrt(eps) <= MAX_AMPLIFICATION = 8

(the policy's margin, C = 256 against about 4 eps per step, leaves room for 8, no more), the
weights stay within the square root of the dtype's range (:func:`check_range`), no relu input
sits within rounding of its kink (:func:`check_kinks`), and — for bce — no
output lies in the loss's denominator clamp, where one rounding of the output decides the
gradient.  The property suite rejects examples that leave the regime
(``reference.comparison.harness.Lockstep``); ``handnet check`` stops comparing there and says so
(``reference.checker.check``).

Beyond the stable regime the property suite rejects the example, but ``handnet check`` cannot
choose its user's learning rate.  It keeps comparing step t with the policy's rtol widened by
the amplification of the steps before it (none for step 1: both sides start from the same
parameters), ``rtol * max(1, amplification / MAX_AMPLIFICATION)``
(:func:`widening`), as long as the widened rtol stays at most :data:`WIDEST_RTOL` (a bug of
0.1 % in an update is still seen); past that it stops, and the verdict cannot be *match*.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray

from reference.comparison.scales import kink_margin
from reference.twin.losses import CLAMPED_LOSSES, TORCH_BCE_CLAMP, bce_denominator
from reference.twin.network import TwinNet

Array = NDArray[np.floating]

MAX_AMPLIFICATION = 8.0
WIDEST_RTOL = 1e-3


class Unstable(Exception):
    """The twin's own training left the stable regime (the module docstring's rules): it
    amplifies perturbations of the weights by more than :data:`MAX_AMPLIFICATION`, a weight
    leaves the square root of the dtype's range, a relu input sits within rounding of its kink,
    or a bce step falls in the loss's denominator clamp."""


def perturbation_size(dtype: np.dtype) -> float:
    """``sqrt(eps)``: far above rounding, small enough for the dynamics to act linearly."""
    return float(np.sqrt(np.finfo(dtype).eps))


def perturb_(model: torch.nn.Module, rel: float, seed: int = 0) -> None:
    """Multiply every weight of ``model`` by ``1 +- rel`` (random signs), in place.

    Relative to each element, not to the array's largest: a weight that is exactly zero stays
    zero, so a unit whose pre-activation is exactly 0 (a dead relu start, a zero-initialised
    layer) keeps it, and the probe measures the training dynamics, not the kink of relu at 0,
    which rounding never crosses there.
    """
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            signs = torch.tensor(rng.choice([-1.0, 1.0], size=tuple(p.shape)), dtype=p.dtype)
            p.mul_(1 + signs * rel)


def deviation(a: dict[str, Array], b: dict[str, Array]) -> float:
    """The largest normwise relative difference over the named arrays (inf if not finite)."""
    worst = 0.0
    for name, x in a.items():
        x64, y64 = np.asarray(x, dtype=np.float64), np.asarray(b[name], dtype=np.float64)
        if not (np.all(np.isfinite(x64)) and np.all(np.isfinite(y64))):
            return float("inf")
        scale = float(np.max(np.abs(x64))) or 1.0
        worst = max(worst, float(np.max(np.abs(x64 - y64))) / scale)
    return worst


def check_range(params: dict[str, Array], dtype: np.dtype, step: int) -> None:
    """Raise :class:`Unstable` when a weight leaves ``|p| <= sqrt(max(dtype))``: past that a
    product of two weights can overflow, and whether one side's value becomes inf while the
    other's stays finite is decided by the order of its roundings."""
    limit = float(np.sqrt(np.finfo(dtype).max))
    for name, value in params.items():
        if not np.all(np.abs(np.asarray(value, dtype=np.float64)) <= limit):
            raise Unstable(f"the twin's {name} leaves |p| <= {limit:.3g} (the square root of "
                           f"{np.dtype(dtype).name}'s range) at step {step}")


def check_kinks(model: TwinNet, x: Array, rtol: float, step: int) -> None:
    """Raise :class:`Unstable` when a relu input lies within ``rtol`` of its own error scale of
    0: differences the policy accepts could put it on either side of the kink, and the two
    sides' gradients then differ by that unit's whole contribution."""
    with np.errstate(all="ignore"):
        margin = kink_margin(model, np.asarray(x, dtype=np.float64))
    if margin <= rtol:
        raise Unstable(f"a relu input lies within rounding of 0 at step {step} (|z| = "
                       f"{margin:.2g} of its error scale), where the two sides may take "
                       "different branches")


def check_bce_clamp(y_hat: torch.Tensor, loss: str, step: int) -> None:
    """Raise :class:`Unstable` when a bce step's output lies in torch's denominator clamp."""
    if loss in CLAMPED_LOSSES and bce_denominator(y_hat) < TORCH_BCE_CLAMP:
        raise Unstable(f"bce's denominator clamp is active at step {step}")


def amplification(after: dict[str, Array], probe: dict[str, Array], delta: float) -> float:
    """How much the probe's initial relative perturbation ``delta`` has grown (inf if not
    finite)."""
    return deviation(after, probe) / delta


def check_amplification(after: dict[str, Array], probe: dict[str, Array], delta: float,
                        step: int) -> float:
    """The amplification after ``step``; :class:`Unstable` beyond :data:`MAX_AMPLIFICATION`."""
    amplification_ = amplification(after, probe, delta)
    if not amplification_ <= MAX_AMPLIFICATION:
        raise Unstable(f"the twin amplifies perturbations {amplification_:.3g}-fold "
                       f"by step {step}")
    return amplification_


def widening(amplification: float) -> float:
    """The factor on the policy's rtol that covers ``amplification``: 1 in the stable regime."""
    return max(1.0, amplification / MAX_AMPLIFICATION)


def comparable(rtol: float, amplification: float) -> bool:
    """Whether a step can still be compared: the widened rtol is at most :data:`WIDEST_RTOL`."""
    return rtol * widening(amplification) <= WIDEST_RTOL
