"""Crafted checkpoints, written with the zipfile module: every one is refused from the zip
directory and the .npy headers, before any data is unpacked, with one line (exit 2 on the
command line), in little time and memory."""

from __future__ import annotations

import io
import json
import struct
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from handnet import cli
from handnet.checkpoint import MAX_BYTES, load, save
from handnet.config import Config
from handnet.train import build


def _npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                              "shape": shape})
    return buf.getvalue()


def _zip_one_deflated(path: Path, name: str, stream: bytes, size: int, crc: int) -> None:
    """A zip with one deflated member whose raw deflate ``stream`` unpacks to ``size`` bytes,
    written field by field (zipfile would have to compress ``size`` bytes itself)."""
    fname = name.encode()
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(stream),
                        size, len(fname), 0) + fname
    central = struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc,
                          len(stream), size, len(fname), 0, 0, 0, 0, 0, 0) + fname
    offset = len(local) + len(stream)
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 1, 1, len(central), offset, 0)
    path.write_bytes(local + stream + central + end)


def _bomb(path: Path, n_elements: int) -> int:
    """An npz of about 2 MB whose one member unpacks to a header and 8 * n_elements zero
    bytes: deflate stores 16 MiB of zeros in ~16 kB, and after a full flush every 16 MiB
    block compresses to the same bytes, so the stream is built without compressing gigabytes.
    The CRC is left 0: a loader that unpacks it all only finds out at the very end."""
    header = _npy_header((n_elements,))
    block = 16 << 20
    assert (8 * n_elements) % block == 0
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH)
    piece = c.compress(bytes(block)) + c.flush(zlib.Z_FULL_FLUSH)
    stream = head + piece * (8 * n_elements // block) + c.flush()
    _zip_one_deflated(path, "W0.npy", stream, len(header) + 8 * n_elements, 0)
    return len(stream)


def _expect_refusal(path: Path, *words: str) -> str:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError) as info:
            load(path)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert message.startswith(f"checkpoint {path}: ") and "\n" not in message
    for w in words:
        assert w in message, message
    assert peak < 16 << 20, f"peak {peak} bytes while refusing"
    assert seconds < 5, f"{seconds:.1f} s to refuse"
    return message


def test_a_2mb_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    path = tmp_path / "bomb.npz"
    packed = _bomb(path, 2**28)  # 2 GiB of float64 zeros
    assert path.stat().st_size < 3 << 20 and packed < 3 << 20
    assert 8 * 2**28 > MAX_BYTES
    _expect_refusal(path, "'W0'", "2.1 GB", "more than the 1.1 GB")


def test_an_8tb_shape_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("W0.npy", _npy_header((10**6, 10**6)))
    _expect_refusal(path, "'W0'", "(1000000, 1000000)", "8.0 TB")


def test_a_directory_entry_that_lies_about_its_size(tmp_path: Path) -> None:
    path = tmp_path / "lie.npz"
    with zipfile.ZipFile(path, "w") as z:  # header says 3 floats, the member holds 1
        z.writestr("W0.npy", _npy_header((3,)) + bytes(8))
    _expect_refusal(path, "'W0'", "corrupt")


@pytest.fixture
def good(tmp_path: Path) -> Path:
    run = build(Config(hidden=(3,), epochs=1, n_train=4, n_test=4))
    return save(tmp_path / "good.npz", run.network, run.config)


def _copy_with(good: Path, path: Path, name: str, data: bytes,
               info: zipfile.ZipInfo | None = None) -> Path:
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for member in src.infolist():
            if member.filename != name:
                dst.writestr(member, src.read(member))
        dst.writestr(info or name, data)
    return path


def _npy(value: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, value, allow_pickle=False)
    return buf.getvalue()


@pytest.mark.parametrize("key", ["config", "activations"])
def test_a_deeply_nested_json_entry(good: Path, tmp_path: Path, key: str) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    path = _copy_with(good, tmp_path / "deep.npz", f"{key}.npy", _npy(np.array(deep)))
    _expect_refusal(path, "nested too deeply")


def test_an_oversized_metadata_string(good: Path, tmp_path: Path) -> None:
    big = json.dumps({"x": "y" * (1 << 20)})
    path = _copy_with(good, tmp_path / "big.npz", "config.npy", _npy(np.array(big)))
    _expect_refusal(path, "'config'", "at most 1048576 bytes")


def test_an_encrypted_member(good: Path, tmp_path: Path) -> None:
    info = zipfile.ZipInfo("W0.npy")
    info.flag_bits |= 0x1
    path = _copy_with(good, tmp_path / "enc.npz", "W0.npy", b"\x00" * 64, info)
    _expect_refusal(path, "'W0'", "encrypted")


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_an_unsupported_compression(good: Path, tmp_path: Path, method: int) -> None:
    with zipfile.ZipFile(good) as src:
        data = src.read("W0.npy")
    info = zipfile.ZipInfo("W0.npy")
    info.compress_type = method
    path = _copy_with(good, tmp_path / "cmp.npz", "W0.npy", data, info)
    _expect_refusal(path, "'W0'", f"compression method {method}")


def test_too_many_members(tmp_path: Path) -> None:
    path = tmp_path / "many.npz"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(3000):
            z.writestr(f"W{i}.npy", b"")
    _expect_refusal(path, "3000 entries")


def test_a_member_that_is_not_npy(good: Path, tmp_path: Path) -> None:
    path = _copy_with(good, tmp_path / "x.npz", "notes.txt", b"hello")
    _expect_refusal(path, "'notes.txt' is not a .npy array")


def test_the_command_line_refuses_a_bomb_in_one_line(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bomb.npz"
    _bomb(path, 2**28)
    code = cli.main(["train", "--hidden", "3", "--epochs", "1", "--quiet", "--init-from",
                     str(path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "'W0'" in err[0]
