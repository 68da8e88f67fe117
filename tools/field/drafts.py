"""Measure ``handnet adapter`` on a field corpus: does the draft run unchanged, does it reach the
hand-written adapter's verdict, and how many lines would a user still edit.

    python tools/field/drafts.py /work/field --python .venv/bin/python [--json PATH]

For every ``NN_name/`` folder of the corpus (with ``adapter.py``, the adapter a user wrote by hand,
and ``out.json``, its ``handnet check --json`` result): copy the folder to a temporary directory
(the corpus is never written), run ``handnet adapter`` on the network's own file there (the
default output path, next to it), run ``handnet check`` on the unchanged draft (its own process,
``--timeout``), and compare.

* **runs**: the check of the draft ended with a verdict (match, mismatch, inconclusive), not an
  adapter, user or internal error;
* **same verdict**: that verdict equals the hand-written adapter's (``out.json``);
* **lines to edit**: the draft against the hand-written adapter, both reduced to code (comments,
  docstrings and blank lines dropped, every string literal written one way), as a line diff:
  each replaced, added or removed line counts once (a hunk of r removed and a added lines counts
  max(r, a)). It is an upper bound on the edits needed (the hand-written adapter is one way to
  get there), and 0 when the unchanged draft already gives the same verdict.
  Glue files the hand-written adapter imports (``model.py``, ``build.py``, ...) are not counted
  here; the table lists them.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import json
import shutil
import subprocess
import sys
import tempfile
import tokenize
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# The network's own file in each folder (glue written by the study's user is not the network).
NETWORK_FILES = {
    "01_nielsen": "network.py", "02_jcjohnson": "two_layer_net_numpy.py",
    "03_omaraflak": "network.py", "04_nnfs_momentum": "nnfs_ch17.py",
    "05_mlfs_dnn": "mlfromscratch/deep_learning/neural_network.py", "06_rashid": "rashid_nn.py",
    "07_isaac": "NeuralNetwork.py", "08_skylyong": "mlp.py", "09_udacity": "my_answers.py",
    "10_trask": "07-NeuralNetwork-blind-3.py", "11_marsland_logistic": "MLP.py",
    "12_marsland_linear": "MLP.py", "13_jareducherek": "mlp.py", "14_kimsteve": "mlp.py",
    "15_mlfs_mlp": "multilayer_perceptron.py", "16_atqwerty": "nn.py",
    "17_nnfs_adam": "nnfs_ch17.py", "18_dlai_planar": "planar.py", "19_nnfs_bce": "nnfs_ch17.py",
}
GLUE = ("model.py", "build.py", "jcj_net.py", "trask_net.py")
RUNS = ("match", "mismatch", "inconclusive")


def code_lines(text: str) -> list[str]:
    """``text`` as lines of tokens: no comments, docstrings or blank lines; strings normalised."""
    out: dict[int, list[str]] = {}
    prev = tokenize.INDENT
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        kind, s = tok.type, tok.string
        if kind in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                    tokenize.DEDENT, tokenize.ENDMARKER):
            prev = kind if kind != tokenize.COMMENT else prev
            continue
        if kind == tokenize.STRING and prev in (tokenize.INDENT, tokenize.NEWLINE,
                                                 tokenize.DEDENT):
            prev = kind
            continue  # a docstring (a string statement)
        if kind == tokenize.STRING:
            try:
                s = repr(ast.literal_eval(s))
            except (ValueError, SyntaxError):
                pass
        out.setdefault(tok.start[0], []).append(s)
        prev = kind
    return [" ".join(t) for _, t in sorted(out.items())]


def lines_to_edit(draft: str, written: str) -> int:
    a, b = code_lines(draft), code_lines(written)
    ops = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    return sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in ops if op != "equal")


def measure(folder: Path, python: str, timeout: float) -> dict[str, object]:
    name = folder.name
    written_verdict = json.loads((folder / "out.json").read_text()).get("verdict")
    row: dict[str, object] = {"network": name, "file": NETWORK_FILES.get(name),
                              "hand_verdict": written_verdict,
                              "glue": sorted(p.name for p in folder.iterdir() if p.name in GLUE)}
    with tempfile.TemporaryDirectory(prefix=f"drafts-{name}-") as tmp:
        work = Path(tmp) / name
        shutil.copytree(folder, work, ignore=shutil.ignore_patterns("__pycache__"))
        net = work / str(row["file"])
        draft = net.with_name(f"{net.stem}_adapter.py")
        made = subprocess.run([python, "-m", "handnet", "adapter", str(net), "--timeout",
                               str(timeout)], capture_output=True, text=True, timeout=timeout + 30)
        row["draft_exit"] = made.returncode
        if made.returncode != 0:
            row["draft_error"] = made.stderr.strip().splitlines()[-1][:300] if made.stderr else ""
            row["draft_verdict"] = None
            row["lines_to_edit"] = len(code_lines((folder / "adapter.py").read_text()))
        else:
            checked = subprocess.run([python, "-m", "handnet", "check", str(draft), "--json", "-",
                                      "--timeout", str(timeout)], capture_output=True, text=True,
                                     timeout=timeout + 60)
            try:
                result = json.loads(checked.stdout)
            except json.JSONDecodeError:
                result = {"verdict": f"no JSON (exit {checked.returncode})"}
            row["draft_verdict"] = result.get("verdict")
            row["draft_detail"] = str(result.get("error", ""))[:300]
            text = draft.read_text()
            row["guesses"] = text.count("# GUESS:")
            same = row["draft_verdict"] == written_verdict
            row["lines_to_edit"] = 0 if same else lines_to_edit(text, (folder / "adapter.py")
                                                                  .read_text())
        row["runs"] = row["draft_verdict"] in RUNS
        row["same_verdict"] = row["draft_verdict"] == written_verdict
        row["hand_lines"] = len(code_lines((folder / "adapter.py").read_text()))
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("corpus", type=Path)
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--json", default=None, metavar="PATH")
    args = p.parse_args(argv)
    folders = sorted(d for d in args.corpus.iterdir() if d.is_dir() and (d / "adapter.py").is_file()
                     and (d / "out.json").is_file())
    with ThreadPoolExecutor(args.workers) as pool:
        rows = list(pool.map(lambda d: measure(d, args.python, args.timeout), folders))
    print("| # | network file | draft | check of the unchanged draft | hand-written | same | "
          "lines to edit / hand-written lines |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        draft = "written" if r["draft_exit"] == 0 else f"exit {r['draft_exit']}"
        verdict = r["draft_verdict"] or r.get("draft_error", "")
        detail = f" ({r['draft_detail']})" if r.get("draft_detail") else ""
        print(f"| {r['network']} | {r['file']} | {draft} | {verdict}{detail} | "
              f"{r['hand_verdict']} | {'yes' if r['same_verdict'] else 'no'} | "
              f"{r['lines_to_edit']} / {r['hand_lines']}"
              + (f" (+ glue {', '.join(r['glue'])})" if r["glue"] else "") + " |")
    n = len(rows)
    print(f"\ndrafts written: {sum(r['draft_exit'] == 0 for r in rows)}/{n}; run unchanged: "
          f"{sum(bool(r['runs']) for r in rows)}/{n}; same verdict as hand-written: "
          f"{sum(bool(r['same_verdict']) for r in rows)}/{n}; lines to edit: "
          f"{sum(int(r['lines_to_edit']) for r in rows)} of "
          f"{sum(int(r['hand_lines']) for r in rows)} hand-written adapter lines")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
