"""What every optimiser shares: argument checks, the weight/bias groups, mixed-precision products.

Parameters are named like ``handnet.network.Network.parameters`` (``W0, b0, W1, ...``); names
starting with ``b`` are biases.  Like torch with two parameter groups, an optimiser can treat
the biases differently (no weight decay, no momentum) from the weights.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from handnet.names import is_bias

Array = NDArray[np.floating]
__all__ = ["Array", "is_bias", "times", "check_lr_and_decay", "check_eps", "check_gradients",
           "check_same_dtypes", "new_step", "add_decay"]


def times(c: float, a: Array, into: Array) -> Array:
    """``c * a`` in the dtype ``a`` and ``into`` promote to (NumPy alone would round ``c * a``
    to ``a``'s dtype first: float32 for a float32 ``a`` even when it is added to float64)."""
    if a.dtype == into.dtype:
        return c * a
    return np.multiply(a, c, dtype=np.result_type(a, into))


def check_lr_and_decay(lr: float, weight_decay: float) -> None:
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")


def check_eps(eps: float) -> None:
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps}")


def check_gradients(parameters: Mapping[str, Array], gradients: Mapping[str, Array]) -> None:
    """Every parameter has a gradient of its shape; raises ``ValueError`` naming the first that
    does not (called before anything is changed, so a bad call leaves the parameters alone)."""
    for name, p in parameters.items():
        g = gradients.get(name)
        if g is None:
            raise ValueError(f"no gradient for {name}")
        if g.shape != p.shape:
            raise ValueError(f"gradient for {name} has shape {g.shape}, parameter {p.shape}")


def check_same_dtypes(kind: str, parameters: Mapping[str, Array],
                      gradients: Mapping[str, Array]) -> None:
    """torch's Adam, AdamW and centered RMSprop refuse a gradient of another dtype than its
    parameter (their ``lerp_`` needs one dtype: "expected dtype float for `end` but got dtype
    double"); handnet refuses it too, naming the parameter, before changing anything."""
    for name, p in parameters.items():
        g = gradients[name]
        if g.dtype != p.dtype:
            raise ValueError(
                f"{kind}: the gradient for {name} is {g.dtype} but the parameter is {p.dtype}; "
                f"torch's {kind} refuses mixed dtypes too (cast the gradient or the parameter)")


def new_step() -> Array:
    """torch's per-parameter ``state["step"]``: a float32 scalar, 0 before the first step."""
    return np.zeros((), dtype=np.float32)


def add_decay(g: Array, p: Array, weight_decay: float) -> Array:
    """``g + weight_decay * p`` (torch's ``grad.add(param, alpha=weight_decay)``, a new array in
    the promoted dtype); ``g`` itself when the decay is 0."""
    if not weight_decay:
        return g
    return g + times(weight_decay, p, g)
