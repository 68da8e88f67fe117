"""The momentum error model (``reference.comparison.momentum``) against what SGD does.

SGD's update is linear in the gradients, so feeding one of handnet's optimisers gradients that
are all larger by ``S_t`` moves a parameter, after each step, by exactly the sum of the model's
update error scales so far (the model is first-order exact, with every error of one sign).  This
holds only if the model follows each convention's buffer, lr placement and Nesterov formula."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import examples

from handnet.optim import SGD
from reference.comparison.momentum import MomentumErrors


def test_hand_worked_classic_and_torch() -> None:
    """m = 0.5, lr 0.1 then 0.2, S 1 then 3 (worked by hand from handnet.optim.sgd's formulas)."""
    expected = {("classic", False): [0.1, 0.65], ("classic", True): [0.15, 0.925],
                ("torch", False): [0.1, 0.7], ("torch", True): [0.15, 0.95]}
    for (style, nesterov), errs in expected.items():
        model = MomentumErrors(0.5, style, nesterov, lambda n: n == "W0")
        got = [model.step("W0", 0.1, 1.0), model.step("W0", 0.2, 3.0)]
        assert got == pytest.approx(errs, rel=1e-15), (style, nesterov)
        plain = MomentumErrors(0.5, style, nesterov, lambda n: n == "W0")
        assert [plain.step("b0", 0.1, 1.0), plain.step("b0", 0.2, 3.0)] == pytest.approx(
            [0.1, 0.6], rel=1e-15)
        assert "b0" not in plain.buffers


@examples(50)
@given(style=st.sampled_from(("classic", "torch")), nesterov=st.booleans(),
       m=st.floats(0.05, 0.95), data=st.data())
def test_the_model_is_what_sgd_does_to_a_gradient_error(
        style: str, nesterov: bool, m: float, data: st.DataObject) -> None:
    steps = data.draw(st.integers(1, 8))
    lrs = data.draw(st.lists(st.floats(0.01, 1.0), min_size=steps, max_size=steps))
    grads = data.draw(st.lists(st.floats(-1.0, 1.0), min_size=steps, max_size=steps))
    errors = data.draw(st.lists(st.floats(1e-3, 1.0), min_size=steps, max_size=steps))
    exact, shifted = (SGD(lrs[0], m, style, nesterov=nesterov) for _ in range(2))
    p, q = {"W0": np.zeros((1, 1))}, {"W0": np.zeros((1, 1))}
    model = MomentumErrors(m, style, nesterov, lambda n: True)
    total = 0.0
    for lr, g, s in zip(lrs, grads, errors, strict=True):
        exact.lr = shifted.lr = lr
        exact.step(p, {"W0": np.full((1, 1), g)})
        shifted.step(q, {"W0": np.full((1, 1), g + s)})
        total += model.step("W0", lr, s)
        assert float(p["W0"][0, 0] - q["W0"][0, 0]) == pytest.approx(total, rel=1e-9, abs=1e-12)
    buffer = exact.buffers["W0"] - shifted.buffers["W0"]
    assert float(-buffer[0, 0]) == pytest.approx(model.buffers["W0"], rel=1e-9, abs=1e-12)
