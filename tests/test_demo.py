"""``handnet demo`` on a tiny budget: six cells, a table, plots and results, one engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from handnet import plots
from handnet.cli import main
from handnet.commands import demo
from handnet.train import History, Run, train


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


TINY = ["--epochs", "2", "--n-train", "30", "--n-test", "20"]
CELLS = [(d, o) for d in ("linear", "xor", "chessboard") for o in ("sgd", "momentum")]


def check_outputs(out_dir: Path, stdout: str, epochs: int, pngs: bool = True) -> dict[str, Any]:
    table = [line for line in stdout.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(CELLS)  # header + one row per cell, in fixed order
    assert [tuple(c.strip() for c in row.split("|")[1:3]) for row in table[1:]] == CELLS
    for row in table[1:]:
        cols = [c.strip() for c in row.split("|")[1:-1]]
        assert cols[2] == str(epochs)
        assert 0.0 <= float(cols[3].rstrip("%")) <= 100.0
    assert "fewer than the seed's 6000" in stdout
    for d, o in CELLS if pngs else []:
        for name in ("predictions", "loss", "lr"):
            png = out_dir / f"{d}-{o}-{name}.png"
            assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), png
    results = json.loads((out_dir / "results.json").read_text())
    assert sorted((c["dataset"], c["optimizer"]) for c in results["cells"]) == sorted(CELLS)
    for c in results["cells"]:
        assert 0.0 <= c["test_accuracy"] <= 1.0 and c["epochs"] == epochs
    assert "| data set |" in (out_dir / "results.md").read_text()
    return results


def test_demo_in_two_worker_processes(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "demo", *TINY, "--out", str(tmp_path / "demo"))
    assert code == 0, err
    results = check_outputs(tmp_path / "demo", out, epochs=2)
    assert results["workers"] == 2


def test_every_cell_goes_through_the_one_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[tuple[str, str, int]] = []

    def engine(run: Run) -> History:
        seen.append((run.config.dataset, run.config.optimizer, run.config.epochs))
        return train(run)

    monkeypatch.setattr(demo, "ENGINE", engine)
    monkeypatch.setattr(plots, "write_plots", lambda *args, **kwargs: [])  # plots: tested above
    code, out, err = cli(capsys, "demo", *TINY, "--workers", "1", "--out", str(tmp_path))
    assert code == 0, err
    assert seen == [(d, o, 2) for d, o in CELLS]
    check_outputs(tmp_path, out, epochs=2, pngs=False)


def test_cells_are_the_seed_configuration() -> None:
    from handnet import Config

    for config in demo.cell_configs(epochs=6000, seed=0, n_train=1000, n_test=1000):
        assert config == Config(dataset=config.dataset, optimizer=config.optimizer)


@pytest.mark.parametrize("bad", [["--epochs", "0"], ["--workers", "0"], ["--seed", "-1"],
                                 ["--epochs", "x"], ["--n-train", "0"]])
def test_bad_demo_input_is_one_line(bad: list[str], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "demo", "--out", str(tmp_path / "d"), *bad)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


def test_demo_out_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "f"
    blocker.write_text("x")
    code, _, err = cli(capsys, "demo", *TINY, "--out", str(blocker))
    assert code == 2 and str(blocker) in err and err.count("\n") == 1
