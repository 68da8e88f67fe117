"""TEMPORARY stand-in for the twin (branch ``twin``); deleted once that branch is merged.

Only the few names ``reference.check`` needs, with the twin's signatures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from handnet.network import Network

_ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
        "identity": lambda z: z}


class TwinNet(torch.nn.Module):
    def __init__(self, linears: list[torch.nn.Linear], acts: list[str]) -> None:
        super().__init__()
        self.linears = torch.nn.ModuleList(linears)
        self.acts = acts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for lin, a in zip(self.linears, self.acts, strict=True):
            x = _ACT[a](lin(x))
        return x

    def named_handnet_parameters(self) -> dict[str, torch.nn.Parameter]:
        out = {}
        for i, lin in enumerate(self.linears):
            out[f"W{i}"], out[f"b{i}"] = lin.weight, lin.bias
        return out


def to_torch(net: Network) -> TwinNet:
    dt = torch.float64 if net.dtype == np.float64 else torch.float32
    lins = []
    for layer in net.layers:
        W, b = layer.parameters["W"], layer.parameters["b"]
        lin = torch.nn.Linear(W.shape[0], W.shape[1], dtype=dt)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            lin.bias.copy_(torch.from_numpy(b[0].copy()))
        lins.append(lin)
    return TwinNet(lins, list(net.activation_names))


def _layout(name: str, t: torch.Tensor) -> np.ndarray:
    a = t.detach().numpy()
    return a.T.copy() if name.startswith("W") else a.reshape(1, -1).copy()


def handnet_parameters(m: TwinNet) -> dict[str, np.ndarray]:
    return {n: _layout(n, p) for n, p in m.named_handnet_parameters().items()}


def handnet_gradients(m: TwinNet) -> dict[str, np.ndarray]:
    return {n: _layout(n, p.grad if p.grad is not None else torch.zeros_like(p))
            for n, p in m.named_handnet_parameters().items()}


def get_torch_loss(name: str):  # type: ignore[no-untyped-def]
    import torch.nn.functional as F
    return {"half-sse": lambda p, y: 0.5 * ((p - y) ** 2).sum(), "mse": F.mse_loss,
            "bce": F.binary_cross_entropy}[name]


class ClassicSGD(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):  # type: ignore[no-untyped-def]
        super().__init__(params, {"lr": lr, "momentum": momentum, "nesterov": nesterov,
                                  "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[no-untyped-def,override]
        for g_ in self.param_groups:
            lr, m, nest, wd = g_["lr"], g_["momentum"], g_["nesterov"], g_["weight_decay"]
            for p in g_["params"]:
                if p.grad is None:
                    continue
                g = p.grad + wd * p if wd else p.grad
                if m == 0:
                    p.sub_(lr * g)
                    continue
                st = self.state[p]
                u = st.get("u")
                u = lr * g if u is None else m * u + lr * g
                st["u"] = u
                p.sub_(lr * g + m * u if nest else u)


def make_optimizer(model, lr, momentum=0.0, style="classic", bias_momentum=True,  # type: ignore[no-untyped-def]
                   nesterov=False, weight_decay=0.0):
    named = model.named_handnet_parameters()
    bm = momentum if bias_momentum else 0.0
    groups = [{"params": [p for n, p in named.items() if n[0] == "W"], "momentum": momentum,
               "nesterov": nesterov},
              {"params": [p for n, p in named.items() if n[0] == "b"], "momentum": bm,
               "nesterov": nesterov and bm > 0}]
    if style == "torch":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=nesterov,
                               weight_decay=weight_decay)
    return ClassicSGD(groups, lr=lr, momentum=momentum, nesterov=nesterov,
                      weight_decay=weight_decay)


def make_scheduler(opt, lr_epoch, lr_gamma):  # type: ignore[no-untyped-def]
    if lr_epoch == 0 or lr_gamma == 0:
        return torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=1.0)
    return torch.optim.lr_scheduler.StepLR(opt, step_size=lr_epoch, gamma=1.0 - lr_gamma)


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    dtype: str
    steps: int

    def describe(self) -> str:
        return f"rtol {self.rtol:.1e} for {self.dtype}, {self.steps} steps"


def tolerance(dtype, steps: int = 0) -> Tolerance:  # type: ignore[no-untyped-def]
    eps = float(np.finfo(dtype).eps)
    return Tolerance(2**12 * eps * (1 + steps), np.dtype(dtype).name, steps)


@dataclass(frozen=True)
class Record:
    name: str
    shape: tuple[int, ...]
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...]
    actual_at_worst: float
    expected_at_worst: float
    rtol: float
    ok: bool
    note: str = ""


def compare_arrays(name: str, actual, expected, rtol: float) -> Record:  # type: ignore[no-untyped-def]
    a, e = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    if a.shape != e.shape:
        return Record(name, e.shape, math.inf, math.inf, (), math.nan, math.nan, rtol, False)
    err = np.abs(a - e)
    err[a == e] = 0
    err[np.isnan(err)] = math.inf
    w = np.unravel_index(int(np.argmax(err)), err.shape)
    scale = float(np.abs(e).max()) if e.size else 0.0
    mx = float(err[w])
    rel = 0.0 if mx == 0 else (math.inf if scale == 0 else mx / scale)
    return Record(name, e.shape, mx, rel, tuple(int(i) for i in w), float(a[w]), float(e[w]),
                  rtol, rel <= rtol)
