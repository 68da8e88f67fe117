"""``handnet train`` end to end: the JSON report, output files, and one-line errors (exit 2)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from handnet import Config, accuracy, build, fast
from handnet.checkpoint import load, save
from handnet.cli import build_parser, main
from handnet.commands.train import config_from_args

TINY = ["--epochs", "2", "--n-train", "50", "--n-test", "50", "--hidden", "4"]
REPO = Path(__file__).resolve().parents[1]


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``handnet *argv`` in this process; (exit code, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own exits (--help, usage errors)
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def tiny_config(**overrides: Any) -> Config:
    """The Config that ``train *TINY`` describes (with overrides)."""
    fields: dict[str, Any] = {"epochs": 2, "n_train": 50, "n_test": 50, "hidden": (4,)}
    fields.update(overrides)
    return Config(**fields)


def trained_in_process(config: Config) -> Any:
    """What ``handnet train`` does with the default engine (compiled where available)."""
    run = build(config)
    fast.train(run)
    return run


# --- configuration from flags -----------------------------------------------------------------

def test_defaults_are_the_seed_configuration() -> None:
    args = build_parser().parse_args(["train"])
    assert config_from_args(args) == Config()


def test_every_flag_reaches_the_config() -> None:
    args = build_parser().parse_args([
        "train", "--dataset", "xor-easy", "--optimizer", "momentum", "--momentum-style", "torch",
        "--momentum", "0.5", "--bias-momentum", "--nesterov", "--weight-decay", "0.001",
        "--epochs", "7", "--batch-size", "0", "--lr", "0.2", "--lr-epoch", "3",
        "--lr-gamma", "0.25", "--hidden", "8,6", "--activation", "relu, tanh ,sigmoid",
        "--loss", "bce", "--init", "glorot", "--shuffle", "--seed", "11", "--n-train", "12",
        "--n-test", "13", "--print-interval", "5",
    ])
    assert config_from_args(args) == Config(
        dataset="xor-easy", optimizer="momentum", momentum_style="torch", momentum=0.5,
        bias_momentum=True, nesterov=True, weight_decay=0.001, epochs=7, batch_size=0, lr=0.2,
        lr_epoch=3, lr_gamma=0.25, hidden=(8, 6), activation=("relu", "tanh", "sigmoid"),
        loss="bce", init="glorot", shuffle=True, seed=11, n_train=12, n_test=13,
        print_interval=5,
    )


# --- the JSON report --------------------------------------------------------------------------

def test_json_report_fields_and_ranges(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "report.json"
    start = time.perf_counter()
    code, out, err = cli(capsys, "train", "--dataset", "linear", *TINY, "--json", str(path),
                         "--quiet")
    elapsed = time.perf_counter() - start
    assert (code, out, err) == (0, "", "")
    report = json.loads(path.read_text())
    for key in ("dataset", "optimizer", "epochs", "seed", "train_accuracy", "test_accuracy",
                "final_loss", "seconds", "config", "history"):
        assert key in report, key
    assert (report["dataset"], report["optimizer"], report["epochs"], report["seed"]) == (
        "linear", "momentum", 2, 0)
    assert 0 < report["seconds"] <= elapsed  # seconds, of the training inside the command
    assert Config.from_dict(report["config"]) == tiny_config(dataset="linear")
    history = report["history"]
    assert [len(history[k]) for k in ("loss", "train_accuracy", "lr")] == [2, 2, 2]
    assert report["final_loss"] == history["loss"][-1]
    assert history["lr"] == [0.01, 0.01]
    # The same configuration trained here gives the same figures.
    run = trained_in_process(tiny_config(dataset="linear"))
    assert report["test_accuracy"] == accuracy(run.network, run.data.x_test, run.data.y_test)
    assert report["train_accuracy"] == run.history.train_accuracy[-1]
    assert history["loss"] == run.history.loss


def test_json_to_stdout_holds_only_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "train", *TINY, "--print-interval", "1", "--json", "-")
    assert code == 0 and err == ""
    report = json.loads(out)  # the whole of stdout is one JSON document
    assert report["epochs"] == 2
    assert out.count("\n") == 1


def test_lr_schedule_in_history(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "train", *TINY[2:], "--epochs", "5", "--lr-epoch", "2",
                       "--lr", "0.1", "--json", "-")
    lr = json.loads(out)["history"]["lr"]
    assert code == 0
    assert lr == [0.1, 0.1, 0.1 * 0.5, 0.1 * 0.5, 0.1 * 0.5 * 0.5]


def test_diverged_run_still_gives_strict_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "train", *TINY, "--activation", "identity", "--loss", "mse",
                         "--batch-size", "0", "--lr", "1e300", "--json", "-")
    assert code == 0
    report = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert report["final_loss"] is None
    assert err.count("\n") == 1 and "diverged" in err  # one warning line, not NumPy's


def test_progress_lines_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "train", *TINY[2:], "--epochs", "5", "--print-interval", "2")
    lines = out.splitlines()
    assert code == 0 and err == ""
    assert [line.split()[1] for line in lines[:3]] == ["2/5", "4/5", "5/5"]
    for line in lines[:3]:
        assert "loss" in line and "train acc" in line and "lr" in line
    assert "test accuracy" in lines[-1]


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for extra, expect_bar in ((["--print-interval", "1"], True), (["--quiet"], False),
                              (["--json", "-"], False)):
        fake = Terminal()
        monkeypatch.setattr(sys, "stderr", fake)
        code, out, _ = cli(capsys, "train", *TINY, *extra)
        assert code == 0
        assert ("epoch" in fake.getvalue()) == expect_bar, extra
        if expect_bar:
            assert "epoch 2/2" in out


# --- output files -----------------------------------------------------------------------------

def test_save_then_load_gives_the_runs_weights(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "w.npz"
    code, out, _ = cli(capsys, "train", "--dataset", "xor", *TINY, "--save", str(path),
                       "--json", "-")
    assert code == 0
    report = json.loads(out)
    network, config = load(path)
    assert config == tiny_config(dataset="xor")
    expected = trained_in_process(config).network
    for name, p in expected.parameters.items():
        assert network.parameters[name].tobytes() == p.tobytes(), name
    data = build(config).data
    assert report["test_accuracy"] == accuracy(network, data.x_test, data.y_test)
    assert report["checkpoint"] == str(path)


def test_init_from_continues_from_the_saved_weights(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    assert cli(capsys, "train", *TINY, "--save", str(first), "--quiet")[0] == 0
    assert cli(capsys, "train", *TINY, "--init-from", str(first), "--save", str(second),
               "--quiet")[0] == 0
    run = build(tiny_config())
    run.network = load(first)[0]
    fast.train(run)
    got = load(second)[0]
    for name, p in run.network.parameters.items():
        assert got.parameters[name].tobytes() == p.tobytes(), name


def test_plot_writes_pngs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "plots" / "deeper"
    code, _, _ = cli(capsys, "train", *TINY, "--plot", str(out_dir), "--quiet")
    assert code == 0
    for name in ("predictions", "loss", "lr"):
        data = (out_dir / f"{name}.png").read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000


# --- bad input: one line on stderr, exit code 2 -----------------------------------------------

def _bad_files(tmp_path: Path) -> dict[str, str]:
    a_file = tmp_path / "a_file"
    a_file.write_text("not a directory\n")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 but then nothing useful")
    other = tmp_path / "other.npz"
    config = Config(hidden=(3,), epochs=1)
    save(other, build(config).network, config)
    return {"FILE": str(a_file), "DIR": str(tmp_path), "CORRUPT": str(corrupt),
            "OTHER": str(other), "MISSING": str(tmp_path / "missing" / "x")}


BAD_INPUTS = [
    ["--dataset", "moons"],
    ["--optimizer", "nadam"],
    ["--optimizer", "sgd", "--betas", "0.9", "0.999"],
    ["--optimizer", "adam", "--betas", "0.9", "1.0"],
    ["--optimizer", "adam", "--momentum", "0.5"],
    ["--optimizer", "adam", "--nesterov"],
    ["--optimizer", "rmsprop", "--amsgrad"],
    ["--optimizer", "adagrad", "--centered"],
    ["--optimizer", "adam", "--eps", "-1"],
    ["--optimizer", "adagrad", "--lr-decay", "-0.1"],
    ["--schedule", "cosine"],
    ["--schedule", "cosine", "--t-max", "0"],
    ["--schedule", "exponential"],
    ["--schedule", "multistep"],
    ["--schedule", "multistep", "--milestones", "0", "3"],
    ["--schedule", "linear", "--start-factor", "0"],
    ["--schedule", "step", "--t-max", "5"],
    ["--schedule", "cosine", "--t-max", "5", "--gamma", "0.5"],
    ["--schedule", "cosine", "--t-max", "5", "--lr-gamma", "0.5"],
    ["--schedule-per", "batch"],
    ["--activation", "foo"],
    ["--activation", "relu,,sigmoid"],
    ["--hidden", "4,4", "--activation", "relu,sigmoid"],
    ["--hidden", "10,x"],
    ["--hidden", ""],
    ["--hidden", "0"],
    ["--hidden", "10,-5"],
    ["--hidden", "1.5"],
    ["--epochs", "0"],
    ["--epochs", "-3"],
    ["--epochs", "abc"],
    ["--lr", "-1"],
    ["--lr", "0"],
    ["--lr", "nan"],
    ["--lr", "inf"],
    ["--momentum", "1.5"],
    ["--weight-decay", "-0.1"],
    ["--lr-gamma", "1"],
    ["--batch-size", "-1"],
    ["--seed", "-1"],
    ["--n-train", "0"],
    ["--print-interval", "-1"],
    ["--colour", "red"],
    ["--save", "{MISSING}"],
    ["--save", "{DIR}"],
    ["--json", "{MISSING}"],
    ["--plot", "{FILE}"],
    ["--plot", "{FILE}/sub"],
    ["--init-from", "{MISSING}"],
    ["--init-from", "{FILE}"],
    ["--init-from", "{CORRUPT}"],
    ["--init-from", "{OTHER}"],
]


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=lambda b: " ".join(b))
def test_bad_input_is_one_line_and_exit_2(bad: list[str], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    files = _bad_files(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = [a.format(**files) for a in bad]
    code, out, err = cli(capsys, "train", *TINY[:6], *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("handnet") and "error" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing half written


def test_bad_input_messages_name_the_problem(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    files = _bad_files(tmp_path)
    cases = {
        ("--hidden", "10,x"): "--hidden",
        ("--activation", "foo"): "'foo'",
        ("--epochs", "0"): "epochs",
        ("--lr", "-1"): "--lr",
        ("--dataset", "moons"): "moons",
        ("--momentum", "1.5"): "--momentum must",
        ("--n-train", "0"): "--n-train must",
        ("--batch-size", "-2"): "--batch-size must",
        ("--save", files["MISSING"]): "does not exist",
        ("--init-from", files["CORRUPT"]): files["CORRUPT"],
        ("--init-from", files["OTHER"]): "[2, 3, 1]",
    }
    for argv, word in cases.items():
        _, _, err = cli(capsys, "train", *TINY, *argv)
        assert word in err, (argv, err)


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys)
    assert code == 2 and out == "" and err.count("\n") == 1


def test_python_m_handnet_help() -> None:
    result = subprocess.run([sys.executable, "-m", "handnet", "--help"], capture_output=True,
                            text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "train" in result.stdout and "demo" in result.stdout
    assert result.stderr == ""


def test_train_help_names_the_seed_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "train", "--help")
    assert code == 0
    flat = " ".join(out.split())
    for flag in ("--dataset", "--optimizer", "--momentum-style", "--momentum", "--bias-momentum",
                 "--nesterov", "--weight-decay", "--epochs", "--batch-size", "--lr",
                 "--lr-epoch", "--lr-gamma", "--hidden", "--activation", "--loss", "--init",
                 "--shuffle", "--seed", "--n-train", "--n-test", "--print-interval", "--plot",
                 "--save", "--json", "--quiet"):
        assert flag in flat, flag
    for seed_value in ("100,50,10", "seed: 6000", "seed: 0.01", "seed: 0.9", "seed: 1500",
                       "seed: sigmoid", "seed: half-sse", "seed: normal"):
        assert seed_value in flat, seed_value


def test_float32_checkpoint_dtype_survives_the_cli(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # --init-from refuses weights of another dtype instead of silently mixing precisions.
    config = tiny_config()
    run = build(config)
    net32 = run.network.copy()
    for layer in net32.layers:
        for key in ("W", "b"):
            layer.parameters[key] = layer.parameters[key].astype(np.float32)
    path = save(tmp_path / "f32.npz", net32, config)
    code, _, err = cli(capsys, "train", *TINY, "--init-from", str(path))
    assert code == 2 and "float32" in err


def test_shadow_reports_the_twin_deviation_per_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    # A shortened seed run (seed network and optimiser, fewer points and epochs) with the twin
    # in lockstep: every epoch is recorded and stays within the tolerance policy.
    code, out, _ = cli(capsys, "train", "--dataset", "chessboard", "--epochs", "3",
                       "--n-train", "40", "--n-test", "40", "--shadow", "--json", "-")
    assert code == 0
    shadow = json.loads(out)["shadow"]
    assert [r["epoch"] for r in shadow["epochs"]] == [0, 1, 2]
    assert all(r["within_tolerance"] for r in shadow["epochs"])
    assert shadow["summary"]["every_epoch_predictions_agree"] is True


# --- engines ----------------------------------------------------------------------------------

def _count_compiled_epochs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record every epoch the compiled path trains (the plain path never calls it)."""
    calls: list[int] = []
    compiled_epoch = fast.train_epoch_fast

    def counted(run, epoch, order):  # type: ignore[no-untyped-def]
        calls.append(epoch)
        compiled_epoch(run, epoch, order)

    monkeypatch.setattr(fast, "train_epoch_fast", counted)
    return calls


@pytest.mark.skipif(not fast.available(), reason="no compiled engine to compare the plain "
                    "engine with (numba missing)")
@pytest.mark.parametrize("batch", ["1", "10", "0"])
def test_engines_train_the_same_network(batch: str, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_compiled_epochs(monkeypatch)
    reports = {}
    for engine, epochs_compiled in (("plain", []), ("compiled", [0, 1])):
        code, out, _ = cli(capsys, "train", *TINY, "--batch-size", batch, "--engine", engine,
                           "--json", "-")
        assert code == 0
        reports[engine] = json.loads(out)
        assert reports[engine]["engine"] == engine
        assert calls == epochs_compiled  # the engine named is the engine that trained
    plain, compiled = reports["plain"], reports["compiled"]
    assert compiled["test_accuracy"] == plain["test_accuracy"]
    assert compiled["final_loss"] == pytest.approx(plain["final_loss"], rel=1e-12)


@pytest.mark.skipif(not fast.available(), reason="numba missing: auto has one choice")
def test_auto_engine_is_compiled_where_available(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_compiled_epochs(monkeypatch)
    code, out, _ = cli(capsys, "train", *TINY, "--json", "-")
    assert code == 0
    assert json.loads(out)["engine"] == "compiled" and calls == [0, 1]


def test_auto_engine_is_plain_without_numba(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_compiled_epochs(monkeypatch)
    monkeypatch.setattr(fast, "available", lambda: False)
    code, out, _ = cli(capsys, "train", *TINY, "--json", "-")
    assert code == 0
    assert json.loads(out)["engine"] == "plain" and calls == []


def test_compiled_engine_unavailable_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(fast, "available", lambda: False)
    monkeypatch.setattr(fast, "why_unavailable", lambda: "numba is not importable: test")
    code, out, err = cli(capsys, "train", *TINY, "--engine", "compiled")
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "--engine compiled" in err and "numba" in err


def test_k_class_spirals_with_softmax_ce_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """3 spirals, softmax cross-entropy: 3 identity outputs, argmax accuracy, plots, JSON."""
    out_dir = tmp_path / "plots"
    code, out, err = cli(capsys, "train", *TINY, "--dataset", "spirals", "--classes", "3",
                         "--loss", "softmax-ce", "--activation", "tanh", "--batch-size", "10",
                         "--lr", "0.1", "--plot", str(out_dir), "--json", "-")
    assert code == 0, err
    report = json.loads(out)
    assert report["sizes"] == [2, 4, 3] and report["engine"] == "plain"
    assert report["config"]["classes"] == 3 and report["config"]["loss"] == "softmax-ce"
    # argmax accuracy over 50 points: a multiple of 1/50 in [0, 1]
    assert 0 <= report["test_accuracy"] <= 1 and (report["test_accuracy"] * 50) % 1 == 0
    assert np.isfinite(report["final_loss"])
    for name in ("predictions", "loss", "lr"):
        assert (out_dir / f"{name}.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(("argv", "message"), [
    (["--dataset", "xor", "--classes", "3"], "--classes must be 2 for data set 'xor' (got 3)"),
    (["--activation", "softmax"], "--activation softmax normalises a whole layer"),
    (["--loss", "ce", "--activation", "tanh,relu"], "must be softmax, got relu"),
    (["--loss", "softmax-ce", "--engine", "compiled"], "--engine compiled: the compiled path "
                                                       "cannot train this run"),
])
def test_bad_class_options_are_one_line(capsys: pytest.CaptureFixture[str], argv: list[str],
                                        message: str) -> None:
    code, _, err = cli(capsys, "train", *TINY, *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
