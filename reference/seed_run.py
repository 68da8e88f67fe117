"""The seed configuration trained with its torch shadow.

    python -m reference.seed_run --epochs 6000 --dataset chessboard [--json PATH]

Seed: 2-100-50-10-1 sigmoid, N(0, 1) weights, half sum of squares, per-sample updates, lr 1e-2,
classic momentum 0.9 on the weights only, lr halved every 1500 epochs.  Prints the final largest
relative weight difference between handnet and the twin, and whether every test prediction
agrees; ``--json`` writes the per-epoch records too (atomically: temp file, then rename).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence

import torch

from handnet.config import Config
from handnet.data import DATASETS
from handnet.train import build, train
from reference.shadow import shadow


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference.seed_run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=6000)
    parser.add_argument("--dataset", choices=DATASETS, default="chessboard")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="write the records as JSON ('-': stdout)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be positive, got {args.epochs}")

    # Per-sample steps are tiny: a second thread costs torch more than it gives.
    torch.set_num_threads(1)
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
        text = json.dumps({"config": config.to_dict(), "seconds": seconds, "summary": summary,
                           "epochs": callback.records}, indent=1)
        if args.json == "-":
            print(text)
        else:
            directory = os.path.dirname(os.path.abspath(args.json))
            with tempfile.NamedTemporaryFile("w", dir=directory, delete=False,
                                             suffix=".tmp") as tmp:
                tmp.write(text)
            os.replace(tmp.name, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
