"""Element-wise activations.

Each activation maps a pre-activation ``z`` to an output ``a = f(z)`` and gives the derivative
``f'(z)`` written through what backprop has at hand.  Sigmoid and tanh use their *outputs*
(``s * (1 - s)`` and ``1 - a**2``), as the seed network does; relu uses the sign of ``z`` with
``relu'(0) = 0`` (torch's convention); identity has derivative 1.  ``derivative`` always
returns a fresh array, which the caller may overwrite (backprop multiplies the upstream
gradient into it in place).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]


class Activation:
    """An activation ``a = f(z)`` with ``derivative(z, a) = f'(z)``."""

    def __init__(
        self,
        name: str,
        forward: Callable[[Array], Array],
        derivative: Callable[[Array, Array], Array],
    ) -> None:
        self.name = name
        self.forward = forward
        self.derivative = derivative

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"


def sigmoid(z: Array) -> Array:
    """The logistic function ``1 / (1 + exp(-z))``, written as the seed and torch write it.

    For ``z < -709`` (float64) ``exp(-z)`` overflows to ``inf`` and the result is ``0``, the
    correctly rounded value to within a subnormal; that overflow is expected and silenced, so
    the function is finite and warning-free on the whole extended real line.  Four passes over
    one fresh array (negate, exp, add 1, reciprocal), no other temporaries.
    """
    s = np.negative(z, out=np.empty_like(z))
    with np.errstate(over="ignore"):
        np.exp(s, out=s)
    s += 1.0
    return np.reciprocal(s, out=s)


def _sigmoid_derivative(z: Array, a: Array) -> Array:
    # sigma'(z) = s * (1 - s), taken through the output s (the seed's convention).
    d = 1.0 - a
    d *= a
    return d


def _tanh_derivative(z: Array, a: Array) -> Array:
    d = a * a
    return np.subtract(1.0, d, out=d)


def relu(z: Array) -> Array:
    return np.maximum(z, 0.0)


def _relu_derivative(z: Array, a: Array) -> Array:
    # relu'(0) = 0, matching torch's threshold_backward (gradient only where z > 0).
    return (z > 0).astype(z.dtype)


def _identity(z: Array) -> Array:
    return z


def _identity_derivative(z: Array, a: Array) -> Array:
    return np.ones_like(z)


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", sigmoid, _sigmoid_derivative),
    "tanh": Activation("tanh", np.tanh, _tanh_derivative),
    "relu": Activation("relu", relu, _relu_derivative),
    "identity": Activation("identity", _identity, _identity_derivative),
}


def get_activation(name: str) -> Activation:
    """Look an activation up by name; unknown names raise ``ValueError`` listing the choices."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}"
        ) from None
