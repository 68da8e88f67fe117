"""The hostile corpus (``tests/hostile/``): adapters written to fool ``handnet check``.

Each case file states what a correct tool must say (``EXPECT``: match, mismatch, inconclusive,
adapter-error or user-error), optionally other acceptable verdicts (``ALSO_OK``), extra CLI
arguments (``ARGS``) and whether it needs a real process (``SUBPROCESS = True``: ``os._exit``,
a loop that never returns, writes to file descriptor 1, ``--json -`` purity). The constants are
read with ``ast`` — some cases call ``sys.exit`` at import, so they are never imported here.

In-process cases go through ``reference.checker.guard.check_file``; the module skips until it
exists.
"""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

guard = pytest.importorskip("reference.checker.guard")

HOSTILE = Path(__file__).resolve().parent / "hostile"
CASES = sorted(p for p in HOSTILE.glob("*.py") if not p.name.startswith("_"))
EXIT_CODES = {"match": 0, "mismatch": 1, "adapter-error": 2, "inconclusive": 3,
              "user-error": 4, "internal-error": 5}
VERDICT_OF = {code: verdict for verdict, code in EXIT_CODES.items()}


def constants(path: Path) -> dict[str, Any]:
    """The case's module-level ``EXPECT``, ``ALSO_OK``, ``ARGS`` and ``SUBPROCESS``."""
    out: dict[str, Any] = {"ARGS": [], "ALSO_OK": (), "SUBPROCESS": False}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name) and node.targets[0].id in \
                ("EXPECT", "ALSO_OK", "ARGS", "SUBPROCESS"):
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


def accepted(c: dict[str, Any]) -> set[str]:
    return {c["EXPECT"], *c["ALSO_OK"]}


def run_in_process(path: Path, args: list[str]) -> Any:
    params = list(inspect.signature(guard.check_file).parameters)
    if params and params[0] == "path":  # check_file(path, argv)
        return guard.check_file(str(path), list(args))
    return guard.check_file([str(path), *args])  # check_file(argv) with the file first


def test_corpus_is_well_formed() -> None:
    assert len(CASES) >= 30
    assert sum(constants(p)["SUBPROCESS"] for p in CASES) <= 5
    for path in CASES:
        c = constants(path)
        assert ast.get_docstring(ast.parse(path.read_text())), path.name
        assert c.get("EXPECT") in EXIT_CODES, path.name
        assert set(c["ALSO_OK"]) <= set(EXIT_CODES), path.name


@pytest.mark.parametrize("path", [p for p in CASES if not constants(p)["SUBPROCESS"]],
                         ids=lambda p: p.stem)
def test_in_process(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = constants(path)
    monkeypatch.chdir(path.parent)
    numpy_before = dict(vars(np))  # patches_numpy.py replaces np.tanh: undo it after the case
    try:
        outcome = run_in_process(path, c["ARGS"])
    finally:
        for name, value in numpy_before.items():
            if getattr(np, name, None) is not value:
                setattr(np, name, value)
    assert outcome.verdict in accepted(c), f"{path.name}: {outcome.verdict}\n{outcome.text}"
    assert outcome.exit_code == EXIT_CODES[outcome.verdict]


@pytest.mark.parametrize("path", [p for p in CASES if constants(p)["SUBPROCESS"]],
                         ids=lambda p: p.stem)
def test_subprocess(path: Path) -> None:
    c = constants(path)
    proc = subprocess.run([sys.executable, "-m", "handnet", "check", str(path), *c["ARGS"]],
                          cwd=path.parent, capture_output=True, text=True, timeout=60)
    got = VERDICT_OF.get(proc.returncode, f"exit {proc.returncode}")
    assert got in accepted(c), f"{path.name}: {got}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    if c["ARGS"][-2:] == ["--json", "-"]:
        data = json.loads(proc.stdout)  # nothing but the one JSON document on stdout
        assert data["verdict"] == got
