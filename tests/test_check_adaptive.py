"""The wrong line a person writes in a hand-written Adam, AdamW, RMSprop or Adagrad: ``check``
flags exactly the parameters it affects and names the pattern; the network without it matches
under every optimiser and schedule the adapter can declare.

The network is ``tests/planted/adaptive_net.py`` (user code written from the textbook formulas,
not from ``reference.checker.simulate_adaptive`` nor handnet's optimisers); each case replaces
one line (or a few adjacent ones) of its source.  Few steps, a tiny network: each check runs in
a fraction of a second.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from planted import load, plant

from handnet.adapter import AdapterError
from reference.checker.check import check
from reference.checker.report import Report

ALL = {"W1", "b1", "W2", "b2"}
WD = {"weight_decay": 0.1}

# (name, right line(s), wrong line(s), options, pattern)
CASES: list[tuple[str, str, str, dict[str, Any], str]] = [
    ("adam: no bias correction",
     "m_hat = m / (1 - b1 ** self.t)\nv_hat = v / (1 - b2 ** self.t)",
     "m_hat = m\nv_hat = v", {"optimizer": "adam"}, "adam_bias_correction"),
    ("adam: eps inside the square root",
     "p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)",
     "p -= self.lr * m_hat / np.sqrt(v_hat + self.eps)",
     {"optimizer": "adam", "eps": 1e-4}, "eps_inside_sqrt"),
    ("adam: the second moment of the previous step",
     "v = self.v[k] = b2 * self.v[k] + (1 - b2) * g * g",
     "v = self.v[k]\nself.v[k] = b2 * self.v[k] + (1 - b2) * g * g",
     {"optimizer": "adam", "eps": 1e-3}, "v_previous"),
    ("adamw: decay added to the gradient (coupled)",
     'decoupled = self.opt == "adamw"', "decoupled = False",
     {"optimizer": "adamw", **WD}, "decay_coupling"),
    ("adam: decay applied to the parameter (decoupled)",
     'decoupled = self.opt == "adamw"', "decoupled = True",
     {"optimizer": "adam", **WD}, "decay_coupling"),
    ("rmsprop: centered with the mean's square added",
     "avg = np.sqrt(self.s[k] - self.a[k] ** 2) + self.eps",
     "avg = np.sqrt(self.s[k] + self.a[k] ** 2) + self.eps",
     {"optimizer": "rmsprop", "centered": True}, "rmsprop_centered"),
    ("rmsprop: alpha and 1 - alpha swapped",
     "self.s[k] = alpha * self.s[k] + (1 - alpha) * g * g",
     "self.s[k] = (1 - alpha) * self.s[k] + alpha * g * g",
     {"optimizer": "rmsprop"}, "rmsprop_alpha"),
    ("adam: the optimiser's state built afresh at every step",
     "self.t += 1",
     "self.t = 1  # a new optimiser per update: moments and step count start again\n"
     "self.m = {k: np.zeros_like(m) for k, m in self.m.items()}\n"
     "self.v = {k: np.zeros_like(v) for k, v in self.v.items()}",
     {"optimizer": "adam"}, "adaptive_state_reset"),
    ("rmsprop: the square average zeroed at every step",
     "self.t += 1",
     "self.t += 1\nself.s = {k: np.zeros_like(s) for k, s in self.s.items()}",
     {"optimizer": "rmsprop"}, "adaptive_state_reset"),
    ("adagrad: lr decay counted from step 1",
     "clr = self.lr / (1 + (self.t - 1) * self.lr_decay)",
     "clr = self.lr / (1 + self.t * self.lr_decay)",
     {"optimizer": "adagrad", "lr_decay": 0.1}, "adagrad_lr_decay"),
]


def assert_named(report: Report, flagged: set[str], pattern: str) -> None:
    text = report.to_text()
    assert report.forward.ok, text
    assert {p.name for p in report.wrong} == flagged, text
    for p in report.wrong:
        assert pattern in p.patterns, f"{p.name}: {p.patterns}\n{text}"
    assert report.exit_code == 1, text


@pytest.mark.parametrize(("name", "right", "wrong", "options", "pattern"), CASES,
                         ids=[c[0] for c in CASES])
def test_wrong_line_in_an_adaptive_optimiser_is_named(name: str, right: str, wrong: str,
                                                      options: dict[str, Any],
                                                      pattern: str) -> None:
    module = plant("adaptive_net", right, wrong)
    report = check(lambda: module.adapter(**options), steps=4, seed=3)
    assert_named(report, ALL, pattern)


CONTROLS: list[dict[str, Any]] = [
    *(c[3] for c in CASES),
    {"optimizer": "adam", "betas": (0.8, 0.99)},
    {"optimizer": "rmsprop", "centered": True, "momentum": 0.5, **WD},
    {"optimizer": "adagrad", "initial_accumulator_value": 0.1},
    {"optimizer": "adam", "schedule": "exponential", "gamma": 0.7},
    {"optimizer": "adamw", "schedule": "cosine", **WD},
    {"optimizer": "rmsprop", "schedule": "multistep", "milestones": (6,)},
    {"optimizer": "adam", "schedule": "warmup", "per_update": True},
]


F32 = [{"optimizer": k, "dtype": np.float32} for k in ("adam", "adamw", "rmsprop", "adagrad")]


@pytest.mark.parametrize("options", CONTROLS + F32, ids=[repr(o) for o in CONTROLS + F32])
def test_the_network_without_the_wrong_line_matches(options: dict[str, Any]) -> None:
    module = load("adaptive_net")
    report = check(lambda: module.adapter(**options), steps=4, seed=3)
    assert report.exit_code == 0, report.to_text()


def test_a_declared_schedule_is_crossed_and_a_wrong_one_is_seen() -> None:
    """multistep at epoch 6: the run is lengthened to 9 steps, epochs 0 .. 5, 5 again (two
    updates in one epoch), 6, 7, so a network whose lr never decays is caught; exponential decay
    declared where the network keeps its lr too."""
    module = load("adaptive_net")
    report = check(lambda: module.adapter(optimizer="adam", schedule="multistep",
                                          milestones=(6,)), seed=3)
    assert report.epochs == [0, 1, 2, 3, 4, 5, 5, 6, 7] and report.exit_code == 0, \
        report.to_text()
    constant = check(lambda: module.adapter(optimizer="adam", declare={
        "schedule": "multistep", "milestones": (6,), "gamma": 0.5}), seed=3)
    assert {p.name for p in constant.wrong} == ALL, constant.to_text()
    assert all(p.first_wrong_step == 8 for p in constant.wrong), constant.to_text()


def test_unseen_declared_features_are_not_tested() -> None:
    """A per-update milestone beyond the steps, a weight decay too small to move anything:
    'not tested', inconclusive — never a match."""
    module = load("adaptive_net")
    far = check(lambda: module.adapter(optimizer="adam", schedule="multistep",
                                       milestones=(30,), per_update=True), seed=3)
    assert far.exit_code == 3 and any("multistep schedule" in u for u in far.untested), \
        far.to_text()
    tiny = check(lambda: module.adapter(optimizer="adam", weight_decay=1e-30), steps=3, seed=3)
    assert tiny.exit_code == 3 and any("weight_decay" in u for u in tiny.untested), \
        tiny.to_text()


@pytest.mark.parametrize(("optimizer", "size"), [("adam", "±lr"), ("adagrad", "±lr"),
                                                 ("rmsprop", "±10 lr")])
def test_an_adaptive_optimiser_declared_as_sgd_is_pointed_at(optimizer: str, size: str) -> None:
    module = load("adaptive_net")
    report = check(lambda: module.adapter(optimizer=optimizer, declare={"optimizer": "sgd"}),
                   steps=2, seed=3)
    assert_named(report, ALL, "adaptive_undeclared")
    text = report.to_text()
    assert f"updates of about {size} on the first step" in text, text
    assert "declare optimizer=" in text and "no catalogue pattern fits" not in text, text


@pytest.mark.parametrize(("declare", "message"), [
    ({"optimizer": "adma"}, "optimizer is 'adma'; choose one of sgd, adam, adamw, rmsprop, "
                            "adagrad"),
    ({"betas": (0.9,)}, "betas must be two numbers"),
    ({"betas": (0.9, 1.5)}, "betas[1] must be in [0, 1), got 1.5"),
    ({"alpha": 0.9}, "alpha is used only with optimizer rmsprop, not adam"),
    ({"eps": -1.0}, "eps must be in [0, inf), got -1.0"),
    ({"amsgrad": "yes"}, "amsgrad must be True or False"),
    ({"nesterov": True}, "nesterov is used only with optimizer sgd, not adam"),
    ({"momentum_style": "torch"}, "momentum_style is used only with optimizer sgd"),
    ({"schedule": "cosine"}, "schedule cosine needs t_max"),
    ({"schedule": "cosine", "t_max": 0}, "t_max must be at least 1"),
    ({"schedule": "exponential", "gamma": 0.0}, "gamma must be in (0, inf)"),
    ({"schedule": "multistep", "milestones": (0,)}, "milestones must be at least 1"),
    ({"gamma": 0.5}, "gamma is used only with schedule multistep or exponential, not step"),
    ({"schedule": "linear", "start_factor": 0.0}, "start_factor must be in (0, 1]"),
    ({"schedule_per": "batch"}, "schedule_per is 'batch'; choose one of epoch, update"),
    ({"schedule": "cosine", "t_max": 3, "lr_epoch": 2}, "lr_epoch is used only with schedule "
                                                        "step"),
])
def test_bad_declarations_are_one_line_adapter_errors(declare: dict[str, Any],
                                                      message: str) -> None:
    module = load("adaptive_net")
    with pytest.raises(AdapterError) as err:
        check(lambda: module.adapter(optimizer="adam", declare=declare), steps=1)
    assert message in str(err.value)
