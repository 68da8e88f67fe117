"""The losses of ``handnet.losses`` written as torch expressions with the same reduction.

* ``half-sse``: ``0.5 * ((y_hat - y)**2).sum()`` (sum over the batch: the seed's loss).
* ``mse``: ``torch.nn.functional.mse_loss`` (mean over every element).
* ``bce``: ``torch.nn.functional.binary_cross_entropy`` (mean over every element); torch clamps
  each log at -100 and divides its derivative by ``max(p * (1 - p), 1e-12)``.

``per_sample`` gives each sample's loss (shape (batch,)) the way handnet's history reports it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

TorchLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# torch's floor on ``p * (1 - p)`` in bce's derivative: the C++ float 1e-12, also in float64.
TORCH_BCE_CLAMP = float(torch.tensor(1e-12, dtype=torch.float32))


def bce_denominator(y_hat: torch.Tensor) -> float:
    """The smallest ``p * (1 - p)`` over the outputs ``y_hat``.

    Below ``TORCH_BCE_CLAMP`` torch's clamp is active: the step is then proportional to
    ``1 - p``, which one rounding of ``p`` (``exp`` is not correctly rounded, on either side)
    moves by ``eps / (1 - p)`` >= 1e-4 relative, far outside the tolerance policy's assumptions.
    """
    p = y_hat.detach()
    return float((p * (1 - p)).min())


def half_sse(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((y_hat - y) ** 2).sum()


def mse(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(y_hat, y)


def bce(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy(y_hat, y)


def _half_sse_per_sample(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((y_hat - y) ** 2).sum(dim=1)


def _mse_per_sample(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(y_hat, y, reduction="none").mean(dim=1)


def _bce_per_sample(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy(y_hat, y, reduction="none").mean(dim=1)


TORCH_LOSSES: dict[str, TorchLoss] = {"half-sse": half_sse, "mse": mse, "bce": bce}
TORCH_PER_SAMPLE: dict[str, TorchLoss] = {
    "half-sse": _half_sse_per_sample, "mse": _mse_per_sample, "bce": _bce_per_sample,
}


def get_torch_loss(name: str) -> TorchLoss:
    """The torch loss for ``name``; unknown names raise ``ValueError`` listing the choices."""
    try:
        return TORCH_LOSSES[name]
    except KeyError:
        raise ValueError(
            f"unknown loss {name!r}; choose one of {', '.join(TORCH_LOSSES)}"
        ) from None


def per_sample(name: str, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each sample's loss under ``name`` (shape (batch,))."""
    get_torch_loss(name)
    return TORCH_PER_SAMPLE[name](y_hat, y)
