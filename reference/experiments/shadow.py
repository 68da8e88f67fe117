"""Train the twin in lockstep with a handnet run and record how far apart they are, per epoch.

``handnet.train.train(run, on_epoch_end=shadow(run))``: after each of handnet's epochs the twin
trains one epoch over the *same batch order* (passed to the callback) with torch's own loop
(``reference.twin.train``), then the two sets of weights and their test predictions are compared::

    max_abs_weight_diff = max over parameters of max |W_handnet - W_twin|
    max_rel_weight_diff = max over parameters of that error / max |W_twin|   (normwise)
    test_predictions_agree = every test label (output > 0.5) identical

The records are plain dicts (JSON-able) in ``Shadow.records``; ``Shadow.summary()`` gives the
last epoch's figures and the worst over all epochs.  The shadow must be created before the run's
first epoch (the twin starts from the same weights and empty momentum buffers).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from handnet.train import Indices, Run, predict
from reference.comparison.compare import compare
from reference.comparison.tolerance import tolerance
from reference.twin.network import handnet_parameters
from reference.twin.train import build_twin, run_epoch
from reference.twin.train import predict as twin_predict

Array = NDArray[np.floating]


class Shadow:
    """The ``on_epoch_end(epoch, order, run)`` callback that trains and compares the twin."""

    def __init__(self, run: Run) -> None:
        self.twin = build_twin(run)
        self.records: list[dict[str, Any]] = []
        self._steps = 0

    def __call__(self, epoch: int, order: Indices, run: Run) -> None:
        run_epoch(self.twin, order)
        n = len(order)
        self._steps += -(-n // (run.config.batch_size or n))
        records = compare(run.network.parameters, handnet_parameters(self.twin.model),
                          tolerance(run.network.dtype, self._steps))
        worst = max(records, key=lambda r: r.max_rel_error)
        mismatches = int(np.sum(predict(run.network, run.data.x_test)
                                != twin_predict(self.twin.model, run.data.x_test)))
        self.records.append({
            "epoch": epoch,
            "max_abs_weight_diff": max(r.max_abs_error for r in records),
            "max_rel_weight_diff": worst.max_rel_error,
            "worst_parameter": worst.name,
            "within_tolerance": all(r.ok for r in records),
            "test_predictions_agree": mismatches == 0,
            "test_prediction_mismatches": mismatches,
            "twin_loss": self.twin.history.loss[-1],
        })

    def summary(self) -> dict[str, Any]:
        """The last epoch's figures and the worst relative difference over all epochs."""
        if not self.records:
            return {"epochs": 0}
        last = self.records[-1]
        return {
            "epochs": len(self.records),
            "final_max_rel_weight_diff": last["max_rel_weight_diff"],
            "final_max_abs_weight_diff": last["max_abs_weight_diff"],
            "final_test_predictions_agree": last["test_predictions_agree"],
            "worst_max_rel_weight_diff": max(r["max_rel_weight_diff"] for r in self.records),
            "every_epoch_predictions_agree": all(r["test_predictions_agree"]
                                                 for r in self.records),
        }


def shadow(run: Run) -> Shadow:
    """A callback for ``handnet.train.train`` that shadows ``run`` with the torch twin."""
    return Shadow(run)
