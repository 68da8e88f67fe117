"""The same computation on both sides, as dicts of named arrays ready for ``compare``.

Every function here takes handnet's objects or the twin's and returns NumPy arrays in handnet's
layout, named like handnet's parameters (``W0, b0, ...``) plus ``x`` for the input gradient,
``y_hat`` for the output and ``loss`` for the loss.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray

from handnet.losses import get_loss
from handnet.network import Network
from handnet.optim import SGD, Optimizer
from handnet.schedule import StepDecay
from reference.comparison.momentum import MomentumErrors
from reference.comparison.stability import (
    check_amplification,
    check_bce_clamp,
    check_kinks,
    check_range,
    perturb_,
    perturbation_size,
)
from reference.comparison.tolerance import tolerance
from reference.twin.losses import get_torch_loss
from reference.twin.network import TwinNet, handnet_gradients, handnet_parameters

Array = NDArray[np.floating]


def _tensor(model: TwinNet, a: Array, requires_grad: bool = False) -> torch.Tensor:
    t = torch.tensor(a, dtype=model.dtype)
    return t.requires_grad_(requires_grad)


def handnet_forward(net: Network, x: Array, y: Array, loss: str) -> dict[str, Array]:
    y_hat = net.forward(x)
    return {"y_hat": y_hat, "loss": np.asarray(get_loss(loss).value(y_hat, y))}


def twin_forward(model: TwinNet, x: Array, y: Array, loss: str) -> dict[str, Array]:
    with torch.no_grad():
        y_hat = model(_tensor(model, x))
        value = get_torch_loss(loss)(y_hat, _tensor(model, y))
    return {"y_hat": y_hat.numpy(), "loss": np.asarray(value.item())}


def handnet_vjp(net: Network, x: Array, upstream: Array) -> dict[str, Array]:
    """Gradients of ``sum(upstream * net(x))`` for every parameter and ``x``."""
    net.forward(x)
    grads, dx = net.backward(upstream)
    return {**{k: v.copy() for k, v in grads.items()}, "x": dx}


def twin_vjp(model: TwinNet, x: Array, upstream: Array) -> dict[str, Array]:
    """The same vector-Jacobian product by autograd: ``y_hat.backward(upstream)``."""
    model.zero_grad(set_to_none=True)
    xt = _tensor(model, x, requires_grad=True)
    model(xt).backward(_tensor(model, upstream))
    assert xt.grad is not None
    return {**handnet_gradients(model), "x": xt.grad.numpy()}


def handnet_loss_gradients(net: Network, x: Array, y: Array, loss: str) -> dict[str, Array]:
    """Gradients of the loss for every parameter (handnet: ``backward(loss.gradient)``)."""
    y_hat = net.forward(x)
    grads, dx = net.backward(get_loss(loss).gradient(y_hat, y))
    return {**{k: v.copy() for k, v in grads.items()}, "x": dx}


def twin_loss_gradients(model: TwinNet, x: Array, y: Array, loss: str) -> dict[str, Array]:
    model.zero_grad(set_to_none=True)
    xt = _tensor(model, x, requires_grad=True)
    get_torch_loss(loss)(model(xt), _tensor(model, y)).backward()
    assert xt.grad is not None
    return {**handnet_gradients(model), "x": xt.grad.numpy()}


def handnet_step(net: Network, opt: Optimizer, x: Array, y: Array, loss: str
                 ) -> dict[str, Array]:
    """One training step (gradients, then the update); the parameters after it (copies)."""
    y_hat = net.forward(x)
    grads, _ = net.backward(get_loss(loss).gradient(y_hat, y))
    opt.step(net.parameters, grads)
    return {k: v.copy() for k, v in net.parameters.items()}


def twin_step(
    model: TwinNet, opt: torch.optim.Optimizer, x: Array, y: Array, loss: str
) -> dict[str, Array]:
    opt.zero_grad()
    get_torch_loss(loss)(model(_tensor(model, x)), _tensor(model, y)).backward()
    opt.step()
    return handnet_parameters(model)


class Lockstep:
    """handnet and its twin trained side by side on the same batches, compared at any time.

    Each step adds to a per-parameter error scale its update's error scale (``S_grad`` from
    ``reference.comparison.scales.update_scales`` carried through the momentum buffer by
    ``reference.comparison.momentum.MomentumErrors``, the model ``handnet check`` uses too), so
    that ``compare`` can apply the tolerance policy with ``steps`` = the number of steps taken.
    The momentum buffers' error scales are that model's ``C`` (in handnet's convention).

    A second twin, its weights perturbed by :func:`perturbation_size`, measures how much the
    training dynamics amplify differences.  The twins step first; a step outside the stable
    regime (``reference.comparison.stability``: the one rule, shared with ``handnet check``)
    raises ``Unstable`` before handnet takes it (tests reject such examples: the tolerance
    policy covers stable training only).

    With a ``schedule`` handnet sets its lr from ``StepDecay`` at :meth:`start_epoch` and the
    twins step their own ``StepLR`` at :meth:`end_epoch`.  ``twin_style`` gives the twins the
    other momentum convention (they agree while the lr is constant).
    """

    def __init__(
        self,
        net: Network,
        opt: SGD,
        loss: str,
        schedule: StepDecay | None = None,
        twin_style: str | None = None,
    ) -> None:
        from reference.twin.network import to_torch
        from reference.twin.optim import make_optimizer
        from reference.twin.schedule import scheduler_like

        self.net, self.opt, self.loss, self.schedule = net, opt, loss, schedule
        style = self.twin_style = twin_style or opt.style
        self.model, self.probe = to_torch(net), to_torch(net)
        self.delta = perturbation_size(net.dtype)
        perturb_(self.probe, self.delta)
        self.twin_opt, self.probe_opt = (
            make_optimizer(m, opt.lr, opt.momentum, style, opt.bias_momentum, opt.nesterov,
                           opt.weight_decay) for m in (self.model, self.probe))
        self.schedulers = ([scheduler_like(o, schedule) for o in (self.twin_opt, self.probe_opt)]
                           if schedule else [])
        self.epoch = 0
        self.steps = 0
        self.amplification = 1.0
        self.errors = MomentumErrors(opt.momentum, opt.style, opt.nesterov, opt.uses_momentum)
        self.scales: dict[str, float] = {name: 0.0 for name in net.parameters}

    def start_epoch(self) -> None:
        """handnet's schedule sets its lr for this epoch (``StepDecay.lr_at``, as in train)."""
        if self.schedule is not None:
            self.opt.lr = self.schedule.lr_at(self.epoch)

    def end_epoch(self) -> None:
        """The twins' StepLR steps after the epoch's updates, as torch documents."""
        for scheduler in self.schedulers:
            scheduler.step()
        self.epoch += 1

    def lrs(self) -> tuple[float, float]:
        """``(handnet's, twin's)`` lr in force."""
        return self.opt.lr, float(self.twin_opt.param_groups[0]["lr"])

    def step(self, x: Array, y: Array) -> None:
        from reference.comparison.scales import update_scales

        with np.errstate(all="ignore"):
            for name, s in update_scales(self.model, x, y, self.loss).items():
                self.scales[name] += self.errors.step(name, self.opt.lr, float(np.max(s)))
        with torch.no_grad():
            check_bce_clamp(self.model(_tensor(self.model, x)), self.loss, self.steps + 1)
        check_kinks(self.model, x, tolerance(self.net.dtype, self.steps + 1).rtol,
                    self.steps + 1)
        after = twin_step(self.model, self.twin_opt, x, y, self.loss)
        probe = twin_step(self.probe, self.probe_opt, x, y, self.loss)
        check_range(after, self.net.dtype, self.steps + 1)
        self.amplification = check_amplification(after, probe, self.delta, self.steps + 1)
        handnet_step(self.net, self.opt, x, y, self.loss)
        self.steps += 1

    @property
    def buffer_scales(self) -> dict[str, float]:
        """The momentum buffers' error scales (``MomentumErrors``' ``C``, handnet's convention)."""
        return self.errors.buffers

    def parameters(self) -> tuple[dict[str, Array], dict[str, Array]]:
        """``(handnet's, twin's)`` current parameters in handnet's layout."""
        return ({k: v.copy() for k, v in self.net.parameters.items()},
                handnet_parameters(self.model))

    def buffers(self) -> tuple[dict[str, Array], dict[str, Array]]:
        """``(handnet's, twin's)`` momentum buffers in handnet's layout (copies); both sides
        create a buffer on a parameter's first momentum step, so the names must agree too.

        With the twin in the other convention its buffers are given in handnet's:
        ``u_classic = lr * v_torch``, which holds while the lr has been constant.
        """
        from reference.twin.optim import twin_buffers

        twin = twin_buffers(self.twin_opt, self.model)
        if self.twin_style != self.opt.style:
            lr = self.opt.lr
            twin = {k: v * lr if self.opt.style == "classic" else v / lr
                    for k, v in twin.items()}
        return {k: v.copy() for k, v in self.opt.buffers.items()}, twin


def ambiguous(expected: Array, margin: Array | float) -> Array:
    """The rows (n,) whose label rounding may decide: one output within ``margin`` of 0.5, or
    (K outputs, label = argmax) the two largest within twice the row's largest ``margin``."""
    expected = np.asarray(expected, dtype=np.float64)
    if expected.shape[1] == 1:
        return np.asarray(np.abs(expected - 0.5) <= margin)[:, 0]
    top2 = np.sort(expected, axis=1)[:, -2:]
    row_margin = np.max(np.broadcast_to(margin, expected.shape), axis=1)
    return np.asarray(top2[:, 1] - top2[:, 0] <= 2 * row_margin)


def predictions_agree(actual: Array, expected: Array, margin: Array | float) -> bool:
    """Predicted labels ``actual`` (n, 1) agree with those of the expected outputs (``output >
    0.5``, or the argmax of K outputs) on every row that is not :func:`ambiguous`."""
    expected = np.asarray(expected, dtype=np.float64)
    if expected.shape[1] == 1:
        same = (actual[:, 0] > 0.5) == (expected[:, 0] > 0.5)
    else:
        same = actual[:, 0] == np.argmax(expected, axis=1)
    return bool(np.all(same | ambiguous(expected, margin)))
