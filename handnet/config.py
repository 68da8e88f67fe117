"""The run configuration; its defaults are the seed configuration (see ../shared/seed-facts.md).

Seed: 2-100-50-10-1, sigmoid everywhere, ``W ~ N(0, 1)``, zero biases, loss
``0.5 * sum((y_hat - y)**2)``, per-sample updates, lr 1e-2, classic momentum 0.9 on weights only
(biases plain SGD), lr halved at the start of epochs 1500, 3000, 4500, 6000 epochs.
The seed's "plain SGD" row has no momentum and no schedule: ``optimizer="sgd"`` means that.

Beyond the seed: ``optimizer`` adam, adamw, rmsprop or adagrad and ``schedule`` constant,
multistep, exponential, cosine or linear (a warm-up), stepped per epoch or per update
(``schedule_per``); ``handnet.choices`` says which field belongs to which and builds them.

Outputs follow the data: one output for a binary data set under an element-wise loss (the
seed's 2-...-1), one per class (``classes`` = K, targets one-hot) for ``spirals`` with K > 2 or
any class loss (``softmax-ce``, ``ce``; a binary set then has K = 2).  A single ``activation``
name applies to every hidden layer and to the output, except that a loss that takes logits or
probabilities sets the output's: identity for ``softmax-ce``/``bce-logits``, softmax for ``ce``,
sigmoid for ``bce``.  A list names every layer's activation itself (softmax on the output only).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from handnet.activations import ACTIVATIONS, OUTPUT_ONLY
from handnet.choices import (
    OPTIMIZERS,
    SCHEDULE_PER,
    SCHEDULES,
    build_optimizer,
    build_schedule,
    check_fields,
)
from handnet.data import DATASETS, check_classes
from handnet.init import INITS
from handnet.losses import LOSSES, get_loss, output_problem
from handnet.optim import STYLES

__all__ = ["Config", "OPTIMIZERS", "SCHEDULES", "SCHEDULE_PER"]


@dataclass
class Config:
    dataset: str = "chessboard"
    optimizer: str = "momentum"
    momentum_style: str = "classic"
    momentum: float | None = None  # None: 0.9 with momentum (the seed), 0 with rmsprop
    bias_momentum: bool = False
    nesterov: bool = False
    weight_decay: float = 0.0
    bias_decay: bool = True  # False: no weight decay on the biases (a second param group)
    # adam, adamw / rmsprop / adagrad (None: torch's default, see handnet.choices)
    betas: tuple[float, float] | None = None
    eps: float | None = None
    amsgrad: bool = False
    alpha: float | None = None
    centered: bool = False
    lr_decay: float | None = None
    initial_accumulator_value: float | None = None
    lr: float = 1e-2
    schedule: str = "step"
    schedule_per: str = "epoch"  # the scheduler steps after every epoch, or every update
    lr_epoch: int = 1500
    lr_gamma: float | None = None  # None: 0.5 with momentum, 0 (constant) otherwise
    milestones: tuple[int, ...] = ()
    gamma: float | None = None
    t_max: int | None = None
    eta_min: float | None = None
    start_factor: float | None = None
    end_factor: float | None = None
    total_iters: int | None = None
    epochs: int = 6000
    batch_size: int = 1  # 0 means full batch
    hidden: tuple[int, ...] = (100, 50, 10)
    activation: str | tuple[str, ...] = "sigmoid"
    loss: str = "half-sse"
    init: str = "normal"
    seed: int = 0
    shuffle: bool = False
    print_interval: int = 100
    n_train: int = 1000
    n_test: int = 1000
    classes: int = 2  # K: a choice for spirals only; the binary data sets have 2

    def __post_init__(self) -> None:
        self.hidden = tuple(int(h) for h in self.hidden)
        self.milestones = tuple(self.milestones)
        if self.betas is not None:
            self.betas = tuple(self.betas)  # type: ignore[assignment]
        if not isinstance(self.activation, str):
            self.activation = tuple(self.activation)
        self.validate()

    @property
    def one_hot(self) -> bool:
        """Targets are one-hot rows (one output per class) rather than a 0/1 column."""
        return self.classes > 2 or get_loss(self.loss).classes

    @property
    def n_outputs(self) -> int:
        return self.classes if self.one_hot else 1

    @property
    def sizes(self) -> list[int]:
        return [2, *self.hidden, self.n_outputs]

    @property
    def activations(self) -> list[str]:
        n = len(self.hidden) + 1
        if isinstance(self.activation, str):
            output = get_loss(self.loss).output_activation or self.activation
            return [self.activation] * (n - 1) + [output]
        return list(self.activation)

    @property
    def effective_lr_gamma(self) -> float:
        if self.lr_gamma is not None:
            return self.lr_gamma
        return 0.5 if self.optimizer == "momentum" else 0.0

    @property
    def effective_momentum(self) -> float:
        """SGD's momentum: 0.9 (the seed's) unless set, with ``optimizer="momentum"`` only."""
        if self.optimizer != "momentum":
            return 0.0
        return 0.9 if self.momentum is None else self.momentum

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field."""
        _choice("dataset", self.dataset, DATASETS)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("momentum_style", self.momentum_style, STYLES)
        _choice("schedule", self.schedule, SCHEDULES)
        _choice("schedule_per", self.schedule_per, SCHEDULE_PER)
        check_fields(self)
        _choice("loss", self.loss, tuple(LOSSES))
        _choice("init", self.init, INITS)
        for act in self.activations:
            _choice("activation", act, tuple(ACTIVATIONS))
        if len(self.activations) != len(self.hidden) + 1:
            raise ValueError(
                f"activation lists {len(self.activations)} names for "
                f"{len(self.hidden) + 1} layers"
            )
        _integer("classes", self.classes)
        check_classes(self.dataset, self.classes)
        self._check_output()
        problem = output_problem(self.loss, self.activations[-1])
        if problem:
            raise ValueError(f"{problem}; make the output layer sigmoid (the last "
                             "activation) or choose another loss")
        for name in ("epochs", "batch_size", "lr_epoch", "print_interval", "n_train", "n_test",
                     "seed"):
            _integer(name, getattr(self, name))
        if any(h < 1 for h in self.hidden):
            raise ValueError(f"hidden sizes must be positive, got {list(self.hidden)}")
        _positive("epochs", self.epochs)
        _positive("lr", self.lr)
        _positive("n_train", self.n_train)
        _positive("n_test", self.n_test)
        if self.batch_size < 0:
            raise ValueError(f"batch_size must be >= 0 (0 = full batch), got {self.batch_size}")
        if self.print_interval < 0:
            raise ValueError(f"print_interval must be >= 0, got {self.print_interval}")
        if self.momentum is not None and not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if self.betas is not None and len(self.betas) != 2:
            raise ValueError(f"betas must be two numbers, got {self.betas}")
        for name in ("t_max", "total_iters"):
            if getattr(self, name) is not None:
                _integer(name, getattr(self, name))
        for m in self.milestones:
            _integer("milestones", m)
        if not self.weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.lr_gamma is not None and not 0 <= self.lr_gamma < 1:
            raise ValueError(f"lr_gamma must be in [0, 1), got {self.lr_gamma}")
        if self.lr_epoch < 0:
            raise ValueError(f"lr_epoch must be >= 0, got {self.lr_epoch}")
        build_optimizer(self)  # the classes' own checks of every hyper-parameter's range
        build_schedule(self)

    def _check_output(self) -> None:
        """Softmax only on the output, over at least two outputs; ``ce`` needs it there."""
        *hidden, output = self.activations
        for act in hidden:
            if act in OUTPUT_ONLY:
                raise ValueError(f"activation {act} normalises a whole layer: use it on the "
                                 f"output layer only")
        if output in OUTPUT_ONLY and self.n_outputs < 2:
            raise ValueError(f"activation {output} over a single output is the constant 1; use "
                             f"a class loss (softmax-ce, ce) or more classes")
        wanted = get_loss(self.loss).output_activation
        if wanted in OUTPUT_ONLY and output != wanted:
            raise ValueError(f"loss {self.loss} takes {wanted} probabilities: the output layer's "
                             f"activation must be {wanted}, got {output}")

    def seeds(self) -> tuple[np.random.SeedSequence, ...]:
        """Independent seed sequences for (data, init, shuffle)."""
        return tuple(np.random.SeedSequence(self.seed).spawn(3))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        d["milestones"] = list(self.milestones)
        if self.betas is not None:
            d["betas"] = list(self.betas)
        if not isinstance(self.activation, str):
            d["activation"] = list(self.activation)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Config:
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
        return cls(**d)


def _choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")


def _integer(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")
