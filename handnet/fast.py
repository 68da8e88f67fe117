"""An optional compiled path: the same epoch as ``handnet.train.train_epoch``, faster.

The plain path pays NumPy's per-call overhead (~50 µs per sample step of the seed network); a
numba-compiled epoch does the same step in a few µs.  Batched steps (``train_step``) keep the
matrix products in NumPy's BLAS and fuse the element-wise work around them into compiled loops
over buffers kept between steps.  numba is optional: it is imported lazily, ``available()`` says
whether this path can run, and everything else in handnet works without it (set
``HANDNET_NO_FAST=1`` to switch it off).

Semantics are exactly the plain path's (``supports(run)``: float64, the built-in activations and
losses, any batch size): forward, the output gradient of the run's loss, deltas with the
activation derivative written as ``handnet.activations`` writes it (through the output for
sigmoid and tanh), all deltas before any update, then ``handnet.optim.SGD``'s rule per parameter
(classic or torch momentum, bias momentum on or off, nesterov, weight decay) at the epoch's lr
from the schedule.

State lives where the plain path keeps it: the network's own ``W``/``b`` arrays (updated in
place) and ``run.optimizer.buffers``.  A missing buffer is created as zeros just before the
first momentum step, which then computes ``m * 0 + g`` (torch) or ``m * 0 + lr * g`` (classic):
the same values as the plain path's first step ``u = g`` / ``u = lr * g``.  So the two paths
can be interleaved epoch by epoch.

The results agree with the plain path's to rounding, not bit for bit: per sample the dot
products sum in a different order from BLAS, and ``exp`` and ``tanh`` are the kernel's own (see
``handnet._fast_kernel``).
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from handnet.losses import Loss
from handnet.names import param_name
from handnet.network import Network
from handnet.optim import SGD
from handnet.train import EpochCallback, History, Run, record_output
from handnet.train import train as plain_train

ACT_CODES = {"sigmoid": 0, "tanh": 1, "relu": 2, "identity": 3}
LOSS_CODES = {"half-sse": 0, "mse": 1, "bce": 2}
_PLAIN, _TORCH, _CLASSIC = 0, 1, 2

F64 = NDArray[np.float64]
F64I = NDArray[np.int64]

_kernel: ModuleType | None = None
_batch_kernel: ModuleType | None = None
_import_error: str | None = None


def _load() -> ModuleType | None:
    global _kernel, _batch_kernel, _import_error
    if _kernel is None and _import_error is None:
        if os.environ.get("HANDNET_NO_FAST"):
            _import_error = "switched off by HANDNET_NO_FAST"
            return None
        try:
            from handnet import _fast_batch, _fast_kernel
        except ImportError as exc:  # numba missing or broken
            _import_error = f"numba is not importable: {exc}"
        except Exception as exc:  # a broken numba or cache must not break the plain path
            _import_error = f"the compiled kernels do not load: {type(exc).__name__}: {exc}"
        else:
            _kernel, _batch_kernel = _fast_kernel, _fast_batch
    return _kernel


def available() -> bool:
    """True when numba imports (and ``HANDNET_NO_FAST`` is not set)."""
    return _load() is not None


def why_unavailable() -> str | None:
    """Why ``available()`` is False, else None."""
    _load()
    return _import_error


FAST_EXTRA = "pip install 'handnet[fast]'"


def plain_path_note() -> str | None:
    """One line for a run that falls back to the plain path because the compiled one is not
    there (None when it is): what happened, what it costs, how to get the fast path."""
    why = why_unavailable()
    if why is None:
        return None
    return (f"note: the compiled engine is not available ({why}); the plain NumPy path is "
            f"used, about 10x slower per sample (for the compiled one: {FAST_EXTRA})")


def supports_network(net: Network, loss: Loss) -> bool:
    """True when the compiled path computes what the plain path does for ``net`` and ``loss``."""
    return (
        net.dtype == np.float64
        and all(name in ACT_CODES for name in net.activation_names)
        and loss.name in LOSS_CODES
    )


def supports_optimizer(opt: object, schedule_per: str = "epoch") -> bool:
    """True for ``handnet.optim.SGD`` (either convention) with one weight decay for every
    parameter and the lr set once per epoch: the adaptive optimisers, ``bias_decay=False`` and
    per-update schedules run on the plain path."""
    return (isinstance(opt, SGD) and schedule_per == "epoch"
            and (opt.bias_decay or opt.weight_decay == 0))


def supports(run: Run) -> bool:
    """True when the fast path trains ``run`` with the plain path's semantics."""
    return (supports_network(run.network, run.loss)
            and supports_optimizer(run.optimizer, run.config.schedule_per))


def _require(run: Run) -> ModuleType:
    kernel = _load()
    if kernel is None:
        raise RuntimeError(f"the fast path is not available ({_import_error})")
    if not supports(run):
        raise ValueError("the fast path supports float64 networks with element-wise activations "
                         f"and the losses {', '.join(LOSS_CODES)}, trained by SGD with the lr set "
                         "per epoch, only")
    return kernel


def _require_batch(net: Network, loss: Loss) -> ModuleType:
    if _load() is None:
        raise RuntimeError(f"the fast path is not available ({_import_error})")
    if not supports_network(net, loss):
        raise ValueError("the fast path supports float64 networks with element-wise activations "
                         f"and the losses {', '.join(LOSS_CODES)} only")
    assert _batch_kernel is not None
    return _batch_kernel


def _arrays(net: Network) -> tuple[tuple[F64, ...], tuple[F64, ...]]:
    """The network's own W and b arrays (made C-contiguous in place if they were not)."""
    Ws: list[F64] = []
    bs: list[F64] = []
    for layer in net.layers:
        for key, out in (("W", Ws), ("b", bs)):
            p = layer.parameters[key]
            if not p.flags.c_contiguous:
                p = np.ascontiguousarray(p)
                layer.parameters[key] = p
            out.append(p.astype(np.float64, copy=False))  # float64 already (see supports)
    return tuple(Ws), tuple(bs)


def _codes(net: Network) -> F64I:
    return np.array([ACT_CODES[a] for a in net.activation_names], dtype=np.int64)


def _checked_data(run: Run) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x, y = run.data.x_train, run.data.y_train
    sizes = run.network.sizes
    if x.ndim != 2 or x.shape[1] != sizes[0] or y.shape != (len(x), sizes[-1]):
        raise ValueError(
            f"training data of shapes {x.shape} and {y.shape} do not fit a network of sizes {sizes}"
        )
    return (np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64))


def _prepare(
    net: Network, opt: SGD
) -> tuple[tuple[F64, ...], tuple[F64, ...], tuple[F64, ...], tuple[F64, ...], F64I, F64I]:
    """Weights, biases, their momentum buffers and update rules, as the kernels take them."""
    Ws, bs = _arrays(net)
    rules: dict[str, list[int]] = {"W": [], "b": []}
    buffers: dict[str, list[F64]] = {"W": [], "b": []}
    for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        for key, p in (("W", W), ("b", b)):
            name = param_name(key, i)
            if not opt.uses_momentum(name):
                rules[key].append(_PLAIN)
                buffers[key].append(p)  # never read or written under the plain rule
                continue
            rules[key].append(_TORCH if opt.style == "torch" else _CLASSIC)
            old = opt.buffers.get(name)
            if old is not None and old.shape != p.shape:
                raise ValueError(f"momentum buffer {name} has shape {old.shape}, not {p.shape}")
            u = np.zeros_like(p) if old is None else np.ascontiguousarray(old, dtype=np.float64)
            opt.buffers[name] = u
            buffers[key].append(u)
    return (Ws, bs, tuple(buffers["W"]), tuple(buffers["b"]),
            np.array(rules["W"], dtype=np.int64), np.array(rules["b"], dtype=np.int64))


def train_epoch_fast(run: Run, epoch: int, order: NDArray[Any]) -> None:
    """``handnet.train.train_epoch``, compiled; same arguments, same effect.

    Batch size 1 runs the whole epoch in the per-sample kernel; larger batches take one compiled
    batched step each (``train_step``)."""
    kernel = _require(run)
    opt = run.optimizer
    assert isinstance(opt, SGD)  # supports(run)
    opt.lr = run.schedule.lr_at(epoch)
    x, y = _checked_data(run)
    # Through arange: out-of-range entries raise IndexError as x[order] would, negative ones
    # wrap as in NumPy (the kernel does no bounds checking).
    order = np.ascontiguousarray(np.arange(len(x))[np.asarray(order)], dtype=np.int64)
    if len(order) == 0:
        return
    Ws, bs, uWs, ubs, ruleW, ruleb = _prepare(run.network, opt)
    batch = run.config.batch_size or len(order)
    if batch == 1:
        kernel.epoch(Ws, bs, uWs, ubs, ruleW, ruleb, _codes(run.network),
                     LOSS_CODES[run.loss.name], x, y, order, float(opt.lr),
                     float(opt.momentum), bool(opt.nesterov), float(opt.weight_decay))
        return
    in_order = np.array_equal(order, np.arange(len(x)))  # then batches are slices, not copies
    for start in range(0, len(order), batch):
        if in_order:
            xb, yb = x[start : start + batch], y[start : start + batch]
        else:
            idx = order[start : start + batch]
            xb, yb = x[idx], y[idx]
        train_step(run.network, opt, run.loss, xb, yb, _prepared=(Ws, bs, uWs, ubs, ruleW, ruleb))


def train_step(
    net: Network, opt: SGD, loss: Loss, x: NDArray[Any], y: NDArray[Any],
    _prepared: tuple[Any, ...] | None = None,
) -> None:
    """One batched step, compiled: the plain path's
    ``opt.step(net.parameters, net.parameter_gradients(loss.gradient(net.forward(x), y)))``.

    Matrix products are NumPy's (BLAS); the element-wise work is fused into compiled loops over
    buffers kept between steps (``handnet._fast_batch``)."""
    batch_kernel = _require_batch(net, loss)
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    sizes = net.sizes
    if x.ndim != 2 or x.shape[1] != sizes[0] or y.shape != (len(x), sizes[-1]):
        raise ValueError(f"a batch of shapes {x.shape} and {y.shape} does not fit a network of "
                         f"sizes {sizes}")
    Ws, bs, uWs, ubs, ruleW, ruleb = _prepared or _prepare(net, opt)
    batch_kernel.step(Ws, bs, uWs, ubs, ruleW, ruleb, net.activation_names, _codes(net),
                      LOSS_CODES[loss.name], x, y,
                      float(opt.lr), float(opt.momentum), bool(opt.nesterov),
                      float(opt.weight_decay), batch_kernel.workspace(sizes, len(x)))


def record_fast(run: Run, lr: float) -> None:
    """``handnet.train.record`` without its allocations: loss and accuracy on the training set.

    The forward pass is the batched step's (``handnet._fast_batch.forward``): the plain path's
    NumPy calls, bit for bit, into buffers kept from one epoch to the next, so the figures are
    the plain path's exactly.  Fresh arrays of the training set's size cost more here than the
    arithmetic (every epoch would fault in new pages).
    """
    batch_kernel = _require_batch(run.network, run.loss)
    x, _ = _checked_data(run)
    net = run.network
    Ws, bs = _arrays(net)
    outputs = batch_kernel.forward(Ws, bs, net.activation_names, x,
                                   batch_kernel.workspace(net.sizes, len(x)))
    record_output(run, outputs[-1], lr)


def train(run: Run, on_epoch_end: EpochCallback | None = None, fast: bool = True) -> History:
    """``handnet.train.train``, compiled where ``fast`` and the run allow it (else plain)."""
    if fast and available() and supports(run):
        return plain_train(run, on_epoch_end, epoch_fn=train_epoch_fast, record_fn=record_fast)
    return plain_train(run, on_epoch_end)


def warm(max_layers: int = 5) -> int:
    """Compile (and cache on disk) the kernel for networks of 1..``max_layers`` layers.

    numba specialises the epoch kernel on the number of layers (the weights travel as a tuple),
    so each depth is a separate compilation of several seconds.  ``make`` runs this once when it
    builds the environment, so tests and worker processes load the cached machine code instead of
    each compiling it again.  Returns the number of depths compiled (0 without numba).

    The cache is ``handnet._fast_kernel.CACHE_DIR``: a directory named by a hash of every source
    file the compiled code comes from, in the package's ``__pycache__`` or, where that is not
    writable, the user's cache directory or the temporary directory (None: nothing is cached,
    each process compiles what it uses).  The plain path never imports numba for training and
    never needs the cache.
    """
    if not available():
        return 0
    from handnet.config import Config
    from handnet.train import build

    for n_layers in range(1, max_layers + 1):
        config = Config(hidden=(2,) * (n_layers - 1), epochs=1, n_train=2, n_test=2)
        train(build(config))
    for loss in LOSS_CODES:  # the batched step's loops (not specialised on the depth)
        train(build(Config(hidden=(2,), epochs=1, n_train=4, n_test=2, batch_size=2, loss=loss)))
    return max_layers


if __name__ == "__main__":
    depths = warm()
    where = getattr(_kernel, "CACHE_DIR", None)
    print(f"handnet.fast: compiled the kernel for {depths} network depths (cache: {where})")
