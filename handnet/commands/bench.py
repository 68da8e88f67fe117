"""``handnet bench``: handnet's training step beside the torch twin's (issue 6).

Prints a table (µs per step, ratio = handnet / torch) and, with ``--json PATH`` (``-`` for
stdout, the table then goes to stderr), writes ``{"cases": [...], "machine": {...}}``.
The torch side is ``reference.experiments.bench``, imported only here and only when the command
runs; without torch the torch columns stay empty.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from handnet import fast
from handnet.atomic import atomic_write_text
from handnet.bench import CASES, TABLE_HEADER, run_bench
from handnet.cli import UsageError
from handnet.machine import machine_info
from handnet.outputs import Outputs
from handnet.twin import TwinUnavailable, import_twin


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "bench",
        help="time a training step beside the torch twin (per-sample, full batch, wide)",
        description="Median µs per training step (forward + backward + update, float64) of "
                    "handnet and the torch twin, threads pinned, for each case.",
    )
    p.add_argument("--json", metavar="PATH", help="write the results as JSON ('-' for stdout)")
    p.add_argument("--cases", default=",".join(CASES), metavar="LIST",
                   help=f"comma-separated cases (default {','.join(CASES)})")
    p.add_argument("--threads", default="1,2", metavar="LIST",
                   help="comma-separated thread counts (default 1,2)")
    p.add_argument("--repeats", type=int, default=7, metavar="R",
                   help="timed repeats per figure; the median is reported (default 7)")
    p.add_argument("--no-torch", action="store_true", help="time handnet only")
    p.set_defaults(func=run)


def _int_list(flag: str, text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{flag} must be comma-separated integers, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise UsageError(f"{flag} must list positive integers, got {text!r}")
    return values


def run(args: argparse.Namespace) -> int:
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown or not cases:
        raise UsageError(f"--cases: unknown case {', '.join(unknown) or '(none)'}; "
                         f"choose from {', '.join(CASES)}")
    threads = _int_list("--threads", args.threads)
    if args.repeats < 1:
        raise UsageError(f"--repeats must be a positive integer, got {args.repeats}")
    to_stdout = args.json == "-"
    Outputs(files={"--json": args.json}).check()
    table_out = sys.stderr if to_stdout else sys.stdout

    torch_timer = None
    torch_note = "not measured (--no-torch)"
    versions: dict[str, str] = {}
    if not args.no_torch:
        try:
            reference = import_twin("reference.experiments.bench", "the torch column")
        except TwinUnavailable as exc:
            torch_note = f"not measured ({exc})"
        else:
            torch_timer = reference.torch_timer
            versions = reference.versions()
            torch_note = "measured"

    note = fast.plain_path_note()
    if note:
        print(f"handnet: {note}", file=sys.stderr, flush=True)
    print(TABLE_HEADER, file=table_out, flush=True)
    rows = run_bench(cases, threads, args.repeats, torch_timer,
                     log=lambda line: print(line, file=table_out, flush=True))
    info = machine_info() | versions
    result = {"cases": rows, "machine": info, "torch": torch_note, "repeats": args.repeats}
    text = json.dumps(result, indent=1) + "\n"
    if to_stdout:
        sys.stdout.write(text)
    elif args.json:
        atomic_write_text(Path(args.json), text)
    print(f"machine: {info['cpu']}, {info['nproc']} cores, load average "
          f"{info.get('load_average')}; torch {torch_note}", file=table_out)
    return 0
