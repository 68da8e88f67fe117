"""Scoring ``handnet check`` on a mutant: does it name the planted parameter and pattern?

The check tool runs on ``planted_bugs/handnet_adapter.py`` inside the mutant's copy of the tree;
the mutant's ``adapter`` settings reach the adapter as JSON in ``HANDNET_MUTANT_ADAPTER``.
It is *named right* when the tool's "start here" (the first wrong parameter in backprop order)
is one of the mutant's ``parameter`` alternatives and that parameter's findings include one of
the mutant's ``pattern`` keys.  Mutants with parameter ``"-"`` (bugs in the twin, which the
tool uses as its oracle) are not scored.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planted_bugs.catalogue import Mutant
from reference.checker.patterns import parse_patterns

CHECK_ARGS = ["--steps", "4", "--seed", "0"]  # the batch is the adapter's (4, or the mutant's)
Runner = Callable[[list[str], Mapping[str, str]], tuple[int | None, str, float]]


@dataclass
class CheckOutcome:
    named: str  # "W2: sign" (the start-here parameter and its finding kinds), or why not
    right: bool
    seconds: float


def scored(mutant: Mutant) -> bool:
    return mutant.parameter != "-"


ADAPTER = "planted_bugs/handnet_adapter.py"


def score_check(mutant: Mutant, tree: Path, run: Runner, adapter: str = ADAPTER) -> CheckOutcome:
    """Run the check tool on ``adapter`` in ``tree`` (the mutant's copy) and score it."""
    argv = [sys.executable, "-m", "handnet", "check", adapter, *CHECK_ARGS, "--json", "-"]
    code, out, seconds = run(argv, {"HANDNET_MUTANT_ADAPTER": json.dumps(mutant.adapter)})
    if code == 0:
        return CheckOutcome("(everything matches)", False, seconds)
    if code != 1:
        tail = out.strip().splitlines()[-1:] or ["no output"]
        return CheckOutcome(f"(exit {code}: {tail[0][:60]})", False, seconds)
    try:
        report = json.loads(out[out.index("{"):])
    except ValueError:
        return CheckOutcome("(no JSON report)", False, seconds)
    name, kinds = start_here(report)
    right = name in mutant.parameters and bool(set(kinds) & set(parse_patterns(mutant.pattern)))
    return CheckOutcome(f"{name}: {', '.join(kinds) or '-'}", right, seconds)


def start_here(report: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The report's "start here" parameter (canonical name: ``W2``, whatever the adapter calls
    it) and the kinds of its findings."""
    name = report.get("start_here")
    forward = report.get("forward", {})
    if name is None and forward.get("ok", True):
        return "(none)", []
    if name in (None, "forward"):
        return "forward", [str(k) for k in forward.get("patterns", [])]
    for rec in report.get("parameters", []):
        if rec.get("name") == name:
            return str(rec.get("canonical", name)), [str(k) for k in rec.get("patterns", [])]
    return str(name), []
