"""The adaptive optimisers' steps for the diagnosis, with one switchable mistake each.

:class:`AdaptiveConfig` is :class:`reference.checker.simulate.OptConfig`'s counterpart for
Adam, AdamW, RMSprop and Adagrad: torch's semantics in float64, written here from the maths
(``docs/optimisers.md``), independently of ``handnet.optim``, so that
:func:`reference.checker.simulate.trajectory` can run a hand-written network's K steps under
the declared optimiser and under each variant a person writes by mistake:

* ``bias_correction=False``: Adam's moments used as they are (``m / (sqrt(v) + eps)``);
* ``eps_inside=True``: ``sqrt(v_hat + eps)`` instead of ``sqrt(v_hat) + eps``;
* ``v_previous=True``: the step divides by the second moment of the previous step (``v``
  read before this step's ``g**2`` goes in: on step 1 only ``eps`` is left);
* ``decoupled``: weight decay applied to the parameter (``p -= lr * wd * p``, AdamW) or added
  to the gradient (``g += wd * p``, Adam); ``None`` is the kind's own;
* ``centered_plus=True``: centered RMSprop's ``sqrt(s + a**2)`` for ``sqrt(s - a**2)``;
* ``alpha_swapped=True``: RMSprop's averages weighted the other way round,
  ``s = (1 - alpha) s + alpha g**2``;
* ``lr_decay_shift=1``: Adagrad's ``lr / (1 + t lr_decay)`` where torch has ``t - 1``;
* ``fresh_state=True``: the state (moments, square averages, step count) started afresh at
  every step, as when the optimiser object is built inside the update: every step is a first
  step (Adam: ``lr * g / (|g| + eps)``, about ``lr * sign(g)``).

Adam (AdamW: decay decoupled), from zero state, step ``t``::

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g**2   (amsgrad: v_max = max(v_max, v))
    p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)

RMSprop: ``s = alpha s + (1 - alpha) g**2`` (centered: ``a = alpha a + (1 - alpha) g``,
``s - a**2``), ``avg = sqrt(.) + eps``, ``p -= lr g / avg`` (momentum: ``u = mom u + g / avg``,
``p -= lr u``).  Adagrad: ``s += g**2``, ``p -= lr / (1 + (t - 1) lr_decay) g / (sqrt(s) + eps)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from handnet.names import is_bias

Array = NDArray[np.floating]
State = dict[str, Any]


@dataclass(frozen=True)
class AdaptiveConfig:
    kind: str  # adam, adamw, rmsprop, adagrad
    lr: float
    weight_decay: float = 0.0
    bias_decay: bool = True
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    amsgrad: bool = False
    alpha: float = 0.99
    centered: bool = False
    momentum: float = 0.0
    lr_decay: float = 0.0
    initial_accumulator_value: float = 0.0
    # the mistakes (see the module docstring)
    bias_correction: bool = True
    eps_inside: bool = False
    v_previous: bool = False
    decoupled: bool | None = None
    centered_plus: bool = False
    alpha_swapped: bool = False
    lr_decay_shift: int = 0
    fresh_state: bool = False

    @classmethod
    def from_groups(cls, kind: str, groups: list[dict[str, Any]]) -> AdaptiveConfig:
        """The declaration as torch resolved it: ``groups`` are the twin optimiser's
        ``param_groups`` (weights, then biases), torch's defaults filled in."""
        g = groups[0]
        keep = {k: g[k] for k in ("betas", "eps", "amsgrad", "alpha", "centered", "momentum",
                                  "lr_decay", "initial_accumulator_value") if k in g}
        if "betas" in keep:
            keep["betas"] = tuple(float(b) for b in keep["betas"])
        wd = float(g["weight_decay"])
        return cls(kind, float(g["lr"]), wd, bias_decay=float(groups[1]["weight_decay"]) == wd,
                   **keep)

    @property
    def is_decoupled(self) -> bool:
        return self.kind == "adamw" if self.decoupled is None else self.decoupled

    def decay_of(self, name: str) -> float:
        return self.weight_decay if self.bias_decay or not is_bias(name) else 0.0

    def update(self, name: str, p: Array, g: Array, lr: float, state: State) -> Array:
        """``p_before - p_after`` of one step of ``name`` (``state`` carried, from empty)."""
        if self.fresh_state:
            state.clear()
        wd = self.decay_of(name)
        decay = lr * wd * p if wd and self.is_decoupled and self.kind in ("adam", "adamw") \
            else 0.0
        if wd and not (self.is_decoupled and self.kind in ("adam", "adamw")):
            g = g + wd * p
        if self.kind in ("adam", "adamw"):
            u = self._adam(g, lr, state)
        elif self.kind == "rmsprop":
            u = self._rmsprop(g, lr, state)
        else:
            u = self._adagrad(g, lr, state)
        return u + decay

    def _adam(self, g: Array, lr: float, st: State) -> Array:
        b1, b2 = self.betas
        t = st["t"] = st.get("t", 0) + 1
        zero = np.zeros_like(g)
        m = st["m"] = b1 * st.get("m", zero) + (1 - b1) * g
        v_old = st.get("v", zero)
        v = st["v"] = b2 * v_old + (1 - b2) * g * g
        used = v_old if self.v_previous else v
        if self.amsgrad:
            used = st["vmax"] = np.maximum(st.get("vmax", zero), used)
        bc1, bc2 = (1 - b1**t, 1 - b2**t) if self.bias_correction else (1.0, 1.0)
        denom = np.sqrt(used / bc2 + self.eps) if self.eps_inside else \
            np.sqrt(used) / np.sqrt(bc2) + self.eps
        result: Array = lr / bc1 * m / denom
        return result

    def _rmsprop(self, g: Array, lr: float, st: State) -> Array:
        keep, new = (1 - self.alpha, self.alpha) if self.alpha_swapped else \
            (self.alpha, 1 - self.alpha)
        zero = np.zeros_like(g)
        s = st["s"] = keep * st.get("s", zero) + new * g * g
        if self.centered:
            a = st["a"] = keep * st.get("a", zero) + new * g
            var = s + a * a if self.centered_plus else s - a * a
            avg = np.sqrt(np.maximum(var, 0.0)) + self.eps
        else:
            avg = np.sqrt(s) + self.eps
        if self.momentum > 0:
            u = st["u"] = self.momentum * st.get("u", zero) + g / avg
            result: Array = lr * u
            return result
        result = lr * g / avg
        return result

    def _adagrad(self, g: Array, lr: float, st: State) -> Array:
        t = st["t"] = st.get("t", 0) + 1
        s = st["s"] = st.get("s", np.full_like(g, self.initial_accumulator_value)) + g * g
        clr = lr / (1 + (t - 1 + self.lr_decay_shift) * self.lr_decay)
        result: Array = clr * g / (np.sqrt(s) + self.eps)
        return result


def first_updates(cfg: AdaptiveConfig, params: dict[str, Array], grads: dict[str, Array],
                  lr: float) -> dict[str, Array]:
    """The first step's update of every parameter from fresh state, divided by ``lr``."""
    return {n: cfg.update(n, params[n], g, lr, {}) / lr for n, g in grads.items()}
