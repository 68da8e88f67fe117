"""handnet reaches the twin through one module (``handnet.twin``): a missing torch and a
foreign ``reference`` package that shadows ours each get one clear line, before any work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import reference
from handnet.twin import MARKER, twin_location

ROOT = Path(__file__).resolve().parent.parent
ADAPTER = ROOT / "examples" / "per_sample" / "adapter_fixed.py"
HIDE_TORCH = "import sys; sys.modules['torch'] = None\n"


def _handnet(argv: list[str], cwd: Path, prelude: str = "") -> subprocess.CompletedProcess[str]:
    code = prelude + ("import sys\nfrom handnet.cli import main\n"
                      f"sys.path.insert(0, '')\nsys.exit(main({argv!r}))\n")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_our_reference_carries_the_marker() -> None:
    assert hasattr(reference, MARKER)
    assert twin_location("x") == Path(reference.__file__).resolve().parent.parent


@pytest.fixture
def foreign(tmp_path: Path) -> Path:
    """A user's project with its own ``reference/`` package in the current directory."""
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "__init__.py").write_text("DATA = 'my reference solutions'\n")
    return tmp_path


@pytest.mark.parametrize("argv", [
    ["check", str(ADAPTER)],
    ["train", "--epochs", "1", "--quiet", "--shadow"],
])
def test_a_foreign_reference_is_named_not_imported(argv: list[str], foreign: Path) -> None:
    out = _handnet(argv, foreign)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "shadows handnet's" in lines[0] and str(foreign / "reference") in lines[0]


def test_check_with_json_stdout_reports_the_shadowing_as_json(foreign: Path) -> None:
    import json

    out = _handnet(["check", str(ADAPTER), "--json", "-"], foreign)
    data = json.loads(out.stdout)
    assert out.returncode == 2 and data["verdict"] == "adapter-error"
    assert "shadows handnet's" in data["error"]


def test_a_foreign_reference_module_file_is_named_too(tmp_path: Path) -> None:
    (tmp_path / "reference.py").write_text("x = 1\n")
    out = _handnet(["check", str(ADAPTER)], tmp_path)
    assert out.returncode == 2 and str(tmp_path / "reference.py") in out.stderr


@pytest.mark.parametrize("argv", [
    ["check", str(ADAPTER)],
    ["train", "--epochs", "1", "--quiet", "--shadow"],
])
def test_torch_missing_is_one_line_with_the_install_command(argv: list[str],
                                                            tmp_path: Path) -> None:
    out = _handnet(argv, tmp_path, prelude=HIDE_TORCH)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "torch is not installed" in lines[0]
    assert "pip install 'handnet[reference]'" in lines[0]


def test_bench_without_torch_says_why_in_its_torch_column(tmp_path: Path) -> None:
    out = _handnet(["bench", "--cases", "per-sample", "--repeats", "1", "--threads", "1",
                    "--json", "-"], tmp_path, prelude=HIDE_TORCH)
    assert out.returncode == 0, out.stderr
    import json

    assert "torch is not installed" in json.loads(out.stdout)["torch"]


def test_python_m_from_a_folder_with_its_own_reference_is_refused(tmp_path: Path) -> None:
    # python -m puts the current directory first: the user's reference/ would be imported.
    adapter_dir = tmp_path / "proj"
    adapter_dir.mkdir()
    (adapter_dir / "reference").mkdir()
    (adapter_dir / "reference" / "__init__.py").write_text("raise ImportError('foreign')\n")
    for f in ("net.py", "adapter.py", "adapter_fixed.py"):
        (adapter_dir / f).write_text((ADAPTER.parent / f).read_text())
    out = subprocess.run([sys.executable, "-m", "handnet", "check", "adapter_fixed.py",
                          "--steps", "2"],
                         cwd=adapter_dir, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "shadows" in out.stderr
