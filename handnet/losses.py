"""Losses on the network's output ``y_hat`` against targets ``y`` (both shaped (batch, out)).

* ``half-sse``: ``L = 0.5 * sum((y_hat - y)**2)`` summed over the batch (the seed's loss);
  ``dL/dy_hat = y_hat - y``.
* ``mse``: ``L = mean((y_hat - y)**2)`` over every element (torch's ``MSELoss()``);
  ``dL/dy_hat = 2 * (y_hat - y) / N`` with ``N = y.size``.
* ``bce``: binary cross-entropy on probabilities, mean over elements (torch's ``BCELoss()``):
  ``L = -mean(y * log(p) + (1 - y) * log1p(-p))``.  It stays finite at ``p`` in {0, 1}
  exactly as torch does: each log is clamped below at -100, and the derivative
  ``(p - y) / max(p * (1 - p), eps) / N`` divides by at least ``eps``.  torch declares that
  ``eps`` as the C++ ``float`` constant ``1e-12``, i.e. ``float32(1e-12) = 9.99999996e-13``, and
  uses it as such in float64 too; handnet uses the same number, so the two agree to the last bit
  wherever the clamp is active (with the double ``1e-12`` they differed by 4e-9 relative there).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]

BCE_LOG_FLOOR = -100.0
BCE_EPS = float(np.float32(1e-12))  # torch's EPSILON is a C++ float: 9.99999996e-13


class Loss:
    """A loss with ``value(y_hat, y) -> float`` and ``gradient(y_hat, y) -> dL/dy_hat``."""

    def __init__(
        self,
        name: str,
        value: Callable[[Array, Array], float],
        gradient: Callable[[Array, Array], Array],
        per_sample: Callable[[Array, Array], Array],
    ) -> None:
        self.name = name
        self.value = value
        self.gradient = gradient
        self.per_sample = per_sample

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"


def _half_sse(y_hat: Array, y: Array) -> float:
    return float(0.5 * np.sum((y_hat - y) ** 2))


def _half_sse_gradient(y_hat: Array, y: Array) -> Array:
    return y_hat - y


def _half_sse_per_sample(y_hat: Array, y: Array) -> Array:
    return 0.5 * np.sum((y_hat - y) ** 2, axis=1)


def _mse(y_hat: Array, y: Array) -> float:
    return float(np.mean((y_hat - y) ** 2))


def _mse_gradient(y_hat: Array, y: Array) -> Array:
    return 2.0 * (y_hat - y) / y.size


def _mse_per_sample(y_hat: Array, y: Array) -> Array:
    return np.mean((y_hat - y) ** 2, axis=1)


def _bce_elements(p: Array, y: Array) -> Array:
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), BCE_LOG_FLOOR)
        log_q = np.maximum(np.log1p(-p), BCE_LOG_FLOOR)
    return -(y * log_p + (1.0 - y) * log_q)


def _bce(p: Array, y: Array) -> float:
    return float(np.mean(_bce_elements(p, y)))


def _bce_gradient(p: Array, y: Array) -> Array:
    return (p - y) / np.maximum(p * (1.0 - p), BCE_EPS) / y.size


def _bce_per_sample(p: Array, y: Array) -> Array:
    return np.mean(_bce_elements(p, y), axis=1)


LOSSES: dict[str, Loss] = {
    "half-sse": Loss("half-sse", _half_sse, _half_sse_gradient, _half_sse_per_sample),
    "mse": Loss("mse", _mse, _mse_gradient, _mse_per_sample),
    "bce": Loss("bce", _bce, _bce_gradient, _bce_per_sample),
}


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
