"""``make mutation``'s score: mutmut's results for the math modules, judged survivors set apart.

mutmut (pyproject.toml's ``[tool.mutmut]``) leaves one ``mutants/<file>.meta`` per mutated file,
mapping each mutant's name to the exit code of the tests run against it (1 or 3: killed, 0:
survived, 33: no test reaches it, 36 or a SIGXCPU code: timeout, ``null``: not run yet).
``tools/equivalent_mutants.toml`` lists the survivors judged equivalent, each with its argument
(docs/mutation.md); every other survivor is a hole.  A timeout counts as detected: the suite did
not pass (with the ci profile's shrinking on, a hypothesis failure can shrink past mutmut's CPU
limit; the timed-out mutants are listed).  The score is::

    (killed + timeout) / (mutants run - equivalent)

Exit status 0 when it is at least ``TARGET`` and no mutant judged equivalent was killed (a kill
proves the judgement wrong), 1 otherwise, 2 when there are no results to read.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = ROOT / "tools" / "equivalent_mutants.toml"
TARGET = 0.98
DETECTED = ("killed", "timeout")
STATUS = {0: "survived", 1: "killed", 3: "killed", 5: "no tests", 33: "no tests",
          34: "skipped", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout",
          255: "timeout", 37: "type check"}


def status(code: int | None) -> str:
    """mutmut's verdict for an exit code (its ``status_by_exit_code``, read as of 3.8.1)."""
    if code is None:
        return "not run"
    return STATUS.get(code, "suspicious")


def load_results(mutants: Path) -> dict[str, str]:
    """Every mutant's verdict, by mutmut's name (``handnet.optim.xǁSGDǁstep__mutmut_12``)."""
    out: dict[str, str] = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            out[name] = status(code)
    return out


def load_equivalent(path: Path = EQUIVALENT) -> dict[str, str]:
    """Mutant name -> why it is equivalent."""
    with path.open("rb") as f:
        entries = tomllib.load(f).get("mutant", [])
    return {e["name"]: e["why"] for e in entries}


def module(name: str) -> str:
    return name.split(".x")[0] if ".x" in name else name.rsplit(".", 1)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mutants", type=Path, default=ROOT / "mutants")
    args = parser.parse_args(argv)
    results = load_results(args.mutants)
    if not results:
        print(f"no mutmut results under {args.mutants}: run make mutation", file=sys.stderr)
        return 2
    equivalent = load_equivalent()
    print(f"{'module':<22} {'mutants':>7} {'run':>5} {'killed':>6} {'equiv':>5} {'holes':>5}")
    holes: list[str] = []
    wrong: list[str] = []
    timeouts: list[str] = []
    for mod in sorted({module(n) for n in results}):
        names = [n for n in results if module(n) == mod]
        counts = Counter(results[n] for n in names)
        run = [n for n in names if results[n] != "not run"]
        eq = [n for n in run if n in equivalent]
        wrong += [n for n in eq if results[n] in DETECTED]
        timeouts += [n for n in run if results[n] == "timeout"]
        mod_holes = [n for n in run if results[n] not in DETECTED and n not in equivalent]
        holes += mod_holes
        print(f"{mod:<22} {len(names):>7} {len(run):>5} {counts['killed']:>6} {len(eq):>5} "
              f"{len(mod_holes):>5}")
    run_all = [n for n in results if results[n] != "not run"]
    killed = sum(results[n] in DETECTED for n in run_all)
    scored = len(run_all) - sum(n in equivalent for n in run_all)
    score = killed / scored if scored else 0.0
    print(f"\ndetected {killed} of {scored} non-equivalent mutants run ({len(timeouts)} by "
          f"timeout): {100 * score:.1f} % "
          f"(target {100 * TARGET:.0f} %); {len(results) - len(run_all)} not run yet")
    for n in holes:
        print(f"  {results[n]}: {n}")
    for n in timeouts:
        print(f"  detected by timeout: {n}")
    for n in wrong:
        print(f"  judged equivalent but killed (remove it from {EQUIVALENT.name}): {n}")
    return 0 if score >= TARGET and not wrong else 1


if __name__ == "__main__":
    sys.exit(main())
