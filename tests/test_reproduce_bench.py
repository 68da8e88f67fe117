"""handnet reproduce and handnet bench: outputs, bad input, and handnet staying free of torch."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from support import THOROUGH_ONLY

import handnet.cli as cli
from handnet import Config, build, fast
from handnet.bench import CASES, fused_numpy_epoch, problem
from handnet.reproduce import SEED_ACCURACY, summarise
from handnet.train import train_epoch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def main(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """cli.main with just the commands under test registered."""
    monkeypatch.setattr(cli, "COMMANDS", ["reproduce", "bench"])
    return cli.main


def test_handnet_modules_do_not_import_torch() -> None:
    code = (
        "import sys, handnet, handnet.fast, handnet.bench, handnet.reproduce, "
        "handnet.commands.bench, handnet.commands.reproduce; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "False"


def test_no_torch_import_statement_anywhere_in_handnet() -> None:
    pattern = re.compile(r"^\s*(import\s+torch|from\s+torch\b)", re.MULTILINE)
    offenders = [str(p) for p in (ROOT / "handnet").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


@pytest.mark.parametrize("argv, flag", [
    (["reproduce", "--epochs", "0"], "--epochs"),
    (["reproduce", "--seeds", "0"], "--seeds"),
    (["reproduce", "--workers", "0"], "--workers"),
    (["reproduce", "--checkpoint", "-1"], "--checkpoint"),
    (["bench", "--cases", "nope"], "--cases"),
    (["bench", "--threads", "0"], "--threads"),
    (["bench", "--threads", "one"], "--threads"),
    (["bench", "--repeats", "0"], "--repeats"),
])
def test_bad_input_is_one_line_and_exit_2(main, capsys, argv, flag) -> None:  # type: ignore[no-untyped-def]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and flag in err and "Traceback" not in err


def test_reproduce_out_that_is_a_file(main, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["reproduce", "--epochs", "1", "--seeds", "1", "--out", str(target)]) == 2
    assert "--out" in capsys.readouterr().err


def test_bench_json_directory_missing(main, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["bench", "--json", str(tmp_path / "no" / "b.json")]) == 2
    assert "--json" in capsys.readouterr().err


def _reproduce(main, out: Path, *extra: str) -> dict:  # type: ignore[no-untyped-def]
    argv = ["reproduce", "--epochs", "3", "--seeds", "2", "--checkpoint", "2",
            "--out", str(out), *extra]
    assert main(argv) == 0
    return json.loads((out / "results.json").read_text())


def test_reproduce_writes_table_and_results(main, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    results = _reproduce(main, tmp_path, "--workers", "1")
    printed = capsys.readouterr().out
    assert len(results["runs"]) == 12 and len(results["cells"]) == 6
    assert len(re.findall(r"^\[\s*\d+/12\] ", printed, re.MULTILINE)) == 12  # one per run
    for run in results["runs"]:
        assert run["checkpoints"]["epoch"] == [2, 3]
        assert run["checkpoints"]["test_accuracy"][-1] == run["test_accuracy"]
    table = (tmp_path / "table.md").read_text()
    for cell in results["cells"]:
        accs = [100 * r["test_accuracy"] for r in results["runs"]
                if (r["optimizer"], r["dataset"]) == (cell["optimizer"], cell["dataset"])]
        assert cell["mean"] == pytest.approx(np.mean(accs))
        assert cell["std"] == pytest.approx(np.std(accs, ddof=1))
        assert cell["seed_figure"] == SEED_ACCURACY[(cell["optimizer"], cell["dataset"])]
        row = f"| {cell['optimizer']} | {cell['dataset']} | {cell['mean']:.2f} ± {cell['std']:.2f}"
        assert row in table
    assert not list(tmp_path.glob(".*.tmp"))


@THOROUGH_ONLY  # 30 training runs twice; test_fast_grid keeps the engines' equality in make test
def test_reproduce_plain_and_fast_agree_across_workers(main, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("numba", reason="the fast path needs numba")
    fast_runs = _reproduce(main, tmp_path / "fast", "--workers", "2")["runs"]
    plain_runs = _reproduce(main, tmp_path / "plain", "--workers", "1", "--plain")["runs"]
    assert {r["engine"] for r in fast_runs} == {"fast"}
    assert {r["engine"] for r in plain_runs} == {"plain"}
    key = lambda r: (r["optimizer"], r["dataset"], r["seed"])  # noqa: E731
    for f, p in zip(sorted(fast_runs, key=key), sorted(plain_runs, key=key), strict=True):
        assert key(f) == key(p)
        assert f["test_accuracy"] == p["test_accuracy"]
        assert f["final_loss"] == pytest.approx(p["final_loss"], rel=1e-12)


def test_summarise_sample_std() -> None:
    runs = [{"dataset": "xor", "optimizer": "sgd", "seed": s, "test_accuracy": a}
            for s, a in enumerate([0.9, 0.8, 1.0])]
    (cell,) = summarise(runs)
    assert cell["mean"] == pytest.approx(90.0)
    assert cell["std"] == pytest.approx(10.0)
    assert cell["difference"] == pytest.approx(90.0 - 96.58)


def test_fused_baseline_is_the_seed_step() -> None:
    """The fused NumPy baseline does the same work as handnet's per-sample seed step."""
    n = 40
    net, x, y = problem(CASES["per-sample"])
    Ws = [layer.parameters["W"].copy() for layer in net.layers]
    bs = [layer.parameters["b"].copy() for layer in net.layers]
    fused_numpy_epoch(Ws, bs, [np.zeros_like(W) for W in Ws], x[:n], y[:n], 1e-2, 0.9)
    run = build(Config(dataset="chessboard", optimizer="momentum", n_train=1000, n_test=1))
    for i, layer in enumerate(run.network.layers):  # the same start and data as problem()
        layer.parameters["W"][...] = net.layers[i].parameters["W"]
        layer.parameters["b"][...] = net.layers[i].parameters["b"]
    run.data = type(run.data)("chessboard", x, y, x, y)
    train_epoch(run, 0, np.arange(n))
    for i, layer in enumerate(run.network.layers):
        np.testing.assert_allclose(layer.parameters["W"], Ws[i], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.parameters["b"], bs[i], rtol=1e-12, atol=1e-14)


def test_bench_json_to_stdout_without_torch(main, capsys) -> None:  # type: ignore[no-untyped-def]
    argv = ["bench", "--cases", "full-batch-1000", "--threads", "1", "--repeats", "1",
            "--no-torch", "--json", "-"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    (row,) = result["cases"]
    assert row["name"] == "full-batch-1000" and row["threads"] == 1
    assert row["handnet_us"] > 0 and row["torch_us"] is None and row["ratio"] is None
    assert result["machine"]["nproc"] >= 1
    assert "full-batch-1000" in captured.err  # the table goes to stderr


def test_bench_with_torch_ratio(main, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    path = tmp_path / "bench.json"
    argv = ["bench", "--cases", "full-batch-1000", "--threads", "1", "--repeats", "1",
            "--json", str(path)]
    assert main(argv) == 0
    (row,) = json.loads(path.read_text())["cases"]
    # the figures' arithmetic is pinned with chosen timings below; here the real timers ran
    assert all(row[k] > 0 for k in ("torch_us", "handnet_us", "handnet_plain_us",
                                    "blas_floor_us", "ratio", "floor_ratio"))


def test_bench_row_figures_from_chosen_timings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Medians over the repeats and the ratios, from timings chosen here (3 repeats)."""
    from handnet import bench

    def timer(*values: float):  # type: ignore[no-untyped-def]
        it = iter(values)
        return lambda: next(it)

    timers = {"handnet_us": timer(300.0, 900.0, 330.0),  # median 330
              "handnet_plain_us": timer(500.0, 400.0, 450.0),  # median 450
              "blas_floor_us": timer(60.0, 66.0, 600.0)}  # median 66
    monkeypatch.setattr(bench, "_handnet_timers", lambda case: (timers, "fast"))
    torch_times = timer(110.0, 120.0, 100.0)  # median 110
    (row,) = bench.run_bench(["full-batch-1000"], [1], 3, lambda name, t: torch_times)
    assert row == {"name": "full-batch-1000", "threads": 1, "handnet_engine": "fast",
                   "handnet_us": 330.0, "handnet_plain_us": 450.0, "blas_floor_us": 66.0,
                   "torch_us": 110.0,
                   "ratio": 3.0,  # 330 / 110
                   "floor_ratio": 0.6}  # 66 / 110


@pytest.mark.parametrize("name", ["full-batch-1000", "per-sample"])
def test_bench_engine_is_the_path_timed(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine a row names is the one its block runs (the compiled entry points recorded,
    not run)."""
    from handnet import bench

    calls: list[str] = []
    monkeypatch.setattr(fast, "train_epoch_fast", lambda *args: calls.append("epoch"))
    monkeypatch.setattr(fast, "train_step", lambda *args: calls.append("step"))
    if fast.available():
        block, engine = bench.handnet_step(CASES[name])
        block()
        assert engine == "fast" and calls
    calls.clear()
    monkeypatch.setattr(fast, "available", lambda: False)
    block, engine = bench.handnet_step(CASES[name])
    block()
    assert engine == "plain" and calls == []


def test_torch_bench_model_is_handnets_network() -> None:
    torch = pytest.importorskip("torch")
    from reference.experiments.bench import build_model

    case = CASES["full-batch-1000"]
    model, x, _ = build_model(case)
    net, xn, _ = problem(case)
    with torch.no_grad():
        theirs = model(x).numpy()
    np.testing.assert_allclose(theirs, net.forward(xn), rtol=1e-12, atol=1e-15)
