"""The catalogue of planted bugs (``catalogue.toml``) and how one is applied to a tree.

A mutant is a textual patch of one file: its ``old`` text must occur exactly once in the file
and becomes ``new``.  ``apply`` works on whatever tree it is given; planted_bugs/run.py only ever
gives it a temporary copy.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).with_name("catalogue.toml")
FIELDS = ("id", "file", "old", "new", "description", "parameter", "pattern")


class MutantError(ValueError):
    """A mutant that is malformed or no longer applies; the message names it."""


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str
    old: str
    new: str
    description: str
    parameter: str
    pattern: str
    adapter: dict[str, Any] = field(default_factory=dict)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The acceptable first-named parameters (``"W2|b2"`` accepts either)."""
        return tuple(self.parameter.split("|"))

    def patched(self, source: str) -> str:
        """``source`` with the patch applied; raises ``MutantError`` unless ``old`` occurs once."""
        count = source.count(self.old)
        if count != 1:
            raise MutantError(
                f"mutant {self.id}: its old text occurs {count} times in {self.file} "
                "(must be exactly once; update the catalogue entry)"
            )
        return source.replace(self.old, self.new)

    def apply(self, root: Path) -> None:
        """Patch ``root / self.file`` in place (``root`` must be a throw-away copy)."""
        path = root / self.file
        if not path.is_file():
            raise MutantError(f"mutant {self.id}: {self.file} does not exist under {root}")
        path.write_text(self.patched(path.read_text()))


def load(path: Path = CATALOGUE) -> list[Mutant]:
    """Every mutant in the catalogue, checked for required fields and unique ids."""
    with path.open("rb") as f:
        entries = tomllib.load(f).get("mutant", [])
    mutants: list[Mutant] = []
    for n, entry in enumerate(entries, 1):
        missing = [k for k in FIELDS if not isinstance(entry.get(k), str) or not entry[k]]
        if missing:
            raise MutantError(f"{path.name}: mutant #{n} lacks {', '.join(missing)}")
        unknown = set(entry) - set(FIELDS) - {"adapter"}
        if unknown:
            raise MutantError(f"mutant {entry['id']}: unknown fields {', '.join(sorted(unknown))}")
        if entry["old"] == entry["new"]:
            raise MutantError(f"mutant {entry['id']}: old and new are the same text")
        mutants.append(Mutant(**entry))
    ids = [m.id for m in mutants]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise MutantError(f"{path.name}: duplicate mutant ids {', '.join(dupes)}")
    return mutants
