"""Name the mistake behind a wrong gradient or update: a catalogue of hypotheses, tested.

Every quantity here is canonical (``W{i}`` (in, out), ``b{i}`` (1, out)) and in *gradient
units*: a returned gradient as is, an update divided by the lr in force (style (b)).  ``A`` is
the user's value of a parameter, ``G`` the twin's.

Two kinds of hypothesis:

* **fits of the error itself** (local to one parameter): a constant factor
  ``c = <A, G> / <G, G>`` with residual ``|A - c G|_inf / |A|_inf``, named when ``c`` is one of
  the usual suspects (``B``, ``1/B``, ``2``, ``1/2``, ``B/2``, ``2/B``, ``N``, ``1/N`` ... with
  ``B`` the batch and ``N = B * outputs``); ``c = -1`` (sign flipped); ``c = 0`` (never
  updated); ``A = G.T`` (transposed); a bias with ``c = 1/B`` (averaged where the weights are
  summed); a bias gradient of the wrong shape (summed over the units, or not reduced at all).
* **simulations** (:mod:`reference.checker.simulate`): a network with one specific mistake — an
  activation derivative at the pre-activation, at the output, or missing at layer ``j``;
  relu'(0) taken as 1; the derivative of another loss or reduction; deltas computed after the
  weights above were updated; the delta pushed back through another layer's (same-shaped)
  weights; a bias summed over the units — is run on the same inputs, and the hypothesis fits
  every parameter whose value it reproduces within the tolerance policy.  Over ``K`` steps the
  optimiser's variants are simulated the same way: classic vs torch momentum (they part after
  an lr change), the schedule one step early or late or decaying by ``gamma`` instead of
  ``1 - gamma``, momentum on biases when configured off (or the reverse), none on the weights,
  the other convention's Nesterov formula (classic's buffer with torch's formula: the look-ahead
  gets lr twice), weight decay applied to the parameter instead of added to the gradient (it
  differs once momentum carries the gradient).

A hypothesis is named on a parameter only when it reproduces that parameter; findings are
ranked by how many of the wrong parameters the hypothesis explains.  If the forward output
already differs, that is said first and nothing else is guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from handnet.names import backprop_key, bias_name, is_bias, is_weight, layer_of, weight_name
from reference.checker import simulate as sim
from reference.checker.patterns import Pattern
from reference.checker.simulate import LOSS_DERIVATIVES, STATED_LOSS, Mutation, OptConfig
from reference.checker.simulate_adaptive import AdaptiveConfig, first_updates

Array = NDArray[np.floating]

# fits(name, step, predicted, actual) -> within tolerance (step counted from 1)
Fits = Callable[[str, int, Array, Array], bool]
Residual = Callable[[str, int, Array, Array], float]


@dataclass(frozen=True)
class Finding:
    """One named hypothesis that fits a parameter, with its evidence."""

    kind: Pattern
    text: str
    layer: int | None = None
    explains: tuple[str, ...] = ()
    evidence: str = ""  # this parameter's own numbers (residual, fitted factor)
    whole_run: bool = False  # a simulation of every step compared, not of step 1 alone


@dataclass
class Problem:
    """What the diagnosis works from (canonical, float64, gradient units)."""

    params: list[tuple[Array, Array]]
    activations: list[str]
    loss: str
    batches: list[tuple[Array, Array]]
    style: str  # "gradient" (returned gradients) or "update" (in-place steps)
    expected: list[dict[str, Array]]  # per step, the twin's
    actual: list[dict[str, Array]]  # per step, the user's (names with a shape problem absent)
    first_wrong: dict[str, int]  # wrong parameter -> first wrong step (1-based)
    names: dict[str, str]  # canonical -> user's name
    fits: Fits
    residual: Residual
    raw_shapes: dict[str, tuple[Array, tuple[int, ...]]] = field(default_factory=dict)
    opt: OptConfig | AdaptiveConfig | None = None
    lr_at: Callable[[int], float] | None = None
    lr_epoch: int = 0
    lr_gamma: float = 0.0
    element: Callable[[str, tuple[int, ...]], str] | None = None
    epochs: list[int] | None = None  # the epoch of each step (None: step t is epoch t)
    per_update: bool = False  # the schedule is declared per update: its steps are updates
    # update style: factors fitted on a probe step at another batch size, {name: {batch: c}}
    probed: dict[str, dict[int, float]] = field(default_factory=dict)

    def at_epochs(self, lr_of_epoch: Callable[[int], float]) -> Callable[[int], float]:
        """An lr per step from an lr per schedule step: per epoch (the check may skip epochs to
        cross a decay, and run two updates in one), or per update (``per_update``)."""
        epochs = self.epochs
        if epochs is None or self.per_update:
            return lr_of_epoch
        return lambda t: lr_of_epoch(epochs[t])

    def layer(self, j: int) -> str:
        """Layer ``j`` (counted from 0 at the input) with its weight's user name."""
        return f"layer {j} ({self.names.get(weight_name(j), weight_name(j))})"

    @property
    def batch(self) -> int:
        return int(self.batches[0][0].shape[0])

    @property
    def averages(self) -> bool:
        """Whether the stated loss averages over the batch (mse, bce, ...; not the sums)."""
        return not any(word in self.loss for word in ("sse", "sum"))

    @property
    def n_out(self) -> int:
        return int(self.params[-1][0].shape[1])


# --- the constant factor ------------------------------------------------------------------


def fit_factor(actual: Array, expected: Array) -> tuple[float, float]:
    """Least-squares ``c`` with ``actual ~ c * expected`` and the residual
    ``|actual - c expected|_inf / |actual|_inf`` (nan when ``expected`` is zero)."""
    gg = float(np.sum(expected * expected))
    if gg == 0:
        return float("nan"), float("nan")
    c = float(np.sum(actual * expected)) / gg
    scale = float(np.max(np.abs(actual))) if actual.size else 0.0
    res = float(np.max(np.abs(actual - c * expected))) / scale if scale else 0.0
    return c, res


def named_factors(batch: int, n_out: int, style: str, lr: float | None,
                  n_in: int = 0, averages: bool = False) -> list[tuple[float, str]]:
    """The usual suspects for a constant factor, with what each would mean (``averages``: the
    stated loss already averages over the batch); the list has the same length and order for
    every ``batch`` (:func:`batch_law` relies on it)."""
    n = batch * n_out
    out = [
        (batch, f"B (batch {batch}): summed where the loss averages" if averages else
         f"B (batch {batch}): multiplied by the batch size (the loss sums already)"),
        (1 / batch, f"1/B (batch {batch}): divided by the batch size twice (the loss already "
         "averages)" if averages else f"1/B (batch {batch}): averaged where the loss sums"),
        (2.0, "2: the factor 2 of a square kept where the loss halves it"),
        (0.5, "1/2: the factor 2 of a square lost"),
        (batch / 2, f"B/2 (batch {batch})"),
        (2 / batch, f"2/B (batch {batch}): mean squared error where half the sum is meant"),
        (n, f"N = {n} (every output element): summed where the loss averages"),
        (1 / n, f"1/N = 1/{n} (every output element): averaged where the loss sums"),
        (2 / n, f"2/N (N = {n} elements)"),
        (n / 2, f"N/2 (N = {n} elements)"),
    ]
    if n_out > 1:
        out += [(n_out, f"{n_out} (the number of outputs)"),
                (1 / n_out, f"1/{n_out} (the number of outputs)")]
    if n_in > 1:
        out += [(1 / n_in, f"1/{n_in}: divided by the number of input features (x.shape[1]) "
                 "where the loss sums over the batch"),
                (batch / n_in, f"B/{n_in} (batch {batch}): divided by the number of input "
                 "features (x.shape[1]) instead of the batch size")]
    if style == "update" and lr:
        out += [(1 / lr, "1/lr: the update does not multiply by the learning rate"),
                (lr, "lr: the learning rate applied twice")]
    return out


def batch_law(p: Problem, name: str, n_in: int) -> tuple[list[int], str, bool] | None:
    """With factors at two or more batch sizes (returned gradients, or an update's probe step):
    the suspects (indices into
    :func:`named_factors`) whose value follows the fitted factor at every batch size, the
    evidence, and whether the factor is the same at every size; None when only one batch size
    was seen (the factor's law cannot be told)."""
    fitted: dict[int, float] = {}
    # returned gradients: every batch is at the same parameters; updates: step 1 and the probe
    for t, (x, _) in enumerate(p.batches if p.style == "gradient" else p.batches[:1]):
        if t < len(p.actual) and name in p.actual[t]:
            c, _ = fit_factor(p.actual[t][name], p.expected[t][name])
            fitted.setdefault(int(x.shape[0]), c)
    for b, c in p.probed.get(name, {}).items():
        fitted.setdefault(b, c)
    if len(fitted) < 2 or not all(np.isfinite(c) for c in fitted.values()):
        return None
    lr = p.opt.lr if p.opt else None
    tables = {b: named_factors(b, p.n_out, p.style, lr, n_in, p.averages) for b in fitted}
    size = len(next(iter(tables.values())))
    keep = [i for i in range(size)
            if all(abs(abs(c) - tables[b][i][0]) <= 1e-6 * tables[b][i][0]
                   for b, c in fitted.items())]
    evidence = ", ".join(f"{c:.6g} at batch {b}" for b, c in sorted(fitted.items()))
    first = next(iter(fitted.values()))
    constant = all(abs(c - first) <= 1e-6 * abs(first) for c in fitted.values())
    return keep, evidence, constant


def _name_factor(c: float, candidates: list[tuple[float, str]], rtol: float) -> list[str]:
    labels, seen = [], set()
    for value, label in candidates:
        if abs(abs(c) - value) <= rtol * value and label not in seen:
            seen.add(label)
            labels.append(label)
    return labels


# --- the diagnosis -------------------------------------------------------------------------


def diagnose(p: Problem, forward_ok: bool = True) -> dict[str, list[Finding]]:
    """Findings for every wrong parameter (canonical names), best first.

    The hypotheses are simulated with NumPy's floating-point warnings off: a wrong hypothesis
    may overflow or divide by a saturated output, and then it simply does not fit; its warnings
    are not the user's to read."""
    with np.errstate(all="ignore"):
        return _diagnose(p, forward_ok)


def _diagnose(p: Problem, forward_ok: bool) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {name: [] for name in p.first_wrong}
    if not p.first_wrong:
        return out
    if not forward_ok:
        for name in out:
            out[name].append(Finding(
                Pattern.FORWARD, "the forward output already differs: the error is before "
                "backprop (fix the forward pass, or the adapter's stated activations and "
                "layouts, first)"))
        return out
    t_first = min(p.first_wrong.values())
    early = [n for n, t in p.first_wrong.items() if t == t_first]
    if t_first == 1:
        _step_one(p, early, out)
    if len(p.expected) > 1:
        _trajectory(p, out)
    for found in out.values():  # a whole-run explanation outranks a step-1 fit
        found.sort(key=lambda f: not f.whole_run)
    for name, t in p.first_wrong.items():
        if t > t_first and _follows(out[name], early):
            first = [p.names[n] for n in early]
            out[name] = [Finding(
                Pattern.CONSEQUENCE, f"diverges from step {t}, after {', '.join(first)} went "
                f"wrong at step {t_first}: probably a consequence; start there")]
    sign_like = _sign_like(p)
    for name, finding in sign_like.items():
        out[name].insert(0, finding)
    for name in out:
        if not out[name]:
            out[name].append(_unexplained(p, name))
    return out


SIGN_LIKE_SHARE = 0.9  # of the elements, with |update| / lr within SIGN_LIKE_SPREAD of one value
SIGN_LIKE_SPREAD = 0.05


def _sign_like(p: Problem) -> dict[str, Finding]:
    """A network declared as SGD whose first updates are about ``±c lr`` in (nearly) every
    element, with the gradient's sign: an adaptive optimiser's first step (Adam, AdamW and
    Adagrad take ``±lr``, RMSprop ``±lr / sqrt(1 - alpha)``), not SGD's ``lr g``."""
    if p.style != "update" or not isinstance(p.opt, OptConfig):
        return {}
    wrong = [n for n, t in p.first_wrong.items() if t == 1 and n in p.actual[0]]
    if not wrong:
        return {}
    a = np.concatenate([p.actual[0][n].ravel() for n in wrong])
    g = np.concatenate([p.expected[0][n].ravel() for n in wrong])
    size = np.abs(a)
    c = float(np.median(size))
    if a.size < 2 or c == 0 or not np.isfinite(c):
        return {}
    same = np.abs(size - c) <= SIGN_LIKE_SPREAD * c
    agree = np.sign(a) == np.sign(g)
    if np.mean(same) < SIGN_LIKE_SHARE or np.mean(agree) < SIGN_LIKE_SHARE:
        return {}
    if abs(c - 1) <= SIGN_LIKE_SPREAD:
        which, size_text = "optimizer='adam' (or 'adamw', 'adagrad': each moves every element " \
            "by lr on its first step)", "±lr"
    else:
        alpha = 1 - 1 / c**2 if c > 1 else float("nan")
        which = (f"optimizer='rmsprop' (alpha = {alpha:.3g} gives ±lr / sqrt(1 - alpha) on the "
                 "first step)" if np.isfinite(alpha) else "the optimiser it uses")
        size_text = f"±{c:.3g} lr"
    text = (f"updates of about {size_text} on the first step, with the gradient's sign, in "
            f"{np.mean(same):.0%} of the elements: this looks like an adaptive optimiser (Adam, "
            f"RMSprop), not the SGD the adapter declares; declare {which} with its "
            "hyper-parameters in the adapter")
    evidence = f"median |update| / lr = {c:.6g}"
    return {n: Finding(Pattern.ADAPTIVE_UNDECLARED, text, layer_of(n), tuple(wrong), evidence)
            for n in wrong}


def _follows(found: list[Finding], early: list[str]) -> bool:
    """Nothing explains a later-wrong parameter but what explains the earliest wrong ones: a
    consequence of their cause, not a cause of its own."""
    return not found or all(f.whole_run and set(f.explains) & set(early) for f in found)


def _step_one(p: Problem, wrong: list[str], out: dict[str, list[Finding]]) -> None:
    """Hypotheses for parameters already wrong after the first gradient / update."""
    A, G = p.actual[0], p.expected[0]
    for name in wrong:
        if name in p.raw_shapes:
            out[name] += _shape_findings(p, name)
    ranked = []
    for one in _simulated(p):
        explains = tuple(n for n in p.first_wrong if n in A and p.first_wrong[n] == 1
                         and p.fits(n, 1, one.predicted[n], A[n]))
        if not explains:
            continue
        contradicts = tuple(n for n in G if p.first_wrong.get(n) != 1 and n in A
                            and not p.fits(n, 1, one.predicted[n], A[n]))
        ranked.append(_Fit(one, explains, contradicts))
    ranked.sort(key=lambda r: (-len(r.explains), len(r.contradicts)))
    n_wrong = sum(1 for t in p.first_wrong.values() if t == 1)
    best: dict[str, int] = {}
    for fit in ranked:
        for name in fit.explains:
            best[name] = max(best.get(name, 0), len(fit.explains))
    confined: dict[str, list[Finding]] = {}
    for fit in ranked:
        (label, kind, layer, predicted), explains, contradicts = fit
        if layer is None and len({layer_of(n) for n in explains}) == 1 and any(
                f.sim.layer is not None and set(f.explains) == set(explains) for f in ranked):
            continue  # "at every layer" that only explains one layer: its one-layer version
        count = len(explains)
        which = _list(p, explains)
        if n_wrong == 1:
            extent = "the only wrong parameter"
        elif len(explains) == n_wrong:
            extent = f"all {n_wrong} wrong parameters"
        else:
            extent = f"{len(explains)} of {n_wrong} wrong parameters"
        note = ""
        if contradicts:
            note = (f"; it would also change {_list(p, contradicts)}, which match, so the "
                    "mistake is confined to this layer's own gradient")
        for name in explains:
            if count < best[name]:
                continue  # a hypothesis explaining more of the wrong parameters fits here
            res = p.residual(name, 1, predicted[name], A[name])
            finding = Finding(
                kind, f"{label} — a simulation with that one change reproduces {which} "
                f"({extent}){note}", layer, explains, f"max rel difference {res:.1e}")
            (confined.setdefault(name, []) if contradicts else out[name]).append(finding)
    for name in wrong:
        if name in A:
            out[name] += _local(p, name, A[name], G[name])
        out[name] += confined.get(name, [])


def _list(p: Problem, names: Sequence[str]) -> str:
    """User names in backprop order (output side first, weight before bias)."""
    ordered = sorted(names, key=backprop_key)
    return ", ".join(p.names[n] for n in ordered)


def step_one_factor(p: Problem, name: str) -> tuple[float, float] | None:
    """``(c, residual)`` when step 1's value of ``name`` is ``c`` times the expected one within
    the tolerance (``c = 1`` included), else None."""
    a, g = p.actual[0][name], p.expected[0][name]
    c, res = fit_factor(a, g)
    return (c, res) if np.isfinite(c) and p.fits(name, 1, c * g, a) else None


def _local(p: Problem, name: str, a: Array, g: Array) -> list[Finding]:
    """Fits of one parameter's error by itself (``a``, ``g``: step 1's actual and expected):
    factor, sign, zero, transpose, bias mean."""
    found = []
    factor = step_one_factor(p, name)
    if factor is not None:
        c, res = factor
        lr = p.opt.lr if p.opt else None
        sign_c = 1.0 if c >= 0 else -1.0
        n_in = int(p.batches[0][0].shape[1])
        suspects = named_factors(p.batch, p.n_out, p.style, lr, n_in, p.averages)
        law = batch_law(p, name, n_in)
        if law is not None:  # several batch sizes: only a law that fits them all names it
            suspects = [suspects[i] for i in law[0]]
        labels = _name_factor(c, suspects, 1e-6)
        labels += [label for value, label in suspects
                   if label not in labels and p.fits(name, 1, sign_c * value * g, a)]
        varies = law is not None and not law[0] and not law[2]
        if law is not None and varies:
            labels = [f"a factor that changes with the batch size ({law[1]})"]
        layer = layer_of(name)
        # one element is a multiple of anything: its factor means something only when it
        # follows a named law or stays the same at every batch size
        says_nothing = a.size == 1 and (varies or not (labels or (law is not None and law[2])))
        if c == 0 or not np.any(a):
            what = "update" if p.style == "update" else "gradient"
            found.append(Finding(Pattern.ZERO, f"its {what} is zero: the parameter is never "
                                 "updated (or its gradient never computed)", layer))
        elif abs(c + 1) <= 1e-6:
            found.append(Finding(Pattern.SIGN, "sign flipped", layer,
                                 evidence=f"fitted factor {_factor(c, 6)}, residual {res:.1e}"))
        elif not says_nothing:
            sign = "sign flipped and " if c < 0 else ""
            meaning = f" = {' or '.join(labels)}" if labels else ""
            if p.style == "update" and not labels:
                meaning = " (or train_step uses another lr than the adapter states)"
            across = f"; {law[1]}" if law is not None else ""
            found.append(Finding(Pattern.FACTOR,
                                 f"{sign}off by a constant factor {_factor(c, 4)}{meaning}",
                                 layer,
                                 evidence=f"fitted {_factor(c, 6)}, residual {res:.1e}{across}"))
            b = p.batch
            if is_bias(name) and b > 1 and p.fits(name, 1, g / b, a):
                wname = weight_name(layer)
                wa = p.actual[0].get(wname)
                if wa is None or not p.fits(wname, 1, p.expected[0][wname] / b, wa):
                    found.append(Finding(
                        Pattern.BIAS_MEAN, "bias gradient averaged over the batch where the "
                        f"weights' is summed (factor 1/B = 1/{b} on the bias only)", layer))
    if a.ndim == 2 and a.shape[0] == a.shape[1] and a.shape[0] > 1 and is_weight(name) \
            and p.fits(name, 1, g.T, a):
        found.append(Finding(Pattern.TRANSPOSED, "transposed: it equals the expected gradient "
                             "transposed", layer_of(name),
                             evidence=f"max rel difference {p.residual(name, 1, g.T, a):.1e}"))
    return found


def _shape_findings(p: Problem, name: str) -> list[Finding]:
    """A returned gradient whose shape does not fit its parameter."""
    raw, expected_shape = p.raw_shapes[name]
    layer = layer_of(name)
    g = p.expected[0][name]
    found = []
    if is_weight(name) and raw.shape == expected_shape[::-1]:
        # the transposed array in the user's layout is the canonical value transposed back
        if p.fits(name, 1, g, _canonical_of_transposed(raw, expected_shape, g)):
            found.append(Finding(Pattern.TRANSPOSED, f"transposed: shape {raw.shape} where the "
                                 f"parameter has {expected_shape}, and its transpose matches",
                                 layer))
        return found
    if is_bias(name):
        _, deltas = sim.backward(p.params, p.activations, *p.batches[0], STATED_LOSS[p.loss])
        delta = deltas[layer]
        if raw.size == delta.shape[0] and raw.size != delta.shape[1]:
            if p.fits(name, 1, delta.sum(axis=1), raw.reshape(-1).astype(np.float64)):
                found.append(Finding(Pattern.BIAS_AXIS, f"bias gradient summed over the units "
                                     f"instead of over the batch (shape {raw.shape}: one entry "
                                     "per sample, each the sum of that sample's deltas)", layer))
        elif raw.size == delta.size and raw.ndim == 2:
            rows = raw if raw.shape == delta.shape else raw.T
            if rows.shape == delta.shape and p.fits(name, 1, delta, rows.astype(np.float64)):
                found.append(Finding(Pattern.BIAS_UNREDUCED, f"bias gradient not summed over the "
                                     f"batch (shape {raw.shape}: the deltas themselves)",
                                     layer))
    return found


def _canonical_of_transposed(raw: Array, expected_shape: tuple[int, ...], g: Array) -> Array:
    # raw.T has the parameter's user shape; canonical is that, or its transpose (out_in)
    t = raw.T.astype(np.float64)
    return t if t.shape == g.shape else t.T


# --- simulations ---------------------------------------------------------------------------

class Simulated(NamedTuple):
    """One one-change network's gradients (in gradient units), with what the change is."""

    label: str
    kind: Pattern
    layer: int | None
    predicted: dict[str, Array]


class _Fit(NamedTuple):
    """A simulation with the wrong parameters it reproduces and the right ones it would
    break (those stay right in the user's network, so the mistake is confined elsewhere)."""

    sim: Simulated
    explains: tuple[str, ...]
    contradicts: tuple[str, ...]


def _simulated(p: Problem) -> list[Simulated]:
    """(label, kind, layer, prediction in gradient units) for every one-change network."""
    x, y = p.batches[0]
    stated = STATED_LOSS[p.loss]
    opt = p.opt
    wd = opt.weight_decay if opt else 0.0
    current = {}
    for i, (W, b) in enumerate(p.params):
        current[weight_name(i)], current[bias_name(i)] = W, b

    def units(grads: dict[str, Array]) -> dict[str, Array]:
        if p.style != "update" or opt is None:
            return grads
        if isinstance(opt, AdaptiveConfig):  # the first step from zero state, over lr
            return first_updates(opt, current, grads, opt.lr)
        return {n: opt.first_step_scale(n) * (g + wd * current[n] if wd else g)
                for n, g in grads.items()}

    def update(name: str, g: Array, W: Array) -> Array:
        assert opt is not None
        if isinstance(opt, AdaptiveConfig):
            return opt.update(name, W, g, opt.lr, {})
        return opt.lr * opt.first_step_scale(name) * (g + wd * W if wd else g)

    def run(mutation: Mutation) -> tuple[dict[str, Array], list[Array]]:
        grads, deltas = sim.backward(p.params, p.activations, x, y, stated, mutation,
                                     update if opt is not None else None)
        return grads, deltas

    out: list[tuple[str, Pattern, int | None, dict[str, Array]]] = []
    n = len(p.params)
    for j, act in enumerate(p.activations):
        if sim.has_distinct_mutation(act, "deriv_at_preactivation"):
            formula = "z * (1 - z)" if act == "sigmoid" else "1 - z**2"
            out.append((f"{p.layer(j)}: {act} derivative evaluated at the pre-activation z "
                        f"({formula}) instead of through the output a",
                        Pattern.DERIV_AT_PREACTIVATION, j,
                        units(run(Mutation("deriv_at_preactivation", j))[0])))
            out.append((f"{p.layer(j)}: {act} derivative {act}'(.) applied to the output a "
                        f"instead of the pre-activation z", Pattern.DERIV_AT_OUTPUT, j,
                        units(run(Mutation("deriv_at_output", j))[0])))
        if sim.has_distinct_mutation(act, "deriv_missing"):
            out.append((f"{p.layer(j)}: activation derivative ({act}') missing",
                        Pattern.DERIV_MISSING, j, units(run(Mutation("deriv_missing", j))[0])))
        if sim.has_distinct_mutation(act, "relu_at_zero"):
            out.append((f"{p.layer(j)}: relu'(0) taken as 1 (z >= 0) where torch takes 0 "
                        "(z > 0)", Pattern.RELU_AT_ZERO, j,
                        units(run(Mutation("relu_at_zero", j))[0])))
    for j, act in enumerate(p.activations):
        for k in (j - 1, j + 1):
            if 0 <= k < n and p.params[k][0].shape[1] == p.params[j][0].shape[1]:
                out.append((f"{p.layer(j)}: {act}' taken at {p.layer(k)}'s activation instead "
                            "of its own (same shape, another layer's a or z)",
                            Pattern.DERIV_OTHER_LAYER, j, units(run(
                                Mutation("deriv_other_layer", j, offset=k - j))[0])))
    for act in dict.fromkeys(p.activations):
        layers = [j for j, a in enumerate(p.activations) if a == act]
        if len(layers) < 2:
            continue
        where = f"every {act} layer ({', '.join(map(str, layers))})"
        if sim.has_distinct_mutation(act, "deriv_at_preactivation"):
            out.append((f"the {act} derivative evaluated at the pre-activation z at {where}",
                        Pattern.DERIV_AT_PREACTIVATION, None, units(run(
                            Mutation("deriv_at_preactivation", -1, activation=act))[0])))
            out.append((f"the {act} derivative applied to the output a at {where}",
                        Pattern.DERIV_AT_OUTPUT, None, units(run(
                            Mutation("deriv_at_output", -1, activation=act))[0])))
        if sim.has_distinct_mutation(act, "deriv_missing"):
            out.append((f"the {act} derivative missing at {where}", Pattern.DERIV_MISSING, None,
                        units(run(Mutation("deriv_missing", -1, activation=act))[0])))
        if sim.has_distinct_mutation(act, "relu_at_zero"):
            out.append((f"relu'(0) taken as 1 (z >= 0) where torch takes 0 at {where}",
                        Pattern.RELU_AT_ZERO, None,
                        units(run(Mutation("relu_at_zero", -1, activation=act))[0])))
    missing = [j for j, a in enumerate(p.activations)
               if sim.has_distinct_mutation(a, "deriv_missing")]
    if len(missing) > 1 and len(set(p.activations[j] for j in missing)) > 1:
        where = ", ".join(map(str, missing))
        out.append((f"the activation derivative missing at every layer ({where}): the "
                    "upstream gradient passed on instead of the delta", Pattern.DERIV_MISSING,
                    None, units(run(Mutation("deriv_missing", -1, activation="*"))[0])))
    # the softmax's mistakes first: on a tie they name what was written, where another loss
    # (0.5 * sum((p - y)**2) / B for the fused gradient pushed through the softmax) is a reading
    out += [(label, kind, n - 1, units(run(mutation)[0]))
            for label, kind, mutation in _softmax_mistakes(p)]
    for key, (desc, _) in LOSS_DERIVATIVES.items():
        if key == stated or not sim.loss_fits_output(key, p.activations[-1], p.n_out):
            continue
        out.append((f"the derivative of {desc} (the adapter states {p.loss}: "
                    f"{LOSS_DERIVATIVES[stated][0]})", Pattern.LOSS, None,
                    units(run(Mutation("loss", loss=key))[0])))
    shapes = [W.shape for W, _ in p.params]
    for k, where in ((-1, "below"), (1, "above")):
        valid = [i for i in range(1, n) if 0 <= i + k < n and shapes[i + k] == shapes[i]]
        for i in valid:
            out.append((f"the delta of {p.layer(i - 1)} pushed back through {p.layer(i + k)}'s "
                        f"weights instead of {p.layer(i)}'s (the layer {where}'s weights)",
                        Pattern.WRONG_LAYER_WEIGHTS, i - 1,
                        units(run(Mutation("wrong_layer_weights", i, offset=k))[0])))
        if len(valid) > 1:
            out.append((f"every delta pushed back through the weights of the layer {where} "
                        f"instead of its own layer's (at layers {', '.join(map(str, valid))})",
                        Pattern.WRONG_LAYER_WEIGHTS, None,
                        units(run(Mutation("wrong_layer_weights", -1, offset=k))[0])))
    if p.style == "update" and opt is not None and n > 1:
        for j in range(n - 1):
            out.append((f"the delta of {p.layer(j)} computed with {p.layer(j + 1)}'s weight "
                        "already updated (deltas after the update)", Pattern.AFTER_UPDATE, j,
                        units(run(Mutation("after_update", j))[0])))
        if n > 2:
            out.append(("every layer updated inside the backward loop before the delta below "
                        "it is computed (deltas after the update)", Pattern.AFTER_UPDATE, None,
                        units(run(Mutation("after_update", -1))[0])))
    correct, deltas = run(Mutation())
    for j in range(n):
        if p.params[j][1].shape[1] < 2:
            continue
        total = deltas[j].sum()
        reductions = [("summed over the units instead of over the batch", total)] \
            if p.batch == 1 else [
                ("reduced to one number, summed over the batch and the units (np.sum(delta) "
                 "with no axis)", total),
                ("reduced to one number, averaged over the batch and the units "
                 "(np.mean(delta) with no axis)", total / deltas[j].size)]
        for how, value in reductions:
            pred = dict(correct)
            pred[bias_name(j)] = np.full(p.params[j][1].shape, value)
            out.append((f"{p.layer(j)}: bias gradient {how}: every unit gets the same value",
                        Pattern.BIAS_AXIS, j, units(pred)))
    return [Simulated(*one) for one in out]


def _softmax_mistakes(p: Problem) -> list[tuple[str, Pattern, Mutation]]:
    """The softmax's backward written wrong: element-wise, or applied on top of the fused
    softmax cross-entropy gradient that already contains it."""
    out: list[tuple[str, Pattern, Mutation]] = []
    last = len(p.params) - 1
    if p.activations[-1] == "softmax":
        out.append((f"{p.layer(last)}: the softmax's backward applied element-wise, "
                    "g * s * (1 - s) as for a sigmoid, instead of its Jacobian-vector product "
                    "s * (g - sum(g * s)) (the softmax is not element-wise: every output "
                    "depends on every logit of its row)", Pattern.SOFTMAX_ELEMENTWISE,
                    Mutation("softmax_elementwise", last)))
    if p.loss not in sim.FUSED or p.n_out < 2:
        return out
    fused = sim.FUSED[p.loss]
    reduced = "" if fused.endswith("-sum") else " / B"
    if p.activations[-1] == "softmax":
        out.append((f"{p.layer(last)}: the fused gradient (softmax(z) - y){reduced}, which "
                    "already is dL/dz, pushed back through the softmax layer's Jacobian once more "
                    "(the softmax applied twice)", Pattern.SOFTMAX_TWICE,
                    Mutation("softmax_twice", last, activation="vjp")))
    out.append((f"{p.layer(last)}: the fused gradient (softmax(z) - y){reduced} multiplied by "
                "the softmax's derivative s * (1 - s) as well (the softmax's Jacobian is already "
                "inside it: applied twice)", Pattern.SOFTMAX_TWICE,
                Mutation("softmax_twice", last, activation="elementwise")))
    return out


# --- trajectory hypotheses -------------------------------------------------------------------


def _trajectory(p: Problem, out: dict[str, list[Finding]]) -> None:
    """Optimiser and schedule variants, simulated over every step, fitted per parameter."""
    opt = p.opt
    if opt is None or p.lr_at is None:
        return
    stated = STATED_LOSS[p.loss]
    lr0 = opt.lr
    gamma = 1.0 - p.lr_gamma
    variants: list[tuple[str, Pattern, OptConfig | AdaptiveConfig, Callable[[int], float]]] = []
    base_lr = p.lr_at  # the twin's lr at each step compared
    if isinstance(opt, AdaptiveConfig):
        variants += [(label, kind, cfg, base_lr) for label, kind, cfg in _adaptive_variants(opt)]
    elif opt.momentum > 0:
        other = "torch" if opt.style == "classic" else "classic"
        variants.append((f"{other} momentum instead of the stated {opt.style} (they part "
                         "after an lr change)", Pattern.MOMENTUM_STYLE,
                         replace(opt, style=other), base_lr))
        if opt.bias_momentum:
            variants.append(("no momentum on the biases (configured on)", Pattern.BIAS_MOMENTUM,
                             replace(opt, bias_momentum=False), base_lr))
        else:
            variants.append(("momentum applied to the biases (configured off)",
                             Pattern.BIAS_MOMENTUM, replace(opt, bias_momentum=True), base_lr))
        if not opt.nesterov:
            m = opt.momentum
            variants.append((f"momentum kept as a moving average of the gradients, v = {m:g} v + "
                             f"{1 - m:g} g, p -= lr v: every update {1 - m:g} times the stated "
                             f"momentum's (if that is your method, declare lr * {1 - m:g} with "
                             "momentum_style='torch')", Pattern.MOMENTUM_AVERAGE,
                             replace(opt, average=True), base_lr))
        variants.append(("no momentum on the weights (or its buffer reset every step)",
                         Pattern.WEIGHT_MOMENTUM, replace(opt, weight_momentum=False), base_lr))
        late = "updated after the step that should use it (p -= u; u = m * u + lr * g: every " \
            "step one behind, none on the first)"
        variants.append((f"every momentum buffer {late}", Pattern.MOMENTUM_AFTER_USE,
                         replace(opt, after_use=("*",)), base_lr))
        for name in p.names:
            if opt.uses_momentum(name):
                variants.append((f"{p.names[name]}'s momentum buffer {late}",
                                 Pattern.MOMENTUM_AFTER_USE, replace(opt, after_use=(name,)),
                                 base_lr))
        if opt.nesterov:
            variants.append(("Nesterov stated, plain momentum applied (no look-ahead)",
                             Pattern.NESTEROV, replace(opt, nesterov=False), base_lr))
        if opt.nesterov:
            other = "torch" if opt.style == "classic" else "classic"
            effect = ("the buffer already holds lr, so the look-ahead gets lr twice: "
                      "p -= lr * (g + m * u)" if other == "torch" else
                      "the buffer lacks lr, so the look-ahead gets none: p -= lr * g + m * u")
            variants.append((f"Nesterov written with the {other} formula on the {opt.style} "
                             f"buffer ({effect})", Pattern.NESTEROV,
                             replace(opt, nesterov_formula=other), base_lr))
        if opt.weight_decay > 0:
            variants.append((f"weight decay applied to the parameter directly (p -= lr * "
                             f"{opt.weight_decay:g} * p, decoupled) instead of added to the "
                             "gradient: the momentum buffer never carries it", Pattern.WEIGHT_DECAY,
                             replace(opt, decoupled_decay=True), base_lr))
    if opt.weight_decay > 0 and not isinstance(opt, AdaptiveConfig):
        variants.append(("the biases left out of the weight decay (torch's SGD decays every "
                         "parameter it is given)", Pattern.WEIGHT_DECAY,
                         replace(opt, bias_decay=False), base_lr))
    if p.lr_epoch > 0 and p.lr_gamma > 0:
        variants.append(("the schedule one step (epoch) early", Pattern.SCHEDULE_EARLY, opt,
                         p.at_epochs(sim.step_lr(lr0, p.lr_epoch, gamma, shift=1))))
        variants.append(("the schedule one step (epoch) late", Pattern.SCHEDULE_LATE, opt,
                         p.at_epochs(sim.step_lr(lr0, p.lr_epoch, gamma, shift=-1))))
        variants.append((f"the lr multiplied by lr_gamma = {p.lr_gamma:g} instead of by "
                         f"1 - lr_gamma = {gamma:g}", Pattern.SCHEDULE_GAMMA, opt,
                         p.at_epochs(sim.step_lr(lr0, p.lr_epoch, p.lr_gamma))))
        variants.append(_other_unit(p, sim.step_lr(lr0, p.lr_epoch, gamma), opt))
    wrong = list(p.first_wrong)
    t_first = min(p.first_wrong.values())
    for label, kind, cfg, lr_at in variants:
        updates = sim.trajectory(p.params, p.activations, stated, p.batches, cfg, lr_at,
                                 trainable=p.names)
        predicted = [{n: u / p.lr_at(t) for n, u in step.items()} for t, step in
                     enumerate(updates)]
        explains = tuple(n for n in wrong if _fits_all(p, n, predicted))
        # one mistake explains the parameters that went wrong first: a variant that misses
        # all of them and fits only later ones fits their drift (a consequence) by chance
        if not explains or min(p.first_wrong[n] for n in explains) > t_first:
            continue
        for name in explains:
            out[name].append(Finding(
                kind, f"{label} — a {len(p.expected)}-step simulation with that one change "
                f"reproduces {_list(p, explains)}", None, explains, whole_run=True))


def _other_unit(p: Problem, lr_of: Callable[[int], float],
                opt: OptConfig | AdaptiveConfig) -> tuple[str, Pattern, OptConfig | AdaptiveConfig,
                                                          Callable[[int], float]]:
    """The declared schedule stepped in the other unit: per update where it is declared per
    epoch (the lr changes as many times too often as there are batches in an epoch), or per
    epoch (``start_epoch``) where it is declared per update (that many times too rarely)."""
    if p.per_update and p.epochs is not None:
        epochs = p.epochs
        return ("the schedule stepped once per epoch (start_epoch), not after every update: "
                "with several batches per epoch the lr changes that many times too rarely",
                Pattern.SCHEDULE_UNIT, opt, lambda t: lr_of(epochs[t]))
    return ("the schedule counted in updates (train_step calls), not epochs: with several "
            "batches per epoch the lr changes that many times too often",
            Pattern.SCHEDULE_UNIT, opt, lr_of)


def _adaptive_variants(opt: AdaptiveConfig) -> list[tuple[str, Pattern, AdaptiveConfig]]:
    """The mistakes people write in a hand-written Adam, AdamW, RMSprop or Adagrad."""
    out: list[tuple[str, Pattern, AdaptiveConfig]] = []
    if opt.kind in ("adam", "adamw"):
        out += [
            ("Adam without bias correction: m / (sqrt(v) + eps) with m, v as they are (the "
             "first steps too small by (1 - beta1**t))", Pattern.ADAM_BIAS_CORRECTION,
             replace(opt, bias_correction=False)),
            ("eps inside the square root: sqrt(v_hat + eps) instead of sqrt(v_hat) + eps",
             Pattern.EPS_INSIDE_SQRT, replace(opt, eps_inside=True)),
            ("the second moment of the previous step: v used before this step's g**2 goes "
             "in (on step 1 only eps is left)", Pattern.V_PREVIOUS,
             replace(opt, v_previous=True)),
        ]
        if opt.weight_decay > 0:
            text = ("AdamW's weight decay added to the gradient (Adam's L2, coupled) instead "
                    "of applied to the parameter (p -= lr * wd * p)" if opt.kind == "adamw" else
                    "Adam's weight decay applied to the parameter (AdamW's, decoupled: p -= lr "
                    "* wd * p) instead of added to the gradient")
            out.append((text, Pattern.DECAY_COUPLING,
                        replace(opt, decoupled=opt.kind != "adamw")))
    if opt.kind == "rmsprop":
        out.append((f"RMSprop's averages weighted the other way round: s = {opt.alpha:g} * g**2 "
                    f"+ {1 - opt.alpha:g} * s (alpha and 1 - alpha swapped)",
                    Pattern.RMSPROP_ALPHA, replace(opt, alpha_swapped=True)))
        if opt.centered:
            out.append(("centered RMSprop with sqrt(s + a**2) instead of sqrt(s - a**2) (the "
                        "mean's square added, not subtracted)", Pattern.RMSPROP_CENTERED,
                        replace(opt, centered_plus=True)))
    state = {"adam": "moments m, v and step count", "adamw": "moments m, v and step count",
             "rmsprop": "square average", "adagrad": "sum of squares"}[opt.kind]
    out.append((f"the optimiser's state ({state}) started afresh at every step, as when the "
                "optimiser object is built inside the update: every step is a first step",
                Pattern.ADAPTIVE_STATE_RESET, replace(opt, fresh_state=True)))
    if opt.kind == "adagrad" and opt.lr_decay > 0:
        out.append(("Adagrad's lr decay counted from step 1: lr / (1 + t * lr_decay) where "
                    "torch has (t - 1)", Pattern.ADAGRAD_LR_DECAY,
                    replace(opt, lr_decay_shift=1)))
    return out


def _fits_all(p: Problem, name: str, predicted: list[dict[str, Array]]) -> bool:
    return all(name in a and p.fits(name, t + 1, pr[name], a[name])
               for t, (pr, a) in enumerate(zip(predicted, p.actual, strict=True)))


def _factor(c: float, digits: int) -> str:
    """``c`` to ``digits`` significant digits, unless that reads as exactly 1 or -1 when it is
    not (a factor 1 + 1e-9 must not print as ``1``): then at full precision."""
    text = f"{c:.{digits}g}"
    return repr(float(c)) if float(text) in (1.0, -1.0) and abs(c) != 1 else text


def _unexplained(p: Problem, name: str) -> Finding:
    """Nothing fits: the best constant factor anyway, and the worst elements."""
    t = p.first_wrong[name]
    a = p.actual[t - 1].get(name)
    g = p.expected[t - 1][name]
    if a is None:
        raw, shape = p.raw_shapes.get(name, (np.empty(0), ()))
        return Finding(Pattern.UNEXPLAINED, f"no catalogue pattern fits: shape {raw.shape} "
                       f"where the parameter has {shape}")
    c, res = fit_factor(a, g)
    err = np.abs(a - g)
    worst = np.argsort(err, axis=None)[::-1][:3]
    parts = []
    for flat in worst:
        idx = tuple(int(i) for i in np.unravel_index(int(flat), err.shape))
        where = p.element(name, idx) if p.element else str(idx)
        parts.append(f"{where}: expected {float(g[idx])!r}, got {float(a[idx])!r}")
    step = f" at step {t}" if len(p.expected) > 1 else ""
    return Finding(Pattern.UNEXPLAINED, f"no catalogue pattern fits{step} (best constant factor "
                   f"{_factor(c, 4)}, residual {res:.2g}); worst elements: " + "; ".join(parts))


# --- the forward pass ------------------------------------------------------------------------


def diagnose_forward(
    params: list[tuple[Array, Array]],
    activations: list[str],
    x: Array,
    actual: Array,
    fits: Callable[[Array, Array], bool],
) -> list[str]:
    """One-change forward passes that reproduce the user's output: another activation at
    layer ``j``, the bias left out, the weight used transposed (square weights)."""
    found = []
    n = len(params)
    for j in range(n):
        for alt in sim.FORWARD:
            if alt == activations[j]:
                continue
            acts = list(activations)
            acts[j] = alt
            if fits(sim.forward(params, acts, x)[1][-1], actual):
                found.append(f"layer {j} computes {alt} where the adapter states "
                             f"{activations[j]}")
        W, b = params[j]
        changed = list(params)
        changed[j] = (W, np.zeros_like(b))
        if np.any(b) and fits(sim.forward(changed, activations, x)[1][-1], actual):
            found.append(f"layer {j}'s bias is not added")
        if W.shape[0] == W.shape[1] and W.shape[0] > 1:
            changed[j] = (W.T, b)
            if fits(sim.forward(changed, activations, x)[1][-1], actual):
                found.append(f"layer {j}'s weight is used transposed (or weight_layout is "
                             "wrong in the adapter)")
    return found
