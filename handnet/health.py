"""Is a finished run worth its numbers?  Divergence and saturation, said in one line each.

Two ways a run can end with figures that mean nothing:

* **diverged**: the training loss became NaN or infinite (``diverged_at``: the first such epoch,
  counted from 1).  The weights are then not finite either, and ``handnet.train.accuracy``
  reports NaN rather than a figure computed from NaN outputs.
* **stuck in saturation**: an lr far too large (``--lr 1e6``) throws every sigmoid/tanh unit to
  its limits, where its derivative is 0 and nothing trains any more; the loss stays finite and
  the network predicts one class everywhere, so the test accuracy is the share of that class
  (about chance) and nothing else says why.  A unit is saturated on a point when its
  activation's derivative there is below ``SATURATED`` (sigmoid: ``|z| > 20``); a layer's figure
  is the share of (unit, test point) pairs saturated.  The run is *stuck* when every test
  prediction is the same class and the output layer is at least ``STUCK``-saturated.

``assess(run)`` measures both on the test set; ``warnings(health, config)`` words them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from handnet.config import Config
from handnet.train import Run, predicted_labels

SATURATED = 1e-9  # derivative below this: the unit passes (almost) no gradient
STUCK = 0.99  # share of saturated output units (with a constant prediction) that is "stuck"
BOUNDED = ("sigmoid", "tanh")  # activations that saturate


@dataclass(frozen=True)
class Health:
    diverged_at: int | None  # first epoch (from 1) whose loss is not finite
    saturated: list[float | None]  # per layer: share of saturated units (None: cannot saturate)
    constant_prediction: bool  # every test point gets the same class

    @property
    def stuck(self) -> bool:
        out = self.saturated[-1]
        return self.constant_prediction and out is not None and out >= STUCK

    def to_dict(self) -> dict[str, object]:
        return {"diverged_at_epoch": self.diverged_at, "saturated": self.saturated,
                "constant_prediction": self.constant_prediction, "stuck": self.stuck}


def assess(run: Run) -> Health:
    """Divergence from the history, saturation on the test set (see the module docstring)."""
    diverged = next((i + 1 for i, v in enumerate(run.history.loss) if not math.isfinite(v)),
                    None)
    net = run.network
    with np.errstate(all="ignore"):
        out = net.forward(run.data.x_test)
        saturated: list[float | None] = []
        for name, act, z, a in zip(net.activation_names, net.activations, net._z, net._a,
                                   strict=True):
            if name not in BOUNDED:
                saturated.append(None)
                continue
            d = act.derivative(z, a)
            saturated.append(float(np.mean(~(np.abs(d) >= SATURATED))))
        classes = np.unique(predicted_labels(out)) if np.all(np.isfinite(out)) else np.array([])
    return Health(diverged, saturated, len(classes) == 1)


def warnings(health: Health, config: Config) -> list[str]:
    """One line per problem, with what to try."""
    out = []
    if health.diverged_at is not None:
        out.append(f"the training loss is not finite from epoch {health.diverged_at} on "
                   f"(the run diverged; accuracies are reported as NaN): try a smaller --lr "
                   f"than {config.lr:g}")
    elif health.stuck:
        share = health.saturated[-1] or 0.0
        out.append(f"the network predicts one class for every test point and {100 * share:.0f}"
                   f"% of its output units are saturated (derivative < {SATURATED:g}): "
                   f"training is stuck, not learning; the lr ({config.lr:g}) is probably far "
                   f"too large")
    return out
