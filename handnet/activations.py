"""Activations: element-wise ones, and the softmax for an output layer.

Each activation maps a pre-activation ``z`` to an output ``a = f(z)`` and gives the derivative
``f'(z)`` written through what backprop has at hand.  Sigmoid and tanh use their *outputs*
(``s * (1 - s)`` and ``1 - a**2``), as the seed network does; relu uses the sign of ``z`` with
``relu'(0) = 0`` (torch's convention); identity has derivative 1.  ``derivative`` always
returns a fresh array, which the caller may overwrite (backprop multiplies the upstream
gradient into it in place).

``softmax`` (row-wise, with the max shift; ``handnet.softmax``) is not element-wise: it has no
``derivative`` but a ``vjp(a, g)``, the vector-Jacobian product ``a * (g - sum(g * a))`` that
backprop applies instead of ``g * f'(z)``.  It belongs on the output layer (``OUTPUT_ONLY``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from handnet.softmax import softmax, softmax_vjp

Array = NDArray[np.floating]


@dataclass(frozen=True, repr=False)
class Activation:
    """An activation ``a = f(z)`` with ``derivative(z, a) = f'(z)``, or, where the Jacobian is
    not diagonal, ``vjp(a, g) = dL/dz`` from the output ``a`` and ``g = dL/da``.  (A dataclass:
    the registry below is built at import, where a hand-written ``__init__`` would be out of a
    mutation tester's reach.)"""

    name: str
    forward: Callable[[Array], Array]
    derivative: Callable[[Array, Array], Array]
    vjp: Callable[[Array, Array], Array] | None = None

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


def _no_elementwise_derivative(z: Array, a: Array) -> Array:
    raise TypeError("softmax has no element-wise derivative: its Jacobian couples the outputs "
                    "of a row; use Activation.vjp")


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", sigmoid, _sigmoid_derivative),
    "tanh": Activation("tanh", np.tanh, _tanh_derivative),
    "relu": Activation("relu", relu, _relu_derivative),
    "identity": Activation("identity", _identity, _identity_derivative),
    "softmax": Activation("softmax", softmax, _no_elementwise_derivative, softmax_vjp),
}

# Activations that only make sense on the output layer (they normalise a whole row).
OUTPUT_ONLY: tuple[str, ...] = ("softmax",)
ELEMENTWISE: tuple[str, ...] = tuple(name for name in ACTIVATIONS if name not in OUTPUT_ONLY)


def get_activation(name: str) -> Activation:
    """Look an activation up by name; unknown names raise ``ValueError`` listing the choices."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}"
        ) from None
