"""The loss value, and the forward at large logits: what a gradient comparison cannot see.

Two mistakes in a hand-written cross-entropy leave every gradient right at ordinary parameters:
a softmax or log-softmax computed without subtracting each row's maximum, and a BCE on logits
written through ``p = sigmoid(z)``.  Both overflow only at large logits (``exp(z)`` is ``inf``
beyond ``z ~ 709`` in float64, ``~ 88`` in float32; ``log(1 - sigmoid(z))`` is ``log 0`` once
``sigmoid`` rounds to 1, ``|z| > 37``).

* **The loss value.**  With ``Adapter.loss_value(y_hat, y) -> float`` the network's own loss at
  the first batch (and at one of another size: ``check._check_last_batch``) is compared with
  the twin's (``reference.twin.losses``), within the error scale of a loss value
  (``reference.comparison.scales.loss_scale``).
* **The saturation probe** (losses on logits or a softmax output layer): the output layer's bias
  is raised by ``SHIFT`` = 1000 in every unit, the forward (and the loss value) are evaluated,
  and the bias is put back.  A uniform shift leaves the softmax unchanged — ``softmax(z + c) =
  softmax(z)`` — so a stable softmax, log-softmax and BCE on logits give finite numbers there,
  as the twin's do; a value that is not finite where the twin's is, is named (``OVERFLOW``) with
  the fix (the max shift, or the stable form ``max(z, 0) - z y + log1p(exp(-|z|))``).  With
  two or more outputs a second probe raises the first unit alone by ``SPREAD`` = 10000: a shift
  by the row's mean removes a uniform shift as well as the maximum does, but not logits that
  far apart.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from numpy.typing import NDArray

from handnet.adapter import Adapter, AdapterError
from handnet.losses import get_loss
from handnet.network import Network
from reference.checker.patterns import Pattern
from reference.checker.usercode import call
from reference.comparison.compare import compare_arrays
from reference.comparison.scales import forward_scale, loss_scale
from reference.comparison.tolerance import tolerance
from reference.twin.losses import get_torch_loss
from reference.twin.network import to_torch

Array = NDArray[np.floating]
SHIFT = 1000.0
SPREAD = 10 * SHIFT  # the lone unit's shift: a mean shift leaves SPREAD * (K - 1) / K >= 5000

MAX_SHIFT_HINT = ("subtract each row's maximum before exp (softmax(z) = exp(z - m) / sum(exp(z - "
                  "m)), log_softmax(z) = (z - m) - log(sum(exp(z - m))), m = max(z)): without "
                  "this max shift exp overflows")
STABLE_BCE_HINT = ("write BCE on logits in its stable form max(z, 0) - z * y + log1p(exp(-|z|)) "
                   "instead of through p = sigmoid(z) (log(1 - p) is log 0 once sigmoid rounds to "
                   "1)")


def saturates(loss: str, output_activation: str) -> bool:
    """Whether the probe applies: a loss on logits, or a softmax output layer."""
    return get_loss(loss).takes in ("logits", "distributions") or output_activation == "softmax"


def hint(loss: str, output_activation: str) -> str:
    takes = get_loss(loss).takes
    if takes == "logits" and not get_loss(loss).classes:
        return STABLE_BCE_HINT
    return MAX_SHIFT_HINT if takes != "outputs" or output_activation == "softmax" else ""


class Probe:
    """What the probe needs of the check's context: the adapter, its dtype and forward."""

    def __init__(self, ad: Adapter, dtype: np.dtype, network: Callable[..., Network],
                 forward: Callable[[Array, str], Array]) -> None:
        self.ad, self.dtype, self.network, self.forward = ad, dtype, network, forward

    def loss_value(self, rows: Array, y: Array, what: str) -> float:
        """The network's own loss for output rows and target rows (user layouts)."""
        ad = self.ad
        assert ad.loss_value is not None
        value = call(what, ad.loss_value, ad.to_user(rows), ad.targets_to_user(y))
        try:
            return float(np.asarray(value, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            raise AdapterError(f"{what} returned {type(value).__name__} "
                               f"{np.shape(value)}, not one number") from None

    def twin_loss(self, params: list[tuple[Array, Array]], x: Array, y: Array) -> float:
        model = to_torch(self.network(params))
        with torch.no_grad():
            return float(get_torch_loss(self.ad.loss)(model(torch.from_numpy(x)),
                                                      torch.from_numpy(y)))

    def compare_loss(self, params: list[tuple[Array, Array]], x: Array, y: Array,
                     rows: Array, what: str = "loss_value(y_hat, y)") -> list[str]:
        """The loss value at the compared parameters: a line if it differs, else nothing."""
        got = self.loss_value(rows, y, what)
        want = self.twin_loss(params, x, y)
        model = to_torch(self.network(params), np.float64)
        with torch.no_grad():
            p = model(torch.from_numpy(x.astype(np.float64))).numpy()
        with np.errstate(all="ignore"):
            scale = loss_scale(self.ad.loss, p, y.astype(np.float64),
                               forward_scale(model, x.astype(np.float64)), want)
        rec = compare_arrays("loss", np.array(got), np.array(want),
                             tolerance(self.dtype, 0).rtol, scale)
        if rec.ok:
            return []
        return [f"{what} = {got:.10g} where torch's {self.ad.loss} gives "
                f"{want:.10g} (rel error {rec.max_rel_error:.2e}): the loss is written "
                "differently from the one the adapter states"]

    def saturated(self, params: list[tuple[Array, Array]], x: Array, y: Array) -> list[str]:
        """The forward (and loss value) with the output bias raised by ``SHIFT`` in every unit,
        then (two or more outputs) by ``SPREAD`` in the first unit only; the network is left at
        ``params`` again.  The uniform shift leaves a softmax unchanged, which a shift by the
        row's mean (or any statistic of the row) also removes; the lone one leaves the logits
        ``SPREAD`` apart, where only the maximum keeps ``exp`` finite.  The loss value is
        probed there only on logits: ``-sum(y * log(p))`` of probabilities is ``0 * log 0``
        once a softmax rounds to one-hot, however the softmax is written."""
        b = params[-1][1]
        fix = hint(self.ad.loss, self.ad.activations[-1])
        same = "; the softmax is unchanged by such a shift" if fix == MAX_SHIFT_HINT else ""
        probes = [(np.full_like(b, SHIFT), True,
                   f"with the output layer's bias raised by {SHIFT:g} in every unit (logits "
                   f"near {SHIFT:g}{same})")]
        if b.size >= 2:
            lone = np.zeros_like(b)
            lone.flat[0] = SPREAD
            probes.append((lone, get_loss(self.ad.loss).takes == "logits",
                           f"with the output layer's bias raised by {SPREAD:g} in its first "
                           f"unit only (logits {SPREAD:g} apart, as a confident network gives)"))
        out: list[str] = []
        for shift, with_loss, where in probes:
            out += self._shifted(params, x, y, shift, with_loss, where, fix)
        return out

    def _shifted(self, params: list[tuple[Array, Array]], x: Array, y: Array, shift: Array,
                 with_loss: bool, where: str, fix: str) -> list[str]:
        ad = self.ad
        last = len(params) - 1
        W, b = params[last]
        shifted = [*params[:last], (W, b + shift.astype(b.dtype))]
        with_loss = with_loss and ad.loss_value is not None
        ad.write_canonical(last, W, shifted[last][1])
        try:  # what is asked is whether the values are finite: no overflow or underflow
            with np.errstate(all="ignore"):  # raises, even where the network asks for it
                rows = self.forward(x, f"forward(x) ({where})")
                value = self.loss_value(rows, y, f"loss_value(y_hat, y) ({where})") \
                    if with_loss else 0.0
        finally:
            ad.write_canonical(last, W, b)
        model = to_torch(self.network(shifted))
        with torch.no_grad():
            twin = model(torch.from_numpy(x)).numpy()
        out = []
        with np.errstate(all="ignore"):
            if np.all(np.isfinite(twin)) and not np.all(np.isfinite(rows)):
                out.append(f"{where}, the output is not finite where the twin's is: {fix}")
            if with_loss and not np.isfinite(value) and np.isfinite(
                    self.twin_loss(shifted, x, y)):
                out.append(f"{where}, loss_value(y_hat, y) is {value} where torch's "
                           f"{ad.loss} is finite: {fix}")
        return out


def probe_findings(probe: Probe, params: list[tuple[Array, Array]], x: Array,
                   y: Array, rows: Array) -> tuple[list[str], list[Pattern]]:
    """Lines for the forward's diagnosis and the patterns they name (``OVERFLOW``)."""
    ad = probe.ad
    lines = probe.compare_loss(params, x, y, rows) if ad.loss_value is not None else []
    patterns: list[Pattern] = []
    if saturates(ad.loss, ad.activations[-1]):
        overflow = probe.saturated(params, x, y)
        if overflow:
            patterns.append(Pattern.OVERFLOW)
        lines += overflow
    return lines, patterns
