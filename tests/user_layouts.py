"""User-style NumPy networks for the ``handnet check`` tests, correct, in every layout.

Written for the tests, independently of ``handnet`` and ``reference``: the parameters live
where and how a user might keep them (attributes, a list or a dict; weights (in, out) or
(out, in); biases as rows, columns, vectors or folded into the weight; samples as rows or
columns), the arithmetic is done in rows ``x @ W + b`` after this module's own conversion.
The no-false-alarm property (``tests/test_check_property.py``) and the error tests use them.
Planted bugs are not made here but written as wrong lines in hand-written networks
(``tests/planted/``, ``tests/test_check_patterns.py``): a bug switch here would be a copy of
the diagnosis's own simulation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from handnet.adapter import Adapter, Layer


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp of -|z| only: no overflow, and full relative precision on both tails
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ACT: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": _sigmoid, "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0),
    "identity": lambda z: z, "softmax": _softmax}


def _deriv(name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a * a
    if name == "relu":
        return (z > 0).astype(z.dtype)
    return np.ones_like(z)


def _loss_grad(loss: str, p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/dy_hat of every loss an adapter can state (class targets as one-hot rows)."""
    base, summed = loss.removesuffix("-sum"), loss.endswith("-sum")
    per = {"half-sse": p - y, "sse": 2 * (p - y), "mse": 2 * (p - y), "half-mse": p - y}.get(base)
    if base == "bce":
        per = (p - y) / np.maximum(p * (1 - p), float(np.float32(1e-12)))  # as torch
    elif base == "bce-logits":
        per = _sigmoid(p) - y
    elif base == "softmax-ce":
        per = _softmax(p) - y
    elif base == "ce":
        per = -y / p
    assert per is not None, loss
    if summed or loss in ("half-sse", "sse"):
        return per
    return per / (len(p) if base in ("softmax-ce", "ce") else p.size)


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
    seed: int = 0
    dtype: Any = np.float64
    weights: list[np.ndarray] = field(default_factory=list)
    biases: list[np.ndarray] = field(default_factory=list)
    params: dict[str, np.ndarray] = field(default_factory=dict)
    initial: list[tuple[np.ndarray, np.ndarray]] | None = None  # (W (in, out), b (1, out))

    def __post_init__(self) -> None:
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

    def _forward(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        zs, outs, a = [], [], x
        for i in range(len(self.sizes) - 1):
            W, b = self._load(i)
            z = a @ W + b
            a = ACT[self.activations[i]](z)
            zs.append(z)
            outs.append(a)
        return zs, outs

    def forward(self, x_user: np.ndarray) -> np.ndarray:
        out = self._forward(self._rows(x_user))[1][-1]
        return out if self.layout.inputs == "rows" else out.T

    def _backward(self, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        zs, outs = self._forward(x)
        inputs = [x, *outs[:-1]]
        g = _loss_grad(self.loss, outs[-1], y)
        grads: dict[str, np.ndarray] = {}
        for i in reversed(range(len(zs))):
            if self.activations[i] == "softmax":  # its Jacobian-vector product, row by row
                delta = outs[i] * (g - np.sum(g * outs[i], axis=1, keepdims=True))
            else:
                delta = g * _deriv(self.activations[i], zs[i], outs[i])
            grads[f"W{i}"] = inputs[i].T @ delta
            grads[f"b{i}"] = delta.sum(axis=0, keepdims=True)
            g = delta @ self._load(i)[0].T
        return grads

    def gradients(self, x_user: np.ndarray, y_user: np.ndarray) -> dict[str, np.ndarray]:
        grads = self._backward(self._rows(x_user), self._rows(y_user))
        out = {}
        for i in range(len(self.sizes) - 1):
            w_user, b_user = self._user_arrays(grads[f"W{i}"], grads[f"b{i}"])
            wp, bp = self._paths(i)
            out[f"d{wp}"] = w_user
            if bp is not None:
                assert b_user is not None
                out[f"d{bp}"] = b_user
        return out

    # --- training ---------------------------------------------------------------------------

    def start_epoch(self, epoch: int) -> None:
        o = self.opt
        if o.lr_epoch == 0 or o.lr_gamma == 0:
            return
        if epoch > 0 and epoch % o.lr_epoch == 0:
            self.lr *= 1 - o.lr_gamma

    def _uses_momentum(self, name: str) -> bool:
        o = self.opt
        if o.momentum == 0:
            return False
        if name.startswith("b"):
            return o.bias_momentum
        return True

    def _update(self, grads: dict[str, np.ndarray]) -> None:
        o, lr, m = self.opt, self.lr, self.opt.momentum
        for i in range(len(self.sizes) - 1):
            W, b = (a.copy() for a in self._load(i))
            new = {}
            for name, p in ((f"W{i}", W), (f"b{i}", b)):
                g = grads[name] + o.weight_decay * p
                if not self._uses_momentum(name):
                    p = p - lr * g
                elif o.style == "torch":
                    v = g if name not in self.buffers else m * self.buffers[name] + g
                    self.buffers[name] = v
                    p = p - (lr * (g + m * v) if o.nesterov else lr * v)
                else:
                    v = lr * g if name not in self.buffers else m * self.buffers[name] + lr * g
                    self.buffers[name] = v
                    p = p - (lr * g + m * v if o.nesterov else v)
                new[name] = p
            self._store(i, new[f"W{i}"].astype(self.dtype), new[f"b{i}"].astype(self.dtype))

    def train_step(self, x_user: np.ndarray, y_user: np.ndarray) -> None:
        self._update(self._backward(self._rows(x_user), self._rows(y_user)))

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
