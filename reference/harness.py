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
from handnet.optim import SGD
from reference.losses import get_torch_loss
from reference.network import TwinNet, handnet_gradients, handnet_parameters

Array = NDArray[np.floating]


def _tensor(model: TwinNet, a: Array, requires_grad: bool = False) -> torch.Tensor:
    t = torch.tensor(a, dtype=model.linears[0].weight.dtype)
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


def handnet_step(net: Network, opt: SGD, x: Array, y: Array, loss: str) -> dict[str, Array]:
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


class Unstable(Exception):
    """The twin's own training left the stable regime (non-finite or fast-growing weights)."""


class Lockstep:
    """handnet and its twin trained side by side on the same batches, compared at any time.

    Each step adds to a per-parameter error scale ``lr * k_m * S_grad`` (``S_grad`` from
    ``reference.scales.update_scales``; ``k_m = (1 + m) * sum_{i<=j} m**i`` bounds how much of a
    gradient's error the momentum buffer carries into later updates, Nesterov included), so that
    ``compare`` can apply the tolerance policy with ``steps`` = the number of steps taken.
    """

    def __init__(self, net: Network, opt: SGD, loss: str) -> None:
        from reference.network import to_torch
        from reference.optim import optimizer_like

        self.net, self.opt, self.loss = net, opt, loss
        self.model = to_torch(net)
        self.twin_opt = optimizer_like(self.model, opt)
        self.steps = 0
        self._carry = 0.0
        self.scales: dict[str, float] = {name: 0.0 for name in net.parameters}
        self.bound = 10.0 * max(float(np.max(np.abs(p))) for p in net.parameters.values()) + 1

    def set_lr(self, lr: float) -> None:
        """Set the lr on both sides (as a schedule would at the start of an epoch)."""
        self.opt.lr = lr
        for group in self.twin_opt.param_groups:
            group["lr"] = lr

    def step(self, x: Array, y: Array) -> None:
        from reference.scales import update_scales

        m = self.opt.momentum if self.opt.momentum > 0 else 0.0
        self._carry = m * self._carry + 1.0
        for name, s in update_scales(self.model, x, y, self.loss).items():
            k = (1.0 + m) * self._carry if self.opt.uses_momentum(name) else 1.0
            self.scales[name] += self.opt.lr * k * float(np.max(s))
        after = twin_step(self.model, self.twin_opt, x, y, self.loss)
        if not all(np.all(np.abs(p) < self.bound) for p in after.values()):
            raise Unstable(f"twin weights left |p| < {self.bound:.3g} at step {self.steps}")
        handnet_step(self.net, self.opt, x, y, self.loss)
        self.steps += 1

    def parameters(self) -> tuple[dict[str, Array], dict[str, Array]]:
        """``(handnet's, twin's)`` current parameters in handnet's layout."""
        return ({k: v.copy() for k, v in self.net.parameters.items()},
                handnet_parameters(self.model))
