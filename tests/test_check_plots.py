"""``handnet check --plot DIR``: one picture per wrong parameter (expected, yours, the error),
from the arrays of its worst step; nothing for a match."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from handnet import cli
from handnet.adapter import Adapter, Layer
from reference import check
from reference.checker.guard import check_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_a_mismatch_gets_a_picture_per_wrong_parameter(tmp_path: Path) -> None:
    out = tmp_path / "plots"
    outcome = check_file([str(EXAMPLES / "gradient_dict" / "adapter.py"), "--plot", str(out)])
    assert outcome.verdict == "mismatch"
    paths = [Path(p) for p in outcome.data["plots"]]
    wrong = [p["name"] for p in outcome.data["parameters"] if not p["ok"]]
    assert len(paths) == len(wrong) == 4
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    assert "W1-params_W2.png" in [p.name for p in paths]
    for p in paths:
        _png(p)
    assert "plots of the wrong parameters: " in outcome.text
    schema = json.loads(files("reference.checker").joinpath("report.schema.json").read_text())
    jsonschema.validate(outcome.data, schema)


def test_a_match_writes_no_picture(tmp_path: Path) -> None:
    out = tmp_path / "plots"
    outcome = check_file([str(EXAMPLES / "per_sample" / "adapter_fixed.py"), "--plot",
                          str(out)])
    assert outcome.verdict == "match" and "plots" not in outcome.data
    assert not out.exists() or list(out.iterdir()) == []


class OneUnit:
    """x @ W + b with half-sse; the gradient of W's output column 1 doubled: one wrong unit."""

    def __init__(self) -> None:
        rng = np.random.default_rng(5)
        self.W, self.b = rng.standard_normal((3, 4)), rng.standard_normal((1, 4))

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x @ self.W + self.b

    def gradients(self, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        d = self.forward(x) - y
        gW = x.T @ d
        gW[:, 1] *= 2
        return {"W": gW, "b": d.sum(axis=0, keepdims=True)}


def test_the_picture_shows_the_wrong_unit_alone() -> None:
    def adapter() -> Adapter:
        net = OneUnit()
        return Adapter(network=net, layers=[Layer("W", "b", "identity")], loss="half-sse",
                       forward=net.forward, gradients=net.gradients)

    report = check(adapter)
    (w,) = report.wrong
    assert w.arrays is not None
    actual, expected = w.arrays
    error = np.abs(actual - expected)
    scale = np.max(np.abs(expected))
    assert np.all(error[:, 1] > 1e-3 * scale)  # the wrong unit ...
    assert np.all(error[:, [0, 2, 3]] < 1e-12 * scale)  # ... alone (rounding elsewhere)


def test_plot_onto_a_file_is_refused_before_the_check(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "f"
    target.write_text("x")
    assert cli.main(["check", str(EXAMPLES / "per_sample" / "adapter.py"), "--plot",
                     str(target)]) == 2
    assert "not a directory" in capsys.readouterr().err
