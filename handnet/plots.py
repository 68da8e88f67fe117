"""PNG plots of a run: test-set ground truth beside prediction, the loss curve, the lr curve.

Headless by construction: each figure is a ``matplotlib.figure.Figure`` drawn on an Agg canvas
(no ``pyplot``, no global figure state, no display needed).  matplotlib is imported inside the
functions so that ``import handnet`` stays light.  Every PNG is written atomically (temporary file
in the same directory, then ``os.replace``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
from numpy.typing import NDArray

from handnet.atomic import atomic_write
from handnet.plotnames import PLOT_FILES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from handnet.data import Dataset
    from handnet.network import Network
    from handnet.train import History

Array = NDArray[np.floating]

CLASS_COLOURS = ("#1f77b4", "#ff7f0e")  # label 0: blue, label 1: orange
PLOT_NAMES = ("predictions", "loss", "lr")


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | os.PathLike[str]) -> Path:
    def write(f: BinaryIO) -> None:
        fig.savefig(f, format="png")

    return atomic_write(path, write)


def _scatter(ax: Axes, x: Array, labels: Array) -> None:
    for value, colour in enumerate(CLASS_COLOURS):
        mask = labels.ravel() == value
        ax.scatter(
            x[mask, 0], x[mask, 1], s=9, c=colour, label=f"class {value}", linewidths=0
        )


def plot_predictions(
    path: str | os.PathLike[str], network: Network, x: Array, y: Array, title: str = ""
) -> Path:
    """Two scatter panels of the points ``x``: coloured by the label ``y``, and by the network's
    prediction (output > 0.5), with misclassified points ringed and the 0.5 contour drawn."""
    y_hat = network.forward(x)
    predicted = (y_hat > 0.5).astype(np.float64)
    wrong = (predicted != y).ravel()
    acc = 1.0 - float(np.mean(wrong))

    lo = np.minimum(x.min(axis=0), 0.0)
    hi = np.maximum(x.max(axis=0), 1.0)
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 201), np.linspace(lo[1], hi[1], 201))
    grid_out = network.forward(np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(gx.shape)

    fig = _new_figure(10, 5)
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    _scatter(axes[0], x, y)
    axes[0].set_title(f"ground truth (test set, n = {len(x)})")
    _scatter(axes[1], x, predicted)
    axes[1].scatter(
        x[wrong, 0], x[wrong, 1], s=40, facecolors="none", edgecolors="black",
        linewidths=0.8, label=f"wrong ({int(wrong.sum())})",
    )
    if np.isfinite(grid_out).all() and grid_out.min() < 0.5 < grid_out.max():
        axes[1].contour(gx, gy, grid_out, levels=[0.5], colors="black", linewidths=1.0)
        axes[1].plot([], [], color="black", linewidth=1.0, label="output = 0.5")
    axes[1].set_title(f"prediction (accuracy {100 * acc:.2f}%)")
    for ax in axes:
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_aspect("equal")
        ax.set_xlabel("x")
    axes[0].set_ylabel("y")
    fig.legend(*axes[1].get_legend_handles_labels(), loc="outside lower center", ncols=4)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def _epochs(n: int) -> Array:
    return np.arange(1, n + 1, dtype=np.float64)


def plot_loss(
    path: str | os.PathLike[str], loss: Sequence[float], loss_name: str = "", title: str = ""
) -> Path:
    """Training loss per epoch (mean per-sample loss); log scale when it spans over a decade."""
    values = np.asarray(loss, dtype=np.float64)
    fig = _new_figure(7, 4)
    ax = fig.subplots()
    ax.plot(_epochs(len(values)), values, color="#1f77b4", linewidth=1.2)
    if (len(values) and np.isfinite(values).all() and (values > 0).all()
            and values.max() > 10 * values.min()):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"training loss ({loss_name}, mean per sample)" if loss_name else "loss")
    ax.grid(True, alpha=0.3)
    heading = title or "training loss"
    if len(values):
        final = float(values[-1])
        heading += f" (final {final:.4g})" if math.isfinite(final) else " (diverged)"
    ax.set_title(heading)
    return _save(fig, path)


def plot_lr(path: str | os.PathLike[str], lr: Sequence[float], title: str = "") -> Path:
    """The learning rate used during each epoch (a step curve)."""
    values = np.asarray(lr, dtype=np.float64)
    fig = _new_figure(7, 3)
    ax = fig.subplots()
    ax.plot(_epochs(len(values)), values, color="#2ca02c", drawstyle="steps-post", linewidth=1.2)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.set_title(title or "learning rate per epoch")
    return _save(fig, path)


def write_plots(
    directory: str | os.PathLike[str],
    network: Network,
    data: Dataset,
    history: History,
    prefix: str = "",
    title: str = "",
    loss_name: str = "",
) -> list[Path]:
    """Write ``{prefix}predictions.png``, ``{prefix}loss.png``, ``{prefix}lr.png`` into
    ``directory`` (created if needed; ``handnet.plotnames.PLOT_FILES``); return their paths."""
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot create plot directory {out}: {exc.strerror or exc}") from None
    suffix = f" — {title}" if title else ""
    predictions, loss, lr = (out / f"{prefix}{name}" for name in PLOT_FILES)
    return [
        plot_predictions(predictions, network, data.x_test, data.y_test, title=title),
        plot_loss(loss, history.loss, loss_name, title=f"training loss{suffix}"),
        plot_lr(lr, history.lr, title=f"learning rate{suffix}"),
    ]
