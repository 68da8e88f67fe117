"""Adagrad as ``torch.optim.Adagrad`` computes it (torch 2.13's single-tensor path, dense).

Per parameter ``p`` with gradient ``g``, state ``s`` (the parameter's dtype, filled with
``initial_accumulator_value``) and a float32 step count ``t``::

    t = t + 1
    g = g + weight_decay * p
    clr = lr / (1 + (t - 1) * lr_decay)      (the first step uses lr itself)
    s = s + g * g
    p = p - clr * g / (sqrt(s) + eps)

Operation order is torch's (``(-clr * g) / std`` as its ``addcdiv_``).  **Mixed precision** as
torch: the sum keeps the parameter's dtype; a gradient of another dtype is added in the
promoted dtype and rounded into it, and the update likewise into the parameter.
``bias_decay=False``: no weight decay on biases.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from handnet.optim.common import (
    Array,
    add_decay,
    check_eps,
    check_gradients,
    check_lr_and_decay,
    is_bias,
    new_step,
)


class Adagrad:
    """``torch.optim.Adagrad(lr, lr_decay, weight_decay, initial_accumulator_value, eps)``."""

    def __init__(
        self,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        bias_decay: bool = True,
    ) -> None:
        check_lr_and_decay(lr, weight_decay)
        check_eps(eps)
        if not lr_decay >= 0:
            raise ValueError(f"lr_decay must be >= 0, got {lr_decay}")
        if not initial_accumulator_value >= 0:
            raise ValueError(f"initial_accumulator_value must be >= 0, "
                             f"got {initial_accumulator_value}")
        self.lr = float(lr)
        self.lr_decay = float(lr_decay)
        self.weight_decay = float(weight_decay)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.eps = float(eps)
        self.bias_decay = bias_decay
        self.state: dict[str, dict[str, Array]] = {}

    def decay_of(self, name: str) -> float:
        """The weight decay of ``name``'s group (0 for biases with ``bias_decay=False``)."""
        return self.weight_decay if self.bias_decay or not is_bias(name) else 0.0

    def step(self, parameters: Mapping[str, Array], gradients: Mapping[str, Array]) -> None:
        """One Adagrad step on every array in ``parameters``, in place (checked first)."""
        check_gradients(parameters, gradients)
        for name, p in parameters.items():
            if name not in self.state:
                self.state[name] = {"step": new_step(),
                                    "sum": np.full_like(p, self.initial_accumulator_value)}
            state = self.state[name]
            state["step"] += np.float32(1)
            t = float(state["step"])
            g = add_decay(gradients[name], p, self.decay_of(name))
            clr = self.lr / (1 + (t - 1) * self.lr_decay)
            state["sum"] += 1 * g * g
            std = np.sqrt(state["sum"]) + self.eps
            p += (-clr * g) / std
