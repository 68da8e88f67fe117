"""Losses on the network's output ``y_hat`` against targets ``y`` (both shaped (batch, out)).

``N`` is the batch size (rows), ``n = y.size`` the number of elements (``N * out``).  Every loss
states its reduction, what its ``y_hat`` is (any output, probabilities, logits) and the torch
function its twin (``reference``) uses.

Squared error, ``e = y_hat - y`` -- the four combinations of {sum, mean} x {with 1/2, without}:

* ``half-sse``: ``L = 0.5 * sum(e**2)``, summed over the batch (the seed's loss);
  ``dL/dy_hat = e``.
* ``sse``: ``L = sum(e**2)``; ``dL/dy_hat = 2 * e``.
* ``mse``: ``L = mean(e**2)`` over every element (torch's ``mse_loss``, i.e. ``MSELoss()``);
  ``dL/dy_hat = 2 * e / n``.  (With one output, ``n = N``: the mean over the batch.)
* ``half-mse``: ``L = 0.5 * mean(e**2)`` over every element (the course loss "1/2 (y_hat - y)**2
  averaged"); ``dL/dy_hat = e / n``.

Binary cross-entropy on probabilities ``p = y_hat`` (torch's ``binary_cross_entropy``):

* ``bce``: ``L = -mean(y * log(p) + (1 - y) * log1p(-p))`` over every element; ``bce-sum``: the
  sum.  Both stay finite at ``p`` in {0, 1} exactly as torch does: each log is clamped below at
  -100, and the derivative ``(p - y) / max(p * (1 - p), eps)`` (``/ n`` for the mean) divides by
  at least ``eps``.  torch declares that ``eps`` as the C++ ``float`` constant ``1e-12``, i.e.
  ``float32(1e-12) = 9.99999996e-13``, and uses it as such in float64 too; handnet uses the same
  number (``BCE_EPS``, the only definition), so the two agree to the last bit wherever the clamp
  is active (with the double ``1e-12`` they differed by 4e-9 relative there).

On logits, and the softmax cross-entropies (formulas in ``handnet.cross_entropy``):

* ``bce-logits`` / ``bce-logits-sum``: BCE on logits ``z = y_hat`` (identity output layer), mean
  over every element / sum (``binary_cross_entropy_with_logits``); ``dL/dz = (sigmoid(z) - y)``
  ``/ n`` for the mean.
* ``softmax-ce`` / ``softmax-ce-sum``: softmax cross-entropy on logits (identity output layer,
  K outputs), mean over the **batch** / sum (``cross_entropy``); the fused
  ``dL/dz = (softmax(z) - y) / N`` for one-hot ``y``.
* ``ce`` / ``ce-sum``: cross-entropy on probabilities ``p = y_hat`` from a softmax output layer,
  mean over the batch / sum; ``dL/dp = -y / p`` (``/ N``), the separate path whose softmax
  Jacobian-vector product backprop takes (``handnet.softmax``).

The class losses (``softmax-ce*``, ``ce*``) take one-hot (or probability) rows of K columns, or
class indices of shape (batch,) as ``torch.nn.functional.cross_entropy`` does.

``per_sample`` gives each sample's loss (shape (batch,)) the way the training history reports it:
``value`` is its sum for the summed losses and its mean for the averaged ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from handnet.cross_entropy import (
    bce_logits_core,
    bce_logits_elements,
    ce_core,
    ce_rows,
    softmax_ce_core,
    softmax_ce_rows,
)
from handnet.softmax import class_targets

Array = NDArray[np.floating]

BCE_LOG_FLOOR = -100.0
BCE_EPS = float(np.float32(1e-12))  # torch's EPSILON is a C++ float: 9.99999996e-13

# What a loss takes as y_hat, and the output activation that produces it.
OUTPUT_ACTIVATION = {"outputs": None, "probabilities": "sigmoid", "logits": "identity",
                     "distributions": "softmax"}


@dataclass(frozen=True)
class Loss:
    """A loss with ``value(y_hat, y) -> float`` and ``gradient(y_hat, y) -> dL/dy_hat``.

    ``reduction`` is ``"sum"`` or ``"mean"`` (over every element, or over the batch for the
    class losses); ``takes`` is what ``y_hat`` must be (see ``OUTPUT_ACTIVATION``); ``classes``
    says the targets are class rows (one output per class, index targets accepted); ``torch``
    names the twin's function.
    """

    name: str
    value: Callable[[Array, Array], float]
    gradient: Callable[[Array, Array], Array]
    per_sample: Callable[[Array, Array], Array]
    reduction: str = "mean"
    takes: str = "outputs"
    classes: bool = False
    torch: str = ""

    @property
    def output_activation(self) -> str | None:
        """The output layer's activation this loss is meant for (None: any)."""
        return OUTPUT_ACTIVATION[self.takes]

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"


# --- squared error -----------------------------------------------------------------------------

def _half_sse(y_hat: Array, y: Array) -> float:
    return float(0.5 * np.sum((y_hat - y) ** 2))


def _half_sse_gradient(y_hat: Array, y: Array) -> Array:
    return y_hat - y


def _half_sse_per_sample(y_hat: Array, y: Array) -> Array:
    return 0.5 * np.sum((y_hat - y) ** 2, axis=1)


def _sse(y_hat: Array, y: Array) -> float:
    return float(np.sum((y_hat - y) ** 2))


def _sse_gradient(y_hat: Array, y: Array) -> Array:
    return 2.0 * (y_hat - y)


def _sse_per_sample(y_hat: Array, y: Array) -> Array:
    return np.sum((y_hat - y) ** 2, axis=1)


def _mse(y_hat: Array, y: Array) -> float:
    return float(np.mean((y_hat - y) ** 2))


def _mse_gradient(y_hat: Array, y: Array) -> Array:
    return 2.0 * (y_hat - y) / y.size


def _mse_per_sample(y_hat: Array, y: Array) -> Array:
    return np.mean((y_hat - y) ** 2, axis=1)


def _half_mse(y_hat: Array, y: Array) -> float:
    return float(0.5 * np.mean((y_hat - y) ** 2))


def _half_mse_gradient(y_hat: Array, y: Array) -> Array:
    return (y_hat - y) / y.size


def _half_mse_per_sample(y_hat: Array, y: Array) -> Array:
    return 0.5 * np.mean((y_hat - y) ** 2, axis=1)


# --- binary cross-entropy on probabilities -----------------------------------------------------

def _bce_elements(p: Array, y: Array) -> Array:
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), BCE_LOG_FLOOR)
        log_q = np.maximum(np.log1p(-p), BCE_LOG_FLOOR)
    return -(y * log_p + (1.0 - y) * log_q)


def _bce_core(p: Array, y: Array) -> Array:
    return (p - y) / np.maximum(p * (1.0 - p), BCE_EPS)


def _bce(p: Array, y: Array) -> float:
    return float(np.mean(_bce_elements(p, y)))


def _bce_gradient(p: Array, y: Array) -> Array:
    return (p - y) / np.maximum(p * (1.0 - p), BCE_EPS) / y.size


def _bce_per_sample(p: Array, y: Array) -> Array:
    return np.mean(_bce_elements(p, y), axis=1)


def _bce_sum(p: Array, y: Array) -> float:
    return float(np.sum(_bce_elements(p, y)))


def _bce_sum_per_sample(p: Array, y: Array) -> Array:
    return np.sum(_bce_elements(p, y), axis=1)


# --- binary cross-entropy on logits ------------------------------------------------------------

def _bce_logits(z: Array, y: Array) -> float:
    return float(np.mean(bce_logits_elements(z, y)))


def _bce_logits_gradient(z: Array, y: Array) -> Array:
    return bce_logits_core(z, y) / y.size


def _bce_logits_per_sample(z: Array, y: Array) -> Array:
    return np.mean(bce_logits_elements(z, y), axis=1)


def _bce_logits_sum(z: Array, y: Array) -> float:
    return float(np.sum(bce_logits_elements(z, y)))


def _bce_logits_sum_per_sample(z: Array, y: Array) -> Array:
    return np.sum(bce_logits_elements(z, y), axis=1)


# --- class losses: softmax cross-entropy on logits, cross-entropy on distributions -------------
# (Written out loss by loss rather than built by a factory at import: a mutation tester switches
# mutants on per call, and code that runs only at import would be out of its reach.)

def _rows(p: Array, y: Array) -> Array:
    """Class targets as rows of ``p``'s width and dtype (index targets become one-hot)."""
    return class_targets(y, p.shape[1], p.dtype)


def _softmax_ce_per_sample(z: Array, y: Array) -> Array:
    return softmax_ce_rows(z, _rows(z, y))


def _softmax_ce(z: Array, y: Array) -> float:
    return float(np.sum(_softmax_ce_per_sample(z, y)) / len(z))


def _softmax_ce_gradient(z: Array, y: Array) -> Array:
    return softmax_ce_core(z, _rows(z, y)) / len(z)


def _softmax_ce_sum(z: Array, y: Array) -> float:
    return float(np.sum(_softmax_ce_per_sample(z, y)))


def _softmax_ce_sum_gradient(z: Array, y: Array) -> Array:
    return softmax_ce_core(z, _rows(z, y))


def _ce_per_sample(p: Array, y: Array) -> Array:
    return ce_rows(p, _rows(p, y))


def _ce(p: Array, y: Array) -> float:
    return float(np.sum(_ce_per_sample(p, y)) / len(p))


def _ce_gradient(p: Array, y: Array) -> Array:
    return ce_core(p, _rows(p, y)) / len(p)


def _ce_sum(p: Array, y: Array) -> float:
    return float(np.sum(_ce_per_sample(p, y)))


def _ce_sum_gradient(p: Array, y: Array) -> Array:
    return ce_core(p, _rows(p, y))


LOSSES: dict[str, Loss] = {
    "half-sse": Loss("half-sse", _half_sse, _half_sse_gradient, _half_sse_per_sample,
                     "sum", torch="0.5 * ((y_hat - y)**2).sum()"),
    "sse": Loss("sse", _sse, _sse_gradient, _sse_per_sample, "sum",
                torch="mse_loss(reduction='sum')"),
    "mse": Loss("mse", _mse, _mse_gradient, _mse_per_sample, "mean", torch="mse_loss"),
    "half-mse": Loss("half-mse", _half_mse, _half_mse_gradient, _half_mse_per_sample, "mean",
                     torch="0.5 * mse_loss"),
    "bce": Loss("bce", _bce, _bce_gradient, _bce_per_sample, "mean", "probabilities",
                torch="binary_cross_entropy"),
    "bce-sum": Loss("bce-sum", _bce_sum, _bce_core, _bce_sum_per_sample, "sum", "probabilities",
                    torch="binary_cross_entropy(reduction='sum')"),
    "bce-logits": Loss("bce-logits", _bce_logits, _bce_logits_gradient, _bce_logits_per_sample,
                       "mean", "logits", torch="binary_cross_entropy_with_logits"),
    "bce-logits-sum": Loss("bce-logits-sum", _bce_logits_sum, bce_logits_core,
                           _bce_logits_sum_per_sample, "sum", "logits",
                           torch="binary_cross_entropy_with_logits(reduction='sum')"),
    "softmax-ce": Loss("softmax-ce", _softmax_ce, _softmax_ce_gradient, _softmax_ce_per_sample,
                       "mean", "logits", True, "cross_entropy"),
    "softmax-ce-sum": Loss("softmax-ce-sum", _softmax_ce_sum, _softmax_ce_sum_gradient,
                           _softmax_ce_per_sample, "sum", "logits", True,
                           "cross_entropy(reduction='sum')"),
    "ce": Loss("ce", _ce, _ce_gradient, _ce_per_sample, "mean", "distributions", True,
               "nll_loss(log(p))"),
    "ce-sum": Loss("ce-sum", _ce_sum, _ce_sum_gradient, _ce_per_sample, "sum", "distributions",
                   True, "nll_loss(log(p), reduction='sum')"),
}

# Which losses need a class per output (one-hot or index targets).
CLASS_LOSSES: tuple[str, ...] = tuple(name for name, loss in LOSSES.items() if loss.classes)


def output_problem(loss: str, output_activation: str) -> str | None:
    """Why ``loss`` cannot follow an output layer with ``output_activation`` (None: it can):
    bce takes probabilities, which only a sigmoid output guarantees (the one rule for
    ``handnet train``'s configuration and ``handnet check``'s adapter)."""
    if loss == "bce" and output_activation != "sigmoid":
        return (f"loss 'bce' takes probabilities, but the output layer's activation is "
                f"{output_activation!r}")
    return None


def get_loss(name: str) -> Loss:
    """Look a loss up by name; unknown names raise ``ValueError`` listing the choices."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None


def loss_gradient(name: str, y_hat: Array, y: Array) -> Array:
    """``dL/dy_hat`` of the loss called ``name`` at ``y_hat`` (what backprop starts from)."""
    return get_loss(name).gradient(y_hat, y)
