"""handnet's adaptive optimisers and torch's, side by side on a network, compared at any step.

:class:`AdaptiveLockstep` is :class:`reference.comparison.harness.Lockstep` for Adam, AdamW,
RMSprop and Adagrad: the twin's optimiser is built from the *declaration*
(:class:`reference.comparison.strategies.AdaptiveSpec`, through
:func:`reference.twin.adaptive.make_adaptive`), handnet's from the same declaration by its own
classes; a perturbed twin measures the dynamics' amplification (``Unstable`` past
``reference.comparison.stability``'s limit), and the error scales of parameters and state
follow ``reference.comparison.adaptive_scales`` with the gradients' own error scales
(``reference.comparison.scales.update_scales``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from handnet.names import is_bias
from handnet.network import Network
from handnet.optim import SGD
from reference.comparison.adaptive_scales import AdaptiveScales
from reference.comparison.harness import _tensor, handnet_step, twin_step
from reference.comparison.scales import update_scales
from reference.comparison.stability import (
    check_amplification,
    check_bce_clamp,
    perturb_,
    perturbation_size,
)
from reference.comparison.strategies import AdaptiveSpec
from reference.twin.adaptive import make_adaptive, twin_state
from reference.twin.network import handnet_gradients, handnet_parameters, to_torch

Array = NDArray[Any]


def flatten(state: dict[str, dict[str, Any]]) -> dict[str, Array]:
    """``{"W0": {"exp_avg": a}}`` -> ``{"W0.exp_avg": a}`` (0-d arrays for ``step``)."""
    return {f"{n}.{k}": np.asarray(v) for n, entries in state.items() for k, v in entries.items()}


class AdaptiveLockstep:
    """handnet's optimiser for ``spec`` on ``net`` and torch's on its twin, step by step."""

    def __init__(self, net: Network, spec: AdaptiveSpec, loss: str) -> None:
        self.net, self.spec, self.loss = net, spec, loss
        self.opt = spec.build()
        self.model, self.probe = to_torch(net), to_torch(net)
        self.delta = perturbation_size(net.dtype)
        perturb_(self.probe, self.delta)
        self.twin_opt, self.probe_opt = (
            make_adaptive(m, spec.kind, spec.lr, spec.weight_decay, spec.bias_decay,
                          **dict(spec.hyper)) for m in (self.model, self.probe))
        groups = self.twin_opt.param_groups
        self.errors = AdaptiveScales(spec.kind, groups[0])
        self.decay = {n: groups[1 if is_bias(n) else 0]["weight_decay"]
                      for n in net.parameters}
        self.steps = 0
        self.scales: dict[str, float] = {name: 0.0 for name in net.parameters}

    def step(self, x: Array, y: Array) -> None:
        s_grad = update_scales(self.model, x, y, self.loss)
        before = handnet_parameters(self.model)
        with torch.no_grad():
            check_bce_clamp(self.model(_tensor(self.model, x)), self.loss, self.steps + 1)
        after = twin_step(self.model, self.twin_opt, x, y, self.loss)
        probe = twin_step(self.probe, self.probe_opt, x, y, self.loss)
        check_amplification(after, probe, self.delta, self.steps + 1)
        handnet_step(self.net, self.opt, x, y, self.loss)
        self.steps += 1
        grads, state = handnet_gradients(self.model), twin_state(self.twin_opt, self.model)
        scales = self.errors.step_all(grads, s_grad, before, state, self.decay, self.spec.lr)
        for name, u in scales.items():
            self.scales[name] += float(np.max(u))

    def parameters(self) -> tuple[dict[str, Array], dict[str, Array]]:
        """``(handnet's, twin's)`` parameters in handnet's layout."""
        return ({k: v.copy() for k, v in self.net.parameters.items()},
                handnet_parameters(self.model))

    def state(self) -> tuple[dict[str, Array], dict[str, Array], dict[str, float]]:
        """``(handnet's, twin's, error scales)`` optimiser state, flattened to ``name.key``."""
        scales = {f"{n}.{k}": float(np.max(v)) for n, e in self.errors.errors.items()
                  for k, v in e.items()}
        assert not isinstance(self.opt, SGD)
        return (flatten(self.opt.state), flatten(twin_state(self.twin_opt, self.model)),
                scales)
