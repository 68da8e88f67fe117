"""``handnet check a.py b.py`` or ``handnet check FOLDER``: many networks at once (a class).

Which files: a file argument is checked as given; a folder argument contributes every file
named ``adapter*.py`` or ``*_adapter.py`` (what ``handnet adapter NET.py`` writes by default) in
it or in any folder below it (:data:`ADAPTER_GLOBS`), skipping folders
whose name starts with ``.`` or ``_`` (``__pycache__``, ``.git``, ``_drafts``), in path order;
the same file named twice is checked once.  One file argument alone is the single-network
check, its output unchanged; two or more arguments, or any folder, is a batch.

Each network runs in its own worker process, the single check's (``handnet.commands.check.
_run_worker``: ``python -m reference.checker.guard``, its own session, ``--timeout`` each),
``--jobs`` at a time.  A crash, ``os._exit``, hang or flood of output in one network ends that
network's worker only: what a worker prints is drained as it comes and only the last
:data:`OUTPUT_TAIL` bytes are kept (in the JSON).  Ctrl-C (or SIGTERM) stops every worker and
its process group, then exits 130.

The result is one table (network, verdict, exit code, wrong parameters, start here, time) and
with ``--json PATH|-`` one document: ``schema_version`` (:data:`BATCH_SCHEMA_VERSION`), the
batch's ``verdict`` and ``exit_code`` (``handnet.verdict.batch_verdict``), ``summary`` (networks
per verdict), and ``networks``: one entry per network holding the single check's JSON object
under ``report``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from handnet.atomic import atomic_write_text
from handnet.cli import UsageError
from handnet.commands.check import CheckOptions, _run_worker, options
from handnet.twin import twin_location
from handnet.verdict import BATCH_PRIORITY, Verdict, batch_verdict, error_object

ADAPTER_GLOBS = ("adapter*.py", "*_adapter.py")  # the second: handnet.commands.adapter's drafts
BATCH_SCHEMA_VERSION = 1  # of the batch document (its entries carry their own schema_version)
OUTPUT_TAIL = 4096  # bytes of a worker's output kept for the JSON
STOP_GRACE = 1.0  # seconds between SIGTERM and SIGKILL when the batch is interrupted


@dataclass(frozen=True)
class Network:
    name: str  # as the table shows it: the path below the folders' common parent
    path: str  # as it is checked


@dataclass
class Result:
    network: Network
    verdict: str
    exit_code: int
    text: str
    data: dict[str, Any]
    seconds: float
    output: str  # the last OUTPUT_TAIL bytes the worker printed
    output_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {"network": self.network.name, "adapter": self.network.path,
                "verdict": self.verdict, "exit_code": self.exit_code,
                "seconds": round(self.seconds, 3), "output_bytes": self.output_bytes,
                "output_tail": self.output, "report": self.data}


def is_batch(paths: Sequence[str]) -> bool:
    """Two or more arguments, or a folder: a batch; one file: the single check."""
    return len(paths) > 1 or any(Path(p).is_dir() for p in paths)


def discover(paths: Sequence[str]) -> list[Network]:
    """The networks named by ``paths`` (files as given, folders by :data:`ADAPTER_GLOBS`)."""
    found: list[str] = []
    for arg in paths:
        p = Path(arg)
        if p.is_dir():
            below = sorted(_adapters_below(p))
            if not below:
                raise UsageError(f"folder {arg!r} holds no {' or '.join(ADAPTER_GLOBS)} file "
                                 "(searched "
                                 "every folder below it, except those starting with . or _)")
            found += [str(f) for f in below]
        elif p.is_file():
            found.append(arg)
        else:
            raise UsageError(f"adapter file or folder {arg!r} not found")
    unique: dict[Path, str] = {}
    for f in found:
        unique.setdefault(Path(f).resolve(), f)
    files = list(unique.values())
    parents = [str(Path(f).resolve().parent) for f in files]
    root = Path(os.path.commonpath(parents)) if len(files) > 1 else Path(parents[0])
    return [Network(str(Path(f).resolve().relative_to(root)), f) for f in files]


def _adapters_below(folder: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith((".", "_"))]
        base = Path(dirpath)
        yield from (base / f for f in filenames
                    if any((base / f).match(glob) for glob in ADAPTER_GLOBS))


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run(args: argparse.Namespace) -> int:
    networks = discover([str(a) for a in args.adapter])
    jobs = default_jobs() if args.jobs is None else args.jobs
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    plan = [(n, options(args, n.path)) for n in networks]
    if args.plot is not None:  # one folder of pictures per network
        plan = [(n, replace(o, plot=str(Path(args.plot) / n.name))) for n, o in plan]
    twin = twin_location("handnet check")
    start = time.monotonic()
    with _interrupt_on_sigterm():
        results = check_all(plan, jobs, progress=sys.stderr, twin=twin)
    document = batch_document(results, jobs, time.monotonic() - start)
    if args.json == "-":
        print(json.dumps(document, indent=2))
    else:
        print(summary_text(results, document))
    if args.json not in (None, "-"):
        atomic_write_text(args.json, json.dumps(document, indent=2) + "\n")
    return int(document["exit_code"])


def check_all(plan: Sequence[tuple[Network, CheckOptions]], jobs: int,
              progress: IO[str] | None = None, twin: Path | None = None) -> list[Result]:
    """Check every network of ``plan``, ``jobs`` at a time; results in ``plan``'s order.
    On KeyboardInterrupt every worker is stopped before it propagates.  ``twin``: where our
    ``reference`` package is (``handnet.twin``; found here when not given)."""
    twin = twin or twin_location("handnet check")
    workers = _Workers()
    pool = ThreadPoolExecutor(max_workers=max(1, min(jobs, len(plan))),
                              thread_name_prefix="handnet-check")
    futures: dict[Future[Result], int] = {
        pool.submit(_check_one, network, opts, twin, workers): i
        for i, (network, opts) in enumerate(plan)}
    results: list[Result | None] = [None] * len(plan)
    try:
        for done, future in enumerate(as_completed(futures), 1):
            r = results[futures[future]] = future.result()
            if progress is not None:
                print(f"[{done}/{len(plan)}] {r.network.name}: {r.verdict} "
                      f"({r.seconds:.1f} s)", file=progress, flush=True)
    finally:
        workers.stop_all()  # on an interrupt; otherwise none is left, but make sure
        pool.shutdown(wait=True, cancel_futures=True)
    return [r for r in results if r is not None]


def _check_one(network: Network, opts: CheckOptions, twin: Path, workers: _Workers) -> Result:
    tail = _Tail()
    start = time.monotonic()
    try:
        verdict, code, text, data = _run_worker(opts, twin, spawn=workers.spawner(tail))
    except _Stopped:
        raise
    except Exception as exc:  # noqa: BLE001 - one network's failure never stops the others
        v = Verdict.INTERNAL_ERROR
        text = f"handnet check itself failed on this network: {type(exc).__name__}: {exc}"
        verdict, code, data = v.label, v.exit_code, error_object(v, opts.adapter, text)
    seconds = time.monotonic() - start
    output, nbytes = tail.result()
    return Result(network, verdict, code, text, data, seconds, output, nbytes)


class _Stopped(Exception):
    """The batch is being interrupted: no new worker starts."""


class _Workers:
    """The worker processes of a batch, so that an interrupt can stop every one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: list[subprocess.Popen[bytes]] = []
        self._stopping = False

    def spawner(self, tail: _Tail) -> Callable[..., subprocess.Popen[bytes]]:
        """``subprocess.Popen`` for one worker: its output drained into ``tail``, the process
        remembered until the batch ends."""

        def spawn(cmd: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
            kwargs.update(stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            with self._lock:
                if self._stopping:
                    raise _Stopped
                proc: subprocess.Popen[bytes] = subprocess.Popen(cmd, **kwargs)
                self._procs.append(proc)
            try:
                assert proc.stderr is not None
                tail.follow(proc.stderr)
            except BaseException:
                _stop([proc])
                raise
            return proc

        return spawn

    def stop_all(self) -> None:
        """SIGTERM every live worker's process group, SIGKILL what is left after
        :data:`STOP_GRACE` (workers run in their own sessions: the terminal's Ctrl-C does not
        reach them)."""
        with self._lock:
            self._stopping = True
            live = [p for p in self._procs if p.poll() is None]
        _stop(live)


def _stop(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group, SIGKILL after :data:`STOP_GRACE`, and reap."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in procs:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_GRACE
        for p in procs:
            try:
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass


class _Tail:
    """What a worker prints, drained by a thread as it comes (a worker never blocks on a full
    pipe), only the last :data:`OUTPUT_TAIL` bytes kept."""

    def __init__(self) -> None:
        self._kept = bytearray()
        self._total = 0
        self._thread: threading.Thread | None = None

    def follow(self, stream: IO[bytes]) -> None:
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream: IO[bytes]) -> None:
        with stream:
            while chunk := os.read(stream.fileno(), 65536):
                self._total += len(chunk)
                self._kept += chunk
                del self._kept[:-OUTPUT_TAIL]

    def result(self) -> tuple[str, int]:
        """The kept tail and the total byte count (after the worker ended; a grandchild that
        still holds the pipe open is not waited for beyond a second)."""
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        return bytes(self._kept).decode("utf-8", errors="replace"), self._total


@contextmanager
def _interrupt_on_sigterm() -> Iterator[None]:
    """SIGTERM stops the batch like Ctrl-C (its workers are stopped, not orphaned)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def batch_document(results: Sequence[Result], jobs: int, seconds: float) -> dict[str, Any]:
    """The batch's JSON document (see the module docstring)."""
    verdict = batch_verdict(Verdict.of(r.verdict) for r in results)
    counts = {v.label: sum(r.verdict == v.label for r in results) for v in BATCH_PRIORITY}
    return {"schema_version": BATCH_SCHEMA_VERSION, "verdict": verdict.label,
            "exit_code": verdict.exit_code, "jobs": jobs, "seconds": round(seconds, 3),
            "summary": {"networks": len(results), **counts},
            "networks": [r.to_dict() for r in results]}


def summary_text(results: Sequence[Result], document: dict[str, Any]) -> str:
    """One table, a row per network, then what the error and inconclusive rows say."""
    header = ("network", "verdict", "exit", "wrong parameters", "start here", "time")
    rows = [(r.network.name, r.verdict, str(r.exit_code), _names(_wrong(r.data)),
             _start_here(r.data), f"{r.seconds:.1f} s") for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    for r in results:
        why = _why(r)
        if why:
            lines.append(f"{r.network.name} ({r.verdict}): {why}")
    s = document["summary"]
    counts = ", ".join(f"{s[v.label]} {v.label}" for v in BATCH_PRIORITY if s[v.label])
    order = " > ".join(v.label for v in BATCH_PRIORITY)
    lines.append(f"{s['networks']} networks: {counts}; exit {document['exit_code']} "
                 f"({document['verdict']}; priority {order}); {document['jobs']} job(s), "
                 f"{document['seconds']:.1f} s")
    return "\n".join(lines)


def _wrong(data: dict[str, Any]) -> list[str]:
    if data.get("start_here") == "forward":
        return ["forward"]
    return list(data.get("root_causes", []))


def _start_here(data: dict[str, Any]) -> str:
    """The parameter to look at first and its pattern (``W2: after_update``; the machine
    names of the report's ``patterns``, ``unexplained`` when none fits)."""
    start = data.get("start_here")
    if start is None:
        return "-"
    if start == "forward":
        return "forward"
    record: dict[str, Any] = next(
        (p for p in data.get("parameters", []) if p.get("name") == start), {})
    patterns = list(dict.fromkeys(record.get("patterns") or ["unexplained"]))
    return f"{start}: {'+'.join(patterns)}"


def _why(r: Result) -> str:
    if "error" in r.data:
        return str(r.data["error"])
    reasons = r.data.get("inconclusive") or []
    if r.verdict == Verdict.INCONCLUSIVE.label and reasons:
        return str(reasons[0])
    if r.verdict == Verdict.MISMATCH.label and not _wrong(r.data) and r.data.get("faults"):
        return str(r.data["faults"][0])
    return ""


def _names(names: list[str], width: int = 36) -> str:
    """As many names as fit in ``width``, then how many more."""
    shown = ", ".join(names)
    for k in range(len(names) - 1, 0, -1):
        if len(shown) <= width:
            break
        shown = ", ".join(names[:k]) + f" (+{len(names) - k})"
    return shown
