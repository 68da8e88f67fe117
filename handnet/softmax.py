"""The softmax over each row, its logarithm, its vector-Jacobian product, and class targets.

For logits ``z`` of shape (batch, K), row by row, with the row's maximum ``m = max_k z_k``::

    softmax(z)_j     = exp(z_j - m) / sum_k exp(z_k - m)
    log_softmax(z)_j = (z_j - m) - log(sum_k exp(z_k - m))

Subtracting ``m`` changes nothing mathematically (it cancels between numerator and denominator)
but keeps every ``exp`` in (0, 1]: without it a logit of 1000 overflows ``exp`` to ``inf`` and
the row becomes ``inf / inf = nan``.  The sum is at least 1 (the term of the maximum), so its
``log`` never sees 0 either; ``log_softmax`` is finite for any finite ``z`` where
``log(softmax(z))`` is ``-inf`` as soon as a probability underflows to 0 (a gap of ~745 in
float64, ~104 in float32).

The softmax is not element-wise: every output depends on every logit of its row.  Its Jacobian
is ``ds_j / dz_i = s_j * (delta_ij - s_i)``, so the vector-Jacobian product that backprop needs
for an upstream ``g = dL/ds`` is (also row by row)::

    dL/dz_i = sum_j g_j * s_j * (delta_ij - s_i) = s_i * (g_i - sum_j g_j * s_j)

-- not ``g_i * s_i * (1 - s_i)``, the diagonal alone, which is what a sigmoid-style element-wise
derivative would give.

Targets for K classes are one-hot rows (or any probability rows); ``class_targets`` turns the
index form (shape (batch,), integers 0..K-1, as ``torch.nn.functional.cross_entropy`` takes it)
into that one-hot form.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]


def softmax(z: Array) -> Array:
    """Row-wise softmax with the max shift (finite and silent for any finite ``z``)."""
    e = z - np.max(z, axis=1, keepdims=True)
    np.exp(e, out=e)
    e /= np.sum(e, axis=1, keepdims=True)
    return e


def log_softmax(z: Array) -> Array:
    """Row-wise ``log(softmax(z))`` computed as ``(z - m) - log(sum(exp(z - m)))``."""
    shifted = z - np.max(z, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def softmax_vjp(s: Array, g: Array) -> Array:
    """``dL/dz`` from the softmax output ``s`` and the upstream ``g = dL/ds`` (a fresh array)."""
    return s * (g - np.sum(g * s, axis=1, keepdims=True))


def class_targets(y: NDArray[np.generic], n_classes: int, dtype: np.dtype | type) -> Array:
    """One-hot rows (batch, K) in ``dtype`` from index targets (batch,); float (batch, K)
    targets are returned as they are.  Anything else raises ``ValueError`` naming the shape."""
    y = np.asarray(y)
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"class indices must lie in 0..{n_classes - 1}, got "
                             f"{int(y.min())}..{int(y.max())}")
        out = np.zeros((len(y), n_classes), dtype=dtype)
        out[np.arange(len(y)), y] = 1
        return out
    if y.ndim == 2 and y.shape[1] == n_classes:
        return y  # type: ignore[return-value]  # rows as given (torch takes any float rows)
    raise ValueError(f"targets for {n_classes} classes must be class indices of shape (batch,) "
                     f"or rows of shape (batch, {n_classes}), got shape {y.shape}")
