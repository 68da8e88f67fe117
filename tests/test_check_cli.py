"""``handnet check``: exit codes, the text report, ``--json``, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import handnet.cli
from reference.checker.guard import check_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GRADIENT_DICT = EXAMPLES / "gradient_dict"
PER_SAMPLE = EXAMPLES / "per_sample"
MINIBATCH = EXAMPLES / "minibatch_list"


@pytest.fixture(autouse=True)
def only_check(monkeypatch: pytest.MonkeyPatch) -> None:
    # the parser imports every subcommand; these tests need only this one
    monkeypatch.setattr(handnet.cli, "COMMANDS", ["check"])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``handnet check ARGV`` in this process (``reference.checker.guard.check_file``: the worker's
    own code, without the separate process, which the subprocess tests below exercise)."""
    outcome = check_file(list(argv))
    out = outcome.text if "error" not in outcome.data else ""
    err = "" if out else f"handnet: {outcome.verdict}: {outcome.text}\n"
    return outcome.exit_code, out, err


def cli(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The real command line, in its own process."""
    return subprocess.run([sys.executable, "-m", "handnet", "check", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


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
    assert "W3, b3 differ later only as a consequence" in out


def test_minibatch_example_is_caught_by_the_default_trajectory(
        capsys: pytest.CaptureFixture[str]) -> None:
    # the classic convention agrees with torch's until the lr changes: the default run
    # crosses the decay, one step cannot and says so (inconclusive, not a pass)
    code, out, _ = run(capsys, str(MINIBATCH / "adapter.py"))
    assert code == 1, out
    assert "classic momentum instead of the stated torch" in out
    code, out, _ = run(capsys, str(MINIBATCH / "adapter.py"), "--steps", "1")
    assert code == 3, out
    assert "not tested: momentum 0.9" in out


@pytest.mark.parametrize("adapter", [GRADIENT_DICT / "adapter_fixed.py",
                                     PER_SAMPLE / "adapter_fixed.py",
                                     MINIBATCH / "adapter_fixed.py"])
def test_fixed_examples_pass(capsys: pytest.CaptureFixture[str], adapter: Path) -> None:
    code, out, _ = run(capsys, str(adapter))
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


def test_json_says_what_the_text_says() -> None:
    data = check_file([str(PER_SAMPLE / "adapter.py")]).data
    assert data["verdict"] == "mismatch" and data["ok"] is False and data["exit_code"] == 1
    assert data["start_here"] == "W2"
    assert data["root_causes"] == ["W2", "b2", "W1", "b1"]
    assert data["consequences"] == ["W3", "b3"]
    records = {r["name"]: r for r in data["parameters"]}
    assert set(records) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    for r in records.values():
        assert {"name", "shape", "max_abs_error", "max_rel_error", "ok", "diagnosis"} <= set(r)
    assert records["W3"]["consequence"] and not records["W2"]["consequence"]
    assert not records["W1"]["ok"] and "after_update" in records["W1"]["patterns"]
    assert records["W2"]["shape"] == [20, 10]
    assert data["forward"]["ok"] is True


def test_json_start_here_is_the_forward_when_the_forward_differs(tmp_path: Path) -> None:
    net = (PER_SAMPLE / "net.py").read_text().replace(
        "self.a1 = sigmoid(x @ self.W1 + self.b1)", "self.a1 = sigmoid(x @ self.W1)")
    (tmp_path / "net.py").write_text(net)
    for name in ("adapter.py", "adapter_fixed.py"):
        (tmp_path / name).write_text((PER_SAMPLE / name).read_text())
    outcome = check_file([str(tmp_path / "adapter_fixed.py")])
    assert outcome.exit_code == 1
    assert outcome.data["start_here"] == "forward"
    assert "start here: the forward pass" in outcome.text


def test_real_command_json_to_stdout_is_pure_json_and_a_file_too(tmp_path: Path) -> None:
    # a correct network that prints at import and on every step: stdout stays the report's
    (tmp_path / "net.py").write_text((PER_SAMPLE / "net.py").read_text().replace(
        "    def train_step(self, x, y):",
        "    def train_step(self, x, y):\n        print('step', x.shape, flush=True)"))
    (tmp_path / "adapter.py").write_text("print('loading my network')\n"
                                         + (PER_SAMPLE / "adapter.py").read_text())
    (tmp_path / "fixed.py").write_text((PER_SAMPLE / "adapter_fixed.py").read_text())
    target = tmp_path / "report.json"
    done = cli(str(tmp_path / "fixed.py"), "--json", "-")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["verdict"] == "match"
    assert "loading my network" in done.stderr and "step (1, 2)" in done.stderr
    done = cli(str(tmp_path / "fixed.py"), "--json", str(target))
    assert done.returncode == 0
    assert "every parameter matches" in done.stdout and "loading" not in done.stdout
    assert json.loads(target.read_text())["verdict"] == "match"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".json") == ["report.json"]


def _one_line_error(capsys: pytest.CaptureFixture[str], *argv: str, code: int = 2) -> str:
    got, out, err = run(capsys, *argv)
    assert got == code, err
    assert out == ""
    assert err.startswith("handnet: ") and err.count("\n") == 1, err
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
    err = _one_line_error(capsys, str(f), code=4)  # the user's own file: a user error
    assert "SyntaxError" in err and "line 1" in err


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


@pytest.mark.parametrize("argv", [["--steps", "0"], ["--batch", "0"], ["--timeout", "0"]])
def test_bad_numbers(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert check_file([str(PER_SAMPLE / "adapter.py"), *argv]).exit_code == 2
    assert cli(str(PER_SAMPLE / "adapter.py"), *argv).returncode == 2


def test_json_into_a_missing_directory(tmp_path: Path) -> None:
    done = cli(str(GRADIENT_DICT / "adapter_fixed.py"), "--json", str(tmp_path / "no" / "r.json"))
    assert done.returncode == 2 and done.stdout == ""
    assert "does not exist" in done.stderr and done.stderr.count("\n") == 1


def test_importing_the_command_does_not_import_torch() -> None:
    code = ("import sys, handnet.cli, handnet.commands.check, handnet.adapter, handnet.verdict; "
            "assert 'torch' not in sys.modules and 'reference' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                   env={"PYTHONPATH": str(ROOT), "PATH": ""})


def test_no_torch_import_line_in_handnet() -> None:
    for file in (ROOT / "handnet").rglob("*.py"):
        for line in file.read_text().splitlines():
            assert not line.strip().startswith(("import torch", "from torch")), file
