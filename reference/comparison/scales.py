"""Error scales: how large a rounding difference between two correct implementations can be.

The tolerance policy (``reference.comparison.tolerance``) accepts ``|actual - expected| <= rtol *
scale`` with ``rtol`` a small multiple of the dtype's epsilon.  For a plain array the scale is
``max |expected|``.  But a value computed by a sum whose terms cancel carries rounding error of
the size of its *terms*, not of its result, and a derivative taken through a saturated output
(``s * (1 - s)`` with ``s`` within a few ulps of 1) carries error of the size of the derivative's
*magnitude*, not its value.  This module computes, from the twin (the reference, never the code
under test), the **first-order error scale** of the forward output, the loss and every gradient:
the error each value would carry if every intermediate value were perturbed by a relative
amount of 1, with independent perturbations adding in quadrature (the probabilistic model of
rounding errors: they behave like independent random variables, so sums of ``n`` of them grow
like ``sqrt(n)``, not ``n``).

Forward, layer ``i`` (``S_{-1} = |x|``; squares, square roots and ``@`` element-wise as written)::

    Z_i = sqrt(S_{i-1}**2 @ W_i**2 + b_i**2)       error scale of z_i = a_{i-1} @ W_i + b_i
    S_i = |f_i'(z_i)| * Z_i + |a_i| + tiny / eps    error scale of a_i = f_i(z_i)

(``tiny / eps``: below the smallest normal number ``tiny`` a result is only known to within
``tiny`` -- gradual underflow, or a sigmoid that flushes to zero where ``exp(-z)`` overflows, as
torch's and handnet's plain one do, beside one that returns the subnormal value, as
``handnet.fast``'s does -- and ``rtol >= eps`` turns this term into at least ``tiny``.)

Backward for ``sum(g * y_hat)`` with ``g`` exact (``E_{L-1} = 0``, ``g_{L-1} = g``)::

    m_i = |d f_i' / d a| * S_i + M_i                error scale of the derivative f_i', where
                                                    M_i = |a| (1 + |a|) (sigmoid), 1 + a**2
                                                    (tanh), 0 (relu, identity: exact)
    D_i = sqrt((E_i * f_i')**2 + (g_i * m_i)**2 + (g_i * f_i')**2)   error scale of delta_i
    scale(W_i) = sqrt(S_{i-1}**2 .T @ D_i**2)   scale(b_i) = sqrt(sum_batch D_i**2)
    E_{i-1}    = sqrt(D_i**2 @ (W_i**2).T)      g_{i-1} = (g_i * f_i') @ W_i.T

The softmax output layer (row by row, ``s = softmax(z)``, ``m = max z``, ``n(v)`` the row's
2-norm) is not element-wise.  ``ds_j = s_j (dz_j - sum_k s_k dz_k)``, and ``exp(z - m)`` carries
the rounding of the shift, ``|z - m|``::

    Zs = sqrt(Z**2 + (z - m)**2)
    S  = s * sqrt(Zs**2 + n(s * Zs)**2) + s + tiny / eps
    delta = s * (g - c), c = sum_k g_k s_k:
    D  = sqrt((s E)**2 + (s n(s E))**2 + ((|g - c| + s |g|) S)**2 + (s n(g S))**2
              + (s (|g| + sum_k |g_k s_k|))**2)

(the upstream's error, the output's error through the diagonal and through ``c``, and the
rounding of the cancelling ``g - c``).

In a well-conditioned computation every scale is about the size of the value itself; it grows
only where cancellation or saturation makes the value ill-conditioned.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray

from handnet.names import bias_name, weight_name
from reference.twin.losses import CLAMPED_LOSSES, SUMMED, get_torch_loss
from reference.twin.network import TwinNet, handnet_parameters

Array = NDArray[np.floating]


def _derivative_terms(name: str, a: Array, z: Array) -> tuple[Array, Array, Array]:
    """``(f'(z), |d f' / d a|, M)`` for activation ``name`` (see the module docstring)."""
    if name == "sigmoid":
        return a * (1.0 - a), np.abs(1.0 - 2.0 * a), np.abs(a) * (1.0 + np.abs(a))
    if name == "tanh":
        return 1.0 - a * a, 2.0 * np.abs(a), 1.0 + a * a
    if name == "relu":
        zero = np.zeros_like(z)
        return (z > 0).astype(np.float64), zero, zero
    if name == "identity":
        zero = np.zeros_like(z)
        return np.ones_like(z), zero, zero
    raise ValueError(f"unknown activation {name!r}")


def _forward(model: TwinNet, x: Array) -> tuple[list[Array], list[Array], list[Array]]:
    """The twin's ``z_i``, ``a_i`` (as float64) and the forward error scales ``S_i``."""
    params = {k: v.astype(np.float64) for k, v in handnet_parameters(model).items()}
    zs, acts, scales = [], [], []
    s_prev = np.abs(np.asarray(x, dtype=np.float64))
    info = np.finfo(np.dtype(str(model.dtype).removeprefix("torch.")))
    floor = float(info.tiny) / float(info.eps)
    with torch.no_grad():
        a = torch.tensor(x, dtype=model.dtype)
        for i, (linear, act) in enumerate(zip(model.linears, model._activations, strict=True)):
            z = linear(a)
            a = act(z)
            z64, a64 = z.double().numpy(), a.double().numpy()
            W, b = params[weight_name(i)], params[bias_name(i)]
            z_scale = np.sqrt(s_prev**2 @ W**2 + b**2)
            if model.activation_names[i] == "softmax":
                s_prev = _softmax_scale(z64, a64, z_scale) + floor
            else:
                d, _, _ = _derivative_terms(model.activation_names[i], a64, z64)
                s_prev = np.abs(d) * z_scale + np.abs(a64) + floor
            zs.append(z64)
            acts.append(a64)
            scales.append(s_prev)
    return zs, acts, scales


def _norm(v: Array) -> Array:
    """Each row's 2-norm, as a column."""
    return np.sqrt(np.sum(v * v, axis=1, keepdims=True))


def _softmax_scale(z: Array, s: Array, z_scale: Array) -> Array:
    """The error scale of ``s = softmax(z)`` (see the module docstring)."""
    zs = np.sqrt(z_scale**2 + (z - np.max(z, axis=1, keepdims=True)) ** 2)
    return s * np.sqrt(zs**2 + _norm(s * zs) ** 2) + s


def _softmax_delta(s: Array, s_scale: Array, g: Array, err: Array) -> tuple[Array, Array]:
    """``(delta, D**2)`` for the softmax layer: its VJP and its squared error scale."""
    c = np.sum(g * s, axis=1, keepdims=True)
    delta = s * (g - c)
    bound2 = ((s * err) ** 2 + (s * _norm(s * err)) ** 2
              + ((np.abs(g - c) + s * np.abs(g)) * s_scale) ** 2 + (s * _norm(g * s_scale)) ** 2
              + (s * (np.abs(g) + np.sum(np.abs(g * s), axis=1, keepdims=True))) ** 2)
    return delta, bound2


def kink_margin(model: TwinNet, x: Array) -> float:
    """The smallest ``|z| / S_z`` over the relu inputs (``S_z`` the first-order error scale of
    ``z``, as in :func:`vjp_scales`): how far, in units of its own rounding, a relu input is from
    the kink.  Units computed exactly (``S_z = 0``: an all-zero layer) are left out; ``inf``
    without relu."""
    zs, _, s_acts = _forward(model, x)
    params = {k: v.astype(np.float64) for k, v in handnet_parameters(model).items()}
    inputs = [np.abs(np.asarray(x, dtype=np.float64)), *s_acts[:-1]]
    margin = float("inf")
    for i, name in enumerate(model.activation_names):
        if name != "relu":
            continue
        W, b = params[weight_name(i)], params[bias_name(i)]
        z_scale = np.sqrt(inputs[i] ** 2 @ W**2 + b**2)
        inexact = z_scale > 0
        if np.any(inexact):
            margin = min(margin, float(np.min(np.abs(zs[i][inexact]) / z_scale[inexact])))
    return margin


def forward_scale(model: TwinNet, x: Array) -> Array:
    """The error scale of every output ``y_hat``."""
    return _forward(model, x)[2][-1]


def vjp_scales(model: TwinNet, x: Array, upstream: Array) -> dict[str, Array]:
    """The error scale of every parameter's (and ``x``'s) gradient of ``sum(upstream * y_hat)``."""
    zs, acts, s_acts = _forward(model, x)
    params = {k: v.astype(np.float64) for k, v in handnet_parameters(model).items()}
    inputs = [np.abs(np.asarray(x, dtype=np.float64)), *s_acts[:-1]]
    g = np.asarray(upstream, dtype=np.float64)
    err = np.zeros_like(g)
    out: dict[str, Array] = {}
    for i in reversed(range(len(model.linears))):
        if model.activation_names[i] == "softmax":
            delta, bound2 = _softmax_delta(acts[i], s_acts[i], g, err)
        else:
            d, dd_da, magnitude = _derivative_terms(model.activation_names[i], acts[i], zs[i])
            m = dd_da * s_acts[i] + magnitude
            bound2 = (err * d) ** 2 + (g * m) ** 2 + (g * d) ** 2
            delta = g * d
        out[weight_name(i)] = np.sqrt(inputs[i].T ** 2 @ bound2)
        out[bias_name(i)] = np.sqrt(bound2.sum(axis=0, keepdims=True))
        W = params[weight_name(i)]
        err = np.sqrt(bound2 @ (W**2).T)
        g = delta @ W.T
    out["x"] = err
    return {k: out[k] for k in [*params, "x"]}


def update_scales(model: TwinNet, x: Array, y: Array, loss: str) -> dict[str, Array]:
    """The error scale of every parameter's loss gradient (the twin's ``dL/dy_hat`` taken as the
    exact upstream): what one optimiser step multiplies by ``lr``."""
    dtype = model.dtype
    with torch.no_grad():
        y_hat = model(torch.tensor(x, dtype=dtype))
    p = y_hat.clone().requires_grad_(True)
    get_torch_loss(loss)(p, torch.tensor(y, dtype=dtype)).backward()
    assert p.grad is not None
    scales = vjp_scales(model, x, p.grad.double().numpy())
    del scales["x"]
    return scales


def loss_sensitivity(loss: str, p: Array, y: Array) -> Array:
    """``|dL/dy_hat|`` element-wise for ``loss`` with its reduction over all of ``p``.

    For BCE (mean or sum) this is the exact derivative of the clamped loss, ``y / p`` where
    ``log p > -100`` plus ``(1 - y) / (1 - p)`` where ``log(1 - p) > -100`` (over ``N`` for the
    mean) -- not torch's gradient, whose denominator is clamped at 1e-12 to keep training
    finite.  For every other loss it is the twin's autograd gradient at ``p``.
    """
    p, y = np.asarray(p, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if loss == "half-sse":
        return np.abs(p - y)
    if loss == "mse":
        return 2.0 * np.abs(p - y) / y.size
    if loss in CLAMPED_LOSSES:
        with np.errstate(divide="ignore", invalid="ignore"):
            d_p = np.where(np.log(p) > -100.0, y / p, 0.0)
            d_q = np.where(np.log1p(-p) > -100.0, (1.0 - y) / (1.0 - p), 0.0)
        total = np.abs(np.nan_to_num(d_p)) + np.abs(np.nan_to_num(d_q))
        return total if loss in SUMMED else total / y.size
    pt = torch.tensor(p, requires_grad=True)
    get_torch_loss(loss)(pt, torch.tensor(y)).backward()
    assert pt.grad is not None
    return np.abs(pt.grad.numpy())


def loss_scale(loss: str, p: Array, y: Array, p_scale: Array, value: float) -> float:
    """The error scale of a loss ``value`` at outputs ``p`` whose error scale is ``p_scale``:
    ``sum |dL/dp| * S(p) + |L|`` plus ``loss_value_scale`` (near 0 or 1 the BCE's logs amplify
    last-bit differences of ``p`` a great deal, and this says by how much)."""
    return float(np.sum(loss_sensitivity(loss, p, y) * p_scale) + abs(value)
                 + loss_value_scale(loss, p, y))


def loss_value_scale(loss: str, p: Array, y: Array) -> float:
    """The error scale of a loss *value* from its own evaluation at exact ``p`` (beyond
    ``|L|``), where its terms cancel.  BCE on logits is written ``max(z, 0) - z y +
    log(1 + exp(-|z|))`` or, as torch does, with ``log(exp(-m) + exp(-z - m))``: a log whose
    argument is at least 1 is known to ``eps`` absolutely, not relatively, so a sure and right
    logit (loss ``e^-50`` = 2e-22 at ``z = 50``) comes out as 0 from torch and as 2e-22 from
    ``log1p``; the scale is the terms' magnitude ``max(z, 0) + |z y| + 1``, reduced like the loss.
    Every other loss's terms share a sign (0 here: ``|L|`` is their scale)."""
    if loss not in ("bce-logits", "bce-logits-sum"):
        return 0.0
    z, t = np.asarray(p, dtype=np.float64), np.asarray(y, dtype=np.float64)
    terms = np.maximum(z, 0.0) + np.abs(z * t) + 1.0
    return float(np.sum(terms) if loss in SUMMED else np.mean(terms))


def history_loss_scale(loss: str, p: Array, y: Array, p_scale: Array, value: float) -> float:
    """``loss_scale`` of the history's figure, the mean per-sample loss over ``N`` rows: the
    loss itself for the averaged losses, the summed loss over ``N`` for the summed ones."""
    rows = len(p) if loss in SUMMED else 1
    return float((np.sum(loss_sensitivity(loss, p, y) * p_scale) + loss_value_scale(loss, p, y))
                 / rows + abs(value))
