"""The activations of ``handnet.activations`` as torch functions (autograd supplies ``f'``).

torch's own backward rules are the reference: ``sigmoid'`` is ``grad * (1 - s) * s`` through the
output, ``tanh'`` is ``grad * (1 - a**2)``, and ``relu'`` passes the gradient only where
``z > 0`` (so ``relu'(0) = 0``).  ``softmax`` is ``torch.nn.functional.softmax(z, dim=1)`` (row
by row, max-shifted inside torch), whose backward is the full vector-Jacobian product
``s * (g - sum(g * s))``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

TorchActivation = Callable[[torch.Tensor], torch.Tensor]


def _identity(z: torch.Tensor) -> torch.Tensor:
    return z


def _softmax(z: torch.Tensor) -> torch.Tensor:
    return F.softmax(z, dim=1)


TORCH_ACTIVATIONS: dict[str, TorchActivation] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": _identity,
    "softmax": _softmax,
}


def get_torch_activation(name: str) -> TorchActivation:
    """The torch function for activation ``name``; unknown names raise ``ValueError``."""
    try:
        return TORCH_ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of {', '.join(TORCH_ACTIVATIONS)}"
        ) from None
