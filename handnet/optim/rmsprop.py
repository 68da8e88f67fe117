"""RMSprop as ``torch.optim.RMSprop`` computes it (torch 2.13's single-tensor path).

Per parameter ``p`` with gradient ``g`` and state (the parameter's dtype) ``s`` (square
average, zeros), ``a`` (gradient average, zeros, only when ``centered``), ``u`` (momentum
buffer, zeros, only when ``momentum > 0``) and a float32 step count::

    g = g + weight_decay * p
    s = alpha * s + (1 - alpha) * g * g
    centered:  a = a + (1 - alpha) * (g - a)         (torch's lerp)
               avg = sqrt(s - a * a) + eps           (the variance: MINUS the squared mean)
    else:      avg = sqrt(s) + eps
    momentum:  u = momentum * u + g / avg;  p = p - lr * u
    else:      p = p - lr * g / avg

Note ``eps`` is added after the square root and ``alpha`` weighs the *old* average (torch's
default 0.99), and there is no bias correction.  Operation order is torch's (``(-lr * g) / avg``
as its ``addcdiv_``).  **Mixed precision** as torch: the state keeps the parameter's dtype; a
gradient of another dtype meets it in each in-place operation in the promoted dtype and the
result is rounded into the state's (or the parameter's) dtype; torch's centered RMSprop
refuses mixed dtypes (its ``lerp_``), and so does this one.  ``bias_decay=False``: no weight
decay on biases.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from handnet.optim.adam import lerp
from handnet.optim.common import (
    Array,
    add_decay,
    check_eps,
    check_gradients,
    check_lr_and_decay,
    check_same_dtypes,
    is_bias,
    new_step,
)


class RMSprop:
    """``torch.optim.RMSprop(lr, alpha, eps, weight_decay, momentum, centered)``."""

    def __init__(
        self,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        bias_decay: bool = True,
    ) -> None:
        check_lr_and_decay(lr, weight_decay)
        check_eps(eps)
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.lr = float(lr)
        self.alpha = float(alpha)
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.momentum = float(momentum)
        self.centered = bool(centered)
        self.bias_decay = bias_decay
        self.state: dict[str, dict[str, Array]] = {}

    def decay_of(self, name: str) -> float:
        """The weight decay of ``name``'s group (0 for biases with ``bias_decay=False``)."""
        return self.weight_decay if self.bias_decay or not is_bias(name) else 0.0

    def _new_state(self, p: Array) -> dict[str, Array]:
        state = {"step": new_step(), "square_avg": np.zeros_like(p)}
        if self.momentum > 0:
            state["momentum_buffer"] = np.zeros_like(p)
        if self.centered:
            state["grad_avg"] = np.zeros_like(p)
        return state

    def step(self, parameters: Mapping[str, Array], gradients: Mapping[str, Array]) -> None:
        """One RMSprop step on every array in ``parameters``, in place (checked first)."""
        check_gradients(parameters, gradients)
        if self.centered:
            check_same_dtypes("RMSprop (centered)", parameters, gradients)
        lr, alpha = self.lr, self.alpha
        for name, p in parameters.items():
            if name not in self.state:
                self.state[name] = self._new_state(p)
            state = self.state[name]
            state["step"] += np.float32(1)
            g = add_decay(gradients[name], p, self.decay_of(name))
            square_avg = state["square_avg"]
            square_avg *= alpha
            square_avg += (1 - alpha) * g * g
            if self.centered:
                grad_avg = state["grad_avg"]
                grad_avg[...] = lerp(grad_avg, g, 1 - alpha)
                avg = np.sqrt(square_avg + -1 * grad_avg * grad_avg)
            else:
                avg = np.sqrt(square_avg)
            avg += self.eps
            if self.momentum > 0:
                buf = state["momentum_buffer"]
                buf *= self.momentum
                buf += g / avg
                p += -lr * buf
            else:
                p += (-lr * g) / avg
