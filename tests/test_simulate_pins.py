"""Each mutation of ``reference.checker.simulate`` pinned by one example computed by hand.

The diagnosis names a bug when a simulation with that one mutation reproduces the user's
numbers, so a simulation that computes something else names the wrong bug.  Here every
mutation meets numbers worked out on paper (the arithmetic is in the comments; the values are
chosen so that it is exact in binary, except where a sigmoid or tanh has to be evaluated),
never numbers from ``handnet`` or from ``simulate`` itself.

The backward net is 1-1-1, batch 2: ``x = [1, 2]``, ``W0 = 0.5``, ``b0 = -0.5``, relu, then
``W1 = 2``, ``b1 = 0.25``, identity, half-sse against ``y = [1, 1]``::

    z0 = [0, 0.5]  a0 = [0, 0.5]  relu'(z0) = [0, 1]
    p  = 2 * a0 + 0.25 = [0.25, 1.25]   g1 = p - y = [-0.75, 0.25] = delta1
    dW1 = a0 . delta1 = 0 * -0.75 + 0.5 * 0.25 = 0.125    db1 = -0.75 + 0.25 = -0.5
    g0 = delta1 * W1 = [-1.5, 0.5]   delta0 = g0 * relu' = [0, 0.5]
    dW0 = x . delta0 = 1 * 0 + 2 * 0.5 = 1.0              db0 = 0.5
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from reference.checker.simulate import (
    LOSS_DERIVATIVES,
    Mutation,
    OptConfig,
    UpdateFn,
    backward,
    derivative,
    step_lr,
    trajectory,
)

X = np.array([[1.0], [2.0]])
Y = np.array([[1.0], [1.0]])
PARAMS = [(np.array([[0.5]]), np.array([[-0.5]])), (np.array([[2.0]]), np.array([[0.25]]))]
ACTS = ["relu", "identity"]
RIGHT = {"W0": 1.0, "b0": 0.5, "W1": 0.125, "b1": -0.5}


def _grads(mutation: Mutation, update: UpdateFn | None = None) -> dict[str, float]:
    grads, _ = backward(PARAMS, ACTS, X, Y, "half-sse", mutation, update)
    assert all(g.shape == (1, 1) for g in grads.values())
    return {name: float(g[0, 0]) for name, g in grads.items()}


def test_the_right_backward() -> None:
    assert _grads(Mutation()) == RIGHT


@pytest.mark.parametrize(("mutation", "expected"), [
    # relu'(0) taken as 1: delta0 = g0 * [1, 1] = [-1.5, 0.5];
    # dW0 = 1 * -1.5 + 2 * 0.5 = -0.5, db0 = -1.5 + 0.5 = -1.0
    (Mutation("relu_at_zero", 0), {**RIGHT, "W0": -0.5, "b0": -1.0}),
    # no f' anywhere ("*"): relu' -> 1, the same delta0 here (identity's is 1 already)
    (Mutation("deriv_missing", -1, activation="*"), {**RIGHT, "W0": -0.5, "b0": -1.0}),
    # the loss's derivative another loss's: sse, g1 = 2 * (p - y) = [-1.5, 0.5];
    # dW1 = 0.5 * 0.5 = 0.25, db1 = -1.0, g0 = [-3, 1], delta0 = [0, 1], dW0 = 2, db0 = 1
    (Mutation("loss", loss="sse"), {"W0": 2.0, "b0": 1.0, "W1": 0.25, "b1": -1.0}),
    # delta1 pushed back through W0 (offset -1) instead of W1: g0 = delta1 * 0.5 =
    # [-0.375, 0.125], delta0 = [0, 0.125], dW0 = 2 * 0.125 = 0.25, db0 = 0.125
    (Mutation("wrong_layer_weights", 1, offset=-1), {**RIGHT, "W0": 0.25, "b0": 0.125}),
    # layer 0's relu' taken at layer 1's z = p = [0.25, 1.25] instead of z0 = [0, 0.5]:
    # relu'(p) = [1, 1], delta0 = g0 = [-1.5, 0.5], dW0 = -1.5 + 2 * 0.5 = -0.5, db0 = -1.0
    (Mutation("deriv_other_layer", 0, offset=1), {**RIGHT, "W0": -0.5, "b0": -1.0}),
], ids=["relu_at_zero", "deriv_missing", "loss", "wrong_layer_weights", "deriv_other_layer"])
def test_backward_mutations(mutation: Mutation, expected: dict[str, float]) -> None:
    assert _grads(mutation) == expected


def test_after_update_uses_the_updated_weight_above() -> None:
    # the step's update of W1 is lr * dW1 with lr = 0.5: W1' = 2 - 0.5 * 0.125 = 1.9375;
    # g0 = delta1 * 1.9375 = [-1.453125, 0.484375], delta0 = [0, 0.484375],
    # dW0 = 2 * 0.484375 = 0.96875, db0 = 0.484375
    seen = []

    def update(name: str, grad: np.ndarray, W: np.ndarray) -> np.ndarray:
        seen.append((name, float(grad[0, 0]), float(W[0, 0])))
        return 0.5 * grad

    assert _grads(Mutation("after_update", 0), update=update) == {
        **RIGHT, "W0": 0.96875, "b0": 0.484375}
    assert seen == [("W1", 0.125, 2.0)]


# (activation, z, a, kind, f') with z and a chosen apart (f' must use the one its rule says)
DERIVATIVES = [
    ("sigmoid", 2.0, 0.25, "", 0.25 * 0.75),  # a * (1 - a)
    ("sigmoid", 2.0, 0.25, "deriv_at_preactivation", -2.0),  # z * (1 - z) = 2 * -1
    ("sigmoid", 2.0, 0.25, "deriv_at_output",  # s(a) * (1 - s(a)), s(0.25) = 1 / (1 + e^-0.25)
     (1 / (1 + math.exp(-0.25))) * (1 - 1 / (1 + math.exp(-0.25)))),
    ("sigmoid", 2.0, 0.25, "deriv_missing", 1.0),
    ("tanh", 3.0, 0.5, "", 0.75),  # 1 - a**2
    ("tanh", 3.0, 0.5, "deriv_at_preactivation", -8.0),  # 1 - z**2 = 1 - 9
    ("tanh", 3.0, 0.5, "deriv_at_output", 1 - math.tanh(0.5) ** 2),  # 1 - tanh(a)**2
    ("tanh", 3.0, 0.5, "deriv_missing", 1.0),
    ("relu", -1.0, 0.0, "relu_at_zero", 0.0),
    ("relu", 0.0, 0.0, "", 0.0),  # torch's relu'(0)
    ("relu", 0.0, 0.0, "relu_at_zero", 1.0),  # z >= 0
    ("relu", 2.0, 2.0, "relu_at_zero", 1.0),
]


@pytest.mark.parametrize(("activation", "z", "a", "kind", "expected"), DERIVATIVES)
def test_derivative_mutations(activation: str, z: float, a: float, kind: str,
                              expected: float) -> None:
    got = derivative(activation, np.array([[z]]), np.array([[a]]), kind)
    assert got.shape == (1, 1) and got.dtype == np.float64
    assert got[0, 0] == pytest.approx(expected, rel=2e-16, abs=0)


def test_derivative_mutation_placement() -> None:
    # layer j only; layer -1: every layer of the named activation
    assert Mutation("deriv_missing", 1).derivative_kind(1, "tanh") == "deriv_missing"
    assert Mutation("deriv_missing", 1).derivative_kind(0, "tanh") == ""
    every_tanh = Mutation("deriv_at_output", -1, activation="tanh")
    assert [every_tanh.derivative_kind(i, a) for i, a in enumerate(["tanh", "sigmoid", "tanh"])
            ] == ["deriv_at_output", "", "deriv_at_output"]
    assert Mutation("loss", loss="sse").derivative_kind(0, "tanh") == ""


# p, y of shape (batch 2, outputs 2): p - y = [[-0.5, 0.25], [0.75, -0.5]], N = 4 elements,
# p * (1 - p) = [[0.25, 0.1875], [0.1875, 0.25]]
P = np.array([[0.5, 0.25], [0.75, 0.5]])
T = np.array([[1.0, 0.0], [0.0, 1.0]])
LOSSES = {
    "half-sse": [[-0.5, 0.25], [0.75, -0.5]],  # p - y
    "half-sse-mean": [[-0.25, 0.125], [0.375, -0.25]],  # (p - y) / 2 (batch)
    "sse": [[-1.0, 0.5], [1.5, -1.0]],  # 2 (p - y)
    "mse": [[-0.25, 0.125], [0.375, -0.25]],  # 2 (p - y) / 4
    "half-mse": [[-0.125, 0.0625], [0.1875, -0.125]],  # (p - y) / 4
    "mse-batch": [[-0.5, 0.25], [0.75, -0.5]],  # 2 (p - y) / 2
    "bce-sum": [[-2.0, 0.25 / 0.1875], [0.75 / 0.1875, -2.0]],  # (p - y) / (p (1 - p))
    "bce": [[-0.5, 0.25 / 0.1875 / 4], [0.75 / 0.1875 / 4, -0.5]],  # ... / 4
}


def test_every_loss_derivative() -> None:
    # the squared-error family and bce on probabilities, by hand; the rest (on logits, the
    # softmax's) are handnet.losses' own, pinned against torch in tests/test_losses_more.py
    assert set(LOSSES) <= set(LOSS_DERIVATIVES)
    for key, expected in LOSSES.items():
        np.testing.assert_array_equal(LOSS_DERIVATIVES[key][1](P, T), expected, err_msg=key)


def test_bce_derivative_clamps_the_denominator_at_float32_1e_12() -> None:
    # p = 1, y = 0: p (1 - p) = 0 -> max(0, float32(1e-12) = 9.999999960041972e-13)
    got = LOSS_DERIVATIVES["bce-sum"][1](np.array([[1.0]]), np.array([[0.0]]))
    assert got[0, 0] == 1.0 / 9.999999960041972e-13


# --- the optimiser variants: one layer, identity, half-sse, x = 1, y = 0, W = 1, b = 0 -------
# p = W + b, so dW = db = g = p.  Updates u_t = p_{t-1} - p_t; m = 0.5.

ONE = [(np.array([[1.0]]), np.array([[0.0]]))]
BATCH = (np.array([[1.0]]), np.array([[0.0]]))


def _updates(opt: OptConfig, lr_at: Callable[[int], float] | None = None, steps: int = 2,
             trainable: set[str] | None = None) -> list[dict[str, float]]:
    lr = lr_at if lr_at is not None else (lambda t: opt.lr)
    out = trajectory(ONE, ["identity"], "half-sse", [BATCH] * steps, opt, lr, trainable)
    return [{k: float(v[0, 0]) for k, v in step.items()} for step in out]


def test_classic_momentum() -> None:
    # v1 = lr g1 = 0.25 -> W = 0.75, b = -0.25, g2 = 0.5; v2 = 0.5 * 0.25 + 0.25 * 0.5 = 0.25
    assert _updates(OptConfig(lr=0.25, momentum=0.5)) == [{"W0": 0.25, "b0": 0.25},
                                                          {"W0": 0.25, "b0": 0.25}]


def test_torch_momentum_parts_from_classic_after_an_lr_change() -> None:
    lr = step_lr(0.25, 1, 0.5)  # 0.25, then 0.125
    # torch: v1 = g1 = 1, u1 = 0.25 * 1; g2 = 0.5, v2 = 0.5 * 1 + 0.5 = 1, u2 = 0.125 * 1
    assert _updates(OptConfig(lr=0.25, momentum=0.5, style="torch"), lr) == [
        {"W0": 0.25, "b0": 0.25}, {"W0": 0.125, "b0": 0.125}]
    # classic: v1 = 0.25; v2 = 0.5 * 0.25 + 0.125 * 0.5 = 0.1875
    assert _updates(OptConfig(lr=0.25, momentum=0.5), lr) == [
        {"W0": 0.25, "b0": 0.25}, {"W0": 0.1875, "b0": 0.1875}]


def test_bias_or_weights_out_of_momentum() -> None:
    # out of momentum at step 2: lr g2 = 0.25 * 0.5 = 0.125; in it: 0.25 (as above)
    assert _updates(OptConfig(lr=0.25, momentum=0.5, bias_momentum=False)) == [
        {"W0": 0.25, "b0": 0.25}, {"W0": 0.25, "b0": 0.125}]
    assert _updates(OptConfig(lr=0.25, momentum=0.5, weight_momentum=False)) == [
        {"W0": 0.25, "b0": 0.25}, {"W0": 0.125, "b0": 0.25}]


@pytest.mark.parametrize(("style", "formula", "u1"), [
    ("classic", "", 0.375),  # v1 = lr g = 0.25; lr g + m v1 = 0.25 + 0.125
    ("classic", "torch", 0.28125),  # lr (g + m v1) = 0.25 * (1 + 0.125)
    ("torch", "", 0.375),  # v1 = g = 1; lr (g + m v1) = 0.25 * 1.5
    ("torch", "classic", 0.75),  # lr g + m v1 = 0.25 + 0.5
])
def test_nesterov_formulas(style: str, formula: str, u1: float) -> None:
    opt = OptConfig(lr=0.25, momentum=0.5, style=style, nesterov=True, nesterov_formula=formula)
    assert _updates(opt, steps=1) == [{"W0": u1, "b0": u1}]


def test_weight_decay_coupled_and_decoupled() -> None:
    # coupled (wd = 0.5): gW1 = 1 + 0.5 * 1 = 1.5, gb1 = 1 + 0 = 1 -> u1 = 0.375, 0.25;
    # W = 0.625, b = -0.25, g2 = 0.375: gW2 = 0.375 + 0.3125 = 0.6875 ->
    # vW2 = 0.5 * 0.375 + 0.25 * 0.6875 = 0.359375; gb2 = 0.375 - 0.125 = 0.25 ->
    # vb2 = 0.5 * 0.25 + 0.25 * 0.25 = 0.1875
    assert _updates(OptConfig(lr=0.25, momentum=0.5, weight_decay=0.5)) == [
        {"W0": 0.375, "b0": 0.25}, {"W0": 0.359375, "b0": 0.1875}]
    # decoupled: u = v + lr wd p with v from g alone: u1 = 0.25 + 0.125 * 1, 0.25 + 0;
    # vW2 = vb2 = 0.5 * 0.25 + 0.25 * 0.375 = 0.21875;
    # uW2 = 0.21875 + 0.125 * 0.625 = 0.296875, ub2 = 0.21875 + 0.125 * -0.25 = 0.1875
    assert _updates(OptConfig(lr=0.25, momentum=0.5, weight_decay=0.5,
                              decoupled_decay=True)) == [
        {"W0": 0.375, "b0": 0.25}, {"W0": 0.296875, "b0": 0.1875}]


def test_untrainable_parameters_stay() -> None:
    # only W trains: u1 = lr g = 0.25; W = 0.75, b = 0, g2 = 0.75, u2 = 0.1875
    assert _updates(OptConfig(lr=0.25), trainable={"W0"}) == [{"W0": 0.25}, {"W0": 0.1875}]


@pytest.mark.parametrize(("factor", "shift", "lrs"), [
    (0.5, 0, [1.0, 1.0, 0.5, 0.5, 0.25]),  # lr0 * 0.5 ** (t // 2)
    (0.5, 1, [1.0, 0.5, 0.5, 0.25, 0.25]),  # one step early: (t + 1) // 2
    (0.5, -1, [1.0, 1.0, 1.0, 0.5, 0.5]),  # one step late: max(t - 1, 0) // 2
    (0.75, 0, [1.0, 1.0, 0.75, 0.75, 0.5625]),  # another factor
])
def test_step_lr(factor: float, shift: int, lrs: list[float]) -> None:
    lr_at = step_lr(1.0, 2, factor, shift)
    assert [lr_at(t) for t in range(5)] == lrs


def test_the_simulated_softmax_layer_backward_is_torchs() -> None:
    """A softmax output layer under ce: the simulation's correct backward (the Jacobian-vector
    product) gives torch autograd's gradients; its diagonal alone would not."""
    import torch

    rng = np.random.default_rng(0)
    params = [(rng.standard_normal((3, 4)), rng.standard_normal((1, 4))),
              (rng.standard_normal((4, 3)), rng.standard_normal((1, 3)))]
    x = rng.standard_normal((5, 3))
    y = np.eye(3)[[0, 2, 1, 1, 0]]
    grads, _ = backward(params, ["tanh", "softmax"], x, y, "ce")
    t = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
         for W, b in params]
    p = torch.softmax(torch.tanh(torch.tensor(x) @ t[0][0] + t[0][1]) @ t[1][0] + t[1][1], 1)
    (-(torch.tensor(y) * torch.log(p)).sum(1).mean()).backward()
    for i, (W, b) in enumerate(t):
        np.testing.assert_allclose(grads[f"W{i}"], W.grad.numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(grads[f"b{i}"], b.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_the_table_has_every_loss_an_adapter_can_state() -> None:
    """Every handnet loss (what an adapter can state) has its derivative in the one table, and
    the table agrees with handnet's own implementation (written independently: see simulate's
    docstring) at generic points."""
    from handnet.losses import LOSSES as HANDNET_LOSSES
    from handnet.losses import get_loss
    from reference.checker.simulate import STATED_LOSS

    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.95, (4, 3))
    p /= p.sum(axis=1, keepdims=True)  # valid as probabilities, distributions and logits
    y = np.eye(3)[[0, 2, 1, 1]]
    assert set(STATED_LOSS) == set(HANDNET_LOSSES)
    for name in HANDNET_LOSSES:
        np.testing.assert_allclose(LOSS_DERIVATIVES[STATED_LOSS[name]][1](p, y),
                                   get_loss(name).gradient(p, y), rtol=1e-13, err_msg=name)
