"""The training loop: ``handnet.train`` against the twin's torch loop over the same batch order,
for several epochs -- weights, recorded losses, lr and predictions, epoch by epoch.

The compiled path (``handnet.fast``) is held to the same comparison as the plain one, on its own
and interleaved with the plain path epoch by epoch (the two share the run's state)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, reject
from hypothesis import strategies as st
from support import examples

from handnet import fast
from handnet.config import Config
from handnet.train import Indices, Run, build, epoch_order, predict, record, train, train_epoch
from reference.comparison import strategies as S
from reference.comparison.compare import assert_matches_reference, compare
from reference.comparison.harness import ambiguous, predictions_agree
from reference.comparison.scales import forward_scale, history_loss_scale, loss_scale
from reference.comparison.stability import (
    MAX_AMPLIFICATION,
    deviation,
    perturb_,
    perturbation_size,
)
from reference.comparison.tolerance import tolerance
from reference.comparison.trajectory import TrajectoryErrors
from reference.twin.losses import TORCH_BCE_CLAMP
from reference.twin.network import handnet_parameters
from reference.twin.train import TwinRun, build_twin, run_epoch


def snapshot(twin: TwinRun, x_train: np.ndarray, x_test: np.ndarray) -> dict[str, Any]:
    with torch.no_grad():
        out = {name: twin.model(torch.tensor(x)).numpy() for name, x in
               (("train", x_train), ("test", x_test))}
    return {"params": handnet_parameters(twin.model), "out": out,
            "scale": {"train": forward_scale(twin.model, x_train),
                      "test": forward_scale(twin.model, x_test)}}


EpochFn = Callable[[Run, int, Indices], None]
RecordFn = Callable[[Run, float], None]
needs_fast = pytest.mark.skipif(not fast.available(), reason="the compiled path is unavailable")


def check_training(
    config: Config, epoch_fn: EpochFn | None = None, record_fn: RecordFn | None = None
) -> None:
    """Twin first (and a perturbed twin: reject chaotic runs), then handnet against it.

    ``epoch_fn``/``record_fn`` choose handnet's engine (``handnet.train.train``'s defaults: the
    plain path)."""
    probe_run = build(config)  # an identical run: its shuffle generator gives the same orders
    orders = [epoch_order(probe_run) for _ in range(config.epochs)]
    data = probe_run.data
    twin, probe = build_twin(build(config)), build_twin(build(config))
    delta = perturbation_size(np.dtype(np.float64))
    perturb_(probe.model, delta)
    snapshots = []
    for order in orders:
        run_epoch(twin, order)
        run_epoch(probe, order)
        amplification = deviation(handnet_parameters(twin.model),
                                  handnet_parameters(probe.model)) / delta
        if not amplification <= MAX_AMPLIFICATION:
            reject()  # chaotic training: outside the tolerance policy's assumptions
        if twin.min_bce_denominator < TORCH_BCE_CLAMP:
            reject()  # bce's clamp was active (see reference.twin.losses.bce_denominator)
        snapshots.append(snapshot(twin, data.x_train, data.x_test))
    errors: list[dict[str, float]] = []

    def trajectory_errors(epoch: int) -> dict[str, float]:
        """The weights' error scales after ``epoch`` (``reference.comparison.trajectory``),
        from a third twin trained over the same orders.  Computed only for a comparison that
        fails without them: the scales only add to the tolerance, so a comparison that passes
        at scale 0 passes with them too, and the verdict is the same as computing them always
        (they cost an error-scale pass per step)."""
        if not errors:
            third = build_twin(build(config))
            observer = third.observer = TrajectoryErrors(third.model, third.optimizer,
                                                         third.loss)
            for order in orders:
                run_epoch(third, order)
                errors.append(dict(observer.scales))
        return errors[epoch]

    run = build(config)
    n = len(run.data.x_train)
    steps_per_epoch = math.ceil(n / (config.batch_size or n))

    def on_epoch_end(epoch: int, order: np.ndarray, run: Run) -> None:
        assert np.array_equal(order, orders[epoch]), "handnet used another batch order"
        snap, steps = snapshots[epoch], (epoch + 1) * steps_per_epoch
        tol = tolerance(np.float64, steps)
        weights = {k: v.copy() for k, v in run.network.parameters.items()}
        records = compare(weights, snap["params"], tol, check_dtype=True)
        assert_matches_reference(weights, snap["params"], steps=steps,
                                 scales=None if all(r.ok for r in records)
                                 else trajectory_errors(epoch),
                                 what=f"weights after epoch {epoch}")
        y, out, s_out = run.data.y_train, snap["out"]["train"], snap["scale"]["train"]
        # history loss: the mean per-sample loss over the training set
        if config.loss == "half-sse":
            l_scale = 0.5 * y.shape[1] * loss_scale("mse", out, y, s_out, twin.history.loss[epoch])
        else:
            l_scale = history_loss_scale(config.loss, out, y, s_out, twin.history.loss[epoch])
        assert_matches_reference(
            {"loss": np.array(run.history.loss[-1]), "lr": np.array(run.history.lr[-1])},
            {"loss": np.array(twin.history.loss[epoch]), "lr": np.array(twin.history.lr[epoch])},
            steps=steps, scales={"loss": l_scale}, what=f"history of epoch {epoch}")
        margin = tol.rtol * (np.abs(out) + s_out)
        if not np.any(ambiguous(out, margin)):
            assert run.history.train_accuracy[-1] == twin.history.train_accuracy[epoch]
        test_out = snap["out"]["test"]
        test_margin = tol.rtol * (np.abs(test_out) + snap["scale"]["test"])
        assert predictions_agree(predict(run.network, run.data.x_test), test_out, test_margin), (
            f"test predictions differ after epoch {epoch}")

    train(run, on_epoch_end, epoch_fn, record_fn)
    assert len(run.history.loss) == len(twin.history.loss) == config.epochs


ENGINES: dict[str, tuple[EpochFn | None, RecordFn | None]] = {
    "plain": (None, None),
    "compiled": (fast.train_epoch_fast, fast.record_fast),
}
engines = pytest.mark.parametrize("engine", ["plain", pytest.param("compiled", marks=needs_fast)])
# The losses each engine trains (the compiled path has the three it was built for).
LOSSES_OF = {"plain": S.LOSS_NAMES, "compiled": tuple(fast.LOSS_CODES)}


@engines
@examples(40)
@given(data=st.data())
def test_per_sample_training_equals_the_torch_loop(engine: str, data: st.DataObject) -> None:
    """The seed's granularity: one update per sample, several epochs, any optimiser/schedule."""
    config = data.draw(S.configs(batch_size="per-sample", losses=LOSSES_OF[engine]))
    check_training(config, *ENGINES[engine])


@engines
@examples(40)
@given(data=st.data())
def test_mini_batch_training_equals_the_torch_loop(engine: str, data: st.DataObject) -> None:
    config = data.draw(S.configs(batch_size="mini-batch", losses=LOSSES_OF[engine]))
    check_training(config, *ENGINES[engine])


@engines
@examples(20)
@given(data=st.data())
def test_full_batch_training_equals_the_torch_loop(engine: str, data: st.DataObject) -> None:
    config = data.draw(S.configs(batch_size="full", losses=LOSSES_OF[engine]))
    check_training(config, *ENGINES[engine])


@needs_fast
@examples(15)
@given(config=S.configs(losses=tuple(fast.LOSS_CODES)),
       pattern=st.lists(st.booleans(), min_size=8, max_size=8))
def test_plain_and_compiled_epochs_interleave(config: Config, pattern: list[bool]) -> None:
    """Either path continues from the other's state (weights, momentum buffers, history)."""

    def epoch_fn(run: Run, epoch: int, order: Indices) -> None:
        (fast.train_epoch_fast if pattern[epoch % 8] else train_epoch)(run, epoch, order)

    def record_fn(run: Run, lr: float) -> None:
        (fast.record_fast if pattern[(len(run.history.lr)) % 8] else record)(run, lr)

    check_training(config, epoch_fn, record_fn)


@examples(12)
@given(config=S.configs(max_epochs=4), kind=st.sampled_from(S.ADAPTIVE_KINDS),
       per=st.sampled_from(("epoch", "update")), data=st.data())
def test_adaptive_training_with_schedules_equals_the_torch_loop(
    config: Config, kind: str, per: str, data: st.DataObject
) -> None:
    """Adam, AdamW, RMSprop, Adagrad (declared hyper-parameters drawn) with the seed's step
    decay or torch's schedules, stepped per epoch or per update: the whole loop against the
    twin's, which is built from the same Config."""
    spec = data.draw(S.adaptive_specs(kinds=(kind,), max_lr=0.01), label="spec")
    # eps = 0 divides 0 by 0 on both sides where a gradient is exactly 0 (a dead relu unit):
    # NaN weights, which torch's bce then refuses; the step tests cover eps = 0.
    hyper = {k: v for k, v in spec.hyper if not (k == "eps" and v == 0)}
    schedule = data.draw(st.sampled_from(("step", "cosine", "linear", "multistep")),
                         label="schedule")
    fields = {"step": {}, "cosine": {"t_max": 3}, "linear": {"total_iters": 3},
              "multistep": {"milestones": (1, 2)}}[schedule]
    config = replace(config, optimizer=kind, bias_momentum=False, nesterov=False, lr=spec.lr,
                     momentum=hyper.pop("momentum", None), weight_decay=spec.weight_decay,
                     bias_decay=spec.bias_decay,
                     schedule=schedule, schedule_per=per,
                     lr_gamma=config.lr_gamma if schedule == "step" else None,
                     **hyper, **fields)
    check_training(config)


def test_a_bias_that_ends_near_zero_is_judged_at_its_trajectorys_scale() -> None:
    """Found by the dev profile: 108 per-sample updates of lr 0.5 bring ``b1`` to about 1e-5, so
    the rounding of the updates it summed (about 1e-16 each) is far more than ``rtol`` of its
    final size.  Judged without the trajectory's error scale
    (``reference.comparison.trajectory``) this correct run was a mismatch."""
    config = Config(dataset="linear", optimizer="momentum", momentum_style="classic",
                    momentum=0.5, bias_momentum=False, lr=0.5, schedule="step", lr_epoch=2,
                    epochs=3, batch_size=1, hidden=(4, 8),
                    activation=("relu", "tanh", "identity"), loss="softmax-ce", init="normal",
                    seed=69, shuffle=False, n_train=36, n_test=4, classes=2)
    check_training(config)
