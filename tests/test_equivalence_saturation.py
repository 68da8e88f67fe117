"""Saturating inputs (|x| up to 1e3): no warnings, finite gradients, and still equal."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given
from support import examples

from reference.comparison import strategies as S
from reference.comparison.compare import assert_matches_reference
from reference.comparison.harness import (
    handnet_forward,
    handnet_loss_gradients,
    handnet_vjp,
    twin_forward,
    twin_loss_gradients,
    twin_vjp,
)
from reference.comparison.scales import forward_scale, vjp_scales
from reference.twin.network import to_torch

SATURATING = S.problems(nets=S.network_specs(activations=("sigmoid", "tanh")), min_scale=1e2)


@examples(80)
@given(SATURATING)
def test_saturating_inputs_stay_finite_silent_and_equal(problem: S.Problem) -> None:
    net = problem.net.build()
    model = to_torch(net)
    x, y, g = problem.arrays()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning (overflow, invalid, divide) fails
        forward = handnet_forward(net, x, y, problem.loss)
        vjp = handnet_vjp(net, x, g)
        loss_grads = handnet_loss_gradients(net, x, y, problem.loss)
    for name, value in {**forward, **vjp, **{f"dL/d{k}": v for k, v in loss_grads.items()}}.items():
        assert np.all(np.isfinite(value)), f"{name} is not finite"
    twin_loss = twin_loss_gradients(model, x, y, problem.loss)
    for name, value in twin_loss.items():
        assert np.all(np.isfinite(value)), f"the twin's dL/d{name} is not finite"
    assert_matches_reference({"y_hat": forward["y_hat"]},
                             {"y_hat": twin_forward(model, x, y, problem.loss)["y_hat"]},
                             scales={"y_hat": forward_scale(model, x)}, what="saturated output")
    assert_matches_reference(vjp, twin_vjp(model, x, g), scales=vjp_scales(model, x, g),
                             what="saturated gradients")
