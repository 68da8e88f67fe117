"""Forward pass and loss: handnet equals its PyTorch twin; the twin is a faithful copy."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from support import examples

from handnet.losses import get_loss
from reference.comparison import strategies as S
from reference.comparison.compare import assert_matches_reference
from reference.comparison.harness import handnet_forward, twin_forward
from reference.comparison.scales import forward_scale, loss_value_scale
from reference.twin.losses import get_torch_loss
from reference.twin.network import to_handnet, to_torch


@examples(300)
@given(S.network_specs())
def test_round_trip_is_bit_exact(spec: S.NetSpec) -> None:
    """handnet -> twin -> handnet moves no bits, float64 and float32 (W (in, out) <-> (out, in))."""
    net = spec.build()
    model = to_torch(net)
    for i, layer in enumerate(net.layers):
        assert model.linears[i].weight.shape == layer.parameters["W"].shape[::-1]
        assert model.linears[i].weight.dtype == {"float64": torch.float64,
                                                 "float32": torch.float32}[spec.dtype]
    back = to_handnet(model)
    for name, p in net.parameters.items():
        q = back.parameters[name]
        assert q.dtype == p.dtype and q.shape == p.shape
        assert p.tobytes() == q.tobytes(), f"{name} changed in the round trip"
        assert not np.shares_memory(p, q)


@examples(300)
@given(S.problems())
def test_forward_output_equal(problem: S.Problem) -> None:
    net = problem.net.build()
    model = to_torch(net)
    x, y, _ = problem.arrays()
    actual = {"y_hat": handnet_forward(net, x, y, problem.loss)["y_hat"]}
    expected = {"y_hat": twin_forward(model, x, y, problem.loss)["y_hat"]}
    assert_matches_reference(actual, expected, scales={"y_hat": forward_scale(model, x)},
                             what="forward output")


@examples(300)
@given(S.problems())
def test_loss_and_its_gradient_equal_at_the_same_output(problem: S.Problem) -> None:
    """The loss value and dL/dy_hat, both taken at the twin's output (so only the loss is
    tested here; the forward pass has its own property)."""
    model = to_torch(problem.net.build())
    x, y, _ = problem.arrays()
    with torch.no_grad():
        y_hat = model(torch.tensor(x)).numpy()
    p = torch.tensor(y_hat, requires_grad=True)
    value = get_torch_loss(problem.loss)(p, torch.tensor(y))
    value.backward()
    assert p.grad is not None
    loss = get_loss(problem.loss)
    # ``Loss.value`` returns a Python float by design (a number for logs); the twin's value is
    # taken as one too, so the loss compares float with float.  dL/dy_hat, which training
    # uses, must have the twin's dtype.
    actual = {"loss": np.asarray(loss.value(y_hat, y)), "dL/dy_hat": loss.gradient(y_hat, y)}
    expected = {"loss": np.asarray(value.item()), "dL/dy_hat": p.grad.numpy()}
    assert_matches_reference(actual, expected, what=f"{problem.loss} loss",
                             scales={"loss": loss_value_scale(problem.loss, y_hat, y)})
