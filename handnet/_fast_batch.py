"""The batched step behind ``handnet.fast``: the plain path's arithmetic, without its allocations.

One step is the plain path's ``forward``, ``parameter_gradients(loss.gradient(...))`` and
``SGD.step``, operation for operation: the matrix products and the activations are the same
NumPy calls (BLAS; NumPy's SIMD ``exp`` and ``tanh``), written into buffers kept from one step to
the next instead of fresh arrays; the loss gradient, the deltas and the updates are compiled
loops that round exactly as the plain path's NumPy expressions do (same operations in the same
order, no fused multiply-adds)::

    forward   a_l = a_{l-1} @ W_l;  a_l += b_l;  a_l = f_l(a_l)      (NumPy, in place)
    output    g_L = dL/dy_hat;  d_L = g_L * f_L'(a_L)                output_delta
    backward  dW_l = a_{l-1}.T @ d_l,  db_l = sum_rows d_l,  g_{l-1} = d_l @ W_l.T   (NumPy)
              d_{l-1} = g_{l-1} * f_{l-1}'(a_{l-1})                  delta
    update    every parameter by handnet.optim.SGD's rule            update

So its results equal the plain path's bit for bit.  relu's derivative is taken from the output
(``a > 0`` exactly when ``z > 0``).  Input and output of each compiled loop are separate
arrays: LLVM vectorises a loop only when they do not overlap.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from handnet._fast_kernel import _delta, _loss_gradient, _step, jit

F64 = NDArray[np.float64]


def forward_layer(name: str, x: F64, W: F64, b: F64, a: F64) -> None:
    """``a = f(x @ W + b)`` in the buffer ``a``, as the plain path computes it (``z`` in place)."""
    np.matmul(x, W, out=a)
    a += b
    if name == "sigmoid":  # handnet.activations.sigmoid, step for step
        np.negative(a, out=a)
        with np.errstate(over="ignore"):
            np.exp(a, out=a)
        a += 1.0
        np.reciprocal(a, out=a)
    elif name == "tanh":
        np.tanh(a, out=a)
    elif name == "relu":
        np.maximum(a, 0.0, out=a)


@jit()
def output_delta(loss, code, p, t, g, d):
    """``g = dL/dp``, ``d = g * f'(p)`` over all elements (flat; N = p.size for mse and bce)."""
    _loss_gradient(loss, p, t, g)
    _delta(code, g, p, p, d)


@jit()
def delta(code, g, a, d):
    """``d = g * f'(a)`` (flat arrays)."""
    _delta(code, g, a, a, d)


@jit()
def update(p, u, g, rule, nesterov, lr, m, wd):
    """handnet.optim.SGD's rule on one parameter (flat arrays), in place on ``p`` and ``u``."""
    _step(p, u, 1.0, g, rule, nesterov, lr, m, wd)


class Workspace:
    """Buffers for a batch of ``batch`` rows through layers of ``sizes``, reused step to step.

    Each layer's output ``a`` (its pre-activation first, overwritten), and three scratch areas
    as large as the widest layer: the gradient ``g = dL/da`` of the layer at hand and the deltas
    ``d = dL/dz`` of it and the layer above (a delta is dead once the layer below has its own).
    Fewer, reused buffers keep more of the step in cache."""

    def __init__(self, sizes: Sequence[int], batch: int) -> None:
        outs = sizes[1:]
        self.a = [np.empty((batch, n)) for n in outs]
        self.scratch = [np.empty(batch * max(outs)) for _ in range(3)]
        self.dW = [np.empty((sizes[i], sizes[i + 1])) for i in range(len(outs))]
        self.db = [np.empty((1, n)) for n in outs]


def _view(buf: F64, rows: int, n: int) -> F64:
    return buf[: rows * n].reshape(rows, n)


_workspaces: OrderedDict[tuple[tuple[int, ...], int], Workspace] = OrderedDict()
_KEEP = 4


def workspace(sizes: Sequence[int], batch: int) -> Workspace:
    """The workspace for these shapes (the last few are kept, so steps allocate nothing)."""
    key = (tuple(sizes), batch)
    ws = _workspaces.pop(key, None) or Workspace(sizes, batch)
    _workspaces[key] = ws
    while len(_workspaces) > _KEEP:
        _workspaces.popitem(last=False)
    return ws


def forward(
    Ws: Sequence[F64], bs: Sequence[F64], names: Sequence[str], x: F64, ws: Workspace
) -> list[F64]:
    """Every layer's output for the batch ``x`` (views of ``ws``, which must fit ``len(x)``
    rows): the plain path's ``Network.forward``, bit for bit, without allocating."""
    a = [buf[: len(x)] for buf in ws.a]
    for i, (W, b, name) in enumerate(zip(Ws, bs, names, strict=True)):
        forward_layer(name, x if i == 0 else a[i - 1], W, b, a[i])
    return a


def step(
    Ws: Sequence[F64], bs: Sequence[F64], uWs: Sequence[F64], ubs: Sequence[F64],
    ruleW: Sequence[int], ruleb: Sequence[int], names: Sequence[str], acts: Sequence[int],
    loss: int, x: F64, y: F64, lr: float, m: float, nesterov: bool, wd: float, ws: Workspace,
) -> None:
    """One step on the batch ``(x, y)``; ``ws`` must fit at least ``len(x)`` rows."""
    rows = len(x)
    a = forward(Ws, bs, names, x, ws)
    g_buf, d_buf, d_next = ws.scratch
    inputs = [x, *a[:-1]]
    last = len(Ws) - 1
    n = Ws[last].shape[1]
    d = _view(d_buf, rows, n)
    output_delta(loss, acts[last], a[last].reshape(-1), y.reshape(-1), g_buf[: rows * n],
                 d.reshape(-1))
    for i in range(last, -1, -1):
        np.matmul(inputs[i].T, d, out=ws.dW[i])
        np.sum(d, axis=0, keepdims=True, out=ws.db[i])
        if i > 0:
            n = Ws[i].shape[0]
            g = np.matmul(d, Ws[i].T, out=_view(g_buf, rows, n))
            d_buf, d_next = d_next, d_buf
            d = _view(d_buf, rows, n)
            delta(acts[i - 1], g.reshape(-1), a[i - 1].reshape(-1), d.reshape(-1))
    for i in range(last + 1):
        update(Ws[i].reshape(-1), uWs[i].reshape(-1), ws.dW[i].reshape(-1), ruleW[i],
               nesterov, lr, m, wd)
        update(bs[i].reshape(-1), ubs[i].reshape(-1), ws.db[i].reshape(-1), ruleb[i],
               nesterov, lr, m, wd)
