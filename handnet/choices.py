"""Which optimiser and schedule a ``Config`` declares, which fields belong to which, and the
handnet objects it builds.

Hyper-parameters that torch gives a default (``betas``, ``eps``, ``alpha``, ``gamma`` of
MultiStepLR, ...) are ``None`` in a ``Config`` unless set: handnet's classes then use their own
defaults and the twin passes nothing, so torch uses its own -- a wrong default on either side
shows up as a difference instead of being copied.  A field set for an optimiser or schedule
that does not use it is an error naming both (never silently ignored).
"""

from __future__ import annotations

from typing import Any

from handnet.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from handnet.schedule import Cosine, Exponential, Linear, MultiStep, Schedule, StepDecay

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad")
ADAPTIVE = ("adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("step", "constant", "multistep", "exponential", "cosine", "linear")
SCHEDULE_PER = ("epoch", "update")

# field -> the optimisers that use it (fields of every optimiser: lr, weight_decay, bias_decay)
OPTIMIZER_FIELDS: dict[str, tuple[str, ...]] = {
    "momentum": ("momentum", "rmsprop"),
    "nesterov": ("momentum",),
    "bias_momentum": ("momentum",),
    "betas": ("adam", "adamw"),
    "amsgrad": ("adam", "adamw"),
    "eps": ADAPTIVE,
    "alpha": ("rmsprop",),
    "centered": ("rmsprop",),
    "lr_decay": ("adagrad",),
    "initial_accumulator_value": ("adagrad",),
}
SCHEDULE_FIELDS: dict[str, tuple[str, ...]] = {
    "lr_gamma": ("step",),
    "milestones": ("multistep",),
    "gamma": ("multistep", "exponential"),
    "t_max": ("cosine",),
    "eta_min": ("cosine",),
    "start_factor": ("linear",),
    "end_factor": ("linear",),
    "total_iters": ("linear",),
}
REQUIRED = {"exponential": ("gamma",), "cosine": ("t_max",), "multistep": ("milestones",)}


def is_set(value: Any) -> bool:
    """A field counts as given when it is not None, False or empty."""
    return value is not None and value is not False and value != ()


def check_fields(config: Any) -> None:
    """``ValueError`` for a field given to an optimiser or schedule that does not use it, or a
    schedule's required field missing."""
    for table, chosen, what in ((OPTIMIZER_FIELDS, config.optimizer, "optimizer"),
                                (SCHEDULE_FIELDS, config.schedule, "schedule")):
        for field, users in table.items():
            if is_set(getattr(config, field)) and chosen not in users:
                raise ValueError(f"{field} is used only with {what} {' or '.join(users)}, "
                                 f"not {chosen}")
    for field in REQUIRED.get(config.schedule, ()):
        if not is_set(getattr(config, field)):
            raise ValueError(f"{field} is required with schedule {config.schedule}")


def given(config: Any, *fields: str) -> dict[str, Any]:
    """The fields among ``fields`` that the config sets (the rest take the class defaults)."""
    return {f: getattr(config, f) for f in fields if is_set(getattr(config, f))}


def build_optimizer(config: Any) -> Optimizer:
    """handnet's optimiser for ``config`` (its ``lr`` is the schedule's first value)."""
    kind, common = config.optimizer, {"lr": config.lr, "weight_decay": config.weight_decay,
                                      "bias_decay": config.bias_decay}
    if kind in ("sgd", "momentum"):
        m = config.effective_momentum
        return SGD(momentum=m, style=config.momentum_style, bias_momentum=config.bias_momentum,
                   nesterov=config.nesterov and m > 0, **common)
    if kind in ("adam", "adamw"):
        cls = Adam if kind == "adam" else AdamW
        return cls(**common, **given(config, "betas", "eps", "amsgrad"))
    if kind == "rmsprop":
        return RMSprop(**common, **given(config, "alpha", "eps", "momentum", "centered"))
    return Adagrad(**common, **given(config, "lr_decay", "initial_accumulator_value", "eps"))


def build_schedule(config: Any) -> Schedule:
    """handnet's schedule for ``config``; ``lr_at(t)`` with ``t`` epochs or updates done."""
    kind, lr = config.schedule, config.lr
    if kind == "step":
        return StepDecay(lr, config.lr_epoch, config.effective_lr_gamma)
    if kind == "constant":
        return StepDecay(lr, 0, 0.0)
    if kind == "multistep":
        return MultiStep(lr, config.milestones, **given(config, "gamma"))
    if kind == "exponential":
        return Exponential(lr, config.gamma)
    if kind == "cosine":
        return Cosine(lr, config.t_max, **given(config, "eta_min"))
    return Linear(lr, **given(config, "start_factor", "end_factor", "total_iters"))
