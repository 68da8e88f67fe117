"""``check``: compare somebody's hand-written NumPy network with the PyTorch twin.

Given an adapter (see ``handnet.adapter``) — or better a factory ``adapter()`` that builds the
network afresh, which the check calls whenever it needs the initial state — ``check``:

1. sets every parameter the adapter points at, biases included, to random non-zero values
   (``randomize=True``, the default: a forward that never adds its zero-initialised biases, or
   a bias gradient that is never used, is otherwise invisible), reads them back in canonical
   form and builds the twin from them;
2. plans the run (:mod:`reference.checker.checkplan`): ``steps`` batches (default 5 for
   ``train_step``, 3 for ``gradients``) of standard-normal inputs and targets suited to the loss,
   of two alternating batch sizes that are none of the layer widths (so a gradient divided by the
   number of features instead of the batch cannot pass), and — with a declared lr schedule —
   epochs that cross the first decay (``start_epoch(e)`` is called with each);
3. compares the forward output, then
   (a) the gradients ``gradients(x, y)`` returns for every batch with the twin's autograd
       gradients of the stated loss, and/or
   (b) the update ``before - after`` of every ``train_step(x, y)`` along the trajectory with
       the twin optimiser's (same lr, momentum, convention, schedule; buffers from zero), and
       after the trajectory the forward at the trained parameters;
   updates are divided by the lr in force, so both styles report errors in gradient units;
4. diagnoses every wrong parameter (``reference.checker.diagnose``).

User code only ever sees copies (:mod:`reference.checker.usercode`); an argument it changes in place
is a fault of the network.  The verdict (``handnet.verdict``) is *match* only when every
promised comparison ran and matched, *mismatch* when anything differs, *inconclusive* when too
little could be compared (the twin unstable or not finite, fewer steps than promised, a
declared momentum or schedule whose effect the run could not see).

The tolerance is the comparison module's (``reference.comparison.compare``) under the project's
policy (``reference.comparison.tolerance``): ``max|a - e| <= rtol(dtype, steps) * (max|e| + s)``
with ``s`` the twin's first-order error scale of that quantity (``reference.comparison.scales``).
Over several steps the gradient scales accumulate through the momentum buffer by the suite's
one model, ``reference.comparison.momentum.MomentumErrors`` (also ``Lockstep``'s): without
Nesterov the update at step ``t`` carries ``sum_i m**(t-i) * lr_i * S_i`` (classic convention;
``lr_t * sum_i m**(t-i) * S_i`` in torch's).  An update read back from the weights (``before -
after``) is only known to within the rounding of the new weights, ``UPDATE_ROUNDING * eps *
max|W|``, added to ``rtol * s``.

Trajectories are compared only while training is in the stable regime, by the suite's one rule
(``reference.comparison.stability``): a twin with perturbed weights stepped alongside must not
move away by more than 8 times its perturbation, and no bce output may lie in torch's clamp;
beyond that two correct implementations can part by more than rounding, and the report says
where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from handnet.adapter import Adapter, AdapterError
from handnet.adapter_optim import declared_config
from handnet.layers import Dense
from handnet.names import (
    backprop_key,
    bias_name,
    is_bias,
    is_weight,
    layer_of,
    weight_name,
)
from handnet.network import Network
from handnet.verdict import UserCodeError, Verdict
from reference.checker import checkplan, lossprobe
from reference.checker.blindspots import blind_spots
from reference.checker.diagnose import (
    Finding,
    Fits,
    Problem,
    Residual,
    diagnose,
    diagnose_forward,
    fit_factor,
    step_one_factor,
)
from reference.checker.patterns import Pattern
from reference.checker.report import ForwardResult, ParameterResult, Report, WorstElement
from reference.checker.simulate import OptConfig
from reference.checker.simulate_adaptive import AdaptiveConfig
from reference.checker.usercode import call, call_with_copies, owned
from reference.comparison.compare import Record, compare_arrays
from reference.comparison.scales import forward_scale, update_scales
from reference.comparison.stability import (
    MAX_AMPLIFICATION,
    Unstable,
    amplification,
    check_bce_clamp,
    check_kinks,
    check_range,
    comparable,
    perturb_,
    perturbation_size,
    widening,
)
from reference.comparison.tolerance import (
    NEAR_MATCH_LIMIT,
    C,
    Tolerance,
    near_match_rtol,
    tolerance,
)
from reference.comparison.trajectory import UpdateErrors
from reference.twin.losses import get_torch_loss
from reference.twin.network import handnet_gradients, handnet_parameters, to_torch
from reference.twin.optim import optimizer_from_config
from reference.twin.schedule import current_lr, scheduler_from_config

Array = NDArray[np.floating]
AdapterSource = Adapter | Callable[[], Adapter]

UPDATE_ROUNDING = 4.0


class Inconclusive(Exception):
    """Nothing could be compared (the twin itself is not finite for these inputs)."""


def check(
    adapter: AdapterSource,
    batch: int | None = None,
    steps: int | None = None,
    seed: int = 0,
    source: str = "",
    *,
    rtol: float | None = None,
    atol: float | None = None,
) -> Report:
    """Check the adapter's network against the twin; see the module docstring.

    With random parameters (the default) and a factory, a run that matches is repeated at
    the network's own initial parameters, where a bug can show that random values hide (an
    all-zero relu layer whose derivative at 0 is wrong); a mismatch there is the verdict.
    ``rtol``/``atol`` override the tolerance policy (``reference.comparison.tolerance``)."""
    limits = Limits(rtol, atol)
    tolerance(np.float64, 0, rtol=rtol, atol=atol)  # a bad override fails here, not later
    fresh, is_factory = _factory(adapter)
    report = _check(fresh, is_factory, batch, steps, seed, source, True, limits)
    if report.verdict is Verdict.MATCH and report.randomized and is_factory:
        try:
            own = _check(fresh, is_factory, batch, steps, seed, source, False, limits)
        except Inconclusive as exc:
            report.notes.append(f"at the network's own initial parameters: {exc}")
            return report
        if own.verdict is Verdict.MISMATCH:
            own.notes.insert(0, "with random parameters everything matched; at the network's "
                             "own initial parameters (reported here) it does not")
            return own
        report.notes.append("checked at random parameters and at the network's own initial "
                            "ones")
    return report


@dataclass(frozen=True)
class Limits:
    """The tolerance overrides of one check (None: the policy's)."""

    rtol: float | None = None
    atol: float | None = None

    def at(self, dtype: Any, steps: int) -> Tolerance:
        return tolerance(dtype, steps, rtol=self.rtol, atol=self.atol)


def _check(fresh: Callable[[], Adapter], is_factory: bool, batch: int | None,
           steps: int | None, seed: int, source: str, randomize: bool,
           limits: Limits) -> Report:
    ad = fresh()
    ad.validate()
    own_values = randomize and not ad.randomize  # the adapter's randomize=False
    if not randomize:
        ad.randomize = False
    plan = checkplan.make(ad, batch, steps, seed)
    original = ad.canonical_parameters()
    rebound = checkplan.randomize(ad, seed) if ad.randomize else []
    params0 = ad.canonical_parameters()
    for i, (w, b) in enumerate(params0):
        for name, value in ((weight_name(i), w), (bias_name(i), b)):
            _require_finite(value, f"the initial {ad.canonical_names().get(name, name)}")
    report = Report(source or "adapter", plan.batch_sizes, len(plan.batches), seed,
                    np.dtype(ad.dtype()).name, ad.sizes(), ad.activations, ad.loss,
                    limits.at(ad.dtype(), 0), ForwardResult(0.0, 0.0, True),
                    [], list(plan.notes), randomized=ad.randomize, epochs=plan.epochs)
    for path, odd in ad.odd_dtypes().items():
        report.faults.append(f"{path!r} is {odd} in a {report.dtype} network: "
                             f"{_odd_dtype_effect(odd, report.dtype)} — create it with the "
                             f"network's dtype (a dtype='{odd}' default or an .astype leaves it "
                             f"{odd}; np.zeros(shape) is float64)")
    if rebound:
        report.notes.append("read-only parameter(s) " + ", ".join(rebound) + " were rebound to "
                            "new arrays holding the random values")
    ctx = _Context(ad, params0, plan, report, limits)
    report.forward = _check_forward(ctx)
    _check_last_batch(ctx)
    if not ctx.forward_matches and ad.randomize and is_factory:
        _explain_randomized_forward(fresh(), ctx, original)
    if ad.gradients is not None:
        report.parameters += _check_gradients(ctx)
    if ad.train_step is not None:
        if ad.gradients is not None:
            if is_factory:
                randomized = ad.randomize
                ad = fresh()
                ad.validate()
                ad.randomize = randomized
                if ad.randomize:
                    checkplan.randomize(ad, seed)
                _same_start(ad, params0)
            else:
                report.notes.append("an Adapter object (not a factory) was given: train_step "
                                    "ran on the network gradients() had seen")
            ctx = _Context(ad, params0, plan, report, limits)
        ctx.fresh = fresh if is_factory else None
        report.parameters += _check_updates(ctx)
    if own_values:
        trained = ad.gradients is None and report.compared_steps
        points = [params0, ad.canonical_parameters()] if trained else [params0]
        report.untested += blind_spots(ctx.names, points, ad.bias_layout != "none")
    report.parameters.sort(key=lambda r: (r.style != "gradient", backprop_key(r.canonical)))
    return report


class _Context:
    """One adapter instance and what the comparisons share."""

    def __init__(self, ad: Adapter, params0: list[tuple[Array, Array]],
                 plan: checkplan.Plan, report: Report, limits: Limits) -> None:
        self.ad = ad
        self.limits = limits
        self.sizes = ad.sizes()
        self.dtype = ad.dtype()
        self.params0 = params0
        self.plan = plan
        self.batches = plan.batches
        self.report = report
        self.faults = report.faults
        self.names = ad.canonical_names()
        self.eps = float(np.finfo(self.dtype).eps)
        self.forward_rel = 0.0  # a near match's forward difference (0: none, or not near)
        self.forward_matches = True  # the output at the compared parameters (probes aside)
        self.fresh: Callable[[], Adapter] | None = None  # a new network, for probes
        self.seed = report.seed

    def tol(self, steps: int) -> Tolerance:
        """The policy's tolerance, or the overrides given to ``check``."""
        return self.limits.at(self.dtype, steps)

    def rtol(self, steps: int, near: bool = True) -> float:
        """The tolerance's rtol; after a near match (``near``), with the forward's difference
        in eps's place where that is larger."""
        rtol = self.tol(steps).rtol
        if near and self.forward_rel:
            return max(rtol, near_match_rtol(self.dtype, steps, self.forward_rel))
        return rtol

    def compare(self, name: str, actual: Array, expected: Array, steps: int, extra: float,
                widen: float = 1.0, near: bool = True) -> Record:
        """The comparison module's record under this check's tolerance after ``steps``."""
        return compare_arrays(name, actual, expected, self.rtol(steps, near) * widen, extra,
                              atol=self.tol(steps).atol)

    def network(self, params: list[tuple[Array, Array]] | None = None) -> Network:
        layers = [Dense(W.copy(), b.copy()) for W, b in (params or self.params0)]
        return Network(layers, self.ad.activations)

    def params64(self) -> list[tuple[Array, Array]]:
        return [(W.astype(np.float64), b.astype(np.float64)) for W, b in self.params0]

    def batches64(self) -> list[tuple[Array, Array]]:
        return [(x.astype(np.float64), y.astype(np.float64)) for x, y in self.batches]

    def user_shape(self, name: str) -> tuple[int, ...]:
        i = layer_of(name)
        W, b = self.params0[i]
        return self.ad.user_shape(name, (W if is_weight(name) else b).shape)

    def forward(self, x: Array, what: str = "forward(x)") -> Array:
        """The user's forward output for rows ``x``, as rows (the tool's own copy)."""
        out = owned(call_with_copies(what, self.ad.forward, ["x"], [self.ad.to_user(x)],
                                     self.faults))
        return self.ad.from_user(out, self.sizes[-1], f"{what}'s output")


# --- forward ---------------------------------------------------------------------------------


def _twin_forward(model: torch.nn.Module, x: Array) -> Array:
    with torch.no_grad():
        twin = model(torch.from_numpy(x)).numpy()
    if not np.all(np.isfinite(twin)):
        raise Inconclusive("the twin's own forward output is not finite for these inputs: "
                           "nothing can be compared (try another --seed)")
    return twin


def _compare_forward(ctx: _Context, params: list[tuple[Array, Array]], x: Array,
                     rows: Array) -> tuple[bool, Any, Callable[[Array, Array], bool]]:
    model = to_torch(ctx.network(params))
    twin = _twin_forward(model, x)
    with np.errstate(all="ignore"):
        extra = float(np.max(forward_scale(model, _f64(x))))
    if not np.isfinite(extra):
        raise Inconclusive("the twin's forward error scale overflows at these parameters "
                           "(they have grown too large to compare: a smaller lr, or fewer "
                           "--steps)")
    rec = ctx.compare("output", rows, twin, 0, extra, near=False)

    def fits(pred: Array, actual: Array) -> bool:
        return ctx.compare("output", actual, pred, 0, extra, near=False).ok

    return rec.ok, rec, fits


def _check_forward(ctx: _Context) -> ForwardResult:
    x, _ = ctx.batches[0]
    rows = ctx.forward(x)
    ok, rec, fits = _compare_forward(ctx, ctx.params0, x, rows)
    diagnosis = []
    near = False
    if not ok:
        diagnosis = diagnose_forward(ctx.params64(), ctx.ad.activations, x.astype(np.float64),
                                     np.nan_to_num(rows.astype(np.float64)), fits)
        finite = bool(np.all(np.isfinite(rows)))
        if not finite:
            diagnosis.insert(0, "the output is not finite where the twin's is")
        if not diagnosis and rec.max_rel_error <= NEAR_MATCH_LIMIT:
            near = True
            ctx.forward_rel = rec.max_rel_error
            diagnosis = [_near_match_hint(ctx, rec.max_rel_error)]
        elif not diagnosis:
            diagnosis = ["no single forward change (activation, bias, transposed weight) "
                         "explains it"]
    ctx.forward_matches = ok or near
    y = ctx.batches[0][1]
    probe = lossprobe.Probe(ctx.ad, ctx.dtype, ctx.network, ctx.forward)
    lines, patterns = lossprobe.probe_findings(probe, ctx.params0, x, y, rows) if ok or near \
        else ([], [])
    return ForwardResult(rec.max_abs_error, rec.max_rel_error, ok and not lines,
                         diagnosis + lines, near and not lines, patterns)


def _near_match_hint(ctx: _Context, rel: float) -> str:
    """What a small systematic forward difference usually is, most likely first."""
    f32 = float(np.finfo(np.float32).eps)
    hints = ["a small constant inside an activation (1 / (1 + exp(-z) + 1e-8), "
             "a clip to [1e-7, 1 - 1e-7])", "another formula for the same function "
             "(exp, tanh, a table or approximation)"]
    if ctx.dtype == np.float64 and rel <= 1e3 * f32:
        hints.insert(1, "float32 arithmetic somewhere in this float64 network (an array or a "
                     "constant created as float32)")
    return (f"a near match: the output differs by {rel:.2g} relative, far above rounding "
            f"({tolerance(ctx.dtype, 0).rtol:.2g}) but small; typical causes: "
            + "; ".join(hints)
            + f". Gradients and updates are judged with that difference in place of eps "
            f"(rtol = {C} * {rel:.2g} * (1 + steps)): a parameter wrong beyond it is flagged")


def _explain_randomized_forward(ad: Adapter, ctx: _Context,
                                original: list[tuple[Array, Array]]) -> None:
    """The forward differs at the random parameters: does it match at the network's own?"""
    x, _ = ctx.batches[0]
    own = _Context(ad, original, ctx.plan, ctx.report, ctx.limits)
    try:
        ok, _, _ = _compare_forward(own, original, x, own.forward(x))
    except (AdapterError, UserCodeError, Inconclusive):
        return
    if ok:
        ctx.report.notes.append(
            "with the network's own initial parameters the forward output matches; with the "
            "random ones the check set, it differs: either the forward ignores a parameter "
            "that starts at zero (a bias never added?), or the network keeps its own copy of "
            "the parameters that the adapter's paths do not reach (then give randomize=False)")


# --- style (a): returned gradients -------------------------------------------------------------


def _check_gradients(ctx: _Context) -> list[ParameterResult]:
    ad = ctx.ad
    assert ad.gradients is not None
    model = to_torch(ctx.network())
    actual: list[dict[str, Array]] = []
    expected: list[dict[str, Array]] = []
    extras: list[dict[str, float]] = []
    raw_shapes: dict[str, tuple[Array, tuple[int, ...]]] = {}
    first_wrong: dict[str, int] = {}
    worst = _Worst()
    for t, (x, y) in enumerate(ctx.batches):
        what = "gradients(x, y)" + (f" (batch {t + 1})" if len(ctx.batches) > 1 else "")
        before = ad.raw_parameters()
        grads = owned(call_with_copies(what, ad.gradients, ["x", "y"],
                                       [ad.to_user(x), ad.targets_to_user(y)], ctx.faults))
        raw = ad.gradient_arrays(grads)
        for path, g in raw.items():
            if g.dtype != ctx.dtype and t == 0:
                ctx.faults.append(
                    f"{what} returned the gradient for {path!r} as {g.dtype} for a "
                    f"{np.dtype(ctx.dtype).name} network: a {g.dtype} value leaks into the "
                    "backward (a constant, np.ones(shape) for np.ones_like(z), ...)")
        for path, value in ad.raw_parameters().items():
            if value.shape != before[path].shape or not np.array_equal(value, before[path]):
                raise AdapterError(f"{what} changed {path!r}; it must only compute "
                                   "gradients (give train_step for a step that updates)")
        model.zero_grad()
        get_torch_loss(ad.loss)(model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        twin = handnet_gradients(model)
        try:
            scales = _error_scales(model, x, y, ad.loss, t + 1)
        except Unstable as exc:
            raise Inconclusive(f"{exc}: the tolerance cannot be set (try another --seed)") \
                from exc
        extras.append({n: float(np.max(s)) for n, s in scales.items()})
        step_actual: dict[str, Array] = {}
        for name in ctx.names:
            _require_finite(twin[name], f"the twin's gradient for {ctx.names[name]}", twin=True)
            got = ad.canonical_gradient(name, raw)
            if got is None:
                if t == 0:
                    raw_shapes[name] = (raw[_path_of(ad, name)],
                                        ctx.user_shape(name) if ad.bias_layout != "folded"
                                        else ad.raw(_path_of(ad, name)).shape)
                first_wrong.setdefault(name, t + 1)
                continue
            step_actual[name] = got.astype(np.float64)
            rec = ctx.compare(name, got, twin[name], 0, extras[t][name])
            worst.add(name, t + 1, rec, got, twin[name])
            if not rec.ok:
                first_wrong.setdefault(name, t + 1)
        actual.append(step_actual)
        expected.append({n: e.astype(np.float64) for n, e in twin.items()})

    fits, residual = _fitters(ctx, extras)
    problem = Problem(
        ctx.params64(), ad.activations, ad.loss, ctx.batches64(), "gradient", expected, actual,
        first_wrong, ctx.names, fits, residual, raw_shapes=raw_shapes, element=ad.element)
    findings = diagnose(problem, ctx.forward_matches)
    for name, (arr, shape) in raw_shapes.items():
        if not any(f.kind in (Pattern.TRANSPOSED, Pattern.BIAS_AXIS, Pattern.BIAS_UNREDUCED)
                   for f in findings[name]):
            raise AdapterError(
                f"gradients() returned shape {arr.shape} for {ctx.names[name]!r}, whose "
                f"parameter has shape {shape}")
    return [_result(ctx, name, "gradient", worst, first_wrong.get(name),
                    findings.get(name, [])) for name in ctx.names]


def _fitters(ctx: _Context, extras: list[dict[str, float]],
             widen: list[float] | None = None) -> tuple[Fits, Residual]:
    """The diagnosis's ``fits`` and ``residual`` under this check's tolerance: returned
    gradients at zero steps (``widen`` None), updates at their step with its widening."""

    def record(name: str, step: int, predicted: Array, value: Array) -> Record:
        if widen is None:
            return ctx.compare(name, value, predicted, 0, extras[step - 1][name])
        return ctx.compare(name, value, predicted, step, extras[step - 1][name],
                           widen[step - 1])

    return (lambda *a: record(*a).ok), (lambda *a: record(*a).max_rel_error)


class _Worst:
    """Per parameter: the largest errors over the steps, and the record of its worst step
    (largest error relative to its tolerance), with the step it came from."""

    def __init__(self) -> None:
        self.errors: dict[str, tuple[float, float]] = {}
        self.records: dict[str, tuple[int, Record]] = {}
        self.arrays: dict[str, tuple[Array, Array]] = {}  # that step's actual and expected

    def add(self, name: str, step: int, rec: Record, actual: Array, expected: Array) -> None:
        a, r = self.errors.get(name, (0.0, 0.0))
        self.errors[name] = (max(a, rec.max_abs_error), max(r, rec.max_rel_error))
        if name not in self.records or rec.score > self.records[name][1].score:
            self.records[name] = (step, rec)
            self.arrays[name] = (actual, expected)


def _odd_dtype_effect(odd: np.dtype, network: str) -> str:
    """What a parameter stored in dtype ``odd`` does to a ``network``-dtype network."""
    if np.finfo(odd).eps > np.finfo(network).eps:
        return f"its values and updates are rounded to {odd}"
    return f"it promotes its layer's arithmetic to {odd}"


def _result(ctx: _Context, name: str, style: str, worst: _Worst, first: int | None,
            findings: list[Finding],
            prefix: list[tuple[str, str, str]] | None = None) -> ParameterResult:
    a, r = worst.errors.get(name, (None, None))
    odd = ctx.ad.odd_dtypes().get(_path_of(ctx.ad, name))
    if odd is not None and first is not None:  # what it is stored in comes first
        prefix = [(Pattern.ODD_DTYPE, f"stored as {odd} in a {ctx.report.dtype} network: "
                   f"{_odd_dtype_effect(odd, ctx.report.dtype)}", ""), *(prefix or [])]
        findings = [f for f in findings if f.kind is not Pattern.UNEXPLAINED]
    result = ParameterResult(ctx.names[name], name, ctx.user_shape(name), style, a, r,
                             first is None, first, [*(prefix or []), *_pairs(findings)])
    if name in worst.records:
        step, rec = worst.records[name]
        element = ctx.ad.element(name, rec.worst_index) if rec.worst_index else None
        result.worst = WorstElement.of(rec, step, element)
        result.arrays = worst.arrays[name]
    return result


# --- style (b): in-place updates ----------------------------------------------------------------


class _Twin:
    """The twin's model, optimiser and schedule, stepped alongside the user's network;
    ``perturb`` (relative) gives the stability probe of ``reference.comparison.stability``."""

    def __init__(self, ctx: _Context, perturb: float = 0.0) -> None:
        ad = ctx.ad
        assert ad.lr is not None
        self.model = to_torch(ctx.network())
        if perturb:
            perturb_(self.model, perturb)
        if ad.bias_layout == "none":  # the twin has no bias to train either
            for linear in self.model.linears:
                linear.bias.requires_grad_(False)
        declared = declared_config(ad)  # the declaration, never the user's objects
        self.opt = optimizer_from_config(self.model, declared)
        self.sched = scheduler_from_config(self.opt, declared)
        self.per_update = ad.schedule_per == "update"
        self.loss = get_torch_loss(ad.loss)
        self.loss_name = ad.loss
        self.names = ctx.names

    def params(self) -> dict[str, Array]:
        return {n: v for n, v in handnet_parameters(self.model).items() if n in self.names}

    def step(self, x: Array, y: Array, epochs_to_next: int, step: int) -> None:
        """One update (then the schedule); :class:`Unstable` if bce's clamp is active."""
        self.opt.zero_grad()
        y_hat = self.model(torch.from_numpy(x))
        check_bce_clamp(y_hat.detach(), self.loss_name, step)
        self.loss(y_hat, torch.from_numpy(y)).backward()
        self.opt.step()
        for _ in range(1 if self.per_update else epochs_to_next):
            self.sched.step()


class _Regime:
    """The stable regime (``reference.comparison.stability``) along the check's trajectory: a
    probe twin with perturbed weights stepped beside the twin, the amplification it measures,
    and the rtol's widening for each step compared (``widen``)."""

    def __init__(self, ctx: _Context, twin: _Twin) -> None:
        self.ctx, self.twin = ctx, twin
        self.delta = perturbation_size(ctx.dtype)
        self.probe = _Twin(ctx, perturb=self.delta)
        self.widen: list[float] = []  # per step compared
        self.amp_before = 1.0  # before step 1 both sides start from the same parameters
        self.widened = False

    def step(self, x: Array, y: Array, advance: int, step: int) -> dict[str, Array] | None:
        """Step the twin and the probe; the twin's error scales for this step, or None (with
        a note) when the step leaves the comparable regime."""
        ctx, twin = self.ctx, self.twin
        try:
            scales = _error_scales(twin.model, x, y, ctx.ad.loss, step)
            check_kinks(twin.model, x, ctx.rtol(step) * widening(self.amp_before), step)
            twin.step(x, y, advance, step)
            self.probe.step(x, y, advance, step)
            check_range(twin.params(), ctx.dtype, step)
            # this step starts from parameters whose differences the steps before it
            # amplified by amp_before
            if not comparable(ctx.rtol(step), self.amp_before):
                raise Unstable(f"the twin amplifies perturbations {self.amp_before:.3g}-fold "
                               f"by step {step - 1}")
        except Unstable as exc:
            ctx.report.unstable_at = step
            ctx.report.notes.append(
                f"training leaves the comparable regime at step {step} ({exc}), where two "
                "correct implementations may part by more than the tolerance; steps from "
                "there on are not compared (a smaller lr, or fewer --steps)")
            return None
        if widening(self.amp_before) > 1 and not self.widened:
            self.widened = True
            ctx.report.notes.append(
                f"from step {step} training has amplified differences "
                f"{self.amp_before:.3g}-fold (more than {MAX_AMPLIFICATION:g}): the tolerance "
                f"is widened by that amplification / {MAX_AMPLIFICATION:g}")
        self.widen.append(widening(self.amp_before))
        self.amp_before = amplification(twin.params(), self.probe.params(), self.delta)
        return scales


class _UpdateErrors:
    """The error scale ``s`` of each compared update, in gradient units: the twin's update error
    scales (``reference.comparison.trajectory.UpdateErrors``: the suite's models for the
    declared optimiser) plus the rounding of an update read back from the weights
    (``UPDATE_ROUNDING * eps * max|W|``, over the rtol)."""

    def __init__(self, ctx: _Context, twin: _Twin) -> None:
        self.ctx = ctx
        self.model = UpdateErrors(twin.model, twin.opt)

    def step(self, t: int, lr: float, grad_scales: dict[str, Array], twin_prev: dict[str, Array],
             weights: dict[str, tuple[Array, ...]]) -> dict[str, float]:
        """Step ``t`` (0-based) with lr ``lr``; ``weights``: per name the arrays whose largest
        entry bounds the read-back rounding (before, the user's after, the twin's after)."""
        update = self.model.step(weights, grad_scales, twin_prev, lr)
        rtol, eps = self.ctx.rtol(t + 1), self.ctx.eps
        return {n: (update[n] + UPDATE_ROUNDING * eps * max(
                    float(np.max(np.abs(a))) for a in arrays) / rtol) / lr
                for n, arrays in weights.items()}


class _Trajectory:
    """The user's ``train_step`` and the twin's step side by side, batch by batch, while both
    can be compared: per compared step the lr, both updates in units of the lr, and the
    updates' error scales; ``broken`` names what went wrong beyond comparing."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.twin = _Twin(ctx)
        self.regime = _Regime(ctx, self.twin)
        self.cfg = _opt_config(ctx.ad, self.twin)
        self.errors = _UpdateErrors(ctx, self.twin)
        self.user_prev = _user_params(ctx.ad, ctx.names)
        self.twin_prev = self.twin.params()
        self.shapes0 = {p: (v.shape, v.dtype) for p, v in ctx.ad.raw_parameters().items()}
        self.lrs: list[float] = []
        self.actual: list[dict[str, Array]] = []
        self.expected: list[dict[str, Array]] = []
        self.extras: list[dict[str, float]] = []  # per step, per parameter: the error scale s
        self.broken: dict[str, str] = {}  # canonical name -> what went wrong beyond comparing

    def run(self) -> None:
        for t, (x, y) in enumerate(self.ctx.batches):
            if not self._step(t, x, y):
                break
        self.ctx.report.compared_steps = len(self.actual)

    def _step(self, t: int, x: Array, y: Array) -> bool:
        """Step ``t`` (0-based) on both sides; whether the trajectory goes on."""
        ctx, ad, epochs = self.ctx, self.ctx.ad, self.ctx.plan.epochs
        assert ad.train_step is not None
        if ad.start_epoch is not None and (t == 0 or epochs[t] != epochs[t - 1]):
            call(f"start_epoch({epochs[t]})", ad.start_epoch, epochs[t])  # once per epoch
        lr = current_lr(self.twin.opt)
        if lr == 0:
            ctx.report.notes.append(
                f"the declared schedule's lr is 0 at step {t + 1} (epoch {epochs[t]}): updates "
                "are compared in units of the lr, so the trajectory stops there (fewer --steps, "
                "or a schedule that does not reach 0 within them)")
            return False
        out_before = ctx.forward(x, f"forward(x) (before step {t + 1})") if t == 0 else None
        call_with_copies(f"train_step(x, y) (step {t + 1})", ad.train_step, ["x", "y"],
                         [ad.to_user(x), ad.targets_to_user(y)], ctx.faults)
        self.broken.update(_shape_changes(ad, ctx.names, self.shapes0, t))
        if self.broken:
            return False
        user_now = _user_params(ad, ctx.names)
        advance = (epochs[t + 1] - epochs[t]) if t + 1 < len(epochs) else 1
        grad_scales = self.regime.step(x, y, advance, t + 1)
        if grad_scales is None:
            return False
        twin_now = self.twin.params()
        for n, v in user_now.items():
            if not np.all(np.isfinite(v)):
                self.broken[n] = f"not finite after step {t + 1} while the twin's stays finite"
        if self.broken:
            return False
        user_prev, twin_prev = self.user_prev, self.twin_prev
        if out_before is not None:
            _unchanged_parameters(ctx, x, out_before, user_prev, user_now, twin_prev, twin_now)
        self.lrs.append(lr)
        self.actual.append({n: (user_prev[n].astype(np.float64)
                                - user_now[n].astype(np.float64)) / lr for n in ctx.names})
        self.expected.append({n: (twin_prev[n].astype(np.float64)
                                  - twin_now[n].astype(np.float64)) / lr for n in ctx.names})
        self.extras.append(self.errors.step(
            t, lr, grad_scales, twin_prev,
            {n: (user_prev[n], user_now[n], twin_now[n]) for n in ctx.names}))
        self.user_prev, self.twin_prev = user_now, twin_now
        return True


def _check_updates(ctx: _Context) -> list[ParameterResult]:
    ad = ctx.ad
    assert ad.lr is not None and ad.train_step is not None
    tr = _Trajectory(ctx)
    tr.run()
    actual, expected, extras, widen = tr.actual, tr.expected, tr.extras, tr.regime.widen
    fits, residual = _fitters(ctx, extras, widen)
    first_wrong: dict[str, int] = {}
    worst = _Worst()
    for name in ctx.names:
        for t in range(len(actual)):
            rec = ctx.compare(name, actual[t][name], expected[t][name], t + 1, extras[t][name],
                              widen[t])
            worst.add(name, t + 1, rec, actual[t][name], expected[t][name])
            if name not in first_wrong and not rec.ok:
                first_wrong[name] = t + 1
        if name in tr.broken and name not in first_wrong:
            first_wrong[name] = len(actual) + 1
    findings: dict[str, list[Finding]] = {}
    if actual:
        steps = len(actual)
        problem = Problem(
            ctx.params64(), ad.activations, ad.loss, ctx.batches64()[:steps], "update", expected,
            actual, {n: t for n, t in first_wrong.items() if t <= steps}, ctx.names, fits,
            residual, opt=tr.cfg, lr_at=lambda t: tr.lrs[t], lr_epoch=ad.lr_epoch,
            lr_gamma=ad.lr_gamma, element=ad.element, epochs=ctx.plan.epochs[:steps],
            per_update=ad.schedule_per == "update")
        problem.probed = _probe_other_batch(ctx, problem)
        findings = diagnose(problem, ctx.forward_matches)
        if not first_wrong:
            ctx.report.untested += checkplan.unobservable(problem, ad)
            _check_forward_after(ctx, ctx.batches[steps - 1][0])
    return [_result(ctx, name, "update", worst, first_wrong.get(name),
                    findings.get(name, []),
                    [(Pattern.BROKEN, tr.broken[name], "")] if name in tr.broken else None)
            for name in ctx.names]


def _probe_other_batch(ctx: _Context, p: Problem) -> dict[str, dict[int, float]]:
    """For parameters whose first update is off by a constant factor: one step of a fresh
    network from the same parameters on a batch of the other size, and the factor fitted there
    (``{name: {batch size: factor}}``), so the diagnosis can tell which divisor it follows.
    Empty when there is no factory, no second batch size, or nothing to probe."""
    fresh, (x1, _) = ctx.fresh, ctx.batches[0]
    names = [n for n, t in p.first_wrong.items() if t == 1 and n in p.actual[0]
             and step_one_factor(p, n) is not None]
    other = _other_batch(ctx, x1.shape[0])
    if fresh is None or other is None or not names:
        return {}
    try:
        ad = fresh()
        ad.validate()
        if ctx.ad.randomize:
            checkplan.randomize(ad, ctx.seed)
        _same_start(ad, ctx.params0)
        x, y = other
        assert ad.train_step is not None
        twin = _Twin(ctx)  # the same declarations, from the same parameters
        if ad.start_epoch is not None:
            call("start_epoch(0)", ad.start_epoch, ctx.plan.epochs[0])
        before, twin_before = _user_params(ad, ctx.names), twin.params()
        call_with_copies("train_step(x, y) (batch-size probe)", ad.train_step,
                         ["x", "y"], [ad.to_user(x), ad.targets_to_user(y)], [])
        lr = current_lr(twin.opt)
        twin.step(x, y, 0, 1)
        after, twin_after = _user_params(ad, ctx.names), twin.params()
    except (AdapterError, UserCodeError, Unstable):
        return {}
    out = {}
    for n in names:
        c, _ = fit_factor((before[n] - after[n]) / lr, (twin_before[n] - twin_after[n]) / lr)
        if np.isfinite(c):
            out[n] = {int(x.shape[0]): c}
    return out


def _other_batch(ctx: _Context, b1: int) -> tuple[Array, Array] | None:
    """A batch of another size than ``b1`` (none of the layer widths), from the plan's rows:
    the plan's next other-sized batch, else the first rows of all its batches together."""
    for x, y in ctx.batches:
        if x.shape[0] != b1:
            return x, y
    xs = np.concatenate([x for x, _ in ctx.batches])
    ys = np.concatenate([y for _, y in ctx.batches])
    size = next((n for n in range(b1 + 1, len(xs) + 1) if n not in ctx.sizes), None)
    return None if size is None else (xs[:size], ys[:size])


def _user_params(ad: Adapter, names: dict[str, str]) -> dict[str, Array]:
    return {n: v for n, v in ad.canonical_dict().items() if n in names}


def _opt_config(ad: Adapter, twin: _Twin) -> OptConfig | AdaptiveConfig:
    """The declared optimiser for the diagnosis's simulations (an adaptive one with torch's
    defaults resolved, read from the twin's parameter groups)."""
    assert ad.lr is not None
    if ad.optimizer != "sgd":
        return AdaptiveConfig.from_groups(ad.optimizer, twin.opt.param_groups)
    return OptConfig(float(ad.lr), float(ad.momentum), ad.momentum_style,
                     bool(ad.bias_momentum), bool(ad.nesterov), float(ad.weight_decay),
                     bias_decay=bool(ad.bias_decay))


def _shape_changes(ad: Adapter, names: dict[str, str],
                   shapes0: dict[str, tuple[tuple[int, ...], np.dtype]], t: int
                   ) -> dict[str, str]:
    """Parameters whose shape or dtype the step changed (a rebinding update can do both)."""
    broken = {}
    for path, (shape, dtype) in shapes0.items():
        new = ad.raw(path)
        what = ""
        if new.shape != shape:
            what = (f"train_step changed its shape from {shape} to {new.shape} at step "
                    f"{t + 1}: an update of the wrong shape was broadcast into it")
        elif new.dtype != dtype:
            what = (f"train_step changed its dtype from {dtype} to {new.dtype} at step "
                    f"{t + 1}: a {new.dtype} value leaks into the update of a {dtype} network")
        for n in names:
            if what and _path_of(ad, n) == path:
                broken[n] = what
    return broken


def _unchanged_parameters(ctx: _Context, x: Array, out_before: Array,
                          user_prev: dict[str, Array], user_now: dict[str, Array],
                          twin_prev: dict[str, Array], twin_now: dict[str, Array]) -> None:
    """Step 1 changed none of the adapter's arrays (while the twin's moved): either the
    network's update really is zero — a finding — or the adapter points at arrays the
    network's training does not update — an adapter error.  The forward tells them apart."""
    names = ctx.names
    if not all(np.array_equal(user_now[n], user_prev[n]) for n in names) or \
            all(np.array_equal(twin_now[n], twin_prev[n]) for n in names):
        return
    out_after = ctx.forward(x, "forward(x) (after step 1)")
    if not np.array_equal(out_after, out_before, equal_nan=True):
        raise AdapterError(
            "train_step(x, y) changed none of the arrays the adapter points at ("
            + ", ".join(names.values()) + "), yet the network's forward output changed: it "
            "updates (or rebinds) other arrays than those; point the adapter's paths at the "
            "arrays train_step updates")
    ctx.faults.append(
        "train_step(x, y) changed no parameter at step 1 and the network's forward output "
        "stayed the same: every update is zero (a derivative that returns 0, an lr of 0, or "
        "an update applied to a copy)")


def _check_forward_after(ctx: _Context, x: Array) -> None:
    """After the trajectory, the user's forward must compute the network at the parameters
    it now holds (a forward reading stale copies would pass every update comparison)."""
    _check_forward_again(
        ctx, x, "forward(x) (after training)",
        f"after {ctx.report.compared_steps} training step(s), forward(x) no longer computes",
        "although it did before: the forward reads arrays that train_step does not update (a "
        "list or dict built once, while train_step rebinds the attributes?)")


def _check_last_batch(ctx: _Context) -> None:
    """The forward, and the loss value when declared, once more on another batch (the last
    of another size than the first, else the last) at the same parameters: a forward whose
    output does not follow its ``x`` (an output, activation or input kept from an earlier
    call), or a loss that keeps the first batch's size, would otherwise be judged on the first
    batch alone (``gradients`` never trains, so nothing else calls the forward again)."""
    n = len(ctx.batches)
    if not ctx.report.forward.ok or n < 2:
        return
    size = ctx.batches[0][0].shape[0]
    t = next((i + 1 for i in reversed(range(n)) if ctx.batches[i][0].shape[0] != size), n)
    x, y = ctx.batches[t - 1]
    rows = _check_forward_again(
        ctx, x, f"forward(x) (batch {t})", f"on batch {t}, forward(x) does not compute",
        "although it did on batch 1: its output does not follow the x it is given (an "
        "output, an activation or the input kept from an earlier call?)")
    if rows is not None and ctx.ad.loss_value is not None:
        probe = lossprobe.Probe(ctx.ad, ctx.dtype, ctx.network, ctx.forward)
        ctx.faults += probe.compare_loss(ctx.params0, x, y, rows,
                                         f"loss_value(y_hat, y) (batch {t})")


def _check_forward_again(ctx: _Context, x: Array, what: str, when: str,
                         why: str) -> Array | None:
    """The user's forward on ``x`` against the twin at the adapter's current parameters; a
    difference is a fault (``when`` ... ``why``).  The output rows when they match."""
    current = ctx.ad.canonical_parameters()
    rows = ctx.forward(x, what)
    try:
        ok, rec, _ = _compare_forward(ctx, current, x, rows)
    except Inconclusive:
        return None
    if not ok:
        ctx.faults.append(
            f"{when} the network at the parameters the adapter points at (max rel error "
            f"{rec.max_rel_error:.2e}), {why}")
        return None
    return rows


def _path_of(ad: Adapter, name: str) -> str:
    layer = ad.layers[layer_of(name)]
    if is_bias(name) and layer.bias is not None:
        return layer.bias
    return layer.weight


# --- helpers ------------------------------------------------------------------------------------


def _pairs(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.kind, f.text, f.evidence) for f in findings]


def _factory(source: AdapterSource) -> tuple[Callable[[], Adapter], bool]:
    if isinstance(source, Adapter):
        return (lambda: source), False
    if not callable(source):
        raise AdapterError(f"expected an Adapter or a function returning one, got "
                           f"{type(source).__name__}")

    def make() -> Adapter:
        ad = call("adapter()", source)
        if not isinstance(ad, Adapter):
            raise AdapterError(f"adapter() returned a {type(ad).__name__}, not a "
                               "handnet.adapter.Adapter")
        return ad

    return make, True


def _same_start(ad: Adapter, params0: list[tuple[Array, Array]]) -> None:
    again = ad.canonical_parameters()
    if len(again) != len(params0) or any(
            not (np.array_equal(w, w0) and np.array_equal(b, b0))
            for (w, b), (w0, b0) in zip(again, params0, strict=False)):
        raise AdapterError("adapter() built different weights on its second call: seed the "
                           "network's generator so every call builds the same network")


def _error_scales(model: Any, x: Array, y: Array, loss: str, step: int) -> dict[str, Array]:
    """The twin's error scales for one step; :class:`Unstable` when they are not finite (an
    infinite scale would make any difference pass)."""
    with np.errstate(all="ignore"):
        scales = update_scales(model, _f64(x), _f64(y), loss)
    if not all(np.all(np.isfinite(s)) for s in scales.values()):
        raise Unstable(f"the twin's error scales overflow at step {step}")
    return scales


def _f64(a: Array) -> NDArray[np.float64]:
    return np.asarray(a, dtype=np.float64)


def _require_finite(value: Array, what: str, twin: bool = False) -> None:
    arr = np.asarray(value)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        if twin:
            raise Inconclusive(f"{what} is not finite ({arr[bad]} at {list(bad)}) for these "
                               "inputs: nothing can be compared (try another --seed)")
        raise AdapterError(f"{what} is not finite ({arr[bad]} at {list(bad)})")
