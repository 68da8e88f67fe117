"""Optimiser steps: one step for every configuration, and k-step momentum trajectories."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import examples, run_and_compare

from reference.comparison import strategies as S
from reference.comparison.harness import Lockstep

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
