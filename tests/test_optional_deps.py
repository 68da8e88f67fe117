"""What a plain install lacks is said in one line where it matters: hypothesis for the
strategies (naming the extra), numba for the compiled engine (train, demo, reproduce, bench)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HIDE = "import sys; sys.modules[{name!r}] = None\n"


def _python(code: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_strategies_without_hypothesis_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    monkeypatch.setitem(sys.modules, "hypothesis", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "reference.comparison.strategies", raising=False)
    with pytest.raises(ImportError) as info:
        importlib.import_module("reference.comparison.strategies")
    message = str(info.value)
    assert message.startswith("reference.comparison.strategies needs hypothesis")
    assert "pip install 'handnet[reference,strategies]'" in message


def test_the_strategies_extra_exists() -> None:
    import tomllib

    root = Path(__file__).resolve().parent.parent
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert any(r.startswith("hypothesis") for r in extras["strategies"])


def test_without_numba_train_announces_the_plain_path_once(tmp_path: Path) -> None:
    code = (HIDE.format(name="numba") + "from handnet.cli import main\n"
            "sys.exit(main(['train', '--epochs', '1', '--n-train', '8', '--n-test', '8']))\n")
    out = _python(code, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    notes = [line for line in out.stderr.splitlines() if "compiled engine is not available"
             in line]
    assert len(notes) == 1, out.stderr
    assert "numba is not importable" in notes[0] and "pip install 'handnet[fast]'" in notes[0]


def _interrupt(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt  # stop before any training: the note comes first


@pytest.mark.parametrize("argv, work", [
    (["reproduce", "--epochs", "1", "--seeds", "1", "--out", "out"],
     "handnet.commands.reproduce.run_all"),
    (["demo", "--epochs", "1", "--out", "out"], "handnet.commands.demo._run_cells"),
    (["bench", "--cases", "per-sample", "--repeats", "1"], "handnet.commands.bench.run_bench"),
])
def test_without_numba_the_long_commands_announce_the_plain_path_first(
        argv: list[str], work: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from handnet import cli, fast

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(fast, "_kernel", None)
    monkeypatch.setattr(fast, "_import_error", "numba is not importable: planted")
    monkeypatch.setattr(work, _interrupt)
    assert cli.main(argv) == 130
    notes = [line for line in capsys.readouterr().err.splitlines()
             if "compiled engine is not available" in line]
    assert len(notes) == 1
    assert "numba is not importable" in notes[0] and "pip install 'handnet[fast]'" in notes[0]


def test_with_numba_nothing_is_announced(capsys: pytest.CaptureFixture[str]) -> None:
    from handnet import cli, fast

    assert fast.available()
    assert cli.main(["train", "--epochs", "1", "--n-train", "8", "--n-test", "8"]) == 0
    assert "compiled engine" not in capsys.readouterr().err


def test_readme_example_path_outside_the_repository_says_where_examples_are(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from handnet import cli

    monkeypatch.chdir(tmp_path)  # as after pip install: no examples/ here
    assert cli.main(["check", "examples/per_sample/adapter.py"]) == 2
    err = capsys.readouterr().err
    assert "ships with the source repository" in err and "git clone" in err
