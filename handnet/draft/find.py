"""Finding a network's parameters in somebody's objects: arrays, layer order, layouts, activations.

Nothing here is told the architecture; it is read off the arrays and the user's own forward:

* :func:`float_arrays` walks an object (attributes, dict entries, list items, nested objects,
  depth 3) or a module's globals and lists every float array with the path ``handnet check``
  resolves (``W1``, ``params['W1']``, ``layers[0].W``, ``weights[1]``), in the order the code
  assigned them.
* :func:`chains` lists the sequences of 2-D arrays whose shapes chain from the input width to
  the output width, read as ``(in, out)`` (``z = x @ W``) or ``(out, in)`` (``z = W @ x``),
  optionally with the bias folded in as the weight's last row/column (``in + 1`` inputs).
* :func:`match_forward` decides between them: with every array of the network set to random
  values, the user's forward output must equal ``f_L(... f_1(x W_1 + b_1) ...)`` computed here in
  NumPy for one choice of chain, bias arrays and one activation per layer (identity, sigmoid,
  tanh, relu; softmax at the output).  Random values make unused arrays (momentum buffers, cached
  copies) and zero-initialised biases visible: a chain through the wrong array cannot match.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from handnet.activations import ACTIVATIONS

Array = np.ndarray
MAX_DEPTH = 3
MAX_LAYERS = 5
MAX_CHAINS = 200
HIDDEN_ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu")
OUTPUT_ACTIVATIONS = (*HIDDEN_ACTIVATIONS, "softmax")
BIAS_SHAPES = {"row": lambda o: (1, o), "column": lambda o: (o, 1), "vector": lambda o: (o,)}
MATCH_RTOL = 1e-6  # a forward this close is "the same function" (exact code gives ~1e-16)


def float_arrays(root: Any) -> dict[str, Array]:
    """Every float array reachable from ``root`` (1-D or 2-D), by parameter path, in the
    order of assignment."""
    found: dict[str, Array] = {}
    seen: set[int] = set()
    if isinstance(root, ModuleType):
        items = [(k, v) for k, v in vars(root).items()
                 if not k.startswith("_") and isinstance(v, np.ndarray | dict | list | tuple)]
    else:
        items = list(_children(root))
    for key, value in items:
        _walk(value, key, 1, found, seen)
    return found


def _children(obj: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(k, str) and k.isidentifier():
                yield f"[{k!r}]", v
            elif isinstance(k, int):
                yield f"[{k}]", v
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            yield f"[{i}]", v
    elif hasattr(obj, "__dict__") and not isinstance(obj, type | ModuleType) and \
            not callable(obj):
        for k, v in vars(obj).items():
            if not k.startswith("__"):
                yield k, v


def _walk(value: Any, path: str, depth: int, found: dict[str, Array], seen: set[int]) -> None:
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f" and value.ndim in (1, 2) and value.size > 0:
            found[path] = value
        return
    if depth >= MAX_DEPTH or type(value).__module__.split(".")[0] in ("numpy", "builtins") \
            and not isinstance(value, dict | list | tuple):
        return
    for key, child in _children(value):
        sep = "" if key.startswith("[") else "."
        _walk(child, f"{path}{sep}{key}", depth + 1, found, seen)


@dataclass(frozen=True)
class Layout:
    """How the weights are read: ``in_out`` (``x @ W``) or ``out_in`` (``W @ x``), and whether
    the bias is folded in as the last row (``in_out``) / column (``out_in``)."""

    weight: str
    folded: bool

    def sizes(self, shape: tuple[int, ...]) -> tuple[int, int]:
        rows, cols = shape if self.weight == "in_out" else shape[::-1]
        return (rows - 1 if self.folded else rows), cols

    def canonical(self, w: Array) -> tuple[Array, Array | None]:
        """``(W (in, out), folded bias (1, out) or None)``."""
        c = w if self.weight == "in_out" else w.T
        return (c[:-1], c[-1:]) if self.folded else (c, None)


LAYOUTS = (Layout("in_out", False), Layout("out_in", False), Layout("in_out", True),
           Layout("out_in", True))


def chains(weights: dict[str, Array], n_in: int, n_out: int, layout: Layout) -> list[list[str]]:
    """Sequences of weight paths (no array twice) that chain from ``n_in`` to ``n_out`` under
    ``layout``, the ones in assignment order first."""
    names = [p for p, w in weights.items() if w.ndim == 2 and min(layout.sizes(w.shape)) >= 1]
    out: list[list[str]] = []

    def extend(chain: list[str], width: int) -> None:
        if len(out) >= MAX_CHAINS:
            return
        if chain and width == n_out:
            out.append(list(chain))
        if len(chain) == MAX_LAYERS:
            return
        for p in names:
            if p in chain:
                continue
            a, b = layout.sizes(weights[p].shape)
            if a == width:
                extend([*chain, p], b)

    extend([], n_in)
    out.sort(key=lambda c: (_disorder(c, list(weights)), len(c)))
    return out


def _disorder(chain: list[str], order: list[str]) -> int:
    """How far ``chain`` is from the order the code assigned its arrays (0 = in order)."""
    idx = [order.index(p) for p in chain]
    return sum(1 for a, b in itertools.pairwise(idx) if b < a)


def bias_options(arrays: dict[str, Array], chain: list[str],
                 layout: Layout) -> list[tuple[str, list[str | None]]]:
    """``(bias_layout, bias path per layer)`` choices for ``chain``: for each layout a bias
    array of the right shape per layer (the nearest one assigned after its weight first), then
    ``none``."""
    if layout.folded:
        return [("folded", [None] * len(chain))]
    order = list(arrays)
    options: list[tuple[str, list[str | None]]] = []
    for name, shape_of in BIAS_SHAPES.items():
        picked: list[str | None] = []
        for p in chain:
            n = layout.sizes(arrays[p].shape)[1]
            fits = [q for q in order if arrays[q].shape == shape_of(n) and q not in chain
                    and q not in picked]
            if not fits:
                break
            start = order.index(p)
            fits.sort(key=lambda q: (order.index(q) < start, abs(order.index(q) - start)))
            picked.append(fits[0])
        if len(picked) == len(chain):
            options.append((name, picked))
    options.append(("none", [None] * len(chain)))
    return options


def apply(name: str, z: Array) -> Array:
    """Activation ``name`` in NumPy (handnet's own; softmax over the units, row-wise)."""
    return ACTIVATIONS[name].forward(z)


@dataclass
class Match:
    """A network reading that reproduces the user's forward output."""

    layout: Layout
    chain: list[str]
    bias_layout: str
    biases: list[str | None]
    activations: list[str]
    error: float  # max |user - ours| / max(1, max |ours|)


def canonical_layers(arrays: dict[str, Array], chain: list[str], biases: list[str | None],
                     layout: Layout) -> list[tuple[Array, Array]]:
    """``(W (in, out), b (1, out))`` per layer from the user's arrays (zero bias for none)."""
    out = []
    for w_path, b_path in zip(chain, biases, strict=True):
        w, folded = layout.canonical(np.array(arrays[w_path], dtype=np.float64))
        if folded is not None:
            b = folded
        elif b_path is not None:
            b = np.array(arrays[b_path], dtype=np.float64).reshape(1, -1)
        else:
            b = np.zeros((1, w.shape[1]))
        out.append((w, b))
    return out


def forward(layers: list[tuple[Array, Array]], activations: list[str] | tuple[str, ...],
            x: Array) -> Array:
    """``f_L(... f_1(x W_1 + b_1) ...)`` on rows."""
    a = x
    for (w, b), act in zip(layers, activations, strict=True):
        a = apply(act, a @ w + b)
    return a


def match_forward(arrays: dict[str, Array], x_rows: Array, y_rows: Array) -> Match | None:
    """The first reading (layouts, chains in assignment order, bias options, activations) whose
    forward equals ``y_rows`` (the user's output for ``x_rows``) within ``MATCH_RTOL``; else the
    closest one (its ``error`` says how close), or ``None`` when no chain fits the widths."""
    n_in, n_out = x_rows.shape[1], y_rows.shape[1]
    weights = {p: a for p, a in arrays.items() if a.ndim == 2}
    best: Match | None = None
    for layout in LAYOUTS:
        for chain in chains(weights, n_in, n_out, layout):
            for bias_layout, biases in bias_options(arrays, chain, layout):
                layers = canonical_layers(arrays, chain, biases, layout)
                hidden = [HIDDEN_ACTIVATIONS] * (len(chain) - 1)
                for acts in itertools.product(*hidden, OUTPUT_ACTIVATIONS):
                    with np.errstate(all="ignore"):
                        ours = forward(layers, acts, x_rows)
                    if not np.all(np.isfinite(ours)):
                        continue
                    err = float(np.max(np.abs(ours - y_rows)) / max(1.0, np.max(np.abs(ours))))
                    if best is None or err < best.error:
                        best = Match(layout, chain, bias_layout, biases, list(acts), err)
                    if err <= MATCH_RTOL:
                        return best
    return best
