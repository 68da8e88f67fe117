"""Simulate a network with one specific backprop mistake (the diagnosis's hypotheses).

A small manual NumPy forward/backward, written here independently of ``handnet``'s network
code, in canonical form (``W`` (in, out), ``b`` (1, out), rows ``(batch, features)``), always in
float64.  Each :class:`Mutation` changes exactly one rule; ``Mutation()`` is the correct
backward.

The losses' derivatives (:data:`LOSS_DERIVATIVES`, the one table) and the softmax with its
Jacobian-vector product are written here again, on purpose, not imported from
``handnet.losses`` / ``handnet.softmax``: the diagnosis must stay independent of the code it
is used to diagnose.  The planted-bug catalogue (``planted_bugs/``) plants bugs in exactly those
handnet functions and checks handnet's own network; a diagnosis built on them simulates the
bug as the *correct* network.  Measured when they were shared: with half-MSE's ``1/N`` dropped
in ``handnet.losses``, the "schedule gamma" variant (identical to the right schedule at
``lr_gamma = 0.5``) "reproduced" the wrong updates and was ranked first.  BCE's clamp is torch's
constant as the twin states it (``reference.twin.losses.TORCH_BCE_CLAMP``), not a copy.

Forward, layer ``i``: ``z_i = a_{i-1} @ W_i + b_i``, ``a_i = f_i(z_i)``, ``a_{-1} = x``.
Backward, with ``g_{L-1} = dL/da_{L-1}`` from the loss::

    delta_i  = g_i * f_i'          (f' written through the output a_i, as torch and the seed;
                                    a softmax layer: s * (g_i - sum_j g_ij s_j), row by row)
    dW_i     = a_{i-1}.T @ delta_i
    db_i     = sum over the batch of delta_i
    g_{i-1}  = delta_i @ W_i.T

Mutations (``layer`` is ``i``; ``-1`` means every layer — for the derivative mutations, every
layer whose activation is ``Mutation.activation``, the helper-function-misused-everywhere bug):

* ``deriv_at_preactivation``: ``f'`` written through the output, evaluated at ``z``
  (sigmoid: ``z * (1 - z)``; tanh: ``1 - z**2``).
* ``deriv_at_output``: ``f'`` written through the pre-activation, evaluated at ``a``
  (sigmoid: ``s(a) * (1 - s(a))``; tanh: ``1 - tanh(a)**2``).
* ``deriv_missing``: ``delta_i = g_i`` (no ``f'``).
* ``relu_at_zero``: relu's derivative taken as 1 at ``z = 0`` (``z >= 0``; torch's is 0 there).
* ``loss``: ``g_{L-1}`` is the derivative of another loss (:data:`LOSS_DERIVATIVES`).
* ``softmax_elementwise``: a softmax layer's backward taken element-wise, ``g * s * (1 - s)``
  (the diagonal of its Jacobian, as for a sigmoid) instead of ``s * (g - sum(g * s))``.
* ``softmax_twice``: the fused softmax cross-entropy gradient ``softmax(z) - y`` (reduced as the
  stated loss) is taken as ``dL/ds`` and pushed through the softmax's backward once more
  (``activation="vjp"``: its Jacobian-vector product, ``"elementwise"``: ``s * (1 - s)``).
* ``after_update``: ``g_{i} = delta_{i+1} @ W'_{i+1}.T`` with ``W'_{i+1}`` already updated by
  the first step's update (``layer=-1``: at every layer, the update-inside-the-loop bug).
* ``wrong_layer_weights``: ``g_{i-1} = delta_i @ W_{i+k}.T`` with ``k = Mutation.offset``
  (``-1``: the layer below's weights, ``+1``: the layer above's) at layer ``i`` (``layer=-1``:
  at every layer where that weight exists and has ``W_i``'s shape — elsewhere a shape error).

:func:`trajectory` runs ``K`` optimiser steps (both momentum conventions, biases in or out of
momentum, weights with or without momentum, any lr schedule, the other convention's Nesterov
formula, weight decay decoupled from the gradient) for the trajectory hypotheses.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from handnet.names import bias_name, is_bias, weight_name
from reference.checker.simulate_adaptive import AdaptiveConfig
from reference.twin.losses import TORCH_BCE_CLAMP

Array = NDArray[np.floating]
Params = Sequence[tuple[Array, Array]]


def _sigmoid(z: Array) -> Array:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


FORWARD: dict[str, Callable[[Array], Array]] = {
    "softmax": lambda z: _softmax(z),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "identity": lambda z: z,
}

DERIVATIVE_MUTATIONS = ("deriv_at_preactivation", "deriv_at_output", "deriv_missing",
                        "relu_at_zero", "softmax_elementwise")


def has_distinct_mutation(activation: str, kind: str) -> bool:
    """Whether ``kind`` changes anything for ``activation`` (relu and identity are immune to
    the at-z/at-a confusion; identity's derivative is 1, so "missing" changes nothing)."""
    if kind == "deriv_missing":
        return activation != "identity"
    if kind == "softmax_elementwise":
        return activation == "softmax"
    if kind == "relu_at_zero":
        return activation == "relu"
    return activation in ("sigmoid", "tanh")


def derivative(activation: str, z: Array, a: Array, kind: str = "") -> Array:
    """``f'`` for ``delta = g * f'``, right (``kind=""``) or with one derivative mutation."""
    if kind == "deriv_missing":
        return np.ones_like(z)
    if activation == "sigmoid":
        if kind == "deriv_at_preactivation":
            return z * (1.0 - z)
        s = _sigmoid(a) if kind == "deriv_at_output" else a
        return s * (1.0 - s)
    if activation == "tanh":
        if kind == "deriv_at_preactivation":
            return 1.0 - z * z
        t = np.tanh(a) if kind == "deriv_at_output" else a
        return 1.0 - t * t
    if activation == "relu":
        return ((z >= 0) if kind == "relu_at_zero" else (z > 0)).astype(np.float64)
    return np.ones_like(z)


def _softmax(z: Array) -> Array:
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def _softmax_vjp(s: Array, g: Array) -> Array:
    """``dL/dz = s * (g - sum_j g_j s_j)`` row by row, from ``s = softmax(z)`` and ``g = dL/ds``."""
    return s * (g - np.sum(g * s, axis=1, keepdims=True))


def _bce_core(p: Array, y: Array) -> Array:
    return (p - y) / np.maximum(p * (1.0 - p), TORCH_BCE_CLAMP)


def _fused(z: Array, y: Array) -> Array:
    """Softmax cross-entropy's gradient on logits, ``softmax(z) * sum_j y_j - y`` per row."""
    return _softmax(z) * np.sum(y, axis=1, keepdims=True) - y


LossFn = Callable[[Array, Array], Array]

# THE table of dL/dy_hat for y_hat, y of shape (batch, out) (class targets as rows): key ->
# (description, derivative).  One entry per loss an adapter can state (``handnet.losses``'
# names; ``tests/test_simulate_pins.py`` holds it to that list and to numbers worked by hand),
# then two reductions no declared loss has (mistakes only).  B is the batch, N every element.
LOSS_DERIVATIVES: dict[str, tuple[str, LossFn]] = {
    "half-sse": ("0.5 * sum((y_hat - y)**2), summed over the batch", lambda p, y: p - y),
    "sse": ("sum((y_hat - y)**2): the factor 2 kept, summed", lambda p, y: 2.0 * (p - y)),
    "mse": ("mse, mean((y_hat - y)**2) over every element", lambda p, y: 2.0 * (p - y) / p.size),
    "half-mse": ("0.5 * mean((y_hat - y)**2) over every element (mse with the factor 2 "
                 "dropped)", lambda p, y: (p - y) / p.size),
    "bce": ("binary cross-entropy, mean over every element",
            lambda p, y: _bce_core(p, y) / p.size),
    "bce-sum": ("binary cross-entropy, summed", _bce_core),
    "bce-logits": ("binary cross-entropy on logits, mean over every element: (sigmoid(z) - y) "
                   "/ N", lambda z, y: (_sigmoid(z) - y) / z.size),
    "bce-logits-sum": ("binary cross-entropy on logits, summed: sigmoid(z) - y",
                       lambda z, y: _sigmoid(z) - y),
    "softmax-ce": ("softmax cross-entropy on logits, mean over the batch: (softmax(z) - y) / B",
                   lambda z, y: _fused(z, y) / z.shape[0]),
    "softmax-ce-sum": ("softmax cross-entropy on logits, summed: softmax(z) - y", _fused),
    "ce": ("cross-entropy on the softmax's probabilities, mean over the batch: -y / p / B",
           lambda p, y: -y / p / p.shape[0]),
    "ce-sum": ("cross-entropy on the softmax's probabilities, summed: -y / p",
               lambda p, y: -y / p),
    "half-sse-mean": ("0.5 * sum((y_hat - y)**2) averaged over the batch",
                      lambda p, y: (p - y) / p.shape[0]),
    "mse-batch": ("sum((y_hat - y)**2) averaged over the batch only",
                  lambda p, y: 2.0 * (p - y) / p.shape[0]),
}
# What each stated loss takes (None: any output; as ``handnet.losses.Loss.output_activation``).
TAKES = {"bce": "sigmoid", "bce-sum": "sigmoid", "bce-logits": "identity",
         "bce-logits-sum": "identity", "softmax-ce": "identity", "softmax-ce-sum": "identity",
         "ce": "softmax", "ce-sum": "softmax"}
CLASS_KEYS = ("softmax-ce", "softmax-ce-sum", "ce", "ce-sum")

# The key of the loss each stated (handnet) loss name means.
STATED_LOSS = {name: name for name in LOSS_DERIVATIVES if name not in ("half-sse-mean",
                                                                       "mse-batch")}

# The fused softmax cross-entropy on logits with the reduction of each softmax-layer loss.
FUSED = {"ce": "softmax-ce", "ce-sum": "softmax-ce-sum", "softmax-ce": "softmax-ce",
         "softmax-ce-sum": "softmax-ce-sum"}


def loss_fits_output(name: str, output_activation: str, n_out: int) -> bool:
    """Whether loss ``name`` could be what a network with this output layer computes (a loss
    on probabilities needs its output layer; a class loss two outputs at least)."""
    if name in CLASS_KEYS and n_out < 2:
        return False
    return TAKES.get(name) in (None, output_activation)


@dataclass(frozen=True)
class Mutation:
    """One changed rule (see the module docstring); the default is the correct backward."""

    kind: str = ""
    layer: int = -1
    loss: str = ""
    activation: str = ""  # with layer=-1: at every layer of this activation ("*": every layer)
    offset: int = 0  # wrong_layer_weights: layer i's delta pushed back through W_{i+offset};
    # deriv_other_layer: layer i's derivative taken at layer i+offset's z and a

    def derivative_kind(self, i: int, activation: str) -> str:
        """The derivative mutation in force at layer ``i`` ("" for the right one)."""
        if self.kind not in DERIVATIVE_MUTATIONS:
            return ""
        if self.layer == i or (self.layer == -1 and self.activation in ("*", activation)):
            return self.kind
        return ""


def softmax_delta(s: Array, g: Array, kind: str = "") -> Array:
    """A softmax layer's ``delta = dL/dz`` from its output ``s`` and ``g = dL/ds``: the
    Jacobian-vector product ``s * (g - sum(g * s))`` (``handnet.softmax.softmax_vjp``), or under
    a mutation the diagonal alone ``g * s * (1 - s)`` (``softmax_elementwise``) or ``g``
    (``deriv_missing``)."""
    if kind == "softmax_elementwise":
        return g * s * (1.0 - s)
    if kind == "deriv_missing":
        return g
    return _softmax_vjp(s, g)


UpdateFn = Callable[[str, Array, Array], Array]


def forward(params: Params, activations: Sequence[str], x: Array) -> tuple[list[Array],
                                                                             list[Array]]:
    """Pre-activations ``z_i`` and outputs ``a_i`` of every layer."""
    zs: list[Array] = []
    outs: list[Array] = []
    a = x
    for (W, b), act in zip(params, activations, strict=True):
        z = a @ W + b
        a = FORWARD[act](z)
        zs.append(z)
        outs.append(a)
    return zs, outs


def backward(
    params: Params,
    activations: Sequence[str],
    x: Array,
    y: Array,
    loss: str,
    mutation: Mutation = Mutation(),
    update: UpdateFn | None = None,
) -> tuple[dict[str, Array], list[Array]]:
    """Gradients ``W{i}``/``b{i}`` and the deltas of every layer under ``mutation``.

    ``loss`` is a key of :data:`LOSS_DERIVATIVES` (a ``loss`` mutation replaces it).
    ``update(name, grad, W)`` gives the first step's update of ``W`` (``after_update`` only).
    """
    zs, outs = forward(params, activations, x)
    inputs = [x, *outs[:-1]]
    key = mutation.loss if mutation.kind == "loss" else loss
    g = LOSS_DERIVATIVES[key][1](outs[-1], y)
    if mutation.kind == "softmax_twice":  # the fused gradient from the logits, then a softmax
        g = LOSS_DERIVATIVES[FUSED[loss]][1](zs[-1], y)
    grads: dict[str, Array] = {}
    deltas: list[Array] = [np.empty(0)] * len(params)
    for i in reversed(range(len(params))):
        kind = mutation.derivative_kind(i, activations[i])
        z_i, a_i = zs[i], outs[i]
        k = i + mutation.offset
        if mutation.kind == "deriv_other_layer" and mutation.layer == i \
                and 0 <= k < len(params) and outs[k].shape == a_i.shape:
            z_i, a_i = zs[k], outs[k]  # f' of layer i's activation at layer k's z and a
        if mutation.kind == "softmax_twice" and i == len(params) - 1:
            s = _softmax(z_i)
            delta = _softmax_vjp(s, g) if mutation.activation == "vjp" else g * s * (1.0 - s)
        elif activations[i] == "softmax":
            delta = softmax_delta(a_i, g, kind)
        else:
            delta = g * derivative(activations[i], z_i, a_i, kind)
        deltas[i] = delta
        grads[weight_name(i)] = inputs[i].T @ delta
        grads[bias_name(i)] = delta.sum(axis=0, keepdims=True)
        W = params[i][0]
        k = i + mutation.offset
        if mutation.kind == "wrong_layer_weights" and mutation.layer in (-1, i) \
                and 0 <= k < len(params) and params[k][0].shape == W.shape:
            W = params[k][0]
        if mutation.kind == "after_update" and mutation.layer in (-1, i - 1):
            if update is None:
                raise ValueError("the after_update mutation needs the update rule")
            W = W - update(weight_name(i), grads[weight_name(i)], W)
        g = delta @ W.T
    return grads, deltas


@dataclass(frozen=True)
class OptConfig:
    """An SGD configuration (``handnet.optim.SGD``'s meaning) plus the variants hypotheses need.

    ``weight_momentum=False`` leaves the weights out of momentum (or, the same thing, resets
    their buffer every step).  ``nesterov_formula`` (``"classic"`` or ``"torch"``; ``""``: the
    style's own) steps with the other convention's Nesterov formula on this style's buffer:
    classic's buffer with torch's ``lr * (g + m * u)`` gives the look-ahead lr twice, torch's
    buffer with classic's ``lr * g + m * u`` gives it none.  ``decoupled_decay`` applies weight
    decay to the parameter directly, ``p -= lr * wd * p``, leaving ``g`` (and so the momentum
    buffer) without it.  ``bias_decay=False`` leaves the biases out of the weight decay (torch's
    SGD decays every parameter it is given).  ``after_use`` names the parameters (``"*"``: all)
    stepped with the buffer as it was before this step's gradient went in
    (``p -= u; u = m * u + lr * g``: every step one behind, nothing moves on the first).
    ``average`` keeps the buffer as a moving average of the gradients, ``v = m v + (1 - m) g``
    from the first step on (the form some courses teach), so every update is ``1 - m`` times
    the stated convention's.
    """

    lr: float
    momentum: float = 0.0
    style: str = "classic"
    bias_momentum: bool = True
    nesterov: bool = False
    weight_decay: float = 0.0
    weight_momentum: bool = True
    nesterov_formula: str = ""
    decoupled_decay: bool = False
    bias_decay: bool = True
    after_use: tuple[str, ...] = ()
    average: bool = False

    def uses_momentum(self, name: str) -> bool:
        if self.momentum == 0:
            return False
        return self.bias_momentum if is_bias(name) else self.weight_momentum

    def first_step_scale(self, name: str) -> float:
        """The first step from zero buffers is ``lr * s * (g + wd * p)``; this is ``s``."""
        return 1.0 + self.momentum if self.nesterov and self.uses_momentum(name) else 1.0


def step_lr(lr0: float, lr_epoch: int, factor: float, shift: int = 0) -> Callable[[int], float]:
    """``lr(t) = lr0 * factor ** ((t + shift) // lr_epoch)`` (repeated multiplication, as
    StepLR); ``shift=+1`` decays one step early, ``-1`` one step late."""

    def lr_at(t: int) -> float:
        lr = lr0
        if lr_epoch > 0:
            for _ in range(max(t + shift, 0) // lr_epoch):
                lr *= factor
        return lr

    return lr_at


def trajectory(
    params: Params,
    activations: Sequence[str],
    loss: str,
    batches: Sequence[tuple[Array, Array]],
    opt: OptConfig | AdaptiveConfig,
    lr_at: Callable[[int], float],
    trainable: Collection[str] | None = None,
) -> list[dict[str, Array]]:
    """The update ``p_{t-1} - p_t`` of every parameter at every step ``t`` (one per batch);
    parameters not in ``trainable`` (when given: biases of a network without them) stay.
    An :class:`AdaptiveConfig` steps Adam, AdamW, RMSprop or Adagrad (with its variant)."""
    current = {}
    for i, (W, b) in enumerate(params):
        current[weight_name(i)], current[bias_name(i)] = W.astype(np.float64), b.astype(np.float64)
    buffers: dict[str, Array] = {}
    states: dict[str, dict[str, Array]] = {}
    updates = []
    n = len(params)
    for t, (x, y) in enumerate(batches):
        lr = lr_at(t)
        layers = [(current[weight_name(i)], current[bias_name(i)]) for i in range(n)]
        grads, _ = backward(layers, activations, x, y, loss)
        step = {}
        for name, p in current.items():
            if trainable is not None and name not in trainable:
                continue
            if isinstance(opt, AdaptiveConfig):
                step[name] = opt.update(name, p, grads[name], lr, states.setdefault(name, {}))
                continue
            wd = opt.weight_decay if opt.bias_decay or not is_bias(name) else 0.0
            coupled = wd and not opt.decoupled_decay
            g = grads[name] + wd * p if coupled else grads[name]
            formula = opt.nesterov_formula or opt.style
            if not opt.uses_momentum(name):
                u = lr * g
            else:
                old = buffers.get(name, np.zeros_like(p))
                gb = (1 - opt.momentum) * g if opt.average else g  # the buffer's share of g
                if opt.style == "torch":
                    v = gb if name not in buffers else opt.momentum * buffers[name] + gb
                else:
                    v = lr * gb if name not in buffers else opt.momentum * buffers[name] + lr * gb
                buffers[name] = v
                if name in opt.after_use or "*" in opt.after_use:
                    v = old
                if not opt.nesterov:
                    u = lr * v if opt.style == "torch" else v
                elif formula == "torch":
                    u = lr * (g + opt.momentum * v)
                else:
                    u = lr * g + opt.momentum * v
            if wd and opt.decoupled_decay:
                u = u + lr * wd * p
            step[name] = u
        for name, u in step.items():
            current[name] = current[name] - u
        updates.append(step)
    return updates
