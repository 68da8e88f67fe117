"""The step lr schedule: lr during epoch e = lr0 * (1 - lr_gamma) ** (e // lr_epoch).

The seed halves lr with ``if epoch % 1500 == 0 and epoch != 0`` at the START of epoch ``epoch``;
so epoch 1499 still runs at 1e-2 and epoch 1500 is the first at 5e-3.  Checking at the end of
the epoch instead would move every drop one epoch earlier: the 1499/1500 pair pins that down.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from support import exactly

from handnet.config import Config
from handnet.schedule import Exponential, StepDecay
from handnet.train import build, train

SEED = StepDecay(1e-2, lr_epoch=1500, lr_gamma=0.5)


@pytest.mark.parametrize(
    ("epoch", "lr"),
    [
        (0, 1e-2), (1, 1e-2), (1499, 1e-2),
        (1500, 5e-3), (1501, 5e-3), (2999, 5e-3),
        (3000, 2.5e-3), (4499, 2.5e-3),
        (4500, 1.25e-3), (5999, 1.25e-3),
        (6000, 6.25e-4),
    ],
)
def test_seed_lr_sequence(epoch: int, lr: float) -> None:
    # halving is exact in binary floating point, so these compare with ==
    assert SEED.lr_at(epoch) == lr


def test_the_off_by_one_is_pinned() -> None:
    assert SEED.lr_at(1499) == 1e-2  # the last epoch at the initial lr ...
    assert SEED.lr_at(1500) == 5e-3  # ... and the first at half of it
    assert sum(SEED.lr_at(e) == 1e-2 for e in range(3000)) == 1500


def test_matches_the_seeds_loop_literally() -> None:
    # the seed's loop, transcribed: the check sits at the top of the epoch
    lr, lr_epoch, lr_gamma = 1e-2, 1500, 0.5
    seen = []
    for epoch in range(6000):
        if epoch % lr_epoch == 0 and epoch != 0:
            lr = lr * (1 - lr_gamma)
        seen.append(lr)
    assert [SEED.lr_at(e) for e in range(6000)] == seen  # bit for bit


@pytest.mark.parametrize(("lr0", "lr_epoch", "gamma"), [(0.3, 7, 0.1), (1e-3, 1, 0.25)])
def test_general_formula(lr0: float, lr_epoch: int, gamma: float) -> None:
    sched = StepDecay(lr0, lr_epoch, gamma)
    for e in range(60):
        assert sched.lr_at(e) == pytest.approx(lr0 * (1 - gamma) ** (e // lr_epoch), rel=1e-13)


def test_constant_when_switched_off() -> None:
    assert {StepDecay(0.1, 1500, 0.0).lr_at(e) for e in (0, 1500, 10**6)} == {0.1}
    assert {StepDecay(0.1, 0, 0.5).lr_at(e) for e in (0, 1500, 10**6)} == {0.1}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0.0, 10, 0.5), "lr must be positive, got 0.0"),
        ((float("nan"), 10, 0.5), "lr must be positive, got nan"),
        ((0.1, -1, 0.5), "lr_epoch must be >= 0, got -1"),
        ((0.1, 10, 1.0), "lr_gamma must be in [0, 1), got 1.0"),
        ((0.1, 10, -0.5), "lr_gamma must be in [0, 1), got -0.5"),
    ],
)
def test_validation(args: tuple[float, int, float], message: str) -> None:
    with pytest.raises(ValueError, match=exactly(message)):
        StepDecay(*args)


def _tiny(**overrides: Any) -> Config:
    base: dict[str, Any] = dict(dataset="linear", hidden=(3,), n_train=6, n_test=4, seed=1,
                                   lr=0.5, lr_epoch=2, lr_gamma=0.5, epochs=5)
    base.update(overrides)
    return Config(**base)


def test_training_records_the_scheduled_lr_per_epoch() -> None:
    history = train(build(_tiny(optimizer="momentum")))
    assert history.lr == [0.5, 0.5, 0.25, 0.25, 0.125]


def test_training_updates_with_the_scheduled_lr() -> None:
    # Full-batch plain SGD: each epoch is one step p -= lr_e * grad.  Replay epoch 2 (the first
    # at the halved lr) by hand from a snapshot taken after epoch 1.
    run = build(_tiny(optimizer="sgd", batch_size=0))
    snapshots: list[dict[str, np.ndarray]] = []
    train(run, lambda e, order, r: snapshots.append(
        {k: v.copy() for k, v in r.network.parameters.items()}))
    net = run.network.copy()
    for k, v in net.parameters.items():
        v[...] = snapshots[1][k]
    x, y = run.data.x_train, run.data.y_train
    grads, _ = net.backward(net.forward(x) - y)
    for k, v in snapshots[2].items():
        np.testing.assert_allclose(v, snapshots[1][k] - 0.25 * grads[k], rtol=1e-13, atol=1e-15)
        # and not the epoch-1 lr: the step really is half as long
        assert not np.allclose(v, snapshots[1][k] - 0.5 * grads[k], rtol=1e-9, atol=1e-12)


def test_recursive_schedules_can_be_asked_out_of_order() -> None:
    """``lr_at`` remembers where its recursion stands; asking for an earlier step restarts it from
    ``lr_0`` (a resumed run, or the twin replaying, asks backwards). ExponentialLR(0.5) on lr 1
    is exact: 1, 0.5, 0.25, 0.125."""
    s = Exponential(1.0, 0.5)
    assert [s.lr_at(t) for t in (3, 1, 0, 2, 2, 1)] == [0.125, 0.5, 1.0, 0.25, 0.25, 0.5]


def test_a_negative_step_is_refused_by_name() -> None:
    with pytest.raises(ValueError) as info:
        Exponential(1.0, 0.5).lr_at(-1)
    assert str(info.value) == "t must be >= 0, got -1"
