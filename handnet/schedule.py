"""Learning-rate schedules: the seed's step decay and torch's MultiStepLR, ExponentialLR,
CosineAnnealingLR and LinearLR (warm-up), each with ``lr_at(t)``: the lr in force after ``t``
scheduler steps, ``t`` counting epochs or updates (``Config.schedule_per``).

**Step decay (the seed).**  The seed multiplies ``lr`` by ``1 - lr_gamma`` whenever
``epoch % lr_epoch == 0 and epoch != 0`` at the **start** of an epoch.  So the lr used
throughout epoch ``e`` (counted from 0) is::

    lr(e) = lr0 * (1 - lr_gamma) ** (e // lr_epoch)

which is ``torch.optim.lr_scheduler.StepLR(step_size=lr_epoch, gamma=1 - lr_gamma)`` stepped once
after each epoch's updates.  ``lr_gamma = 0`` (or ``lr_epoch = 0``) means a constant lr.

**torch's schedules, bit for bit.**  torch computes every lr *recursively* from the previous one
(``get_lr``), not from the closed form its documentation gives, and the two differ in the last
bits (cosine by several ulps after a few hundred steps).  Each class here performs torch's
recursion with the same Python-float operations in the same order, so ``lr_at(t)`` is the value
torch's scheduler puts in ``param_groups[...]["lr"]`` after ``t`` calls of ``step()``, to the bit
(``tests/test_equivalence_schedule.py``).  With ``t`` counted from construction (torch's
``last_epoch = t``, scheduler stepped once after each epoch or each update)::

    MultiStepLR        lr_t = lr_{t-1} * gamma ** (times t is a milestone)
    ExponentialLR      lr_t = lr_{t-1} * gamma
    CosineAnnealingLR  lr_t = eta_min + (lr_{t-1} - eta_min)
                              * (1 + cos(pi t / T_max)) / (1 + cos(pi (t - 1) / T_max)),
                       and, where that denominator is 0 ((t - 1 - T_max) % (2 T_max) == 0),
                       lr_t = lr_{t-1} + (lr_0 - eta_min) * (1 - cos(pi / T_max)) / 2
                       (closed form: eta_min + (lr_0 - eta_min) (1 + cos(pi t / T_max)) / 2;
                       past T_max it rises again, as torch's does)
    LinearLR           lr_0 = lr * start_factor; for 1 <= t <= total_iters
                       lr_t = lr_{t-1} * (1 + (end - start) / (total_iters * start
                                                               + (t - 1) * (end - start)))
                       (closed form: lr * (start + (end - start) * min(t, total_iters) /
                       total_iters)); constant afterwards

``lr_at`` keeps the last value it computed, so asking for ``t`` after ``t - 1`` (as training
does) costs one step of the recursion; asking for an earlier ``t`` starts again from 0.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable


class StepDecay:
    def __init__(self, lr0: float, lr_epoch: int = 1500, lr_gamma: float = 0.5) -> None:
        if not lr0 > 0:
            raise ValueError(f"lr must be positive, got {lr0}")
        if lr_epoch < 0:
            raise ValueError(f"lr_epoch must be >= 0, got {lr_epoch}")
        if not 0 <= lr_gamma < 1:
            raise ValueError(f"lr_gamma must be in [0, 1), got {lr_gamma}")
        self.lr0 = float(lr0)
        self.lr_epoch = int(lr_epoch)
        self.lr_gamma = float(lr_gamma)

    def lr_at(self, epoch: int) -> float:
        """The learning rate in force during epoch ``epoch`` (0-based)."""
        if self.lr_epoch == 0 or self.lr_gamma == 0:
            return self.lr0
        lr = self.lr0
        # Repeated multiplication, exactly as the seed's loop (and StepLR) compute it.
        for _ in range(epoch // self.lr_epoch):
            lr *= 1.0 - self.lr_gamma
        return lr


class Recursive:
    """A schedule computed by torch's recursion: ``first()`` is ``lr_0`` and ``next(t, lr)``
    turns ``lr_{t-1}`` into ``lr_t``."""

    def __init__(self, lr0: float) -> None:
        if not lr0 > 0:
            raise ValueError(f"lr must be positive, got {lr0}")
        self.lr0 = float(lr0)
        self._t, self._lr = 0, self.first()

    def first(self) -> float:
        return self.lr0

    def next(self, t: int, lr: float) -> float:
        raise NotImplementedError

    def lr_at(self, t: int) -> float:
        """The lr after ``t`` scheduler steps (``t >= 0``)."""
        if t < 0:
            raise ValueError(f"t must be >= 0, got {t}")
        if t < self._t:
            self._t, self._lr = 0, self.first()
        while self._t < t:
            self._t += 1
            self._lr = self.next(self._t, self._lr)
        return self._lr


class MultiStep(Recursive):
    """``torch.optim.lr_scheduler.MultiStepLR(milestones, gamma)``."""

    def __init__(self, lr0: float, milestones: Iterable[int], gamma: float = 0.1) -> None:
        counts = Counter(int(m) for m in milestones)
        if not counts or min(counts) < 1:
            raise ValueError(f"milestones must be positive integers, got {sorted(counts)}")
        if not gamma > 0:
            raise ValueError(f"gamma must be positive, got {gamma}")
        self.milestones, self.gamma = counts, float(gamma)
        super().__init__(lr0)

    def next(self, t: int, lr: float) -> float:
        if t not in self.milestones:
            return lr
        return lr * self.gamma ** self.milestones[t]


class Exponential(Recursive):
    """``torch.optim.lr_scheduler.ExponentialLR(gamma)``."""

    def __init__(self, lr0: float, gamma: float) -> None:
        if not gamma > 0:
            raise ValueError(f"gamma must be positive, got {gamma}")
        self.gamma = float(gamma)
        super().__init__(lr0)

    def next(self, t: int, lr: float) -> float:
        return lr * self.gamma


class Cosine(Recursive):
    """``torch.optim.lr_scheduler.CosineAnnealingLR(T_max, eta_min)``."""

    def __init__(self, lr0: float, t_max: int, eta_min: float = 0.0) -> None:
        if int(t_max) != t_max or t_max < 1:
            raise ValueError(f"t_max must be a positive integer, got {t_max}")
        if not eta_min >= 0:
            raise ValueError(f"eta_min must be >= 0, got {eta_min}")
        self.t_max, self.eta_min = int(t_max), float(eta_min)
        super().__init__(lr0)

    def next(self, t: int, lr: float) -> float:
        t_max, eta_min = self.t_max, self.eta_min
        if (t - 1 - t_max) % (2 * t_max) == 0:
            return lr + (self.lr0 - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
        return ((1 + math.cos(math.pi * t / t_max))
                / (1 + math.cos(math.pi * (t - 1) / t_max))
                * (lr - eta_min) + eta_min)


class Linear(Recursive):
    """``torch.optim.lr_scheduler.LinearLR(start_factor, end_factor, total_iters)``: a linear
    warm-up from ``lr * start_factor`` to ``lr * end_factor`` over ``total_iters`` steps."""

    def __init__(self, lr0: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5) -> None:
        if not 0 < start_factor <= 1:
            raise ValueError(f"start_factor must be in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"end_factor must be in [0, 1], got {end_factor}")
        if int(total_iters) != total_iters or total_iters < 1:
            raise ValueError(f"total_iters must be a positive integer, got {total_iters}")
        self.start, self.end = float(start_factor), float(end_factor)
        self.total_iters = int(total_iters)
        super().__init__(lr0)

    def first(self) -> float:
        return self.lr0 * self.start

    def next(self, t: int, lr: float) -> float:
        if t > self.total_iters:
            return lr
        start, end = self.start, self.end
        return lr * (1.0 + (end - start) / (self.total_iters * start + (t - 1) * (end - start)))


Schedule = StepDecay | Recursive
