"""``handnet check ADAPTER.py``: debug a wrong gradient in anyone's hand-written network.

ADAPTER.py defines ``adapter() -> handnet.adapter.Adapter`` (see ``handnet/adapter.py`` and
``docs/check.md``).  It is loaded by path with its own directory on ``sys.path``, so it can
import the user's network module next to it.  The comparison itself lives in ``reference``
(it needs torch), imported only when the command runs: ``handnet`` never imports torch.

Exit codes: 0 everything matches the twin, 1 a mismatch, 2 a usage or adapter error (one line).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from handnet.cli import UsageError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "check",
        help="compare your own NumPy network's gradients/updates with the PyTorch twin",
        description=(
            "Build the PyTorch twin from the network's current weights, draw inputs, compare "
            "the forward output, every parameter's gradient (or in-place update) and with "
            "--steps K the K-step trajectory; name the first wrong parameter (output side "
            "first) and the kind of mistake. Exit 0: all match; 1: mismatch; 2: usage or "
            "adapter error."
        ),
    )
    p.add_argument("adapter", metavar="ADAPTER.py",
                   help="a Python file defining adapter() -> handnet.adapter.Adapter")
    p.add_argument("--batch", type=int, default=None, metavar="B",
                   help="batch size (default: the adapter's batch, else 8)")
    p.add_argument("--steps", type=int, default=1, metavar="K",
                   help="training steps to compare (train_step adapters; default 1)")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the inputs and targets drawn (default 0)")
    p.add_argument("--json", default=None, metavar="PATH|-",
                   help="also write the report as JSON to PATH, or only JSON to stdout with -")
    p.set_defaults(func=run)


def load_adapter_module(path: str) -> ModuleType:
    """Import ADAPTER.py by path, its directory first on ``sys.path`` while it loads.

    Modules it imports from its own directory are dropped from ``sys.modules`` again
    afterwards (the adapter keeps its references), so two adapters whose directories both hold
    a ``net.py`` can be loaded in one process.
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
    except Exception as exc:  # noqa: BLE001 - the user's file may raise anything
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise UsageError(f"loading {path}: {type(exc).__name__}: {exc}{where}") from exc
    finally:
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


def run(args: argparse.Namespace) -> int:
    if args.batch is not None and args.batch < 1:
        raise UsageError(f"--batch must be at least 1, got {args.batch}")
    if args.steps < 1:
        raise UsageError(f"--steps must be at least 1, got {args.steps}")
    if args.json not in (None, "-"):
        parent = Path(args.json).parent
        if not parent.is_dir():
            raise UsageError(f"--json {args.json}: directory {parent} does not exist")
    module = load_adapter_module(args.adapter)
    try:
        from reference.check import check
    except ImportError as exc:
        raise UsageError(f"handnet check needs the PyTorch twin (reference/, torch): {exc}; "
                         "install with pip install 'handnet[reference]'") from exc
    report = check(module.adapter, batch=args.batch, steps=args.steps, seed=args.seed,
                   source=args.adapter)
    if args.json == "-":
        print(report.to_json())
        return report.exit_code
    print(report.to_text())
    if args.json:
        _write_atomic(Path(args.json), report.to_json() + "\n")
    return report.exit_code


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"--json {path}: directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
