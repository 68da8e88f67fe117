"""Training: per-sample (the seed's), mini-batch or full-batch, with a per-epoch history.

One epoch, ``e`` counted from 0, with ``S`` updates per epoch::

    optimizer.lr = schedule.lr_at(e)          # the seed's check, at the start of the epoch
    for each batch j (in order, or a seeded shuffle):
        optimizer.lr = schedule.lr_at(e * S + j)  # only with schedule_per="update"
        y_hat = net.forward(x_b)
        grads = net.parameter_gradients(loss.gradient(y_hat, y_b))  # gradients first ...
        optimizer.step(net.parameters, grads)                   # ... then the update

After the epoch the history records the training loss (mean per-sample loss over the whole
training set), training accuracy and the lr that was used; both are NaN once the output is not
finite.  ``train`` refuses data with NaN or inf in it (``check_data``); ``handnet.health`` says
whether a finished run diverged or is stuck in saturation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from handnet.choices import build_optimizer, build_schedule
from handnet.config import Config
from handnet.data import Dataset, labels_of, load_dataset, one_hot
from handnet.losses import Loss, get_loss
from handnet.network import Network
from handnet.optim import Optimizer
from handnet.schedule import Schedule

Array = NDArray[np.floating]
Indices = NDArray[np.intp]


TEST_POINTS = 200  # test-set evaluations per run, evenly spaced (and after the last epoch)


@dataclass
class History:
    """Per epoch: training loss, training accuracy, lr.  On the test set, at ``test_epochs``
    (epochs counted from 1; about ``TEST_POINTS`` of them, always the last): loss, accuracy."""

    loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    test_epochs: list[int] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)


@dataclass
class Run:
    """Everything one training run is made of."""

    config: Config
    network: Network
    optimizer: Optimizer
    schedule: Schedule
    loss: Loss
    data: Dataset
    shuffle_rng: np.random.Generator
    history: History = field(default_factory=History)


EpochCallback = Callable[[int, Indices, Run], None]


def predicted_labels(y_hat: Array) -> Array:
    """Class labels (n, 1) from outputs: above 0.5 for one output, else the largest output."""
    if y_hat.shape[1] == 1:
        return (y_hat > 0.5).astype(np.float64)
    return np.argmax(y_hat, axis=1)[:, None].astype(np.float64)


def predict(net: Network, x: Array) -> Array:
    """Class labels (n, 1): 0.0 or 1.0 (output above 0.5) for one output, else the argmax."""
    return predicted_labels(net.forward(x))


def accuracy_of(y_hat: Array, y: Array) -> float:
    """The share of rows whose predicted class (:func:`predicted_labels`) is the target's (``y``
    a label column or one-hot rows); NaN when ``y_hat`` is not finite (a diverged run: NaN > 0.5
    is False, so every such point would count as class 0)."""
    if not np.all(np.isfinite(y_hat)):
        return math.nan
    return float(np.mean(predicted_labels(y_hat) == labels_of(y)))


def mean_loss_of(loss: Loss, y_hat: Array, y: Array) -> float:
    """The mean per-sample loss (what the history records); NaN when ``y_hat`` is not finite."""
    if not np.all(np.isfinite(y_hat)):
        return math.nan
    return float(np.mean(loss.per_sample(y_hat, y)))


def accuracy(net: Network, x: Array, y: Array) -> float:
    """:func:`accuracy_of` the network's output on ``x`` (its overflow silenced: a diverged
    network's accuracy is NaN, quietly)."""
    with np.errstate(all="ignore"):
        out = net.forward(x)
    return accuracy_of(out, y)


def check_data(data: Dataset) -> None:
    """Refuse a data set with NaN or inf in it (training would carry them into every weight)."""
    for name in ("x_train", "y_train", "x_test", "y_test"):
        values = np.asarray(getattr(data, name))
        if values.dtype.kind in "fc" and not np.all(np.isfinite(values)):
            bad = np.argwhere(~np.isfinite(values))
            raise ValueError(f"the data's {name} holds {len(bad)} NaN or infinite value(s), "
                             f"the first at {tuple(int(i) for i in bad[0])}: clean the data "
                             "before training")


def build(config: Config, data: Dataset | None = None) -> Run:
    """Data, network, optimiser and schedule for ``config``, all from its one seed."""
    data_ss, init_ss, shuffle_ss = config.seeds()
    if data is None:
        data = load_dataset(config.dataset, config.n_train, config.n_test, seed=data_ss,
                            classes=config.classes)
        if config.one_hot:
            data = one_hot(data)
    net = Network.create(
        config.sizes, config.activations, init=config.init, rng=np.random.default_rng(init_ss)
    )
    optimizer, schedule = build_optimizer(config), build_schedule(config)
    return Run(config, net, optimizer, schedule, get_loss(config.loss), data,
               np.random.default_rng(shuffle_ss))


def updates_per_epoch(run: Run) -> int:
    """Batches per epoch (``build`` draws at least one training sample: ``n_train`` >= 1)."""
    n = len(run.data.x_train)
    return math.ceil(n / (run.config.batch_size or n))


def epoch_order(run: Run) -> Indices:
    n = len(run.data.x_train)
    return run.shuffle_rng.permutation(n) if run.config.shuffle else np.arange(n)


def train_epoch(run: Run, epoch: int, order: Indices) -> None:
    """One pass over the training set in ``order``."""
    net, opt, loss = run.network, run.optimizer, run.loss
    x, y = run.data.x_train, run.data.y_train
    per_update = run.config.schedule_per == "update"
    if not per_update:
        opt.lr = run.schedule.lr_at(epoch)
    params = net.parameters
    batch = run.config.batch_size or len(order)
    for j, start in enumerate(range(0, len(order), batch)):
        if per_update:
            opt.lr = run.schedule.lr_at(epoch * updates_per_epoch(run) + j)
        idx = order[start : start + batch]
        xb, yb = x[idx], y[idx]
        y_hat = net.forward(xb)
        grads = net.parameter_gradients(loss.gradient(y_hat, yb))
        opt.step(params, grads)


def record(run: Run, lr: float) -> None:
    """Append the training loss and accuracy over the whole training set, and ``lr``."""
    record_output(run, run.network.forward(run.data.x_train), lr)


def record_output(run: Run, y_hat: NDArray[np.floating], lr: float) -> None:
    """``record`` given the network's output ``y_hat`` on the training set."""
    y = run.data.y_train
    run.history.loss.append(mean_loss_of(run.loss, y_hat, y))
    run.history.train_accuracy.append(accuracy_of(y_hat, y))
    run.history.lr.append(lr)


def record_test(run: Run, epochs_done: int) -> None:
    """Append the test loss and accuracy after ``epochs_done`` epochs."""
    with np.errstate(all="ignore"):
        y_hat = run.network.forward(run.data.x_test)
    run.history.test_epochs.append(epochs_done)
    run.history.test_loss.append(mean_loss_of(run.loss, y_hat, run.data.y_test))
    run.history.test_accuracy.append(accuracy_of(y_hat, run.data.y_test))


def train(
    run: Run,
    on_epoch_end: EpochCallback | None = None,
    epoch_fn: Callable[[Run, int, Indices], None] | None = None,
    record_fn: Callable[[Run, float], None] | None = None,
) -> History:
    """Train for ``run.config.epochs`` epochs; ``on_epoch_end(epoch, order, run)`` after each.

    ``epoch_fn`` and ``record_fn`` default to ``train_epoch`` and ``record``; ``handnet.fast``
    passes its compiled equivalents through the same loop.
    """
    check_data(run.data)
    epoch_fn = epoch_fn or train_epoch
    record_fn = record_fn or record
    every = max(1, run.config.epochs // TEST_POINTS)
    for epoch in range(run.config.epochs):
        order = epoch_order(run)
        epoch_fn(run, epoch, order)
        record_fn(run, run.optimizer.lr)
        if (epoch + 1) % every == 0 or epoch + 1 == run.config.epochs:
            record_test(run, epoch + 1)
        if on_epoch_end is not None:
            on_epoch_end(epoch, order, run)
    return run.history
