"""No false alarms: correct user-style networks, in every layout, pass ``check`` (exit 0).

Layouts vary over everything the adapter protocol covers: weights (in, out) or (out, in),
samples as rows or columns, biases as rows, columns, vectors, folded into the weight or absent,
parameters as attributes, a list or a dict, gradients returned or in-place steps (updating in
place or rebinding), with any optimiser configuration and schedule over several steps.
"""

from __future__ import annotations

import numpy as np
from check_planted import Layout, Opt, PlantedNet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference.check import check

ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")


@st.composite
def layouts(draw: st.DrawFn) -> Layout:
    return Layout(
        weight=draw(st.sampled_from(("in_out", "out_in"))),
        bias=draw(st.sampled_from(("row", "column", "vector", "folded", "none"))),
        inputs=draw(st.sampled_from(("rows", "columns"))),
        container=draw(st.sampled_from(("attrs", "list", "dict"))),
        mode=draw(st.sampled_from(("gradients", "train_step"))),
        rebind=draw(st.booleans()),
    )


@st.composite
def optimisers(draw: st.DrawFn) -> Opt:
    momentum = draw(st.sampled_from((0.0, 0.5, 0.9)))
    gamma = draw(st.sampled_from((0.0, 0.5)))
    return Opt(
        lr=draw(st.sampled_from((1e-3, 0.02, 0.1))),  # stable training only
        momentum=momentum,
        style=draw(st.sampled_from(("classic", "torch"))),
        bias_momentum=draw(st.booleans()),
        nesterov=momentum > 0 and draw(st.booleans()),
        weight_decay=draw(st.sampled_from((0.0, 1e-2))),
        lr_epoch=draw(st.integers(1, 3)) if gamma else 0,
        lr_gamma=gamma,
    )


@st.composite
def correct_networks(draw: st.DrawFn) -> tuple[PlantedNet, int, int]:
    depth = draw(st.integers(1, 4))
    sizes = tuple(draw(st.lists(st.integers(1, 6), min_size=depth + 1, max_size=depth + 1)))
    loss = draw(st.sampled_from(("half-sse", "mse", "bce")))
    acts = list(draw(st.lists(st.sampled_from(ACTIVATIONS), min_size=depth, max_size=depth)))
    if loss == "bce":
        acts[-1] = "sigmoid"
    layout = draw(layouts())
    net = PlantedNet(sizes, tuple(acts), loss, layout, draw(optimisers()),
                     seed=draw(st.integers(0, 2**16)),
                     dtype=draw(st.sampled_from((np.float64, np.float32))))
    batch = draw(st.integers(1, 12))
    steps = draw(st.integers(1, 4)) if layout.mode == "train_step" else 1
    return net, batch, steps


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=correct_networks(), seed=st.integers(0, 2**16))
def test_correct_networks_raise_no_false_alarm(case: tuple[PlantedNet, int, int],
                                               seed: int) -> None:
    net, batch, steps = case

    def adapter():  # type: ignore[no-untyped-def]
        return PlantedNet(net.sizes, net.activations, net.loss, net.layout, net.opt,
                          seed=net.seed, dtype=net.dtype).adapter()

    report = check(adapter, batch=batch, steps=steps, seed=seed)
    assert report.exit_code == 0, report.to_text()
