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
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]

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
        return self.momentum > 0 and (self.bias_momentum or not name.startswith("b"))

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
        for name, p in parameters.items():
            g = gradients[name]
            if self.weight_decay:
                g = g + self.weight_decay * p
            if not self.uses_momentum(name):
                p -= lr * g
                continue
            # The buffer is created on the first step, then updated in place.
            u = self.buffers.get(name)
            if self.style == "torch":
                if u is None:
                    u = self.buffers[name] = np.array(g, dtype=np.result_type(g, p))
                else:
                    u *= m
                    u += g
                p -= lr * (g + m * u) if self.nesterov else lr * u
            else:
                if u is None:
                    u = self.buffers[name] = lr * g
                else:
                    u *= m
                    u += lr * g
                p -= lr * g + m * u if self.nesterov else u
