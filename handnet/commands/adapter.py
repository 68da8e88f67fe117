"""``handnet adapter NET.py``: write a draft adapter for your network file.

The file is somebody's code, run to find out what it is: it is imported in a separate process
(``python -m handnet.draft.probe``) with its output captured and a time limit, so a file that
prints, plots, trains, exits or loops at import cannot take the command with it.  The probe's
findings become an adapter file (:mod:`handnet.draft.write`) with every inference marked
``# GUESS:``; it is written whole or not at all, and an existing file is kept unless ``--force``.

Exit codes: 0 draft written; 2 usage error, or nothing in the file looks like a network;
4 the file raised, exited or did not finish at import; 5 the probe itself failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from handnet.atomic import atomic_write_text
from handnet.cli import UsageError
from handnet.draft.write import render
from handnet.outputs import Outputs
from handnet.process import kill_group
from handnet.verdict import Verdict

DEFAULT_TIMEOUT = 60.0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "adapter",
        help="write a draft adapter for your network file (every guess marked)",
        description=(
            "Import NET.py in a separate process (a time limit, its output captured), find the "
            "network in it (a class it defines, an object it builds, or module-level arrays), "
            "and infer the layers, their order and layouts, the activations (by reproducing your "
            "forward at random parameters), the training function and the loss (from one "
            "update), the lr and momentum (from attribute names). Writes an adapter for "
            "'handnet check' with every inference marked '# GUESS:'. Exit 0: written; "
            "2: usage error or no network found; 4: your file raised, exited or hung at "
            "import; 5: the drafting itself failed."
        ),
    )
    p.add_argument("network", metavar="NET.py", help="your network's Python file (any name)")
    p.add_argument("-o", "--output", default=None, metavar="PATH",
                   help="where to write the draft (default: NET_adapter.py next to NET.py)")
    p.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"give up on your file after this long (default {DEFAULT_TIMEOUT:g}); "
                        "exit 4")
    p.set_defaults(func=run)


def default_output(net: Path) -> Path:
    return net.with_name(f"{net.stem}_adapter.py")


def run(args: argparse.Namespace) -> int:
    net = Path(args.network)
    if not net.is_file():
        raise UsageError(f"network file {args.network!r} not found")
    if net.suffix != ".py":
        raise UsageError(f"network file {args.network!r} must be a .py file")
    if not args.timeout > 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout}")
    out = Path(args.output) if args.output else default_output(net)
    if out.resolve() == net.resolve():
        raise UsageError(f"-o {out} is the network file itself")
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists; give --force to overwrite it, or -o another path")
    Outputs(files={"-o": str(out)}, inputs={"NET.py": args.network}).check()
    findings, printed, log = _probe(net, args.timeout)
    problem = _problem(net, findings, log, args.timeout)
    if problem is not None:
        verdict, message = problem
        print(f"handnet: error: {message}", file=sys.stderr)
        return verdict.exit_code
    assert findings is not None
    text = render(net, out, findings["network"], printed)
    atomic_write_text(out, text)
    guesses = text.count("# GUESS:")
    fills = text.count("FILL IN")
    print(f"wrote {out}: a draft with {guesses} guess(es) marked '# GUESS:'"
          + (f", {fills} value(s) to FILL IN" if fills else "")
          + f"; check each, then run: handnet check {out}")
    for note in findings.get("notes", []):
        print(f"  note: {note}")
    return 0


def _problem(net: Path, findings: dict[str, Any] | None, log: str,
             timeout: float) -> tuple[Verdict, str] | None:
    """Why no draft can be written (the verdict gives the exit code), or ``None``."""
    tail = ("; its last output: " + log.strip().splitlines()[-1][:200]) if log.strip() else ""
    if findings is None:
        return Verdict.USER_ERROR, (f"{net} did not finish importing (and probing) within "
                                    f"{timeout:g} s (--timeout) and was stopped: an endless "
                                    "loop, or training at import? Put it under "
                                    "if __name__ == '__main__':")
    if "crashed" in findings:
        return Verdict.USER_ERROR, (f"probing {net} ended with exit status "
                                    f"{findings['crashed']} (os._exit or a crash){tail}")
    if "probe_error" in findings:
        return Verdict.INTERNAL_ERROR, (f"handnet adapter itself failed: "
                                        f"{findings['probe_error']}; a bug of ours")
    if "import_error" in findings:
        return Verdict.USER_ERROR, (f"importing {net} {findings['import_error']}: the check "
                                    "would stop there too; put the code that runs at import "
                                    "under if __name__ == '__main__':")
    if findings.get("network") is None:
        tried = findings.get("candidates") or []
        why = "; ".join(findings.get("notes", [])[:6])
        return Verdict.ADAPTER_ERROR, (
            f"no network found in {net}: "
            + (f"tried {', '.join(tried)}" if tried else "no class it defines could be built, "
               "and it holds no 2-D float array at module level")
            + (f" ({why})" if why else "")
            + "; an adapter has to be written by hand (docs/check.md)")
    return None


def _probe(net: Path, timeout: float) -> tuple[dict[str, Any] | None, int, str]:
    """Run the probe in its own process: ``(findings or None on timeout, lines printed at
    import, everything the file printed)``."""
    with tempfile.TemporaryDirectory(prefix="handnet-adapter-") as tmp:
        result, log_path = Path(tmp) / "findings.json", Path(tmp) / "output.log"
        env = {**os.environ, "MPLBACKEND": "Agg"}  # a plot at import draws nowhere
        with open(log_path, "wb") as log:  # the probe's own prints: a sink, not an output
            proc = subprocess.Popen(
                [sys.executable, "-m", "handnet.draft.probe", str(net), str(result)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                start_new_session=True)
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_group(proc)
                return None, 0, log_path.read_text(errors="replace")
            except BaseException:
                kill_group(proc)
                raise
        output = log_path.read_bytes()
        if not result.is_file():
            return {"crashed": code}, 0, output.decode(errors="replace")
        findings = json.loads(result.read_text())
        printed = output[:int(findings.get("import_output_bytes", 0))].count(b"\n")
        return findings, printed, output.decode(errors="replace")

