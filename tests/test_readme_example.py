"""The README's worked adapter example, taken from the README itself, really works.

The two code blocks under "Wrapping your network" (``mynet.py`` and ``check_mynet.py``) are written
to a temporary directory and checked: as printed they pass (exit 0, over 3 steps); with one planted
mistake (b2's update scaled by 1 + m) one step exits 1 and flags b2 only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import readme_blocks as _blocks

from handnet.cli import main


def _write(tmp_path: Path, mynet: str) -> Path:
    blocks = _blocks()
    (tmp_path / "mynet.py").write_text(mynet)
    adapter = tmp_path / "check_mynet.py"
    adapter.write_text(blocks["check_mynet.py"])
    return adapter


def _check(capsys: pytest.CaptureFixture[str], adapter: Path, steps: int = 3) -> tuple[int, dict]:
    code = main(["check", str(adapter), "--steps", str(steps), "--json", "-"])
    return code, json.loads(capsys.readouterr().out)


def test_readme_blocks_are_there() -> None:
    assert {"mynet.py", "check_mynet.py"} <= set(_blocks())


def test_readme_example_passes_as_printed(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _check(capsys, _write(tmp_path, _blocks()["mynet.py"]))
    assert code == 0, report
    assert all(r["ok"] for r in report["parameters"])


def test_readme_example_with_bias_momentum_is_caught(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    mynet = _blocks()["mynet.py"]
    planted = mynet.replace("self.b2 -= self.lr * d2", "self.b2 -= self.lr * d2 * (1 + self.m)")
    assert planted != mynet
    # One step: the wrong update touches b2 only (over more steps everything drifts after it).
    code, report = _check(capsys, _write(tmp_path, planted), steps=1)
    assert code == 1
    assert {r["name"] for r in report["parameters"] if not r["ok"]} == {"b2"}
