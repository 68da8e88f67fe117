"""SGD with momentum, both conventions, on small cases worked out by hand.

Shared notation: p the parameter (starting at 0 unless said), m = 0.5, lr = 0.1, gradients
g_1, g_2, g_3 = 1, 2, 3 (constant arrays, so scalars suffice).  The expected numbers below are
literals derived step by step in the comments; none comes from the code under test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from support import exactly

from handnet.optim import SGD


def _run(opt: SGD, grads: list[float], names: tuple[str, ...] = ("W0",),
         p0: float = 0.0, lrs: list[float] | None = None) -> list[dict[str, float]]:
    """Step ``opt`` through ``grads`` (one scalar per step, same for every name)."""
    params = {n: np.full((1, 1), p0) for n in names}
    trace = []
    for i, g in enumerate(grads):
        if lrs is not None:
            opt.lr = lrs[i]
        opt.step(params, {n: np.full((1, 1), g) for n in names})
        trace.append({n: float(v[0, 0]) for n, v in params.items()})
    return trace


def _p(trace: list[dict[str, float]], name: str = "W0") -> list[float]:
    return [t[name] for t in trace]


def test_classic_by_hand() -> None:
    # u = m*u + lr*g; p -= u
    # 1: u = 0.5*0    + 0.1*1 = 0.1    p = -0.1
    # 2: u = 0.5*0.1  + 0.1*2 = 0.25   p = -0.35
    # 3: u = 0.5*0.25 + 0.1*3 = 0.425  p = -0.775
    opt = SGD(lr=0.1, momentum=0.5, style="classic")
    assert _p(_run(opt, [1, 2, 3])) == pytest.approx([-0.1, -0.35, -0.775], rel=1e-14)
    assert opt.buffers["W0"][0, 0] == pytest.approx(0.425, rel=1e-14)


def test_torch_by_hand() -> None:
    # v = g on the first step, then v = m*v + g; p -= lr*v
    # 1: v = 1                 p = -0.1
    # 2: v = 0.5*1    + 2 = 2.5   p = -0.1  - 0.25  = -0.35
    # 3: v = 0.5*2.5  + 3 = 4.25  p = -0.35 - 0.425 = -0.775
    opt = SGD(lr=0.1, momentum=0.5, style="torch")
    assert _p(_run(opt, [1, 2, 3])) == pytest.approx([-0.1, -0.35, -0.775], rel=1e-14)
    assert opt.buffers["W0"][0, 0] == pytest.approx(4.25, rel=1e-14)


def test_the_conventions_agree_while_lr_is_constant() -> None:
    rng = np.random.default_rng(0)
    p_c = {"W0": rng.normal(size=(3, 2)), "b0": rng.normal(size=(1, 2))}
    p_t = {k: v.copy() for k, v in p_c.items()}
    classic = SGD(lr=0.03, momentum=0.9, style="classic")
    torch_style = SGD(lr=0.03, momentum=0.9, style="torch")
    for _ in range(50):
        g = {k: rng.normal(size=v.shape) for k, v in p_c.items()}
        classic.step(p_c, g)
        torch_style.step(p_t, g)
    for k in p_c:  # equal up to rounding: lr*(m*v + g) vs m*(lr*v) + lr*g
        np.testing.assert_allclose(p_c[k], p_t[k], rtol=1e-12, atol=1e-14)
        # and the buffers differ exactly by the factor lr
        np.testing.assert_allclose(classic.buffers[k], 0.03 * torch_style.buffers[k],
                                   rtol=1e-12, atol=1e-15)


def test_the_conventions_part_ways_after_an_lr_change() -> None:
    # Three steps at lr1 = 0.1 (as above: both at p = -0.775, classic u = 0.425 = lr1 * v,
    # torch v = 4.25), then lr2 = 0.05 with g_4 = 4, g_5 = 0:
    # classic 4: u = 0.5*0.425  + 0.05*4 = 0.4125    p = -0.775  - 0.4125   = -1.1875
    # torch   4: v = 0.5*4.25   + 4      = 6.125     p = -0.775  - 0.30625  = -1.08125
    # classic 5: u = 0.5*0.4125 + 0      = 0.20625   p = -1.1875 - 0.20625  = -1.39375
    # torch   5: v = 0.5*6.125  + 0      = 3.0625    p = -1.08125 - 0.153125 = -1.234375
    lrs = [0.1, 0.1, 0.1, 0.05, 0.05]
    classic = _p(_run(SGD(lr=0.1, momentum=0.5, style="classic"), [1, 2, 3, 4, 0], lrs=lrs))
    torch_ = _p(_run(SGD(lr=0.1, momentum=0.5, style="torch"), [1, 2, 3, 4, 0], lrs=lrs))
    assert classic == pytest.approx([-0.1, -0.35, -0.775, -1.1875, -1.39375], rel=1e-14)
    assert torch_ == pytest.approx([-0.1, -0.35, -0.775, -1.08125, -1.234375], rel=1e-14)
    # From the formulas: with u = lr1*v when lr drops to lr2, the classic buffer carries an
    # excess m*(lr1 - lr2)*v over torch's lr2*v, and that excess decays by m each step.
    # So after n steps at lr2:  p_classic - p_torch = -m*(lr1 - lr2)*v*(1 + m + ... + m^(n-1))
    v, m, lr1, lr2 = 4.25, 0.5, 0.1, 0.05
    assert classic[3] - torch_[3] == pytest.approx(-m * (lr1 - lr2) * v, rel=1e-12)  # -0.10625
    assert classic[4] - torch_[4] == pytest.approx(-m * (lr1 - lr2) * v * (1 + m), rel=1e-12)


def test_seed_biases_get_plain_sgd() -> None:
    # bias_momentum=False (the seed): W* classic momentum as above, b* p -= lr*g:
    # b: -0.1, -0.1 - 0.2 = -0.3, -0.3 - 0.3 = -0.6
    opt = SGD(lr=0.1, momentum=0.5, style="classic", bias_momentum=False)
    trace = _run(opt, [1, 2, 3], names=("W0", "b0"))
    assert _p(trace, "W0") == pytest.approx([-0.1, -0.35, -0.775], rel=1e-14)
    assert _p(trace, "b0") == pytest.approx([-0.1, -0.3, -0.6], rel=1e-14)
    assert set(opt.buffers) == {"W0"}
    assert not opt.uses_momentum("b3") and opt.uses_momentum("W3")


def test_biases_in_momentum_when_asked() -> None:
    opt = SGD(lr=0.1, momentum=0.5, style="torch", bias_momentum=True)
    trace = _run(opt, [1, 2, 3], names=("W0", "b0"))
    assert _p(trace, "b0") == pytest.approx([-0.1, -0.35, -0.775], rel=1e-14)
    assert set(opt.buffers) == {"W0", "b0"}


def test_zero_momentum_is_plain_sgd_without_buffers() -> None:
    opt = SGD(lr=0.1)
    assert _p(_run(opt, [1, 2, 3], names=("W0", "b0")), "W0") == pytest.approx(
        [-0.1, -0.3, -0.6], rel=1e-14)
    assert opt.buffers == {}


@pytest.mark.parametrize("style", ["classic", "torch"])
def test_nesterov_by_hand(style: str) -> None:
    # torch:   v as in test_torch_by_hand; p -= lr*(g + m*v)
    #   1: v = 1     p -= 0.1*(1 + 0.5)    = 0.15    p = -0.15
    #   2: v = 2.5   p -= 0.1*(2 + 1.25)   = 0.325   p = -0.475
    #   3: v = 4.25  p -= 0.1*(3 + 2.125)  = 0.5125  p = -0.9875
    # classic: u as in test_classic_by_hand; p -= lr*g + m*u
    #   1: u = 0.1   p -= 0.1 + 0.05   = 0.15
    #   2: u = 0.25  p -= 0.2 + 0.125  = 0.325
    #   3: u = 0.425 p -= 0.3 + 0.2125 = 0.5125     (same path while lr is constant)
    opt = SGD(lr=0.1, momentum=0.5, style=style, nesterov=True)
    assert _p(_run(opt, [1, 2, 3])) == pytest.approx([-0.15, -0.475, -0.9875], rel=1e-14)


@pytest.mark.parametrize("style", ["classic", "torch"])
def test_weight_decay_by_hand(style: str) -> None:
    # torch's weight decay: g <- g + wd*p, before momentum. p0 = 1, g = 0, wd = 0.1, lr = 0.1:
    # torch:   1: g = 0.1    v = 0.1                    p = 1 - 0.01       = 0.99
    #          2: g = 0.099  v = 0.5*0.1 + 0.099 = 0.149  p = 0.99 - 0.0149 = 0.9751
    # classic: 1: u = 0.1*0.1 = 0.01                   p = 0.99
    #          2: u = 0.5*0.01 + 0.1*0.099 = 0.0149     p = 0.9751
    # a bias (plain SGD here) decays too:  b = 1 - 0.01 = 0.99, 0.99 - 0.0099 = 0.9801
    opt = SGD(lr=0.1, momentum=0.5, style=style, bias_momentum=False, weight_decay=0.1)
    trace = _run(opt, [0, 0], names=("W0", "b0"), p0=1.0)
    assert _p(trace, "W0") == pytest.approx([0.99, 0.9751], rel=1e-14)
    assert _p(trace, "b0") == pytest.approx([0.99, 0.9801], rel=1e-14)


def test_step_updates_the_given_arrays_in_place() -> None:
    w = np.ones((2, 2))
    params = {"W0": w}
    SGD(lr=0.5, momentum=0.9).step(params, {"W0": np.ones((2, 2))})
    assert params["W0"] is w
    np.testing.assert_array_equal(w, np.full((2, 2), 0.5))


def test_step_does_not_modify_the_gradients() -> None:
    g = {"W0": np.full((2, 2), 3.0)}
    SGD(lr=0.1, momentum=0.9, style="torch", weight_decay=0.1).step({"W0": np.ones((2, 2))}, g)
    np.testing.assert_array_equal(g["W0"], np.full((2, 2), 3.0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0.0}, "lr must be positive, got 0.0"),
        ({"lr": -1e-2}, "lr must be positive, got -0.01"),
        ({"lr": float("nan")}, "lr must be positive, got nan"),
        ({"lr": 0.1, "momentum": 1.0}, "momentum must be in [0, 1), got 1.0"),
        ({"lr": 0.1, "momentum": -0.1}, "momentum must be in [0, 1), got -0.1"),
        ({"lr": 0.1, "momentum": float("nan")}, "momentum must be in [0, 1), got nan"),
        ({"lr": 0.1, "momentum": 0.9, "style": "keras"},
         "unknown momentum style 'keras'; choose classic or torch"),
        ({"lr": 0.1, "nesterov": True}, "nesterov needs a positive momentum"),
        ({"lr": 0.1, "weight_decay": -1.0}, "weight_decay must be >= 0, got -1.0"),
        ({"lr": 0.1, "weight_decay": float("nan")}, "weight_decay must be >= 0, got nan"),
    ],
)
def test_validation_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=exactly(message)):
        SGD(**kwargs)


def test_step_rejects_mismatched_gradients() -> None:
    opt = SGD(lr=0.1, momentum=0.9)
    params = {"W0": np.zeros((3, 2))}
    # a (2,)-shaped gradient would silently broadcast into (3, 2)
    with pytest.raises(ValueError, match=exactly(
            "gradient for W0 has shape (2,), parameter (3, 2)")):
        opt.step(params, {"W0": np.ones(2)})
    with pytest.raises(ValueError, match=exactly("no gradient for W0")):
        opt.step(params, {"b0": np.ones((1, 2))})
    np.testing.assert_array_equal(params["W0"], 0.0)  # nothing half-applied
