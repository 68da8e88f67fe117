"""The numba-compiled per-sample epoch behind ``handnet.fast`` (imported only when numba is).

One call runs a whole epoch of batch-size-1 steps, each exactly the plain path's step::

    forward   z_l = a_{l-1} @ W_l + b_l,  a_l = f_l(z_l)
    output    g = dL/dy_hat                         (half-sse, mse or bce, as handnet.losses)
    backward  delta_l = g_l * f_l'(z_l, a_l);  g_{l-1} = delta_l @ W_l.T   (old weights)
    update    dW_l = a_{l-1}.T @ delta_l,  db_l = delta_l,  then the SGD rule of handnet.optim

Layer ``l``'s update is fused with the computation of ``g_{l-1}`` row by row: row ``i`` of
``W_l`` is read for ``g_{l-1}[i]`` and only then overwritten, so every delta still sees the
weights from before the step (the plain path's "all deltas before any update").  The update of
one parameter never depends on another's, so the order of the updates does not matter.

Rounding.  The element-wise arithmetic of deltas, loss gradients and updates is written in the
same order as the NumPy expression it mirrors, compiled without fused multiply-adds or
reassociation, so it rounds the same way.  Three things differ from the plain path at the level
of rounding only:

* the dot products sum in a different order from BLAS (``a @ W`` sequentially over ``i``,
  multiply-adds fused; ``delta @ W.T`` reassociated so that it vectorises), as BLAS itself
  differs from one machine to the next;
* ``exp`` is a vectorisable polynomial (``_exp``, within 1 ulp of the C library's),
  where NumPy uses its own SIMD ``exp``;
* a momentum buffer's first step is computed as ``m * 0 + g`` (torch) or ``m * 0 + lr * g``
  (classic), equal in value to the plain path's ``g`` and ``lr * g`` (only the sign of a zero
  can differ).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

# Activation codes (handnet.fast.ACT_CODES) and loss codes (handnet.fast.LOSS_CODES).
SIGMOID, TANH, RELU, IDENTITY = 0, 1, 2, 3
HALF_SSE, MSE, BCE = 0, 1, 2
# Update rules per parameter.
PLAIN, TORCH, CLASSIC = 0, 1, 2

BCE_EPS = 1e-12
BCE_LOG_FLOOR = -100.0

# exp on [EXP_MIN, EXP_MAX]:  x = k ln2 + r with |r| <= ln2 / 2 (Cody-Waite split of ln2,
# fdlibm's constants), exp(r) by its Taylor polynomial to degree 13 (truncation < 5e-18), times
# 2**k built from the exponent bits (k in [-1021, 1023]).  Below EXP_MIN the result would be
# subnormal, above EXP_MAX it is near or past overflow: the C library's exp takes over there
# (and for NaN), outside the vectorised loop.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_SHIFT = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer
EXP_MIN = -708.0
EXP_MAX = 709.0
_C = (
    1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
    1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800,
)


@intrinsic
def _bits_to_float(typingctx, bits):  # type: ignore[no-untyped-def]
    """Reinterpret an int64's bits as a float64 (an LLVM bitcast)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


@njit(cache=True, inline="always")
def _exp(x):  # type: ignore[no-untyped-def]
    """exp(x) for EXP_MIN <= x <= EXP_MAX, branch-free so that loops over it vectorise."""
    kd = (x * _INV_LN2 + _SHIFT) - _SHIFT  # round(x / ln2), in [-1021, 1023]
    r = (x - kd * _LN2_HI) - kd * _LN2_LO
    p = _C[11]
    p = _C[10] + r * p
    p = _C[9] + r * p
    p = _C[8] + r * p
    p = _C[7] + r * p
    p = _C[6] + r * p
    p = _C[5] + r * p
    p = _C[4] + r * p
    p = _C[3] + r * p
    p = _C[2] + r * p
    p = _C[1] + r * p
    p = _C[0] + r * p
    p = 1.0 + (r + r * (r * p))
    k = np.int64(kd)
    return p * _bits_to_float((k + 1023) << 52)


@njit(cache=True, inline="always")
def _in_range(x):  # type: ignore[no-untyped-def]
    return x >= EXP_MIN and x <= EXP_MAX  # False for NaN


@njit(cache=True, fastmath={"contract"})
def exp(x, out):  # type: ignore[no-untyped-def]
    """out = exp(x) elementwise (the kernel's exp, as the sigmoid uses it; exposed for tests)."""
    for j in range(x.shape[0]):
        out[j] = math.exp(x[j]) if not _in_range(x[j]) else _exp(x[j])


@njit(cache=True, inline="always", fastmath={"contract"})
def _sigmoid(z, a):  # type: ignore[no-untyped-def]
    """a = 1 / (1 + exp(-z)), as handnet.activations.sigmoid (0 where exp(-z) overflows).

    ``a`` may be ``z`` itself.  A first pass checks that every ``-z`` is in the polynomial's
    range; then exp and the quotient each take a vectorised pass (fused into one, LLVM
    vectorises neither).  Otherwise (subnormal or overflowing exp, infinities, NaN: rare) one
    scalar pass takes the C library's exp where the polynomial's range ends.
    """
    n = z.shape[0]
    outside = 0
    for j in range(n):
        outside += 0 if _in_range(-z[j]) else 1
    if outside == 0:
        for j in range(n):
            a[j] = _exp(-z[j])
        for j in range(n):
            a[j] = 1.0 / (1.0 + a[j])
        return
    for j in range(n):
        x = -z[j]
        a[j] = 1.0 / (1.0 + (_exp(x) if _in_range(x) else math.exp(x)))


@njit(cache=True, fastmath={"contract"})
def activate(code, z, a):  # type: ignore[no-untyped-def]
    """a = f(z) elementwise on 1-D arrays (f by its code), as handnet.activations computes it.

    ``a`` may be ``z`` itself."""
    n = z.shape[0]
    if code == SIGMOID:
        _sigmoid(z, a)
    elif code == TANH:
        for j in range(n):
            a[j] = math.tanh(z[j])
    elif code == RELU:
        for j in range(n):
            zj = z[j]
            a[j] = zj if (zj > 0.0 or zj != zj) else 0.0
    else:
        for j in range(n):
            a[j] = z[j]


@njit(cache=True, fastmath={"contract"})
def _affine(W, b, a_in, z):  # type: ignore[no-untyped-def]
    """z = a_in @ W + b, summed over i in order (multiply-adds may be fused)."""
    ni, no = W.shape
    for j in range(no):
        z[j] = 0.0
    i = 0
    while i + 4 <= ni:  # four rows per pass over z, in the same order as one at a time
        a0, a1, a2, a3 = a_in[i], a_in[i + 1], a_in[i + 2], a_in[i + 3]
        w0, w1, w2, w3 = W[i], W[i + 1], W[i + 2], W[i + 3]
        for j in range(no):
            z[j] = (((z[j] + a0 * w0[j]) + a1 * w1[j]) + a2 * w2[j]) + a3 * w3[j]
        i += 4
    while i < ni:
        ai = a_in[i]
        wi = W[i]
        for j in range(no):
            z[j] = z[j] + ai * wi[j]
        i += 1
    b0 = b[0]
    for j in range(no):
        z[j] = z[j] + b0[j]


@njit(cache=True)
def _forward(Ws, bs, acts, x_row, A, Z, off):  # type: ignore[no-untyped-def]
    n_in = x_row.shape[0]
    for i in range(n_in):
        A[i] = x_row[i]
    for layer in range(len(acts)):
        lo, mid, hi = off[layer], off[layer + 1], off[layer + 1] + Ws[layer].shape[1]
        _affine(Ws[layer], bs[layer], A[lo:mid], Z[mid:hi])
        activate(acts[layer], Z[mid:hi], A[mid:hi])


@njit(cache=True, fastmath={"reassoc", "nsz", "contract"})
def _dot(w, d):  # type: ignore[no-untyped-def]
    """sum_j w[j] * d[j], reassociated so that it vectorises (multiply-adds may be fused)."""
    s = 0.0
    for j in range(w.shape[0]):
        s += w[j] * d[j]
    return s


@njit(cache=True, inline="always")
def _step(p, u, ai, d, rule, nesterov, lr, m, wd):  # type: ignore[no-untyped-def]
    """handnet.optim.SGD.step on one row, gradient ``g[j] = ai * d[j]``: p, u in place.

    Each rule has its own loop, and weight decay (``g + wd * p``) its own set of loops, so that
    no loop carries a branch (LLVM does not unswitch these by itself).
    """
    n = p.shape[0]
    if wd != 0.0:
        _step_decay(p, u, ai, d, rule, nesterov, lr, m, wd)
    elif rule == PLAIN:
        for j in range(n):
            p[j] = p[j] - lr * (ai * d[j])
    elif rule == TORCH:
        if nesterov:
            for j in range(n):
                g = ai * d[j]
                uj = m * u[j] + g
                u[j] = uj
                p[j] = p[j] - lr * (g + m * uj)
        else:
            for j in range(n):
                uj = m * u[j] + ai * d[j]
                u[j] = uj
                p[j] = p[j] - lr * uj
    elif nesterov:
        for j in range(n):
            g = ai * d[j]
            uj = m * u[j] + lr * g
            u[j] = uj
            p[j] = p[j] - (lr * g + m * uj)
    else:
        for j in range(n):
            uj = m * u[j] + lr * (ai * d[j])
            u[j] = uj
            p[j] = p[j] - uj


@njit(cache=True, inline="always")
def _step_decay(p, u, ai, d, rule, nesterov, lr, m, wd):  # type: ignore[no-untyped-def]
    """_step with weight decay: ``g = ai * d[j] + wd * p[j]`` (the old p)."""
    for j in range(p.shape[0]):
        g = ai * d[j] + wd * p[j]
        if rule == PLAIN:
            p[j] = p[j] - lr * g
            continue
        if rule == TORCH:
            uj = m * u[j] + g
            u[j] = uj
            p[j] = p[j] - (lr * (g + m * uj) if nesterov else lr * uj)
        else:
            uj = m * u[j] + lr * g
            u[j] = uj
            p[j] = p[j] - ((lr * g + m * uj) if nesterov else uj)


@njit(cache=True, inline="always")
def _delta(code, g, z, a, delta):  # type: ignore[no-untyped-def]
    """delta = g * f'(z), f' written as handnet.activations writes it."""
    n = delta.shape[0]
    if code == SIGMOID:
        for j in range(n):
            delta[j] = g[j] * (a[j] * (1.0 - a[j]))
    elif code == TANH:
        for j in range(n):
            delta[j] = g[j] * (1.0 - a[j] * a[j])
    elif code == RELU:
        for j in range(n):
            delta[j] = g[j] * (1.0 if z[j] > 0 else 0.0)
    else:
        for j in range(n):
            delta[j] = g[j] * 1.0


@njit(cache=True, inline="always")
def _loss_gradient(loss, p, t, g):  # type: ignore[no-untyped-def]
    """g = dL/dp as handnet.losses writes it (N = p.size); one branch-free loop per loss."""
    n = p.shape[0]
    if loss == HALF_SSE:
        for j in range(n):
            g[j] = p[j] - t[j]
    elif loss == MSE:
        for j in range(n):
            g[j] = 2.0 * (p[j] - t[j]) / n
    else:
        for j in range(n):
            den = p[j] * (1.0 - p[j])
            g[j] = (p[j] - t[j]) / (BCE_EPS if den < BCE_EPS else den) / n  # NaN stays NaN


@njit(cache=True)
def _layout(Ws, n_in):  # type: ignore[no-untyped-def]
    """Offsets of each layer's input in the flat activation store (x first), its size, max width."""
    n_layers = len(Ws)
    off = np.empty(n_layers + 1, dtype=np.int64)
    off[0] = 0
    width = n_in
    for layer in range(n_layers):
        off[layer + 1] = off[layer] + Ws[layer].shape[0]
        width = max(width, Ws[layer].shape[1])
    return off, off[n_layers] + Ws[n_layers - 1].shape[1], width


@njit(cache=True)
def epoch(  # type: ignore[no-untyped-def]
    Ws, bs, uWs, ubs, ruleW, ruleb, acts, loss, x, y, order, lr, m, nesterov, wd,
):
    """Train one epoch in ``order``, in place on Ws/bs and the momentum buffers uWs/ubs."""
    n_layers = len(acts)
    off, total, width = _layout(Ws, x.shape[1])
    A = np.empty(total)
    Z = np.empty(total)
    g = np.empty(width)
    g_prev = np.empty(width)
    delta = np.empty(width)
    last = off[n_layers]
    n_out = total - last
    for s in range(order.shape[0]):
        k = order[s]
        _forward(Ws, bs, acts, x[k], A, Z, off)
        _loss_gradient(loss, A[last:total], y[k], g[:n_out])
        for layer in range(n_layers - 1, -1, -1):  # backward fused with the update
            no = Ws[layer].shape[1]
            lo, mid, hi = off[layer], off[layer + 1], off[layer + 1] + no
            d = delta[:no]
            _delta(acts[layer], g[:no], Z[mid:hi], A[mid:hi], d)
            W = Ws[layer]
            uW = uWs[layer]
            for i in range(W.shape[0]):
                w = W[i]
                if layer > 0:
                    g_prev[i] = _dot(w, d)  # the old row: read before it is updated
                _step(w, uW[i], A[lo + i], d, ruleW[layer], nesterov, lr, m, wd)
            # db = delta: 1.0 * d[j] is d[j] exactly.
            _step(bs[layer][0], ubs[layer][0], 1.0, d, ruleb[layer], nesterov, lr, m, wd)
            g, g_prev = g_prev, g
