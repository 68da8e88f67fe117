"""Issue 16: the twin is built from the declared configuration, so every optimiser and schedule
field must change what *both* sides do.  A field that handnet's ``build`` dropped (or the twin
ignored) would leave that side's run unchanged: this test names it."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from handnet.config import Config
from handnet.train import build, epoch_order, predict, train
from reference.comparison.compare import assert_matches_reference
from reference.twin.network import handnet_parameters
from reference.twin.train import build_twin, run_epoch
from reference.twin.train import predict as twin_predict

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


# --- every field, on both sides ------------------------------------------------------------
# The table above covers the optimiser and schedule fields from bases where each shows; this
# one covers every Config field (a field added to Config must be added here, or to NOT_TRAINING
# with the reason): changed from SMALL, it must change handnet's run *and* the twin's (final
# weights, recorded losses and lrs, test predictions), and the two must agree.  Seen failing:
# handnet.train.build without style=/weight_decay=/bias_momentum=/nesterov= (mismatch), and a
# twin configured from handnet's constructed optimiser ("momentum_style='torch' did not change
# handnet's run").

# Small and quick, and every field's effect visible within 3 epochs: the lr decays every epoch
# (the momentum conventions part after epoch 0), momentum on (Nesterov, bias momentum, decay).
SMALL = Config(dataset="xor", epochs=3, lr_epoch=1, hidden=(4, 3), n_train=16, n_test=8, seed=3)

# field -> (a value other than the base's, what the base needs for the field to matter)
EVERY: dict[str, tuple[object, dict[str, object]]] = {
    "dataset": ("linear", {}),
    "optimizer": ("sgd", {}),
    "momentum_style": ("torch", {}),
    "momentum": (0.5, {}),
    "bias_momentum": (True, {}),
    "nesterov": (True, {}),
    "weight_decay": (0.1, {}),
    "bias_decay": (False, {"weight_decay": 0.1}),
    "betas": ((0.5, 0.9), {"optimizer": "adam"}),
    "eps": (1e-2, {"optimizer": "adam"}),
    "amsgrad": (True, {"optimizer": "adam", "lr": 0.2}),
    "alpha": (0.5, {"optimizer": "rmsprop"}),
    "centered": (True, {"optimizer": "rmsprop"}),
    "lr_decay": (0.5, {"optimizer": "adagrad"}),
    "initial_accumulator_value": (1.0, {"optimizer": "adagrad"}),
    "lr": (0.05, {}),
    "schedule": ("constant", {}),
    "schedule_per": ("update", {}),
    "lr_epoch": (2, {}),
    "lr_gamma": (0.2, {}),
    "milestones": ((2,), {"schedule": "multistep", "milestones": (1,)}),
    "gamma": (0.2, {"schedule": "exponential", "gamma": 0.5}),
    "t_max": (2, {"schedule": "cosine", "t_max": 4}),
    "eta_min": (1e-3, {"schedule": "cosine", "t_max": 4}),
    "start_factor": (0.5, {"schedule": "linear"}),
    "end_factor": (0.5, {"schedule": "linear"}),
    "total_iters": (2, {"schedule": "linear"}),
    "epochs": (2, {}),
    "batch_size": (4, {}),
    "hidden": ((5, 3), {}),
    "activation": ("tanh", {}),
    "loss": ("mse", {}),
    "init": ("glorot", {}),
    "seed": (4, {}),
    "shuffle": (True, {}),
    "n_train": (12, {}),
    "n_test": (6, {}),
    "classes": (3, {"dataset": "spirals", "loss": "softmax-ce", "activation": "tanh"}),
}
NOT_TRAINING = {"print_interval": "how often the CLI prints progress; training never reads it"}


def test_the_table_names_every_field() -> None:
    fields = {f.name for f in dataclasses.fields(Config)}
    assert set(EVERY) | set(NOT_TRAINING) == fields
    assert not set(EVERY) & set(NOT_TRAINING)
    for name, (value, base) in EVERY.items():
        assert getattr(replace(SMALL, **base), name) != value, f"{name}: the value is the base's"


def _traces(config: Config) -> tuple[dict[str, Any], dict[str, Any]]:
    """What handnet and the twin do with ``config`` (final weights, recorded losses and lrs,
    test predictions), the twin built from the run before it trains, over the same orders;
    checked to agree."""
    run = build(config)
    twin = build_twin(run)
    orders: list[np.ndarray] = []

    def alongside(epoch: int, order: np.ndarray, _run: Any) -> None:
        orders.append(order.copy())
        run_epoch(twin, order)

    train(run, alongside)
    x_test = run.data.x_test
    ours = {"params": {k: v.copy() for k, v in run.network.parameters.items()},
            "loss": list(run.history.loss), "lr": list(run.history.lr),
            "test": predict(run.network, x_test)}
    theirs = {"params": handnet_parameters(twin.model), "loss": list(twin.history.loss),
              "lr": list(twin.history.lr), "test": twin_predict(twin.model, x_test)}
    steps = sum(-(-len(o) // (config.batch_size or len(o))) for o in orders)
    assert_matches_reference(ours["params"], theirs["params"], steps=steps,
                             what=f"weights after training with {config}")
    assert_matches_reference({"loss": np.array(ours["loss"]), "lr": np.array(ours["lr"])},
                             {"loss": np.array(theirs["loss"]), "lr": np.array(theirs["lr"])},
                             steps=steps, what="history")
    np.testing.assert_array_equal(ours["test"], theirs["test"])
    return ours, theirs


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (a["params"].keys() == b["params"].keys()
            and all(a["params"][k].shape == b["params"][k].shape
                    and np.array_equal(a["params"][k], b["params"][k]) for k in a["params"])
            and a["loss"] == b["loss"] and a["lr"] == b["lr"]
            and a["test"].shape == b["test"].shape and np.array_equal(a["test"], b["test"]))


@pytest.mark.parametrize("field", list(EVERY))
def test_every_config_field_changes_both_sides_alike(field: str) -> None:
    value, base = EVERY[field]
    before = replace(SMALL, **base)
    ours0, theirs0 = _traces(before)
    ours1, theirs1 = _traces(replace(before, **{field: value}))
    assert not _same(ours1, ours0), f"{field}={value!r} did not change handnet's run"
    assert not _same(theirs1, theirs0), f"{field}={value!r} did not change the twin's run"
