"""Score ``handnet check`` on a field corpus: one folder per network, each with ``adapter.py``.

    python tools/field/score.py [CORPUS] [--python PY] [--timeout S] [--jobs N] [--only NAME ...]

``CORPUS`` (default ``/work/field``) holds ``truth.toml`` and one folder per network named as
its table.  For every ``[net.NAME]`` the script runs ``PY -m handnet check NAME/adapter.py --json``
in its own process (a hang or crash in one never stops the others; ``--jobs`` at a time), then
judges the result against the truth:

* ``expected_verdict = "match"``: right iff the verdict is ``match``;
* ``expected_verdict = "mismatch"``: right iff the verdict is ``mismatch``, the parameters at fault
  (JSON ``root_causes``; consequences are allowed) are exactly ``expected_flagged``, and for each
  entry of ``expected_patterns`` (parameter -> keywords) one keyword occurs in that parameter's
  ``patterns`` or ``diagnosis`` (lower case).

Networks with ``in_scope = false`` are shown with what the tool did today but are not counted in
the score (their declarations do not exist yet); rescoring later counts them once ``in_scope`` is
set to true.  It reads only the corpus directory and writes only ``CORPUS_DIR/NAME/out.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


def run_check(folder: Path, python: str, timeout: float) -> dict[str, Any]:
    """Run the checker on ``folder/adapter.py``; return its JSON (or a record of the failure)."""
    out = folder / "out.json"
    out.unlink(missing_ok=True)
    cmd = [python, "-m", "handnet", "check", str(folder / "adapter.py"), "--json", str(out)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"verdict": "timeout", "exit_code": None,
                "error": f"no result within {timeout:.0f} s"}
    if not out.exists():
        return {"verdict": "no-json", "exit_code": proc.returncode,
                "error": proc.stderr.strip()[-300:]}
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def judge(truth: dict[str, Any], result: dict[str, Any]) -> tuple[bool, str]:
    """Is the tool's answer right for this network? Returns (right, reason when wrong)."""
    verdict = result.get("verdict")
    if truth["expected_verdict"] == "match":
        ok = verdict == "match"
        return ok, "" if ok else f"verdict {verdict}, expected match"
    if verdict != "mismatch":
        return False, f"verdict {verdict}, expected mismatch"
    flagged = set(result.get("root_causes") or [])
    expected = set(truth.get("expected_flagged", []))
    if flagged != expected:
        return False, f"flagged {sorted(flagged)}, expected {sorted(expected)}"
    records = {p["name"]: p for p in result.get("parameters", [])}
    for name, keywords in truth.get("expected_patterns", {}).items():
        record = records.get(name, {})
        text = (" ".join(record.get("patterns") or []) + " " + str(record.get("diagnosis"))).lower()
        if not any(k.lower() in text for k in keywords):
            return False, f"{name}: none of {keywords} named"
    return True, ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default="/work/field")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args(argv)
    root = Path(args.corpus)
    nets: dict[str, dict[str, Any]] = tomllib.loads((root / "truth.toml").read_text())["net"]
    names = [n for n in sorted(nets) if not args.only or n in args.only]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = pool.map(lambda n: run_check(root / n, args.python, args.timeout), names)
        results = dict(zip(names, runs, strict=True))
    rows, right, counted = [], 0, 0
    for name in names:
        truth, result = nets[name], results[name]
        ok, why = judge(truth, result)
        scope = truth.get("in_scope", True)
        if scope:
            counted += 1
            right += ok
        would = "would be right" if ok else "not right"
        mark = ("right" if ok else "WRONG") if scope else f"out of scope ({would})"
        rows.append((name, truth["truth"], str(result.get("verdict")), str(result.get("exit_code")),
                     ",".join(result.get("root_causes") or []) or "-", mark, why))
    head = ("network", "truth", "verdict", "exit", "flagged", "judged")
    widths = [max(len(r[i]) for r in [*rows, head]) for i in range(6)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for r in rows:
        cells = "  ".join(c.ljust(w) for c, w in zip(r[:6], widths, strict=True))
        print(cells + (f"  ({r[6]})" if r[6] else ""))
    pct = 100.0 * right / counted if counted else 0.0
    print(f"\njudged right: {right} of {counted} in scope ({pct:.0f} %); "
          f"{len(names) - counted} out of scope today, listed but not counted")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
