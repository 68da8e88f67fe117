"""Error scales of the adaptive optimisers' steps (Adam, AdamW, RMSprop, Adagrad).

Same model as ``reference.comparison.scales``: the first-order error each value would carry if
every intermediate value were perturbed by a relative amount of 1 (the tolerance's ``rtol``
then turns it into rounding), computed element-wise from the *twin's* values in float64, with
the gradient's own error scale ``S_g`` (0 when both sides are handed the same gradient).  Per
step, with ``E_x`` the error scale of ``x`` (previous step's carried, own rounding ``|x|``)::

    Adam     E_m = b1 E_m + (1 - b1) S_g + |m|        E_v = b2 E_v + 2 (1 - b2) |g| S_g + |v|
             (amsgrad: E_vmax = max(E_vmax, E_v), used for v)   d = sqrt(v / bc2) + eps
             E_upd = lr / bc1 * (E_m / d + |m| E_v / bc2 / (2 sqrt(v / bc2) d**2)) + |upd|
    RMSprop  E_s = alpha E_s + 2 (1 - alpha) |g| S_g + |s|
             centered: E_a = alpha E_a + (1 - alpha) S_g + |a|,  E_var = E_s + 2 |a| E_a + s + a**2
             (the variance s - a**2 cancels: its error is that of s and a**2, not its own size)
             E_avg = E_var / (2 sqrt(var)) + avg           (avg = sqrt(var) + eps)
             E_q = S_g / avg + |g| E_avg / avg**2 + |q|      (q = g / avg)
             momentum: E_u = mom E_u + E_q + |u|, E_upd = lr E_u; else E_upd = lr E_q
    Adagrad  E_s = E_s + 2 |g| S_g + |s|,  E_std = E_s / (2 sqrt(s)) + std
             E_upd = clr (S_g / std + |g| E_std / std**2) + |upd|

Where a square root's argument is 0 its derivative term is left out (it only happens where the
gradient has been exactly 0 on both sides).  A parameter's error scale is the sum of its update
error scales over the steps (``steps`` in the tolerance covers its own rounding).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def _over_sqrt(num: Array, x: Array) -> Array:
    """``num / (2 sqrt(x))`` where ``x > 0``, else 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, num / (2.0 * np.sqrt(np.where(x > 0, x, 1.0))), 0.0)


class AdaptiveScales:
    """Carries the error scales of one optimiser's state, parameter by parameter."""

    def __init__(self, kind: str, hyper: dict[str, Any]) -> None:
        """``hyper``: the twin's torch parameter group (torch's own values and defaults)."""
        self.kind, self.hyper = kind, hyper
        self.errors: dict[str, dict[str, Array]] = {}

    def step(self, name: str, g: Array, s_g: Array, state: dict[str, Any], lr: float) -> Array:
        """Advance ``name``'s error scales by one step and return its update's error scale.

        ``g`` is the gradient the optimiser used (weight decay included), ``s_g`` its error
        scale, ``state`` the twin's state *after* the step (handnet layout), ``lr`` the lr."""
        g, s_g = np.abs(np.asarray(g, dtype=np.float64)), np.asarray(s_g, dtype=np.float64)
        st = {k: np.abs(np.asarray(v, dtype=np.float64)) for k, v in state.items()}
        e = self.errors.setdefault(name, {})
        zero = np.zeros_like(g)
        if self.kind in ("adam", "adamw"):
            return self._adam(e, g, s_g, st, lr, zero)
        if self.kind == "rmsprop":
            return self._rmsprop(e, g, s_g, st, lr, zero)
        return self._adagrad(e, g, s_g, st, lr, zero)

    def step_all(self, grads: dict[str, Any], s_grad: dict[str, Any], before: dict[str, Any],
                 state: dict[str, dict[str, Any]], decay: dict[str, float], lr: float
                 ) -> dict[str, Array]:
        """:meth:`step` for every parameter with state: ``grads`` the loss gradients,
        ``s_grad`` their error scales, ``before`` the parameters the step started from,
        ``decay`` each one's weight decay (added to the gradient except for AdamW's, which is
        decoupled), ``state`` the twin's after the step.  The update error scales by name."""
        coupled = self.kind != "adamw"
        out = {}
        for name, g in grads.items():
            if name not in state:
                continue
            wd = decay[name] if coupled else 0.0
            p = np.asarray(before[name], dtype=np.float64)
            g64 = np.asarray(g, dtype=np.float64) + wd * p
            s_g = np.asarray(s_grad[name], dtype=np.float64) + wd * np.abs(p)
            out[name] = self.step(name, g64, s_g, state[name], lr)
        return out

    def _adam(self, e: dict[str, Array], g: Array, s_g: Array, st: dict[str, Array],
              lr: float, zero: Array) -> Array:
        b1, b2 = self.hyper["betas"]
        eps = self.hyper["eps"]
        t = float(st["step"])
        m, v = st["exp_avg"], st["exp_avg_sq"]
        e["exp_avg"] = b1 * e.get("exp_avg", zero) + (1 - b1) * s_g + m
        e["exp_avg_sq"] = b2 * e.get("exp_avg_sq", zero) + 2 * (1 - b2) * g * s_g + v
        e_v = e["exp_avg_sq"]
        if "max_exp_avg_sq" in st:
            e["max_exp_avg_sq"] = np.maximum(e.get("max_exp_avg_sq", zero), e_v)
            v, e_v = st["max_exp_avg_sq"], e["max_exp_avg_sq"]
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        d = np.sqrt(v / bc2) + eps
        upd = lr / bc1 * m / d
        return lr / bc1 * (e["exp_avg"] / d + m * _over_sqrt(e_v / bc2, v / bc2) / d**2) + upd

    def _rmsprop(self, e: dict[str, Array], g: Array, s_g: Array, st: dict[str, Array],
                 lr: float, zero: Array) -> Array:
        alpha = self.hyper["alpha"]
        eps = self.hyper["eps"]
        s = st["square_avg"]
        e["square_avg"] = alpha * e.get("square_avg", zero) + 2 * (1 - alpha) * g * s_g + s
        if "grad_avg" in st:
            a = st["grad_avg"]
            e["grad_avg"] = alpha * e.get("grad_avg", zero) + (1 - alpha) * s_g + a
            var = np.maximum(s - a * a, 0.0)
            e_var = e["square_avg"] + 2 * a * e["grad_avg"] + s + a * a
        else:
            var, e_var = s, e["square_avg"]
        avg = np.sqrt(var) + eps
        e_avg = _over_sqrt(e_var, var) + avg
        q = g / avg
        e_q = s_g / avg + g * e_avg / avg**2 + q
        if "momentum_buffer" in st:
            mom = self.hyper["momentum"]
            e_u = mom * e.get("momentum_buffer", zero) + e_q + st["momentum_buffer"]
            e["momentum_buffer"] = e_u
            return lr * e_u
        return lr * e_q

    def _adagrad(self, e: dict[str, Array], g: Array, s_g: Array, st: dict[str, Array],
                 lr: float, zero: Array) -> Array:
        eps = self.hyper["eps"]
        lr_decay = self.hyper["lr_decay"]
        t = float(st["step"])
        clr = lr / (1 + (t - 1) * lr_decay)
        s = st["sum"]
        e["sum"] = e.get("sum", zero) + 2 * g * s_g + s
        std = np.sqrt(s) + eps
        e_std = _over_sqrt(e["sum"], s) + std
        return clr * (s_g / std + g * e_std / std**2 + g / std)
