"""Read an ``.npz`` archive headers first: nothing is unpacked before it has been checked.

``np.load`` on an ``.npz`` trusts the archive: a 2 MB file of deflated zeros can declare a
4 GB member, a header can declare an 8 TB shape, a member can be encrypted or compressed with a
method ``zipfile`` cannot read, and every member is unpacked before a caller sees its name.
:func:`open_npz` instead lists the members from the zip directory and reads only each member's
``.npy`` *header* (magic, version, ``{'descr', 'fortran_order', 'shape'}``, at most
``MAX_HEADER`` bytes), so that names, shapes, dtypes and sizes can be checked before any data
is read.  Per member it refuses, with one line naming the member:

* an encrypted member (zip flag bit 0), a compression method other than stored or deflated
  (the two ``np.savez``/``np.savez_compressed`` write);
* a name that is not ``<key>.npy``, or more than ``max_entries`` members;
* an object dtype (it would need pickle), a header ``np.lib.format`` cannot parse;
* a declared size that is not exactly the header plus ``prod(shape) * itemsize`` (a lying
  directory entry), or data larger than ``max_bytes``.

:meth:`Archive.read` then reads one member's array; ``zipfile`` stops at the declared size and
checks the CRC at its end.  Errors are ``ValueError`` (``OSError`` when the file cannot be
opened) whose message starts with ``label`` (e.g. ``"checkpoint x.npz: "``).
"""

from __future__ import annotations

import math
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np

MAX_HEADER = 10_000  # np.lib.format's own default limit on a header
METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}


@dataclass(frozen=True)
class Entry:
    """One member as its headers describe it (no data read)."""

    name: str
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    header_bytes: int

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def _size(n: int) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


class Archive:
    """An open ``.npz`` whose members' headers have been checked (see the module docstring)."""

    def __init__(self, path: Path, label: str, max_entries: int, max_bytes: int) -> None:
        self.label = label
        try:
            self._zip = zipfile.ZipFile(path)
        except OSError as exc:
            raise OSError(f"{label}cannot read it ({exc.strerror or exc})") from None
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
            raise ValueError(f"{label}truncated or corrupt archive ({exc})") from None
        try:
            self.entries = self._index(max_entries, max_bytes)
        except BaseException:
            self._zip.close()
            raise

    def _index(self, max_entries: int, max_bytes: int) -> dict[str, Entry]:
        infos = self._zip.infolist()
        if len(infos) > max_entries:
            raise ValueError(f"{self.label}{len(infos)} entries, more than the {max_entries} "
                             "a file of this kind can have")
        entries: dict[str, Entry] = {}
        for info in infos:
            entry = self._header(info, max_bytes)
            if entry.name in entries:
                raise ValueError(f"{self.label}entry {entry.name!r} appears twice")
            entries[entry.name] = entry
        total = sum(e.nbytes for e in entries.values())
        if total > max_bytes:
            raise ValueError(f"{self.label}its arrays declare {_size(total)} in all, more than "
                             f"the {_size(max_bytes)} this handnet loads")
        return entries

    def _header(self, info: zipfile.ZipInfo, max_bytes: int) -> Entry:
        name = info.filename
        if not name.endswith(".npy") or "/" in name:
            raise ValueError(f"{self.label}entry {name!r} is not a .npy array")
        key = name[:-4]
        if info.flag_bits & 0x1:
            raise ValueError(f"{self.label}entry {key!r} is encrypted")
        if info.compress_type not in METHODS:
            raise ValueError(f"{self.label}entry {key!r} uses zip compression method "
                             f"{info.compress_type}; only stored and deflated are read")
        try:
            with self._zip.open(info) as f:
                version = np.lib.format.read_magic(f)
                reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                          else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = reader(f, max_header_size=MAX_HEADER)
                header_bytes = f.tell()
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise ValueError(f"{self.label}truncated or corrupt archive ({exc})") from None
        except (ValueError, OSError, SyntaxError) as exc:
            raise ValueError(f"{self.label}unreadable entry {key!r} ({exc})") from None
        if dtype.hasobject:
            raise ValueError(f"{self.label}unreadable entry {key!r} (an object array: it "
                             "would need allow_pickle, which is never used)")
        entry = Entry(key, info, tuple(int(n) for n in shape), dtype, bool(fortran),
                      header_bytes)
        if entry.nbytes > max_bytes:
            raise ValueError(f"{self.label}entry {key!r} declares shape {entry.shape} of "
                             f"{dtype}: {_size(entry.nbytes)}, more than the "
                             f"{_size(max_bytes)} this handnet loads")
        if info.file_size != header_bytes + entry.nbytes:
            raise ValueError(f"{self.label}entry {key!r} is {info.file_size} bytes unpacked, "
                             f"but its header says {header_bytes + entry.nbytes}: corrupt")
        return entry

    def read(self, key: str) -> np.ndarray:
        """One member's array (its size was checked; the CRC is checked at its end)."""
        entry = self.entries[key]
        try:
            with self._zip.open(entry.info) as f:
                return np.lib.format.read_array(f, allow_pickle=False,
                                                max_header_size=MAX_HEADER)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise ValueError(f"{self.label}truncated or corrupt archive ({exc})") from None
        except (ValueError, OSError) as exc:
            raise ValueError(f"{self.label}unreadable entry {key!r} ({exc})") from None

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._zip.close()


def open_npz(path: Path, label: str, max_entries: int, max_bytes: int) -> Archive:
    """Open ``path`` and check every member's headers (see the module docstring)."""
    return Archive(path, label, max_entries, max_bytes)
