"""Training does not grow memory from step to step (issue 6): every array a step makes is freed
or reused.  Measured with tracemalloc, which counts NumPy's allocations byte for byte, so the
check is exact and does not depend on the machine's load."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest

from handnet import Config, build, fast
from handnet.train import Run, train_epoch

# Python's own bookkeeping (interned ints, caches of small objects) may move by a few KB.
SLACK_BYTES = 16 * 1024


def _growth(run: Run, epoch_fn: Callable[[Run, int, np.ndarray], None], epochs: int) -> int:
    """Traced bytes alive after ``3 + epochs`` epochs minus those alive after 3 (the same
    state is alive at both points: the weights, buffers, the last batch's activations ...)."""
    order = np.arange(len(run.data.x_train))
    tracemalloc.start()
    try:
        for e in range(3):  # buffers, workspaces and caches come into being here
            epoch_fn(run, e, order)
        before, _ = tracemalloc.get_traced_memory()
        for e in range(3, 3 + epochs):
            epoch_fn(run, e, order)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return after - before


@pytest.mark.parametrize("batch_size", [1, 16, 0])
def test_plain_training_does_not_grow_memory(batch_size: int) -> None:
    run = build(Config(n_train=64, batch_size=batch_size, lr_epoch=5))
    assert _growth(run, train_epoch, 20) <= SLACK_BYTES


@pytest.mark.skipif(not fast.available(), reason="the compiled path is unavailable")
@pytest.mark.parametrize("batch_size", [1, 16, 0])
def test_compiled_training_does_not_grow_memory(batch_size: int) -> None:
    run = build(Config(n_train=64, batch_size=batch_size, lr_epoch=5))
    assert _growth(run, fast.train_epoch_fast, 20) <= SLACK_BYTES


def test_the_measure_sees_growth() -> None:
    """The check can fail: a step that keeps what it makes is caught."""
    kept: list[np.ndarray] = []

    def leaky(run: Run, epoch: int, order: np.ndarray) -> None:
        train_epoch(run, epoch, order)
        kept.append(run.network.forward(run.data.x_train) * np.ones((1, 100)))  # 51 KB an epoch

    run = build(Config(n_train=64, batch_size=16))
    assert _growth(run, leaky, 20) > SLACK_BYTES
