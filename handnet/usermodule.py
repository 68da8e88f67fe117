"""Import a network file by path, whatever its name (``07-net-v2.py`` is not an importable
identifier), as a fresh module each time.

Adapters (hand-written or drafted by ``handnet adapter``) use :func:`load_file` when ``import``
cannot name the file, or when a script's module-level arrays must be rebuilt from scratch on
every ``adapter()`` call: each call executes the file anew.  The file's own directory is first on
``sys.path`` while it runs, so its ``import helpers`` of sibling files works.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType


def module_name(path: str | Path) -> str:
    """A valid module name for the file: its stem with every non-identifier character
    replaced (and a leading underscore when it starts with a digit)."""
    stem = re.sub(r"\W", "_", Path(path).stem)
    return f"_{stem}" if not stem or stem[0].isdigit() else stem


def load_file(path: str | Path) -> ModuleType:
    """Execute the Python file at ``path`` as a new module and return it."""
    file = Path(path).resolve()
    if not file.is_file():
        raise FileNotFoundError(f"network file {str(path)!r} not found")
    spec = importlib.util.spec_from_file_location(module_name(file), file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {str(path)!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look their module up there
    directory = str(file.parent)
    sys.path.insert(0, directory)
    try:
        spec.loader.exec_module(module)
    finally:
        if directory in sys.path:
            sys.path.remove(directory)
    return module
