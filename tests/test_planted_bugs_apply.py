"""Every planted bug in planted_bugs/catalogue.toml still applies to the current tree.

A mutant whose ``old`` text no longer occurs (or occurs twice) after the code evolves would
silently stop testing anything; this fast test makes that a failure instead.  It also checks
that each patched file still compiles (a syntax error would be a cheap, meaningless kill) and
that applying touches only the tree it is given.

The catalogue is checked against the project's own sources.  Under ``make mutation`` the suite
runs in mutmut's copy of the project, ``mutants/`` inside it, whose sources are rewritten: every
function is kept as written *and* once per machine-made mutant, behind a trampoline, so a
planted patch's text occurs many times there.  ``project_source`` then reads the file the copy
was made from, one directory up (docs/mutation.md).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"_planted_bugs_{Path(name).stem}", ROOT / "planted_bugs" / name
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


CATALOGUE = _load("catalogue.py")
MUTANTS = CATALOGUE.load()
# What mutmut writes into every file it rewrites (an import of its trampoline).
REWRITTEN = "from mutmut."
MUTMUT_COPY = "mutants"  # mutmut's working folder, inside the project


def project_source(relative: str, root: Path = ROOT) -> str:
    """The project's text of ``relative``: the file under ``root``, or, where mutmut has
    rewritten it in its copy ``<project>/mutants``, the project's file it was copied from."""
    text = (root / relative).read_text()
    if REWRITTEN not in text:
        return text
    original = root.parent / relative
    if root.name != MUTMUT_COPY or not original.is_file():
        raise AssertionError(f"{relative} is rewritten by mutmut, but {root} is not mutmut's "
                             f"copy of a project holding {relative}")
    text = original.read_text()
    assert REWRITTEN not in text, f"{original} is rewritten by mutmut too"
    return text


def test_project_source_reads_through_mutmut_copies(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / MUTMUT_COPY / "pkg").mkdir(parents=True)
    (project / "pkg").mkdir()
    (project / "pkg" / "m.py").write_text("x = 1\n")
    (project / MUTMUT_COPY / "pkg" / "m.py").write_text(f"{REWRITTEN}x import y\nx = 2\n")
    assert project_source("pkg/m.py", project / MUTMUT_COPY) == "x = 1\n"
    assert project_source("pkg/m.py", project) == "x = 1\n"
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "pkg").mkdir(parents=True)
    (elsewhere / "pkg" / "m.py").write_text(f"{REWRITTEN}x import y\n")
    with pytest.raises(AssertionError, match="is not mutmut's copy"):
        project_source("pkg/m.py", elsewhere)


def test_the_catalogue_is_big_enough_and_ids_are_unique() -> None:
    assert len(MUTANTS) >= 15
    assert len({m.id for m in MUTANTS}) == len(MUTANTS)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_mutant_applies_once_and_changes_the_file(mutant: Any) -> None:
    source = project_source(mutant.file)
    assert source.count(mutant.old) == 1, (
        f"{mutant.id}: old text must occur exactly once in {mutant.file}"
    )
    patched = mutant.patched(source)
    assert patched != source
    compile(patched, mutant.file, "exec")


def test_apply_patches_only_the_given_tree(tmp_path: Path) -> None:
    mutant = MUTANTS[0]
    original = project_source(mutant.file)
    before = (ROOT / mutant.file).read_text()
    (tmp_path / mutant.file).parent.mkdir(parents=True)
    (tmp_path / mutant.file).write_text(original)
    mutant.apply(tmp_path)
    assert (tmp_path / mutant.file).read_text() == mutant.patched(original)
    assert (ROOT / mutant.file).read_text() == before


def test_a_patch_that_no_longer_applies_is_an_error() -> None:
    gone = CATALOGUE.Mutant("gone", "x.py", "absent text", "new", "d", "W0", "p")
    with pytest.raises(CATALOGUE.MutantError, match="occurs 0 times"):
        gone.patched("some source")
    twice = CATALOGUE.Mutant("twice", "x.py", "a", "b", "d", "W0", "p")
    with pytest.raises(CATALOGUE.MutantError, match="occurs 2 times"):
        twice.patched("a a")


def test_the_tests_run_first_in_mutant_runs_exist() -> None:
    # planted_bugs/pytest_plugin.py puts these first; a renamed test would silently slow every run
    plugin = _load("pytest_plugin.py")
    for nodeid in plugin.FIRST:
        path, name = nodeid.split("::")
        assert f"def {name}(" in (ROOT / path).read_text(), f"{nodeid} does not exist"
