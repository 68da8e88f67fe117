"""The issue's done-when, end to end: in a fresh virtual environment, ``pip install
'.[reference]'`` (no dev extra, not editable) plus pytest, and the README's user test in another
folder passes on the correct network and fails readably on a wrong one.

It builds a wheel and installs torch into a new venv (a few minutes), so it runs under
``make test-thorough`` (``HYPOTHESIS_PROFILE=thorough``) or with ``HANDNET_FRESH_INSTALL=1``;
``make test`` skips it (``tests/test_assertion.py`` runs the same user test against the
development install).  It also checks what the installed package carries: the version command,
the licence, ``py.typed``, the report schema, and the strategies' missing-extra message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import readme_blocks

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    os.environ.get("HYPOTHESIS_PROFILE") != "thorough"
    and not os.environ.get("HANDNET_FRESH_INSTALL"),
    reason="slow (a fresh venv with torch): make test-thorough or HANDNET_FRESH_INSTALL=1")


def _run(argv: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST", "HYPOTHESIS", "VIRTUAL_ENV", "PYTHONPATH"))}
    env["COLUMNS"] = "160"
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("fresh")
    build = where / "src"  # a copy: pip's build must not write into the work tree
    shutil.copytree(ROOT, build, ignore=shutil.ignore_patterns(
        ".venv", ".git", "out", "build", "*.egg-info", "__pycache__", ".hypothesis",
        ".*_cache"))
    out = _run([sys.executable, "-m", "venv", str(where / "venv")], where)
    assert out.returncode == 0, out.stderr
    pip = str(where / "venv" / "bin" / "pip")
    out = _run([pip, "install", "--quiet", f"{build}[reference]", "pytest"], where)
    assert out.returncode == 0, out.stdout + out.stderr
    return where / "venv"


def test_the_readme_user_test_passes_and_fails_readably(venv: Path, tmp_path: Path) -> None:
    blocks = readme_blocks()
    for name, bug in (("good", False), ("bad", True)):
        folder = tmp_path / name
        folder.mkdir()
        net = blocks["mynet.py"]
        if bug:
            net = net.replace("self.b2 -= self.lr * d2", "self.b2 += self.lr * d2")
        (folder / "mynet.py").write_text(net)
        (folder / "check_mynet.py").write_text(blocks["check_mynet.py"])
        (folder / "test_mynet.py").write_text(blocks["test_mynet.py"])
    python = str(venv / "bin" / "python")
    good = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path / "good")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path / "bad")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    summary = [line for line in bad.stdout.splitlines() if line.startswith("FAILED")]
    assert summary == ["FAILED test_mynet.py::test_my_backprop - reference.NetworkMismatchError: "
                       "b2 wrong: sign flipped; start here: b2"]


def test_the_installed_package_carries_its_identity(venv: Path, tmp_path: Path) -> None:
    python = str(venv / "bin" / "python")
    out = _run([str(venv / "bin" / "handnet"), "--version"], tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("handnet 0."), out.stderr
    code = ("import json, importlib.metadata as md\n"
            "from importlib.resources import files\n"
            "import handnet, reference\n"
            "dist = md.distribution('handnet')\n"
            "print(json.dumps({\n"
            "  'licence': dist.metadata['License-Expression'],\n"
            "  'licence_file': any(str(f).endswith('LICENSE') for f in dist.files),\n"
            "  'typed': [files(p).joinpath('py.typed').is_file() for p in ('handnet', "
            "'reference')],\n"
            "  'schema': files('reference.checker').joinpath('report.schema.json').is_file(),\n"
            "  'marker': hasattr(reference, '__handnet_twin__'),\n"
            "  'editable': 'site-packages' not in handnet.__file__}))\n")
    out = _run([python, "-c", code], tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"licence": "MIT", "licence_file": True,
                                      "typed": [True, True], "schema": True, "marker": True,
                                      "editable": False}
    out = _run([python, "-c", "import reference.comparison.strategies"], tmp_path)
    assert "pip install 'handnet[reference,strategies]'" in out.stderr
    out = _run([python, "-m", "handnet", "check", "examples/per_sample/adapter.py"], tmp_path)
    assert out.returncode == 2 and "git clone" in out.stderr
