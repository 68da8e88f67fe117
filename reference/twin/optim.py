"""The optimisers of ``handnet.optim`` for the twin, both conventions, as torch optimisers.

Parameters are split into two groups, weights (``W*``) and biases (``b*``); with
``bias_momentum=False`` (the seed) the bias group has momentum 0, i.e. plain SGD
``b -= lr * (g + weight_decay * b)``.  A scheduler changes ``lr`` in both groups.

* ``style="torch"`` is ``torch.optim.SGD`` itself (dampening 0), with ``nesterov`` and
  ``weight_decay`` passed through.
* ``style="classic"`` is :class:`ClassicSGD` below: torch has no optimiser with the learning rate
  inside the velocity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from handnet.config import Config
from handnet.names import is_bias
from handnet.optim import SGD, STYLES
from reference.twin.adaptive import HYPER, make_adaptive
from reference.twin.network import TwinNet, to_handnet_layout, to_torch_layout


class ClassicSGD(torch.optim.Optimizer):
    """SGD with *classic* momentum (lr inside the buffer), which torch does not provide.

    Per parameter ``p`` with gradient ``g`` (plus ``weight_decay * p`` when weight decay is on),
    momentum ``m`` and buffer ``u`` (starting at 0)::

        u = m * u + lr * g
        p -= u                    (nesterov: p -= lr * g + m * u)

    A group with ``momentum=0`` is plain SGD, ``p -= lr * g``.  While ``lr`` is constant
    ``u == lr * v`` for torch's buffer ``v = m * v + g``, so both conventions take the same steps;
    after ``lr`` changes ``u`` still carries velocity scaled by the old ``lr``.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "nesterov": nesterov,
                    "weight_decay": weight_decay}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, m = group["lr"], group["momentum"]
            nesterov, wd = group["nesterov"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if wd != 0:
                    g = g.add(p, alpha=wd)
                if m == 0:
                    p.add_(g, alpha=-lr)
                    continue
                state = self.state[p]
                u = state.get("momentum_buffer")
                if u is None:
                    u = torch.mul(g, lr)
                    state["momentum_buffer"] = u
                else:
                    u.mul_(m).add_(g, alpha=lr)
                if nesterov:
                    p.sub_(torch.mul(g, lr) + torch.mul(u, m))
                else:
                    p.sub_(u)
        return loss


def make_optimizer(
    model: TwinNet,
    lr: float,
    momentum: float = 0.0,
    style: str = "classic",
    bias_momentum: bool = True,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    bias_decay: bool = True,
) -> torch.optim.Optimizer:
    """The twin's optimiser for the same arguments as ``handnet.optim.SGD``."""
    if style not in STYLES:
        raise ValueError(f"unknown momentum style {style!r}; choose classic or torch")
    if nesterov and momentum == 0:
        raise ValueError("nesterov needs a positive momentum")
    named = model.named_handnet_parameters()
    bias_m = momentum if bias_momentum else 0.0
    groups = [
        {"params": [p for n, p in named.items() if not is_bias(n)],
         "momentum": momentum, "nesterov": nesterov},
        {"params": [p for n, p in named.items() if is_bias(n)],
         "momentum": bias_m, "nesterov": nesterov and bias_m > 0,
         "weight_decay": weight_decay if bias_decay else 0.0},
    ]
    if style == "torch":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=nesterov,
                               weight_decay=weight_decay)
    return ClassicSGD(groups, lr=lr, momentum=momentum, nesterov=nesterov,
                      weight_decay=weight_decay)


def optimizer_like(model: TwinNet, opt: SGD) -> torch.optim.Optimizer:
    """The twin's optimiser configured like handnet's ``opt`` (fresh momentum buffers)."""
    return make_optimizer(model, opt.lr, opt.momentum, opt.style, opt.bias_momentum,
                          opt.nesterov, opt.weight_decay, opt.bias_decay)


def optimizer_from_config(model: TwinNet, config: Config) -> torch.optim.Optimizer:
    """The twin's optimiser read from the *declared* configuration (issue 16: never from the
    optimiser handnet built from it, whose mistakes the twin would otherwise copy).

    ``sgd``/``momentum``: ``torch.optim.SGD`` or ClassicSGD (``optimizer="sgd"`` is momentum 0,
    ``"momentum"`` uses ``config.momentum``, 0.9 when not given: the seed's); the adaptive ones:
    :func:`reference.twin.adaptive.make_adaptive` with the hyper-parameters the config gives.
    """
    c = config
    if c.optimizer in ("sgd", "momentum"):
        m = 0.0 if c.optimizer == "sgd" else (0.9 if c.momentum is None else c.momentum)
        return make_optimizer(model, c.lr, m, c.momentum_style, c.bias_momentum,
                              c.nesterov and m > 0, c.weight_decay, c.bias_decay)
    hyper = {k: getattr(c, k) for k in HYPER[c.optimizer]}
    return make_adaptive(model, c.optimizer, c.lr, c.weight_decay, c.bias_decay, **hyper)


def load_buffers(opt: torch.optim.Optimizer, model: TwinNet,
                 buffers: dict[str, NDArray[np.floating]]) -> None:
    """Give the twin's optimiser handnet's momentum buffers (``SGD.buffers``), in torch's layout.

    Both conventions keep the buffer as ``state[p]["momentum_buffer"]`` and read it only if it
    exists (else the first step creates it), as handnet's ``SGD`` does with ``buffers``: so a
    parameter without a handnet buffer gets none here.  A buffer for a parameter the twin steps
    without momentum (the seed's biases) or of the wrong shape is an error, not ignored.
    """
    named = model.named_handnet_parameters()
    momentum = {id(p): g["momentum"] for g in opt.param_groups for p in g["params"]}
    for name, value in buffers.items():
        p = named.get(name)
        if p is None:
            raise ValueError(f"momentum buffer {name} names no parameter of the twin")
        if momentum[id(p)] == 0:
            raise ValueError(f"momentum buffer {name} given, but the twin steps {name} "
                             "without momentum")
        t = to_torch_layout(name, value).to(p.dtype)
        if t.shape != p.shape:
            raise ValueError(f"momentum buffer {name} has shape {tuple(value.shape)}, "
                             f"which does not fit the parameter")
        opt.state[p]["momentum_buffer"] = t


def twin_buffers(opt: torch.optim.Optimizer, model: TwinNet) -> dict[str, NDArray[np.floating]]:
    """The twin optimiser's momentum buffers under handnet's names and layout (copies)."""
    out = {}
    for name, p in model.named_handnet_parameters().items():
        u = opt.state.get(p, {}).get("momentum_buffer")
        if u is not None:
            out[name] = to_handnet_layout(name, u)
    return out
