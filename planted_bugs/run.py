"""``make mutants``: plant every bug of the catalogue in a throw-away copy and run the suite on it.

For each mutant: copy the tree (everything but .git, .venv and caches) into a temporary
directory, apply the patch there, and run the equivalence suite against the copy with the
copy's directory as both the working directory and ``PYTHONPATH`` (so its ``handnet`` is the one
imported, even where the project venv has handnet installed editable from the real tree).
A mutant is **killed** when a test fails, **survives** when the suite passes.

Before trusting any of that, two controls run in the same pool:

* ``(baseline)``: the unpatched copy must pass the suite (else every "kill" is meaningless);
* ``(sanity)``: a patch that makes ``import handnet`` raise a marker error must be killed *with
  that marker in the output*, and the copy's ``handnet.__file__`` must lie inside the copy.

Then, where the tree has ``handnet check``, it runs the check tool with handnet's own adapter
(``planted_bugs/handnet_adapter.py``) on each mutant and scores whether it names the planted
parameter and pattern.  Exit status: 0 when everything was killed (and the controls held),
1 when a mutant survived, 2 when a control failed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the tree importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handnet.atomic import atomic_write_text  # noqa: E402
from planted_bugs.catalogue import Mutant, load  # noqa: E402
from planted_bugs.naming import ADAPTER, CheckOutcome, score_check, scored  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# mutants/ is mutmut's working folder (make mutation), a copy of the tree of its own.
EXCLUDE = {".git", ".venv", "out", "mutants", ".hypothesis", ".pytest_cache", ".mypy_cache",
           ".ruff_cache"}
# The compiled fast path's cache (handnet._fast_kernel.CACHE_DIR): in the package's __pycache__,
# one directory per hash of the files the compiled code is built from; the only thing kept
# from __pycache__.
NUMBA_CACHE = "numba-"
KERNEL = "handnet/_fast_kernel.py"
# The suite run against every mutant, chosen by measurement (docs/mutants.md): the equivalence
# suite under the ci profile, then the compiled path's equivalence with the plain one, then the
# properties added to kill former survivors.  Hypothesis does not shrink, and a few
# strong, cheap tests go first (pytest_plugin.py).
SUITE = [
    "tests/test_equivalence_fd.py",
    "tests/test_equivalence_forward.py",
    "tests/test_equivalence_gradients.py",
    "tests/test_equivalence_optim.py",
    "tests/test_equivalence_adaptive.py",
    "tests/test_equivalence_schedule.py",
    "tests/test_equivalence_train.py",
    "tests/test_equivalence_saturation.py",
    "tests/test_equivalence_losses.py",
    "tests/test_fast.py",  # the compiled path against the plain one (compiles: ~30 s)
    "tests/test_fast_grid.py",  # ... over every option combination, and at bce's clamp
]
KILLERS = "tests/test_mutant_killers.py"  # properties that killed former survivors, if any
# The apply test fails on a patched copy by design, so it never counts as a kill.
PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider", "-p", "planted_bugs.pytest_plugin",
               "--ignore=tests/test_planted_bugs_apply.py"]
SANITY_MARKER = "MUTANT-SANITY-MARKER"
SANITY = Mutant(
    id="(sanity)",
    file="handnet/__init__.py",
    old='"""handnet:',
    new=f'raise RuntimeError("{SANITY_MARKER}")\n"""handnet:',
    description="control: the patched copy must be what runs",
    parameter="-",
    pattern="-",
)


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | error
    first: str  # the first failing test, or why it is an error
    seconds: float
    output: str = ""
    check: CheckOutcome | None = None


def compiled_sources(root: Path = ROOT) -> set[str]:
    """The files the compiled fast path's cache is keyed on (``handnet._fast_kernel.SOURCES``,
    read from the source: importing it would import numba), as paths in the tree."""
    for node in ast.parse((root / KERNEL).read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "SOURCES" for t in node.targets
        ):
            return {f"handnet/{name}" for name in ast.literal_eval(node.value)}
    return {KERNEL}


def copy_tree(dest: Path) -> Path:
    """Copy the project into ``dest/tree`` (no VCS, venv or caches) and return that path.

    From ``__pycache__`` only the compiled fast path's cache is kept (``make test`` fills it):
    its directory is named by a hash of every file the compiled code is built from
    (``compiled_sources``), so a mutant in any of them finds no directory of its hash and is
    compiled afresh, whatever the files' timestamps, while an unchanged copy loads the machine
    code instead of compiling it again (~30 s each).  Nothing else of numba's cache is used.
    """
    tree = dest / "tree"

    def ignore(directory: str, names: list[str]) -> set[str]:
        if Path(directory).name == "__pycache__":
            return {n for n in names if not n.startswith(NUMBA_CACHE)}
        return {n for n in names if n in EXCLUDE or n.endswith(".egg-info")}

    shutil.copytree(ROOT, tree, ignore=ignore, symlinks=True)
    return tree


def child_env(tree: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS_"))}
    env.update(
        PYTHONPATH=str(tree),
        PYTHONDONTWRITEBYTECODE="1",
        HYPOTHESIS_PROFILE=os.environ.get("HYPOTHESIS_PROFILE", "ci"),
        # two workers on two cores: one BLAS / torch thread each
        OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
        NUMBA_NUM_THREADS="1",
    )
    env.update(extra or {})
    return env


def run_in(
    tree: Path, argv: Sequence[str], timeout: float, extra_env: Mapping[str, str] | None = None
) -> tuple[int | None, str, float]:
    """Run ``argv`` in ``tree``; returns (exit code or None on timeout, output, seconds)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=tree, env=child_env(tree, extra_env), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        code = None
    return code, out, time.perf_counter() - start


def first_failure(output: str) -> str:
    """The node id of the first ``FAILED``/``ERROR`` line of pytest's summary."""
    for line in output.splitlines():
        for tag in ("FAILED ", "ERROR "):
            if line.startswith(tag):
                return line[len(tag):].split(" - ")[0].strip()
    return ""


def classify(code: int | None, output: str, timeout: float) -> tuple[str, str]:
    """pytest's exit code → (status, first failing test or reason)."""
    if code is None:
        return "killed", f"(timeout after {timeout:.0f} s)"
    if code == 0:
        return "survived", ""
    first = first_failure(output)
    if code == 1 or (code == 2 and first):  # test failures, or collection errors
        return "killed", first or "(failed)"
    tail = output.strip().splitlines()[-1:] or ["no output"]
    return "error", f"pytest exit {code}: {tail[0][:80]}"


def run_mutant(mutant: Mutant | None, tests: Sequence[str], timeout: float, check: str | None,
               keep: bool) -> Outcome:
    """Copy, patch (``None``: the unpatched baseline), run the suite, then the check tool on the
    adapter ``check`` (a path in the tree; ``None``: no check)."""
    shown = mutant or Mutant("(baseline)", "-", "-", "+", "control: the unpatched tree", "-", "-")
    tmp = Path(tempfile.mkdtemp(prefix="handnet-mutant-"))
    try:
        tree = copy_tree(tmp)
        if mutant is not None:
            mutant.apply(tree)
        if tests:
            argv = [sys.executable, "-m", "pytest", *PYTEST_ARGS, *tests]
            code, out, seconds = run_in(tree, argv, timeout)
            status, first = classify(code, out, timeout)
            outcome = Outcome(shown, status, first, seconds, out)
        else:
            outcome = Outcome(shown, "not run", "", 0.0)
        if check and mutant is not None and mutant is not SANITY and scored(mutant):
            outcome.check = score_check(
                mutant, tree, lambda a, env: run_in(tree, a, timeout, env), check
            )
        return outcome
    finally:
        if keep:
            print(f"kept {shown.id} in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def imports_from_copy() -> str:
    """'' when a fresh copy's ``import handnet`` resolves inside the copy, else the problem."""
    tmp = Path(tempfile.mkdtemp(prefix="handnet-mutant-"))
    try:
        tree = copy_tree(tmp)
        code, out, _ = run_in(
            tree, [sys.executable, "-c", "import handnet; print(handnet.__file__)"], 60
        )
        where = out.strip().splitlines()[-1:] or ["(nothing)"]
        if code != 0 or not Path(where[0]).resolve().is_relative_to(tree.resolve()):
            return f"the copy imports handnet from {where[0]}, not from the copy"
        return ""
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def has_check_tool() -> bool:
    return (ROOT / "handnet" / "commands" / "check.py").is_file()


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="planted_bugs/run.py", description=__doc__.split("\n")[0])
    parser.add_argument("ids", nargs="*", help="run only these mutants (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers (default 2)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per suite run")
    parser.add_argument("--tests", nargs="+", default=None,
                        help="what pytest runs (default: the equivalence suite, SUITE)")
    parser.add_argument("--no-check", action="store_true", help="skip the handnet check scoring")
    parser.add_argument("--adapter", default=ADAPTER,
                        help=f"the adapter handnet check runs on (default {ADAPTER})")
    parser.add_argument("--no-controls", action="store_true", help="skip baseline and sanity")
    parser.add_argument("--check-only", action="store_true",
                        help="only score handnet check (no suite runs, no controls)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    tests = args.tests or SUITE + ([KILLERS] if (ROOT / KILLERS).exists() else [])
    if args.check_only:
        tests, args.no_controls = [], True
    missing = [t for t in tests if not (ROOT / t.split("::")[0]).exists()]
    if missing:
        parser.error(f"no such test files: {', '.join(missing)}")
    mutants = load()
    for m in mutants:  # fail fast, before any copying, if a patch no longer applies
        m.patched((ROOT / m.file).read_text())
    if args.ids:
        unknown = sorted(set(args.ids) - {m.id for m in mutants})
        if unknown:
            parser.error(f"unknown mutant ids: {', '.join(unknown)}")
        mutants = [m for m in mutants if m.id in args.ids]
    if not (ROOT / args.adapter).is_file():
        parser.error(f"no adapter {args.adapter}")
    check = args.adapter if has_check_tool() and not args.no_check else None

    jobs: list[Callable[[], Outcome]] = []
    if not args.no_controls and tests:
        problem = imports_from_copy()
        if problem:
            print(f"control failed: {problem}", file=sys.stderr)
            return 2
        # the baseline is the longest job: start it first
        jobs.append(lambda: run_mutant(None, tests, args.timeout, None, args.keep))
        jobs.append(lambda: run_mutant(SANITY, tests, args.timeout, None, args.keep))
    compiled = compiled_sources()  # mutants there compile the fast path afresh: start them first
    kernel = [False] * len(jobs) + [m.file in compiled for m in mutants]
    jobs += [
        (lambda m=m: run_mutant(m, tests, args.timeout, check, args.keep))  # type: ignore[misc]
        for m in mutants
    ]
    # longest first (the baseline, then mutants that recompile the kernel), results in order
    order = sorted(range(len(jobs)), key=lambda i: (i > 0, not kernel[i]))
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {i: pool.submit(jobs[i]) for i in order}
        outcomes = [futures[i].result() for i in range(len(jobs))]

    results = [o for o in outcomes if not o.mutant.id.startswith("(")]
    killed = sum(o.status == "killed" for o in results)
    if tests:
        report_kills(outcomes)
    right = report_naming(results) if check else None
    if not check:
        print("\n(handnet check not scored: no check command, or --no-check)")
    elapsed = time.perf_counter() - start
    print(f"total {elapsed:.0f} s with {args.jobs} workers")
    if args.json:
        write_json(Path(args.json), outcomes, killed, right, elapsed)
    failed_control = control_failure(outcomes)
    if failed_control:
        print(f"control failed: {failed_control}", file=sys.stderr)
        return 2
    return 0 if args.check_only or killed == len(results) else 1


def report_kills(outcomes: list[Outcome]) -> None:
    """The table of every suite run and the line ``killed K/N``."""
    rows = [[o.mutant.id, o.status, o.first, f"{o.seconds:.1f}"] for o in outcomes]
    print(table(rows, ["mutant", "result", "first test that killed it", "s"]))
    results = [o for o in outcomes if not o.mutant.id.startswith("(")]
    killed = sum(o.status == "killed" for o in results)
    print(f"\nkilled {killed}/{len(results)}")
    for o in results:
        if o.status != "killed":
            print(f"  {o.status}: {o.mutant.id} ({o.mutant.description}) {o.first}")


def report_naming(results: list[Outcome]) -> int:
    """The table of what handnet check named and the line ``named right: M/N``; returns M."""
    named = [(o.mutant, o.check) for o in results if o.check is not None]
    rows = [[m.id, m.parameter, m.pattern, c.named, "yes" if c.right else "no",
             f"{c.seconds:.1f}"] for m, c in named]
    print()
    print(table(rows, ["mutant", "planted", "pattern", "handnet check starts at", "right", "s"]))
    right = sum(c.right for _, c in named)
    unscored = len(results) - len(named)
    print(f"\nnamed right: {right}/{len(named)}"
          + (f" ({unscored} mutant(s) in the twin itself not scored)" if unscored else ""))
    return right


def control_failure(outcomes: list[Outcome]) -> str:
    """Why the controls say the results cannot be trusted ('' when they hold)."""
    for c in outcomes:
        if c.mutant.id == "(baseline)" and c.status != "survived":
            return f"the unpatched tree fails the suite: {c.first}"
        if c.mutant.id == "(sanity)" and SANITY_MARKER not in c.output:
            return "the sanity patch did not show: the copy is not what runs"
    return ""


def write_json(path: Path, outcomes: list[Outcome], killed: int, right: int | None,
               elapsed: float) -> None:
    results = [o for o in outcomes if not o.mutant.id.startswith("(")]
    payload = {
        "killed": killed, "total": len(results), "named_right": right,
        "seconds": round(elapsed, 1),
        "mutants": [
            {"id": o.mutant.id, "status": o.status, "first": o.first,
             "seconds": round(o.seconds, 1),
             "check": None if o.check is None else asdict(o.check)}
            for o in outcomes
        ],
    }
    atomic_write_text(path, json.dumps(payload, indent=2) + "\n")

if __name__ == "__main__":
    sys.exit(main())
