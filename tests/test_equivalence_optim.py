"""Optimiser steps: one step for every configuration, and k-step momentum trajectories."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, reject
from hypothesis import strategies as st
from support import examples

from reference import strategies as S
from reference.compare import assert_matches_reference
from reference.harness import Lockstep, Unstable

CONFIGS = [
    pytest.param(style, m, bias_m, nesterov, wd,
                 id=f"{style}-m{m}-bias{'M' if bias_m else 'Plain'}"
                    f"{'-nesterov' if nesterov else ''}{'-wd' if wd else ''}")
    for style in ("classic", "torch")
    for m in (0.0, 0.9)
    for bias_m in (True, False)
    for nesterov in ((False, True) if m else (False,))
    for wd in (0.0, 0.01)
]


def run_and_compare(lock: Lockstep, problem: S.Problem, steps: int, what: str) -> None:
    """Step both sides on the problem's batches 0..steps-1, comparing after every step."""
    for j in range(steps):
        x, y, _ = problem.arrays(j)
        try:
            lock.step(x, y)
        except Unstable:
            reject()
        actual, expected = lock.parameters()
        assert_matches_reference(actual, expected, steps=lock.steps, scales=lock.scales,
                                 what=f"{what}, weights after step {lock.steps}")


@pytest.mark.parametrize(("style", "momentum", "bias_momentum", "nesterov", "weight_decay"),
                         CONFIGS)
@examples(15)
@given(case=S.training_cases())
def test_one_step_equal_for_every_configuration(
    style: str, momentum: float, bias_momentum: bool, nesterov: bool, weight_decay: float,
    case: tuple[S.Problem, S.OptSpec],
) -> None:
    problem, opt = case
    opt = replace(opt, style=style, momentum=momentum, bias_momentum=bias_momentum,
                  nesterov=nesterov, weight_decay=weight_decay)
    lock = Lockstep(problem.net.build(), opt.build(), problem.loss)
    run_and_compare(lock, problem, 1, f"one {style} step")


@examples(60)
@given(case=S.training_cases(momentum=True), k=st.integers(2, 20))
def test_momentum_trajectories_equal(case: tuple[S.Problem, S.OptSpec], k: int) -> None:
    """k steps with momentum (both conventions, biases in or out, Nesterov, weight decay drawn):
    the buffers carry every earlier gradient, so an error anywhere in the state shows up."""
    problem, opt = case
    lock = Lockstep(problem.net.build(), opt.build(), problem.loss)
    run_and_compare(lock, problem, k, f"{opt.style} momentum trajectory")
