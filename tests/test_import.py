"""handnet is NumPy only: importing it (every module of it) never brings torch in."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "handnet"

# Every module under handnet/ is imported, not just the package, so a lazy or optional torch
# import in any submodule is caught too.
_CHILD = """
import importlib, pkgutil, sys
import handnet
for info in pkgutil.walk_packages(handnet.__path__, "handnet."):
    if info.name != "handnet.__main__":
        importlib.import_module(info.name)
print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""


def test_importing_handnet_does_not_import_torch() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PACKAGE.parent), *filter(None, [env.get("PYTHONPATH")])]
    )
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "[]", out.stdout


_TORCH_IMPORT = re.compile(r"^\s*(import\s+torch\b|from\s+torch\b)", re.MULTILINE)


def test_no_source_file_imports_torch() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) >= 10  # the walk really found the package
    offenders = [str(f) for f in files if _TORCH_IMPORT.search(f.read_text(encoding="utf-8"))]
    assert offenders == []


def test_torch_import_pattern_matches_what_it_should() -> None:
    # The grep above is only worth something if its pattern fires on real import lines.
    assert _TORCH_IMPORT.search("import torch\n")
    assert _TORCH_IMPORT.search("def f():\n    from torch import nn\n")
    assert _TORCH_IMPORT.search("import torch.nn as nn")
    assert not _TORCH_IMPORT.search("# unlike torch's default, from torchvision? no\n")
    assert not _TORCH_IMPORT.search("x = 1  # import torch here? never\n")
