"""SGD with momentum in both conventions (``torch.optim.SGD`` and the seed's classic rule).

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
``b*`` get plain SGD, ``p -= lr * g``.  ``momentum=0`` is plain SGD for every parameter.  With
``bias_decay=False`` the biases get no weight decay (torch: a second parameter group with
``weight_decay=0``).

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

from handnet.optim.common import Array, check_gradients, check_lr_and_decay, is_bias, times

STYLES = ("classic", "torch")


class SGD:
    def __init__(
        self,
        lr: float,
        momentum: float = 0.0,
        style: str = "classic",
        bias_momentum: bool = True,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        bias_decay: bool = True,
    ) -> None:
        check_lr_and_decay(lr, weight_decay)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if style not in STYLES:
            raise ValueError(f"unknown momentum style {style!r}; choose classic or torch")
        if nesterov and momentum == 0:
            raise ValueError("nesterov needs a positive momentum")
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.style = style
        self.bias_momentum = bias_momentum
        self.nesterov = nesterov
        self.weight_decay = float(weight_decay)
        self.bias_decay = bias_decay
        self.buffers: dict[str, Array] = {}

    def uses_momentum(self, name: str) -> bool:
        return self.momentum > 0 and (self.bias_momentum or not is_bias(name))

    def decay_of(self, name: str) -> float:
        """The weight decay of ``name``'s group (0 for biases with ``bias_decay=False``)."""
        return self.weight_decay if self.bias_decay or not is_bias(name) else 0.0

    def step(self, parameters: Mapping[str, Array], gradients: Mapping[str, Array]) -> None:
        """Update every array in ``parameters`` in place from ``gradients`` (same names).

        Every gradient is checked (present, same shape) before anything is changed, so a bad
        call raises ``ValueError`` and leaves the parameters as they were.
        """
        check_gradients(parameters, gradients)
        lr, m = self.lr, self.momentum
        for name, param in parameters.items():
            g = gradients[name]
            # Weight decay: ``p`` is the parameter, widened when the gradient is wider (torch
            # adds ``weight_decay * p`` in the promoted dtype, NumPy would round it to p's);
            # the decay line stays as planted_bugs/catalogue.toml's weight-decay-decoupled
            # quotes it.
            p = param if g.dtype == param.dtype else param.astype(np.result_type(g, param))
            wd = self.decay_of(name)
            if wd:
                g = g + wd * p
            p = param
            if not self.uses_momentum(name):
                p -= times(lr, g, p)
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
                p -= times(lr, g + times(m, u, g), p) if self.nesterov else times(lr, u, p)
            else:
                if u is None:
                    u = self.buffers[name] = lr * g
                else:
                    u *= m
                    u += times(lr, g, u)
                p -= lr * g + m * u if self.nesterov else u
