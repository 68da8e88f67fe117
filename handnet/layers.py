"""The dense layer: ``z = x @ W + b`` with ``W`` of shape (in, out) and ``b`` of shape (1, out).

Backward, given the upstream gradient ``dz = dL/dz`` of shape (batch, out)::

    dW = x.T @ dz          (in, out)
    db = sum_batch dz      (1, out)
    dx = dz @ W.T          (batch, in)

The layer keeps ``parameters`` and ``gradients`` as dicts keyed ``"W"`` and ``"b"``; it never
changes its own parameters (that is the optimiser's job).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]


class Dense:
    def __init__(self, W: Array, b: Array) -> None:
        if W.ndim != 2:
            raise ValueError(f"W must be 2-D (in, out), got shape {W.shape}")
        if b.shape != (1, W.shape[1]):
            raise ValueError(f"b must have shape (1, {W.shape[1]}), got {b.shape}")
        if b.dtype != W.dtype:
            raise ValueError(f"W and b must share a dtype, got {W.dtype} and {b.dtype}")
        self.parameters: dict[str, Array] = {"W": W, "b": b}
        self.gradients: dict[str, Array] = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self._x: Array | None = None

    @property
    def hyperparameters(self) -> dict[str, int]:
        n_in, n_out = self.parameters["W"].shape
        return {"n_in": n_in, "n_out": n_out}

    def forward(self, x: Array) -> Array:
        self._x = x
        z = x @ self.parameters["W"]
        z += self.parameters["b"]
        return z

    def backward(self, dz: Array) -> Array:
        """Fill ``self.gradients`` from ``dz = dL/dz`` and return ``dL/dx``."""
        self.parameter_gradients(dz)
        return self.input_gradient(dz)

    def parameter_gradients(self, dz: Array) -> None:
        """Fill ``self.gradients`` from ``dz = dL/dz`` (new arrays: earlier ones stay intact)."""
        if self._x is None:
            raise RuntimeError("backward called before forward")
        self.gradients["W"] = self._x.T @ dz
        self.gradients["b"] = dz.sum(axis=0, keepdims=True)

    def input_gradient(self, dz: Array) -> Array:
        """``dL/dx = dz @ W.T``: what the layer below needs, and training skips for the input."""
        return dz @ self.parameters["W"].T
