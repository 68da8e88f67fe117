"""Adapter errors: ``check`` raises ``AdapterError`` with a message naming what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from user_layouts import Layout, Opt, PlantedNet

from handnet.adapter import Adapter, AdapterError, Layer
from handnet.verdict import UserCodeError, Verdict
from reference.checker.check import check
from reference.checker.report import Report


def _net(**kwargs: Any) -> PlantedNet:
    return PlantedNet(sizes=(3, 4, 2), activations=("tanh", "sigmoid"), loss="half-sse",
                      **kwargs)


def _with(change: Callable[[Adapter], None], **kwargs: Any) -> Callable[[], Adapter]:
    def make() -> Adapter:
        ad = _net(**kwargs).adapter()
        change(ad)
        return ad

    return make


def _raises(make: Any, *fragments: str, **kwargs: Any) -> str:
    with pytest.raises(AdapterError) as info:
        check(make, **kwargs)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message
    return message


def test_missing_attribute_is_named() -> None:
    def change(ad: Adapter) -> None:
        ad.layers[1] = Layer("W9", "b2", "sigmoid")

    _raises(_with(change), "'W9'", "not found")


def test_missing_dict_entry_is_named() -> None:
    def change(ad: Adapter) -> None:
        ad.layers[0] = Layer("params['W7']", "params['b1']", "tanh")

    _raises(_with(change, layout=Layout(container="dict")), "params['W7']", "not found")


def test_shapes_that_do_not_chain_are_named_with_a_hint() -> None:
    def change(ad: Adapter) -> None:
        ad.weight_layout = "out_in"  # the weights are stored (in, out)

    _raises(_with(change), "shapes don't chain", "weight_layout='in_out'")


def test_bias_of_the_wrong_shape_is_named() -> None:
    def change(ad: Adapter) -> None:
        ad.bias_layout = "column"  # they are rows

    _raises(_with(change), "bias 'b1' has shape (1, 4)", "(4, 1)")


def _zero_update_fault(report: Report) -> None:
    assert report.verdict is Verdict.MISMATCH
    assert any("changed no parameter at step 1" in f for f in report.faults), report.faults
    assert {p.canonical for p in report.wrong} == {"W0", "b0", "W1", "b1"}
    assert all("zero" in p.patterns for p in report.wrong), report.to_text()


def test_update_step_that_changes_nothing_is_a_finding() -> None:
    def change(ad: Adapter) -> None:
        ad.train_step = lambda x, y: None  # every update zero: a finding, not an adapter error

    _zero_update_fault(check(_with(change, layout=Layout(mode="train_step"))))


def test_update_step_on_a_copy_is_a_finding() -> None:
    def make() -> Adapter:
        net = _net(layout=Layout(mode="train_step"))
        ad = net.adapter()
        copy = _net(layout=Layout(mode="train_step"))
        ad.train_step = copy.train_step  # updates another object, which the forward never reads
        return ad

    _zero_update_fault(check(make))


class _DictNet:
    """Parameters in a dict, aliased as attributes at first; training rebinds the dict's
    entries, so the attributes go stale."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.p = {"W": rng.standard_normal((3, 2)), "b": np.zeros((1, 2))}
        self.W, self.b = self.p["W"], self.p["b"]

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        self.out = 1 / (1 + np.exp(-(x @ self.p["W"] + self.p["b"])))
        return self.out

    def train_step(self, x: np.ndarray, y: np.ndarray) -> None:
        o = self.forward(x)
        d = (o - y) * o * (1 - o)
        self.p["W"] = self.p["W"] - 0.1 * x.T @ d
        self.p["b"] = self.p["b"] - 0.1 * d.sum(axis=0, keepdims=True)


def test_update_step_that_rebinds_other_arrays_is_an_adapter_error() -> None:
    def make() -> Adapter:
        net = _DictNet()
        return Adapter(net, [Layer("W", "b", "sigmoid")], "half-sse", forward=net.forward,
                       train_step=net.train_step, lr=0.1)

    _raises(make, "changed none of the arrays the adapter points at (W, b)",
            "yet the network's forward output changed")

    def fixed() -> Adapter:
        net = _DictNet()
        return Adapter(net, [Layer("p['W']", "p['b']", "sigmoid")], "half-sse",
                       forward=net.forward, train_step=net.train_step, lr=0.1)

    assert check(fixed).verdict is Verdict.MATCH


def test_wrong_gradient_keys_are_named() -> None:
    def change(ad: Adapter) -> None:
        ad.gradient_keys = None  # the network returns dW1 ..., the adapter looks for W1

    _raises(_with(change), "no entry for weight 'W1'", "dW1")


def test_gradient_of_an_unrelated_shape_is_an_adapter_error() -> None:
    def change(ad: Adapter) -> None:
        inner = ad.gradients
        assert inner is not None

        def gradients(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
            g = dict(inner(x, y))
            g["dW2"] = np.zeros((5, 5))
            return g

        ad.gradients = gradients

    _raises(_with(change), "returned shape (5, 5) for 'W2'", "(4, 2)")


def test_neither_gradients_nor_train_step() -> None:
    def change(ad: Adapter) -> None:
        ad.gradients = None

    _raises(_with(change), "neither gradients")


def test_train_step_without_lr() -> None:
    def change(ad: Adapter) -> None:
        ad.lr = None

    _raises(_with(change, layout=Layout(mode="train_step")), "set lr")


def test_unknown_activation_and_loss() -> None:
    def act(ad: Adapter) -> None:
        ad.layers[0].activation = "softplus"

    def loss(ad: Adapter) -> None:
        ad.loss = "hinge"

    _raises(_with(act), "activation is 'softplus'")
    _raises(_with(loss), "loss is 'hinge'")


def test_bce_needs_a_sigmoid_output() -> None:
    def change(ad: Adapter) -> None:
        ad.loss = "bce"
        ad.layers[-1].activation = "identity"

    _raises(_with(change), "bce", "sigmoid")


def test_non_finite_output_is_a_forward_mismatch() -> None:
    def change(ad: Adapter) -> None:
        ad.forward = lambda x: np.full((x.shape[0], 2), np.nan)

    report = check(_with(change))
    assert report.verdict is Verdict.MISMATCH and not report.forward.ok
    assert "not finite" in report.forward.diagnosis[0]


def test_output_of_the_wrong_shape() -> None:
    def change(ad: Adapter) -> None:
        ad.forward = lambda x: np.zeros((x.shape[0], 3))

    _raises(_with(change), "forward(x)'s output has shape", "(batch, 2)")


def test_exception_in_user_code_names_the_call_and_line() -> None:
    def change(ad: Adapter) -> None:
        def gradients(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
            return {"W1": x @ np.zeros((7, 7))}

        ad.gradients = gradients

    with pytest.raises(UserCodeError) as info:
        check(_with(change))
    assert "gradients(x, y) (batch 1) raised ValueError" in str(info.value)
    assert "test_check_errors.py:" in str(info.value)


def test_gradients_that_change_the_weights() -> None:
    def change(ad: Adapter) -> None:
        inner = ad.gradients
        net = ad.network
        assert inner is not None

        def gradients(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
            net.W1 += 1.0
            return dict(inner(x, y))

        ad.gradients = gradients

    _raises(_with(change), "gradients(x, y) (batch 1) changed 'W1'")


def test_factory_returning_something_else() -> None:
    _raises(lambda: 42, "returned a int, not a handnet.adapter.Adapter")


def test_nondeterministic_factory_is_named_when_both_styles_run() -> None:
    seeds = iter(range(100))

    def make() -> Adapter:
        net = _net(layout=Layout(mode="train_step"), seed=next(seeds))
        ad = net.adapter()
        ad.gradients = net.gradients
        ad.gradient_keys = {p: f"d{p}" for p in ad.parameter_paths()}
        ad.randomize = False  # else the check sets its own parameters, the same every call
        return ad

    _raises(make, "different weights on its second call")


def test_parameters_of_a_non_float_dtype() -> None:
    """(Float32 among float64 parameters is a finding: tests/test_check_mixed_dtypes.py.)"""
    def change(ad: Adapter) -> None:
        ad.network.b1 = np.zeros(ad.network.b1.shape, dtype=np.int64)

    _raises(_with(change), "'b1' has dtype int64", "needs float64 or float32")


def test_gradients_right_only_on_the_first_call_are_caught() -> None:
    def change(ad: Adapter) -> None:
        inner = ad.gradients
        assert inner is not None
        calls = []

        def gradients(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
            calls.append(1)
            g = dict(inner(x, y))
            if len(calls) > 1:
                g["dW1"] = 1.01 * g["dW1"]
            return g

        ad.gradients = gradients

    report = check(_with(change))
    assert report.verdict is Verdict.MISMATCH
    assert [(p.canonical, p.first_wrong_step) for p in report.wrong] == [("W0", 2)]


def test_a_step_diverging_only_in_the_user_network_is_a_mismatch() -> None:
    def change(ad: Adapter) -> None:
        inner = ad.train_step
        net = ad.network
        assert inner is not None

        def train_step(x: np.ndarray, y: np.ndarray) -> None:
            inner(x, y)
            net.b2[0, 0] = np.inf

        ad.train_step = train_step

    report = check(_with(change, layout=Layout(mode="train_step"), opt=Opt(lr=0.05)))
    assert {p.canonical for p in report.wrong} == {"b1"}
    assert "not finite" in report.wrong[0].diagnosis


def test_python_api_takes_an_adapter_object_too() -> None:
    from reference import check as api_check

    report = api_check(_net().adapter(), batch=3)
    assert report.exit_code == 0
    data = report.to_dict()
    assert data["verdict"] == "match" and data["start_here"] is None
    assert [r["name"] for r in data["parameters"]] == ["W2", "b2", "W1", "b1"]
