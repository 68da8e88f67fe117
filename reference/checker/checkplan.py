"""What one ``handnet check`` run compares, chosen so that the defaults catch bugs.

* **Steps.** ``train_step`` adapters are compared over ``DEFAULT_STEPS`` steps, so a momentum
  buffer is read back and a declared schedule's decay is crossed; ``gradients`` adapters over
  ``DEFAULT_BATCHES`` batches (a gradient that is right only on the first call cannot pass).
* **Batch sizes.** Unless the adapter or ``--batch`` fixes one, steps alternate two batch sizes
  that are none of the layer widths: a gradient divided by the number of features (or outputs)
  where the batch is meant agrees with the right one exactly when the two numbers are equal.
* **Epochs.** With a declared per-epoch schedule (first change at epoch ``L``) one epoch holds
  two updates (``start_epoch(e)`` is called once per epoch), so a schedule counted in updates
  where the adapter says epochs shows (with one update per epoch the two are the same): the run
  is lengthened to ``L + 3`` steps (up to ``MAX_UPDATE_STEPS``), epochs ``0 .. L - 1, L - 1,
  L, L + 1``.  With ``L`` beyond that, the last three steps run at epochs ``L - 1, L, L + 1``
  after two steps in epoch 0 (no training happens in the epochs skipped), so the decay itself,
  a decay one epoch early or late, and the momentum convention after it all show.
* **Parameters.** Every parameter, biases included, is set to random values before comparing
  (``randomize``): weights ``N(0, 1/fan_in)``, biases ``N(0, 0.5**2)``.
* **What the run could not see.** After the comparison, each declared optimiser feature
  (momentum, its convention, Nesterov, weight decay, bias momentum, the schedule) is simulated
  away (:mod:`reference.checker.simulate`); a feature whose absence would give the same updates
  within the tolerance was not tested, and the verdict cannot be *match*.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from handnet.adapter import Adapter, AdapterError
from handnet.adapter_optim import first_change, schedule_text
from handnet.losses import get_loss
from reference.checker import simulate as sim
from reference.checker.diagnose import Problem
from reference.checker.simulate_adaptive import AdaptiveConfig

Array = NDArray[np.floating]

DEFAULT_STEPS = 5
DEFAULT_BATCHES = 3
FIRST_BATCH = (8, 7, 9, 6, 10, 11, 12, 13)
SECOND_BATCH = (5, 3, 11, 13, 4, 17, 19, 23)
BIAS_STD = 0.5
MAX_UPDATE_STEPS = 12  # a per-update schedule's first change is run up to, at most this far


@dataclass
class Plan:
    batches: list[tuple[Array, Array]]
    epochs: list[int]
    notes: list[str] = field(default_factory=list)

    @property
    def batch_sizes(self) -> list[int]:
        return [int(x.shape[0]) for x, _ in self.batches]


def make(ad: Adapter, batch: int | None, steps: int | None, seed: int) -> Plan:
    """The batches and epochs of one run (see the module docstring)."""
    change = first_change(ad) if ad.train_step is not None else 0
    per_update = ad.schedule_per == "update"
    if steps is None:
        steps = DEFAULT_STEPS if ad.train_step is not None else DEFAULT_BATCHES
        if per_update and change + 2 > steps and change + 2 <= MAX_UPDATE_STEPS:
            steps = change + 2  # updates cannot be skipped: run up to the first change and past
        elif change and not per_update and change + 3 <= MAX_UPDATE_STEPS:
            steps = max(steps, change + 3)  # epoch change - 1 twice, the change, one after
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise AdapterError(f"steps must be a positive integer, got {steps!r}")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int)
                              or batch < 1):
        raise AdapterError(f"batch must be a positive integer, got {batch!r}")
    sizes = ad.sizes()
    notes = []
    if batch is not None and ad.batch is not None and batch != ad.batch:
        notes.append(f"the adapter says the network takes batches of {ad.batch}; checked "
                     f"with {batch}")
    rng = np.random.default_rng(seed)
    batches = [draw(rng, b, sizes, ad.loss, ad.dtype())
               for b in batch_sizes(batch or ad.batch, steps, sizes)]
    if per_update and steps >= 3:  # two updates in epoch 0: a schedule stepped per epoch shows
        return Plan(batches, [0, *range(steps - 1)], notes)
    return Plan(batches, epochs(steps, 0 if per_update else change), notes)


def batch_sizes(fixed: int | None, steps: int, widths: list[int]) -> list[int]:
    if fixed is not None:
        return [fixed] * steps
    first = next(b for b in FIRST_BATCH if b not in widths)
    second = next(b for b in SECOND_BATCH if b not in widths and b != first)
    return [first if t % 2 == 0 else second for t in range(steps)]


def epochs(steps: int, lr_epoch: int) -> list[int]:
    """The epoch of each step (``lr_epoch``: the first change ``L`` of a per-epoch schedule, 0
    for none; see the module docstring): consecutive without one or in fewer than 4 steps;
    ``0 .. L - 1, L - 1, L, L + 1, ...`` (epoch ``L - 1`` twice) when that fits; else ending at
    ``L - 1, L, L + 1`` after two steps in epoch 0.

    Epoch ``L - 1`` twice puts the step count one ahead of the epoch from the step before the
    change on: a schedule counted in updates changes one step before the declared one, and one
    step after a schedule one epoch early; the three tell apart.  Ending at the change with
    epoch 0 twice, the change is at the last steps and the count far behind it."""
    if lr_epoch == 0 or steps < 4:
        return list(range(steps))
    if lr_epoch + 3 <= steps:
        return [*range(lr_epoch), *range(lr_epoch - 1, steps - 1)]
    return [0, *range(steps - 4), lr_epoch - 1, lr_epoch, lr_epoch + 1]


def draw(rng: np.random.Generator, batch: int, sizes: list[int], loss: str,
         dtype: np.dtype | type = np.float64) -> tuple[Array, Array]:
    """One batch ``(x, y)`` as rows: standard normal inputs (both signs, so relu units are on
    and off) and targets suited to ``loss``:

    * class losses (``softmax-ce*``, ``ce*``): one-hot rows, every class drawn (the user gets
      them as class indices with ``targets="index"``, see ``Adapter.targets_to_user``);
    * ``bce*`` on probabilities: 0/1 labels (what a person trains with);
    * ``bce-logits*``: soft labels uniform in [0, 1] (half of them, the rest 0/1): on logits any
      label in [0, 1] is valid and a soft one makes ``sigmoid(z) - y`` a function of both;
    * squared errors: uniform in [-1, 2], both signs and beyond 1 (a regression target is
      any number: targets only in [0, 1] hide a network that clips them there, a habit
      carried over from bce).
    """
    x = rng.standard_normal((batch, sizes[0]))
    n_out = sizes[-1]
    spec = get_loss(loss)
    if spec.classes:
        y = np.eye(n_out)[rng.integers(0, n_out, size=batch)]
    elif spec.takes == "probabilities":
        y = rng.integers(0, 2, size=(batch, n_out)).astype(np.float64)
    elif spec.takes == "logits":
        hard = rng.integers(0, 2, size=(batch, n_out)).astype(np.float64)
        y = np.where(rng.random((batch, n_out)) < 0.5, rng.uniform(0.0, 1.0, hard.shape), hard)
    else:
        y = rng.uniform(-1.0, 2.0, size=(batch, n_out))
    return x.astype(dtype), y.astype(dtype)


def randomize(ad: Adapter, seed: int) -> list[str]:
    """Set every parameter to random values in place; the paths rebound (read-only arrays).

    Arrays on the network that hold a copy of a parameter (or of its transpose) — a cached
    ``W.T`` refreshed after every update, say — get the new values too, so a network that is
    consistent in its own training stays consistent."""
    rng = np.random.default_rng((seed, 1))
    sizes = ad.sizes()
    copies = derived_copies(ad)
    rebound = []
    for i in range(len(ad.layers)):
        n_in, n_out = sizes[i], sizes[i + 1]
        w = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        b = BIAS_STD * rng.standard_normal((1, n_out))
        rebound += ad.write_canonical(i, w, b)
    for copy, path, transposed in copies:
        new = ad.raw(path)
        copy[...] = new.T if transposed else new
    return rebound


def derived_copies(ad: Adapter) -> list[tuple[Array, str, bool]]:
    """``(array, parameter path, transposed)`` for every writeable array among the network's
    attributes (and their list, tuple and dict items) that is not a parameter but equals a
    non-constant parameter, or its transpose."""
    params = {path: ad.raw(path) for path in ad.parameter_paths()}
    ids = {id(a) for a in params.values()}
    found = []
    for value in _arrays_of(ad.network):
        if id(value) in ids or not value.flags.writeable or value.size < 2:
            continue
        for path, p in params.items():
            if p.size < 2 or np.all(p == p.flat[0]):
                continue
            if value.shape == p.shape and np.array_equal(value, p):
                found.append((value, path, False))
            elif value.shape == p.T.shape and np.array_equal(value, p.T):
                found.append((value, path, True))
    return found


def _arrays_of(obj: object) -> list[Array]:
    try:
        attrs = list(vars(obj).values())
    except TypeError:
        return []
    out: list[Array] = []
    for v in attrs:
        items = list(v.values()) if isinstance(v, dict) else \
            list(v) if isinstance(v, list | tuple) else [v]
        out += [a for a in items if isinstance(a, np.ndarray)]
    return out


def unobservable(p: Problem, ad: Adapter) -> list[str]:
    """Declared optimiser features whose absence the compared steps could not tell apart."""
    opt, lr_at = p.opt, p.lr_at
    if opt is None or lr_at is None:
        return []
    n = len(p.expected)
    variants: list[tuple[str, sim.OptConfig | AdaptiveConfig, Callable[[int], float]]] = []
    if isinstance(opt, AdaptiveConfig):
        variants += [(label, cfg, lr_at) for label, cfg in _adaptive_features(opt)]
    elif opt.momentum > 0:
        variants.append((f"momentum {opt.momentum:g}", replace(opt, momentum=0.0,
                                                                nesterov=False), lr_at))
        if opt.nesterov:
            variants.append(("nesterov=True", replace(opt, nesterov=False), lr_at))
        if ad.lr_epoch > 0 and ad.lr_gamma > 0:
            other = "torch" if opt.style == "classic" else "classic"
            variants.append((f"momentum_style={opt.style!r} (vs {other!r})",
                             replace(opt, style=other), lr_at))
        variants.append((f"bias_momentum={opt.bias_momentum}",
                         replace(opt, bias_momentum=not opt.bias_momentum), lr_at))
    if opt.weight_decay > 0 and not isinstance(opt, AdaptiveConfig):
        variants.append((f"weight_decay {opt.weight_decay:g}", replace(opt, weight_decay=0.0),
                         lr_at))
    schedule = schedule_text(ad)
    if schedule:
        variants.append((schedule, opt, lambda t: opt.lr))
    out = []
    for label, cfg, lr_of in variants:
        updates = sim.trajectory(p.params, p.activations, sim.STATED_LOSS[p.loss], p.batches,
                                 cfg, lr_of, trainable=p.names)
        same = all(p.fits(name, t + 1, updates[t][name] / lr_at(t), p.expected[t][name])
                   for t in range(n) for name in p.names)
        if same:
            out.append(f"{label}: without it the {n} step(s) compared give the same updates "
                       "within the tolerance, so a network that gets it wrong would pass too "
                       f"(compare more --steps; {_crossing_hint(ad)})")
    return out


def _crossing_hint(ad: Adapter) -> str:
    change = first_change(ad)
    if ad.schedule_per == "update" and change:
        return f"the schedule's first change is at update {change}: --steps {change + 2} crosses it"
    return f"at least {DEFAULT_STEPS} cross a declared schedule's first change"


def _adaptive_features(opt: AdaptiveConfig) -> list[tuple[str, AdaptiveConfig]]:
    """Each declared feature of an adaptive optimiser, and the optimiser without it."""
    out = []
    if opt.weight_decay > 0:
        out.append((f"weight_decay {opt.weight_decay:g}", replace(opt, weight_decay=0.0)))
        if not opt.bias_decay:
            out.append(("bias_decay=False", replace(opt, bias_decay=True)))
    if opt.amsgrad:
        out.append(("amsgrad=True (v_max never exceeded v)", replace(opt, amsgrad=False)))
    if opt.centered:
        out.append(("centered=True", replace(opt, centered=False)))
    if opt.momentum > 0:
        out.append((f"momentum {opt.momentum:g}", replace(opt, momentum=0.0)))
    if opt.lr_decay > 0:
        out.append((f"lr_decay {opt.lr_decay:g}", replace(opt, lr_decay=0.0)))
    if opt.initial_accumulator_value > 0:
        out.append((f"initial_accumulator_value {opt.initial_accumulator_value:g}",
                    replace(opt, initial_accumulator_value=0.0)))
    return out
