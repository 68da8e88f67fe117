"""Hypothesis strategies for handnet and its twin, exported for reuse by other projects.

Every strategy draws a small, printable *specification* (a frozen dataclass); the arrays are
then generated from seeds inside it with ``numpy.random.Generator``.  A failing example therefore
prints as a few readable fields that rebuild it exactly, and hypothesis shrinks it by shrinking
sizes, depth, batch and seeds rather than thousands of floats.

* :func:`network_specs`: depth 1-5, widths 1-64, an activation per layer, init, biases, dtype.
* :func:`optimizer_specs`: lr, momentum (0 included), convention (classic/torch), biases in or
  out of momentum, Nesterov, weight decay.
* :func:`schedule_specs`: StepLR step size 1-5 and ``lr_gamma`` (0 = constant).
* :func:`problems`: a network, a loss, a batch (1-128) of inputs whose magnitude reaches 1e3
  (sigmoid saturates), labels and a random upstream gradient.  The loss sets the output layer
  (``output_for``): sigmoid for bce, identity (logits) for bce-logits and softmax-ce, softmax for
  ce, with at least two outputs and one-hot (or soft, Dirichlet) rows for the class losses.
* :func:`training_cases`: a problem and an optimiser in the stable regime (multi-step tests).
* :func:`adaptive_specs`: Adam, AdamW, RMSprop, Adagrad with defaults or drawn hyper-parameters.
* :func:`configs`: small ``handnet.Config`` runs (data set, layers, optimiser, schedule, batch).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

try:
    from hypothesis import strategies as st
except ImportError:  # not a dependency of handnet[reference]: say which extra brings it
    raise ImportError(
        "reference.comparison.strategies needs hypothesis, which handnet[reference] does not "
        "install: pip install 'handnet[reference,strategies]'"
    ) from None

from handnet.activations import ELEMENTWISE
from handnet.config import Config
from handnet.data import DATASETS, MULTICLASS
from handnet.losses import LOSSES, get_loss
from handnet.network import Network
from handnet.optim import SGD, STYLES, Adagrad, Adam, AdamW, Optimizer, RMSprop
from handnet.schedule import StepDecay

Array = NDArray[np.floating]

ACTIVATION_NAMES: tuple[str, ...] = ELEMENTWISE  # the softmax comes with a loss (output_for)
LOSS_NAMES: tuple[str, ...] = tuple(LOSSES)
# Hidden activations whose outputs are bounded: they keep the logits of a softmax output layer
# moderate, so that no probability underflows to 0 (where ce's log(p) is -inf on both sides).
BOUNDED = ("sigmoid", "tanh")
DTYPES: tuple[str, ...] = ("float64", "float32")
SEEDS = st.integers(0, 2**32 - 1)


@dataclass(frozen=True)
class NetSpec:
    """A network: layer sizes (input first), one activation per layer, init, biases, dtype."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    init: str = "normal"
    bias_scale: float = 0.0  # biases ~ bias_scale * N(0, 1); 0 gives the seed's zero biases
    seed: int = 0
    dtype: str = "float64"

    def build(self) -> Network:
        """The handnet network this spec describes (deterministic)."""
        init_ss, bias_ss = np.random.SeedSequence(self.seed).spawn(2)
        net = Network.create(list(self.sizes), list(self.activations), init=self.init,
                             rng=np.random.default_rng(init_ss), dtype=np.dtype(self.dtype).type)
        if self.bias_scale:
            rng = np.random.default_rng(bias_ss)
            for layer in net.layers:
                b = layer.parameters["b"]
                b[...] = (self.bias_scale * rng.standard_normal(b.shape)).astype(b.dtype)
        return net


@dataclass(frozen=True)
class OptSpec:
    """The arguments of ``handnet.optim.SGD`` (and of the twin's optimiser)."""

    lr: float
    momentum: float = 0.0
    style: str = "classic"
    bias_momentum: bool = True
    nesterov: bool = False
    weight_decay: float = 0.0

    def kwargs(self) -> dict[str, Any]:
        return {"lr": self.lr, "momentum": self.momentum, "style": self.style,
                "bias_momentum": self.bias_momentum, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay}

    def build(self) -> SGD:
        return SGD(**self.kwargs())


@dataclass(frozen=True)
class ScheduleSpec:
    """Step decay: ``lr *= 1 - lr_gamma`` every ``lr_epoch`` epochs."""

    lr_epoch: int
    lr_gamma: float

    def build(self, lr0: float) -> StepDecay:
        return StepDecay(lr0, self.lr_epoch, self.lr_gamma)


@dataclass(frozen=True)
class Problem:
    """A network, a loss and one batch: inputs, labels and an upstream gradient, from seeds."""

    net: NetSpec
    loss: str
    batch: int
    input_scale: float  # inputs ~ U(-input_scale, input_scale)
    soft_labels: bool = False
    seed: int = 0

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.net.dtype)

    def arrays(self, step: int = 0) -> tuple[Array, Array, Array]:
        """``(x, y, upstream)`` for batch number ``step`` (each step its own draw)."""
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, step]))
        n_in, n_out = self.net.sizes[0], self.net.sizes[-1]
        x = rng.uniform(-self.input_scale, self.input_scale, size=(self.batch, n_in))
        if get_loss(self.loss).classes:  # rows of class probabilities: soft, or one-hot
            y = (rng.dirichlet(np.ones(n_out), size=self.batch) if self.soft_labels
                 else np.eye(n_out)[rng.integers(0, n_out, size=self.batch)])
        elif self.soft_labels:
            y = rng.uniform(0.0, 1.0, size=(self.batch, n_out))
        else:
            y = rng.integers(0, 2, size=(self.batch, n_out)).astype(np.float64)
        upstream = rng.standard_normal((self.batch, n_out))
        return x.astype(self.dtype), y.astype(self.dtype), upstream.astype(self.dtype)


def dtypes() -> st.SearchStrategy[str]:
    return st.sampled_from(DTYPES)


@st.composite
def network_specs(
    draw: st.DrawFn,
    min_depth: int = 1,
    max_depth: int = 5,
    max_width: int = 64,
    activations: tuple[str, ...] = ACTIVATION_NAMES,
    output_activation: str | None = None,
    dtype: str | None = None,
    inits: tuple[str, ...] = ("normal", "glorot"),
    bias_scales: tuple[float, ...] = (0.0, 0.1, 1.0),
) -> NetSpec:
    """Networks of depth ``min_depth..max_depth`` and widths ``1..max_width``."""
    depth = draw(st.integers(min_depth, max_depth))
    sizes = tuple(draw(st.lists(st.integers(1, max_width), min_size=depth + 1,
                                max_size=depth + 1)))
    acts = list(draw(st.lists(st.sampled_from(activations), min_size=depth, max_size=depth)))
    if output_activation is not None:
        acts[-1] = output_activation
    return NetSpec(
        sizes=sizes,
        activations=tuple(acts),
        init=draw(st.sampled_from(inits)),
        bias_scale=draw(st.sampled_from(bias_scales)),
        seed=draw(SEEDS),
        dtype=dtype if dtype is not None else draw(dtypes()),
    )


@st.composite
def optimizer_specs(
    draw: st.DrawFn,
    min_lr: float = 1e-3,
    max_lr: float = 0.5,
    momentum: bool | None = None,
    styles: tuple[str, ...] = STYLES,
) -> OptSpec:
    """SGD configurations; ``momentum=True`` forces a positive momentum, ``False`` none."""
    lr = draw(st.floats(min_lr, max_lr))
    if momentum is None:
        m = draw(st.sampled_from((0.0, 0.5, 0.9, 0.99)) | st.floats(0.01, 0.99))
    elif momentum:
        m = draw(st.sampled_from((0.5, 0.9, 0.99)) | st.floats(0.01, 0.99))
    else:
        m = 0.0
    return OptSpec(
        lr=lr,
        momentum=m,
        style=draw(st.sampled_from(styles)),
        bias_momentum=draw(st.booleans()),
        nesterov=m > 0 and draw(st.booleans()),
        weight_decay=draw(st.sampled_from((0.0, 1e-4)) | st.floats(1e-6, 0.1)),
    )


def schedule_specs() -> st.SearchStrategy[ScheduleSpec]:
    """StepLR step size 1-5 and ``lr_gamma`` in [0, 0.95] (0 is a constant lr)."""
    return st.builds(ScheduleSpec, lr_epoch=st.integers(1, 5),
                     lr_gamma=st.sampled_from((0.0, 0.5, 0.9)) | st.floats(0.0, 0.95))


def input_scales(min_scale: float = 1e-2, max_scale: float = 1e3) -> st.SearchStrategy[float]:
    """Input magnitudes 1e-2 .. 1e3 by powers of ten (1e2 and 1e3 saturate sigmoid and tanh)."""
    scales = [s for s in (1e-2, 1e-1, 1.0, 10.0, 1e2, 1e3) if min_scale <= s <= max_scale]
    return st.sampled_from(scales)


def output_for(net: NetSpec, loss: str) -> NetSpec:
    """``net`` fitted to ``loss``: the output activation it takes (sigmoid for bce, identity for
    logits, softmax for ce), two outputs at least for the class losses, and bounded hidden
    activations under a softmax output (see ``BOUNDED``)."""
    spec = get_loss(loss)
    acts = list(net.activations)
    if spec.output_activation is not None:
        acts[-1] = spec.output_activation
    if spec.takes == "distributions":
        acts[:-1] = [a if a in BOUNDED else "tanh" for a in acts[:-1]]
    sizes = net.sizes
    if spec.classes and sizes[-1] < 2:
        sizes = (*sizes[:-1], 2)
    return replace(net, sizes=tuple(sizes), activations=tuple(acts))


@st.composite
def problems(
    draw: st.DrawFn,
    nets: st.SearchStrategy[NetSpec] | None = None,
    losses: tuple[str, ...] = LOSS_NAMES,
    max_batch: int = 128,
    max_scale: float = 1e3,
    min_scale: float = 1e-2,
) -> Problem:
    """A network, a loss (which sets the output layer: ``output_for``), a batch, labels and
    upstream.  Cross-entropy on softmax probabilities (``ce``) gets bounded hidden activations
    and inputs up to 1: its log needs every probability above 0."""
    net = draw(nets if nets is not None else network_specs())
    loss = draw(st.sampled_from(losses))
    net = output_for(net, loss)
    if get_loss(loss).takes == "distributions":
        max_scale = min(max_scale, 1.0)
        min_scale = min(min_scale, max_scale)
    return Problem(
        net=net,
        loss=loss,
        batch=draw(st.integers(1, max_batch)),
        input_scale=draw(input_scales(min_scale, max_scale)),
        soft_labels=draw(st.booleans()),
        seed=draw(SEEDS),
    )


@st.composite
def training_cases(
    draw: st.DrawFn,
    max_depth: int = 5,
    max_width: int = 64,
    max_batch: int = 128,
    momentum: bool | None = None,
    dtype: str | None = None,
    losses: tuple[str, ...] = LOSS_NAMES,
) -> tuple[Problem, OptSpec]:
    """A problem and an optimiser in the *stable* regime, for multi-step comparisons.

    Multi-step differences between two correct implementations stay at rounding level only
    while training is stable (``lr * curvature`` of order 1 or less); past that, any two
    implementations diverge exponentially.  So: Glorot weights (activations keep their scale
    through the layers), inputs with ``|x| <= 1 / sqrt(n_in)`` or ten times smaller (each input
    row has norm of order 1), and for a summed loss (half-sse) the lr divided by the batch
    size and the number of outputs (as mse's mean does), so one step moves the outputs by
    O(lr) whatever their number.  Tests still check that the twin stays stable
    (:func:`reference.comparison.harness.stable`) and reject the rare case where it does not.
    """
    net = draw(network_specs(max_depth=max_depth, max_width=max_width, inits=("glorot",),
                             bias_scales=(0.0, 0.1), dtype=dtype))
    problem = draw(problems(nets=st.just(net), losses=losses, max_batch=max_batch,
                            max_scale=1.0))
    scale = draw(st.sampled_from((0.1, 1.0))) / float(np.sqrt(problem.net.sizes[0]))
    problem = replace(problem, input_scale=scale)
    opt = draw(optimizer_specs(max_lr=0.5, momentum=momentum))
    summed = get_loss(problem.loss)
    if summed.reduction == "sum":
        per_output = 1 if summed.classes else problem.net.sizes[-1]
        opt = replace(opt, lr=opt.lr / (problem.batch * per_output))
    return problem, opt


@st.composite
def configs(
    draw: st.DrawFn,
    max_hidden_layers: int = 3,
    max_width: int = 16,
    max_n: int = 40,
    max_epochs: int = 5,
    batch_size: str | None = None,
    losses: tuple[str, ...] = LOSS_NAMES,
) -> Config:
    """Small ``handnet.Config`` runs on the 2-D data sets (spirals with 2-4 classes), any
    optimiser and schedule, a loss of ``losses`` with the output layer it takes.

    ``batch_size``: ``"per-sample"`` (1), ``"mini-batch"`` (2..n_train), ``"full"`` (0) or
    None for any.  The lr of a summed loss (half-sse) is divided by the batch size.
    """
    hidden = tuple(draw(st.lists(st.integers(1, max_width), max_size=max_hidden_layers)))
    loss = draw(st.sampled_from(losses))
    acts = list(draw(st.lists(st.sampled_from(ACTIVATION_NAMES), min_size=len(hidden) + 1,
                              max_size=len(hidden) + 1)))
    spec = get_loss(loss)
    if spec.output_activation is not None:
        acts[-1] = spec.output_activation
    if spec.takes == "distributions":
        acts[:-1] = [a if a in BOUNDED else "tanh" for a in acts[:-1]]
    dataset = draw(st.sampled_from(DATASETS))
    classes = draw(st.integers(2, 4)) if dataset in MULTICLASS else 2
    n_train = draw(st.integers(4, max_n))
    kind = batch_size or draw(st.sampled_from(("per-sample", "mini-batch", "full")))
    batch = {"per-sample": 1, "full": 0}[kind] if kind != "mini-batch" else draw(
        st.integers(2, n_train))
    optimizer = draw(st.sampled_from(("sgd", "momentum")))
    lr = draw(st.floats(1e-3, 0.5))
    if spec.reduction == "sum":
        lr /= batch or n_train
    return Config(
        dataset=dataset,
        classes=classes,
        optimizer=optimizer,
        momentum_style=draw(st.sampled_from(STYLES)),
        momentum=draw(st.sampled_from((0.5, 0.9))) if optimizer == "momentum" else None,
        bias_momentum=optimizer == "momentum" and draw(st.booleans()),
        nesterov=optimizer == "momentum" and draw(st.booleans()),
        weight_decay=draw(st.sampled_from((0.0, 1e-3))),
        lr=lr,
        lr_epoch=draw(st.integers(1, 3)),
        lr_gamma=draw(st.none() | st.sampled_from((0.0, 0.5)) | st.floats(0.05, 0.95)),
        epochs=draw(st.integers(2, max_epochs)),
        batch_size=batch,
        hidden=hidden,
        activation=tuple(acts),
        loss=loss,
        init=draw(st.sampled_from(("normal", "glorot"))),
        seed=draw(SEEDS),
        shuffle=draw(st.booleans()),
        n_train=n_train,
        n_test=draw(st.integers(4, max_n)),
    )


@dataclass(frozen=True)
class AdaptiveSpec:
    """A declared adaptive optimiser: its name, lr, weight decay, groups and the
    hyper-parameters given (``hyper``: (name, value) pairs; the rest are the defaults)."""

    kind: str
    lr: float
    weight_decay: float = 0.0
    bias_decay: bool = True
    hyper: tuple[tuple[str, Any], ...] = ()

    def build(self) -> Optimizer:
        """handnet's optimiser for this declaration."""
        cls = {"adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}[self.kind]
        return cls(lr=self.lr, weight_decay=self.weight_decay,
                   bias_decay=self.bias_decay, **dict(self.hyper))


ADAPTIVE_KINDS: tuple[str, ...] = ("adam", "adamw", "rmsprop", "adagrad")


@st.composite
def adaptive_specs(draw: st.DrawFn, kinds: tuple[str, ...] = ADAPTIVE_KINDS,
                   max_lr: float = 0.05) -> AdaptiveSpec:
    """An adaptive optimiser with each hyper-parameter either left to its default or drawn:
    betas (down to 0.3, 0.5: lerp's other branch), eps from 0 to 1e-3 (eps-dominated steps),
    amsgrad; alpha, centered, momentum; lr_decay, initial_accumulator_value."""
    kind = draw(st.sampled_from(kinds))
    maybe = {
        "betas": st.tuples(st.sampled_from((0.9, 0.3)) | st.floats(0.0, 0.99),
                           st.sampled_from((0.999, 0.5)) | st.floats(0.0, 0.9999)),
        "eps": st.sampled_from((0.0, 1e-8, 1e-6, 1e-3)),
        "amsgrad": st.booleans(),
        "alpha": st.sampled_from((0.99, 0.9, 0.5)),
        "centered": st.booleans(),
        "momentum": st.sampled_from((0.0, 0.5, 0.9)),
        "lr_decay": st.sampled_from((0.0, 0.01, 0.5)),
        "initial_accumulator_value": st.sampled_from((0.0, 0.1, 1.0)),
    }
    names = {"adam": ("betas", "eps", "amsgrad"), "adamw": ("betas", "eps", "amsgrad"),
             "rmsprop": ("alpha", "eps", "centered", "momentum"),
             "adagrad": ("lr_decay", "initial_accumulator_value", "eps")}[kind]
    hyper = tuple((n, draw(maybe[n], label=n)) for n in names if draw(st.booleans()))
    return AdaptiveSpec(kind=kind, lr=draw(st.floats(1e-4, max_lr)),
                        weight_decay=draw(st.sampled_from((0.0, 0.01, 0.1))),
                        bias_decay=draw(st.booleans()), hyper=hyper)
