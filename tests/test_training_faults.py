"""Training faults are said, not reported as results: NaN/inf data refused by the Python API,
accuracy NaN on NaN weights, a diverged run marked in the JSON and warned about under --quiet,
a run stuck in saturation (lr 1e6) warned about, bce after a non-sigmoid output refused, and
--engine plain never loading numba."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from support import exactly

from handnet import cli
from handnet.config import Config
from handnet.health import assess
from handnet.train import accuracy, build, train

SMALL = ["--n-train", "50", "--n-test", "50", "--quiet"]


@pytest.mark.parametrize("name, value", [("x_train", np.nan), ("y_train", np.inf),
                                         ("x_test", -np.inf)])
def test_non_finite_data_is_refused_by_the_python_api(name: str, value: float) -> None:
    run = build(Config(hidden=(3,), epochs=1, n_train=8, n_test=8))
    getattr(run.data, name)[2, 0] = value
    before = {k: v.copy() for k, v in run.network.parameters.items()}
    with pytest.raises(ValueError, match=exactly(
            f"the data's {name} holds 1 NaN or infinite value(s), the first at (2, 0): clean "
            "the data before training")):
        train(run)
    assert all(np.array_equal(before[k], v) for k, v in run.network.parameters.items())


def test_accuracy_of_nan_weights_is_nan_not_a_figure() -> None:
    run = build(Config(hidden=(3,), epochs=1, n_train=8, n_test=8))
    run.network.parameters["W0"][...] = np.nan
    # Before: NaN > 0.5 is False, so every point counted as class 0 (about half right).
    assert math.isnan(accuracy(run.network, run.data.x_test, run.data.y_test))


def test_accuracy_of_an_overflowing_network_is_nan_without_a_warning() -> None:
    """A diverged run's weights overflow the forward pass (inf - inf in the matmul): accuracy
    says NaN quietly, as ``handnet train`` reports a diverged run (the suite turns warnings into
    errors, so a forward that warned would fail here)."""
    run = build(Config(hidden=(3,), activation=("identity", "identity"), loss="mse", epochs=1,
                       n_train=8, n_test=8))
    run.network.parameters["W0"][...] = 1e300
    run.network.parameters["W1"][...] = 1e300
    run.network.parameters["W1"][0, :] = -1e300
    assert math.isnan(accuracy(run.network, run.data.x_test, run.data.y_test))


def _train(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
           ) -> tuple[dict, list[str]]:
    out = tmp_path / "r.json"
    assert cli.main(["train", *argv, *SMALL, "--json", str(out)]) == 0
    return json.loads(out.read_text()), capsys.readouterr().err.strip().splitlines()


def test_a_diverged_run_is_marked_and_warned_about_under_quiet(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, err = _train(["--activation", "identity", "--hidden", "4", "--lr", "10",
                          "--epochs", "5"], tmp_path, capsys)
    assert report["diverged"] is True and report["health"]["diverged_at_epoch"] == 1
    assert report["test_accuracy"] is None  # NaN, as strict JSON
    assert len(err) == 1 and "not finite from epoch 1" in err[0]
    assert report["warnings"] == [err[0].removeprefix("handnet: warning: ")]


def test_a_run_stuck_in_saturation_is_warned_about(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    report, err = _train(["--lr", "1e6", "--epochs", "3"], tmp_path, capsys)
    health = report["health"]
    assert health["stuck"] and health["constant_prediction"] and health["saturated"][-1] >= 0.99
    assert report["diverged"] is False
    assert len(err) == 1 and "stuck" in err[0] and "1e+06" in err[0]


def test_a_healthy_run_has_no_warning(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    report, err = _train(["--epochs", "3"], tmp_path, capsys)
    assert err == [] and report["warnings"] == [] and not report["health"]["stuck"]


def test_assess_measures_saturation_per_layer() -> None:
    run = build(Config(hidden=(3,), activation=("relu", "sigmoid"), epochs=1, n_train=8,
                       n_test=8))
    run.network.parameters["W1"][...] = 1e6  # the sigmoid output pinned at 0 or 1
    health = assess(run)
    assert health.saturated[0] is None  # relu does not saturate
    assert health.saturated[1] == 1.0


def test_bce_after_a_non_sigmoid_output_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="loss 'bce' takes probabilities"):
        Config(loss="bce", activation=("sigmoid", "sigmoid", "sigmoid", "relu"))
    # one name for every layer: the output layer is the one the loss takes (sigmoid for bce)
    assert Config(loss="bce", activation="relu").activations[-1] == "sigmoid"
    assert cli.main(["train", "--loss", "bce", "--activation", "sigmoid,sigmoid,sigmoid,relu",
                     "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'relu'" in err[0]
    Config(loss="bce", activation=("relu", "relu", "relu", "sigmoid"))  # fine


def test_engine_plain_never_loads_numba(tmp_path: Path) -> None:
    code = ("import sys\nfrom handnet.cli import main\n"
            "assert main(['train', '--engine', 'plain', '--epochs', '1', '--n-train', '8', "
            "'--n-test', '8', '--quiet']) == 0\n"
            "print(sorted(m for m in sys.modules if m == 'numba' or m.startswith('numba.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_k_classes_predicted_apart_are_not_a_constant_prediction() -> None:
    """Three classes, every output below 0.5 but the largest in a different place for different
    points: predictions differ, so the run is not "one class everywhere" (before: each output
    compared with 0.5, all False, read as one class)."""
    run = build(Config(dataset="spirals", classes=3, hidden=(4,),
                       activation=("tanh", "softmax"), loss="ce", epochs=1, n_train=9, n_test=9))
    W, b = run.network.parameters["W1"], run.network.parameters["b1"]
    W[...] = 0.0
    b[...] = 0.0  # every output 1/3, then one class lifted per point through the hidden layer
    run.network.parameters["W0"][...] = 0.0
    run.network.parameters["b0"][...] = 0.0
    run.data.x_test[...] = 0.0
    health = assess(run)
    assert health.constant_prediction  # all outputs equal: argmax is class 0 everywhere
    run.network.parameters["W0"][...] = np.eye(2, 4)
    W[:2, :2] = np.array([[0.3, 0.0], [0.0, 0.3]])
    run.data.x_test[:] = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]] * 3)
    out = run.network.forward(run.data.x_test)
    assert np.all(out < 0.5) and len(np.unique(np.argmax(out, axis=1))) > 1
    assert not assess(run).constant_prediction
