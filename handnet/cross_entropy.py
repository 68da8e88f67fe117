"""Cross-entropies on logits, and the one on softmax probabilities (the separate path).

``N`` is the batch size (rows); ``y`` are targets of ``y_hat``'s shape.

**BCE on logits** (``torch.nn.functional.binary_cross_entropy_with_logits``): for a logit ``z``
and a target ``y``, with ``p = sigmoid(z)``::

    l(z, y) = -(y * log p + (1 - y) * log(1 - p)) = max(z, 0) - z * y + log(1 + exp(-|z|))
    dl/dz   = p - y

The right-hand form never forms ``p``: at ``z = 100`` ``p`` rounds to 1 and ``log(1 - p)`` is
``-inf`` (the loss would be ``inf``, or ``nan`` for ``y = 1``), where the stable form gives
``100 * (1 - y) + log1p(e^-100)``.  Reductions: mean over every element (torch's default) or sum.

**Softmax cross-entropy on logits** (``torch.nn.functional.cross_entropy``), each row ``z`` of K
logits against a row ``y`` of class probabilities (one-hot for hard labels)::

    l(z, y) = -sum_j y_j * log_softmax(z)_j
    dl/dz   = softmax(z) * sum_j y_j - y          (= softmax(z) - y for a one-hot row)

Mean over the batch (``/ N``, torch's default; the K classes are summed, not averaged) or sum.
That ``(y_hat - y) / N``, with ``y_hat = softmax(z)``, is the **fused** gradient: the softmax's
Jacobian and the log's ``1 / y_hat`` cancel on paper and are never formed.

**Cross-entropy on probabilities** (``ce``: the **separate** path), for a softmax output layer
``p = softmax(z)``: ``l(p, y) = -sum_j y_j * log p_j``, ``dl/dp = -y / p`` (over ``N`` for the
mean).  Backprop then applies the softmax's vector-Jacobian product (``handnet.softmax``):
``s * (g - sum(g * s))`` with ``g = -y / (N s)`` gives ``(s * sum y - y) / N``, the fused gradient
again, up to rounding.  The twin is ``-(y * torch.log(p)).sum(1)`` (``torch.nn.functional.nll_loss``
of ``log p`` for one-hot rows).  It needs ``p > 0`` wherever ``y > 0``: a probability that
underflows to 0 makes it ``inf``/``nan`` on both sides, which is why training uses the fused loss.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from handnet.activations import sigmoid
from handnet.softmax import log_softmax, softmax

Array = NDArray[np.floating]


def bce_logits_elements(z: Array, y: Array) -> Array:
    """``l(z, y)`` element-wise, in the stable form."""
    return np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))


def bce_logits_core(z: Array, y: Array) -> Array:
    """``dl/dz = sigmoid(z) - y`` element-wise (before the reduction)."""
    return sigmoid(z) - y


def softmax_ce_rows(z: Array, y: Array) -> Array:
    """Each row's ``-sum_j y_j * log_softmax(z)_j`` (shape (batch,))."""
    return -np.sum(y * log_softmax(z), axis=1)


def softmax_ce_core(z: Array, y: Array) -> Array:
    """Each row's ``softmax(z) * sum_j y_j - y`` (before the reduction)."""
    return softmax(z) * np.sum(y, axis=1, keepdims=True) - y


def ce_rows(p: Array, y: Array) -> Array:
    """Each row's ``-sum_j y_j * log p_j`` (shape (batch,))."""
    return -np.sum(y * np.log(p), axis=1)


def ce_core(p: Array, y: Array) -> Array:
    """``dl/dp = -y / p`` element-wise (before the reduction)."""
    return -y / p
