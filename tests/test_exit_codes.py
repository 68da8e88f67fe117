"""Exit codes of every command: one definition (``handnet.verdict``).

An unexpected exception anywhere in a command is exit 5 (internal error) with one line that
names it and asks for a report, never a traceback and never exit 1 (a mismatch's code); bad
input is exit 2 with one line naming the problem.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from handnet import cli
from handnet.verdict import EXIT_INTERNAL, EXIT_USAGE, Verdict


def test_exit_codes_have_one_definition() -> None:
    assert EXIT_USAGE == Verdict.ADAPTER_ERROR.exit_code == 2
    assert EXIT_INTERNAL == Verdict.INTERNAL_ERROR.exit_code == 5


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("planted failure")


@pytest.mark.parametrize("argv, target", [
    (["train", "--epochs", "1", "--quiet"], "handnet.commands.train.build"),
    (["demo", "--epochs", "1"], "handnet.commands.demo.cell_configs"),
    (["reproduce", "--epochs", "1"], "handnet.commands.reproduce.run_specs"),
    (["bench"], "handnet.commands.bench.run_bench"),
    (["adapter", str(Path(__file__).resolve().parent.parent / "examples" / "per_sample"
                     / "net.py"), "-o", "draft.py"], "handnet.commands.adapter._probe"),
])
def test_unexpected_exception_is_exit_5_with_one_line(
        argv: list[str], target: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HANDNET_DEBUG", raising=False)
    monkeypatch.setattr(target, _boom)
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == EXIT_INTERNAL
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "internal error" in lines[0] and "RuntimeError: planted failure" in lines[0]
    assert "report" in lines[0] and "HANDNET_DEBUG=1" in lines[0]


def test_unexpected_exception_in_a_subprocess_is_exit_5() -> None:
    # The real entry point (python -m handnet), with a command that fails unexpectedly.
    code = ("import sys, handnet.train\n"
            "t = sys.modules['handnet.train']\n"
            "def boom(*a, **k): raise KeyError('planted')\n"
            "t.build = boom\n"
            "from handnet.cli import main\n"
            "sys.exit(main(['train', '--epochs', '1', '--quiet']))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == EXIT_INTERNAL, out.stderr
    assert "Traceback" not in out.stderr
    assert "internal error: KeyError: 'planted'" in out.stderr


@pytest.mark.parametrize("argv", [
    ["train", "--epochs", "0"],
    ["train", "--hidden", "a,b"],
    ["demo", "--epochs", "0"],
    ["reproduce", "--seeds", "0"],
    ["bench", "--json", "/nonexistent-dir/x.json"],
    ["check", "no-such-adapter.py"],
    ["adapter", "no-such-net.py"],
    ["train", "--no-such-flag"],
])
def test_bad_input_is_exit_2_with_one_line(argv: list[str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own errors exit through Parser.error
        code = int(exc.code or 0)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_USAGE
    assert len(err) == 1 and "error" in err[0]
