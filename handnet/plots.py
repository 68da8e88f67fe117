"""PNG plots of a run: test-set ground truth beside the decision region (filled by the predicted
probability), training and test loss, training and test accuracy, the lr curve.

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

# label 0: blue, label 1: orange, then matplotlib's tab10 order for more classes
CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf")
PLOT_NAMES = tuple(name.removesuffix(".png") for name in PLOT_FILES)


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
    classes = max(2, int(labels.max()) + 1) if labels.size else 2
    for value in range(classes):
        colour = CLASS_COLOURS[value % len(CLASS_COLOURS)]
        mask = labels.ravel() == value
        ax.scatter(
            x[mask, 0], x[mask, 1], s=9, c=colour, label=f"class {value}", linewidths=0
        )


def plot_predictions(
    path: str | os.PathLike[str], network: Network, x: Array, y: Array, title: str = ""
) -> Path:
    """Two panels of the points ``x``: coloured by the label ``y``; and the prediction (output
    > 0.5, or the largest of K outputs; ``y`` a label column or one-hot rows) with misclassified
    points ringed -- for one output over the plane filled by the predicted probability of class
    1 with the 0.5 contour, for K outputs with the borders between the K classes' regions."""
    from handnet.data import labels_of
    from handnet.train import predicted_labels

    y_hat = network.forward(x)
    predicted = predicted_labels(y_hat)
    y = labels_of(y)
    wrong = (predicted != y).ravel()
    acc = 1.0 - float(np.mean(wrong))

    lo = np.minimum(x.min(axis=0), 0.0)
    hi = np.maximum(x.max(axis=0), 1.0)
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 201), np.linspace(lo[1], hi[1], 201))
    grid_y_hat = network.forward(np.stack([gx.ravel(), gy.ravel()], axis=1))
    n_out = grid_y_hat.shape[1]
    if n_out == 1:
        grid_out, level = grid_y_hat.reshape(gx.shape), 0.5
    else:  # class regions: a contour between consecutive labels draws every border
        grid_out = predicted_labels(grid_y_hat).reshape(gx.shape)
        level = None

    fig = _new_figure(10, 5)
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    _scatter(axes[0], x, y)
    axes[0].set_title(f"ground truth (test set, n = {len(x)})")
    if n_out == 1 and np.isfinite(grid_out).all():
        fill = axes[1].imshow(grid_out, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]),
                              cmap=_probability_map(), vmin=0.0, vmax=1.0, alpha=0.55,
                              interpolation="bilinear", aspect="auto")
        fig.colorbar(fill, ax=axes[1], shrink=0.8, label="predicted probability of class 1")
    _scatter(axes[1], x, predicted)
    axes[1].scatter(
        x[wrong, 0], x[wrong, 1], s=40, facecolors="none", edgecolors="black",
        linewidths=0.8, label=f"wrong ({int(wrong.sum())})",
    )
    if level is None and np.isfinite(grid_y_hat).all() and grid_out.min() < grid_out.max():
        axes[1].contour(gx, gy, grid_out, levels=np.arange(n_out - 1) + 0.5, colors="black",
                        linewidths=1.0)
        axes[1].plot([], [], color="black", linewidth=1.0, label="class border")
    elif level is not None and np.isfinite(grid_out).all() and (
            grid_out.min() < level < grid_out.max()):
        axes[1].contour(gx, gy, grid_out, levels=[level], colors="black", linewidths=1.0)
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


def _probability_map() -> object:
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("probability",
                                             [CLASS_COLOURS[0], "#ffffff", CLASS_COLOURS[1]])


def _epochs(n: int) -> Array:
    return np.arange(1, n + 1, dtype=np.float64)


def plot_loss(
    path: str | os.PathLike[str], loss: Sequence[float], loss_name: str = "", title: str = "",
    test_epochs: Sequence[int] = (), test_loss: Sequence[float] = (),
) -> Path:
    """Training loss per epoch (mean per-sample loss), and the test loss at ``test_epochs``;
    log scale when it spans over a decade."""
    values = np.asarray(loss, dtype=np.float64)
    fig = _new_figure(7, 4)
    ax = fig.subplots()
    ax.plot(_epochs(len(values)), values, color="#1f77b4", linewidth=1.2, label="training")
    tests = np.asarray(test_loss, dtype=np.float64)
    if len(tests):
        ax.plot(np.asarray(test_epochs), tests, color="#d62728", linewidth=1.2, label="test")
        ax.legend()
    both = np.concatenate([values, tests])
    if (len(values) and np.isfinite(both).all() and (both > 0).all()
            and both.max() > 10 * both.min()):
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


def plot_accuracy(path: str | os.PathLike[str], history: History, title: str = "") -> Path:
    """Training accuracy per epoch and test accuracy at the history's test epochs."""
    fig = _new_figure(7, 4)
    ax = fig.subplots()
    train = np.asarray(history.train_accuracy, dtype=np.float64)
    ax.plot(_epochs(len(train)), 100 * train, color="#1f77b4", linewidth=1.2, label="training")
    test = np.asarray(history.test_accuracy, dtype=np.float64)
    heading = title or "accuracy"
    if len(test):
        ax.plot(np.asarray(history.test_epochs), 100 * test, color="#d62728", linewidth=1.2,
                label="test")
        final = float(test[-1])
        heading += f" (final test {100 * final:.2f}%)" if math.isfinite(final) else ""
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
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
    """Write ``{prefix}predictions.png``, ``{prefix}loss.png``, ``{prefix}accuracy.png``,
    ``{prefix}lr.png`` into ``directory`` (created if needed; ``handnet.plotnames.PLOT_FILES``);
    return their paths."""
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot create plot directory {out}: {exc.strerror or exc}") from None
    suffix = f" — {title}" if title else ""
    predictions, loss, accuracy, lr = (out / f"{prefix}{name}" for name in PLOT_FILES)
    return [
        plot_predictions(predictions, network, data.x_test, data.y_test, title=title),
        plot_loss(loss, history.loss, loss_name, title=f"loss{suffix}",
                  test_epochs=history.test_epochs, test_loss=history.test_loss),
        plot_accuracy(accuracy, history, title=f"accuracy{suffix}"),
        plot_lr(lr, history.lr, title=f"learning rate{suffix}"),
    ]
