"""The compiled path's on-disk cache: an edit anywhere in the fast path's sources is compiled.

numba checks a cached function against its own source file only, while the compiled code of a
function carries everything it calls and every constant it reads: ``handnet._fast_batch``'s
``output_delta`` inlines ``_loss_gradient`` from ``handnet._fast_kernel``, which reads
``BCE_EPS`` from ``handnet.losses``.  These tests edit a copy of the package between fresh
processes and check that the new code is what runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba", reason="numba is not installed: the fast path is optional")

ROOT = Path(__file__).resolve().parent.parent

# The batched step's output loop (compiled in _fast_batch.py, with _loss_gradient and _delta of
# _fast_kernel.py inlined) on one output under half-sse and one at bce's clamp; and whether it
# came from the disk cache.
SCRIPT = """
import json
import numpy as np
import handnet
from handnet import fast
assert fast.available(), fast.why_unavailable()
from handnet import _fast_batch
def gradient(loss, p, t):
    g, d = np.empty(1), np.empty(1)
    _fast_batch.output_delta(fast.LOSS_CODES[loss], fast.ACT_CODES["identity"],
                             np.array([p]), np.array([t]), g, d)
    return float(g[0])
print(json.dumps({
    "file": handnet.__file__,
    "half_sse": gradient("half-sse", 0.75, 1.0),
    "bce": gradient("bce", 1e-13, 1.0),
    "cache_hits": sum(_fast_batch.output_delta.stats.cache_hits.values()),
}))
"""
CLAMP = float(np.float32(1e-12))  # handnet.losses.BCE_EPS, torch's C++ float 1e-12


def _copy_package(dest: Path) -> Path:
    shutil.copytree(ROOT / "handnet", dest / "handnet",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return dest / "handnet"


def _env(tree: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NUMBA_", "HANDNET_", "PYTEST_"))}
    env.update(PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", **extra)
    return env


def _run(tree: Path, **extra: str) -> dict[str, float]:
    """SCRIPT in a fresh process that imports the package copy in ``tree``."""
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tree, env=_env(tree, **extra),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(result.pop("file")).resolve().is_relative_to(tree.resolve())
    return {k: float(v) for k, v in result.items()}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} must occur once in {path}"
    path.write_text(text.replace(old, new))


def test_an_edit_to_any_source_of_the_compiled_code_is_what_runs_next(tmp_path: Path) -> None:
    """Compile and cache the batched step's output loop; edit a helper it inlines (in
    _fast_kernel.py, not _fast_batch.py), then the clamp constant it reads (in losses.py): each
    next process must run the edited code."""
    package = _copy_package(tmp_path)
    first = _run(tmp_path)
    assert first == {"half_sse": -0.25, "bce": (1e-13 - 1.0) / CLAMP, "cache_hits": 0.0}
    again = _run(tmp_path)
    assert again["cache_hits"] > 0  # the cache does work ...
    _edit(package / "_fast_kernel.py", "g[j] = p[j] - t[j]", "g[j] = 0.5 * (p[j] - t[j])")
    edited = _run(tmp_path)
    assert edited["half_sse"] == -0.125, "the batched step ran the helper from before the edit"
    assert edited["cache_hits"] == 0  # ... and was not used for the edited code
    _edit(package / "losses.py", "BCE_EPS = float(np.float32(1e-12))", "BCE_EPS = 1e-3")
    assert _run(tmp_path)["bce"] == (1e-13 - 1.0) / 1e-3


def test_sources_name_every_handnet_module_the_kernels_import() -> None:
    """The cache is keyed on SOURCES: a module the compiled code reads from and SOURCES does
    not name would be the cross-file staleness again."""
    import ast

    from handnet import _fast_kernel

    for name in ("_fast_kernel.py", "_fast_batch.py"):
        tree = ast.parse((ROOT / "handnet" / name).read_text())
        modules = {node.module for node in ast.walk(tree)
                   if isinstance(node, ast.ImportFrom) and node.module}
        modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        files = {m.split(".", 1)[1].replace(".", "/") + ".py" for m in modules
                 if m.startswith("handnet.")}
        assert files <= set(_fast_kernel.SOURCES), f"{name} imports {files}"


def test_cache_falls_back_past_unusable_directories(tmp_path: Path) -> None:
    from handnet import _fast_kernel

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    unwritable = blocker / "cache"  # cannot be created, not even by root
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # others could plant pickles numba would load: never used
    user = tmp_path / "user"
    chosen = _fast_kernel.choose_cache_dir("abc", [unwritable, shared, user])
    assert chosen == user / "numba-abc"
    assert chosen.is_dir() and not list(shared.iterdir())
    assert _fast_kernel.choose_cache_dir("abc", [unwritable, shared]) is None


def test_without_a_cache_directory_the_kernels_still_compile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from numba.core.caching import NullCache

    from handnet import _fast_kernel

    monkeypatch.setattr(_fast_kernel, "_Cache", None)

    @_fast_kernel.jit()
    def twice(x):  # type: ignore[no-untyped-def]
        return 2.0 * x

    assert twice(1.5) == 3.0
    assert isinstance(twice._cache, NullCache)


def test_a_read_only_package_cache(tmp_path: Path) -> None:
    """The package's __pycache__ cannot be written (here: it is a file): the plain engine
    trains without compiling or caching anything, and the compiled path caches in the user's
    cache directory."""
    package = _copy_package(tmp_path)
    (package / "__pycache__").write_text("not a directory")
    xdg, tmp = tmp_path / "xdg", tmp_path / "tmp"
    tmp.mkdir()
    env = _env(tmp_path, XDG_CACHE_HOME=str(xdg), TMPDIR=str(tmp))
    argv = [sys.executable, "-m", "handnet", "train", "--engine", "plain", "--epochs", "2",
            "--n-train", "8", "--n-test", "4", "--hidden", "3", "--batch-size", "4", "--quiet",
            "--json", "-"]
    proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["engine"] == "plain"
    assert not list(tmp_path.rglob("*.nbi"))
    assert _run(tmp_path, XDG_CACHE_HOME=str(xdg), TMPDIR=str(tmp))["half_sse"] == -0.25
    assert list((xdg / "handnet").glob("numba-*/_fast_batch.output_delta-*.nbi"))
