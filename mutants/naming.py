"""Scoring ``handnet check`` on a mutant: does it name the planted parameter and pattern?

The check tool runs on ``mutants/handnet_adapter.py`` inside the mutant's copy of the tree;
the mutant's ``adapter`` settings reach the adapter as JSON in ``HANDNET_MUTANT_ADAPTER``.
It is *named right* when the first wrong parameter the tool names (in backprop order, the
place it tells the user to start) is one of the mutant's ``parameter`` alternatives and that
parameter's diagnosis names the mutant's ``pattern``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mutants.catalogue import Mutant

CHECK_ARGS = ["--batch", "4", "--steps", "4", "--seed", "0"]
Runner = Callable[[list[str], Mapping[str, str]], tuple[int | None, str, float]]


@dataclass
class CheckOutcome:
    named: str  # "W2: sign flipped" or why nothing was named
    right: bool
    seconds: float


def score_check(mutant: Mutant, tree: Path, run: Runner) -> CheckOutcome:
    argv = [sys.executable, "-m", "handnet", "check", "mutants/handnet_adapter.py",
            *CHECK_ARGS, "--json", "-"]
    code, out, seconds = run(argv, {"HANDNET_MUTANT_ADAPTER": json.dumps(mutant.adapter)})
    if code != 1:
        return CheckOutcome(f"(exit {code})", False, seconds)
    try:
        report = json.loads(out[out.index("{"):])
    except ValueError:
        return CheckOutcome("(no JSON report)", False, seconds)
    name, diagnosis = first_named(report)
    right = name in mutant.parameters and pattern_matches(mutant.pattern, diagnosis)
    return CheckOutcome(f"{name}: {diagnosis}"[:60], right, seconds)


def first_named(report: Mapping[str, Any]) -> tuple[str, str]:
    """(parameter, diagnosis) of the first wrong parameter in the report."""
    for rec in report.get("parameters", []):
        if not rec.get("ok", True):
            return str(rec.get("name")), str(rec.get("diagnosis", ""))
    return "(none)", ""


def pattern_matches(pattern: str, diagnosis: str) -> bool:
    return pattern.lower() in diagnosis.lower()
