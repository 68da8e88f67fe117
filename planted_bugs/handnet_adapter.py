"""handnet's own network, wrapped for ``handnet check`` the way a user would wrap theirs.

``make mutants`` runs ``handnet check planted_bugs/handnet_adapter.py`` inside each mutant's copy of
the tree and scores whether the tool names the planted bug.  The adapter goes through handnet's
real training path — ``handnet.train.train_epoch`` on a one-batch data set, i.e. forward, the
loss gradient, backward, then ``SGD.step`` at the schedule's lr — so bugs anywhere in that path
(layers, activations, losses, network, optimiser, schedule, training loop; the compiled kernel
with ``fast``) are in reach.

The network is 4-4-4-4 (three square layers): a square layer is where a transposed gradient or
another layer's weights still have the right shape, i.e. where those bugs go unnoticed in real
code.  The seed's optimiser conventions: classic momentum 0.9 on the weights only, plain SGD on
the biases, lr multiplied by ``1 - lr_gamma`` every ``lr_epoch`` epochs.

``HANDNET_MUTANT_ADAPTER`` (JSON) overrides any of ``DEFAULTS`` (activation, loss, lr_gamma,
batch ...): a mutant in the BCE derivative only shows in a network trained with BCE.  With
``optimizer`` one of ``adam``, ``adamw``, ``rmsprop``, ``adagrad`` (and any of ``ADAPTIVE``'s
hyper-parameters, ``schedule`` and its fields; rmsprop takes ``momentum``, 0.9 unless set) the
network trains with handnet's own adaptive optimiser and schedule (``handnet.choices``), and
the adapter declares the same to the check.  ``loss`` may be any of handnet's losses: the output
layer gets the activation it takes (``Config.activations``), the network's 4 outputs are then 4
classes for the class losses, and the loss's own ``value`` is declared as ``loss_value`` (so an
overflowing loss shows in the check's probe at large logits).  With ``fast`` the step is
``handnet.fast.train_epoch_fast``: the compiled per-sample kernel with
``batch`` 1, else the batched step (``handnet._fast_batch``).
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from handnet.adapter import Adapter, Layer
from handnet.choices import build_optimizer, build_schedule
from handnet.config import Config
from handnet.data import Dataset
from handnet.fast import train_epoch_fast
from handnet.losses import get_loss
from handnet.network import Network
from handnet.optim import SGD
from handnet.schedule import StepDecay
from handnet.train import Run, train_epoch

SIZES = [4, 4, 4, 4]
DEFAULTS: dict[str, Any] = {
    "activation": "sigmoid", "loss": "half-sse", "lr": 0.1, "momentum": 0.9,
    "lr_epoch": 2, "lr_gamma": 0.5, "batch": 4, "nesterov": False, "weight_decay": 0.0,
    "fast": False, "optimizer": "momentum",
    # the adaptive optimisers and torch's schedules (None: torch's default)
    "betas": None, "eps": None, "amsgrad": False, "alpha": None, "centered": False,
    "lr_decay": None, "initial_accumulator_value": None, "schedule": "step", "gamma": None,
    "milestones": [], "t_max": None, "schedule_per": "epoch",
}
ADAPTIVE = ("betas", "eps", "amsgrad", "alpha", "centered", "lr_decay",
            "initial_accumulator_value")
SCHEDULE = ("schedule", "gamma", "milestones", "t_max", "schedule_per")


class Parameters:
    """The network's parameters as attributes ``W0, b0, W1, ...`` (the live arrays)."""

    def __init__(self, net: Network) -> None:
        self._net = net

    def __getattr__(self, name: str) -> Any:
        params = self.__dict__["_net"].parameters
        if name not in params:
            raise AttributeError(name)
        return params[name]


def settings() -> dict[str, Any]:
    overrides = json.loads(os.environ.get("HANDNET_MUTANT_ADAPTER") or "{}")
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"HANDNET_MUTANT_ADAPTER: unknown keys {', '.join(sorted(unknown))}")
    return {**DEFAULTS, **overrides}


def adapter() -> Adapter:
    s = settings()
    if s["optimizer"] != "momentum":
        return _adaptive(s)
    config = Config(
        hidden=tuple(SIZES[1:-1]), activation=s["activation"], loss=s["loss"], lr=s["lr"],
        momentum=s["momentum"], momentum_style="classic", bias_momentum=False,
        lr_epoch=s["lr_epoch"], lr_gamma=s["lr_gamma"], seed=0,
        batch_size=1 if s["fast"] and s["batch"] == 1 else 0,
        nesterov=s["nesterov"], weight_decay=s["weight_decay"],
    )
    net = Network.create(SIZES, config.activations, rng=np.random.default_rng(0))
    optimizer = SGD(lr=config.lr, momentum=config.effective_momentum, style="classic",
                    bias_momentum=False, nesterov=config.nesterov,
                    weight_decay=config.weight_decay)
    schedule = StepDecay(config.lr, config.lr_epoch, config.effective_lr_gamma)
    empty = np.zeros((1, SIZES[0]))
    run = Run(config, net, optimizer, schedule, get_loss(config.loss),
              Dataset("check", empty, empty[:, :1], empty, empty[:, :1]),
              np.random.default_rng(0))
    epoch = [0]

    def start_epoch(e: int) -> None:
        epoch[0] = e

    def train_step(x: np.ndarray, y: np.ndarray) -> None:
        run.data = Dataset("check", x, y, x, y)
        step = train_epoch_fast if s["fast"] else train_epoch
        step(run, epoch[0], np.arange(len(x)))

    return Adapter(
        network=Parameters(net),
        layers=_layers(config),
        loss=s["loss"],
        forward=net.forward,
        loss_value=get_loss(config.loss).value,
        train_step=train_step,
        start_epoch=start_epoch,
        lr=config.lr,
        momentum=config.effective_momentum,
        momentum_style="classic",
        bias_momentum=False,
        nesterov=config.nesterov,
        weight_decay=config.weight_decay,
        lr_epoch=config.lr_epoch,
        lr_gamma=config.effective_lr_gamma,
        batch=s["batch"],
    )


def _adaptive(s: dict[str, Any]) -> Adapter:
    """handnet's network trained by handnet's adaptive optimiser and schedule, declared alike."""
    hyper = {k: s[k] for k in ADAPTIVE if s[k] not in (None, False)}
    if hyper.get("betas") is not None:
        hyper["betas"] = tuple(hyper["betas"])
    sched = {k: s[k] for k in SCHEDULE if s[k] not in (None, [])}
    if "milestones" in sched:
        sched["milestones"] = tuple(sched["milestones"])
    step = {"lr_epoch": s["lr_epoch"], "lr_gamma": s["lr_gamma"]} \
        if s["schedule"] == "step" else {}
    config = Config(hidden=tuple(SIZES[1:-1]), activation=s["activation"], loss=s["loss"],
                    lr=s["lr"], optimizer=s["optimizer"], bias_momentum=False, seed=0,
                    batch_size=0, weight_decay=s["weight_decay"],
                    momentum=s["momentum"] if s["optimizer"] == "rmsprop" and s["momentum"]
                    else None, **hyper, **sched, **step)
    net = Network.create(SIZES, config.activations, rng=np.random.default_rng(0))
    empty = np.zeros((1, SIZES[0]))
    run = Run(config, net, build_optimizer(config), build_schedule(config),
              get_loss(config.loss), Dataset("check", empty, empty[:, :1], empty, empty[:, :1]),
              np.random.default_rng(0))
    epoch = [0]

    def start_epoch(e: int) -> None:
        epoch[0] = e

    def train_step(x: np.ndarray, y: np.ndarray) -> None:
        run.data = Dataset("check", x, y, x, y)
        train_epoch(run, epoch[0], np.arange(len(x)))

    return Adapter(
        network=Parameters(net), layers=_layers(config), loss=s["loss"], forward=net.forward,
        loss_value=get_loss(config.loss).value, train_step=train_step, start_epoch=start_epoch,
        lr=config.lr, optimizer=s["optimizer"], weight_decay=config.weight_decay,
        momentum=config.momentum or 0.0, batch=s["batch"], **hyper, **sched, **step,
    )


def _layers(config: Config) -> list[Layer]:
    """One Layer per weight, the output layer's activation the one the loss takes (identity for
    logits, softmax for ce, sigmoid for bce; ``Config.activations``)."""
    acts = config.activations[-(len(SIZES) - 1):]
    return [Layer(f"W{i}", f"b{i}", act) for i, act in enumerate(acts)]
