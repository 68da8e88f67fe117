"""The defaults of the math modules' public signatures, each pinned by what it does.

A default nobody passes is code no other test reaches: mutmut changed ``StepDecay``'s
``lr_gamma=0.5`` and ``Network.create``'s ``activations="sigmoid"`` and the suite passed (issue 16).
The expected figures are the seed's (docs/seed.md: the lr halved at the start of epochs 1500 and
3000; sigmoid layers, ``W ~ N(0, 1)``) or worked by hand from the update rules in
``handnet/optim.py``'s docstring, with values exact in binary.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from handnet.network import Network
from handnet.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from handnet.schedule import StepDecay


def test_step_decay_defaults_are_the_seeds_schedule() -> None:
    schedule = StepDecay(0.5)
    assert schedule.lr_epoch == 1500 and schedule.lr_gamma == 0.5
    assert [schedule.lr_at(e) for e in (0, 1499, 1500, 2999, 3000)] == [
        0.5, 0.5, 0.25, 0.25, 0.125]


def test_network_create_defaults_sigmoid_normal_init_seed_0_float64() -> None:
    net = Network.create([2, 3, 1])
    assert net.activation_names == ["sigmoid", "sigmoid"]
    assert net.dtype == np.float64
    explicit = Network.create([2, 3, 1], "sigmoid", "normal", np.random.default_rng(0))
    glorot = Network.create([2, 3, 1], "sigmoid", "glorot", np.random.default_rng(0))
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(value, explicit.parameters[name])
    assert not np.array_equal(net.parameters["W0"], glorot.parameters["W0"])


def _steps(opt: SGD, name: str, lrs: list[float]) -> list[float]:
    """The parameter ``name`` (starting at 1.0, gradient 1.0 every step) after each step."""
    p = {name: np.ones((1, 1))}
    out = []
    for lr in lrs:
        opt.lr = lr
        opt.step(p, {name: np.ones((1, 1))})
        out.append(float(p[name][0, 0]))
    return out


def test_sgd_defaults_plain_no_decay() -> None:
    # momentum 0 and weight_decay 0: p -= lr * g, twice (momentum 0.5 would give 0.5, -0.25;
    # weight decay 0.1 would give 0.45 first)
    assert _steps(SGD(lr=0.5), "W0", [0.5, 0.5]) == [0.5, 0.0]


def test_sgd_default_style_is_classic() -> None:
    # classic: u = 0.5 * 0.5 + 0.25 * 1 = 0.5, p = 0.5 - 0.5 = 0.0; torch's convention would
    # give v = 0.5 * 1 + 1 = 1.5, p = 0.5 - 0.25 * 1.5 = 0.125
    assert _steps(SGD(lr=0.5, momentum=0.5), "W0", [0.5, 0.25]) == [0.5, 0.0]


def test_sgd_default_puts_biases_in_momentum_without_nesterov() -> None:
    # b: u = 0.5, b = 0.5; u = 0.25 + 0.5 = 0.75, b = -0.25 (no bias momentum: 0.0; nesterov:
    # b -= 0.5 + 0.5 * 0.5 = 0.75 first, giving 0.25)
    assert _steps(SGD(lr=0.5, momentum=0.5), "b0", [0.5, 0.5]) == [0.5, -0.25]


@pytest.mark.parametrize(("ours", "theirs"), [
    (Adam, torch.optim.Adam), (AdamW, torch.optim.AdamW), (RMSprop, torch.optim.RMSprop),
    (Adagrad, torch.optim.Adagrad)], ids=["adam", "adamw", "rmsprop", "adagrad"])
def test_adaptive_defaults_are_torchs(ours: type, theirs: type) -> None:
    """An optimiser made without arguments holds, for every hyper-parameter it shares with
    torch's class, torch's own default (read from torch's signature, the oracle); and biases
    are decayed like any parameter unless ``bias_decay=False`` (torch decays every parameter it
    is given).  Read from the object, not from our signature: a default is what a call without
    the argument gets (mutmut changes the callee's defaults behind an unchanged signature)."""
    torch_defaults = {k: p.default for k, p in inspect.signature(theirs).parameters.items()
                      if p.default is not inspect.Parameter.empty}
    made = ours()
    shared = sorted(set(inspect.signature(ours).parameters) & set(torch_defaults) - {"params"})
    assert {"lr", "weight_decay", "eps"} <= set(shared)
    for name in shared:
        want = torch_defaults[name]
        got = getattr(made, name)
        assert (tuple(got) if isinstance(want, tuple) else got) == want, name
    assert ours(weight_decay=0.25).decay_of("b0") == 0.25
