"""The adapter protocol: how ``handnet check`` sees somebody else's NumPy network, unchanged.

An adapter file defines ``adapter() -> Adapter``; ``handnet check`` calls it afresh whenever it
needs a network in its initial state (weights as built, momentum buffers at zero), so it must
build the same weights every time (seed the generator).  The adapter says where the parameters
live and how they are laid out; the tool converts everything to one canonical form — weights
``(in, out)``, biases ``(1, out)``, inputs and outputs as rows ``(batch, features)`` — and back.

Parameter paths are read against the user's network object: ``"W1"`` (an attribute),
``"weights[0]"`` (a list item), ``"params['W1']"`` (a dict entry), ``"layers[1].W"`` (nested).
They are re-read after every call into user code, so a training step that rebinds
``self.W = self.W - lr * dW`` is seen as well as one that updates in place.

Layouts (``weight_layout`` / ``bias_layout`` / ``input_layout``):

* weights ``"in_out"``: ``z = x @ W + b``; ``"out_in"``: ``z = W @ x + b`` (torch's layout).
* biases ``"row"`` (1, out), ``"column"`` (out, 1), ``"vector"`` (out,), or ``"folded"``: the
  bias is the weight matrix's **last** row (``in_out``) or last column (``out_in``), so the
  weight has ``in + 1`` inputs; give ``bias=None`` for such a layer.  ``"none"``: no bias.
* inputs ``"rows"`` (batch, in) or ``"columns"`` (in, batch); outputs and targets use the same.

The architecture is stated, not guessed: one activation per layer (``Layer.activation``, a name
of ``handnet.activations``; ``softmax`` on the output layer only) and the loss with its
reduction (``loss``, any name of ``handnet.losses``: ``half-sse``, ``sse`` sum over the batch,
``mse``, ``half-mse``, ``bce``, ``bce-logits`` average over every element, ``softmax-ce`` and
``ce`` over the batch, the ``-sum`` forms sum).  A loss on probabilities needs the output layer
it takes (sigmoid for ``bce*``, identity for ``bce-logits*`` and ``softmax-ce*`` on logits,
softmax for ``ce*``).  Class losses get one-hot target rows, or with ``targets="index"`` class
indices of shape (batch,) as int64.  ``loss_value(y_hat, y) -> float`` (optional) is the
network's own loss, compared with torch's (a forward that overflows shows there).  Layer sizes
are inferred from the weights.

Two styles of backward can be checked:

(a) ``gradients(x, y) -> mapping`` returns the loss gradient per parameter, keyed by the same
    paths (or by the keys given in ``gradient_keys``: parameter path -> key);
(b) ``train_step(x, y) -> None`` updates the weights itself (most course networks do).  The tool
    runs it from a fresh network under the adapter's stated optimiser (``lr``, ``momentum``,
    ``momentum_style``, ``bias_momentum``, ``nesterov``, ``weight_decay``), where every momentum
    buffer is zero, and compares the *update* it made with the twin's; with ``--steps K`` it
    compares the whole K-step trajectory, calling ``start_epoch(e)`` (if given) before step
    ``e`` and expecting the lr schedule ``lr0 * (1 - lr_gamma) ** (e // lr_epoch)``.  Or it
    declares ``optimizer="adam"`` / ``"adamw"`` / ``"rmsprop"`` / ``"adagrad"`` with torch's
    hyper-parameters and one of torch's schedules (``schedule``, per epoch or per update):
    see :mod:`handnet.adapter_optim`.

``batch`` (optional) is the batch size the network can take; per-sample networks say 1.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from handnet.activations import ACTIVATIONS, ELEMENTWISE
from handnet.adapter_optim import (
    AdapterError,
    _choice,
    _integer,
    _number,
    validate_declaration,
)
from handnet.losses import CLASS_LOSSES, LOSSES, output_problem
from handnet.names import bias_name, is_weight, layer_of, weight_name
from handnet.optim import STYLES

Array = NDArray[np.floating]

# What the check can declare: every loss handnet trains with, the element-wise activations on
# any layer and the softmax on the output layer (its Jacobian is simulated in the diagnosis).
CHECKED_LOSSES: tuple[str, ...] = tuple(LOSSES)
CHECKED_ACTIVATIONS: tuple[str, ...] = (*ELEMENTWISE, "softmax")
OUTPUT_ONLY_ACTIVATIONS = ("softmax",)
# How targets reach the network: rows (batch, outputs) as floats (one-hot rows for a class
# loss), or class indices (batch,) as int64 (class losses only, as torch's cross_entropy).
TARGET_FORMS = ("rows", "index")
WEIGHT_LAYOUTS = ("in_out", "out_in")
BIAS_LAYOUTS = ("row", "column", "vector", "folded", "none")
INPUT_LAYOUTS = ("rows", "columns")


@dataclass
class Layer:
    """One dense layer of the user's network: where its weight and bias live, its activation."""

    weight: str
    bias: str | None
    activation: str


@dataclass
class Adapter:
    network: Any
    layers: Sequence[Layer]
    loss: str
    forward: Callable[[Array], Array]
    weight_layout: str = "in_out"
    bias_layout: str = "row"
    input_layout: str = "rows"
    # bias_layout "folded": the constant input the bias row multiplies (1, or -1 as some
    # textbooks append), and whether that row is the weight's last ("end") or first ("start").
    folded_input: float = 1.0
    folded_at: str = "end"
    gradients: Callable[[Array, Array], Mapping[str, Array]] | None = None
    gradient_keys: Mapping[str, str] | None = None
    train_step: Callable[[Array, Array], None] | None = None
    lr: float | None = None
    momentum: float = 0.0
    momentum_style: str = "classic"
    bias_momentum: bool = True
    nesterov: bool = False
    weight_decay: float = 0.0
    start_epoch: Callable[[int], None] | None = None
    lr_epoch: int = 0
    lr_gamma: float = 0.0
    # the adaptive optimisers and torch's schedules (handnet.adapter_optim; None: torch's default)
    optimizer: str = "sgd"
    bias_decay: bool = True
    betas: tuple[float, float] | None = None
    eps: float | None = None
    amsgrad: bool = False
    alpha: float | None = None
    centered: bool = False
    lr_decay: float | None = None
    initial_accumulator_value: float | None = None
    schedule: str = "step"
    schedule_per: str = "epoch"
    milestones: Sequence[int] = ()
    gamma: float | None = None
    t_max: int | None = None
    eta_min: float | None = None
    start_factor: float | None = None
    end_factor: float | None = None
    total_iters: int | None = None
    batch: int | None = None
    randomize: bool = True
    targets: str = "rows"
    loss_value: Callable[[Array, Array], float] | None = None
    notes: list[str] = field(default_factory=list)

    # --- validation --------------------------------------------------------------------

    def validate(self) -> None:
        """Raise ``AdapterError`` naming the first thing that is missing or inconsistent."""
        _choice("weight_layout", self.weight_layout, WEIGHT_LAYOUTS)
        _choice("bias_layout", self.bias_layout, BIAS_LAYOUTS)
        _choice("input_layout", self.input_layout, INPUT_LAYOUTS)
        _choice("folded_at", self.folded_at, ("end", "start"))
        if isinstance(self.folded_input, bool) or self.folded_input not in (1, -1):
            raise AdapterError(f"folded_input must be 1 or -1 (the constant the folded bias "
                               f"row multiplies), got {self.folded_input!r}")
        _checked("loss", self.loss, CHECKED_LOSSES, tuple(LOSSES))
        _choice("momentum_style", self.momentum_style, STYLES)
        if not self.layers:
            raise AdapterError("the adapter lists no layers")
        if not callable(self.forward):
            raise AdapterError("forward must be a function forward(x) -> output")
        for name in ("gradients", "train_step", "start_epoch"):
            value = getattr(self, name)
            if value is not None and not callable(value):
                raise AdapterError(f"{name} must be a function or None, got "
                                   f"{type(value).__name__}")
        if self.gradients is None and self.train_step is None:
            raise AdapterError(
                "the adapter gives neither gradients(x, y) (a backward that returns gradients) "
                "nor train_step(x, y) (a step that updates the weights): give one"
            )
        for name in ("bias_momentum", "nesterov", "randomize"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise AdapterError(f"{name} must be True or False, got "
                                   f"{getattr(self, name)!r}")
        if self.train_step is not None:
            if self.lr is None:
                raise AdapterError("train_step needs the learning rate it uses: set lr "
                                   "(got None)")
            _number("lr", self.lr, low=0.0, low_open=True)
            _number("momentum", self.momentum, low=0.0, high=1.0)
            validate_declaration(self)
            if self.nesterov and self.momentum == 0:
                raise AdapterError("nesterov=True needs a positive momentum")
            _number("weight_decay", self.weight_decay, low=0.0)
            _number("lr_gamma", self.lr_gamma, low=0.0, high=1.0)
            _integer("lr_epoch", self.lr_epoch, low=0)
        elif self.lr is not None:
            _number("lr", self.lr, low=0.0, low_open=True)
        if self.batch is not None:
            _integer("batch", self.batch, low=1)
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise AdapterError(f"layer {i} is a {type(layer).__name__}, not a Layer")
            _checked(f"layer {i} ({layer.weight!r}) activation", layer.activation,
                     CHECKED_ACTIVATIONS, tuple(ACTIVATIONS))
            if layer.activation in OUTPUT_ONLY_ACTIVATIONS and i != len(self.layers) - 1:
                raise AdapterError(f"layer {i} ({layer.weight!r}): {layer.activation} is "
                                   "checked as the output layer's activation only")
            folded_or_none = self.bias_layout in ("folded", "none")
            if folded_or_none and layer.bias is not None:
                raise AdapterError(
                    f"layer {i}: bias_layout is {self.bias_layout!r} but a bias path "
                    f"{layer.bias!r} is given; use bias=None"
                )
            if not folded_or_none and layer.bias is None:
                raise AdapterError(
                    f"layer {i}: no bias path given; set bias_layout='none' for a network "
                    "without biases or 'folded' for a bias stored in the weight matrix"
                )
        self._validate_loss()
        self.sizes()  # shapes must chain
        self.canonical_parameters()  # biases must fit
        self.dtype()

    def _validate_loss(self) -> None:
        """The loss fits the output layer (``Loss.output_activation``), the targets' form."""
        loss = LOSSES[self.loss]
        out = self.layers[-1].activation
        problem = output_problem(self.loss, out)
        if problem:
            raise AdapterError(f"{problem}; state sigmoid there (or another loss)")
        if out == "softmax" and loss.takes == "logits" and loss.classes:
            probabilities = "ce-sum" if loss.reduction == "sum" else "ce"
            raise AdapterError(
                f"loss {self.loss!r} takes logits (it applies the softmax itself), but the "
                f"output layer is a softmax: a forward that returns softmax probabilities with "
                f"cross-entropy is loss={probabilities!r} (the gradient at the logits is the "
                f"same, p - y); or state identity there and keep {self.loss!r}")
        if loss.output_activation is not None and out != loss.output_activation:
            raise AdapterError(
                f"loss {self.loss!r} takes {loss.takes}, but the output layer's activation is "
                f"{out!r}; state {loss.output_activation} there (or another loss)")
        _choice("targets", self.targets, TARGET_FORMS)
        if self.targets == "index" and not loss.classes:
            raise AdapterError(f"targets='index' (class indices) needs a class loss "
                               f"({', '.join(CLASS_LOSSES)}); loss is {self.loss!r}")
        if loss.classes and self.sizes()[-1] < 2:
            raise AdapterError(f"loss {self.loss!r} needs one output per class (two at least); "
                               "the output layer has 1")
        if self.loss_value is not None and not callable(self.loss_value):
            raise AdapterError("loss_value must be a function loss_value(y_hat, y) -> float or "
                               f"None, got {type(self.loss_value).__name__}")

    @property
    def activations(self) -> list[str]:
        return [layer.activation for layer in self.layers]

    # --- reading parameters in canonical form ------------------------------------------

    def raw(self, path: str) -> Array:
        value = resolve(self.network, path)
        if not isinstance(value, np.ndarray):
            raise AdapterError(f"{path!r} is a {type(value).__name__}, not a NumPy array")
        return value

    def parameter_paths(self) -> list[str]:
        """The user's paths of every parameter array, input layer first (weight, then bias)."""
        paths: list[str] = []
        for layer in self.layers:
            paths.append(layer.weight)
            if layer.bias is not None:
                paths.append(layer.bias)
        return paths

    def raw_parameters(self) -> dict[str, Array]:
        """Copies of every parameter array in the user's layout, by path."""
        return {path: self.raw(path).copy() for path in self.parameter_paths()}

    def canonical_layer(self, i: int, weight: Array, bias: Array | None) -> tuple[Array, Array]:
        """Layer ``i``'s ``(W (in, out), b (1, out))`` from arrays in the user's layout."""
        path = self.layers[i].weight
        if weight.ndim != 2:
            raise AdapterError(f"weight {path!r} must be 2-D, has shape {weight.shape}")
        w = weight if self.weight_layout == "in_out" else weight.T
        if self.bias_layout == "folded":
            if w.shape[0] < 2:
                raise AdapterError(
                    f"weight {path!r} of shape {weight.shape} has no room for a folded bias"
                )
            return self._unfold(w)
        if self.bias_layout == "none":
            return w, np.zeros((1, w.shape[1]), dtype=w.dtype)
        assert bias is not None
        bpath = self.layers[i].bias
        expected = {"row": (1, w.shape[1]), "column": (w.shape[1], 1), "vector": (w.shape[1],)}
        if bias.shape != expected[self.bias_layout]:
            raise AdapterError(
                f"bias {bpath!r} has shape {bias.shape}; with {self.bias_layout!r} biases and "
                f"weight {path!r} of {w.shape[1]} outputs it should be "
                f"{expected[self.bias_layout]}"
            )
        return w, bias.reshape(1, -1)

    def canonical_parameters(self) -> list[tuple[Array, Array]]:
        """Every layer's ``(W, b)`` in canonical form (copies)."""
        out = []
        for i, layer in enumerate(self.layers):
            bias = None if layer.bias is None else self.raw(layer.bias)
            w, b = self.canonical_layer(i, self.raw(layer.weight), bias)
            out.append((w.astype(self.dtype()), b.astype(self.dtype())))
        return out

    def write_canonical(self, i: int, weight: Array, bias: Array) -> list[str]:
        """Set layer ``i``'s parameters from canonical ``(W (in, out), b (1, out))``, in the
        user's layout and dtype.  Arrays are written in place, so every other reference the
        user's code holds sees the new values; a read-only array is rebound instead (its path
        is returned, so the caller can say so)."""
        layer = self.layers[i]
        user_w = self.raw(layer.weight)
        dtype = user_w.dtype
        if self.bias_layout == "folded":
            full = self._fold(weight, bias)
            new_w = full if self.weight_layout == "in_out" else full.T
        else:
            new_w = weight if self.weight_layout == "in_out" else weight.T
        rebound = [] if _put(self.network, layer.weight, user_w, new_w.astype(dtype)) else \
            [layer.weight]
        if layer.bias is not None and self.bias_layout not in ("folded", "none"):
            user_b = self.raw(layer.bias)
            if not _put(self.network, layer.bias, user_b,
                        bias.reshape(user_b.shape).astype(user_b.dtype)):
                rebound.append(layer.bias)
        return rebound

    def canonical_dict(self) -> dict[str, Array]:
        """Every parameter in canonical form by canonical name ``W0, b0, W1, ...``."""
        out = {}
        for i, (w, b) in enumerate(self.canonical_parameters()):
            out[weight_name(i)], out[bias_name(i)] = w, b
        return out

    def sizes(self) -> list[int]:
        """Layer sizes inferred from the weights, input first; raises if they don't chain."""
        shapes = []
        for layer in self.layers:
            raw = self.raw(layer.weight)
            if raw.ndim != 2:
                raise AdapterError(f"weight {layer.weight!r} must be 2-D, has shape {raw.shape}")
            shapes.append(raw.shape)
        sizes, bad = _chain(shapes, self.weight_layout, self.bias_layout == "folded")
        if bad is None:
            return sizes
        other = "out_in" if self.weight_layout == "in_out" else "in_out"
        hint = ""
        if _chain(shapes, other, self.bias_layout == "folded")[1] is None:
            hint = f"; the shapes would chain with weight_layout={other!r}"
        rows, cols = shapes[bad] if self.weight_layout == "in_out" else shapes[bad][::-1]
        n_in = rows - 1 if self.bias_layout == "folded" else rows
        raise AdapterError(
            f"shapes don't chain: layer {bad - 1} has {sizes[-1]} outputs but weight "
            f"{self.layers[bad].weight!r} of shape {shapes[bad]} read as "
            f"{self.weight_layout!r} takes {n_in} inputs{hint}"
        )

    def _dtypes(self) -> dict[str, np.dtype]:
        dtypes = {path: self.raw(path).dtype for path in self.parameter_paths()}
        bad = [p for p, d in dtypes.items() if d not in (np.float64, np.float32)]
        if bad:
            raise AdapterError(f"parameter {bad[0]!r} has dtype {dtypes[bad[0]]}; the check "
                               "needs float64 or float32 arrays")
        return dtypes

    def dtype(self) -> np.dtype:
        """The network's dtype: the parameters' common one (float64 or float32); when they mix
        the two, the weights' common dtype, or float64 if the weights mix them too.  The check
        runs in it and names the parameters stored otherwise (:meth:`odd_dtypes`): a finding
        about the network, not an adapter error."""
        dtypes = self._dtypes()
        kinds = set(dtypes.values())
        if len(kinds) == 1:
            return kinds.pop()
        weights = {dtypes[layer.weight] for layer in self.layers}
        return weights.pop() if len(weights) == 1 else np.dtype(np.float64)

    def odd_dtypes(self) -> dict[str, np.dtype]:
        """The parameters stored in another dtype than the network's (a float32 bias among
        float64 weights, a float64 one among float32), by path."""
        wide = self.dtype()
        return {p: d for p, d in self._dtypes().items() if d != wide}

    # --- names, shapes and elements as the user sees them --------------------------------

    def _unfold(self, w: Array) -> tuple[Array, Array]:
        """A folded ``(in + 1, out)`` weight -> canonical ``(W, b)``, ``b = c * row``."""
        W, row = (w[:-1], w[-1:]) if self.folded_at == "end" else (w[1:], w[:1])
        return W, row * self.folded_input if self.folded_input != 1 else row

    def _fold(self, W: Array, b: Array) -> Array:
        """Canonical ``(W, b)`` -> the folded ``(in + 1, out)`` weight (``row = b / c``)."""
        row = b * self.folded_input if self.folded_input != 1 else b
        return np.vstack([W, row] if self.folded_at == "end" else [row, W])

    def _folded_part(self, i: int, bias: bool) -> str:
        path = self.layers[i].weight
        row, rest = ("-1", ":-1") if self.folded_at == "end" else ("0", "1:")
        part = row if bias else rest
        return f"{path}[{part}]" if self.weight_layout == "in_out" else f"{path}[:, {part}]"

    def canonical_names(self) -> dict[str, str]:
        """Canonical name (``W0``, ``b0`` ...) → the user's name for it (biases of layers
        without bias are left out)."""
        names = {}
        for i, layer in enumerate(self.layers):
            if self.bias_layout == "folded":
                names[weight_name(i)] = self._folded_part(i, bias=False)
                names[bias_name(i)] = self._folded_part(i, bias=True)
                continue
            names[weight_name(i)] = layer.weight
            if layer.bias is not None:
                names[bias_name(i)] = layer.bias
        return names

    def user_shape(self, name: str, canonical_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape the user's array (or part of it) has for a canonical parameter."""
        rows, cols = canonical_shape
        if is_weight(name):
            return (rows, cols) if self.weight_layout == "in_out" else (cols, rows)
        if self.bias_layout == "folded":
            return (cols,)
        return {"row": (1, cols), "column": (cols, 1), "vector": (cols,)}.get(
            self.bias_layout, (1, cols))

    def element(self, name: str, index: tuple[int, ...]) -> str:
        """The user's expression for element ``index`` of canonical parameter ``name``."""
        i = layer_of(name)
        r, c = (int(index[0]), int(index[1])) if len(index) == 2 else (0, int(index[0]))
        if is_weight(name):
            idx = (r, c) if self.weight_layout == "in_out" else (c, r)
            return f"{self.layers[i].weight}[{idx[0]}, {idx[1]}]"
        if self.bias_layout == "folded":
            return f"{self._folded_part(i, bias=True)}[{c}]"
        path = self.layers[i].bias
        sub = {"row": f"0, {c}", "column": f"{c}, 0", "vector": f"{c}"}[self.bias_layout]
        return f"{path}[{sub}]"

    # --- gradients as returned by gradients() --------------------------------------------

    def gradient_arrays(self, grads: Mapping[str, Any]) -> dict[str, Array]:
        """The user's gradient arrays by parameter path (keys mapped through gradient_keys)."""
        if not isinstance(grads, Mapping):
            raise AdapterError(f"gradients(x, y) returned a {type(grads).__name__}, not a "
                               "mapping from parameter (or gradient_keys) names to arrays")
        keys = dict(self.gradient_keys or {})
        out: dict[str, Array] = {}
        for path in self.parameter_paths():
            key = keys.get(path, path)
            if key not in grads:
                kind = "weight" if any(layer.weight == path for layer in self.layers) else "bias"
                raise AdapterError(
                    f"gradients() returned no entry for {kind} {path!r} (looked for key "
                    f"{key!r}; it returned {sorted(map(str, grads))})"
                    + ("" if self.gradient_keys else "; map keys with gradient_keys")
                )
            arr = np.asarray(grads[key])
            if arr.dtype.kind not in "fiu":
                raise AdapterError(f"gradient for {path!r} is not numeric (dtype {arr.dtype})")
            out[path] = arr
        return out

    def canonical_gradient(self, name: str, raw: Mapping[str, Array]) -> Array | None:
        """Canonical parameter ``name``'s gradient from the raw arrays by path; ``None`` when
        the array's shape does not fit the parameter (the caller diagnoses that).

        A bias gradient of any shape holding exactly ``out`` entries in a line ((out,),
        (1, out) or (out, 1)) is accepted: with gradients returned, that is only a layout.
        """
        i = layer_of(name)
        layer = self.layers[i]
        wshape = self.raw(layer.weight).shape
        if is_weight(name) or self.bias_layout == "folded":
            g = raw[layer.weight]
            if g.shape != wshape:
                return None
            w = g if self.weight_layout == "in_out" else g.T
            if self.bias_layout == "folded":  # d/db = d/d(row) / c, and 1/c = c for c = +-1
                return self._unfold(w)[0 if is_weight(name) else 1]
            return w
        assert layer.bias is not None
        g = raw[layer.bias]
        n_out = wshape[1] if self.weight_layout == "in_out" else wshape[0]
        if g.ndim > 2 or g.size != n_out or (g.ndim == 2 and 1 not in g.shape):
            return None
        return g.reshape(1, n_out)

    # --- inputs and outputs --------------------------------------------------------------

    def to_user(self, rows: Array) -> Array:
        """Rows ``(batch, features)`` → the user's layout."""
        return rows if self.input_layout == "rows" else np.ascontiguousarray(rows.T)

    def targets_to_user(self, rows: Array) -> NDArray[Any]:
        """Target rows (one-hot for a class loss) → what the network takes: the user's layout,
        or class indices ``(batch,)`` as int64 with ``targets="index"``."""
        if self.targets == "index":
            return np.argmax(rows, axis=1).astype(np.int64)
        return self.to_user(rows)

    def from_user(self, value: Any, n_out: int, what: str) -> Array:
        """An output or target in the user's layout → rows ``(batch, n_out)``."""
        arr = np.asarray(value)
        if arr.ndim == 1:
            arr = arr[:, None] if self.input_layout == "rows" else arr[None, :]
        rows = arr if self.input_layout == "rows" else arr.T
        if rows.ndim != 2 or rows.shape[1] != n_out:
            raise AdapterError(
                f"{what} has shape {np.shape(value)}; with input_layout={self.input_layout!r} "
                f"and {n_out} outputs expected (batch, {n_out})"
                + ("" if self.input_layout == "rows" else f" transposed, i.e. ({n_out}, batch)")
            )
        return rows


def _chain(
    shapes: list[tuple[int, ...]], layout: str, folded: bool
) -> tuple[list[int], int | None]:
    """Sizes read from weight shapes under ``layout``, and the first layer that breaks the
    chain (``None`` when they chain)."""
    sizes: list[int] = []
    for i, shape in enumerate(shapes):
        rows, cols = shape if layout == "in_out" else shape[::-1]
        n_in = rows - 1 if folded else rows
        if i == 0:
            sizes.append(n_in)
        elif n_in != sizes[-1]:
            return sizes, i
        sizes.append(cols)
    return sizes, None


_TOKEN = re.compile(r"""\.?([A-Za-z_]\w*)|\[\s*(-?\d+)\s*\]|\[\s*(['"])(.*?)\3\s*\]""")


def resolve(root: Any, path: str) -> Any:
    """Follow ``path`` (attributes, ``[int]`` items, ``['key']`` entries) from ``root``."""
    obj, pos = root, 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if m is None or (pos == 0 and path.startswith(".")):
            raise AdapterError(f"cannot parse parameter path {path!r} at {path[pos:]!r}")
        attr, index, _, key = m.groups()
        try:
            if attr is not None:
                obj = getattr(obj, attr)
            elif index is not None:
                obj = obj[int(index)]
            else:
                obj = obj[key]
        except (AttributeError, IndexError, KeyError, TypeError) as exc:
            raise AdapterError(
                f"parameter path {path!r}: {path[:m.end()]!r} not found on the network "
                f"({type(exc).__name__}: {exc})"
            ) from None
        pos = m.end()
    return obj


def _put(root: Any, path: str, current: Array, value: Array) -> bool:
    """Write ``value`` into the array at ``path`` in place (``True``), or rebind ``path`` to a
    copy when the array is read-only (``False``)."""
    if current.flags.writeable:
        current[...] = value
        return True
    m = list(_TOKEN.finditer(path))
    parent = resolve(root, path[:m[-1].start()]) if len(m) > 1 else root
    attr, index, _, key = m[-1].groups()
    try:
        if attr is not None:
            setattr(parent, attr, value.copy())
        else:
            parent[int(index) if index is not None else key] = value.copy()
    except (AttributeError, TypeError) as exc:
        raise AdapterError(
            f"{path!r} is read-only and cannot be rebound ({exc}); the check sets every "
            "parameter to random values before comparing: give randomize=False in the "
            "adapter to keep the network's own") from None
    return False


def _checked(name: str, value: str, checked: tuple[str, ...], known: tuple[str, ...]) -> None:
    """``_choice`` among what the check supports, saying so for a name handnet knows."""
    if isinstance(value, str) and value in known and value not in checked:
        raise AdapterError(f"{name} is {value!r}: handnet trains it, but handnet check cannot "
                           f"check it yet; it checks {', '.join(checked)}")
    _choice(name, value, checked)
