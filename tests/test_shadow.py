"""The shadow: the twin trained in lockstep with a handnet run, deviations recorded per epoch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from support import exactly

from handnet.config import Config
from handnet.train import Indices, Run, build, epoch_order, record, train, train_epoch
from reference.comparison.compare import assert_matches_reference
from reference.experiments import resync
from reference.experiments.resync import (
    DEFAULT_CHECKPOINTS,
    checkpoints_for,
    free_running,
    resync_run,
)
from reference.experiments.seed_run import main as seed_run
from reference.experiments.shadow import shadow
from reference.twin.network import copy_into, handnet_parameters
from reference.twin.optim import twin_buffers
from reference.twin.schedule import current_lr
from reference.twin.train import TwinRun, build_twin, run_epoch, twin_from_state


def test_shadow_records_every_epoch_within_the_policy() -> None:
    config = Config(dataset="xor", epochs=3, n_train=30, n_test=20, hidden=(8, 4), seed=3,
                    shuffle=True)
    run = build(config)
    callback = shadow(run)
    train(run, callback)
    assert [r["epoch"] for r in callback.records] == [0, 1, 2]
    for rec in callback.records:
        assert rec["within_tolerance"] and rec["test_predictions_agree"]
        assert rec["max_rel_weight_diff"] < 1e-10
    summary = callback.summary()
    assert summary["epochs"] == 3 and summary["every_epoch_predictions_agree"]
    json.dumps({"records": callback.records, "summary": summary}, allow_nan=False)


def test_shadow_measures_a_planted_deviation() -> None:
    """handnet's W0[0, 0] moved by 2**-20 after epoch 1: that epoch's record shows the move
    (absolute, and relative to max|W0|), names W0 and is out of tolerance; epoch 0 is not."""
    config = Config(dataset="xor", epochs=2, n_train=30, n_test=20, hidden=(8, 4), seed=3)
    run = build(config)
    inner = shadow(run)
    delta = 2.0**-20
    scale: list[float] = []

    def callback(epoch: int, order: Indices, run: Run) -> None:
        if epoch == 1:
            W0 = run.network.parameters["W0"]
            scale.append(float(np.max(np.abs(W0))))
            W0[0, 0] += delta
        inner(epoch, order, run)

    train(run, callback)
    first, second = inner.records
    assert first["within_tolerance"] and first["max_abs_weight_diff"] < 1e-12
    assert not second["within_tolerance"] and second["worst_parameter"] == "W0"
    assert abs(second["max_abs_weight_diff"] - delta) < 1e-12
    # normwise: delta / (max|W0| + its error scale), the scale a rounding-sized term
    assert second["max_rel_weight_diff"] == pytest.approx(delta / scale[0], rel=1e-6)


def test_shadow_must_start_before_the_first_epoch() -> None:
    run = build(Config(dataset="xor-easy", epochs=1, hidden=(3,)))
    train(run)
    with pytest.raises(ValueError,
                       match=exactly("the twin must be built before the run's first epoch")):
        shadow(run)


def test_seed_run_prints_the_figures_and_writes_json(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "seed.json"
    assert seed_run(["--mode", "free", "--epochs", "2", "--dataset", "xor-easy",
                     "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "final max relative weight difference:" in text
    assert "every test prediction agrees: yes" in text
    data = json.loads(out.read_text())
    assert len(data["epochs"]) == 2 and data["summary"]["final_test_predictions_agree"]
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


# --- the twin built from a mid-run handnet state -------------------------------------------

def _small_run(style: str = "classic", bias_momentum: bool = False, lr_epoch: int = 2) -> Run:
    config = Config(dataset="xor", epochs=5, n_train=12, n_test=10, hidden=(5, 3), seed=7,
                    shuffle=True, momentum_style=style, bias_momentum=bias_momentum,
                    lr_epoch=lr_epoch)
    return build(config)


def _same_twin(a: TwinRun, b: TwinRun) -> None:
    pa, pb = handnet_parameters(a.model), handnet_parameters(b.model)
    assert pa.keys() == pb.keys()
    for name in pa:
        np.testing.assert_array_equal(pa[name], pb[name])
    ua, ub = twin_buffers(a.optimizer, a.model), twin_buffers(b.optimizer, b.model)
    assert ua.keys() == ub.keys()
    for name in ua:
        np.testing.assert_array_equal(ua[name], ub[name])
    assert current_lr(a.optimizer) == current_lr(b.optimizer)
    assert [g["momentum"] for g in a.optimizer.param_groups] == [
        g["momentum"] for g in b.optimizer.param_groups]


def test_twin_from_state_at_epoch_0_is_build_twin() -> None:
    run = _small_run()
    _same_twin(twin_from_state(run, 0), build_twin(run))
    assert twin_buffers(twin_from_state(run).optimizer, twin_from_state(run).model) == {}


@pytest.mark.parametrize(("style", "bias_momentum"), [("classic", False), ("torch", True)])
def test_twin_from_state_continues_as_the_twin_that_trained_alongside(
        style: str, bias_momentum: bool) -> None:
    """Built after 3 epochs (past a decay at 2), it takes the alongside twin's steps bit for bit.

    The alongside twin trained from handnet's epoch-0 state over handnet's orders; the late twin
    copies handnet's epoch-3 state.  The two twins' states at epoch 3 differ by handnet-vs-torch
    rounding, so they are compared through the *difference of their steps* to handnet: each must
    agree with the handnet epoch under the policy, and the late twin's lr, momentum groups and
    buffers must be where the alongside twin's are.
    """
    run = _small_run(style, bias_momentum)
    alongside = build_twin(run)
    for epoch in range(3):
        order = epoch_order(run)
        train_epoch(run, epoch, order)
        record(run, run.optimizer.lr)
        run_epoch(alongside, order)
    late = twin_from_state(run, 3)
    assert current_lr(late.optimizer) == current_lr(alongside.optimizer) == run.schedule.lr_at(3)
    assert late.scheduler.last_epoch == alongside.scheduler.last_epoch == 3
    hb = run.optimizer.buffers
    assert set(twin_buffers(late.optimizer, late.model)) == set(hb) == set(
        twin_buffers(alongside.optimizer, alongside.model))
    for name, value in twin_buffers(late.optimizer, late.model).items():
        np.testing.assert_array_equal(value, hb[name])  # copied bit for bit
    # Copy the alongside twin's exact state into handnet's layout; a twin built from it must
    # then continue bit for bit as the alongside twin (same weights, buffers, lr, schedule).
    copy_into(alongside.model, run.network)
    run.optimizer.buffers = twin_buffers(alongside.optimizer, alongside.model)
    rebuilt = twin_from_state(run, 3)
    _same_twin(rebuilt, alongside)
    for _ in range(3):  # epochs 3, 4, 5: across the decay at 4
        order = epoch_order(run)
        run_epoch(rebuilt, order)
        run_epoch(alongside, order)
        _same_twin(rebuilt, alongside)
    assert rebuilt.history.lr == alongside.history.lr[3:]


def test_twin_from_state_one_epoch_matches_handnet_within_the_policy() -> None:
    run = _small_run()
    for epoch in range(4):
        order = epoch_order(run)
        train_epoch(run, epoch, order)
        record(run, run.optimizer.lr)
    twin = twin_from_state(run)
    order = epoch_order(run)
    train_epoch(run, 4, order)
    run_epoch(twin, order)
    assert_matches_reference(run.network.parameters, handnet_parameters(twin.model),
                             steps=len(order))
    assert_matches_reference(run.optimizer.buffers, twin_buffers(twin.optimizer, twin.model),
                             steps=len(order))


def test_twin_from_state_refuses_a_state_of_another_epoch() -> None:
    run = _small_run()
    train(run)
    with pytest.raises(ValueError, match=exactly(
            "the run has recorded 5 epochs, so its state is the start of epoch 5, not 3")):
        twin_from_state(run, 3)
    fresh = _small_run()
    fresh.optimizer.buffers["b0"] = np.zeros((1, 5))
    with pytest.raises(ValueError,
                       match=exactly("the run has optimiser state but no recorded epoch")):
        twin_from_state(fresh, 0)


def test_load_buffers_refuses_a_buffer_the_twin_does_not_use() -> None:
    run = _small_run(bias_momentum=False)
    train(run)
    run.optimizer.buffers["b0"] = np.zeros((1, 5))
    with pytest.raises(ValueError, match=exactly(
            "momentum buffer b0 given, but the twin steps b0 without momentum")):
        twin_from_state(run)
    run.optimizer.buffers.pop("b0")
    run.optimizer.buffers["W0"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match=exactly(
            "momentum buffer W0 has shape (3, 3), which does not fit the parameter")):
        twin_from_state(run)


# --- the re-synchronised seed run and the free-running control ------------------------------

def _tiny(epochs: int) -> Config:
    return Config(dataset="xor", epochs=epochs, n_train=16, n_test=12, hidden=(6, 4), seed=2,
                  shuffle=True, lr_epoch=2)


def test_checkpoints_default_given_every_and_last() -> None:
    assert checkpoints_for(6000, None, 0) == list(DEFAULT_CHECKPOINTS)
    assert checkpoints_for(3, None, 0) == [0, 1, 2]
    assert checkpoints_for(10, [4], 3) == [0, 3, 4, 6, 9]
    with pytest.raises(ValueError, match=r"checkpoint epochs \[10\] are outside"):
        checkpoints_for(10, [10], 0)


def test_resync_run_checks_each_checkpoint_epoch_from_sync() -> None:
    result = resync_run(_tiny(5), [1, 2, 4])
    assert [r["epoch"] for r in result["checkpoints"]] == [1, 2, 4]
    assert result["all_within_tolerance"] and result["all_predictions_agree"]
    for row in result["checkpoints"]:
        assert row["lr"] == row["twin_lr"] == _tiny(5).lr * 0.5 ** (row["epoch"] // 2)
        assert 0 < row["max_rel_buffer_diff"] <= row["rtol"]  # buffers are compared too
    json.dumps(result, allow_nan=False)


def test_resync_run_catches_an_epoch_with_the_wrong_lr(monkeypatch: pytest.MonkeyPatch) -> None:
    """handnet taking epoch 2 at the previous lr (the off-by-one) must fail that checkpoint."""
    def late_decay(run: Run, epoch: int, order: Indices) -> None:
        train_epoch(run, max(epoch - 1, 0), order)

    monkeypatch.setattr(resync, "epoch_function", lambda run, fast=True: (late_decay, "late"))
    rows = {r["epoch"]: r for r in resync_run(_tiny(4), [1, 2])["checkpoints"]}
    assert rows[1]["within_tolerance"]
    assert not rows[2]["within_tolerance"] and rows[2]["max_rel_weight_diff"] > 1e-6


def test_free_running_reports_twin_and_one_ulp_control() -> None:
    result = free_running(_tiny(4), 4, report_every=2)
    assert [r["epochs_done"] for r in result["rows"]] == [1, 2, 3, 4]
    assert result["perturbation"]["abs"] > 0
    assert result["twin_first_epoch_out_of_tolerance"] is None
    for row in result["rows"]:
        assert 0 < row["perturbed_max_rel_weight_diff"] <= row["rtol"]
        assert row["twin_max_rel_weight_diff"] <= row["rtol"]


def test_seed_run_resync_writes_json_and_markdown(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out, md = tmp_path / "seed.json", tmp_path / "seed.md"
    assert seed_run(["--epochs", "3", "--dataset", "xor-easy", "--free-epochs", "2",
                     "--report-every", "1", "--json", str(out), "--markdown", str(md)]) == 0
    text = capsys.readouterr().out
    assert "1. re-synchronised" in text and "2. free-running" in text
    data = json.loads(out.read_text())
    assert [r["epoch"] for r in data["resync"]["checkpoints"]] == [0, 1, 2]
    assert len(data["free"]["rows"]) == 2 and data["machine"]["nproc"] >= 1
    report = md.read_text()
    assert "| 2 |" in report and data["command"] in report
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed.json", "seed.md"]
    again = tmp_path / "again.md"
    assert seed_run(["--from-json", str(out), "--markdown", str(again)]) == 0
    assert again.read_text() == report


def test_seed_run_refuses_bad_checkpoints_and_missing_directories(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        seed_run(["--epochs", "3", "--checkpoints", "7"])
    with pytest.raises(SystemExit):
        seed_run(["--epochs", "3", "--json", str(tmp_path / "no" / "x.json")])
