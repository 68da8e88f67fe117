"""reproduce and demo show progress as train does: a bar with an ETA on a terminal, lines with
the elapsed time and an ETA otherwise."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from handnet import cli
from handnet.progress import RunProgress, duration


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_duration() -> None:
    assert [duration(s) for s in (0, 59.4, 75, 3599, 3725)] == ["0s", "59s", "1m15s",
                                                                "59m59s", "1h02m"]


def test_lines_carry_elapsed_time_and_eta() -> None:
    clock, out, log = Clock(), io.StringIO(), io.StringIO()
    progress = RunProgress(4, out=out, bar_stream=log, clock=clock)
    clock.t += 10
    progress.done("first")
    clock.t += 30  # the second run took longer: 20 s a run so far
    progress.done("second")
    clock.t += 20
    progress.done("third")
    progress.done("fourth")
    lines = out.getvalue().splitlines()
    assert lines[0] == "[1/4] first  (elapsed 10s, ETA 30s)"
    assert lines[1] == "[2/4] second  (elapsed 40s, ETA 40s)"
    assert lines[2] == "[3/4] third  (elapsed 1m00s, ETA 20s)"
    assert lines[3] == "[4/4] fourth  (elapsed 1m00s)"
    assert log.getvalue() == ""


def test_on_a_terminal_a_bar_with_an_eta() -> None:
    out, term = io.StringIO(), Terminal()
    progress = RunProgress(3, out=out, bar_stream=term)
    progress.done("one")
    progress.close()
    assert out.getvalue().splitlines() == ["[1/3] one"]
    bar = term.getvalue()
    assert "1/3" in bar and "<" in bar  # tqdm's "elapsed<remaining"


def _stop(*args: object, **kwargs: object) -> object:
    """Two finished runs, then an interrupt: the display is what is being tested."""
    yield {"optimizer": "sgd", "dataset": "linear", "seed": 0, "test_accuracy": 0.99,
           "seconds": 1.0, "engine": "compiled", "cpu_seconds": 1.0}
    yield {"optimizer": "sgd", "dataset": "xor", "seed": 0, "test_accuracy": 0.98,
           "seconds": 1.0, "engine": "compiled", "cpu_seconds": 1.0}
    raise KeyboardInterrupt


def test_reproduce_prints_progress_with_an_eta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("handnet.commands.reproduce.run_all", _stop)
    assert cli.main(["reproduce", "--epochs", "1", "--seeds", "1", "--out",
                     str(tmp_path)]) == 130
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]
    assert lines[0].startswith("[1/6] sgd      linear     seed 0: test accuracy  99.00%")
    assert "ETA" in lines[0] and "ETA" in lines[1]


def test_demo_prints_progress_with_an_eta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    def cells(*args: object, **kwargs: object) -> object:
        yield {"dataset": "linear", "optimizer": "sgd", "test_accuracy": 0.99, "seconds": 1.0}
        raise KeyboardInterrupt

    monkeypatch.setattr("handnet.commands.demo._run_cells", cells)
    assert cli.main(["demo", "--epochs", "1", "--out", str(tmp_path)]) == 130
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]
    assert lines == [lines[0]] and lines[0].startswith("[1/6] linear · sgd: test accuracy")
    assert "ETA" in lines[0]
