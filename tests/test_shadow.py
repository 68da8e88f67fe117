"""The shadow: the twin trained in lockstep with a handnet run, deviations recorded per epoch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handnet.config import Config
from handnet.train import build, train
from reference.seed_run import main as seed_run
from reference.shadow import shadow


def test_shadow_records_every_epoch_within_the_policy() -> None:
    config = Config(dataset="xor", epochs=3, n_train=30, n_test=20, hidden=(8, 4), seed=3,
                    shuffle=True)
    run = build(config)
    callback = shadow(run)
    train(run, callback)
    assert [r["epoch"] for r in callback.records] == [0, 1, 2]
    for record in callback.records:
        assert record["within_tolerance"] and record["test_predictions_agree"]
        assert 0 <= record["max_rel_weight_diff"] < 1e-10
        assert record["max_abs_weight_diff"] >= 0
    summary = callback.summary()
    assert summary["epochs"] == 3 and summary["every_epoch_predictions_agree"]
    json.dumps({"records": callback.records, "summary": summary}, allow_nan=False)


def test_shadow_must_start_before_the_first_epoch() -> None:
    run = build(Config(dataset="xor-easy", epochs=1, hidden=(3,)))
    train(run)
    with pytest.raises(ValueError, match="before the run's first epoch"):
        shadow(run)


def test_seed_run_prints_the_figures_and_writes_json(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "seed.json"
    assert seed_run(["--epochs", "2", "--dataset", "xor-easy", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "final max relative weight difference:" in text
    assert "every test prediction agrees: yes" in text
    data = json.loads(out.read_text())
    assert len(data["epochs"]) == 2 and data["summary"]["final_test_predictions_agree"]
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind
