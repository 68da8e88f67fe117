"""The base networks the planted bugs edit, and the planting: a wrong line for a right one.

``course_net.py`` and ``loop_net.py`` are user code (see their docstrings); a planted bug is
their source text with one line (or a few adjacent ones) replaced, loaded as a module of its
own, so each case is the network a person would have written with that one mistake.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from types import ModuleType

PLANTED = Path(__file__).parent


def planted_source(base: str, right: str, wrong: str) -> str:
    """``tests/planted/<base>.py`` with the lines ``right`` (one or more whole lines, compared
    without their indentation) replaced by ``wrong`` (indented as the first of them) wherever
    they occur (the course net writes its deltas in ``gradients`` and ``train_step`` alike)."""
    source = (PLANTED / f"{base}.py").read_text()
    right_lines = textwrap.dedent(right).strip().split("\n")
    pattern = r"^([ \t]*)" + r"\n[ \t]*".join(re.escape(s.strip()) for s in right_lines) + r"$"
    found = list(re.finditer(pattern, source, flags=re.MULTILINE))
    assert found, f"{right!r} is not in {base}.py"
    text = source
    for match in reversed(found):
        new = textwrap.indent(textwrap.dedent(wrong).strip("\n"), match.group(1))
        text = text[:match.start()] + new + text[match.end():]
    assert text != source
    return text


def load(base: str, text: str | None = None) -> ModuleType:
    """The base network's module, or ``text`` (a planted version of it) as that module."""
    module = ModuleType(f"planted_{base}")
    module.__file__ = str(PLANTED / f"{base}.py")
    if text is None:
        text = (PLANTED / f"{base}.py").read_text()
    exec(compile(text, module.__file__, "exec"), module.__dict__)
    return module


def plant(base: str, right: str, wrong: str) -> ModuleType:
    return load(base, planted_source(base, right, wrong))
