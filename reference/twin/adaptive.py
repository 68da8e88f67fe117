"""The twin's adaptive optimisers: ``torch.optim.Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``
themselves, built from a *declaration* (an optimiser name and its hyper-parameters, as a
``Config`` or an adapter declares them), never from handnet's optimiser object.

Parameters are split like ``reference.twin.optim``'s SGD: weights (``W*``) and biases (``b*``),
the bias group with ``weight_decay=0`` when ``bias_decay`` is off.  Only the hyper-parameters the
declaration gives are passed, so torch applies its own defaults to the rest.  ``foreach=False``
keeps torch on its single-tensor path, the code handnet's optimisers mirror.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from handnet.names import is_bias
from reference.twin.network import TwinNet, to_handnet_layout, to_torch_layout

TORCH_CLASSES: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad,
}
# The keyword arguments of each torch class a declaration may give (torch's own names).
HYPER: dict[str, tuple[str, ...]] = {
    "adam": ("betas", "eps", "amsgrad"),
    "adamw": ("betas", "eps", "amsgrad"),
    "rmsprop": ("alpha", "eps", "momentum", "centered"),
    "adagrad": ("lr_decay", "initial_accumulator_value", "eps"),
}
State = dict[str, dict[str, NDArray[Any]]]


def make_adaptive(model: TwinNet, kind: str, lr: float, weight_decay: float = 0.0,
                  bias_decay: bool = True, **hyper: Any) -> torch.optim.Optimizer:
    """``torch.optim.<kind>`` over the model's weight and bias groups; ``hyper`` holds only the
    hyper-parameters declared (None or False entries are left to torch's defaults)."""
    if kind not in TORCH_CLASSES:
        raise ValueError(f"unknown adaptive optimiser {kind!r}; choose one of "
                         f"{', '.join(TORCH_CLASSES)}")
    unknown = set(hyper) - set(HYPER[kind])
    if unknown:
        raise ValueError(f"{kind} takes no {', '.join(sorted(unknown))}")
    kwargs = {k: v for k, v in hyper.items() if v is not None and v is not False}
    named = model.named_handnet_parameters()
    groups = [
        {"params": [p for n, p in named.items() if not is_bias(n)]},
        {"params": [p for n, p in named.items() if is_bias(n)],
         "weight_decay": weight_decay if bias_decay else 0.0},
    ]
    cls: Any = TORCH_CLASSES[kind]
    optimizer: torch.optim.Optimizer = cls(groups, lr=lr, weight_decay=weight_decay,
                                           foreach=False, **kwargs)
    return optimizer


def twin_state(opt: torch.optim.Optimizer, model: TwinNet) -> State:
    """The twin optimiser's per-parameter state under handnet's names and layout (copies):
    ``step`` as a 0-d float32 array, the moment buffers like their parameters."""
    out: State = {}
    for name, p in model.named_handnet_parameters().items():
        state = opt.state.get(p, {})
        if state:
            out[name] = {k: (v.detach().numpy().copy() if k == "step"
                             else to_handnet_layout(name, v)) for k, v in state.items()}
    return out


def load_state(opt: torch.optim.Optimizer, model: TwinNet, state: State) -> None:
    """Give the twin handnet's optimiser state (``Adam.state`` etc.), in torch's layout; a name
    that is not a parameter, or a buffer that does not fit its parameter, is an error."""
    named = model.named_handnet_parameters()
    for name, entries in state.items():
        p = named.get(name)
        if p is None:
            raise ValueError(f"optimiser state {name} names no parameter of the twin")
        loaded: dict[str, torch.Tensor] = {}
        for key, value in entries.items():
            if key == "step":
                loaded[key] = torch.tensor(float(np.asarray(value)), dtype=torch.float32)
                continue
            t = to_torch_layout(name, value)
            if t.shape != p.shape:
                raise ValueError(f"optimiser state {name}.{key} has shape {np.shape(value)}, "
                                 "which does not fit the parameter")
            loaded[key] = t
        opt.state[p] = loaded


def steps_on_gradients(kind: str, params: dict[str, NDArray[Any]],
                       gradients: list[dict[str, NDArray[Any]]], lrs: list[float],
                       weight_decay: float = 0.0, bias_decay: bool = True,
                       **hyper: Any) -> list[tuple[dict[str, NDArray[Any]], State]]:
    """torch's ``kind`` optimiser (declared like :func:`make_adaptive`) run for
    ``len(gradients)`` steps from ``params`` on the given gradients, step ``j`` at lr
    ``lrs[j]``: the parameters and the state after each step (copies, the arrays' own layout:
    these optimisers act element by element, so any layout gives the same numbers).

    For anyone checking a hand-written optimiser on known gradients (``handnet check``'s
    adapters): no network and no autograd involved; gradients of another dtype than their
    parameters take torch's ``grad_dtype`` rule."""
    tensors = {n: torch.nn.Parameter(torch.tensor(np.array(v))) for n, v in params.items()}
    groups = [{"params": [t for n, t in tensors.items() if not is_bias(n)]},
              {"params": [t for n, t in tensors.items() if is_bias(n)],
               "weight_decay": weight_decay if bias_decay else 0.0}]
    kwargs = {k: v for k, v in hyper.items() if v is not None and v is not False}
    cls: Any = TORCH_CLASSES[kind]
    opt: torch.optim.Optimizer = cls(groups, lr=lrs[0] if lrs else 1e-3,
                                     weight_decay=weight_decay, foreach=False, **kwargs)
    out = []
    for grads, lr in zip(gradients, lrs, strict=True):
        for group in opt.param_groups:
            group["lr"] = lr
        for n, t in tensors.items():
            g = torch.tensor(np.array(grads[n]))
            if g.dtype != t.dtype:
                t.grad_dtype = g.dtype
            t.grad = g
        opt.step()
        state = {n: {k: v.detach().numpy().copy() for k, v in opt.state[t].items()}
                 for n, t in tensors.items() if opt.state.get(t)}
        out.append(({n: t.detach().numpy().copy() for n, t in tensors.items()}, state))
    return out
