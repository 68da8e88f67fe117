"""Timing of one training step (forward + backward + update), float64, threads pinned.

Cases (the torch side lives in ``reference/experiments/bench.py``; this module never imports torch):

* ``per-sample``: the seed network 2-100-50-10-1 (sigmoid, half-SSE, classic momentum 0.9 on the
  weights, plain SGD on the biases, lr 1e-2), batch 1.  handnet's figure is its per-sample path:
  the compiled one (``handnet.fast``) when available, else the plain one; the time per step is
  an epoch over 1000 samples divided by 1000.  Also measured: the plain layered path and a
  straightforward fused NumPy step (``fused_numpy_epoch``: forward, deltas and update in one
  function of plain array expressions), the baseline of issue 6.
* ``full-batch-1000``: the same network and optimiser, one step on a batch of 1000.
* ``wide-1024``: three 1024-wide sigmoid layers (1024 -> 1024 -> 1024 -> 1024, Glorot init),
  one step on a batch of 1024.

For the batched cases handnet's figure is ``handnet.fast.train_step`` when numba is there (the
plain path's NumPy calls into buffers kept between steps, element-wise work compiled; its
results equal the plain path's bit for bit), else the plain path; the plain path's own figure
is reported beside it, and so is ``blas_floor_us``: the same step's matrix products alone
(forward, weight gradients, input gradients below the first layer), NumPy's BLAS with nothing
else.  No NumPy implementation of the step can be faster than that floor, so
``blas_floor_us / torch_us`` says whether a ratio target is within NumPy's reach at all.

Each figure is the median over ``repeats`` timings of a block of steps, in µs per step.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from handnet import fast
from handnet.config import Config
from handnet.data import load_dataset
from handnet.losses import get_loss
from handnet.network import Network
from handnet.optim import SGD
from handnet.train import build, train_epoch

Array = NDArray[np.floating]

SEED_SIZES = (2, 100, 50, 10, 1)
WIDE_SIZES = (1024, 1024, 1024, 1024)
LR, MOMENTUM = 1e-2, 0.9
PARK_SECONDS = 0.5  # pause between handnet's and torch's timings (see run_bench)


@dataclass(frozen=True)
class Case:
    name: str
    sizes: tuple[int, ...]
    batch: int
    init: str
    steps: int  # steps per timed block
    n: int  # training points


CASES = {
    "per-sample": Case("per-sample", SEED_SIZES, 1, "normal", 1000, 1000),
    "full-batch-1000": Case("full-batch-1000", SEED_SIZES, 1000, "normal", 10, 1000),
    "wide-1024": Case("wide-1024", WIDE_SIZES, 1024, "glorot", 1, 1024),
}


def problem(case: Case) -> tuple[Network, NDArray[np.float64], NDArray[np.float64]]:
    """The case's starting network and its data (x, y), all from seed 0."""
    rng = np.random.default_rng(0)
    net = Network.create(list(case.sizes), "sigmoid", init=case.init, rng=rng)
    if case.sizes[0] == 2:
        data = load_dataset("chessboard", case.n, 1, seed=0)
        x, y = data.x_train, data.y_train
    else:
        x = rng.standard_normal((case.n, case.sizes[0]))
        y = rng.uniform(0.0, 1.0, (case.n, case.sizes[-1]))
    return net, np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def block_timer(block: Callable[[], None], steps: int) -> Callable[[], float]:
    """Warm ``block`` up (and compile it); return a timer: one run of it, in µs per step."""
    block()

    def once() -> float:
        start = time.perf_counter()
        block()
        return (time.perf_counter() - start) / steps * 1e6

    return once


def _seed_optimizer() -> SGD:
    return SGD(lr=LR, momentum=MOMENTUM, style="classic", bias_momentum=False)


def handnet_step(case: Case) -> tuple[Callable[[], None], str]:
    """A block of ``case.steps`` handnet steps, and which path it uses."""
    if case.batch == 1:
        config = Config(dataset="chessboard", optimizer="momentum", n_train=case.n, n_test=1,
                        hidden=case.sizes[1:-1], epochs=1, print_interval=0)
        run = build(config)
        order = np.arange(case.n)
        if fast.available() and fast.supports(run):
            return (lambda: fast.train_epoch_fast(run, 0, order)), "fast"
        return (lambda: train_epoch(run, 0, order)), "plain"
    if fast.available():
        net, x, y = problem(case)
        loss, opt = get_loss("half-sse"), _seed_optimizer()
        xb, yb = x[: case.batch], y[: case.batch]

        def block() -> None:
            for _ in range(case.steps):
                fast.train_step(net, opt, loss, xb, yb)

        return block, "fast"
    return plain_batched_step(case), "plain"


def plain_batched_step(case: Case) -> Callable[[], None]:
    """A block of ``case.steps`` plain-path steps on one batch."""
    net, x, y = problem(case)
    loss, opt = get_loss("half-sse"), _seed_optimizer()
    params = net.parameters
    xb, yb = x[: case.batch], y[: case.batch]

    def block() -> None:
        for _ in range(case.steps):
            opt.step(params, net.parameter_gradients(loss.gradient(net.forward(xb), yb)))

    return block


def blas_floor(case: Case) -> Callable[[], None]:
    """A block of ``case.steps`` of the step's matrix products only, into kept buffers."""
    net, x, y = problem(case)
    Ws = [layer.parameters["W"] for layer in net.layers]
    xb = x[: case.batch]
    a = [np.empty((case.batch, W.shape[1])) for W in Ws]
    g = [np.empty((case.batch, W.shape[0])) for W in Ws]
    dW = [np.empty_like(W) for W in Ws]
    inputs = [xb, *a[:-1]]

    def block() -> None:
        for _ in range(case.steps):
            for i, W in enumerate(Ws):
                np.matmul(inputs[i], W, out=a[i])
            for i in reversed(range(len(Ws))):
                np.matmul(inputs[i].T, a[i], out=dW[i])
                if i > 0:
                    np.matmul(a[i], Ws[i].T, out=g[i])

    return block


def plain_per_sample_step(steps: int = 200) -> Callable[[], None]:
    """The plain layered per-sample path over ``steps`` samples."""
    config = Config(dataset="chessboard", optimizer="momentum", n_train=steps, n_test=1,
                    epochs=1, print_interval=0)
    run = build(config)
    order = np.arange(steps)
    return lambda: train_epoch(run, 0, order)


def fused_numpy_epoch(
    Ws: list[Array], bs: list[Array], Us: list[Array], x: Array, y: Array, lr: float, m: float
) -> None:
    """The straightforward fused per-sample loop for the seed net (4 layers), in place.

    Forward ``a = 1 / (1 + exp(-(a @ W + b)))``, deltas through ``s * (1 - s)``, then classic
    momentum on the weights (``U = m U + lr dW; W -= U``) and plain SGD on the biases.
    """
    W0, W1, W2, W3 = Ws
    b0, b1, b2, b3 = bs
    U0, U1, U2, U3 = Us
    for k in range(len(x)):
        a0 = x[k : k + 1]
        a1 = 1.0 / (1.0 + np.exp(-(a0 @ W0 + b0)))
        a2 = 1.0 / (1.0 + np.exp(-(a1 @ W1 + b1)))
        a3 = 1.0 / (1.0 + np.exp(-(a2 @ W2 + b2)))
        a4 = 1.0 / (1.0 + np.exp(-(a3 @ W3 + b3)))
        d3 = (a4 - y[k : k + 1]) * a4 * (1.0 - a4)
        d2 = (d3 @ W3.T) * a3 * (1.0 - a3)
        d1 = (d2 @ W2.T) * a2 * (1.0 - a2)
        d0 = (d1 @ W1.T) * a1 * (1.0 - a1)
        U3 *= m
        U3 += lr * (a3.T @ d3)
        W3 -= U3
        b3 -= lr * d3
        U2 *= m
        U2 += lr * (a2.T @ d2)
        W2 -= U2
        b2 -= lr * d2
        U1 *= m
        U1 += lr * (a1.T @ d1)
        W1 -= U1
        b1 -= lr * d1
        U0 *= m
        U0 += lr * (a0.T @ d0)
        W0 -= U0
        b0 -= lr * d0


def fused_per_sample_step(steps: int = 200) -> Callable[[], None]:
    net, x, y = problem(CASES["per-sample"])
    Ws = [layer.parameters["W"] for layer in net.layers]
    bs = [layer.parameters["b"] for layer in net.layers]
    Us = [np.zeros_like(W) for W in Ws]
    return lambda: fused_numpy_epoch(Ws, bs, Us, x[:steps], y[:steps], LR, MOMENTUM)


@contextmanager
def numpy_threads(n: int) -> Iterator[None]:
    """Pin NumPy's BLAS to ``n`` threads (threadpoolctl), if threadpoolctl is installed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=n):
        yield


TorchTimer = Callable[[str, int], Callable[[], float]]


def _handnet_timers(case: Case) -> tuple[dict[str, Callable[[], float]], str]:
    """handnet's timers for ``case`` (its figure, the plain path's, the baseline or the floor)."""
    block, engine = handnet_step(case)
    timers = {"handnet_us": block_timer(block, case.steps)}
    if case.batch == 1:
        timers["handnet_plain_us"] = block_timer(plain_per_sample_step(), 200)
        timers["numpy_fused_us"] = block_timer(fused_per_sample_step(), 200)
    else:
        timers["handnet_plain_us"] = block_timer(plain_batched_step(case), case.steps)
        timers["blas_floor_us"] = block_timer(blas_floor(case), case.steps)
    return timers, engine


def run_bench(
    cases: list[str], threads: list[int], repeats: int, torch_timer: TorchTimer | None,
    log: Callable[[str], None] = lambda s: None,
) -> list[dict[str, Any]]:
    """Every case at every thread count; ``torch_timer(case, threads)`` times the twin.

    The figures of one row are measured interleaved, repeat by repeat (handnet's, then the
    twin's), so that a slow spell of a shared machine falls on both sides of a ratio."""
    rows = []
    for t in threads:
        for name in cases:
            case = CASES[name]
            with numpy_threads(t):
                timers, engine = _handnet_timers(case)
            theirs = torch_timer(name, t) if torch_timer is not None else None
            samples: dict[str, list[float]] = {key: [] for key in [*timers, "torch_us"]}
            for _ in range(repeats):
                with numpy_threads(t):
                    for key, once in timers.items():
                        samples[key].append(once())
                if theirs is not None:
                    # With several threads both libraries' pools spin for a while after a
                    # call: let each park before timing the other.
                    pause = PARK_SECONDS if t > 1 else 0.0
                    time.sleep(pause)
                    with numpy_threads(1):
                        samples["torch_us"].append(theirs())
                    time.sleep(pause)
            row: dict[str, Any] = {"name": name, "threads": t, "handnet_engine": engine}
            row.update({key: statistics.median(v) if v else None for key, v in samples.items()})
            ours, torch_us = row["handnet_us"], row["torch_us"]
            row["ratio"] = ours / torch_us if torch_us else None
            if "numpy_fused_us" in row:
                row["fused_ratio"] = ours / row["numpy_fused_us"]
            if torch_us and "blas_floor_us" in row:
                row["floor_ratio"] = row["blas_floor_us"] / torch_us
            rows.append(row)
            log(format_row(row))
    return rows


def format_row(row: dict[str, Any]) -> str:
    torch_s = f"{row['torch_us']:12.1f}" if row["torch_us"] is not None else f"{'-':>12}"
    ratio_s = f"{row['ratio']:7.3f}" if row["ratio"] is not None else f"{'-':>7}"
    extra = ""
    if "numpy_fused_us" in row:
        extra = (f"  plain {row['handnet_plain_us']:.1f} µs, fused NumPy "
                 f"{row['numpy_fused_us']:.1f} µs (handnet/fused {row['fused_ratio']:.3f})")
    elif "blas_floor_us" in row:
        floor = f" (floor/torch {row['floor_ratio']:.3f})" if "floor_ratio" in row else ""
        extra = (f"  plain {row['handnet_plain_us']:.1f} µs, BLAS floor "
                 f"{row['blas_floor_us']:.1f} µs{floor}")
    return (f"{row['name']:<16} {row['threads']:>7} {row['handnet_us']:12.1f} {torch_s} "
            f"{ratio_s}  {row['handnet_engine']}{extra}")


TABLE_HEADER = (f"{'case':<16} {'threads':>7} {'handnet µs':>12} {'torch µs':>12} "
                f"{'ratio':>7}  engine")
