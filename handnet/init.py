"""Weight initialisation from a seeded ``numpy.random.Generator`` (never global state).

* ``normal``: ``W ~ N(0, 1)`` (the seed's ``randn``), biases zero.
* ``glorot``: ``W ~ U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``, biases zero.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

INITS = ("normal", "glorot")


def init_weight(
    rng: np.random.Generator, fan_in: int, fan_out: int, scheme: str, dtype: type = np.float64
) -> NDArray[np.floating]:
    """A weight matrix of shape (fan_in, fan_out) drawn by ``scheme``."""
    if scheme == "normal":
        w = rng.standard_normal((fan_in, fan_out))
    elif scheme == "glorot":
        a = np.sqrt(6.0 / (fan_in + fan_out))
        w = rng.uniform(-a, a, size=(fan_in, fan_out))
    else:
        raise ValueError(f"unknown init {scheme!r}; choose one of {', '.join(INITS)}")
    return w.astype(dtype, copy=False)
