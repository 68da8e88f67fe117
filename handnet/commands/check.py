"""``handnet check ADAPTER.py``: debug a wrong gradient in anyone's hand-written network.

ADAPTER.py defines ``adapter() -> handnet.adapter.Adapter`` (see ``handnet/adapter.py`` and
``docs/check.md``).  It is loaded by path with its own directory on ``sys.path``, so it can
import the user's network module next to it.

The check runs in a separate process (``reference.checker.guard``; it needs torch, which ``handnet``
never imports): the user's code may print (it goes to stderr), exit, hang or crash without
taking the verdict with it.  Exit codes are the verdict's (``handnet.verdict``): 0 match,
1 mismatch, 2 usage or adapter error, 3 inconclusive, 4 the user's code failed, 5 the checker
itself failed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from handnet.atomic import atomic_write_text
from handnet.cli import UsageError
from handnet.outputs import Outputs
from handnet.process import kill_group
from handnet.twin import twin_location
from handnet.verdict import Verdict, error_object

DEFAULT_TIMEOUT = 120.0
GRACE = 10.0  # at most this long past --timeout before the worker process is killed outright


@dataclass
class CheckOptions:
    adapter: str
    batch: int | None
    steps: int | None
    seed: int
    json: str | None
    timeout: float
    plot: str | None = None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("adapter", metavar="ADAPTER.py", nargs="+",
                   help="a Python file defining adapter() -> handnet.adapter.Adapter; several "
                        "files or folders check many networks at once (handnet.commands."
                        "check_many)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="networks checked at once (default: the number of CPUs)")
    p.add_argument("--batch", type=int, default=None, metavar="B",
                   help="batch size (default: the adapter's batch, else two alternating "
                        "sizes that are none of the layer widths)")
    p.add_argument("--steps", type=int, default=None, metavar="K",
                   help="training steps (train_step) or batches (gradients) to compare "
                        "(default 5 and 3)")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the random parameters, inputs and targets (default 0)")
    p.add_argument("--json", default=None, metavar="PATH|-",
                   help="also write the report as JSON to PATH, or only JSON to stdout with -")
    p.add_argument("--plot", default=None, metavar="DIR",
                   help="for each wrong parameter, write a PNG into DIR (created if needed): "
                        "the expected gradient, yours and the error as heat maps")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"give up on the user's code after this long (default "
                        f"{DEFAULT_TIMEOUT:g}); exit 4")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "check",
        help="compare your own NumPy network's gradients/updates with the PyTorch twin",
        description=(
            "Set the network's parameters to random values, build the PyTorch twin from them, "
            "draw inputs, compare the forward output, every parameter's gradient (or in-place "
            "update) over several steps, and name the first wrong parameter (output side "
            "first) and the kind of mistake. Exit 0: match; 1: mismatch; 2: usage or adapter "
            "error; 3: inconclusive (too little could be compared); 4: your code raised, "
            "exited or timed out; 5: the checker itself failed."
        ),
    )
    add_arguments(p)
    p.set_defaults(func=run)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def parse_options(argv: list[str]) -> CheckOptions:
    """The options of ``handnet check`` from ARGV (without the command name), validated."""
    p = _Parser(prog="handnet check", add_help=False)
    add_arguments(p)
    return options(p.parse_args(argv))


def options(args: argparse.Namespace, adapter: str | None = None) -> CheckOptions:
    """The options for ``adapter`` (default: the one ADAPTER.py given), validated."""
    if adapter is None:
        if len(args.adapter) != 1:
            raise UsageError(f"one ADAPTER.py per check run, got {len(args.adapter)}")
        adapter = str(args.adapter[0])
    if args.batch is not None and args.batch < 1:
        raise UsageError(f"--batch must be at least 1, got {args.batch}")
    if args.steps is not None and args.steps < 1:
        raise UsageError(f"--steps must be at least 1, got {args.steps}")
    if not args.timeout > 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout}")
    Outputs(files={"--json": args.json}, dirs={"--plot": (args.plot, ())},
            inputs={"ADAPTER.py": adapter}).check()
    return CheckOptions(adapter, args.batch, args.steps, args.seed, args.json, args.timeout,
                        args.plot)


def run(args: argparse.Namespace) -> int:
    from handnet.commands import check_many

    if check_many.is_batch(args.adapter):
        return check_many.run(args)
    try:
        opts = options(args)
    except UsageError as exc:  # a bad option: with --json -, still a JSON object on stdout
        if args.json == "-":
            source = " ".join(str(a) for a in args.adapter)
            print(json.dumps(error_object(Verdict.ADAPTER_ERROR, source, str(exc)), indent=2))
        raise
    try:
        verdict, exit_code, text, data = _run_worker(opts, _twin_path(opts))
    except UsageError as exc:  # with --json -, an error is still a JSON object on stdout
        verdict, exit_code, text, data = _error(Verdict.ADAPTER_ERROR, opts, str(exc))
    if opts.json == "-":
        print(json.dumps(data, indent=2))
    elif verdict in (Verdict.MATCH.label, Verdict.MISMATCH.label, Verdict.INCONCLUSIVE.label) \
            and "error" not in data:
        print(text)
    else:
        kind = "error" if verdict == Verdict.ADAPTER_ERROR.label else verdict
        print(f"handnet: {kind}: {text}", file=sys.stderr)
    if opts.json not in (None, "-"):
        atomic_write_text(opts.json, json.dumps(data, indent=2) + "\n")
    return exit_code


def _twin_path(opts: CheckOptions) -> Path:
    """Where our ``reference`` lives (``handnet.twin``), after the adapter file is found."""
    if not Path(opts.adapter).is_file():
        hint = ""
        if Path(opts.adapter).parts[:1] == ("examples",):
            hint = (" (examples/ ships with the source repository, not with the installed "
                    "package: git clone it and run from its top directory)")
        raise UsageError(f"adapter file {opts.adapter!r} not found{hint}")
    return twin_location("handnet check")


def _run_worker(opts: CheckOptions, twin: Path, spawn: Callable[..., subprocess.Popen[bytes]]
                = subprocess.Popen) -> tuple[str, int, str, dict[str, Any]]:
    """Check one network in its own process (started by ``spawn``, ``subprocess.Popen``'s
    signature: ``check_many`` records it and collects its output): ``python -P -m
    reference.checker.guard`` on the twin found at ``twin`` (first on its path; ``-P``: not the
    current directory, which may hold a ``reference/`` of the user's own; the guard puts the
    directory back at the end)."""
    argv = [opts.adapter, "--seed", str(opts.seed), "--timeout", str(opts.timeout)]
    if opts.batch is not None:
        argv += ["--batch", str(opts.batch)]
    if opts.steps is not None:
        argv += ["--steps", str(opts.steps)]
    if opts.plot is not None:
        argv += ["--plot", opts.plot]
    with tempfile.TemporaryDirectory(prefix="handnet-check-") as tmp:
        result = Path(tmp) / "outcome.json"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(twin), *filter(None, [env.get("PYTHONPATH")])])
        proc = spawn(
            [sys.executable, "-P", "-m", "reference.checker.guard", str(result), *argv],
            stdin=subprocess.DEVNULL, stdout=2, start_new_session=True,  # user prints: stderr
            env=env)
        try:
            code = proc.wait(timeout=opts.timeout + min(GRACE, opts.timeout))
        except subprocess.TimeoutExpired:
            kill_group(proc)
            return _error(Verdict.USER_ERROR, opts, f"the check did not finish within "
                          f"{opts.timeout:g} s (--timeout) and was stopped: the user's code "
                          "hangs (an endless loop that catches every exception?)")
        except BaseException:
            kill_group(proc)
            raise
        if result.is_file():
            d = json.loads(result.read_text())
            return d["verdict"], int(d["exit_code"]), d["text"], d["data"]
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        return _error(Verdict.INTERNAL_ERROR, opts, f"the check process was killed by {name} "
                      "before it finished (a crash in a C extension, or out of memory)")
    return _error(Verdict.USER_ERROR, opts, f"the check process ended with exit status {code} "
                  "before it finished: the user's code called os._exit() or crashed (see the "
                  "error output above)")


def _error(verdict: Verdict, opts: CheckOptions, message: str) -> tuple[str, int, str,
                                                                          dict[str, Any]]:
    return verdict.label, verdict.exit_code, message, error_object(verdict, opts.adapter,
                                                                   message)

