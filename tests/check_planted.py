"""User-style NumPy networks for the ``handnet check`` tests, correct or with one planted bug.

Written for the tests, independently of ``handnet`` and ``reference``: the parameters live
where and how a user might keep them (attributes, a list or a dict; weights (in, out) or
(out, in); biases as rows, columns, vectors or folded into the weight; samples as rows or
columns), the arithmetic is done in rows ``x @ W + b`` after this module's own conversion, and
``bug`` switches exactly one line to a known mistake (:data:`BUGS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from handnet.adapter import Adapter, Layer

# bug -> what it does (layer j = bug_layer, counted from 0 at the input)
BUGS = {
    "loss_mean": "half-sse's derivative divided by the batch size (mean where the loss sums)",
    "loss_other": "the derivative of another loss (bce where mse/half-sse is stated, else mse)",
    "factor2": "layer j's weight gradient doubled",
    "sign": "layer j's weight gradient negated",
    "transposed": "layer j's weight gradient transposed",
    "bias_axis": "layer j's bias gradient summed over the units instead of the batch",
    "bias_mean": "layer j's bias gradient averaged over the batch",
    "deriv_at_preactivation": "layer j's derivative evaluated at z",
    "deriv_at_output": "layer j's derivative f'(.) applied to a",
    "deriv_missing": "layer j's derivative left out",
    "after_update": "layer j+1's weight updated before layer j's delta uses it",
    "relu_at_zero": "layer j's relu derivative taken as 1 at z = 0",
    "wrong_layer_weights": "layer j's delta pushed back through W_j instead of W_{j+1}",
    "wrong_layer_weights_above": "layer j's delta pushed back through W_{j+2} instead of "
                                 "W_{j+1}",
    "forward_act": "layer j computes tanh where the adapter states its stated activation",
    "momentum_style": "the other momentum convention",
    "bias_momentum": "biases in momentum when configured out (or the reverse)",
    "weight_momentum": "no momentum on the weights",
    "schedule_early": "the lr decays one epoch early",
    "schedule_late": "the lr decays one epoch late",
    "schedule_gamma": "lr *= lr_gamma where lr *= 1 - lr_gamma is meant",
    "nesterov": "the other convention's Nesterov formula on this convention's buffer",
    "weight_decay": "weight decay applied to the parameter, not added to the gradient",
}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp of -|z| only: no overflow, and full relative precision on both tails
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


ACT: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": _sigmoid, "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0),
    "identity": lambda z: z}


def _deriv(name: str, z: np.ndarray, a: np.ndarray, bug: str = "") -> np.ndarray:
    if bug == "deriv_missing":
        return np.ones_like(z)
    if name == "sigmoid":
        if bug == "deriv_at_preactivation":
            return z * (1 - z)
        s = _sigmoid(a) if bug == "deriv_at_output" else a
        return s * (1 - s)
    if name == "tanh":
        if bug == "deriv_at_preactivation":
            return 1 - z * z
        t = np.tanh(a) if bug == "deriv_at_output" else a
        return 1 - t * t
    if name == "relu":
        return ((z >= 0) if bug == "relu_at_zero" else (z > 0)).astype(z.dtype)
    return np.ones_like(z)


def _loss_grad(loss: str, p: np.ndarray, y: np.ndarray) -> np.ndarray:
    if loss == "half-sse":
        return p - y
    if loss == "mse":
        return 2 * (p - y) / p.size
    return (p - y) / np.maximum(p * (1 - p), float(np.float32(1e-12))) / p.size  # as torch


@dataclass
class Opt:
    lr: float = 0.1
    momentum: float = 0.0
    style: str = "classic"
    bias_momentum: bool = True
    nesterov: bool = False
    weight_decay: float = 0.0
    lr_epoch: int = 0
    lr_gamma: float = 0.0


@dataclass
class Layout:
    weight: str = "in_out"
    bias: str = "row"
    inputs: str = "rows"
    container: str = "attrs"  # attrs, list, dict
    mode: str = "gradients"  # gradients or train_step
    rebind: bool = False  # train_step rebinds arrays instead of updating in place


@dataclass
class PlantedNet:
    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    layout: Layout = field(default_factory=Layout)
    opt: Opt = field(default_factory=Opt)
    bug: str = ""
    bug_layer: int = 0
    seed: int = 0
    dtype: Any = np.float64
    weights: list[np.ndarray] = field(default_factory=list)
    biases: list[np.ndarray] = field(default_factory=list)
    params: dict[str, np.ndarray] = field(default_factory=dict)
    initial: list[tuple[np.ndarray, np.ndarray]] | None = None  # (W (in, out), b (1, out))

    def __post_init__(self) -> None:
        if self.bug and self.bug not in BUGS:
            raise ValueError(f"unknown bug {self.bug!r}")
        rng = np.random.default_rng(self.seed)
        for i in range(len(self.sizes) - 1):
            n_in, n_out = self.sizes[i], self.sizes[i + 1]
            if self.initial is not None:
                W, b = (a.copy() for a in self.initial[i])
            else:
                W = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
                b = 0.3 * rng.standard_normal((1, n_out))
            if self.layout.bias == "none":
                b = np.zeros((1, n_out))
            self._store(i, W.astype(self.dtype), b.astype(self.dtype), create=True)
        self.buffers: dict[str, np.ndarray] = {}
        self.lr = self.opt.lr

    # --- where the parameters live --------------------------------------------------------

    def _user_arrays(self, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        lay = self.layout
        if lay.bias == "folded":
            full = np.vstack([W, b])
            return (full if lay.weight == "in_out" else full.T.copy()), None
        w = W if lay.weight == "in_out" else W.T.copy()
        if lay.bias == "none":
            return w, None
        return w, {"row": b, "column": b.T.copy(), "vector": b[0].copy()}[lay.bias]

    def _paths(self, i: int) -> tuple[str, str | None]:
        c = self.layout.container
        has_bias = self.layout.bias not in ("folded", "none")
        if c == "attrs":
            return f"W{i + 1}", (f"b{i + 1}" if has_bias else None)
        if c == "list":
            return f"weights[{i}]", (f"biases[{i}]" if has_bias else None)
        return f"params['W{i + 1}']", (f"params['b{i + 1}']" if has_bias else None)

    def _slot(self, path: str) -> tuple[Any, Any]:
        c = self.layout.container
        if c == "attrs":
            return self, path
        if c == "list":
            return (self.weights if path.startswith("weights") else self.biases), \
                int(path[path.index("[") + 1:-1])
        return self.params, path[len("params['"):-2]

    def _read(self, path: str) -> np.ndarray:
        obj, key = self._slot(path)
        return getattr(obj, key) if isinstance(key, str) and obj is self else obj[key]

    def _write(self, path: str, value: np.ndarray, create: bool = False) -> None:
        obj, key = self._slot(path)
        if create and obj is not self and isinstance(obj, list):
            obj.append(value)
            return
        if create or self.layout.rebind:
            if obj is self:
                setattr(self, key, value)
            else:
                obj[key] = value
            return
        target = self._read(path)
        target[...] = value  # in place

    def _store(self, i: int, W: np.ndarray, b: np.ndarray, create: bool = False) -> None:
        w_user, b_user = self._user_arrays(W, b)
        wp, bp = self._paths(i)
        self._write(wp, w_user, create)
        if bp is not None and b_user is not None:
            self._write(bp, b_user, create)

    def _load(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        lay = self.layout
        wp, bp = self._paths(i)
        w = self._read(wp)
        w = w if lay.weight == "in_out" else w.T
        if lay.bias == "folded":
            return w[:-1], w[-1:]
        if lay.bias == "none":
            return w, np.zeros((1, w.shape[1]), dtype=w.dtype)
        assert bp is not None
        return w, self._read(bp).reshape(1, -1)

    # --- the computation, in rows --------------------------------------------------------------

    def _rows(self, v: np.ndarray) -> np.ndarray:
        return v if self.layout.inputs == "rows" else v.T

    def _act(self, i: int) -> str:
        if self.bug == "forward_act" and i == self.bug_layer:
            return "tanh"
        return self.activations[i]

    def _forward(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        zs, outs, a = [], [], x
        for i in range(len(self.sizes) - 1):
            W, b = self._load(i)
            z = a @ W + b
            a = ACT[self._act(i)](z)
            zs.append(z)
            outs.append(a)
        return zs, outs

    def forward(self, x_user: np.ndarray) -> np.ndarray:
        out = self._forward(self._rows(x_user))[1][-1]
        return out if self.layout.inputs == "rows" else out.T

    def _backward(self, x: np.ndarray, y: np.ndarray, in_place_update: bool = False):  # type: ignore[no-untyped-def]
        zs, outs = self._forward(x)
        inputs = [x, *outs[:-1]]
        B = x.shape[0]
        j = self.bug_layer
        loss = self.loss
        if self.bug == "loss_other":
            loss = "mse" if self.loss == "bce" else "bce"
        g = _loss_grad(loss, outs[-1], y)
        if self.bug == "loss_mean":
            g = g / B
        grads: dict[str, np.ndarray] = {}
        raw_bias: dict[int, np.ndarray] = {}
        for i in reversed(range(len(zs))):
            dbug = self.bug if self.bug in ("deriv_at_preactivation", "deriv_at_output",
                                            "deriv_missing", "relu_at_zero") and i == j else ""
            delta = g * _deriv(self._act(i), zs[i], outs[i], dbug)
            dW = inputs[i].T @ delta
            db = delta.sum(axis=0, keepdims=True)
            if i == j and self.bug == "factor2":
                dW = 2 * dW
            if i == j and self.bug == "sign":
                dW = -dW
            if i == j and self.bug == "transposed" and dW.shape[0] == dW.shape[1]:
                dW = dW.T
            if i == j and self.bug == "bias_mean":
                db = delta.mean(axis=0, keepdims=True)
            if i == j and self.bug == "bias_axis":
                s = delta.sum(axis=1, keepdims=True)  # (B, 1)
                raw_bias[i] = s
                db = np.full_like(db, s.sum()) if B == 1 else db
            grads[f"W{i}"], grads[f"b{i}"] = dW, db
            W = self._load(i)[0]
            if self.bug == "wrong_layer_weights" and i == j + 1:
                W = self._load(j)[0]
            if self.bug == "wrong_layer_weights_above" and i == j + 1:
                W = self._load(j + 2)[0]
            if in_place_update and self.bug == "after_update" and i == j + 1:
                self._update({f"W{i}": dW, f"b{i}": db}, only=(f"W{i}", f"b{i}"))
                W = self._load(i)[0]
            g = delta @ W.T
        return grads, raw_bias

    def gradients(self, x_user: np.ndarray, y_user: np.ndarray) -> dict[str, np.ndarray]:
        grads, raw_bias = self._backward(self._rows(x_user), self._rows(y_user))
        out = {}
        lay = self.layout
        for i in range(len(self.sizes) - 1):
            dW, db = grads[f"W{i}"], grads[f"b{i}"]
            w_user, b_user = self._user_arrays(dW, db)
            if self.bug == "transposed" and i == self.bug_layer and dW.shape[0] != dW.shape[1]:
                w_user = w_user.T.copy()
            wp, bp = self._paths(i)
            out[f"d{wp}"] = w_user
            if bp is not None:
                if i in raw_bias and x_user.shape[-1 if lay.inputs == "columns" else 0] > 1:
                    s = raw_bias[i]
                    b_user = s if lay.inputs == "rows" else s.T
                    if lay.bias == "vector":
                        b_user = s[:, 0]
                assert b_user is not None
                out[f"d{bp}"] = b_user
        return out

    # --- training ---------------------------------------------------------------------------

    def start_epoch(self, epoch: int) -> None:
        o = self.opt
        if o.lr_epoch == 0 or o.lr_gamma == 0:
            return
        factor = o.lr_gamma if self.bug == "schedule_gamma" else 1 - o.lr_gamma
        shift = {"schedule_early": 1, "schedule_late": -1}.get(self.bug, 0)
        e = epoch + shift
        if e > 0 and e % o.lr_epoch == 0:
            self.lr *= factor

    def _uses_momentum(self, name: str) -> bool:
        o = self.opt
        if o.momentum == 0:
            return False
        if name.startswith("b"):
            return (not o.bias_momentum) if self.bug == "bias_momentum" else o.bias_momentum
        return self.bug != "weight_momentum"

    def _update(self, grads: dict[str, np.ndarray], only: tuple[str, ...] | None = None) -> None:
        o, lr, m = self.opt, self.lr, self.opt.momentum
        style = o.style
        if self.bug == "momentum_style":
            style = "torch" if o.style == "classic" else "classic"
        for i in range(len(self.sizes) - 1):
            W, b = (a.copy() for a in self._load(i))
            new = {}
            for name, p in ((f"W{i}", W), (f"b{i}", b)):
                if only is not None and name not in only or name in self._done:
                    new[name] = p
                    continue
                decoupled = self.bug == "weight_decay"
                if decoupled:
                    p = p - lr * o.weight_decay * p
                g = grads[name] if decoupled else grads[name] + o.weight_decay * p
                formula = style
                if self.bug == "nesterov":
                    formula = "classic" if style == "torch" else "torch"
                if not self._uses_momentum(name):
                    p = p - lr * g
                elif style == "torch":
                    v = g if name not in self.buffers else m * self.buffers[name] + g
                    self.buffers[name] = v
                    p = p - (self._nesterov(formula, g, v) if o.nesterov else lr * v)
                else:
                    v = lr * g if name not in self.buffers else m * self.buffers[name] + lr * g
                    self.buffers[name] = v
                    p = p - (self._nesterov(formula, g, v) if o.nesterov else v)
                new[name] = p
                self._done.add(name)
            self._store(i, new[f"W{i}"].astype(self.dtype), new[f"b{i}"].astype(self.dtype))

    def _nesterov(self, formula: str, g: np.ndarray, v: np.ndarray) -> np.ndarray:
        m = self.opt.momentum
        return self.lr * (g + m * v) if formula == "torch" else self.lr * g + m * v

    def train_step(self, x_user: np.ndarray, y_user: np.ndarray) -> None:
        self._done: set[str] = set()
        grads, _ = self._backward(self._rows(x_user), self._rows(y_user), in_place_update=True)
        self._update(grads)

    # --- the adapter -----------------------------------------------------------------------

    def adapter(self) -> Adapter:
        layers = []
        keys = {}
        for i, act in enumerate(self.activations):
            wp, bp = self._paths(i)
            layers.append(Layer(wp, bp, act))
            keys[wp] = f"d{wp}"
            if bp is not None:
                keys[bp] = f"d{bp}"
        o = self.opt
        common: dict[str, Any] = dict(
            network=self, layers=layers, loss=self.loss, forward=self.forward,
            weight_layout=self.layout.weight, bias_layout=self.layout.bias,
            input_layout=self.layout.inputs,
            randomize=self.initial is None)  # a test's chosen start is kept as it is
        if self.layout.mode == "gradients":
            return Adapter(**common, gradients=self.gradients, gradient_keys=keys)
        return Adapter(**common, train_step=self.train_step, lr=o.lr, momentum=o.momentum,
                       momentum_style=o.style, bias_momentum=o.bias_momentum,
                       nesterov=o.nesterov, weight_decay=o.weight_decay,
                       start_epoch=self.start_epoch, lr_epoch=o.lr_epoch, lr_gamma=o.lr_gamma)


def factory(**kwargs: Any):  # type: ignore[no-untyped-def]
    """``adapter()`` for a fresh ``PlantedNet(**kwargs)`` on every call."""
    return lambda: PlantedNet(**kwargs).adapter()
