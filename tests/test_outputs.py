"""Every output location is checked before any work (``handnet.outputs``) and written by the one
atomic writer (``handnet.atomic``): collisions, special files, empty paths and directories that
take no files are refused with one line and exit 2, and nothing is trained or checked first."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from handnet import cli
from handnet.atomic import atomic_write_text

ROOT = Path(__file__).resolve().parent.parent
ADAPTER = ROOT / "examples" / "per_sample" / "adapter_fixed.py"
TRAIN = ["train", "--epochs", "1", "--n-train", "8", "--n-test", "8", "--quiet"]


class Started(Exception):
    """Raised if work began: every refusal must come before it."""


def _no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    def started(*args: object, **kwargs: object) -> None:
        raise Started

    monkeypatch.setattr("handnet.commands.train.build", started)
    monkeypatch.setattr("handnet.commands.check._run_worker", started)
    monkeypatch.setattr("handnet.commands.bench.run_bench", started)
    monkeypatch.setattr("handnet.commands.reproduce.run_all", started)
    monkeypatch.setattr("handnet.commands.demo._run_cells", started)
    monkeypatch.setattr("handnet.commands.adapter._probe", started)


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch) -> str:
    _no_work(monkeypatch)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    return err[0]


def test_save_and_json_on_the_same_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    x = str(tmp_path / "x")
    line = _refused([*TRAIN, "--save", x, "--json", x], capsys, monkeypatch)
    assert "same file" in line and "--save" in line and "--json" in line
    assert not Path(x).exists()


def test_the_same_file_through_another_spelling(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sub").mkdir()
    line = _refused([*TRAIN, "--save", str(tmp_path / "sub" / ".." / "x.npz"),
                     "--json", str(tmp_path / "x.npz")], capsys, monkeypatch)
    assert "same file" in line


def test_save_inside_the_plot_directory_under_a_plot_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "p"
    p.mkdir()
    line = _refused([*TRAIN, "--save", str(p / "loss.png"), "--plot", str(p)], capsys,
                    monkeypatch)
    assert "same file" in line and "loss.png" in line


def test_check_json_onto_the_adapter(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = tmp_path / "a.py"
    adapter.write_text(ADAPTER.read_text())
    line = _refused(["check", str(adapter), "--json", str(adapter)], capsys, monkeypatch)
    assert "would overwrite the input" in line
    assert adapter.read_text() == ADAPTER.read_text()


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def _symlink(tmp_path: Path) -> Path:
    target = tmp_path / "target.txt"
    target.write_text("keep me")
    link = tmp_path / "link"
    link.symlink_to(target)
    return link


@pytest.mark.parametrize("make, kind", [
    (_fifo, "FIFO"), (_symlink, "symbolic link"),
    (lambda tmp: Path("/dev/null"), "character device"),
    (lambda tmp: tmp, "directory"),
])
@pytest.mark.parametrize("command", [
    [*TRAIN, "--json"], [*TRAIN, "--save"], ["check", str(ADAPTER), "--json"],
    ["bench", "--json"], ["adapter", str(ADAPTER.parent / "net.py"), "--force", "-o"],
])
def test_special_files_are_refused(make, kind: str, command: list[str],  # noqa: ANN001
                                   tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = make(tmp_path)
    line = _refused([*command, str(path)], capsys, monkeypatch)
    assert kind in line and "regular file" in line
    if path.is_symlink():
        assert (tmp_path / "target.txt").read_text() == "keep me"
    else:
        assert not stat.S_ISREG(path.stat().st_mode)


@pytest.mark.parametrize("argv", [
    [*TRAIN, "--save", ""], [*TRAIN, "--json", ""], [*TRAIN, "--plot", ""],
    ["check", str(ADAPTER), "--json", ""], ["bench", "--json", ""],
    ["demo", "--out", ""], ["reproduce", "--out", ""],
])
def test_empty_paths_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assert "the path is empty" in _refused(argv, capsys, monkeypatch)


@pytest.mark.parametrize("argv", [
    [*TRAIN, "--json", "/proc/x.json"], [*TRAIN, "--save", "/proc/x.npz"],
    [*TRAIN, "--plot", "/proc/plots"], ["check", str(ADAPTER), "--json", "/proc/x.json"],
    ["bench", "--json", "/proc/x.json"], ["reproduce", "--out", "/proc/out"],
    ["demo", "--out", "/proc/out"],
])
def test_directories_that_take_no_files_are_refused_first(
        argv: list[str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    line = _refused(argv, capsys, monkeypatch)
    assert "/proc" in line


def test_an_output_directory_holding_a_special_file_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "table.md")
    line = _refused(["reproduce", "--out", str(out)], capsys, monkeypatch)
    assert "table.md" in line and "FIFO" in line


def test_the_atomic_writer_refuses_a_symlink_and_writes_ordinary_modes(tmp_path: Path) -> None:
    link = _symlink(tmp_path)
    with pytest.raises(OSError, match="symbolic link"):
        atomic_write_text(link, "x")
    assert link.is_symlink() and (tmp_path / "target.txt").read_text() == "keep me"
    mask = os.umask(0o027)
    try:
        path = atomic_write_text(tmp_path / "out.txt", "x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_train_outputs_get_ordinary_modes(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    mask = os.umask(0o022)
    try:
        assert cli.main([*TRAIN, "--save", str(tmp_path / "w.npz"), "--json",
                         str(tmp_path / "r.json")]) == 0
    finally:
        os.umask(mask)
    for name in ("w.npz", "r.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644
    assert json.loads((tmp_path / "r.json").read_text())["epochs"] == 1


def test_no_module_writes_files_by_hand() -> None:
    """One writer: outside handnet/atomic.py no source writes a file itself."""
    import re

    pattern = re.compile(r"\.write_text\(|\bopen\([^)]*['\"][wax]b?['\"]|os\.replace\(")
    offenders = []
    for folder in ("handnet", "reference", "planted_bugs"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "atomic.py" or path.name == "catalogue.py":
                continue  # catalogue.py patches source files in throw-away copies
            lines = [line for line in path.read_text().splitlines()
                     if "a sink, not an output" not in line]  # a subprocess's log
            if pattern.search("\n".join(lines)):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
