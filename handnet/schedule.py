"""Step learning-rate decay with the seed's meaning.

The seed multiplies ``lr`` by ``1 - lr_gamma`` whenever ``epoch % lr_epoch == 0 and epoch != 0``
at the **start** of an epoch.  So the lr used throughout epoch ``e`` (counted from 0) is::

    lr(e) = lr0 * (1 - lr_gamma) ** (e // lr_epoch)

which is ``torch.optim.lr_scheduler.StepLR(step_size=lr_epoch, gamma=1 - lr_gamma)`` stepped once
after each epoch's updates.  ``lr_gamma = 0`` (or ``lr_epoch = 0``) means a constant lr.
"""

from __future__ import annotations


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
