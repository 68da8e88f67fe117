"""``handnet demo``: the project's main job in about two minutes on two cores.

The seed network on linear, xor and chessboard, each with plain SGD and with the seed's momentum
(6 cells), trained for ``DEMO_EPOCHS`` epochs instead of the seed's 6000 so the whole demo fits
the budget; it says so in its output.  Cells run in ``--workers`` processes (2 by default).
It prints a table (data set, optimiser, epochs, test accuracy, seconds per cell) and writes per
cell ``{dataset}-{optimizer}-predictions.png``, ``-loss.png`` and ``-lr.png`` into ``--out``,
plus ``results.json`` and ``results.md``.

Every cell is trained by ``_train_cell(config)``: to swap in a faster engine, change that one
function (or the ``ENGINE`` it calls).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from handnet.atomic import atomic_write_text
from handnet.cli import UsageError
from handnet.commands.train import as_flag
from handnet.config import Config
from handnet.fast import plain_path_note, train
from handnet.outputs import Outputs
from handnet.progress import RunProgress
from handnet.train import History, Run, accuracy, build
from handnet.workers import as_completed_in_workers

# The compiled per-sample path (handnet.fast, verified equal to the plain path) costs about
# 20-45 us per sample on the 2-core dev machine (idle to loaded), so 600 epochs of 1000 points
# is 12-27 s per cell, three cells per worker.  The seed write-up reports chessboard with
# momentum at 92% after 600 epochs.  Without numba the plain path (~100 us/sample) is used.
DEMO_EPOCHS = 600
SEED_EPOCHS = Config().epochs
DATASETS = ("linear", "xor", "chessboard")
OPTIMIZERS = ("sgd", "momentum")
# The seed write-up's test accuracy (%) after 6000 epochs (../shared/seed-facts.md).
SEED_ACCURACY = {
    ("linear", "sgd"): 98.96, ("xor", "sgd"): 96.58, ("chessboard", "sgd"): 75.60,
    ("linear", "momentum"): 99.12, ("xor", "momentum"): 98.81, ("chessboard", "momentum"): 96.57,
}

# The training engine: ``ENGINE(run)`` trains ``run`` in place for ``run.config.epochs`` epochs.
ENGINE: Callable[[Run], History] = train


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo",
        help="the seed network on 3 data sets x 2 optimisers, a table and plots (~2 minutes)",
        description=(
            "Train the seed network on linear, xor and chessboard with plain SGD and with the "
            "seed's momentum, print a table of test accuracy and time per cell, and write the "
            f"plots. Uses {DEMO_EPOCHS} epochs per cell by default (the seed used "
            f"{SEED_EPOCHS}) to stay near two minutes on two cores."
        ),
    )
    p.add_argument("--out", default="out/demo", metavar="DIR",
                   help="directory for the plots and results (default out/demo)")
    p.add_argument("--epochs", type=int, default=DEMO_EPOCHS, metavar="N",
                   help=f"epochs per cell (default {DEMO_EPOCHS}; the seed used {SEED_EPOCHS})")
    p.add_argument("--workers", type=int, default=2, metavar="W",
                   help="worker processes (default 2; 1 runs the cells in this process)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default 0)")
    p.add_argument("--n-train", type=int, default=Config().n_train, metavar="N",
                   help=f"training points per data set (default {Config().n_train})")
    p.add_argument("--n-test", type=int, default=Config().n_test, metavar="N",
                   help=f"test points per data set (default {Config().n_test})")
    p.set_defaults(func=run)


def cell_configs(epochs: int, seed: int, n_train: int, n_test: int) -> list[Config]:
    """The seed configuration for each (data set, optimiser) cell."""
    return [
        Config(dataset=d, optimizer=o, epochs=epochs, seed=seed, n_train=n_train, n_test=n_test)
        for d in DATASETS for o in OPTIMIZERS
    ]


def _train_cell(config: Config) -> dict[str, Any]:
    """Train one cell; the single place a faster engine is swapped in.

    Returns the trained ``run`` (network, data, history) with its accuracies and the training
    wall time in seconds.
    """
    run = build(config)
    start = time.perf_counter()
    ENGINE(run)
    seconds = time.perf_counter() - start
    return {
        "run": run,
        "seconds": seconds,
        "train_accuracy": accuracy(run.network, run.data.x_train, run.data.y_train),
        "test_accuracy": accuracy(run.network, run.data.x_test, run.data.y_test),
    }


def _cell(config: Config, out: str) -> dict[str, Any]:
    """Train a cell and write its plots; return a small picklable summary."""
    result = _train_cell(config)
    run: Run = result["run"]
    prefix = f"{config.dataset}-{config.optimizer}-"
    from handnet.plots import write_plots

    title = f"{config.dataset} · {config.optimizer} · {config.epochs} epochs"
    plots = write_plots(out, run.network, run.data, run.history, prefix=prefix, title=title,
                        loss_name=config.loss)
    loss = run.history.loss[-1]
    return {
        "dataset": config.dataset,
        "optimizer": config.optimizer,
        "epochs": config.epochs,
        "seed": config.seed,
        "train_accuracy": result["train_accuracy"],
        "test_accuracy": result["test_accuracy"],
        "final_loss": loss if math.isfinite(loss) else None,
        "seconds": result["seconds"],
        "seed_test_accuracy_6000_epochs": SEED_ACCURACY[(config.dataset, config.optimizer)] / 100,
        "plots": [str(p) for p in plots],
        "config": config.to_dict(),
    }


@contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Worker processes inherit one BLAS thread each: with 2 workers on 2 cores, OpenBLAS's own
    threads only spin (measured: same wall time, twice the CPU)."""
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {n: os.environ.get(n) for n in names}
    os.environ.update({n: "1" for n in names})
    try:
        yield
    finally:
        for n, v in saved.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v


def _run_cells(configs: list[Config], out: str, workers: int) -> Iterator[dict[str, Any]]:
    """Yield cell summaries as they finish."""
    if workers == 1:
        for config in configs:
            yield _cell(config, out)
        return
    # Workers are spawned lazily (on submit), so the environment stays set for the pool's life;
    # the parent's own BLAS was configured when it imported NumPy and is not affected.
    with _single_threaded_blas():
        yield from as_completed_in_workers(partial(_cell, out=out), configs, workers)


def format_table(cells: list[dict[str, Any]]) -> str:
    """A markdown table, one row per cell, in the fixed data set x optimiser order."""
    order = {(d, o): i for i, (d, o) in
             enumerate((d, o) for d in DATASETS for o in OPTIMIZERS)}
    rows = sorted(cells, key=lambda c: order.get((c["dataset"], c["optimizer"]), len(order)))
    lines = [
        "| data set | optimiser | epochs | test accuracy | seed (6000 epochs) | seconds |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for c in rows:
        lines.append(
            f"| {c['dataset']} | {c['optimizer']} | {c['epochs']} | "
            f"{100 * c['test_accuracy']:.2f}% | {100 * c['seed_test_accuracy_6000_epochs']:.2f}% "
            f"| {c['seconds']:.1f} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.epochs < 1:
        raise UsageError(f"--epochs must be a positive integer, got {args.epochs}")
    if args.workers < 1:
        raise UsageError(f"--workers must be a positive integer, got {args.workers}")
    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer, got {args.seed}")
    try:
        configs = cell_configs(args.epochs, args.seed, args.n_train, args.n_test)
    except ValueError as exc:
        raise UsageError(as_flag(str(exc))) from None
    Outputs(dirs={"--out": (args.out, ("results.json", "results.md"))}).check()
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {args.out}: cannot create it ({exc.strerror or exc})") from None

    note = ""
    if args.epochs < SEED_EPOCHS:
        note = (f"{args.epochs} epochs per cell, fewer than the seed's {SEED_EPOCHS}, to keep "
                f"the demo near two minutes: accuracies can fall short of the seed's "
                f"{SEED_EPOCHS}-epoch figures (`make reproduce` runs the full {SEED_EPOCHS}).")
        lr_epoch = Config().lr_epoch
        if args.epochs <= lr_epoch:
            note += (f" The seed's lr halving (every {lr_epoch} epochs) does not happen within "
                     f"{args.epochs} epochs.")
        print(f"note: {note}", flush=True)
    plain = plain_path_note()
    if plain:
        print(f"handnet: {plain}", file=sys.stderr, flush=True)
    print(f"training {len(configs)} cells ({', '.join(DATASETS)} x {', '.join(OPTIMIZERS)}) "
          f"in {min(args.workers, len(configs))} process(es) ...", flush=True)

    start = time.perf_counter()
    cells = []
    progress = RunProgress(len(configs), unit="cell")
    try:
        for cell in _run_cells(configs, str(out), args.workers):
            cells.append(cell)
            progress.done(f"{cell['dataset']} · {cell['optimizer']}: test accuracy "
                          f"{100 * cell['test_accuracy']:.2f}% in {cell['seconds']:.1f} s")
    finally:
        progress.close()
    wall = time.perf_counter() - start

    table = format_table(cells)
    print()
    print(table)
    print()
    print(f"total wall time {wall:.1f} s; plots and results in {out}")
    summary = {"epochs": args.epochs, "seed_epochs": SEED_EPOCHS, "workers": args.workers,
               "wall_seconds": wall, "note": note, "cells": cells}
    atomic_write_text(out / "results.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_text(out / "results.md",
                      (f"{note}\n\n" if note else "") + table + f"\n\nTotal wall time {wall:.1f} s "
                      f"with {args.workers} worker process(es).\n")
    sys.stdout.flush()
    return 0
