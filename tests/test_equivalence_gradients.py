"""Backward pass: per-parameter gradients equal the twin's, for a random upstream gradient."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from support import examples

from reference.comparison import strategies as S
from reference.comparison.compare import assert_matches_reference
from reference.comparison.harness import handnet_vjp, twin_vjp
from reference.comparison.scales import vjp_scales
from reference.twin.network import to_torch


@examples(300)
@given(S.problems())
def test_vjp_equal_for_a_random_upstream(problem: S.Problem) -> None:
    """Gradients of ``sum(g * y_hat)`` with ``g`` drawn at random, per parameter and for ``x``.

    Why not just ``y_hat.sum()`` (``g`` = ones)?  Then every output unit and every sample gets
    the same upstream value, so any bug that permutes, transposes or mis-broadcasts the
    upstream -- reading ``g[b, j]`` as ``g[j, b]`` for a square batch, pairing output unit ``j``
    with the wrong column, reducing over the wrong axis and broadcasting back -- gives exactly
    the right answer.  A loss's own gradient ties ``g`` to ``y_hat`` and can cancel the same
    way.  A random ``g`` distinguishes every one of those with probability 1.
    """
    net = problem.net.build()
    model = to_torch(net)
    x, _, g = problem.arrays()
    assert_matches_reference(handnet_vjp(net, x, g), twin_vjp(model, x, g),
                             scales=vjp_scales(model, x, g), what="gradients")


@examples(150)
@given(S.problems(nets=S.network_specs(activations=("relu",), max_depth=4),
                  losses=("half-sse", "mse")), st.data())
def test_relu_at_exactly_zero_matches_torch(problem: S.Problem, data: st.DataObject) -> None:
    """Units whose pre-activation is exactly 0 (zero weight column and bias) get relu'(0) = 0,
    as torch's ``threshold_backward`` does: their weight gradients are exactly zero."""
    net = problem.net.build()
    dead = {}
    for i, layer in enumerate(net.layers):
        n_out = layer.parameters["W"].shape[1]
        cols = data.draw(st.lists(st.integers(0, n_out - 1), min_size=1, unique=True),
                         label=f"zeroed units of layer {i}")
        layer.parameters["W"][:, cols] = 0.0
        layer.parameters["b"][:, cols] = 0.0
        dead[i] = cols
    model = to_torch(net)
    x, _, g = problem.arrays()
    net.forward(x)
    for i, cols in dead.items():
        assert np.all(net._z[i][:, cols] == 0.0)
    actual = handnet_vjp(net, x, g)
    assert_matches_reference(actual, twin_vjp(model, x, g), scales=vjp_scales(model, x, g),
                             what="gradients with relu inputs at exactly 0")
    for i, cols in dead.items():
        assert np.all(actual[f"W{i}"][:, cols] == 0.0), f"W{i}: relu'(0) must be 0"
        assert np.all(actual[f"b{i}"][:, cols] == 0.0), f"b{i}: relu'(0) must be 0"
