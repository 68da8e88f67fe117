"""A third oracle that needs neither handnet's backward nor torch: central finite differences.

On small float64 networks the gradient of ``f(theta) = sum(g * net(x; theta))`` is estimated
element by element as ``(f(theta + h) - f(theta - h)) / 2h`` with a forward pass written here
from the formulas (``z = a @ W + b``, ``a = f(z)``), and both handnet's and the twin's gradients
must agree with it within ``reference.comparison.tolerance.fd_tolerance``.  relu has a kink at 0,
where a difference quotient straddling it means nothing: examples whose relu inputs come within
1e-3 of 0 are rejected (a step ``h <= 6e-6 * max(1, |theta|)`` moves any pre-activation by far less
on these sizes).  relu at exactly 0 is tested against torch in ``test_equivalence_gradients``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import assume, given
from support import examples

from reference.comparison import strategies as S
from reference.comparison.compare import assert_matches_reference
from reference.comparison.harness import handnet_vjp, twin_vjp
from reference.comparison.tolerance import fd_step, fd_tolerance
from reference.twin.network import to_torch

FORMULAS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "identity": lambda z: z,
}

SMALL = S.problems(
    nets=S.network_specs(max_depth=3, max_width=4, dtype="float64", bias_scales=(0.0, 1.0)),
    max_batch=4, max_scale=1.0,
)


def plain_forward(params: dict[str, np.ndarray], acts: list[str], x: np.ndarray
                  ) -> tuple[np.ndarray, list[np.ndarray]]:
    a, zs = x, []
    for i, act in enumerate(acts):
        z = a @ params[f"W{i}"] + params[f"b{i}"]
        zs.append(z)
        a = FORMULAS[act](z)
    return a, zs


def central_differences(params: dict[str, np.ndarray], acts: list[str], x: np.ndarray,
                        g: np.ndarray) -> dict[str, np.ndarray]:
    def f(p: dict[str, np.ndarray], x_: np.ndarray) -> float:
        return float(np.sum(g * plain_forward(p, acts, x_)[0]))

    out = {}
    for name in [*params, "x"]:
        base = x if name == "x" else params[name]
        grad = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            h = fd_step(float(base[idx]))
            plus, minus = base.copy(), base.copy()
            plus[idx] += h
            minus[idx] -= h
            step = plus[idx] - minus[idx]  # the step actually taken, after rounding
            if name == "x":
                grad[idx] = (f(params, plus) - f(params, minus)) / step
            else:
                grad[idx] = (f({**params, name: plus}, x) - f({**params, name: minus}, x)) / step
        out[name] = grad
    return out


@examples(150)
@given(SMALL)
def test_both_gradients_agree_with_finite_differences(problem: S.Problem) -> None:
    net = problem.net.build()
    x, _, g = problem.arrays()
    params = {k: v.copy() for k, v in net.parameters.items()}
    _, zs = plain_forward(params, net.activation_names, x)
    for z, act in zip(zs, net.activation_names, strict=True):
        if act == "relu":
            assume(np.min(np.abs(z)) > 1e-3)
    fd = central_differences(params, net.activation_names, x, g)
    tol = fd_tolerance()
    # The difference quotient's rounding error is relative to the function values it
    # subtracts, sum |g * y_hat|, not to the gradient (see fd_tolerance).
    f_scale = float(np.sum(np.abs(g * plain_forward(params, net.activation_names, x)[0])))
    scales = dict.fromkeys(fd, f_scale)
    assert_matches_reference(handnet_vjp(net, x, g), fd, tol=tol, scales=scales,
                             what="handnet's gradients vs finite differences")
    assert_matches_reference(twin_vjp(to_torch(net), x, g), fd, tol=tol, scales=scales,
                             what="the twin's gradients vs finite differences")
