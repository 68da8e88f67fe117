"""What a check at the network's own parameters (``randomize=False``) cannot see.

Random parameters make every value distinct.  A network compared at its own parameters may hold
values under which a wrong network computes the same numbers as a right one:

* **A zero bias, or a weight with one value in every element** (constant, or zero) at every
  compared point: a mistake that shows only through differing values — a bias never
  added, a transposed or mis-indexed weight, a delta through another layer's weights, nothing
  reaching the layers below a zero weight — gives the same numbers.  ``gradients`` compares at
  the starting parameters only; ``train_step`` moves them, so there a parameter counts only
  while it is still constant after the last compared step.
* **A hidden layer whose units are identical** (equal columns of its weight ``W_i`` in the
  ``x @ W`` layout, one bias value, equal rows of ``W_{i+1}``): every unit computes the same,
  and gradient descent keeps them identical (the network is symmetric under permuting them), so
  a mistake that mixes the units of that layer is unseen at every step.

Each is a "not tested" reason, and the verdict cannot be *match*.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from handnet.names import bias_name, weight_name

Array = NDArray[np.floating]

ADVICE = "give the network non-constant initial values, or leave randomize on"


def blind_spots(names: dict[str, str], points: list[list[tuple[Array, Array]]],
                biases: bool) -> list[str]:
    """The reasons a check whose comparisons all ran at ``points`` (each every layer's
    canonical ``(W, b)``) cannot be a match; ``biases``: whether the network has any.
    ``names`` maps canonical names to the user's."""
    constant = []
    for i in range(len(points[0])):
        for name, k in ((weight_name(i), 0), (bias_name(i), 1)):
            values = [p[i][k] for p in points]
            if (k == 0 or biases) and all(_one_value(v, bias=k == 1) for v in values):
                constant.append(f"{names.get(name, name)} ({values[0].flat[0]:g})")
    out = []
    if constant:
        out.append(
            f"{', '.join(constant)}: one value in every element wherever compared "
            "(randomize=False): a mistake that shows only through differing values (a bias "
            "never added, a transposed weight, a delta through another layer's weights) gives "
            f"the same numbers ({ADVICE})")
    for i in range(len(points[0]) - 1):
        if _identical_units(points[0], i):
            n = points[0][i][0].shape[1]
            out.append(
                f"the {n} units of layer {i} ({names.get(weight_name(i), weight_name(i))}) "
                "are identical at the network's own parameters (randomize=False), and training "
                "keeps them so: a mistake that mixes that layer's units (a wrong axis, a "
                f"transposed delta) gives the same numbers ({ADVICE})")
    return out


def _one_value(v: Array, bias: bool) -> bool:
    """A bias that is all zero (never added, it changes nothing); a weight of at least two
    elements, all equal."""
    if bias:
        return v.size > 0 and not np.any(v)
    return v.size >= 2 and bool(np.all(v == v.flat[0]))


def _identical_units(params: list[tuple[Array, Array]], i: int) -> bool:
    W, b = params[i]
    W_next = params[i + 1][0]
    return W.shape[1] >= 2 and bool(np.all(W == W[:, :1])) and bool(np.all(b == b.flat[0])) \
        and bool(np.all(W_next == W_next[:1, :]))
