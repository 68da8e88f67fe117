"""The seed run checked epoch by epoch from synchronised states, and its free-running divergence.

**Re-synchronised** (:func:`resync_run`).  handnet trains the whole run (the compiled per-sample
path when ``handnet.fast`` is present and supports the run, else the plain path).  At each
checkpoint epoch ``e`` the twin is built *from handnet's state at the start of ``e``*
(:func:`reference.twin.train.twin_from_state`: weights, momentum buffers, StepLR resumed at ``e``),
both train epoch ``e`` over the same order, and weights and momentum buffers are compared under
the policy with ``steps = samples in the epoch``.  Each checkpoint tests one epoch's step
semantics (the lr of that epoch, buffers carried across decays) independently of the run's past.

**Free-running** (:func:`free_running`).  The twin trains alongside handnet from epoch 0, never
resynchronised, as ``--shadow`` does; beside it, the control: handnet against handnet with one
weight moved by one ulp (``W0[0, 0]``), over the same orders.  Where the per-sample dynamics are
chaotic both gaps grow alike from rounding size to O(1e-2), whatever the code: the divergence
is then the dynamics', not an implementation difference.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from handnet import fast as handnet_fast
from handnet.config import Config
from handnet.optim import SGD
from handnet.train import Indices, Run, accuracy, build, epoch_order, predict, record, train_epoch
from reference.comparison.compare import Record, compare
from reference.comparison.tolerance import tolerance
from reference.twin.network import handnet_parameters
from reference.twin.optim import twin_buffers
from reference.twin.train import TwinRun, build_twin, run_epoch, twin_from_state
from reference.twin.train import predict as twin_predict

EpochFn = Callable[[Run, int, Indices], None]

DEFAULT_CHECKPOINTS = (0, 1, 499, 500, 549, 550, 575, 1499, 1500, 2999, 3000, 4499, 4500, 5999)


def epoch_function(run: Run, fast: bool = True) -> tuple[EpochFn, str]:
    """handnet's epoch: ``handnet.fast.train_epoch_fast`` where present and able, else plain."""
    if fast and handnet_fast.available() and handnet_fast.supports(run):
        return handnet_fast.train_epoch_fast, "fast (handnet.fast.train_epoch_fast)"
    return train_epoch, "plain (handnet.train.train_epoch)"


def _worst(records: list[Record]) -> tuple[float, str]:
    worst = max(records, key=lambda r: r.max_rel_error)
    return worst.max_rel_error, worst.name


def checkpoints_for(epochs: int, given: Iterable[int] | None, every: int) -> list[int]:
    """The checkpoint epochs below ``epochs``: ``given`` (default list), every ``every``-th, last.

    Default checkpoints beyond the run are dropped; given ones must lie in ``[0, epochs)``.
    """
    if given is None:
        chosen = {e for e in DEFAULT_CHECKPOINTS if e < epochs}
    else:
        chosen = set(given)
        bad = sorted(e for e in chosen if not 0 <= e < epochs)
        if bad:
            raise ValueError(f"checkpoint epochs {bad} are outside the run's epochs "
                             f"0..{epochs - 1}")
    if every < 0:
        raise ValueError(f"--every must be >= 0, got {every}")
    if every:
        chosen.update(range(0, epochs, every))
    chosen.add(epochs - 1)
    return sorted(chosen)


def _check_epoch(run: Run, twin: TwinRun, epoch: int, steps: int) -> dict[str, Any]:
    tol = tolerance(run.network.dtype, steps)
    weights = compare(run.network.parameters, handnet_parameters(twin.model), tol)
    if not isinstance(run.optimizer, SGD):
        raise ValueError("resynchronised runs compare SGD's momentum buffers: SGD runs only")
    buffers = compare(run.optimizer.buffers, twin_buffers(twin.optimizer, twin.model), tol)
    w_rel, w_name = _worst(weights)
    b_rel, b_name = _worst(buffers) if buffers else (0.0, "")
    x, y = run.data.x_test, run.data.y_test
    mismatches = int(np.sum(predict(run.network, x) != twin_predict(twin.model, x)))
    return {
        "epoch": epoch,
        "lr": run.optimizer.lr,
        "twin_lr": twin.history.lr[-1],
        "rtol": tol.rtol,
        "max_rel_weight_diff": w_rel,
        "worst_parameter": w_name,
        "max_abs_weight_diff": max(r.max_abs_error for r in weights),
        "max_rel_buffer_diff": b_rel,
        "worst_buffer": b_name,
        "within_tolerance": all(r.ok for r in weights + buffers),
        "test_prediction_mismatches": mismatches,
        "handnet_test_accuracy": accuracy(run.network, x, y),
        "twin_test_accuracy": float(np.mean(twin_predict(twin.model, x) == y)),
    }


def resync_run(config: Config, checkpoints: Iterable[int], fast: bool = True,
               progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train ``config`` with handnet; at each checkpoint epoch, one twin epoch from sync."""
    run = build(config)
    epoch_fn, path = epoch_function(run, fast)
    wanted = set(checkpoints)
    rows: list[dict[str, Any]] = []
    twin_seconds = 0.0
    start = time.perf_counter()
    for epoch in range(config.epochs):
        order = epoch_order(run)
        if epoch not in wanted:
            epoch_fn(run, epoch, order)
            record(run, run.optimizer.lr)
            continue
        twin = twin_from_state(run, epoch)
        epoch_fn(run, epoch, order)
        record(run, run.optimizer.lr)
        t0 = time.perf_counter()
        run_epoch(twin, order)
        twin_seconds += time.perf_counter() - t0
        row = _check_epoch(run, twin, epoch, len(order))
        rows.append(row)
        if progress is not None:
            progress(f"  epoch {epoch:>5}: lr {row['lr']:.3e}, weights "
                     f"{row['max_rel_weight_diff']:.2e}, buffers {row['max_rel_buffer_diff']:.2e} "
                     f"(rtol {row['rtol']:.1e}), "
                     f"{row['test_prediction_mismatches']} test predictions differ")
    seconds = time.perf_counter() - start
    last = rows[-1]
    return {
        "handnet_path": path,
        "seconds": seconds,
        "twin_seconds": twin_seconds,
        "checkpoints": rows,
        "all_within_tolerance": all(r["within_tolerance"] for r in rows),
        "worst_max_rel_weight_diff": max(r["max_rel_weight_diff"] for r in rows),
        "worst_max_rel_buffer_diff": max(r["max_rel_buffer_diff"] for r in rows),
        "all_predictions_agree": all(r["test_prediction_mismatches"] == 0 for r in rows),
        "final": {
            "epochs": config.epochs,
            "handnet_test_accuracy": last["handnet_test_accuracy"],
            "twin_test_accuracy": last["twin_test_accuracy"],
            "max_rel_weight_diff": last["max_rel_weight_diff"],
            "test_prediction_mismatches": last["test_prediction_mismatches"],
        },
    }


def _rel_gap(a: Run, b_params: dict[str, np.ndarray], steps: int) -> tuple[float, bool]:
    records = compare(a.network.parameters, b_params, tolerance(a.network.dtype, steps))
    return _worst(records)[0], all(r.ok for r in records)


def free_running(config: Config, epochs: int, report_every: int = 25, fast: bool = True,
                 progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """handnet vs a free-running twin, and vs itself with ``W0[0, 0]`` one ulp larger.

    Both gaps are measured every epoch, normwise relative (``reference.comparison.compare``); a row
    is kept for epochs 1-3 and every ``report_every``-th epoch (counted from 1, after the epoch).
    """
    if epochs < 1 or report_every < 1:
        raise ValueError(f"free-running epochs and report interval must be positive, got "
                         f"{epochs} and {report_every}")
    a = build(config)
    b = build(config)
    epoch_fn, path = epoch_function(a, fast)
    twin = build_twin(a)
    w = b.network.parameters["W0"]
    w[0, 0] = np.nextafter(w[0, 0], math.inf)
    perturbation = float(abs(w[0, 0] - a.network.parameters["W0"][0, 0]))
    rows: list[dict[str, Any]] = []
    first_out: dict[str, int | None] = {"twin": None, "perturbed": None}
    steps = 0
    start = time.perf_counter()
    for epoch in range(epochs):
        order = epoch_order(a)
        if not np.array_equal(order, epoch_order(b)):
            raise RuntimeError("the perturbed run drew a different order")  # same seed: never
        epoch_fn(a, epoch, order)
        epoch_fn(b, epoch, order)
        run_epoch(twin, order)
        steps += len(order)
        twin_rel, twin_ok = _rel_gap(a, handnet_parameters(twin.model), steps)
        pert_rel, pert_ok = _rel_gap(a, b.network.parameters, steps)
        for key, ok in (("twin", twin_ok), ("perturbed", pert_ok)):
            if not ok and first_out[key] is None:
                first_out[key] = epoch + 1
        done = epoch + 1
        if done <= 3 or done % report_every == 0 or done == epochs:
            x = a.data.x_test
            pa = predict(a.network, x)
            rows.append({
                "epochs_done": done,
                "rtol": tolerance(a.network.dtype, steps).rtol,
                "twin_max_rel_weight_diff": twin_rel,
                "twin_test_prediction_mismatches": int(np.sum(pa != twin_predict(twin.model, x))),
                "perturbed_max_rel_weight_diff": pert_rel,
                "perturbed_test_prediction_mismatches": int(np.sum(pa != predict(b.network, x))),
                "lr": a.optimizer.lr,
            })
            if progress is not None and (done % (4 * report_every) == 0 or done == epochs):
                r = rows[-1]
                progress(f"  after {done:>5} epochs: twin {twin_rel:.2e} "
                         f"({r['twin_test_prediction_mismatches']} differ), one-ulp self "
                         f"{pert_rel:.2e} ({r['perturbed_test_prediction_mismatches']} differ)")
    return {
        "epochs": epochs,
        "handnet_path": path,
        "seconds": time.perf_counter() - start,
        "perturbation": {"parameter": "W0", "index": [0, 0], "abs": perturbation,
                         "rel": perturbation / float(np.max(np.abs(w)))},
        "twin_first_epoch_out_of_tolerance": first_out["twin"],
        "perturbed_first_epoch_out_of_tolerance": first_out["perturbed"],
        "rows": rows,
    }
