"""PNG plots: the files exist, are real PNGs of a sensible size, and are written atomically."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from handnet import Config, History, Run, build, train
from handnet.plots import PLOT_NAMES, plot_loss, plot_lr, plot_predictions, write_plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk; fails unless the file is a PNG."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data.rstrip(b"\x00")[-8:-4] == b"IEND", f"{path} is cut short"
    return width, height


@pytest.fixture(scope="module")
def tiny_run() -> Run:
    run = build(Config(dataset="xor", hidden=(4,), epochs=3, n_train=40, n_test=30))
    train(run)
    return run


def test_write_plots_makes_three_pngs(tmp_path: Path, tiny_run: Run) -> None:
    out = tmp_path / "new" / "dir"
    paths = write_plots(out, tiny_run.network, tiny_run.data, tiny_run.history,
                        prefix="xor-", title="xor test")
    assert [p.name for p in paths] == [f"xor-{n}.png" for n in PLOT_NAMES]
    for p in paths:
        assert p.is_file() and p.stat().st_size > 1000
        width, height = png_size(p)
        assert width >= 300 and height >= 200
    # Predictions are two panels side by side: clearly wider than tall.
    width, height = png_size(paths[0])
    assert width > 1.5 * height
    assert sorted(q.name for q in out.iterdir()) == sorted(p.name for p in paths)


def test_loss_plot_survives_a_diverged_run(tmp_path: Path) -> None:
    path = plot_loss(tmp_path / "loss.png", [0.5, 0.4, float("nan"), float("inf")], "mse")
    png_size(path)


def test_loss_plot_over_many_decades_and_lr_steps(tmp_path: Path) -> None:
    epochs = np.arange(1, 301)
    png_size(plot_loss(tmp_path / "loss.png", list(1.0 / epochs**2)))
    png_size(plot_lr(tmp_path / "lr.png", [0.01 * 0.5 ** (e // 100) for e in range(300)]))


def test_prediction_plot_with_a_constant_network(tmp_path: Path, tiny_run: Run) -> None:
    # All weights zero: the output is 0.5 everywhere, so there is no 0.5 contour to draw.
    net = tiny_run.network.copy()
    for p in net.parameters.values():
        p[...] = 0.0
    png_size(plot_predictions(tmp_path / "p.png", net, tiny_run.data.x_test,
                              tiny_run.data.y_test))


def test_empty_history_still_plots(tmp_path: Path) -> None:
    h = History()
    png_size(plot_loss(tmp_path / "l.png", h.loss))
    png_size(plot_lr(tmp_path / "r.png", h.lr))


def test_plot_into_a_file_path_is_a_clear_oserror(tmp_path: Path, tiny_run: Run) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError, match="plot directory"):
        write_plots(blocker, tiny_run.network, tiny_run.data, tiny_run.history)


def test_a_failed_plot_leaves_no_partial_file(tmp_path: Path, tiny_run: Run,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    target = tmp_path / "loss.png"
    target.write_bytes(b"old")

    def broken(self: Figure, f: object, **kwargs: object) -> None:
        f.write(b"\x89PNG half")  # type: ignore[attr-defined]
        raise RuntimeError("renderer died")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError):
        plot_loss(target, [1.0, 0.5])
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["loss.png"]


def test_importing_handnet_does_not_import_matplotlib() -> None:
    code = "import sys, handnet, handnet.plots, handnet.checkpoint; " \
           "print('matplotlib' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.split() == ["False", "False"]


def test_history_records_the_test_set_about_200_times(tiny_run: Run) -> None:
    from handnet.train import accuracy

    h = tiny_run.history
    assert h.test_epochs == [1, 2, 3] and len(h.test_loss) == len(h.test_accuracy) == 3
    assert h.test_accuracy[-1] == accuracy(tiny_run.network, tiny_run.data.x_test,
                                           tiny_run.data.y_test)
    run = build(Config(dataset="xor", hidden=(2,), epochs=450, n_train=8, n_test=8))
    train(run)
    assert run.history.test_epochs[:3] == [2, 4, 6] and run.history.test_epochs[-1] == 450
    assert len(run.history.test_epochs) == 225


def _ink(image: np.ndarray) -> float:
    """The share of pixels that are not (nearly) white."""
    return float(np.mean(image[..., :3].min(axis=-1) < 0.9))


def test_the_decision_region_is_filled_by_the_predicted_probability(
        tmp_path: Path, tiny_run: Run) -> None:
    from matplotlib.image import imread

    image = imread(plot_predictions(tmp_path / "p.png", tiny_run.network,
                                    tiny_run.data.x_test, tiny_run.data.y_test))
    height, width = image.shape[:2]
    rows = slice(int(0.2 * height), int(0.7 * height))
    left = image[rows, int(0.12 * width):int(0.4 * width)]  # ground truth: points on white
    right = image[rows, int(0.55 * width):int(0.85 * width)]  # prediction: the filled plane
    assert _ink(left) < 0.2
    assert _ink(right) > 0.6


def test_loss_and_accuracy_plots_carry_the_test_curves(tmp_path: Path, tiny_run: Run) -> None:
    from handnet.plots import plot_accuracy

    h = tiny_run.history
    png_size(plot_loss(tmp_path / "l.png", h.loss, "half-sse", test_epochs=h.test_epochs,
                       test_loss=h.test_loss))
    png_size(plot_accuracy(tmp_path / "a.png", h))
