"""The twin's training loop, mirroring ``handnet.train`` step for step.

One epoch ``e`` over the batch order handnet used (passed in, never re-drawn)::

    for each batch in order:
        optimizer.zero_grad()
        loss(model(x_b), y_b).backward()     # autograd: the gradients ...
        optimizer.step()                     # ... then the update
    record(history)                          # training loss, accuracy, the lr that was used
    scheduler.step()                         # StepLR, after the epoch's updates (torch's order)

so the lr during epoch ``e`` is ``lr0 * gamma ** (e // step_size)``, handnet's ``lr_at(e)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch
from numpy.typing import NDArray

from handnet.train import History, Indices, Run
from reference.twin.adaptive import load_state
from reference.twin.losses import CLAMPED_LOSSES, bce_denominator, get_torch_loss, per_sample
from reference.twin.network import TwinNet, to_torch
from reference.twin.optim import load_buffers, optimizer_from_config
from reference.twin.schedule import current_lr, scheduler_from_config

Array = NDArray[np.floating]


class StepObserver(Protocol):
    """Watches the twin's loop (``reference.comparison.trajectory.TrajectoryErrors``)."""

    def before_step(self, x: torch.Tensor, y: torch.Tensor) -> None: ...

    def after_step(self, lr: float) -> None: ...


@dataclass
class TwinRun:
    """The torch side of a run: model, optimiser, scheduler, loss name and training data."""

    model: TwinNet
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    loss: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    batch_size: int  # 0 means full batch
    per_update: bool = False  # the scheduler steps after every update (else every epoch)
    last_lr: float | None = None  # the lr the latest update used
    history: History = field(default_factory=History)
    # bce only: the smallest p * (1 - p) any step's loss saw
    # (reference.twin.losses.bce_denominator).
    min_bce_denominator: float = float("inf")
    observer: StepObserver | None = None  # told of every step (before it, and after with its lr)


def build_twin(run: Run) -> TwinRun:
    """The twin of a handnet ``run`` that has not trained yet: same weights, optimiser, schedule."""
    if run.history.loss or _optimizer_state(run):
        raise ValueError("the twin must be built before the run's first epoch")
    return twin_from_state(run, 0)


def twin_from_state(run: Run, epoch: int | None = None) -> TwinRun:
    """The twin of ``run`` as it stands at the start of epoch ``epoch`` (mid-run allowed).

    The optimiser, the schedule, the activations and the loss are built from ``run.config``, the
    declaration, never from ``run.optimizer``/``run.schedule``/``run.loss`` or the network's
    activations (issue 16: a twin built from the object under test copies its bugs); a network
    whose layer sizes are not the declared ones is an error.  The twin gets copies of the
    network's weights and of the optimiser's *state* (SGD's momentum buffers, classic or torch
    convention; the adaptive optimisers' moments and step counts) and the declared scheduler
    advanced to ``epoch``
    (:func:`reference.twin.schedule.scheduler_from_config`).  Trained from there over the
    same orders it takes the same steps as a twin that had trained alongside from epoch 0.

    ``epoch`` defaults to the number of epochs the run has recorded (``len(run.history.loss)``);
    a different value is an error, since the state would belong to another epoch.
    """
    done = len(run.history.loss)
    if epoch is None:
        epoch = done
    if epoch != done:
        raise ValueError(f"the run has recorded {done} epochs, so its state is the start of "
                         f"epoch {done}, not {epoch}")
    if epoch == 0 and _optimizer_state(run):
        raise ValueError("the run has optimiser state but no recorded epoch")
    config = run.config
    sizes = [run.network.layers[0].parameters["W"].shape[0]] + [
        layer.parameters["W"].shape[1] for layer in run.network.layers]
    if sizes != config.sizes:
        raise ValueError(f"the run's network has layer sizes {sizes}, its configuration "
                         f"declares {config.sizes}")
    model = to_torch(run.network, activations=config.activations)
    opt = optimizer_from_config(model, run.config)
    if hasattr(run.optimizer, "buffers"):
        load_buffers(opt, model, run.optimizer.buffers)
    else:
        load_state(opt, model, run.optimizer.state)
    dtype = model.dtype
    per_update = run.config.schedule_per == "update"
    n = len(run.data.x_train)
    steps = epoch * math.ceil(n / (run.config.batch_size or n)) if per_update else epoch
    return TwinRun(
        model=model,
        optimizer=opt,
        scheduler=scheduler_from_config(opt, run.config, steps),
        loss=config.loss,
        x_train=torch.as_tensor(run.data.x_train, dtype=dtype),
        y_train=torch.as_tensor(run.data.y_train, dtype=dtype),
        batch_size=run.config.batch_size,
        per_update=per_update,
    )


def _optimizer_state(run: Run) -> bool:
    """Whether handnet's optimiser holds state (momentum buffers, moments) yet."""
    return bool(getattr(run.optimizer, "buffers", None) or getattr(run.optimizer, "state", None))


def train_epoch(twin: TwinRun, order: Indices) -> None:
    """One pass over the training set in ``order`` (the indices handnet used)."""
    loss_fn = get_torch_loss(twin.loss)
    idx_all = torch.as_tensor(np.asarray(order, dtype=np.int64))
    batch = twin.batch_size or len(idx_all)
    for start in range(0, len(idx_all), batch):
        idx = idx_all[start : start + batch]
        if twin.observer is not None:
            twin.observer.before_step(twin.x_train[idx], twin.y_train[idx])
        twin.optimizer.zero_grad()
        y_hat = twin.model(twin.x_train[idx])
        if twin.loss in CLAMPED_LOSSES:
            twin.min_bce_denominator = min(twin.min_bce_denominator, bce_denominator(y_hat))
        loss_fn(y_hat, twin.y_train[idx]).backward()
        twin.last_lr = current_lr(twin.optimizer)
        twin.optimizer.step()
        if twin.observer is not None:
            twin.observer.after_step(twin.last_lr)
        if twin.per_update:
            twin.scheduler.step()  # after the update, as torch documents


def record(twin: TwinRun) -> None:
    """Append the epoch's training loss (mean per-sample loss), accuracy and lr to the history."""
    with torch.no_grad():
        y_hat = twin.model(twin.x_train)
        twin.history.loss.append(float(per_sample(twin.loss, y_hat, twin.y_train).mean()))
        twin.history.train_accuracy.append(
            float((labels(y_hat) == labels(twin.y_train, targets=True)).double().mean())
        )
    lr = twin.last_lr if twin.per_update and twin.last_lr is not None else None
    twin.history.lr.append(current_lr(twin.optimizer) if lr is None else lr)


def run_epoch(twin: TwinRun, order: Indices) -> None:
    """Train one epoch, record it, then step the scheduler (torch's documented order; with
    ``per_update`` it has stepped after every update instead)."""
    train_epoch(twin, order)
    record(twin)
    if not twin.per_update:
        twin.scheduler.step()


def train(twin: TwinRun, orders: Iterable[Indices]) -> History:
    """One epoch per batch order in ``orders``."""
    for order in orders:
        run_epoch(twin, order)
    return twin.history


def labels(out: torch.Tensor, targets: bool = False) -> torch.Tensor:
    """Class labels (n, 1): output above 0.5 for one column (targets: the 0/1 label itself),
    else the argmax of the row (one-hot targets, or K outputs)."""
    if out.shape[1] == 1:
        return (out > 0.5).double()
    return out.argmax(dim=1, keepdim=True).double()


def predict(model: TwinNet, x: Array) -> Array:
    """Class labels (n, 1): 0.0 or 1.0 (output above 0.5) for one output, else the argmax, as
    ``handnet.train.predict``."""
    dtype = model.dtype
    with torch.no_grad():
        y_hat = model(torch.as_tensor(x, dtype=dtype))
    return labels(y_hat).numpy()
