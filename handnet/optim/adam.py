"""Adam and AdamW as ``torch.optim.Adam`` / ``torch.optim.AdamW`` compute them (torch 2.13's
single-tensor path, ``maximize=False``).

Per parameter ``p`` with gradient ``g``, state ``m, v`` (zeros, the parameter's dtype) and step
count ``t`` (a float32 scalar, as torch keeps it), one step is::

    t = t + 1
    Adam:   g = g + weight_decay * p                 (L2 penalty: the decay goes through m, v)
    AdamW:  p = p * (1 - lr * weight_decay)          (decoupled: the decay bypasses m, v)
    m = m + (1 - beta1) * (g - m)                    (torch's lerp; = beta1 m + (1 - beta1) g)
    v = beta2 * v + (1 - beta2) * g * g
    bc1 = 1 - beta1 ** t,  bc2 = 1 - beta2 ** t       (bias corrections, Python floats)
    amsgrad: v_max = max(v_max, v) and v_max replaces v below
    denom = sqrt(v) / sqrt(bc2) + eps                (eps OUTSIDE the square root)
    p = p - (lr / bc1) * m / denom

i.e. ``p -= lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / bc1``, ``v_hat = v / bc2``.
On the first step ``m_hat = g`` and ``v_hat = g**2``: every element moves by about ``lr``
(``lr * g / (|g| + eps)``) whatever the gradient's size, unless ``|g|`` is near ``eps``.

Operation order is torch's where it changes the rounding (``(-step_size * m) / denom`` as its
``addcdiv_``; ``lerp`` as ``m + w * (g - m)`` for ``w < 0.5``, else ``g - (g - m) * (1 - w)``);
torch's CPU kernels fuse ``lerp`` and ``addcmul`` into fused multiply-adds, NumPy cannot, so the
two agree to rounding (the tolerance policy), not to the bit.  **Mixed precision**: torch's Adam
refuses a gradient whose dtype is not the parameter's, and so does this one.  With
``bias_decay=False`` the biases get no weight decay (torch: a second parameter group).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from handnet.optim.common import (
    Array,
    check_eps,
    check_gradients,
    check_lr_and_decay,
    check_same_dtypes,
    is_bias,
    new_step,
)


def lerp(start: Array, end: Array, weight: float) -> Array:
    """torch's ``start.lerp(end, weight)`` (without its fused multiply-add)."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


class Adam:
    """``torch.optim.Adam(lr, betas, eps, weight_decay, amsgrad)``; see the module docstring."""

    kind = "Adam"
    decoupled = False

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        bias_decay: bool = True,
    ) -> None:
        check_lr_and_decay(lr, weight_decay)
        check_eps(eps)
        beta1, beta2 = (float(b) for b in betas)
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"betas must each be in [0, 1), got {beta1} and {beta2}")
        self.lr = float(lr)
        self.betas = (beta1, beta2)
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.amsgrad = bool(amsgrad)
        self.bias_decay = bias_decay
        self.state: dict[str, dict[str, Array]] = {}

    def decay_of(self, name: str) -> float:
        """The weight decay of ``name``'s group (0 for biases with ``bias_decay=False``)."""
        return self.weight_decay if self.bias_decay or not is_bias(name) else 0.0

    def _new_state(self, p: Array) -> dict[str, Array]:
        state = {"step": new_step(), "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}
        if self.amsgrad:
            state["max_exp_avg_sq"] = np.zeros_like(p)
        return state

    def step(self, parameters: Mapping[str, Array], gradients: Mapping[str, Array]) -> None:
        """One Adam step on every array in ``parameters``, in place (checked first)."""
        check_gradients(parameters, gradients)
        check_same_dtypes(self.kind, parameters, gradients)
        lr, (beta1, beta2), eps = self.lr, self.betas, self.eps
        for name, p in parameters.items():
            g = gradients[name]
            if name not in self.state:
                self.state[name] = self._new_state(p)
            state = self.state[name]
            state["step"] += np.float32(1)
            t = float(state["step"])
            wd = self.decay_of(name)
            if wd and self.decoupled:
                p *= 1 - lr * wd
            elif wd:
                g = g + wd * p
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m[...] = lerp(m, g, 1 - beta1)
            v *= beta2
            v += (1 - beta2) * g * g
            bias_correction1 = 1 - beta1**t
            bias_correction2 = 1 - beta2**t
            step_size = lr / bias_correction1
            if self.amsgrad:
                np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                v = state["max_exp_avg_sq"]
            denom = np.sqrt(v) / bias_correction2**0.5 + eps
            p += (-step_size * m) / denom


class AdamW(Adam):
    """``torch.optim.AdamW``: Adam with decoupled weight decay, ``p *= 1 - lr * weight_decay``
    before the moments are updated (torch's default ``weight_decay`` is 0.01)."""

    kind = "AdamW"
    decoupled = True

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        bias_decay: bool = True,
    ) -> None:
        super().__init__(lr, betas, eps, weight_decay, amsgrad, bias_decay)
