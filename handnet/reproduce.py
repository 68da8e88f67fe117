"""The seed's table reproduced: 3 data sets x 2 optimisers x N seeds of the seed configuration.

Every run is ``Config(dataset=d, optimizer=o, seed=s, epochs=E)`` with everything else at its
default, i.e. the seed configuration (2-100-50-10-1 sigmoid, per-sample updates, lr 1e-2; ``sgd``
is the seed's plain-SGD row, ``momentum`` its classic-momentum + step-LR row).  Runs are spread
over worker processes and use the compiled per-sample path (``handnet.fast``) when it is
available, else the plain NumPy path; both compute the same numbers (tests/test_fast.py).

Per cell the table gives the mean and the sample standard deviation (ddof = 1) of the final test
accuracy over the seeds, beside the seed write-up's figure.  Each run also records its test
accuracy, training loss and training accuracy every ``checkpoint`` epochs, so a cell that falls
short can be looked at over time (``results.json``).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from handnet import fast
from handnet.config import Config
from handnet.train import Run, accuracy, build, epoch_order, record, train_epoch
from handnet.workers import as_completed_in_workers

DATASETS = ("linear", "xor", "chessboard")
OPTIMIZERS = ("sgd", "momentum")
# The seed write-up's test accuracy (%) after 6000 epochs (../shared/seed-facts.md).
SEED_ACCURACY: dict[tuple[str, str], float] = {
    ("sgd", "linear"): 98.96, ("sgd", "xor"): 96.58, ("sgd", "chessboard"): 75.60,
    ("momentum", "linear"): 99.12, ("momentum", "xor"): 98.81, ("momentum", "chessboard"): 96.57,
}


@dataclass(frozen=True)
class RunSpec:
    dataset: str
    optimizer: str
    seed: int
    epochs: int
    checkpoint: int = 100
    use_fast: bool = True
    plot_dir: str | None = None  # write this run's plots there (if handnet.plots exists)

    def config(self) -> Config:
        return Config(dataset=self.dataset, optimizer=self.optimizer, seed=self.seed,
                      epochs=self.epochs, print_interval=0)


def run_specs(
    epochs: int, seeds: Sequence[int], checkpoint: int = 100, use_fast: bool = True
) -> list[RunSpec]:
    """Every (optimiser, data set, seed), momentum first (its runs are the longest)."""
    return [
        RunSpec(d, o, s, epochs, checkpoint, use_fast)
        for o in reversed(OPTIMIZERS) for d in DATASETS for s in seeds
    ]


def train_one(spec: RunSpec) -> dict[str, Any]:
    """Train one run; return its summary (picklable, JSON-ready).

    The training loss and accuracy (``record``) are taken every ``spec.checkpoint`` epochs and
    after the last one, together with the test accuracy; a run whose plots are drawn records
    every epoch (its loss curve needs them).  Recording is a forward pass over the whole
    training set, a fifth of an epoch's cost on the compiled path; it does not change training.
    """
    config = spec.config()
    run = build(config)
    use_fast = spec.use_fast and fast.available() and fast.supports(run)
    epoch_fn = fast.train_epoch_fast if use_fast else train_epoch
    record_fn = fast.record_fast if use_fast else record
    every_epoch = spec.plot_dir is not None
    checkpoints: dict[str, list[float]] = {
        "epoch": [], "test_accuracy": [], "train_loss": [], "train_accuracy": []}

    start, cpu_start = time.perf_counter(), time.process_time()
    for epoch in range(config.epochs):
        epoch_fn(run, epoch, epoch_order(run))
        done = epoch + 1
        checkpoint = done % spec.checkpoint == 0 or done == config.epochs
        if checkpoint or every_epoch:
            record_fn(run, run.optimizer.lr)
        if checkpoint:
            checkpoints["epoch"].append(done)
            checkpoints["test_accuracy"].append(
                accuracy(run.network, run.data.x_test, run.data.y_test))
            checkpoints["train_loss"].append(run.history.loss[-1])
            checkpoints["train_accuracy"].append(run.history.train_accuracy[-1])
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    plots: list[str] = []
    if spec.plot_dir is not None:
        plots = _plot(spec, run)
    loss = run.history.loss[-1]
    return {
        "dataset": spec.dataset,
        "optimizer": spec.optimizer,
        "seed": spec.seed,
        "epochs": spec.epochs,
        "engine": "fast" if use_fast else "plain",
        "test_accuracy": accuracy(run.network, run.data.x_test, run.data.y_test),
        "train_accuracy": run.history.train_accuracy[-1],
        "final_loss": loss if math.isfinite(loss) else None,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "checkpoints": checkpoints,
        "plots": plots,
    }


def _peak_rss_mb() -> float | None:
    """This process's peak resident set size so far, in MB (None where unknown)."""
    try:
        import resource
    except ImportError:
        return None
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return round(kb / 1024, 1)


def _plot(spec: RunSpec, run: Run) -> list[str]:
    from handnet.plots import write_plots

    if spec.plot_dir is None:
        return []
    title = f"{spec.dataset} · {spec.optimizer} · seed {spec.seed} · {spec.epochs} epochs"
    paths = write_plots(spec.plot_dir, run.network, run.data, run.history,
                        prefix=f"{spec.dataset}-{spec.optimizer}-seed{spec.seed}-",
                        title=title, loss_name=run.config.loss)
    return [str(p) for p in paths]


def plots_available() -> bool:
    try:
        import handnet.plots  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


def _init_worker() -> None:
    """One BLAS thread per worker: with W workers on W cores, more threads only spin."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)


def run_all(specs: Sequence[RunSpec], workers: int) -> Iterator[dict[str, Any]]:
    """Yield run summaries as they finish, ``workers`` processes at a time."""
    if workers == 1:
        for spec in specs:
            yield train_one(spec)
        return
    yield from as_completed_in_workers(train_one, specs, workers, initializer=_init_worker)


def summarise(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per (optimiser, data set) cell: mean, std and per-seed test accuracy in %."""
    cells = []
    for o in OPTIMIZERS:
        for d in DATASETS:
            rs = sorted((r for r in runs if r["dataset"] == d and r["optimizer"] == o),
                        key=lambda r: r["seed"])
            if not rs:
                continue
            acc = [100 * r["test_accuracy"] for r in rs]
            cells.append({
                "optimizer": o,
                "dataset": d,
                "n": len(acc),
                "mean": statistics.fmean(acc),
                "std": statistics.stdev(acc) if len(acc) > 1 else 0.0,
                "min": min(acc),
                "max": max(acc),
                "per_seed": {str(r["seed"]): 100 * r["test_accuracy"] for r in rs},
                "seed_figure": SEED_ACCURACY[(o, d)],
                "difference": statistics.fmean(acc) - SEED_ACCURACY[(o, d)],
            })
    return cells


def format_table(cells: Sequence[dict[str, Any]], epochs: int) -> str:
    """Markdown: one row per cell, ours (mean ± std over seeds) beside the seed's figure."""
    lines = [
        f"| optimiser | data set | ours: test accuracy % (mean ± std, {epochs} epochs) "
        "| seed's figure % | difference | per seed |",
        "|---|---|---:|---:|---:|---|",
    ]
    for c in cells:
        per_seed = ", ".join(f"{v:.2f}" for v in c["per_seed"].values())
        lines.append(
            f"| {c['optimizer']} | {c['dataset']} | {c['mean']:.2f} ± {c['std']:.2f} (n={c['n']}) "
            f"| {c['seed_figure']:.2f} | {c['difference']:+.2f} | {per_seed} |"
        )
    return "\n".join(lines)


def run_line(r: dict[str, Any]) -> str:
    """One finished run, as the progress display prints it."""
    return (f"{r['optimizer']:<8} {r['dataset']:<10} seed {r['seed']}: test accuracy "
            f"{100 * r['test_accuracy']:6.2f}%  ({r['seconds']:.1f} s, {r['engine']})")
