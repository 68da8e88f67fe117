"""The error scale of SGD's updates through the momentum buffer: the one model for the suite's
harness (``reference.comparison.harness.Lockstep``), the twin's training loop
(``reference.twin.train``) and ``handnet check``.

A step's gradient error scale ``S_t`` (``reference.comparison.scales.update_scales``) enters the
momentum buffer and, through it, every later update, shrunk by ``m`` each step.  With ``C`` the
buffer's error scale in its own convention's units (``handnet.optim.sgd``)::

    classic (lr inside):   C_t = m C_{t-1} + lr_t S_t     update error  C_t            (Nesterov:
                                                                       lr_t S_t + m C_t)
    torch   (lr outside):  C_t = m C_{t-1} + S_t          update error  lr_t C_t       (Nesterov:
                                                                       lr_t (S_t + m C_t))

A parameter momentum skips (``m = 0``, or a bias with ``bias_momentum=False``) has the update
error ``lr_t S_t``.  The update error is exact to first order for every lr sequence; a
parameter's error after ``t`` steps is the sum of its update errors (the ``steps`` of the
tolerance policy covers each addition's own rounding).
"""

from __future__ import annotations

from collections.abc import Callable


class MomentumErrors:
    """Carries ``C`` per parameter name; :meth:`step` returns that step's update error scale."""

    def __init__(self, momentum: float, style: str, nesterov: bool,
                 uses_momentum: Callable[[str], bool]) -> None:
        if style not in ("classic", "torch"):
            raise ValueError(f"unknown momentum style {style!r}")
        self.momentum, self.style, self.nesterov = momentum, style, nesterov
        self.uses_momentum = uses_momentum
        self.buffers: dict[str, float] = {}  # C, for the parameters with a buffer

    def step(self, name: str, lr: float, s_grad: float) -> float:
        """The error scale of ``name``'s update at a step with lr ``lr`` and gradient error
        scale ``s_grad``; advances the buffer's."""
        if not (self.momentum > 0 and self.uses_momentum(name)):
            return lr * s_grad
        m, classic = self.momentum, self.style == "classic"
        c = self.buffers[name] = m * self.buffers.get(name, 0.0) + (lr if classic else 1.0) * s_grad
        if classic:
            return lr * s_grad + m * c if self.nesterov else c
        return lr * (s_grad + m * c) if self.nesterov else lr * c
