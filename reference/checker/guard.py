"""One ``handnet check`` run of an adapter file, with the user's code under guard.

:func:`check_file` loads ADAPTER.py and runs :func:`reference.checker.check.check` in this process
and turns every way it can end into an :class:`Outcome` with a verdict (``handnet.verdict``): a
report (match, mismatch, inconclusive), an adapter error, an exception, ``sys.exit`` or a
timeout in the user's code (named with the user's file:line), or a failure of the checker
itself.  Modules the comparison relies on (numpy, torch, our own) are watched: an adapter that
replaces one of their functions is refused, since the comparison could not be trusted.

``handnet check`` runs it in a **separate process** (``python -m reference.checker.guard RESULT
ARGS``): what the user's code prints goes to stderr (stdout stays the report's, pure JSON under
``--json -``), and ``os._exit``, a crash in a C extension or a loop that ignores the time
limit end that process, not the verdict.  The worker writes its outcome to RESULT as JSON.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from handnet.adapter import AdapterError
from handnet.atomic import atomic_write_text
from handnet.cli import UsageError
from handnet.commands.check import CheckOptions, parse_options
from handnet.verdict import UserCodeError, Verdict, error_object
from reference.checker.check import Inconclusive, check
from reference.checker.plots import write_check_plots
from reference.checker.usercode import (
    CheckTimeout,
    describe,
    snapshot,
    tampered,
    time_limit,
    user_frame,
)


@dataclass
class Outcome:
    """How one check ended: the verdict, the text a person reads, the JSON object."""

    verdict: str
    exit_code: int
    text: str
    data: dict[str, Any]

    @classmethod
    def error(cls, verdict: Verdict, message: str, source: str) -> Outcome:
        return cls(verdict.label, verdict.exit_code, message,
                   error_object(verdict, source, message))

    def to_json(self) -> str:
        return json.dumps({"verdict": self.verdict, "exit_code": self.exit_code,
                           "text": self.text, "data": self.data})

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        d = json.loads(text)
        return cls(d["verdict"], d["exit_code"], d["text"], d["data"])


def check_file(argv: list[str], timeout: float | None = None) -> Outcome:
    """``handnet check`` ARGV, in this process (no separate process: no guard against
    ``os._exit`` or prints to the file descriptor; the time limit needs the main thread)."""
    try:
        opts = parse_options(argv)
    except UsageError as exc:
        return Outcome.error(Verdict.ADAPTER_ERROR, str(exc), argv[0] if argv else "")
    return run_options(opts, opts.timeout if timeout is None else timeout)


def run_options(opts: CheckOptions, timeout: float | None) -> Outcome:
    before = snapshot()
    errors = np.geterr()  # np.seterr(all="raise") in the user's module is process-wide
    try:
        outcome = _run(opts, timeout)
    finally:
        changed = tampered(before)  # and put back
        np.seterr(**errors)
    if changed and outcome.exit_code in (Verdict.MATCH.exit_code, Verdict.MISMATCH.exit_code,
                                         Verdict.INCONCLUSIVE.exit_code):
        return Outcome.error(
            Verdict.ADAPTER_ERROR,
            "the adapter's code replaced " + ", ".join(changed[:5])
            + (" ..." if len(changed) > 5 else "") + ", which the comparison itself uses: "
            "its verdict could not be trusted (do not patch numpy, torch or handnet)",
            opts.adapter)
    return outcome


def _run(opts: CheckOptions, timeout: float | None) -> Outcome:
    source = opts.adapter
    try:
        with time_limit(timeout):
            module = load_adapter_module(source)
            report = check(module.adapter, batch=opts.batch, steps=opts.steps,
                           seed=opts.seed, source=source)
    except KeyboardInterrupt:
        raise
    except (AdapterError, ValueError) as exc:
        if isinstance(exc, AdapterError) or _ours(exc):
            return Outcome.error(Verdict.ADAPTER_ERROR, str(exc), source)
        return _unexpected(exc, source)
    except UserCodeError as exc:
        return Outcome.error(Verdict.USER_ERROR, str(exc), source)
    except Inconclusive as exc:
        return Outcome.error(Verdict.INCONCLUSIVE, str(exc), source)
    except BaseException as exc:  # noqa: BLE001 - every way out gets a verdict
        return _unexpected(exc, source)
    data = report.to_dict()
    text = report.to_text()
    if opts.plot is not None and report.verdict is Verdict.MISMATCH:
        try:
            paths = [str(p) for p in write_check_plots(report, opts.plot)]
        except Exception as exc:  # noqa: BLE001 - the verdict stands without its pictures
            return _unexpected(exc, source)
        data["plots"] = paths
        if paths:
            text += f"\nplots of the wrong parameters: {', '.join(paths)}"
    return Outcome(data["verdict"], data["exit_code"], text, data)


def load_adapter_module(path: str) -> ModuleType:
    """Import ADAPTER.py by path, its directory first on ``sys.path`` while it loads.

    Modules it imports from its own directory are dropped from ``sys.modules`` again
    afterwards (the adapter keeps its references), so two adapters whose directories both hold
    a ``net.py`` can be loaded in one process.  Anything the file raises or exits with at
    import is a ``UserCodeError`` naming the line.
    """
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"adapter file {path!r} not found")
    if file.suffix != ".py":
        raise UsageError(f"adapter file {path!r} must be a .py file")
    directory = str(file.resolve().parent)
    name = f"_handnet_adapter_{abs(hash(str(file.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot load {path!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    before = set(sys.modules)
    sys.path.insert(0, directory)
    try:
        spec.loader.exec_module(module)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - the user's file may raise or exit anyhow
        line = getattr(exc, "lineno", None)
        where = user_frame(exc.__traceback__) or (f"line {line}" if line else "")
        raise UserCodeError(f"loading {path}: {describe(exc)}"
                            + (f" (at {where})" if where else "")) from exc
    finally:
        if directory in sys.path:
            sys.path.remove(directory)
        for mod in set(sys.modules) - before:
            origin = getattr(sys.modules[mod], "__file__", None) or ""
            if origin and str(Path(origin).resolve().parent) == directory:
                del sys.modules[mod]
    factory = getattr(module, "adapter", None)
    if not callable(factory):
        raise UsageError(f"{path} defines no function adapter() returning a "
                         "handnet.adapter.Adapter")
    return module


def _ours(exc: BaseException) -> bool:
    """A ``ValueError`` raised on purpose by our validation (``UsageError`` and its kin)."""
    return isinstance(exc, UsageError)


def _unexpected(exc: BaseException, source: str) -> Outcome:
    where = user_frame(exc.__traceback__)
    if isinstance(exc, SystemExit | CheckTimeout) or where:
        return Outcome.error(Verdict.USER_ERROR,
                             f"the user's code {describe(exc)}"
                             + (f" (at {where})" if where else ""), source)
    import traceback

    last = traceback.extract_tb(exc.__traceback__)[-1:] or None
    at = f" (at {os.path.basename(last[0].filename)}:{last[0].lineno})" if last else ""
    return Outcome.error(Verdict.INTERNAL_ERROR,
                         f"handnet check itself failed: {type(exc).__name__}: {exc}{at}; this "
                         "is a bug in handnet, not in your network (set HANDNET_DEBUG=1 for "
                         "the traceback)", source)


def main(args: list[str]) -> int:
    """The worker: ``python -m reference.checker.guard RESULT ARGV...``."""
    os.dup2(2, 1)  # whatever the user's code prints goes to stderr; stdout is the report's
    # Started with -P (handnet.commands.check): the current directory is importable for the
    # user's code again, after the twin, which has been imported already.
    sys.path.append(os.getcwd())
    result, argv = Path(args[0]), args[1:]
    outcome = check_file(argv)
    if os.environ.get("HANDNET_DEBUG") and outcome.verdict == Verdict.INTERNAL_ERROR.label:
        print(outcome.text, file=sys.stderr)
    atomic_write_text(result, outcome.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
