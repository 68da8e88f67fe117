"""The ``handnet`` command line: one module per subcommand under ``handnet/commands/``.

Each subcommand module defines ``register(subparsers) -> None`` (adds its parser and sets
``func=run`` as default) and ``run(args) -> int`` (the exit code).  Bad input raises
``UsageError`` (or ``ValueError``/``OSError`` from validation) and becomes one line on stderr
with exit code 2; set ``HANDNET_DEBUG=1`` to see the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# Subcommand modules, in the order --help lists them.
COMMANDS = ["train", "demo", "reproduce", "bench"]


class UsageError(ValueError):
    """Bad input from the user: reported as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="handnet",
        description="A hand-written NumPy backprop network, verified against its PyTorch twin.",
    )
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
        return 2
    except KeyboardInterrupt:
        print("handnet: interrupted", file=sys.stderr)
        return 130
