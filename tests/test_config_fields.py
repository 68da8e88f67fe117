"""Issue 16: the twin is built from the declared configuration, so every optimiser and schedule
field must change what *both* sides do.  A field that handnet's ``build`` dropped (or the twin
ignored) would leave that side's run unchanged: this test names it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from handnet.config import Config
from handnet.train import build, epoch_order, train
from reference.comparison.compare import assert_matches_reference
from reference.twin.network import handnet_parameters
from reference.twin.train import build_twin, run_epoch

BASE = {
    "adam": Config(optimizer="adam", lr=0.05, epochs=3, hidden=(3,), n_train=8, n_test=4,
                   batch_size=4, dataset="xor"),
}
BASE["adamw"] = replace(BASE["adam"], optimizer="adamw")
BASE["rmsprop"] = replace(BASE["adam"], optimizer="rmsprop")
BASE["adagrad"] = replace(BASE["adam"], optimizer="adagrad")
BASE["momentum"] = replace(BASE["adam"], optimizer="momentum", lr=0.5)

# (base, field, a non-default value)
CHANGES = [
    ("adam", "betas", (0.5, 0.9)), ("adam", "eps", 1e-2), ("adam", "amsgrad", True),
    ("adam", "weight_decay", 0.5), ("adamw", "weight_decay", 0.5),
    ("adam", "schedule", "exponential"), ("adamw", "bias_decay", False),
    ("rmsprop", "alpha", 0.5), ("rmsprop", "eps", 1e-1), ("rmsprop", "centered", True),
    ("rmsprop", "momentum", 0.5), ("adagrad", "lr_decay", 0.5),
    ("adagrad", "initial_accumulator_value", 1.0), ("adagrad", "eps", 1e-1),
    ("momentum", "bias_decay", False), ("momentum", "momentum_style", "torch"),
    ("momentum", "schedule_per", "update"),
]
# What a field needs to be visible: a decay for bias_decay, an lr that changes for the
# momentum convention (identical while it is constant) and for per-update stepping.
DECAYING = {"schedule": "exponential", "gamma": 0.5}
EXTRA = {"schedule": {"gamma": 0.5}, "bias_decay": {"weight_decay": 0.5},
         "schedule_per": DECAYING, "momentum_style": DECAYING}


def both_sides(config: Config) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Final parameters of handnet's run and of the twin's, trained over the same orders."""
    run = build(config)
    orders = [epoch_order(build(config)) for _ in range(config.epochs)]
    twin = build_twin(build(config))
    for order in orders:
        run_epoch(twin, order)
    train(run)
    return run.network.parameters, handnet_parameters(twin.model)


@pytest.mark.parametrize(("base", "field", "value"), CHANGES,
                         ids=[f"{b}-{f}" for b, f, _ in CHANGES])
def test_every_declared_field_changes_both_sides(base: str, field: str, value: object) -> None:
    config = BASE[base]
    extra = EXTRA.get(field, {})
    before = replace(config, **extra) if field != "schedule" else config
    after = replace(config, **extra, **{field: value})
    (h0, t0), (h1, t1) = both_sides(before), both_sides(after)
    for side, a, b in (("handnet", h0, h1), ("twin", t0, t1)):
        moved = max(float(np.max(np.abs(a[k] - b[k]))) for k in a)
        assert moved > 1e-9, f"{field}={value!r} does not change {side}'s training"
    steps = config.epochs * 2  # 8 samples in batches of 4
    assert_matches_reference(dict(h1), t1, steps=steps, what=f"{field}={value!r}: handnet vs twin")
