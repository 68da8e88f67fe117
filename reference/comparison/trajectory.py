"""The error scale of every parameter along a twin's training trajectory.

A parameter after ``t`` updates is ``p_0 - sum_i u_i``.  When the updates are large and the
parameter ends near zero, the sum cancels, and two correct implementations differ by the
rounding of its *terms*, not of its value.  :class:`TrajectoryErrors` watches the twin's loop
(``reference.twin.train.train_epoch``'s ``observer``) and adds up each update's error scale:
the gradient's first-order error scale (``reference.comparison.scales.update_scales``) through
the optimiser -- SGD's momentum buffer by ``reference.comparison.momentum.MomentumErrors``, the
adaptive optimisers' state by ``reference.comparison.adaptive_scales.AdaptiveScales`` -- the same
models ``Lockstep``, ``AdaptiveLockstep`` and ``handnet check`` use, computed from the twin only.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray

from reference.comparison.adaptive_scales import AdaptiveScales
from reference.comparison.momentum import MomentumErrors
from reference.comparison.scales import update_scales
from reference.twin.adaptive import TORCH_CLASSES, twin_state
from reference.twin.network import TwinNet, handnet_gradients, handnet_parameters
from reference.twin.optim import ClassicSGD

Array = NDArray[np.floating]


class TrajectoryErrors:
    """``scales[name]``: the error scale of the twin's parameter ``name`` after the steps seen."""

    def __init__(self, model: TwinNet, optimizer: torch.optim.Optimizer, loss: str) -> None:
        self.model, self.optimizer, self.loss = model, optimizer, loss
        names = model.named_handnet_parameters()
        group_of = {id(p): g for g in optimizer.param_groups for p in g["params"]}
        self.groups = {n: group_of[id(p)] for n, p in names.items()}
        self.scales: dict[str, float] = {n: 0.0 for n in names}
        kind = next((k for k, cls in TORCH_CLASSES.items() if type(optimizer) is cls), None)
        self.adaptive = None if kind is None else AdaptiveScales(kind, optimizer.param_groups[0])
        self.momentum: MomentumErrors | None = None
        if kind is None:
            if not isinstance(optimizer, ClassicSGD | torch.optim.SGD):
                raise ValueError(f"no error model for {type(optimizer).__name__}")
            m = max(g["momentum"] for g in optimizer.param_groups)
            self.momentum = MomentumErrors(
                m, "classic" if isinstance(optimizer, ClassicSGD) else "torch",
                bool(optimizer.param_groups[0]["nesterov"]),
                lambda n: self.groups[n]["momentum"] > 0)
        self._s_grad: dict[str, Array] = {}
        self._before: dict[str, Array] = {}

    def before_step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Called before the twin's step on batch ``(x, y)``: the gradients' error scales."""
        with np.errstate(all="ignore"):
            self._s_grad = update_scales(self.model, x.numpy(), y.numpy(), self.loss)
        self._before = handnet_parameters(self.model)

    def after_step(self, lr: float) -> None:
        """Called after the step (gradients still in ``.grad``), ``lr`` the lr it used."""
        if self.momentum is not None:
            for n, s in self._s_grad.items():
                self.scales[n] += self.momentum.step(n, lr, float(np.max(s)))
            return
        assert self.adaptive is not None
        decay = {n: float(g["weight_decay"]) for n, g in self.groups.items()}
        updates = self.adaptive.step_all(handnet_gradients(self.model), self._s_grad,
                                         self._before, twin_state(self.optimizer, self.model),
                                         decay, lr)
        for n, u in updates.items():
            self.scales[n] += float(np.max(u))
