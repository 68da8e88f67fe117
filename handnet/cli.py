"""The ``handnet`` command line: one module per subcommand under ``handnet/commands/``.

Each subcommand module defines ``register(subparsers) -> None`` (adds its parser and sets
``func=run`` as default) and ``run(args) -> int`` (the exit code).  Bad input raises
``UsageError`` (or ``ValueError``/``OSError`` from validation) and becomes one line on stderr
with exit code 2; set ``HANDNET_DEBUG=1`` to see the traceback instead.  argparse's own usage
errors are one line too (``Parser.error``), also with exit code 2.  Any other exception is a bug
of ours: one line naming it and asking for a report, exit code 5 (internal error).  The codes
are ``handnet.verdict``'s (one definition).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from handnet.verdict import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE

# Subcommand modules, in the order --help lists them.
COMMANDS = ["train", "demo", "check", "adapter", "reproduce", "bench"]


class UsageError(ValueError):
    """Bad input from the user: reported as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (then exit code 2), not the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def version() -> str:
    """The installed distribution's version (package metadata: one definition, pyproject)."""
    try:
        return importlib.metadata.version("handnet")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="handnet",
        description="A hand-written NumPy backprop network, verified against its PyTorch twin.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"handnet.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, OSError) as exc:
        if os.environ.get("HANDNET_DEBUG"):
            raise
        print(f"handnet: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("handnet: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if os.environ.get("HANDNET_DEBUG"):
            raise
        print(internal_error_line(exc), file=sys.stderr)
        return EXIT_INTERNAL


def internal_error_line(exc: BaseException) -> str:
    """One line for an exception nobody expected: what it was, and what to do about it."""
    what = " ".join(f"{type(exc).__name__}: {exc}".split())
    return (f"handnet: internal error: {what} -- a bug in handnet, not in your input; please "
            f"report it with the command line (HANDNET_DEBUG=1 shows the traceback)")
