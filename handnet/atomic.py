"""Write a file whole or not at all.

``atomic_write(path, write)`` hands ``write`` a binary file object on a temporary file in the
*same directory* as ``path``, flushes and fsyncs it, then ``os.replace``s it over ``path``
(atomic on POSIX and Windows within one file system).  If ``write`` raises, the temporary file is
removed and ``path`` is left exactly as it was, so a reader never sees a partial file.  The file
gets the permissions an ordinary new file gets (``0666 & ~umask``; mkstemp's are 0600).  A path
that is a symlink, directory, FIFO, socket or device is refused (``handnet.outputs``): it would be
replaced by a regular file.  Every output of handnet goes through here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from handnet.outputs import special_kind


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> Path:
    """Run ``write(f)`` on a temporary file beside ``path``, then move it onto ``path``."""
    target = Path(path)
    directory = target.parent
    if not directory.is_dir():
        raise OSError(f"cannot write {target}: directory {directory} does not exist")
    kind = special_kind(target)
    if kind is not None:  # replacing it would turn a link, a FIFO or a device into a file
        raise OSError(f"cannot write {target}: it is {kind}, not a regular file")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise OSError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file 0600; give it the permissions an ordinary new file would get.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """``atomic_write`` for a UTF-8 text."""
    data = text.encode("utf-8")

    def write(f: BinaryIO) -> None:
        f.write(data)

    return atomic_write(path, write)
