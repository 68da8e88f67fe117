"""Output locations, checked before any training or checking starts.

Every command states its outputs up front (:class:`Outputs`) and calls :meth:`Outputs.check`
first, so a run of minutes never ends in "cannot write".  Refused, each with one line naming
the flag (a ``UsageError``, exit 2):

* an empty path (``--save ''``);
* a path that exists and is not a regular file: a directory, a symlink (even to a regular
  file: writing would replace the link, not what it points to, or follow it somewhere
  unexpected), a FIFO, a socket, a device node (``/dev/null`` included) -- ``atomic_write``
  replaces whatever is at the path, so these would silently become regular files;
* a directory that does not exist, is not a directory, or is not writable;
* two outputs that are the same file (``--save X --json X``), an output inside an output
  directory under a name the command writes there (``--save p/loss.png --plot p``), and an
  output that is one of the command's inputs (``check a.py --json a.py``).

Files are then written by ``handnet.atomic`` (whole or not at all, ordinary permissions), which
refuses the same special files again at the moment of writing.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from handnet.cli import UsageError


def special_kind(path: Path) -> str | None:
    """What ``path`` is when it exists and is not a regular file (None otherwise)."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"not accessible ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return None
    for test, kind in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return "not a regular file"


def _writable(directory: Path) -> str | None:
    """Why no file can be created in ``directory`` (None: one can).  Tried, not guessed from
    permission bits: root passes ``os.access`` everywhere, yet cannot create files in /proc or
    on a read-only mount."""
    if not os.access(directory, os.W_OK | os.X_OK):
        return "is not writable"
    try:
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".handnet-probe-")
    except OSError as exc:
        return f"does not take new files ({exc.strerror or exc})"
    os.close(fd)
    os.unlink(probe)
    return None


def _key(path: Path) -> Path:
    """The path a file would be written at (its directory resolved, the name as given)."""
    return path.parent.resolve() / path.name


def _located(flag: str, value: str) -> tuple[Path, str | None]:
    """``value`` as a path (refused when empty), and what it is if it exists but is not a
    regular file."""
    if not value or not value.strip():
        raise UsageError(f"{flag}: the path is empty")
    return Path(value), special_kind(Path(value))


def _takes_files(flag: str, value: str, directory: Path, what: str) -> None:
    why = _writable(directory)
    if why:
        raise UsageError(f"{flag} {value}: {what}{directory} {why}")


def check_file(flag: str, value: str) -> Path:
    """``value`` can become a regular file written atomically: refuse it now otherwise."""
    path, kind = _located(flag, value)
    if kind is not None:
        raise UsageError(f"{flag} {value}: is {kind}, not a regular file; give a file path")
    if not path.parent.is_dir():
        raise UsageError(f"{flag} {value}: directory {path.parent} does not exist")
    _takes_files(flag, value, path.parent, "directory ")
    return path


def check_dir(flag: str, value: str) -> Path:
    """``value`` is a writable directory, or can be created as one."""
    path, kind = _located(flag, value)
    if kind is not None and kind != "a directory":
        raise UsageError(f"{flag} {value}: is {kind}, not a directory")
    base = next((c for c in (path, *path.parents) if c.exists()), Path("."))
    if not base.is_dir():
        raise UsageError(f"{flag} {value}: {base} exists and is not a directory")
    _takes_files(flag, value, base, "")
    return path


@dataclass
class Outputs:
    """A command's outputs: files by flag, directories by flag with the names written there,
    and the inputs no output may overwrite."""

    files: dict[str, str | None] = field(default_factory=dict)
    dirs: dict[str, tuple[str | None, tuple[str, ...]]] = field(default_factory=dict)
    inputs: dict[str, str | None] = field(default_factory=dict)

    def check(self) -> None:
        """Refuse every bad location and every collision (see the module docstring)."""
        written: dict[Path, str] = {}
        for flag, value in self.files.items():
            if value is None or value == "-":
                continue
            key = _key(check_file(flag, value))
            self._claim(written, key, f"{flag} {value}")
        for flag, (value, names) in self.dirs.items():
            if value is None:
                continue
            directory = check_dir(flag, value)
            for name in names:
                target = directory / name
                kind = special_kind(target)
                if kind is not None:
                    raise UsageError(f"{flag} {value}: {target} is {kind}; {flag} writes a "
                                     f"regular file there")
                self._claim(written, _key(target), f"{flag} {value} (its {name})")
        for flag, value in self.inputs.items():
            if value and _key(Path(value)) in written:
                raise UsageError(f"{written[_key(Path(value))]} would overwrite the input "
                                 f"{flag} {value}")

    @staticmethod
    def _claim(written: dict[Path, str], key: Path, what: str) -> None:
        if key in written:
            raise UsageError(f"{what} and {written[key]} are the same file: each output "
                             f"needs its own path")
        written[key] = what
