"""Every catalogue pattern, planted in a small network: ``check`` names it on the parameters
the bug affects and flags no other parameter (under four user layouts, one in float32)."""

from __future__ import annotations

import numpy as np
import pytest
from check_planted import Layout, Opt, factory

from reference.checker.check import check

SIZES = (3, 4, 4, 2)  # layer 1 is square (4 x 4), for the transposed pattern
ACTS = ("tanh", "sigmoid", "sigmoid")
ALL = {"W0", "b0", "W1", "b1", "W2", "b2"}
WEIGHTS = {"W0", "W1", "W2"}
BIASES = {"b0", "b1", "b2"}
BELOW_1 = {"W0", "b0", "W1", "b1"}  # layers 0 and 1: what a mistake in layer 1's delta reaches

LAYOUTS = {
    "rows-in_out-row-attrs": (Layout(), np.float64),
    "columns-out_in-column-dict": (Layout(weight="out_in", bias="column", inputs="columns",
                                          container="dict"), np.float64),
    "rows-in_out-vector-list-rebind": (Layout(bias="vector", container="list", rebind=True),
                                       np.float64),
    "columns-out_in-row-list-float32": (Layout(weight="out_in", inputs="columns",
                                               container="list"), np.float32),
}
MOMENTUM = dict(momentum=0.9, bias_momentum=False)

# (bug, layer, style, optimiser, steps, batch, expected wrong parameters, expected pattern)
CASES = [
    ("loss_mean", 0, "gradients", {}, 1, 5, ALL, "loss"),
    ("loss_mean", 0, "gradients", {}, 1, 5, ALL, "factor"),
    ("loss_other", 0, "gradients", {}, 1, 5, ALL, "loss"),
    ("factor2", 1, "gradients", {}, 1, 5, {"W1"}, "factor"),
    ("factor2", 1, "train_step", {}, 1, 5, {"W1"}, "factor"),
    ("sign", 2, "gradients", {}, 1, 5, {"W2"}, "sign"),
    ("sign", 0, "train_step", MOMENTUM, 1, 5, {"W0"}, "sign"),
    ("transposed", 1, "gradients", {}, 1, 5, {"W1"}, "transposed"),
    ("transposed", 1, "train_step", {}, 1, 5, {"W1"}, "transposed"),
    ("transposed", 0, "gradients", {}, 1, 5, {"W0"}, "transposed"),  # (3, 4): shape mismatch
    ("bias_axis", 1, "gradients", {}, 1, 5, {"b1"}, "bias_axis"),
    ("bias_axis", 1, "train_step", {}, 1, 1, {"b1"}, "bias_axis"),
    ("bias_mean", 1, "gradients", {}, 1, 5, {"b1"}, "bias_mean"),
    ("bias_mean", 2, "train_step", {}, 1, 5, {"b2"}, "bias_mean"),
    ("deriv_at_preactivation", 1, "gradients", {}, 1, 5, BELOW_1, "deriv_at_preactivation"),
    ("deriv_at_preactivation", 0, "train_step", {}, 1, 5, {"W0", "b0"},
     "deriv_at_preactivation"),
    ("deriv_at_output", 1, "gradients", {}, 1, 5, BELOW_1, "deriv_at_output"),
    ("deriv_at_output", 0, "gradients", {}, 1, 5, {"W0", "b0"}, "deriv_at_output"),
    ("deriv_missing", 1, "gradients", {}, 1, 5, BELOW_1, "deriv_missing"),
    ("deriv_missing", 2, "train_step", {}, 1, 5, ALL, "deriv_missing"),
    ("after_update", 0, "train_step", {}, 1, 5, {"W0", "b0"}, "after_update"),
    ("after_update", 1, "train_step", MOMENTUM, 1, 5, BELOW_1, "after_update"),
    ("momentum_style", 0, "train_step", dict(MOMENTUM, lr_epoch=1, lr_gamma=0.5), 2, 5,
     WEIGHTS, "momentum_style"),
    ("bias_momentum", 0, "train_step", MOMENTUM, 2, 5, BIASES, "bias_momentum"),
    ("bias_momentum", 0, "train_step", dict(momentum=0.9, bias_momentum=True), 2, 5, BIASES,
     "bias_momentum"),
    ("weight_momentum", 0, "train_step", MOMENTUM, 2, 5, WEIGHTS, "weight_momentum"),
    ("schedule_early", 0, "train_step", dict(MOMENTUM, lr_epoch=2, lr_gamma=0.5), 2, 5, ALL,
     "schedule_early"),
    ("schedule_late", 0, "train_step", dict(MOMENTUM, lr_epoch=1, lr_gamma=0.5), 3, 5, ALL,
     "schedule_late"),
    ("schedule_gamma", 0, "train_step", dict(MOMENTUM, lr_epoch=1, lr_gamma=0.3), 2, 5, ALL,
     "schedule_gamma"),
    ("nesterov", 0, "train_step", dict(MOMENTUM, nesterov=True), 2, 5, ALL, "nesterov"),
    ("nesterov", 0, "train_step", dict(MOMENTUM, nesterov=True, style="torch"), 2, 5, ALL,
     "nesterov"),
    ("weight_decay", 0, "train_step", dict(MOMENTUM, weight_decay=0.1), 2, 5, WEIGHTS,
     "weight_decay"),
    ("weight_decay", 0, "train_step", dict(momentum=0.9, weight_decay=0.1), 2, 5, ALL,
     "weight_decay"),
]


def _id(case: tuple) -> str:  # type: ignore[type-arg]
    return f"{case[0]}-L{case[1]}-{case[2]}-{case[7]}"


@pytest.mark.parametrize("layout_name", list(LAYOUTS))
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_planted_pattern_is_named_on_exactly_the_affected_parameters(
        case: tuple, layout_name: str) -> None:  # type: ignore[type-arg]
    bug, layer, mode, opt, steps, batch, expected, pattern = case
    base, dtype = LAYOUTS[layout_name]
    layout = Layout(base.weight, base.bias, base.inputs, base.container, mode, base.rebind)
    report = check(factory(sizes=SIZES, activations=ACTS, loss="half-sse", layout=layout,
                           opt=Opt(**opt), bug=bug, bug_layer=layer, dtype=dtype),
                   batch=batch, steps=steps, seed=3)
    text = report.to_text()
    assert report.forward.ok, text
    assert {p.canonical for p in report.wrong} == expected, text
    for p in report.wrong:
        assert pattern in p.patterns, f"{p.name}: {p.patterns}\n{text}"
    assert report.exit_code == 1


def _assert_named(report, expected: set[str], pattern: str) -> None:  # type: ignore[no-untyped-def]
    text = report.to_text()
    assert report.forward.ok, text
    assert {p.canonical for p in report.wrong} == expected, text
    for p in report.wrong:
        assert pattern in p.patterns, f"{p.name}: {p.patterns}\n{text}"
    assert report.exit_code == 1


def _dead_unit_start(sizes: tuple[int, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Random weights, with unit 1 of layer 0 given a zero weight column and zero bias: its
    pre-activation is exactly 0 for every input (where relu'(0) matters)."""
    rng = np.random.default_rng(7)
    out = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        out.append((rng.standard_normal((n_in, n_out)) / np.sqrt(n_in),
                    0.3 * rng.standard_normal((1, n_out))))
    out[0][0][:, 1] = 0.0
    out[0][1][0, 1] = 0.0
    return out


@pytest.mark.parametrize("mode", ["gradients", "train_step"])
@pytest.mark.parametrize("layout_name", list(LAYOUTS))
def test_relu_derivative_at_zero_is_named(mode: str, layout_name: str) -> None:
    base, dtype = LAYOUTS[layout_name]
    layout = Layout(base.weight, base.bias, base.inputs, base.container, mode, base.rebind)
    sizes, acts = (3, 4, 2), ("relu", "sigmoid")
    make = factory(sizes=sizes, activations=acts, loss="half-sse", layout=layout,
                   bug="relu_at_zero", bug_layer=0, dtype=dtype,
                   initial=_dead_unit_start(sizes))
    _assert_named(check(make, batch=5, seed=3), {"W0", "b0"}, "relu_at_zero")


def test_relu_at_zero_correct_network_gives_no_alarm() -> None:
    sizes = (3, 4, 2)
    make = factory(sizes=sizes, activations=("relu", "sigmoid"), loss="half-sse",
                   initial=_dead_unit_start(sizes))
    assert check(make, batch=5, seed=3).exit_code == 0


SAME_SHAPES = (3, 4, 4, 4)  # layers 1 and 2 are both (4, 4)


@pytest.mark.parametrize("layout_name", list(LAYOUTS))
@pytest.mark.parametrize(("bug", "layer", "mode", "expected"), [
    ("wrong_layer_weights", 1, "gradients", BELOW_1),
    ("wrong_layer_weights", 1, "train_step", BELOW_1),
    ("wrong_layer_weights_above", 0, "gradients", {"W0", "b0"}),
])
def test_delta_through_another_layers_weights_is_named(
        bug: str, layer: int, mode: str, expected: set[str], layout_name: str) -> None:
    base, dtype = LAYOUTS[layout_name]
    layout = Layout(base.weight, base.bias, base.inputs, base.container, mode, base.rebind)
    make = factory(sizes=SAME_SHAPES, activations=ACTS, loss="half-sse", layout=layout,
                   bug=bug, bug_layer=layer, dtype=dtype)
    _assert_named(check(make, batch=5, seed=3), expected, "wrong_layer_weights")


def test_forward_difference_is_reported_first_and_located() -> None:
    report = check(factory(sizes=SIZES, activations=ACTS, loss="half-sse", bug="forward_act",
                           bug_layer=1), batch=4)
    assert not report.forward.ok
    assert any("layer 1 computes tanh" in d for d in report.forward.diagnosis)
    assert all(p.patterns == ["forward"] for p in report.wrong)
    assert "start here: the forward pass" in report.to_text()


def test_other_loss_on_a_bce_network_is_named() -> None:
    report = check(factory(sizes=(2, 3, 1), activations=("relu", "sigmoid"), loss="bce",
                           bug="loss_other"), batch=6)
    assert {p.canonical for p in report.wrong} == {"W0", "b0", "W1", "b1"}
    assert all("loss" in p.patterns for p in report.wrong)


def test_unexplained_mistake_shows_the_worst_elements() -> None:
    # factor 2 on one weight *and* a sign flip on the loss: no single hypothesis fits W1
    def adapter():  # type: ignore[no-untyped-def]
        from check_planted import PlantedNet

        net = PlantedNet(sizes=SIZES, activations=ACTS, loss="half-sse", bug="factor2",
                         bug_layer=1)
        ad = net.adapter()
        inner = ad.gradients
        assert inner is not None

        def gradients(x, y):  # type: ignore[no-untyped-def]
            g = inner(x, y)
            g["dW2"] = g["dW2"] + 0.01 * (g["dW2"] ** 2)
            return g

        ad.gradients = gradients
        return ad

    report = check(adapter, batch=5)
    wrong = {p.canonical: p for p in report.wrong}
    assert set(wrong) == {"W1"}
    assert wrong["W1"].patterns == ["unexplained"]
    assert "worst elements: W2[" in wrong["W1"].diagnosis
