"""``handnet check --plot DIR``: a picture of each wrong parameter.

For every parameter at fault (root causes and consequences), at its worst step, three heat maps
side by side in the canonical layout (``W``: rows are the layer's inputs, columns its outputs,
as in ``x @ W``; ``b``: one row): the twin's value (the expected gradient, or update / lr), yours,
and the error ``yours - expected`` on a colour scale centred at 0.  The shape of the error is the
diagnosis at a glance: a transpose is an error mirrored across the diagonal, a bias reduced over
the wrong axis a striped row, one wrong unit a single column, a constant factor a copy of the
expected map.  One PNG per parameter, ``{canonical}-{your name}.png``, written atomically
(``handnet.atomic``) with matplotlib's Agg canvas (no display).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from handnet.atomic import atomic_write
from reference.checker.report import short_labels

if TYPE_CHECKING:
    from reference.checker.report import ParameterResult, Report


def file_name(p: ParameterResult) -> str:
    """``W1-self.W2.png``: the canonical name keeps names unique, the user's says which."""
    mine = re.sub(r"[^A-Za-z0-9_.-]+", "_", p.name).strip("_.") or "parameter"
    return f"{p.canonical}-{mine}.png"


def _heat(fig: Any, ax: Any, values: np.ndarray, title: str, centred: bool) -> None:
    finite = values[np.isfinite(values)]
    if centred:
        limit = float(np.max(np.abs(finite))) if finite.size else 1.0
        image = ax.imshow(values, cmap="RdBu_r", vmin=-limit or -1.0, vmax=limit or 1.0,
                          aspect="auto", interpolation="nearest")
    else:
        image = ax.imshow(values, cmap="viridis", aspect="auto", interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("output unit")
    ax.set_ylabel("input unit" if values.shape[0] > 1 else "")
    fig.colorbar(image, ax=ax, shrink=0.85)


def plot_parameter(path: Path, p: ParameterResult, style: str) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    assert p.arrays is not None and p.worst is not None
    actual, expected = (np.atleast_2d(np.asarray(a, dtype=np.float64)) for a in p.arrays)
    what = "gradient" if style == "gradient" else "update / lr"
    fig = Figure(figsize=(13, 4.2), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    _heat(fig, axes[0], expected, f"expected {what} (the twin)", centred=True)
    _heat(fig, axes[1], actual, f"your {what}", centred=True)
    with np.errstate(invalid="ignore", over="ignore"):
        _heat(fig, axes[2], actual - expected,
              f"error: yours - expected ({p.worst.mismatched} of {p.worst.total} over "
              f"tolerance)", centred=True)
    verdict = ("follows from another parameter" if p.consequence
               else ", ".join(short_labels(p.patterns)) or "wrong")
    fig.suptitle(f"{p.name} ({p.canonical}, shape {expected.shape[0]} x {expected.shape[1]} "
                 f"as x @ W), step {p.worst.step}: {verdict}", fontsize=11)

    def write(f: BinaryIO) -> None:
        fig.savefig(f, format="png")

    return atomic_write(path, write)


def write_check_plots(report: Report, directory: str) -> list[Path]:
    """One PNG per wrong parameter (see the module docstring); returns their paths."""
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot create plot directory {out}: {exc.strerror or exc}") from None
    return [plot_parameter(out / file_name(p), p, p.style) for p in report.parameters
            if not p.ok and p.arrays is not None and p.worst is not None]
