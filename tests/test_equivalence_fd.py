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
from reference.comparison.harness import (
    handnet_loss_gradients,
    handnet_vjp,
    twin_loss_gradients,
    twin_vjp,
)
from reference.comparison.tolerance import fd_step, fd_tolerance
from reference.twin.network import to_torch


def _logsumexp(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=1, keepdims=True)
    return m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))


FORMULAS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "identity": lambda z: z,
    "softmax": lambda z: np.exp(z - _logsumexp(z)),
}

# Each loss as its terms (summed over to give the loss, after the reduction's division) and
# the divisor: every element for the averaged element-wise losses, the batch for the class
# losses, 1 for the sums.  Written from the definitions, not from handnet or torch.
LOSS_TERMS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "half-sse": lambda p, y: 0.5 * (p - y) ** 2,
    "sse": lambda p, y: (p - y) ** 2,
    "mse": lambda p, y: (p - y) ** 2,
    "half-mse": lambda p, y: 0.5 * (p - y) ** 2,
    "bce": lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p)),
    "bce-sum": lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p)),
    "bce-logits": lambda z, y: np.logaddexp(0.0, z) - y * z,
    "bce-logits-sum": lambda z, y: np.logaddexp(0.0, z) - y * z,
    "softmax-ce": lambda z, y: -y * (z - _logsumexp(z)),
    "softmax-ce-sum": lambda z, y: -y * (z - _logsumexp(z)),
    "ce": lambda p, y: -y * np.log(p),
    "ce-sum": lambda p, y: -y * np.log(p),
}


def loss_divisor(loss: str, y: np.ndarray) -> float:
    if loss in ("half-sse", "sse", "bce-sum", "bce-logits-sum", "softmax-ce-sum", "ce-sum"):
        return 1.0
    return float(len(y)) if loss in ("softmax-ce", "ce") else float(y.size)

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
                        of_output: Callable[[np.ndarray], float]) -> dict[str, np.ndarray]:
    """Central differences of ``of_output(net(x; theta))`` for every parameter and ``x``."""
    def f(p: dict[str, np.ndarray], x_: np.ndarray) -> float:
        return of_output(plain_forward(p, acts, x_)[0])

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
    fd = central_differences(params, net.activation_names, x,
                             lambda out: float(np.sum(g * out)))
    tol = fd_tolerance()
    # The difference quotient's rounding error is relative to the function values it
    # subtracts, sum |g * y_hat|, not to the gradient (see fd_tolerance).
    f_scale = float(np.sum(np.abs(g * plain_forward(params, net.activation_names, x)[0])))
    scales = dict.fromkeys(fd, f_scale)
    assert_matches_reference(handnet_vjp(net, x, g), fd, tol=tol, scales=scales,
                             what="handnet's gradients vs finite differences")
    assert_matches_reference(twin_vjp(to_torch(net), x, g), fd, tol=tol, scales=scales,
                             what="the twin's gradients vs finite differences")


@examples(60)
@given(SMALL)
def test_loss_gradients_agree_with_finite_differences(problem: S.Problem) -> None:
    """The loss's own gradient through the network, ``dL/dtheta`` from ``loss.gradient`` and
    backprop (handnet) and from autograd (the twin), against central differences of ``L``
    written from its definition (``LOSS_TERMS``): every loss, with its reduction."""
    net = problem.net.build()
    x, y, _ = problem.arrays()
    params = {k: v.copy() for k, v in net.parameters.items()}
    acts = net.activation_names
    out, zs = plain_forward(params, acts, x)
    for z, act in zip(zs, acts, strict=True):
        if act == "relu":
            assume(np.min(np.abs(z)) > 1e-3)
    terms, divisor = LOSS_TERMS[problem.loss], loss_divisor(problem.loss, y)
    if problem.loss in ("bce", "bce-sum"):  # away from torch's clamp (log -100, p(1-p) 1e-12)
        assume(np.min(out * (1 - out)) > 1e-6)
    fd = central_differences(params, acts, x, lambda o: float(np.sum(terms(o, y)) / divisor))
    f_scale = float(np.sum(np.abs(terms(out, y))) / divisor)
    tol, scales = fd_tolerance(), dict.fromkeys(fd, f_scale)
    assert_matches_reference(handnet_loss_gradients(net, x, y, problem.loss), fd, tol=tol,
                             scales=scales, what=f"handnet's {problem.loss} gradients vs "
                             "finite differences")
    assert_matches_reference(twin_loss_gradients(to_torch(net), x, y, problem.loss), fd,
                             tol=tol, scales=scales,
                             what=f"the twin's {problem.loss} gradients vs finite differences")
