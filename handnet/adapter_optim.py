"""The optimiser and lr schedule an adapter declares for ``train_step``, validated up front.

``optimizer`` is ``"sgd"`` (the default: plain SGD, or momentum with ``momentum > 0`` in the
``classic`` or ``torch`` convention, as before), ``"adam"``, ``"adamw"``, ``"rmsprop"`` or
``"adagrad"``, each with torch's hyper-parameters under torch's names (``betas``, ``eps``,
``amsgrad``; ``alpha``, ``eps``, ``centered``, ``momentum``; ``lr_decay``,
``initial_accumulator_value``, ``eps``) and ``weight_decay``/``bias_decay`` for every optimiser.
A hyper-parameter left at ``None`` takes torch's default.  ``schedule`` is ``"step"`` (the
default: ``lr_epoch``/``lr_gamma``, constant when either is 0), ``"multistep"`` (``milestones``,
``gamma``), ``"exponential"`` (``gamma``), ``"cosine"`` (``t_max``, ``eta_min``) or
``"linear"`` (a warm-up: ``start_factor``, ``end_factor``, ``total_iters``), stepped after every
epoch (``schedule_per="epoch"``: ``start_epoch(e)`` tells the network) or every update
(``"update"``).  The same names as ``handnet.config.Config`` and ``handnet train``'s flags
(``handnet.choices`` says which field belongs to which), so :func:`declared_config` turns a
declaration into the ``Config`` the twin builds torch's optimiser and scheduler from
(``reference.twin.optim.optimizer_from_config``, ``reference.twin.schedule.scheduler_from_config``)
— never from the user's objects.

A field given to an optimiser or schedule that does not use it is an error naming both.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from handnet.choices import ADAPTIVE, OPTIMIZER_FIELDS, SCHEDULE_FIELDS, SCHEDULE_PER
from handnet.config import Config

OPTIMIZERS = ("sgd", *ADAPTIVE)
SCHEDULES = ("step", "multistep", "exponential", "cosine", "linear")
# adapter fields whose default differs from "not given" (None / False / ()): field -> default
DEFAULTS: dict[str, Any] = {"momentum": 0.0, "bias_momentum": True, "lr_gamma": 0.0}
SGD_ONLY = {"momentum_style": "classic"}


class AdapterError(ValueError):
    """The adapter or the network behind it is unusable; the message names what and where."""


def _given(ad: Any, field: str) -> bool:
    value = getattr(ad, field)
    if field in DEFAULTS:
        return bool(value != DEFAULTS[field])
    return value is not None and value is not False and value != ()


def validate_declaration(ad: Any) -> None:
    """``AdapterError`` naming the first declared optimiser or schedule field that is unknown,
    out of range, or given to an optimiser or schedule that does not use it."""
    _choice("optimizer", ad.optimizer, OPTIMIZERS)
    _choice("schedule", ad.schedule, SCHEDULES)
    _choice("schedule_per", ad.schedule_per, SCHEDULE_PER)
    kind = "momentum" if ad.optimizer == "sgd" else ad.optimizer
    for field, users in OPTIMIZER_FIELDS.items():
        if _given(ad, field) and kind not in users:
            names = " or ".join("sgd" if u == "momentum" else u for u in users)
            raise AdapterError(f"{field} is used only with optimizer {names}, not "
                               f"{ad.optimizer}")
    if ad.optimizer != "sgd" and ad.momentum_style != SGD_ONLY["momentum_style"]:
        raise AdapterError(f"momentum_style is used only with optimizer sgd, not {ad.optimizer}")
    for field, users in SCHEDULE_FIELDS.items():
        if _given(ad, field) and ad.schedule not in users:
            raise AdapterError(f"{field} is used only with schedule {' or '.join(users)}, not "
                               f"{ad.schedule}")
    if ad.schedule != "step" and ad.lr_epoch != 0:
        raise AdapterError(f"lr_epoch is used only with schedule step, not {ad.schedule}")
    if ad.betas is not None:
        if not isinstance(ad.betas, tuple | list) or len(ad.betas) != 2:
            raise AdapterError(f"betas must be two numbers (beta1, beta2), got {ad.betas!r}")
        for i, b in enumerate(ad.betas):
            _number(f"betas[{i}]", b, low=0.0, high=1.0)
    for field in ("eps", "lr_decay", "initial_accumulator_value", "eta_min"):
        if getattr(ad, field) is not None:
            _number(field, getattr(ad, field), low=0.0)
    if ad.alpha is not None:
        _number("alpha", ad.alpha, low=0.0, high=1.0)
    for field in ("amsgrad", "centered", "bias_decay"):
        if not isinstance(getattr(ad, field), bool | np.bool_):
            raise AdapterError(f"{field} must be True or False, got {getattr(ad, field)!r}")
    _schedule_fields(ad)


def _schedule_fields(ad: Any) -> None:
    required = {"exponential": "gamma", "cosine": "t_max", "multistep": "milestones"}
    need = required.get(ad.schedule)
    if need is not None and not _given(ad, need):
        raise AdapterError(f"schedule {ad.schedule} needs {need}")
    if ad.schedule == "multistep":
        if not isinstance(ad.milestones, tuple | list):
            raise AdapterError(f"milestones must be a list of epochs (or updates), got "
                               f"{ad.milestones!r}")
        for m in ad.milestones:
            _integer("milestones", m, low=1)
    if ad.gamma is not None:
        _number("gamma", ad.gamma, low=0.0, low_open=True)
    for field in ("t_max", "total_iters"):
        if getattr(ad, field) is not None:
            _integer(field, getattr(ad, field), low=1)
    if ad.start_factor is not None:
        _number("start_factor", ad.start_factor, low=0.0, high=1.0, low_open=True,
                high_closed=True)
    if ad.end_factor is not None:
        _number("end_factor", ad.end_factor, low=0.0, high=1.0, high_closed=True)


def first_change(ad: Any) -> int:
    """The first epoch (or update, per ``schedule_per``) at which the declared lr changes;
    0 for a constant lr."""
    if ad.schedule == "step":
        return int(ad.lr_epoch) if ad.lr_epoch > 0 and ad.lr_gamma > 0 else 0
    if ad.schedule == "multistep":
        return int(min(ad.milestones))
    if ad.schedule == "linear" and ad.start_factor is not None and \
            ad.start_factor == (1.0 if ad.end_factor is None else ad.end_factor):
        return 0
    return 1


def schedule_text(ad: Any) -> str:
    """The declared schedule in a few words ("" for a constant lr)."""
    per = "" if ad.schedule_per == "epoch" else " per update"
    if ad.schedule == "step":
        if not first_change(ad):
            return ""
        return f"the lr schedule (x {1 - ad.lr_gamma:g} every {ad.lr_epoch} epochs)"
    fields = [f for f, users in SCHEDULE_FIELDS.items() if ad.schedule in users and _given(ad, f)]
    args = ", ".join(f"{f}={getattr(ad, f)!r}" for f in fields)
    return f"the {ad.schedule} schedule ({args}){per}"


def declared_config(ad: Any) -> Config:
    """The declaration as a ``handnet.config.Config`` (what the twin is built from)."""
    kw: dict[str, Any] = {"lr": float(ad.lr), "weight_decay": float(ad.weight_decay),
                          "bias_decay": bool(ad.bias_decay)}
    if ad.optimizer == "sgd":
        m = float(ad.momentum)
        kw.update(optimizer="momentum" if m > 0 else "sgd", momentum=m if m > 0 else None,
                  momentum_style=ad.momentum_style, nesterov=bool(ad.nesterov) and m > 0,
                  bias_momentum=bool(ad.bias_momentum) and m > 0)
    else:
        kw.update(optimizer=ad.optimizer, bias_momentum=False,
                  momentum=float(ad.momentum) if ad.momentum else None)
        for field in ("betas", "eps", "amsgrad", "alpha", "centered", "lr_decay",
                      "initial_accumulator_value"):
            kw[field] = getattr(ad, field)
        if ad.betas is not None:
            kw["betas"] = tuple(float(b) for b in ad.betas)
    kw.update(schedule=ad.schedule, schedule_per=ad.schedule_per)
    if ad.schedule == "step":
        kw.update(lr_epoch=int(ad.lr_epoch), lr_gamma=float(ad.lr_gamma))
    else:
        for field, users in SCHEDULE_FIELDS.items():
            if ad.schedule in users and getattr(ad, field) is not None:
                kw[field] = getattr(ad, field)
        kw["milestones"] = tuple(int(m) for m in ad.milestones)
    try:
        return Config(**kw)
    except ValueError as exc:
        raise AdapterError(f"the declared optimiser or schedule: {exc}") from None


def _number(name: str, value: Any, low: float, high: float | None = None,
            low_open: bool = False, high_closed: bool = False) -> None:
    """``value`` is a finite real number in ``[low, high)`` (``(low`` if ``low_open``,
    ``high]`` if ``high_closed``)."""
    real = isinstance(value, int | float | np.integer | np.floating) and \
        not isinstance(value, bool | np.bool_)
    if not real:
        raise AdapterError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise AdapterError(f"{name} must be finite, got {value!r}")
    above = v > low if low_open else v >= low
    below = high is None or (v <= high if high_closed else v < high)
    if not (above and below):
        lo = f"({low:g}" if low_open else f"[{low:g}"
        hi = "inf)" if high is None else f"{high:g}]" if high_closed else f"{high:g})"
        raise AdapterError(f"{name} must be in {lo}, {hi}, got {value!r}")


def _integer(name: str, value: Any, low: int) -> None:
    if not isinstance(value, int | np.integer) or isinstance(value, bool | np.bool_):
        raise AdapterError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < low:
        raise AdapterError(f"{name} must be at least {low}, got {value!r}")


def _choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise AdapterError(f"{name} is {value!r}; choose one of {', '.join(choices)}")
