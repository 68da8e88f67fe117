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

from collections.abc import Iterable

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


class UpdateErrors:
    """The error scale of each update a twin's optimiser takes: the gradients' error scales
    carried through its state by the suite's model for that optimiser (``MomentumErrors`` for
    SGD in either convention, ``AdaptiveScales`` for Adam, AdamW, RMSprop and Adagrad), read
    from the torch optimiser itself (class, groups)."""

    def __init__(self, model: TwinNet, optimizer: torch.optim.Optimizer) -> None:
        self.model, self.optimizer = model, optimizer
        names = model.named_handnet_parameters()
        group_of = {id(p): g for g in optimizer.param_groups for p in g["params"]}
        self.groups = {n: group_of[id(p)] for n, p in names.items() if id(p) in group_of}
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

    def step(self, names: Iterable[str], s_grad: dict[str, Array], before: dict[str, Array],
             lr: float) -> dict[str, float]:
        """The largest update error scale of each of ``names`` for the step just taken (the
        gradients still in ``.grad``, the state the step left), from the gradients' error scales
        ``s_grad`` and the parameters ``before`` the step; ``lr`` the lr it used."""
        if self.momentum is not None:
            return {n: self.momentum.step(n, lr, float(np.max(s_grad[n]))) for n in names}
        assert self.adaptive is not None
        decay = {n: float(g["weight_decay"]) for n, g in self.groups.items()}
        updates = self.adaptive.step_all(handnet_gradients(self.model), s_grad, before,
                                         twin_state(self.optimizer, self.model), decay, lr)
        return {n: float(np.max(updates[n])) for n in names if n in updates}


class TrajectoryErrors:
    """``scales[name]``: the error scale of the twin's parameter ``name`` after the steps seen."""

    def __init__(self, model: TwinNet, optimizer: torch.optim.Optimizer, loss: str) -> None:
        self.model, self.loss = model, loss
        self.updates = UpdateErrors(model, optimizer)
        self.scales: dict[str, float] = {n: 0.0 for n in model.named_handnet_parameters()}
        self._s_grad: dict[str, Array] = {}
        self._before: dict[str, Array] = {}

    def before_step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Called before the twin's step on batch ``(x, y)``: the gradients' error scales."""
        with np.errstate(all="ignore"):
            self._s_grad = update_scales(self.model, x.numpy(), y.numpy(), self.loss)
        self._before = handnet_parameters(self.model)

    def after_step(self, lr: float) -> None:
        """Called after the step (gradients still in ``.grad``), ``lr`` the lr it used."""
        for n, u in self.updates.step(self.scales, self._s_grad, self._before, lr).items():
            self.scales[n] += u
