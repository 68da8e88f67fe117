"""Adam, AdamW, RMSprop, Adagrad and the new schedules on numbers worked out by hand (each
expected value is derived in the comment above it, not by the code under test)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from handnet.optim import Adagrad, Adam, AdamW, RMSprop
from handnet.schedule import Cosine, Exponential, Linear, MultiStep


def one(value: float) -> dict[str, np.ndarray]:
    return {"W0": np.array([[value]])}


def test_adam_first_step_moves_by_lr() -> None:
    # p = 1, g = 2, lr = 0.1, betas (0.9, 0.999), eps 0: m = 0.1 * 2 = 0.2, v = 0.001 * 4 =
    # 0.004; bias corrections 1 - 0.9 = 0.1 and 1 - 0.999 = 0.001: m_hat = 2, v_hat = 4, so
    # p = 1 - 0.1 * 2 / sqrt(4) = 0.9 (without bias correction: 1 - 0.1 * 0.2 / sqrt(0.004)
    # = 1 - 0.316 = 0.684).
    p = one(1.0)
    opt = Adam(lr=0.1, eps=0.0)
    opt.step(p, one(2.0))
    assert p["W0"][0, 0] == pytest.approx(0.9, rel=1e-15)
    assert opt.state["W0"]["exp_avg"][0, 0] == pytest.approx(0.2, rel=1e-15)
    assert opt.state["W0"]["exp_avg_sq"][0, 0] == pytest.approx(0.004, rel=1e-13)
    assert opt.state["W0"]["step"] == np.float32(1) and opt.state["W0"]["step"].dtype == np.float32


def test_adam_second_step() -> None:
    # g = 2 then g = -1, lr 0.1, eps 0.  Step 2: m = 0.9 * 0.2 + 0.1 * (-1) = 0.08,
    # v = 0.999 * 0.004 + 0.001 * 1 = 0.004996; bc1 = 1 - 0.81 = 0.19, bc2 = 1 - 0.998001 =
    # 0.001999: m_hat = 0.08 / 0.19 = 0.42105263, v_hat = 0.004996 / 0.001999 = 2.4992496,
    # sqrt = 1.5808999; step = 0.1 * 0.42105263 / 1.5808999 = 0.02663373; p = 0.9 - 0.0266337.
    p = one(1.0)
    opt = Adam(lr=0.1, eps=0.0)
    opt.step(p, one(2.0))
    opt.step(p, one(-1.0))
    assert p["W0"][0, 0] == pytest.approx(0.9 - 0.02663373, rel=1e-7)


def test_adam_eps_is_outside_the_square_root() -> None:
    # p = 0, g = 1e-8, eps = 1e-8, lr = 1: m_hat = 1e-8, v_hat = 1e-16, sqrt(v_hat) = 1e-8;
    # p = -1e-8 / (1e-8 + 1e-8) = -0.5.  (eps inside: sqrt(1e-16 + 1e-8) = 1e-4, p = -1e-4.)
    p = one(0.0)
    Adam(lr=1.0, eps=1e-8).step(p, one(1e-8))
    assert p["W0"][0, 0] == pytest.approx(-0.5, rel=1e-12)


def test_adamw_decay_is_decoupled() -> None:
    # p = 1, g = 0, lr = 0.1, weight_decay 0.1: AdamW multiplies p by 1 - 0.1 * 0.1 = 0.99;
    # m = v = 0, so the Adam step is 0: p = 0.99.  (Coupled, as Adam: g = 0.1, first step
    # moves by lr: p = 0.9.)
    p = one(1.0)
    AdamW(lr=0.1, weight_decay=0.1).step(p, one(0.0))
    assert p["W0"][0, 0] == pytest.approx(0.99, rel=1e-15)
    q = one(1.0)
    Adam(lr=0.1, weight_decay=0.1, eps=0.0).step(q, one(0.0))
    assert q["W0"][0, 0] == pytest.approx(0.9, rel=1e-15)


def test_amsgrad_keeps_the_largest_second_moment() -> None:
    # betas (0.5, 0.5), eps 0, lr 1: step 1 g = 2: v = 2; step 2 g = 0: v = 1, v_max = 2.
    # Step 2: m = 0.5 * 1 = 0.5 (step 1: m = 1), bc1 = 0.75, bc2 = 0.75:
    # p moves by (0.5 / 0.75) / sqrt(2 / 0.75) = 0.6666667 / 1.6329932 = 0.4082483.
    p = one(0.0)
    opt = Adam(lr=1.0, betas=(0.5, 0.5), eps=0.0, amsgrad=True)
    opt.step(p, one(2.0))  # p = -1 (first step: lr * sign)
    opt.step(p, one(0.0))
    assert opt.state["W0"]["max_exp_avg_sq"][0, 0] == 2.0
    assert p["W0"][0, 0] == pytest.approx(-1.0 - 0.4082483, rel=1e-7)


def test_rmsprop_plain_centered_and_momentum() -> None:
    # p = 1, g = 2, alpha 0.9, lr 0.01, eps 0: s = 0.1 * 4 = 0.4, avg = sqrt(0.4) = 0.6324555,
    # p = 1 - 0.01 * 2 / 0.6324555 = 1 - 0.0316228 = 0.9683772.
    p = one(1.0)
    RMSprop(lr=0.01, alpha=0.9, eps=0.0).step(p, one(2.0))
    assert p["W0"][0, 0] == pytest.approx(0.9683772, rel=1e-7)
    # centered: a = 0.1 * 2 = 0.2, variance 0.4 - 0.04 = 0.36, avg 0.6: p = 1 - 0.02 / 0.6
    # = 0.9666667 (with the sign wrong, 0.4 + 0.04 = 0.44, avg 0.6633: p = 0.9698490).
    p = one(1.0)
    RMSprop(lr=0.01, alpha=0.9, eps=0.0, centered=True).step(p, one(2.0))
    assert p["W0"][0, 0] == pytest.approx(1 - 0.02 / 0.6, rel=1e-12)
    # momentum 0.5, g = 2 twice: step 1 u = 2 / 0.6324555 = 3.1622777, p = 0.9683772; step 2
    # s = 0.9 * 0.4 + 0.4 = 0.76, avg = 0.8717798, u = 1.5811388 + 2.2941573 = 3.8752961,
    # p = 0.9683772 - 0.0387530 = 0.9296243.
    p = one(1.0)
    opt = RMSprop(lr=0.01, alpha=0.9, eps=0.0, momentum=0.5)
    opt.step(p, one(2.0))
    opt.step(p, one(2.0))
    assert opt.state["W0"]["momentum_buffer"][0, 0] == pytest.approx(3.8752961, rel=1e-7)
    assert p["W0"][0, 0] == pytest.approx(0.9296243, rel=1e-7)


def test_adagrad_lr_decay_and_initial_accumulator() -> None:
    # p = 1, g = 2, lr 0.1, lr_decay 0.5, initial sum 1, eps 0.  Step 1: clr = 0.1 / (1 + 0)
    # = 0.1, sum = 1 + 4 = 5, p = 1 - 0.1 * 2 / sqrt(5) = 1 - 0.0894427 = 0.9105573.
    # Step 2 (g = 2): clr = 0.1 / 1.5, sum = 9, p = 0.9105573 - (0.2 / 1.5) / 3 = 0.8661128.
    p = one(1.0)
    opt = Adagrad(lr=0.1, lr_decay=0.5, initial_accumulator_value=1.0, eps=0.0)
    opt.step(p, one(2.0))
    assert p["W0"][0, 0] == pytest.approx(0.9105573, rel=1e-7)
    opt.step(p, one(2.0))
    assert opt.state["W0"]["sum"][0, 0] == 9.0
    assert p["W0"][0, 0] == pytest.approx(0.8661128, rel=1e-7)


def test_no_decay_on_biases_when_asked() -> None:
    # AdamW, lr 0.1, weight_decay 0.5, g = 0: W is multiplied by 1 - 0.05 = 0.95, b is not.
    params = {"W0": np.array([[2.0]]), "b0": np.array([[2.0]])}
    AdamW(lr=0.1, weight_decay=0.5, bias_decay=False).step(
        params, {"W0": np.array([[0.0]]), "b0": np.array([[0.0]])})
    assert params["W0"][0, 0] == pytest.approx(1.9, rel=1e-15)
    assert params["b0"][0, 0] == 2.0


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Adam(betas=(0.9, 1.0)), "betas must each be in [0, 1), got 0.9 and 1.0"),
    (lambda: Adam(eps=-1.0), "eps must be >= 0, got -1.0"),
    (lambda: RMSprop(alpha=1.5), "alpha must be in [0, 1], got 1.5"),
    # each open bound and its message (mutmut: `momentum <= 1`, `< 2`, `ValueError(None)`)
    (lambda: RMSprop(alpha=-0.5), "alpha must be in [0, 1], got -0.5"),
    (lambda: RMSprop(momentum=1.0), "momentum must be in [0, 1), got 1.0"),
    (lambda: RMSprop(momentum=1.5), "momentum must be in [0, 1), got 1.5"),
    (lambda: Adam(betas=(1.0, 0.9)), "betas must each be in [0, 1), got 1.0 and 0.9"),
    (lambda: Adam(betas=(-0.1, 0.9)), "betas must each be in [0, 1), got -0.1 and 0.9"),
    (lambda: Exponential(0.0, 0.5), "lr must be positive, got 0.0"),
    (lambda: Adagrad(lr_decay=-0.1), "lr_decay must be >= 0, got -0.1"),
    (lambda: Adagrad(initial_accumulator_value=-1.0),
     "initial_accumulator_value must be >= 0, got -1.0"),
    (lambda: Cosine(0.1, 0), "t_max must be a positive integer, got 0"),
    (lambda: Cosine(0.1, 4, -0.1), "eta_min must be >= 0, got -0.1"),
    (lambda: MultiStep(0.1, [0, 2]), "milestones must be positive integers, got [0, 2]"),
    # gamma at the boundary: 0 is not positive (mutmut's `gamma >= 0` survived without these)
    (lambda: MultiStep(0.1, [2], 0.0), "gamma must be positive, got 0.0"),
    (lambda: Exponential(0.1, 0.0), "gamma must be positive, got 0.0"),
    (lambda: Linear(0.1, start_factor=0.0), "start_factor must be in (0, 1], got 0.0"),
    # LinearLR's other bounds (mutmut: `<= 2` and `ValueError(None)` survived without these)
    (lambda: Linear(0.1, start_factor=1.5), "start_factor must be in (0, 1], got 1.5"),
    (lambda: Linear(0.1, end_factor=1.5), "end_factor must be in [0, 1], got 1.5"),
    (lambda: Linear(0.1, end_factor=-0.5), "end_factor must be in [0, 1], got -0.5"),
    (lambda: Linear(0.1, total_iters=0), "total_iters must be a positive integer, got 0"),
    (lambda: Linear(0.1, total_iters=2.5), "total_iters must be a positive integer, got 2.5"),
])
def test_bad_hyper_parameters_are_named(make: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        make()  # type: ignore[operator]
    assert str(info.value) == message


def test_optimisers_accept_their_closed_bounds() -> None:
    """The closed ends of each range are allowed (mutmut: `0 < alpha`, `alpha < 1` survived):
    RMSprop with alpha 0 keeps only the latest square, with alpha 1 never updates it.  lr 1,
    eps 0, g = 2, p = 1.  alpha 0: s = 4, p = 1 - 2 / 2 = 0.  alpha 1: s = 0, so the step is
    2 / sqrt(0) = inf: eps 1 instead, p = 1 - 2 / 1 = -1."""
    p = {"W0": np.array([[1.0]])}
    RMSprop(lr=1.0, alpha=0.0, eps=0.0).step(p, {"W0": np.array([[2.0]])})
    assert p["W0"][0, 0] == 0.0
    p = {"W0": np.array([[1.0]])}
    RMSprop(lr=1.0, alpha=1.0, eps=1.0).step(p, {"W0": np.array([[2.0]])})
    assert p["W0"][0, 0] == -1.0
    for make in (lambda: RMSprop(momentum=0.0), lambda: Adam(betas=(0.0, 0.0), eps=0.0),
                 lambda: Adagrad(lr_decay=0.0, initial_accumulator_value=0.0, eps=0.0)):
        make()


def test_linear_accepts_its_closed_bounds() -> None:
    """start_factor = 1 and end_factor = 0 are torch's LinearLR's own bounds, and allowed: a
    constant lr, and a ramp down to 0 (lr 1 over 2 steps: 1, 0.5, 0)."""
    assert [Linear(1.0, 1.0, 1.0, 2).lr_at(t) for t in range(3)] == [1.0, 1.0, 1.0]
    assert [Linear(1.0, 1.0, 0.0, 2).lr_at(t) for t in range(3)] == [1.0, 0.5, 0.0]


def test_cosine_by_hand() -> None:
    # lr0 = 1, T_max = 4, eta_min 0: (1 + cos(pi t / 4)) / 2 = 1, 0.8535534, 0.5, 0.1464466, 0,
    # then rising again: 0.1464466 at t = 5, 0.5 at t = 6.
    c = Cosine(1.0, 4)
    expected = [1.0, 0.8535534, 0.5, 0.1464466, 0.0, 0.1464466, 0.5]
    assert [c.lr_at(t) for t in range(7)] == pytest.approx(expected, abs=1e-7)


def test_linear_warm_up_multistep_exponential_by_hand() -> None:
    # LinearLR(0.25, 1.0, 3) on lr 1: 0.25, 0.5, 0.75, 1.0, then 1.0.
    assert [Linear(1.0, 0.25, 1.0, 3).lr_at(t) for t in range(5)] == pytest.approx(
        [0.25, 0.5, 0.75, 1.0, 1.0], rel=1e-15)
    # MultiStepLR([2, 4], 0.1) on lr 1: 1, 1, 0.1, 0.1, 0.01.
    assert [MultiStep(1.0, [2, 4], 0.1).lr_at(t) for t in range(5)] == pytest.approx(
        [1.0, 1.0, 0.1, 0.1, 0.01], rel=1e-15)
    # ExponentialLR(0.5): halving is exact.
    assert [Exponential(1.0, 0.5).lr_at(t) for t in range(4)] == [1.0, 0.5, 0.25, 0.125]
    assert math.isclose(Exponential(1.0, 0.5).lr_at(3), 0.125)
