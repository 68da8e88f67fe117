"""Which loss a training step minimises, read off the output layer's weight update.

For each candidate loss ``L`` (``half-sse``, ``mse``; ``bce`` under a sigmoid output) the output
layer's weight gradient ``G_L`` is computed here in NumPy (handnet's own network, built from the
weights before the step) for the same batch.  The user's step gave an update ``U = W_before -
W_after`` (or a returned gradient).  The best factor ``c = <U, G>/<G, G>`` and the residual
``|U - c G| / |U|`` say whether ``U`` is a multiple of ``G_L`` at all (residual ~1e-16 when it
is) and which multiple: for an update ``c`` should be the lr, for a returned gradient 1.

Only the output layer is read: a mistake deeper in the backward pass (the thing ``handnet check``
is for) does not change which loss the code meant.  Half-sse and mse give the same residual (their
gradients differ by the constant ``2 / (batch * outputs)``), so the lr decides between them; when
no lr is known the factor is reported as a hint and the choice stays a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handnet.layers import Dense
from handnet.losses import get_loss
from handnet.network import Network

Array = np.ndarray
EXACT = 1e-6  # residual (and |c/lr - 1|) below which a fit is taken as exact
FACTORS = (1.0, 2.0, 0.5)  # c / lr accepted: the stated loss, SSE without its 1/2, a mean of it
# The losses a draft tells apart from one output layer's update.  Not every loss the check can
# declare: sse is 2 * half-sse and half-mse is mse / 2, so with FACTORS they fit the same update
# and the draft keeps to the seed's three (it notes a factor; a person states the loss).
DRAFT_LOSSES = ("half-sse", "mse", "bce")


@dataclass
class LossFit:
    loss: str
    factor: float  # c / lr (or c when no lr is known)
    residual: float

    @property
    def exact(self) -> bool:
        return self.residual < EXACT and abs(self.factor - 1.0) < EXACT


def output_gradients(layers: list[tuple[Array, Array]], activations: list[str], x: Array,
                     y: Array) -> dict[str, Array]:
    """The output layer's weight gradient under each candidate loss."""
    if activations[-1] not in ("identity", "sigmoid", "tanh", "relu"):
        return {}
    net = Network([Dense(w.copy(), b.copy()) for w, b in layers], activations)
    out = {}
    for name in DRAFT_LOSSES:
        loss = get_loss(name)
        if name == "bce" and activations[-1] != "sigmoid":
            continue
        y_hat = net.forward(x)
        net.parameter_gradients(loss.gradient(y_hat, y))
        out[name] = net.layers[-1].gradients["W"].copy()
    return out


def fit_losses(grads: dict[str, Array], observed: Array, scale: float | None) -> list[LossFit]:
    """Every candidate's fit to ``observed`` (an update when ``scale`` is the lr, a gradient when
    it is 1; ``None``: lr unknown), best first: exact, then a known factor, then residual."""
    fits = []
    u = observed.ravel()
    for name, g in grads.items():
        gv = g.ravel()
        gg = float(gv @ gv)
        if gg == 0.0 or not np.any(u):
            continue
        c = float(u @ gv) / gg
        residual = float(np.linalg.norm(u - c * gv) / np.linalg.norm(u))
        fits.append(LossFit(name, c / scale if scale else c, residual))

    def key(f: LossFit) -> tuple[bool, bool, float]:
        known = scale is not None and any(abs(f.factor - k) < EXACT for k in FACTORS)
        return (not f.exact, not (f.residual < EXACT and known), f.residual)

    return sorted(fits, key=key)
