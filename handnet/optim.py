"""SGD with momentum in both conventions; it only applies gradients it is given.

With ``g`` the gradient (plus ``weight_decay * p`` when weight decay is on), ``m`` the momentum
and ``lr`` the current learning rate, per parameter ``p`` with buffer ``u``:

``style="torch"`` (``torch.optim.SGD``, dampening 0)::

    u = g                  on the first step, else  u = m * u + g
    p -= lr * (g + m * u)  if nesterov  else  p -= lr * u

``style="classic"`` (the seed's; lr inside the buffer)::

    u = m * u + lr * g     (u starts at 0)
    p -= lr * g + m * u    if nesterov  else  p -= u

The two agree while ``lr`` is constant; after ``lr`` changes the classic buffer still carries
velocity scaled by the old ``lr``.  With ``bias_momentum=False`` (the seed) parameters named
``b*`` get plain SGD, ``p -= lr * g``.  ``momentum=0`` is plain SGD for every parameter.

**Mixed precision, as torch does it** (``torch.optim.SGD`` with a parameter's ``grad_dtype`` set,
e.g. float32 parameters with float64 gradients, which handnet produces when a float32 network
is fed float64 data).  A new buffer takes the dtype of ``g`` (torch clones the gradient, after
adding ``weight_decay * p`` in the promoted dtype); an existing buffer keeps its dtype (a float32
buffer stays float32, rounded once per in-place operation); a parameter keeps its dtype and each
update is computed in the promoted dtype and rounded once into it.  Products with a scalar
(``weight_decay * p``, ``lr * u``, ...) are taken in the dtype the sum is made in, as torch's
``add(x, alpha=c)`` does, not rounded to the narrower operand's dtype first.  For equal dtypes all
of this is plain NumPy arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from handnet.names import is_bias

Array = NDArray[np.floating]

STYLES = ("classic", "torch")


def _times(c: float, a: Array, into: Array) -> Array:
    """``c * a`` in the dtype ``a`` and ``into`` promote to (NumPy alone would round ``c * a``
    to ``a``'s dtype first: float32 for a float32 ``a`` even when it is added to float64)."""
    if a.dtype == into.dtype:
        return c * a
    return np.multiply(a, c, dtype=np.result_type(a, into))


class SGD:
    def __init__(
        self,
        lr: float,
        momentum: float = 0.0,
        style: str = "classic",
        bias_momentum: bool = True,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if style not in STYLES:
            raise ValueError(f"unknown momentum style {style!r}; choose classic or torch")
        if nesterov and momentum == 0:
            raise ValueError("nesterov needs a positive momentum")
        if not weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.style = style
        self.bias_momentum = bias_momentum
        self.nesterov = nesterov
        self.weight_decay = float(weight_decay)
        self.buffers: dict[str, Array] = {}

    def uses_momentum(self, name: str) -> bool:
        return self.momentum > 0 and (self.bias_momentum or not is_bias(name))

    def step(self, parameters: Mapping[str, Array], gradients: Mapping[str, Array]) -> None:
        """Update every array in ``parameters`` in place from ``gradients`` (same names).

        Every gradient is checked (present, same shape) before anything is changed, so a bad
        call raises ``ValueError`` and leaves the parameters as they were.
        """
        for name, p in parameters.items():
            g = gradients.get(name)
            if g is None:
                raise ValueError(f"no gradient for {name}")
            if g.shape != p.shape:
                raise ValueError(f"gradient for {name} has shape {g.shape}, parameter {p.shape}")
        lr, m = self.lr, self.momentum
        for name, param in parameters.items():
            g = gradients[name]
            # Weight decay: ``p`` is the parameter, widened when the gradient is wider (torch
            # adds ``weight_decay * p`` in the promoted dtype, NumPy would round it to p's);
            # the decay line stays as mutants/catalogue.toml's weight-decay-decoupled quotes it.
            p = param if g.dtype == param.dtype else param.astype(np.result_type(g, param))
            if self.weight_decay:
                g = g + self.weight_decay * p
            p = param
            if not self.uses_momentum(name):
                p -= _times(lr, g, p)
                continue
            # The buffer is created on the first step (in g's dtype, as torch's clone of the
            # gradient), then updated in place (keeping its own dtype).
            u = self.buffers.get(name)
            if self.style == "torch":
                if u is None:  # integer gradients (never torch's) get a float buffer
                    floating = np.issubdtype(g.dtype, np.floating)
                    u = self.buffers[name] = np.array(g, dtype=None if floating else p.dtype)
                else:
                    u *= m
                    u += g
                p -= _times(lr, g + _times(m, u, g), p) if self.nesterov else _times(lr, u, p)
            else:
                if u is None:
                    u = self.buffers[name] = lr * g
                else:
                    u *= m
                    u += _times(lr, g, u)
                p -= lr * g + m * u if self.nesterov else u
