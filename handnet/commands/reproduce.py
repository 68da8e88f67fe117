"""``handnet reproduce``: the seed's table, 3 data sets x 2 optimisers x 5 seeds, 6000 epochs.

Prints one line per finished run, then the table (mean ± std of test accuracy per cell beside
the seed's figure) and the total time; writes ``table.md``, ``results.json`` and, where
``handnet.plots`` exists, the plots of each cell's first seed into ``--out`` (each file written
whole or not at all).
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from handnet import fast
from handnet.atomic import atomic_write_text
from handnet.cli import UsageError
from handnet.config import Config
from handnet.machine import machine_info
from handnet.outputs import Outputs
from handnet.progress import RunProgress
from handnet.reproduce import (
    DATASETS,
    OPTIMIZERS,
    format_table,
    plots_available,
    run_all,
    run_line,
    run_specs,
    summarise,
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "reproduce",
        help="the seed's table: 3 data sets x 2 optimisers x 5 seeds, 6000 epochs each",
        description=(
            "Train the seed configuration on linear, xor and chessboard with plain SGD and with "
            "momentum + step LR for several seeds, and print the mean ± std of test accuracy "
            "per cell beside the seed write-up's figures. Uses the compiled per-sample path "
            "when numba is installed."
        ),
    )
    p.add_argument("--epochs", type=int, default=Config().epochs, metavar="N",
                   help=f"epochs per run (default {Config().epochs}, the seed's)")
    p.add_argument("--seeds", type=int, default=5, metavar="N",
                   help="seeds per cell: 0..N-1 (default 5)")
    p.add_argument("--workers", type=int, default=2, metavar="W",
                   help="worker processes (default 2; 1 trains in this process)")
    p.add_argument("--out", default="out/reproduce", metavar="DIR",
                   help="directory for table.md, results.json and plots (default out/reproduce)")
    p.add_argument("--checkpoint", type=int, default=100, metavar="K",
                   help="record test accuracy every K epochs in results.json (default 100)")
    p.add_argument("--plain", action="store_true",
                   help="use the plain NumPy path even if the compiled one is available")
    p.set_defaults(func=run)


def _positive(name: str, value: int) -> None:
    if value < 1:
        raise UsageError(f"{name} must be a positive integer, got {value}")


def run(args: argparse.Namespace) -> int:
    _positive("--epochs", args.epochs)
    _positive("--seeds", args.seeds)
    _positive("--workers", args.workers)
    _positive("--checkpoint", args.checkpoint)
    Outputs(dirs={"--out": (args.out, ("table.md", "results.json"))}).check()
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {args.out}: cannot create it ({exc.strerror or exc})") from None
    if not out.is_dir():
        raise UsageError(f"--out {args.out}: not a directory")

    use_fast = not args.plain and fast.available()
    if args.plain:
        engine_note = "plain NumPy path (--plain)"
    elif use_fast:
        engine_note = "compiled per-sample path (handnet.fast)"
    else:
        engine_note = f"plain NumPy path ({fast.why_unavailable()})"
        print(f"handnet: {fast.plain_path_note()}", file=sys.stderr, flush=True)
    with_plots = plots_available()
    seeds = list(range(args.seeds))
    specs = run_specs(args.epochs, seeds, args.checkpoint, use_fast)
    if with_plots:
        specs = [replace(s, plot_dir=str(out)) if s.seed == seeds[0] else s for s in specs]
    total = len(specs)
    print(f"reproducing the seed's table: {len(OPTIMIZERS)} optimisers x {len(DATASETS)} data "
          f"sets x {args.seeds} seeds = {total} runs of {args.epochs} epochs, "
          f"{args.workers} worker(s), {engine_note}", flush=True)

    start = time.perf_counter()
    cpu_start = time.process_time()
    progress = RunProgress(total)
    runs = []
    try:
        for result in run_all(specs, args.workers):
            runs.append(result)
            progress.done(run_line(result))
    finally:
        progress.close()
    seconds = time.perf_counter() - start

    cpu = sum(r["cpu_seconds"] for r in runs)
    cells = summarise(runs)
    table = format_table(cells, args.epochs)
    info = machine_info()
    command = "handnet " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else ""
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    plots_note = ("plots: each cell's seed-0 run, `{dataset}-{optimizer}-seed0-*.png`"
                  if with_plots else "plots: skipped (handnet.plots is not available)")
    header = [
        "# The seed's table, reproduced",
        "",
        f"- command: `{command}`",
        f"- date: {date}",
        f"- machine: {info['cpu']}, {info['nproc']} cores (nproc); load average at the end "
        f"{', '.join(str(v) for v in info.get('load_average', []))}",
        f"- engine: {engine_note}; {args.workers} worker process(es)",
        f"- total wall time: {seconds:.1f} s ({seconds / 60:.1f} min); summed over runs: "
        f"{sum(r['seconds'] for r in runs):.1f} s wall, {cpu:.1f} s CPU "
        f"(CPU / workers = {cpu / args.workers / 60:.1f} min, about the wall time on idle cores)",
        f"- {plots_note}",
        "",
        "Seed configuration (2-100-50-10-1 sigmoid, N(0, 1) weights, half-SSE, per-sample, "
        "lr 1e-2; momentum row: classic momentum 0.9 on weights only, lr halved every 1500 "
        "epochs), 1000 training and 1000 test points per data set, drawn per seed. "
        "Std is the sample standard deviation over seeds. Test accuracy, training loss and "
        f"training accuracy every {args.checkpoint} epochs per run are in results.json.",
        "",
    ]
    atomic_write_text(out / "table.md", "\n".join(header) + "\n" + table + "\n")
    results = {
        "command": command,
        "date": date,
        "epochs": args.epochs,
        "seeds": seeds,
        "workers": args.workers,
        "engine": engine_note,
        "seconds": seconds,
        "parent_cpu_seconds": time.process_time() - cpu_start,
        "machine": info,
        "cells": cells,
        "runs": sorted(runs, key=lambda r: (r["optimizer"], r["dataset"], r["seed"])),
    }
    atomic_write_text(out / "results.json", json.dumps(results, indent=1) + "\n")
    print()
    print(table)
    print(f"\ntotal time {seconds:.1f} s ({seconds / 60:.1f} min), CPU {cpu:.1f} s in the runs "
          f"(/{args.workers} workers = {cpu / args.workers / 60:.1f} min); wrote "
          f"{out / 'table.md'}, {out / 'results.json'}"
          + ("" if with_plots else "; plots skipped (no handnet.plots)"))
    return 0
