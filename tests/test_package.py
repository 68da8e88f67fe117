"""The installed package's identity: licence, metadata, typing marker, version, torch range.

The metadata is read from the installed distribution (``importlib.metadata``), the way pip and
a user's tools read it, not from pyproject.toml by hand.
"""

from __future__ import annotations

import importlib.metadata as md
import subprocess
import sys
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_licence_file_is_mit_and_in_the_metadata() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text
    meta = md.metadata("handnet")
    assert meta.get("License-Expression") == "MIT"
    assert "LICENSE" in (meta.get_all("License-File") or [])


def test_metadata_names_author_urls_and_classifiers() -> None:
    meta = md.metadata("handnet")
    assert meta.get("Author") or meta.get("Author-email")
    urls = meta.get_all("Project-URL") or []
    assert any(u.startswith("Documentation,") for u in urls)
    assert any(u.startswith("Issues,") for u in urls)
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers


@pytest.mark.parametrize("package", ["handnet", "reference"])
def test_packages_carry_py_typed(package: str) -> None:
    assert files(package).joinpath("py.typed").is_file()


@pytest.mark.parametrize("entry", [["-m", "handnet"], ["-c", "import sys; from handnet.cli "
                                                              "import main; sys.exit(main())"]])
def test_version_from_package_metadata(entry: list[str]) -> None:
    out = subprocess.run([sys.executable, *entry, "--version"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"handnet {md.version('handnet')}"


def test_reference_extra_is_a_range_and_dev_keeps_the_exact_pin() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    torch_ref = [r for r in extras["reference"] if r.startswith("torch")]
    torch_dev = [r for r in extras["dev"] if r.startswith("torch")]
    assert torch_dev == ["torch==2.13.0"]
    assert len(torch_ref) == 1 and "==" not in torch_ref[0]
    spec = torch_ref[0].removeprefix("torch")
    # The range must contain the version CI tests, and stop before the next major version.
    from packaging.specifiers import SpecifierSet

    rng = SpecifierSet(spec)
    assert "2.13.0" in rng and "3.0" not in rng
