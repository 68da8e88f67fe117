"""Where handnet reaches for its PyTorch twin: the one module that loads ``reference``.

``handnet`` never imports torch; three commands need the twin (``check``, ``train --shadow``,
``bench``'s torch column).  They all come here, which answers with one clear message for each
way the twin can be out of reach, *before* anything is imported or run:

* torch is not installed: ``pip install 'handnet[reference]'``;
* no ``reference`` package at all: the same install line;
* a ``reference`` that is not ours comes first on ``sys.path`` -- a user's own ``reference/``
  folder in the current directory (``python -m handnet`` puts it first) or on ``PYTHONPATH``.
  Ours is recognised by the marker assignment ``__handnet_twin__ = ...`` in
  ``reference/__init__.py`` (:data:`MARKER`), read from the file without importing it, so that
  the check costs no torch import and a foreign package's code never runs.

``import_twin(module, what)`` then imports a module of the twin; ``twin_location(what)`` gives
the directory that holds our ``reference`` package, so that a worker process can be started on
exactly the package that was verified (``handnet check``).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

from handnet.cli import UsageError

PACKAGE = "reference"
MARKER = "__handnet_twin__"
INSTALL = "pip install 'handnet[reference]'"


class TwinUnavailable(UsageError):
    """The twin cannot be used here (torch missing, or ``reference`` missing or shadowed)."""


def _present(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent that fails, a module set to None
        return False


def _has_marker(init: Path) -> bool:
    """Whether ``init`` assigns :data:`MARKER` at module level (read, not imported)."""
    try:
        tree = ast.parse(init.read_bytes(), filename=str(init))
    except (OSError, SyntaxError, ValueError):
        return False
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == MARKER for t in targets):
            return True
    return False


def twin_location(what: str) -> Path:
    """The directory holding our ``reference`` package; :class:`TwinUnavailable` otherwise."""
    if not _present("torch"):
        raise TwinUnavailable(f"{what} needs the PyTorch twin, and torch is not installed: "
                              f"{INSTALL}")
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise TwinUnavailable(f"{what} needs the PyTorch twin (the '{PACKAGE}' package), and "
                              f"it is not installed: {INSTALL}")
    init = Path(spec.origin) if spec.origin else None
    if init is None or init.name != "__init__.py" or not _has_marker(init):
        where = (init.parent if init is not None and init.name == "__init__.py"
                 else init or next(iter(spec.submodule_search_locations or []), "?"))
        raise TwinUnavailable(
            f"{what} needs handnet's PyTorch twin, but the '{PACKAGE}' found first on the "
            f"module path is another package, at {where}: it shadows handnet's (a folder of "
            f"your own named '{PACKAGE}' in the current directory or on PYTHONPATH?). Run "
            f"from another directory, or rename that folder")
    return init.parent.parent


def import_twin(module: str, what: str) -> ModuleType:
    """Import ``module`` (``reference.…``) after :func:`twin_location` has vouched for it."""
    twin_location(what)
    return importlib.import_module(module)
