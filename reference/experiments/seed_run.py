"""The seed configuration checked against the torch twin.

    python -m reference.experiments.seed_run [--epochs 6000] [--dataset chessboard] [--every N]
                                 [--free-epochs 600] [--json PATH] [--markdown PATH]
    python -m reference.experiments.seed_run --mode free --epochs E   (free-running shadow only)

Seed: 2-100-50-10-1 sigmoid, N(0, 1) weights, half sum of squares, per-sample updates, lr 1e-2,
classic momentum 0.9 on the weights only, lr halved every 1500 epochs.

Default mode (``resync``), two parts (see ``reference.experiments.resync``):

1. **Re-synchronised**: handnet trains all ``--epochs``; at each checkpoint epoch the twin is
   built from handnet's state at the start of the epoch and both train that epoch; weights and
   momentum buffers are compared under the policy (steps = samples in the epoch), and the test
   predictions.  The last checkpoint is the last epoch: the final network.
2. **Free-running** for ``--free-epochs``: the twin in lockstep from epoch 0 without
   resynchronisation, beside handnet against itself with one weight one ulp off.

``--mode free`` is the plain lockstep shadow over ``--epochs`` (per-epoch records).  ``--json``
and ``--markdown`` are written atomically (temp file, then rename).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import torch

from handnet.atomic import atomic_write_text
from handnet.config import Config
from handnet.data import DATASETS
from handnet.machine import machine_info
from handnet.train import build, train
from reference.experiments.resync import checkpoints_for, free_running, resync_run
from reference.experiments.shadow import shadow


def _write(path: str, text: str) -> None:
    if path == "-":
        print(text)
    else:
        atomic_write_text(path, text)


def machine() -> dict[str, Any]:
    """``handnet.machine.machine_info()`` plus torch's version (the cores are shared: the load
    average says how busy they were)."""
    info = machine_info()
    info["torch"] = torch.__version__
    return info


def _free_mode(args: argparse.Namespace) -> int:
    config = Config(dataset=args.dataset, epochs=args.epochs, seed=args.seed)
    run = build(config)
    callback = shadow(run)
    start = time.perf_counter()
    train(run, callback)
    seconds = time.perf_counter() - start
    summary = callback.summary()
    last = callback.records[-1]
    print(f"{args.dataset}, {args.epochs} epochs per sample with the torch shadow: {seconds:.1f} s")
    print(f"final max relative weight difference: {summary['final_max_rel_weight_diff']:.3e} "
          f"({last['worst_parameter']}); worst over all epochs: "
          f"{summary['worst_max_rel_weight_diff']:.3e}")
    agree = "yes" if summary["final_test_predictions_agree"] else (
        f"no, {last['test_prediction_mismatches']} differ")
    print(f"every test prediction agrees: {agree}")
    if args.json:
        _write(args.json, json.dumps({"config": config.to_dict(), "seconds": seconds,
                                      "summary": summary, "epochs": callback.records}, indent=1))
    return 0


def markdown(result: dict[str, Any]) -> str:
    """The short report (docs/seed-run.md) from the JSON result."""
    m, rs = result["machine"], result["resync"]
    lines = [
        "# The full seed run against the torch twin",
        "",
        f"Command: `{result['command']}`  ",
        f"Date: {result['date']}  ",
        f"Machine: {m['nproc']} cores ({m['cpu']}), torch {m['torch']}, Python {m['python']}; "
        f"load average at start {m['load_average'][0]:.2f}, "
        f"at end {result['load_average_end'][0]:.2f} (cores shared with other work)  ",
        f"Timing: re-synchronised part {rs['seconds']:.0f} s (of which twin epochs "
        f"{rs['twin_seconds']:.0f} s), handnet path {rs['handnet_path']}",
        "",
        f"## 1. Re-synchronised: every checkpoint epoch from handnet's state "
        f"({result['config']['dataset']}, {rs['final']['epochs']} epochs, seed "
        f"{result['config']['seed']})",
        "",
        "At each epoch below the twin is built from handnet's weights, momentum buffers and "
        "schedule position at the start of the epoch; both train that epoch (one step per sample, "
        "same order); the table gives the largest normwise relative difference after it.",
        "",
        "| epoch | lr | weights max rel | buffers max rel | rtol | within | test preds differ |",
        "|---:|---:|---:|---:|---:|:---:|---:|",
    ]
    for r in rs["checkpoints"]:
        lines.append(f"| {r['epoch']} | {r['lr']:.4g} | {r['max_rel_weight_diff']:.2e} "
                     f"({r['worst_parameter']}) | {r['max_rel_buffer_diff']:.2e} | "
                     f"{r['rtol']:.1e} | {'yes' if r['within_tolerance'] else 'NO'} | "
                     f"{r['test_prediction_mismatches']} |")
    f = rs["final"]
    lines += [
        "",
        f"Final network (after epoch {f['epochs'] - 1}): handnet test accuracy "
        f"{100 * f['handnet_test_accuracy']:.1f} %, the twin's (one epoch from sync) "
        f"{100 * f['twin_test_accuracy']:.1f} %; relative weight difference "
        f"{f['max_rel_weight_diff']:.2e}; test predictions that differ: "
        f"{f['test_prediction_mismatches']}.  Worst over all checkpoints: weights "
        f"{rs['worst_max_rel_weight_diff']:.2e}, buffers {rs['worst_max_rel_buffer_diff']:.2e}.",
    ]
    fr = result.get("free")
    if fr:
        p = fr["perturbation"]
        lines += [
            "",
            f"## 2. Free-running for {fr['epochs']} epochs ({fr['seconds']:.0f} s)",
            "",
            "The twin in lockstep from epoch 0, never resynchronised, beside the control: handnet "
            f"against handnet with W0[0, 0] one ulp larger (relative {p['rel']:.1e}).  "
            f"Twin first out of tolerance after epoch {fr['twin_first_epoch_out_of_tolerance']}; "
            f"the one-ulp control after epoch {fr['perturbed_first_epoch_out_of_tolerance']}.",
            "",
            "| epochs done | twin max rel | twin preds differ | one-ulp max rel | "
            "one-ulp preds differ |",
            "|---:|---:|---:|---:|---:|",
        ]
        for r in fr["rows"]:
            lines.append(f"| {r['epochs_done']} | {r['twin_max_rel_weight_diff']:.2e} | "
                         f"{r['twin_test_prediction_mismatches']} | "
                         f"{r['perturbed_max_rel_weight_diff']:.2e} | "
                         f"{r['perturbed_test_prediction_mismatches']} |")
        twin_worst = max(r["twin_max_rel_weight_diff"] for r in fr["rows"])
        pert_worst = max(r["perturbed_max_rel_weight_diff"] for r in fr["rows"])
        lines += [
            "",
            f"Largest over the table: twin {twin_worst:.2e}, one-ulp control {pert_worst:.2e}.  "
            "Where both leave the tolerance within a few epochs of each other and grow to the "
            "same size, the growth is the training dynamics' sensitivity to any rounding "
            "difference, not a difference between the implementations; part 1 checks every "
            "epoch's step semantics free of that amplification.",
        ]
    total = rs["seconds"] + (fr["seconds"] if fr else 0.0)
    lines += ["", f"Total measured time: {total:.0f} s wall (both parts)."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference.experiments.seed_run",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("resync", "free"), default="resync")
    parser.add_argument("--epochs", type=int, default=6000)
    parser.add_argument("--dataset", choices=DATASETS, default="chessboard")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoints", metavar="E,E,...",
                        help="checkpoint epochs (default 0,1,499,500,549,550,575,1499,1500,"
                             "2999,3000,4499,4500,5999; the last epoch is always one)")
    parser.add_argument("--every", type=int, default=0, metavar="N",
                        help="also every N-th epoch (0: off)")
    parser.add_argument("--free-epochs", type=int, default=600,
                        help="epochs of the free-running part (0: skip it)")
    parser.add_argument("--report-every", type=int, default=25,
                        help="free-running table interval in epochs")
    parser.add_argument("--no-fast", action="store_true", help="handnet's plain path only")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON ('-': stdout)")
    parser.add_argument("--markdown", metavar="PATH", help="write the short report (resync mode)")
    parser.add_argument("--from-json", metavar="PATH",
                        help="only re-render --markdown from a results JSON this command wrote")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be positive, got {args.epochs}")
    if args.free_epochs < 0 or args.report_every < 1:
        parser.error("--free-epochs must be >= 0 and --report-every positive")
    for path in (args.json, args.markdown):
        if path and path != "-" and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            parser.error(f"cannot write {path}: its directory does not exist")

    if args.from_json:
        if not args.markdown:
            parser.error("--from-json needs --markdown")
        try:
            with open(args.from_json, encoding="utf-8") as f:
                _write(args.markdown, markdown(json.load(f)))
        except (OSError, ValueError, KeyError) as exc:
            parser.error(f"cannot render {args.from_json}: {exc!r}")
        return 0

    # Per-sample steps are tiny: a second thread costs torch more than it gives.
    torch.set_num_threads(1)
    if args.mode == "free":
        return _free_mode(args)
    try:
        given = None if args.checkpoints is None else [
            int(e) for e in args.checkpoints.split(",") if e.strip()]
        checkpoints = checkpoints_for(args.epochs, given, args.every)
    except ValueError as exc:
        parser.error(str(exc))
    result: dict[str, Any] = {
        "command": "python -m reference.experiments.seed_run " + shlex.join(
            sys.argv[1:] if argv is None else list(argv)),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
    }
    config = Config(dataset=args.dataset, epochs=args.epochs, seed=args.seed)
    result["config"] = config.to_dict()
    say: Callable[[str], None] = lambda s: print(s, flush=True)  # noqa: E731
    say(f"1. re-synchronised: {args.dataset}, {args.epochs} epochs, "
        f"checkpoints {checkpoints}")
    result["resync"] = rs = resync_run(config, checkpoints, fast=not args.no_fast, progress=say)
    f = rs["final"]
    say(f"   handnet path: {rs['handnet_path']}; {rs['seconds']:.1f} s "
        f"(twin epochs {rs['twin_seconds']:.1f} s)")
    say(f"   worst over checkpoints: weights {rs['worst_max_rel_weight_diff']:.3e}, buffers "
        f"{rs['worst_max_rel_buffer_diff']:.3e}; all within tolerance: "
        f"{'yes' if rs['all_within_tolerance'] else 'NO'}")
    say(f"   final: handnet test accuracy {100 * f['handnet_test_accuracy']:.2f} %, twin "
        f"(one epoch from sync) {100 * f['twin_test_accuracy']:.2f} %, "
        f"{f['test_prediction_mismatches']} test predictions differ")
    if args.free_epochs:
        say(f"2. free-running lockstep and the one-ulp control, {args.free_epochs} epochs")
        free_config = Config(dataset=args.dataset, epochs=args.free_epochs, seed=args.seed)
        result["free"] = fr = free_running(free_config, args.free_epochs, args.report_every,
                                           fast=not args.no_fast, progress=say)
        say(f"   {fr['seconds']:.1f} s; first epoch out of tolerance: twin "
            f"{fr['twin_first_epoch_out_of_tolerance']}, one-ulp control "
            f"{fr['perturbed_first_epoch_out_of_tolerance']}")
    result["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    if args.json:
        _write(args.json, json.dumps(result, indent=1))
    if args.markdown:
        _write(args.markdown, markdown(result))
    return 0 if rs["all_within_tolerance"] else 1


if __name__ == "__main__":
    sys.exit(main())
