"""The losses of ``handnet.losses`` written as torch expressions with the same reduction.

Squared error (``e = y_hat - y``):

* ``half-sse``: ``0.5 * (e**2).sum()`` (sum over the batch: the seed's loss).
* ``sse``: ``F.mse_loss(y_hat, y, reduction="sum")``.
* ``mse``: ``F.mse_loss`` (mean over every element); ``half-mse``: ``0.5 * F.mse_loss``.

Cross-entropies:

* ``bce`` / ``bce-sum``: ``F.binary_cross_entropy`` (mean over every element / sum); torch clamps
  each log at -100 and divides its derivative by ``max(p * (1 - p), 1e-12)``.
* ``bce-logits`` / ``bce-logits-sum``: ``F.binary_cross_entropy_with_logits``.
* ``softmax-ce`` / ``softmax-ce-sum``: ``F.cross_entropy`` on logits, with class-probability rows
  (float, one-hot for hard labels) or class indices (``torch.long``, shape (batch,)) as targets;
  the mean is over the batch.
* ``ce`` / ``ce-sum``: cross-entropy on softmax probabilities ``p`` (the separate path):
  ``F.nll_loss(torch.log(p), index)`` for class indices, ``-(y * torch.log(p)).sum(1)`` summed or
  averaged over the batch for rows.  Autograd then takes the softmax's own backward.

``per_sample`` gives each sample's loss (shape (batch,)) the way handnet's history reports it:
``reduction="none"``, then the row's sum (summed losses) or mean (averaged ones).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

TorchLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# torch's floor on ``p * (1 - p)`` in bce's derivative: the C++ float 1e-12, also in float64.
TORCH_BCE_CLAMP = float(torch.tensor(1e-12, dtype=torch.float32))
# The losses whose derivative has that clamp (they take probabilities through a log).
CLAMPED_LOSSES = ("bce", "bce-sum")


def bce_denominator(y_hat: torch.Tensor) -> float:
    """The smallest ``p * (1 - p)`` over the outputs ``y_hat``.

    Below ``TORCH_BCE_CLAMP`` torch's clamp is active: the step is then proportional to
    ``1 - p``, which one rounding of ``p`` (``exp`` is not correctly rounded, on either side)
    moves by ``eps / (1 - p)`` >= 1e-4 relative, far outside the tolerance policy's assumptions.
    """
    p = y_hat.detach()
    return float((p * (1 - p)).min())


def _is_index(y: torch.Tensor) -> bool:
    return y.dim() == 1 and not torch.is_floating_point(y)


def half_sse(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((y_hat - y) ** 2).sum()


def mse(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(y_hat, y)


def bce(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy(y_hat, y)


def _ce_rows(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each sample's ``-sum_j y_j log p_j`` (index targets pick their class's log)."""
    if _is_index(y):
        return F.nll_loss(torch.log(p), y, reduction="none")
    return -(y * torch.log(p)).sum(dim=1)


def _none(name: str, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The loss ``name`` with ``reduction="none"``: per element, or per row for class losses."""
    base = name.removesuffix("-sum")
    if base in ("half-sse", "sse", "mse", "half-mse"):
        half = 0.5 if base.startswith("half") else 1.0
        return half * F.mse_loss(y_hat, y, reduction="none")
    if base == "bce":
        return F.binary_cross_entropy(y_hat, y, reduction="none")
    if base == "bce-logits":
        return F.binary_cross_entropy_with_logits(y_hat, y, reduction="none")
    if base == "softmax-ce":
        return F.cross_entropy(y_hat, y, reduction="none")
    return _ce_rows(y_hat, y)


def _reduced(name: str) -> TorchLoss:
    """The twin of loss ``name``: torch's own reduction where torch has the loss."""
    if name == "sse":
        return lambda p, y: F.mse_loss(p, y, reduction="sum")
    if name == "half-mse":
        return lambda p, y: 0.5 * F.mse_loss(p, y)
    if name == "bce-sum":
        return lambda p, y: F.binary_cross_entropy(p, y, reduction="sum")
    if name in ("bce-logits", "bce-logits-sum"):
        reduction = "sum" if name.endswith("-sum") else "mean"
        return lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction=reduction)
    if name in ("softmax-ce", "softmax-ce-sum"):
        reduction = "sum" if name.endswith("-sum") else "mean"
        return lambda z, y: F.cross_entropy(z, y, reduction=reduction)
    if name == "ce-sum":
        return lambda p, y: _ce_rows(p, y).sum()
    return lambda p, y: _ce_rows(p, y).mean()  # "ce"


TORCH_LOSSES: dict[str, TorchLoss] = {
    "half-sse": half_sse, "sse": _reduced("sse"), "mse": mse, "half-mse": _reduced("half-mse"),
    "bce": bce, "bce-sum": _reduced("bce-sum"),
    **{name: _reduced(name) for name in ("bce-logits", "bce-logits-sum", "softmax-ce",
                                         "softmax-ce-sum", "ce", "ce-sum")},
}
SUMMED = ("half-sse", "sse", "bce-sum", "bce-logits-sum", "softmax-ce-sum", "ce-sum")
ROW_LOSSES = ("softmax-ce", "softmax-ce-sum", "ce", "ce-sum")  # reduction="none" gives rows


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
    values = _none(name, y_hat, y)
    if name in ROW_LOSSES:
        return values
    return values.sum(dim=1) if name in SUMMED else values.mean(dim=1)
