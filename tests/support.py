"""Helpers shared by the tests."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import reject, settings

from reference.comparison import strategies as S
from reference.comparison.compare import assert_matches_reference
from reference.comparison.harness import Lockstep
from reference.comparison.stability import Unstable

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_blocks() -> dict[str, str]:
    """The README's Python blocks that start with a file name comment (``# mynet.py ...``),
    by file name."""
    blocks = re.findall(r"```python\n(# (\w+\.py)[^\n]*\n.*?)```", README.read_text(),
                        flags=re.S)
    return {name: code for code, name in blocks}


MULTIPLIER = 10 if os.environ.get("HYPOTHESIS_PROFILE", "dev") == "thorough" else 1

# Depth that make test (60 s on 2 cores) cannot afford; make test-thorough runs it.
THOROUGH_ONLY = pytest.mark.skipif(os.environ.get("HYPOTHESIS_PROFILE") != "thorough",
                                   reason="depth: make test-thorough")


def exactly(message: str) -> str:
    """A ``pytest.raises(..., match=)`` pattern for ``message`` and nothing else: taken literally
    and anchored at both ends, so a message with extra text, or cut short, does not match
    (``match`` searches anywhere in ``str(exc)``)."""
    return rf"\A{re.escape(message)}\Z"


def examples(n: int) -> settings:
    """``n`` examples (ten times as many under the ``thorough`` profile)."""
    return settings(max_examples=n * MULTIPLIER)


def run_and_compare(lock: Lockstep, problem: S.Problem, steps: int, what: str) -> None:
    """Step both sides on the problem's batches 0..steps-1, comparing after every step: the
    parameters and the momentum buffers, values and dtypes (a float32 network keeps float32
    parameters and, like torch, float32 buffers)."""
    for j in range(steps):
        x, y, _ = problem.arrays(j)
        try:
            lock.step(x, y)
        except Unstable:
            reject()
        actual, expected = lock.parameters()
        assert_matches_reference(actual, expected, steps=lock.steps, scales=lock.scales,
                                 what=f"{what}, weights after step {lock.steps}")
        actual, expected = lock.buffers()
        assert_matches_reference(actual, expected, steps=lock.steps, scales=lock.buffer_scales,
                                 what=f"{what}, momentum buffers after step {lock.steps}")


def check_planted(tmp_path: Path, source: str, *edits: tuple[str, str],
                  argv: tuple[str, ...] = ("--json", "-")) -> Any:
    """``handnet check`` (in this process, through the worker's code) on ``source`` with each
    ``(right line, wrong line)`` edit made, written to ``tmp_path/case.py``."""
    from reference.checker.guard import check_file

    text = source
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "case.py"
    path.write_text(text)
    return check_file([str(path), *argv], timeout=30)
