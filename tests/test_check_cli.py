"""``handnet check``: exit codes, the text report, ``--json``, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import handnet.cli as cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GRADIENT_DICT = EXAMPLES / "gradient_dict"
PER_SAMPLE = EXAMPLES / "per_sample"
MINIBATCH = EXAMPLES / "minibatch_list"


@pytest.fixture(autouse=True)
def only_check(monkeypatch: pytest.MonkeyPatch) -> None:
    # the parser imports every subcommand; these tests need only this one
    monkeypatch.setattr(cli, "COMMANDS", ["check"])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_gradient_dict_example_names_the_planted_bug(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(GRADIENT_DICT / "adapter.py"))
    assert code == 1
    assert "start here: params['W2']" in out
    assert "tanh derivative evaluated at the pre-activation z" in out
    for name in ("params['W3']", "params['b3']"):
        line = next(line for line in out.splitlines() if line.strip().startswith(name))
        assert line.split()[-1] == "ok"


def test_per_sample_example_names_the_planted_bug(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(PER_SAMPLE / "adapter.py"))
    assert code == 1
    assert "start here: W2" in out
    assert "updated inside the backward loop" in out


def test_minibatch_example_needs_a_trajectory_across_a_decay(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(MINIBATCH / "adapter.py"))
    assert code == 0  # one step: the two momentum conventions agree
    assert "--steps 4 or more" in out
    code, out, _ = run(capsys, str(MINIBATCH / "adapter.py"), "--steps", "4")
    assert code == 1
    assert "classic momentum instead of the stated torch" in out
    assert "WRONG (step 3)" in out


@pytest.mark.parametrize("adapter", [GRADIENT_DICT / "adapter_fixed.py",
                                     PER_SAMPLE / "adapter_fixed.py",
                                     MINIBATCH / "adapter_fixed.py"])
def test_fixed_examples_pass(capsys: pytest.CaptureFixture[str], adapter: Path) -> None:
    code, out, _ = run(capsys, str(adapter), "--steps", "1")
    assert code == 0, out
    assert "every parameter matches the twin" in out


def test_fixed_per_sample_example_passes_a_trajectory_across_lr_decays(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(PER_SAMPLE / "adapter_fixed.py"), "--steps", "6",
                       "--seed", "4")
    assert code == 0, out


def test_handnet_passes_its_own_check_in_both_styles(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(EXAMPLES / "handnet_self" / "adapter.py"), "--steps", "4")
    assert code == 0, out
    assert "style (a)" in out and "style (b)" in out


def test_json_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(PER_SAMPLE / "adapter.py"), "--json", "-")
    assert code == 1
    data = json.loads(out)
    assert data["verdict"] == "mismatch" and data["ok"] is False
    assert data["start_here"] == "W2"
    records = {r["name"]: r for r in data["parameters"]}
    assert set(records) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    for r in records.values():
        assert {"name", "shape", "max_abs_error", "max_rel_error", "ok", "diagnosis"} <= set(r)
    assert records["W3"]["ok"] and records["W3"]["diagnosis"] == ""
    assert not records["W1"]["ok"] and "after_update" in records["W1"]["patterns"]
    assert records["W2"]["shape"] == [20, 10]
    assert data["forward"]["ok"] is True


def test_json_to_a_file_and_text_to_stdout(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    code, out, _ = run(capsys, str(GRADIENT_DICT / "adapter_fixed.py"), "--json", str(target))
    assert code == 0
    assert "every parameter matches" in out
    assert json.loads(target.read_text())["verdict"] == "match"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary left


def _one_line_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("handnet: error: ") and err.count("\n") == 1, err
    return err


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    err = _one_line_error(capsys, str(tmp_path / "nope.py"))
    assert "not found" in err


def test_file_without_adapter(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "a.py"
    f.write_text("x = 1\n")
    assert "defines no function adapter()" in _one_line_error(capsys, str(f))


def test_file_with_a_syntax_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "a.py"
    f.write_text("def adapter(:\n")
    assert "SyntaxError" in _one_line_error(capsys, str(f))


def test_adapter_error_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "a.py"
    f.write_text(
        "import numpy as np\n"
        "from handnet.adapter import Adapter, Layer\n"
        "class Net:\n"
        "    W1 = np.ones((2, 3)); b1 = np.zeros((1, 3))\n"
        "def adapter():\n"
        "    net = Net()\n"
        "    return Adapter(net, [Layer('W1', 'b1', 'sigmoid'), Layer('W2', 'b2', 'sigmoid')],\n"
        "                   'half-sse', forward=lambda x: x, gradients=lambda x, y: {})\n")
    err = _one_line_error(capsys, str(f))
    assert "'W2'" in err and "not found" in err


@pytest.mark.parametrize("argv", [["--steps", "0"], ["--batch", "0"]])
def test_bad_numbers(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    _one_line_error(capsys, str(PER_SAMPLE / "adapter.py"), *argv)


def test_json_into_a_missing_directory(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    err = _one_line_error(capsys, str(GRADIENT_DICT / "adapter_fixed.py"), "--json",
                          str(tmp_path / "no" / "r.json"))
    assert "does not exist" in err


def test_importing_the_command_does_not_import_torch() -> None:
    code = ("import sys, handnet.cli, handnet.commands.check, handnet.adapter; "
            "assert 'torch' not in sys.modules and 'reference' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                   env={"PYTHONPATH": str(ROOT), "PATH": ""})


def test_no_torch_import_line_in_handnet() -> None:
    for file in (ROOT / "handnet").rglob("*.py"):
        for line in file.read_text().splitlines():
            assert not line.strip().startswith(("import torch", "from torch")), file
