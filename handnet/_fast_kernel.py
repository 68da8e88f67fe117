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

import hashlib
import math
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numba import njit, types
from numba.core import config as numba_config
from numba.extending import intrinsic

# The plain path's clamp, the one definition (float32(1e-12) as a float64; see handnet.losses).
from handnet.losses import BCE_EPS

# Activation codes (handnet.fast.ACT_CODES) and loss codes (handnet.fast.LOSS_CODES).
SIGMOID, TANH, RELU, IDENTITY = 0, 1, 2, 3
HALF_SSE, MSE, BCE = 0, 1, 2
# Update rules per parameter.
PLAIN, TORCH, CLASSIC = 0, 1, 2

# --- the on-disk cache of compiled code ------------------------------------------------------
# numba's own cache (``cache=True``) checks each entry against the entry's own source file, but
# compiled code carries everything it calls and every global it reads: ``_fast_batch``'s loops
# inline ``_loss_gradient``, ``_delta`` and ``_step`` from this file, which read ``BCE_EPS`` from
# ``handnet.losses``.  An edit to a helper here would leave the batched step running the old
# helper.  So every compiled function of the fast path is cached in one directory named by a
# hash of all the files its code comes from (``SOURCES``, relative to this package) and of
# numba's version, and each entry is stamped with that hash: any edit to any of them gives an
# empty directory, whatever the files' timestamps.  tests/test_fast_cache.py checks SOURCES
# against the imports of both kernel files.
SOURCES = ("_fast_kernel.py", "_fast_batch.py", "losses.py")
_PACKAGE = Path(__file__).resolve().parent
_KEEP_SECONDS = 3600.0  # other versions' directories untouched this long are removed


def source_hash(package: Path = _PACKAGE) -> str:
    """sha256 over numba's version and the bytes of every file in ``SOURCES``."""
    digest = hashlib.sha256(numba.__version__.encode())
    for name in SOURCES:
        digest.update(b"\0" + name.encode() + b"\0" + (package / name).read_bytes())
    return digest.hexdigest()


def cache_roots() -> list[Path]:
    """Where the cache may live, first choice first: under ``NUMBA_CACHE_DIR`` if the user set
    one; the package's ``__pycache__``; the user's cache directory; a private directory in the
    temporary directory."""
    numba_dir = getattr(numba_config, "CACHE_DIR", "")
    roots = [Path(numba_dir) / "handnet"] if numba_dir else []
    user_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return [*roots, _PACKAGE / "__pycache__", Path(user_cache).expanduser() / "handnet",
            Path(tempfile.gettempdir()) / f"handnet-{user}"]


def _private(path: Path) -> bool:
    """Owned by this user and writable by no one else (numba unpickles what it finds there)."""
    if not hasattr(os, "getuid"):
        return True
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def choose_cache_dir(digest: str, roots: Iterable[Path]) -> Path | None:
    """``root/numba-<digest>`` in the first root where that directory can be created, is
    private and takes a file; None where there is no such root (then nothing is cached).

    Other ``numba-*`` directories in that root not used for an hour are removed (an older
    version's code, or a newer one's that will be compiled again if needed)."""
    for root in roots:
        path = root / f"numba-{digest}"
        try:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not _private(root):
                continue
            path.mkdir(mode=0o700, exist_ok=True)
            if not _private(path):
                continue
            tempfile.TemporaryFile(dir=path).close()
            os.utime(path)  # in use: not removed by another version's process
        except OSError:
            continue
        for other in root.glob("numba-*"):
            try:
                stale = other != path and time.time() - other.stat().st_mtime > _KEEP_SECONDS
            except OSError:
                continue
            if stale:
                shutil.rmtree(other, ignore_errors=True)
        return path
    return None


def _cache_classes(where: Path, stamp: str) -> Any:
    """numba's FunctionCache with one locator: ``where``, every entry stamped ``stamp``.

    Built on numba's caching internals; None (no caching) where they are not as expected."""
    try:
        from numba.core.caching import CompileResultCacheImpl, FunctionCache, _CacheLocator
    except ImportError:
        return None

    class Locator(_CacheLocator):
        def __init__(self, py_func: Callable[..., Any]) -> None:
            self._lineno = py_func.__code__.co_firstlineno

        def ensure_cache_path(self) -> None:
            pass  # chosen and checked once (choose_cache_dir)

        def get_cache_path(self) -> str:
            return str(where)

        def get_source_stamp(self) -> str:
            return stamp

        def get_disambiguator(self) -> str:
            return str(self._lineno)

        @classmethod
        def from_function(cls, py_func: Callable[..., Any], py_file: str) -> Locator:
            return cls(py_func)

    class Impl(CompileResultCacheImpl):
        _locator_classes = [Locator]  # type: ignore[list-item]

    class Cache(FunctionCache):
        _impl_class = Impl

        def save_overload(self, sig: Any, data: Any) -> None:
            try:
                super().save_overload(sig, data)
            except OSError:  # e.g. the directory removed meanwhile: only costs a compilation
                pass

    return Cache


SOURCE_HASH = source_hash()
# NUMBA_CACHE_LOCATOR_CLASSES would override the locator above: then nothing is cached.
CACHE_DIR = (None if getattr(numba_config, "CACHE_LOCATOR_CLASSES", "")
             else choose_cache_dir(SOURCE_HASH[:16], cache_roots()))
_Cache = None if CACHE_DIR is None else _cache_classes(CACHE_DIR, SOURCE_HASH)


def jit(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit(**options)``, cached on disk in ``CACHE_DIR`` (when there is one)."""

    def decorate(fn: Callable[..., Any]) -> Any:
        dispatcher = njit(**options)(fn)
        if _Cache is not None:
            dispatcher._cache = _Cache(fn)  # what numba's enable_caching() sets
        return dispatcher

    return decorate


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
def _bits_to_float(typingctx, bits):
    """Reinterpret an int64's bits as a float64 (an LLVM bitcast)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


@jit(inline="always")
def _exp(x):
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
    return p * _bits_to_float((k + 1023) << 52)  # type: ignore[call-arg]  # numba supplies typingctx


@jit(inline="always")
def _in_range(x):
    return x >= EXP_MIN and x <= EXP_MAX  # False for NaN


@jit(fastmath={"contract"})
def exp(x, out):
    """out = exp(x) elementwise (the kernel's exp, as the sigmoid uses it; exposed for tests)."""
    for j in range(x.shape[0]):
        out[j] = math.exp(x[j]) if not _in_range(x[j]) else _exp(x[j])


@jit(inline="always", fastmath={"contract"})
def _sigmoid(z, a):
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


@jit(fastmath={"contract"})
def activate(code, z, a):
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


@jit(fastmath={"contract"})
def _affine(W, b, a_in, z):
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


@jit()
def _forward(Ws, bs, acts, x_row, A, Z, off):
    n_in = x_row.shape[0]
    for i in range(n_in):
        A[i] = x_row[i]
    for layer in range(len(acts)):
        lo, mid, hi = off[layer], off[layer + 1], off[layer + 1] + Ws[layer].shape[1]
        _affine(Ws[layer], bs[layer], A[lo:mid], Z[mid:hi])
        activate(acts[layer], Z[mid:hi], A[mid:hi])


@jit(fastmath={"reassoc", "nsz", "contract"})
def _dot(w, d):
    """sum_j w[j] * d[j], reassociated so that it vectorises (multiply-adds may be fused)."""
    s = 0.0
    for j in range(w.shape[0]):
        s += w[j] * d[j]
    return s


@jit(inline="always")
def _step(p, u, ai, d, rule, nesterov, lr, m, wd):
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


@jit(inline="always")
def _step_decay(p, u, ai, d, rule, nesterov, lr, m, wd):
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


@jit(inline="always")
def _delta(code, g, z, a, delta):
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


@jit(inline="always")
def _loss_gradient(loss, p, t, g):
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


@jit()
def _layout(Ws, n_in):
    """Offsets of each layer's input in the flat activation store (x first), its size, max width."""
    n_layers = len(Ws)
    off = np.empty(n_layers + 1, dtype=np.int64)
    off[0] = 0
    width = n_in
    for layer in range(n_layers):
        off[layer + 1] = off[layer] + Ws[layer].shape[0]
        width = max(width, Ws[layer].shape[1])
    return off, off[n_layers] + Ws[n_layers - 1].shape[1], width


@jit()
def epoch(
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
