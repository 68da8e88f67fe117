"""The twin's learning-rate schedules: ``torch.optim.lr_scheduler``'s own, built from the
declared configuration (:func:`scheduler_from_config`); the seed's step decay is ``StepLR``.

handnet's ``StepDecay`` uses ``lr0 * (1 - lr_gamma) ** (e // lr_epoch)`` during epoch ``e``; that
is ``StepLR(step_size=lr_epoch, gamma=1 - lr_gamma)`` stepped once after each epoch's optimiser
steps, as torch documents (``train(...); scheduler.step()``).  StepLR multiplies the current lr by
``gamma`` whenever its epoch counter reaches a non-zero multiple of ``step_size``: the same
repeated multiplication ``StepDecay.lr_at`` performs.  A constant lr (``lr_gamma = 0`` or
``lr_epoch = 0``) is ``StepLR`` with ``gamma = 1``, which multiplies by 1.0 exactly.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from handnet.config import Config
from handnet.schedule import StepDecay


def make_scheduler(
    optimizer: torch.optim.Optimizer, lr_epoch: int, lr_gamma: float
) -> torch.optim.lr_scheduler.StepLR:
    """``StepLR(step_size=lr_epoch, gamma=1 - lr_gamma)`` (constant when either is 0)."""
    if lr_epoch < 0:
        raise ValueError(f"lr_epoch must be >= 0, got {lr_epoch}")
    if not 0 <= lr_gamma < 1:
        raise ValueError(f"lr_gamma must be in [0, 1), got {lr_gamma}")
    if lr_epoch == 0 or lr_gamma == 0:
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=1.0)
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=lr_epoch, gamma=1.0 - lr_gamma)


def scheduler_like(
    optimizer: torch.optim.Optimizer, schedule: StepDecay
) -> torch.optim.lr_scheduler.StepLR:
    """The StepLR matching handnet's ``schedule``."""
    return make_scheduler(optimizer, schedule.lr_epoch, schedule.lr_gamma)


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    """The lr in force (every group shares it)."""
    return float(optimizer.param_groups[0]["lr"])


def scheduler_at(
    optimizer: torch.optim.Optimizer, schedule: StepDecay, epoch: int
) -> torch.optim.lr_scheduler.StepLR:
    """The StepLR matching ``schedule`` as it stands at the start of epoch ``epoch``.

    Resumed the way torch resumes a scheduler: each group gets ``initial_lr = lr0`` and the lr
    of epoch ``epoch - 1``, and ``StepLR(..., last_epoch=epoch - 1)`` then takes its own first
    step to epoch ``epoch`` (multiplying by ``gamma`` when ``epoch`` is a decay boundary).  So the
    lr in force is StepLR's own product, equal to ``schedule.lr_at(epoch)``; and no
    ``scheduler.step()`` is taken before an ``optimizer.step()``.
    """
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch}")
    if epoch == 0:
        return scheduler_like(optimizer, schedule)
    for group in optimizer.param_groups:
        group["initial_lr"] = schedule.lr0
        group["lr"] = schedule.lr_at(epoch - 1)
    constant = schedule.lr_epoch == 0 or schedule.lr_gamma == 0
    step_size = 1 if constant else schedule.lr_epoch
    gamma = 1.0 if constant else 1.0 - schedule.lr_gamma
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma,
                                           last_epoch=epoch - 1)


def scheduler_from_config(optimizer: torch.optim.Optimizer, config: Config,
                          steps_done: int = 0) -> torch.optim.lr_scheduler.LRScheduler:
    """torch's scheduler for the *declared* schedule (never handnet's object), as it stands
    after ``steps_done`` scheduler steps (epochs or updates, ``config.schedule_per``).

    step: StepLR(lr_epoch, 1 - lr_gamma) (:func:`scheduler_at`); constant: StepLR with gamma 1;
    multistep: MultiStepLR; exponential: ExponentialLR; cosine: CosineAnnealingLR; linear:
    LinearLR -- each given only the fields the config sets (torch's defaults for the rest) and
    advanced by replaying ``steps_done`` steps (``lr`` is then torch's own recursion's value).
    """
    c, lrs = config, torch.optim.lr_scheduler
    if c.schedule in ("step", "constant"):
        lr_epoch, gamma = (c.lr_epoch, c.effective_lr_gamma) if c.schedule == "step" else (0, 0.0)
        return scheduler_at(optimizer, StepDecay(c.lr, lr_epoch, gamma), steps_done)
    given: dict[str, Any] = {k: v for k, v in (("gamma", c.gamma), ("eta_min", c.eta_min),
                               ("start_factor", c.start_factor), ("end_factor", c.end_factor),
                               ("total_iters", c.total_iters)) if v is not None}
    scheduler: torch.optim.lr_scheduler.LRScheduler
    if c.schedule == "multistep":
        scheduler = lrs.MultiStepLR(optimizer, list(c.milestones), **given)
    elif c.schedule == "exponential":
        scheduler = lrs.ExponentialLR(optimizer, **given)
    elif c.schedule == "cosine":
        scheduler = lrs.CosineAnnealingLR(optimizer, T_max=int(c.t_max or 0), **given)
    elif c.schedule == "linear":
        scheduler = lrs.LinearLR(optimizer, **given)
    else:
        raise ValueError(f"unknown schedule {c.schedule!r}")
    with warnings.catch_warnings():  # replaying steps without optimiser steps is intended
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(steps_done):
            scheduler.step()
    return scheduler
