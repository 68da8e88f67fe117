"""The wrong line a person writes, planted in a hand-written network: ``check`` flags exactly the
parameters it affects and names the pattern.

The networks (``tests/planted/course_net.py``, ``tests/planted/loop_net.py``) are ordinary
user code, written for these tests without ``reference.checker.simulate`` (nor anything else of
``handnet`` or ``reference`` besides the adapter types); each case replaces one line (or swaps
two adjacent lines) of that source by a mistake, as text, and checks the result.  So the
diagnosis is tested against mistakes it did not write itself.  A realistic mistake the
diagnosis does not name yet is an ``xfail(strict=True)`` whose reason says what it does instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from planted import PLANTED, load, plant, planted_source

from handnet.adapter import Adapter
from reference.checker.check import check
from reference.checker.guard import check_file
from reference.checker.report import Report

ALL_COURSE = {"W1", "b1", "W2", "b2", "W3", "b3"}
BELOW_2 = {"W1", "b1", "W2", "b2"}  # course net: what a mistake in layer 2's delta reaches


def _p(*names: str) -> set[str]:
    """The loop net's parameter paths: _p("W1", "b1") -> {"params['W1']", "params['b1']"}."""
    return {f"params['{n}']" for n in names}


ALL_LOOP = _p("W1", "b1", "W2", "b2", "W3", "b3")


@dataclass(frozen=True)
class Plant:
    """One wrong line in one base network, and what the check must say about it."""

    name: str
    base: str  # "course_net" or "loop_net"
    right: str
    wrong: str
    flagged: set[str]  # the user's names of the parameters it must call wrong, no others
    pattern: str  # the pattern it must name on each of them
    options: dict[str, Any] = field(default_factory=dict)  # adapter(**options)
    batch: int | None = None
    steps: int | None = None
    xfail: str = ""  # why the diagnosis does not get it yet (a finding)

    def factory(self) -> Callable[[], Adapter]:
        module = plant(self.base, self.right, self.wrong)
        return lambda: module.adapter(**self.options)


GRAD = {"mode": "gradients"}
STEP = {"mode": "train_step"}
MOMENTUM = {"mode": "train_step", "momentum": 0.9}
DECAY = {"mode": "train_step", "momentum": 0.9, "lr_epoch": 1, "lr_gamma": 0.5}

CASES = [
    # --- the loss's derivative ------------------------------------------------------------
    Plant("course: the 2 of the square kept", "course_net",
          "d3 = (a3 - y) * a3 * (1 - a3)", "d3 = 2 * (a3 - y) * a3 * (1 - a3)",
          ALL_COURSE, "loss", GRAD),
    Plant("course: averaged over the batch where the loss sums", "course_net",
          "d3 = (a3 - y) * a3 * (1 - a3)", "d3 = (a3 - y) / len(y) * a3 * (1 - a3)",
          ALL_COURSE, "loss", GRAD),
    Plant("course: target minus output", "course_net",
          "d3 = (a3 - y) * a3 * (1 - a3)", "d3 = (y - a3) * a3 * (1 - a3)",
          ALL_COURSE, "sign", GRAD),
    Plant("loop: the number of features for the batch", "loop_net",
          "m = X.shape[1]", "m = X.shape[0]", ALL_LOOP, "factor", GRAD),
    Plant("loop: mse's 2 dropped", "loop_net",
          "dA = 2 * (A - Y) / (m * Y.shape[0])", "dA = (A - Y) / (m * Y.shape[0])",
          ALL_LOOP, "loss", GRAD),
    Plant("loop: mse averaged over the batch only", "loop_net",
          "dA = 2 * (A - Y) / (m * Y.shape[0])", "dA = 2 * (A - Y) / m",
          ALL_LOOP, "loss", GRAD),
    # --- one layer's gradient -------------------------------------------------------------
    Plant("course: a square weight's product the wrong way round", "course_net",
          "dW2 = self.a1.T @ d2", "dW2 = d2.T @ self.a1", {"W2"}, "transposed", GRAD),
    Plant("course: a (3, 4) weight's product the wrong way round", "course_net",
          "dW1 = x.T @ d1", "dW1 = d1.T @ x", {"W1"}, "transposed", GRAD),
    Plant("loop: every weight's product the wrong way round", "loop_net",
          "grads[f\"W{i}\"] = dZ @ A_prev.T", "grads[f\"W{i}\"] = A_prev @ dZ.T",
          _p("W1", "W2", "W3"), "transposed", GRAD),
    Plant("course: a weight divided by the features, not the batch", "course_net",
          "dW2 = self.a1.T @ d2", "dW2 = self.a1.T @ d2 / x.shape[1]", {"W2"}, "factor",
          GRAD),
    Plant("course: bias averaged over the batch", "course_net",
          "db2 = d2.sum(axis=0, keepdims=True)", "db2 = d2.mean(axis=0, keepdims=True)",
          {"b2"}, "bias_mean", GRAD),
    Plant("course: bias summed over the units", "course_net",
          "db2 = d2.sum(axis=0, keepdims=True)", "db2 = d2.sum(axis=1, keepdims=True)",
          {"b2"}, "bias_axis", GRAD),
    Plant("loop: bias summed over the units (samples are columns)", "loop_net",
          "grads[f\"b{i}\"] = np.sum(dZ, axis=1, keepdims=True)",
          "grads[f\"b{i}\"] = np.sum(dZ, axis=0, keepdims=True)",
          _p("b1", "b2", "b3"), "bias_axis", GRAD),
    # --- the activation's derivative -------------------------------------------------------
    Plant("course: sigmoid' written through z", "course_net",
          "d2 = (d3 @ self.W3.T) * self.a2 * (1 - self.a2)",
          "d2 = (d3 @ self.W3.T) * self.z2 * (1 - self.z2)",
          BELOW_2, "deriv_at_preactivation", GRAD),
    Plant("course: tanh' written through z", "course_net",
          "return 1 - self.a1 ** 2", "return 1 - self.z1 ** 2",
          {"W1", "b1"}, "deriv_at_preactivation", STEP),
    Plant("course: sigmoid_prime of the activation", "course_net",
          "d2 = (d3 @ self.W3.T) * self.a2 * (1 - self.a2)",
          "d2 = (d3 @ self.W3.T) * sigmoid_prime(self.a2)",
          BELOW_2, "deriv_at_output", GRAD),
    Plant("course: the derivative left out in one layer", "course_net",
          "d2 = (d3 @ self.W3.T) * self.a2 * (1 - self.a2)", "d2 = d3 @ self.W3.T",
          BELOW_2, "deriv_missing", GRAD),
    Plant("course: the output layer's derivative left out", "course_net",
          "d3 = (a3 - y) * a3 * (1 - a3)", "d3 = a3 - y", ALL_COURSE, "deriv_missing", STEP),
    Plant("course: sigmoid' through another layer's activation", "course_net",
          "d2 = (d3 @ self.W3.T) * self.a2 * (1 - self.a2)",
          "d2 = (d3 @ self.W3.T) * self.a3 * (1 - self.a3)",
          BELOW_2, "deriv_other_layer", GRAD),
    # --- the delta's way back --------------------------------------------------------------
    Plant("course: the delta pushed back through the layer above's weights", "course_net",
          "d1 = (d2 @ self.W2.T) * self.first_prime()",
          "d1 = (d2 @ self.W3.T) * self.first_prime()",
          {"W1", "b1"}, "wrong_layer_weights", GRAD),
    Plant("course: the delta pushed back through its own layer's weights", "course_net",
          "d2 = (d3 @ self.W3.T) * self.a2 * (1 - self.a2)",
          "d2 = (d3 @ self.W2.T) * self.a2 * (1 - self.a2)",
          BELOW_2, "wrong_layer_weights", GRAD),
    Plant("course: the top layer updated before the deltas below", "course_net",
          """
          d2 = (d3 @ self.W3.T) * self.a2 * (1 - self.a2)
          d1 = (d2 @ self.W2.T) * self.first_prime()
          self.U3 = m * self.U3 + lr * (self.a2.T @ d3)
          self.W3 -= self.U3
          """,
          """
          self.U3 = m * self.U3 + lr * (self.a2.T @ d3)
          self.W3 -= self.U3
          d2 = (d3 @ self.W3.T) * self.a2 * (1 - self.a2)
          d1 = (d2 @ self.W2.T) * self.first_prime()
          """, BELOW_2, "after_update", MOMENTUM),
    # --- the update ------------------------------------------------------------------------
    Plant("course: a square weight stepped with its gradient transposed", "course_net",
          "self.W2 -= self.U2", "self.W2 -= self.U2.T", {"W2"}, "transposed", STEP),
    Plant("course: one weight stepped uphill", "course_net",
          "self.W3 -= self.U3", "self.W3 += self.U3", {"W3"}, "sign", MOMENTUM),
    Plant("course: momentum dropped from one layer's velocity", "course_net",
          "self.U1 = m * self.U1 + lr * (self.x.T @ d1)", "self.U1 = lr * (self.x.T @ d1)",
          {"W1"}, "weight_momentum", MOMENTUM, steps=2),
    Plant("course: the velocity updated after the step", "course_net",
          """
          self.U2 = m * self.U2 + lr * (self.a1.T @ d2)
          self.W2 -= self.U2
          """,
          """
          self.W2 -= self.U2
          self.U2 = m * self.U2 + lr * (self.a1.T @ d2)
          """, {"W2"}, "momentum_after_use", MOMENTUM),
    Plant("loop: classic momentum written where torch's is stated", "loop_net",
          """
          self.v[k] = self.m * self.v[k] + g
          step = g + self.m * self.v[k] if self.nesterov else self.v[k]
          p -= self.lr * step
          """,
          """
          self.v[k] = self.m * self.v[k] + self.lr * g
          p -= self.v[k]
          """, ALL_LOOP, "momentum_style", DECAY),
    Plant("loop: momentum kept as a moving average of the gradients", "loop_net",
          "self.v[k] = self.m * self.v[k] + g",
          "self.v[k] = self.m * self.v[k] + (1 - self.m) * g", ALL_LOOP, "momentum_average",
          MOMENTUM),
    Plant("loop: Nesterov stated, plain momentum written", "loop_net",
          "step = g + self.m * self.v[k] if self.nesterov else self.v[k]",
          "step = self.v[k]", ALL_LOOP, "nesterov",
          dict(MOMENTUM, nesterov=True)),
    Plant("loop: weight decay on the weights only", "loop_net",
          "g = grads[k] + self.wd * p", "g = grads[k] + self.wd * p if k[0] == 'W' else grads[k]",
          _p("b1", "b2", "b3"), "weight_decay", dict(MOMENTUM, weight_decay=0.1)),
    Plant("loop: weight decay applied to the parameter, not the gradient", "loop_net",
          """
          g = grads[k] + self.wd * p
          """,
          """
          p *= 1 - self.lr * self.wd
          g = grads[k]
          """, ALL_LOOP, "weight_decay", dict(MOMENTUM, weight_decay=0.1)),
    # --- the schedule ----------------------------------------------------------------------
    Plant("course: the lr decayed by gamma, not 1 - gamma", "course_net",
          "self.lr *= 1 - self.lr_gamma", "self.lr *= self.lr_gamma", ALL_COURSE,
          "schedule_gamma", dict(MOMENTUM, lr_epoch=1, lr_gamma=0.3)),
    Plant("course: epochs counted from 1 (the lr decays an epoch early)", "course_net",
          "if epoch > 0 and epoch % self.lr_epoch == 0:",
          "if (epoch + 1) % self.lr_epoch == 0:", ALL_COURSE, "schedule_early",
          dict(MOMENTUM, lr_epoch=2, lr_gamma=0.5)),
    Plant("loop: the epoch counter advanced after its use (the lr decays an epoch late)",
          "loop_net",
          """
          self.epoch = epoch
          self.lr = self.lr0 * (1 - self.lr_gamma) ** (self.epoch // self.lr_epoch)
          """,
          """
          self.lr = self.lr0 * (1 - self.lr_gamma) ** (self.epoch // self.lr_epoch)
          self.epoch = epoch
          """, ALL_LOOP, "schedule_late", DECAY),
    Plant("loop: the lr decayed by a count of train_step calls, not by the epoch", "loop_net",
          """
          grads = self.backward(X, Y)
          """,
          """
          grads = self.backward(X, Y)
          self.updates = getattr(self, "updates", -1) + 1
          self.lr = self.lr0 * (1 - self.lr_gamma) ** (self.updates // self.lr_epoch)
          """, ALL_LOOP, "schedule_unit", dict(DECAY, lr_epoch=2)),
]


def _names(report: Report) -> set[str]:
    return {p.name for p in report.wrong}


def assert_named(report: Report, flagged: set[str], pattern: str) -> None:
    text = report.to_text()
    assert report.forward.ok, text
    assert _names(report) == flagged, text
    for p in report.wrong:
        assert pattern in p.patterns, f"{p.name}: {p.patterns}\n{text}"
    assert report.exit_code == 1, text


def _param(case: Plant) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_wrong_line_is_named_on_exactly_the_parameters_it_affects(case: Plant) -> None:
    report = check(case.factory(), batch=case.batch, steps=case.steps, seed=3)
    assert_named(report, case.flagged, case.pattern)


FLOAT32 = [replace(c, name=f"{c.name} (float32)", options={**c.options, "dtype": np.float32})
           for c in CASES if c.base == "loop_net"]


@pytest.mark.parametrize("case", [_param(c) for c in FLOAT32])
def test_wrong_line_in_a_float32_network_is_named_alike(case: Plant) -> None:
    report = check(case.factory(), batch=case.batch, steps=case.steps, seed=3)
    assert_named(report, case.flagged, case.pattern)


CONTROLS = sorted({(c.base, tuple(sorted(c.options.items()))) for c in CASES + FLOAT32},
                  key=repr)


@pytest.mark.parametrize(("base", "options"), CONTROLS, ids=[f"{b}-{dict(o)}" for b, o in
                                                             CONTROLS])
def test_the_networks_without_the_wrong_line_match(base: str, options: tuple) -> None:  # type: ignore[type-arg]
    """The control: every base network, under every option set a case uses, is a match, so
    what the cases flag is the wrong line's doing."""
    module = load(base)
    report = check(lambda: module.adapter(**dict(options)), seed=3)
    assert report.exit_code == 0, report.to_text()


@pytest.mark.parametrize("mode", ["gradients", "train_step"])
def test_relu_derivative_at_zero_is_named_on_a_dead_first_layer(mode: str) -> None:
    """A first layer initialised to zero: z1 = 0 for every input, where relu'(0) matters (the
    check also runs at the network's own initial parameters).  The correct net matches."""
    options = {"mode": mode, "first": "relu", "zero_first_layer": True}
    module = plant("course_net", "return (self.z1 > 0).astype(float)",
                   "return (self.z1 >= 0).astype(float)")
    assert_named(check(lambda: module.adapter(**options), batch=5, seed=3), {"W1", "b1"},
                 "relu_at_zero")
    right = load("course_net")
    assert check(lambda: right.adapter(**options), batch=5, seed=3).exit_code == 0


def test_forward_difference_is_reported_first_and_located() -> None:
    module = plant("course_net", "self.a2 = sigmoid(self.z2)", "self.a2 = np.tanh(self.z2)")
    report = check(lambda: module.adapter(), batch=4)
    assert not report.forward.ok
    assert any("layer 1 computes tanh" in d for d in report.forward.diagnosis), report.to_text()
    assert all(p.patterns == ["forward"] for p in report.wrong)
    assert "start here: the forward pass" in report.to_text()


def test_summed_bce_on_a_bce_network_is_named() -> None:
    module = plant("loop_net", "dA = (A - Y) / (A * (1 - A)) / (m * Y.shape[0])",
                   "dA = -(Y / A - (1 - Y) / (1 - A))")
    report = check(lambda: module.adapter(loss="bce"), batch=6, seed=3)
    assert_named(report, ALL_LOOP, "loss")


def test_unexplained_mistake_shows_the_worst_elements() -> None:
    # summed over the batch before the product: no catalogue pattern fits
    module = plant("course_net", "dW3 = self.a2.T @ d3",
                   "dW3 = np.outer(self.a2.sum(axis=0), d3.sum(axis=0))")
    report = check(lambda: module.adapter(), batch=5)
    wrong = {p.name: p for p in report.wrong}
    assert set(wrong) == {"W3"}, report.to_text()
    assert wrong["W3"].patterns == ["unexplained"]
    assert "worst elements: W3[" in wrong["W3"].diagnosis


def test_handnet_check_on_the_planted_file(tmp_path: Path) -> None:
    """The whole command on a file (``check_file``): the adapter file loaded by path, the
    verdict, its exit code and the JSON record of every parameter."""
    path = tmp_path / "adapter.py"
    path.write_text(planted_source("course_net", "db2 = d2.sum(axis=0, keepdims=True)",
                                   "db2 = d2.mean(axis=0, keepdims=True)"))
    outcome = check_file([str(path), "--seed", "3"])
    assert (outcome.verdict, outcome.exit_code) == ("mismatch", 1), outcome.text
    wrong = {p["name"]: p["patterns"] for p in outcome.data["parameters"] if not p["ok"]}
    assert set(wrong) == {"b2"} and "bias_mean" in wrong["b2"], outcome.text
    path.write_text((PLANTED / "course_net.py").read_text())
    assert check_file([str(path), "--seed", "3"]).exit_code == 0
