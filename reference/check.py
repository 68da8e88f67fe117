"""``check``: compare somebody's hand-written NumPy network with the PyTorch twin.

Given an adapter (see ``handnet.adapter``) — or better a factory ``adapter()`` that builds the
network afresh, which the check calls whenever it needs the initial state — ``check``:

1. reads the user's weights through the adapter's paths, converts them to canonical form and
   builds a ``handnet.Network`` with the stated activations, and the twin from it;
2. draws ``steps`` batches from ``numpy.random.default_rng(seed)``: inputs **standard normal**
   (both signs, so relu units are on and off and every sign-sensitive mistake shows; unlike the
   data sets' [0, 1]^2, whose all-positive inputs can hide a bias/weight mix-up) and targets
   suited to the loss (0/1 for ``bce``, uniform in [0, 1] otherwise);
3. compares the forward output, then
   (a) the gradients ``gradients(x, y)`` returns with the twin's autograd gradients of the
       stated loss, and/or
   (b) the update ``before - after`` one ``train_step(x, y)`` makes on a fresh network with the
       twin optimiser's first update (same lr, momentum, convention, all buffers at zero); with
       ``steps > 1`` the update of every step along both trajectories (``start_epoch(e)`` is
       called before step ``e``; the twin steps ``StepLR`` after each step, one step = one
       epoch) and reports the first step at which each parameter goes wrong.
   Updates are divided by the lr in force, so both styles report errors in gradient units;
4. diagnoses every wrong parameter (``reference.diagnose``).

The verdict is the comparison module's (``reference.compare``) under the project's tolerance
policy (``reference.tolerance``): ``max|a - e| <= rtol(dtype, steps) * (max|e| + s)`` with ``s``
the twin's first-order error scale of that quantity (``reference.scales``: forward output,
loss gradients).  Over several steps (style (b)) the gradient scales accumulate through the
momentum buffer as in ``reference.harness.Lockstep``: the update at step ``t`` carries
``sum_i m**(t-i) * lr_i * S_i`` (times ``1 + m`` with Nesterov).  One more term the policy does
not need for arrays it is handed: an update read back from the weights (``before - after``) is
only known to within the rounding of the new weights, ``UPDATE_ROUNDING * eps * max|W|``, which
is added to ``rtol * s``.  Everything is divided by the lr in force (gradient units).

Trajectories are compared only while training is stable, by the suite's rule
(``reference.harness``): the twin's weights stay below ``10 * max|p_0| + 1``; beyond that any
two correct implementations part exponentially, and the report says where it stopped.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from handnet.adapter import Adapter, AdapterError
from handnet.layers import Dense
from handnet.network import Network
from reference.compare import compare_arrays
from reference.diagnose import Finding, Problem, diagnose, diagnose_forward
from reference.losses import get_torch_loss
from reference.network import handnet_gradients, handnet_parameters, to_torch
from reference.optim import make_optimizer
from reference.report import ForwardResult, ParameterResult, Report
from reference.scales import forward_scale, update_scales
from reference.schedule import current_lr, make_scheduler
from reference.simulate import OptConfig
from reference.tolerance import C, tolerance

Array = NDArray[np.floating]
AdapterSource = Adapter | Callable[[], Adapter]

DEFAULT_BATCH = 8
UPDATE_ROUNDING = 4.0
STABLE_GROWTH = 10.0  # the suite's stable regime: |p| < STABLE_GROWTH * max|p_0| + 1


def check(
    adapter: AdapterSource,
    batch: int | None = None,
    steps: int = 1,
    seed: int = 0,
    source: str = "",
) -> Report:
    """Check the adapter's network against the twin; see the module docstring."""
    fresh, is_factory = _factory(adapter)
    ad = fresh()
    ad.validate()
    if steps < 1:
        raise AdapterError(f"steps must be at least 1, got {steps}")
    if steps > 1 and ad.train_step is None:
        raise AdapterError("--steps > 1 compares trajectories of train_step, which the "
                           "adapter does not give")
    b = batch if batch is not None else (ad.batch or DEFAULT_BATCH)
    if b < 1:
        raise AdapterError(f"batch must be at least 1, got {b}")
    sizes, dtype = ad.sizes(), ad.dtype()
    params0 = ad.canonical_parameters()
    for name, value in ad.canonical_dict().items():
        _require_finite(value, f"the initial {ad.canonical_names().get(name, name)}")
    batches = draw_batches(np.random.default_rng(seed), b, sizes, ad.loss, steps, dtype)
    ctx = _Context(ad, sizes, dtype, params0, batches)
    notes: list[str] = []
    if ad.batch is not None and b != ad.batch:
        notes.append(f"the adapter says the network takes batches of {ad.batch}; checked with "
                     f"{b}")

    if ad.train_step is not None and ad.momentum > 0 and ad.lr_gamma > 0 and \
            ad.lr_epoch > 0 and steps < ad.lr_epoch + 2:
        notes.append(f"the {steps} step(s) compared cross no lr decay (every {ad.lr_epoch} "
                     f"steps): momentum conventions and the schedule's timing only show with "
                     f"--steps {ad.lr_epoch + 2} or more")
    forward = _check_forward(ctx)
    results: list[ParameterResult] = []
    if ad.gradients is not None:
        results += _check_gradients(ctx, forward.ok)
    if ad.train_step is not None:
        if ad.gradients is not None:
            if is_factory:
                ad = fresh()
                _same_start(ad, params0)
            else:
                notes.append("an Adapter object (not a factory) was given: train_step ran on "
                             "the network gradients() had seen")
            ctx = _Context(ad, sizes, dtype, params0, batches)
        try:
            results += _check_updates(ctx, forward.ok, notes)
        except AdapterError as exc:
            if all(r.ok for r in results) and forward.ok:
                raise
            # the gradients already show what is wrong: report them, say why (b) is missing
            notes.append(f"style (b) not compared: {exc}")
    order = {f"{k}{i}": (-i, k == "b") for i in range(len(sizes) - 1) for k in "Wb"}
    results.sort(key=lambda r: (r.style != "gradient", order[r.canonical]))
    name = np.dtype(dtype).name
    desc = (f"rtol = {C} * eps({name}) * (1 + steps) = {tolerance(dtype, 0).rtol:.2e} "
            "for a gradient, relative to max|expected| + its error scale")
    return Report(source or "adapter", b, steps, seed, np.dtype(dtype).name, sizes,
                  ad.activations, ad.loss, desc, forward, results, notes)


def draw_batches(
    rng: np.random.Generator, batch: int, sizes: list[int], loss: str, steps: int,
    dtype: np.dtype | type = np.float64,
) -> list[tuple[Array, Array]]:
    """``steps`` batches ``(x, y)`` as rows: standard normal inputs, targets for ``loss``."""
    out = []
    for _ in range(steps):
        x = rng.standard_normal((batch, sizes[0]))
        if loss == "bce":
            y = rng.integers(0, 2, size=(batch, sizes[-1])).astype(np.float64)
        else:
            y = rng.uniform(0.0, 1.0, size=(batch, sizes[-1]))
        out.append((x.astype(dtype), y.astype(dtype)))
    return out


class _Context:
    """One adapter instance and what the comparisons share."""

    def __init__(self, ad: Adapter, sizes: list[int], dtype: np.dtype,
                 params0: list[tuple[Array, Array]], batches: list[tuple[Array, Array]]) -> None:
        self.ad = ad
        self.sizes = sizes
        self.dtype = dtype
        self.params0 = params0
        self.batches = batches
        self.names = ad.canonical_names()
        self.eps = float(np.finfo(dtype).eps)

    def network(self) -> Network:
        layers = [Dense(W.copy(), b.copy()) for W, b in self.params0]
        return Network(layers, self.ad.activations)

    def params64(self) -> list[tuple[Array, Array]]:
        return [(W.astype(np.float64), b.astype(np.float64)) for W, b in self.params0]

    def batches64(self) -> list[tuple[Array, Array]]:
        return [(x.astype(np.float64), y.astype(np.float64)) for x, y in self.batches]

    def user_shape(self, name: str) -> tuple[int, ...]:
        i = int(name[1:])
        W, b = self.params0[i]
        return self.ad.user_shape(name, (W if name.startswith("W") else b).shape)


# --- forward ---------------------------------------------------------------------------------


def _check_forward(ctx: _Context) -> ForwardResult:
    ad = ctx.ad
    x, _ = ctx.batches[0]
    out = _call("forward(x)", ad.forward, ad.to_user(x))
    rows = ad.from_user(out, ctx.sizes[-1], "forward(x)'s output")
    _require_finite(rows, "forward(x)'s output")
    model = to_torch(ctx.network())
    with torch.no_grad():
        twin = model(torch.from_numpy(x)).numpy()
    _require_finite(twin, "the twin's output", twin=True)
    rtol = tolerance(ctx.dtype, 0).rtol
    extra = float(np.max(forward_scale(model, _f64(x))))
    rec = compare_arrays("output", rows, twin, rtol, extra)
    diagnosis = []
    if not rec.ok:
        def fits(pred: Array, actual: Array) -> bool:
            return compare_arrays("output", actual, pred, rtol, extra).ok

        diagnosis = diagnose_forward(ctx.params64(), ad.activations, x.astype(np.float64),
                                     rows.astype(np.float64), fits)
        if not diagnosis:
            diagnosis = ["no single forward change (activation, bias, transposed weight) "
                         "explains it"]
    return ForwardResult(rec.max_abs_error, rec.max_rel_error, rec.ok, diagnosis)


# --- style (a): returned gradients -------------------------------------------------------------


def _check_gradients(ctx: _Context, forward_ok: bool) -> list[ParameterResult]:
    ad = ctx.ad
    x, y = ctx.batches[0]
    before = ad.raw_parameters()
    grads = _call("gradients(x, y)", ad.gradients, ad.to_user(x), ad.to_user(y))  # type: ignore[arg-type]
    raw = ad.gradient_arrays(grads)
    for path, value in ad.raw_parameters().items():
        if value.shape != before[path].shape or not np.array_equal(value, before[path]):
            raise AdapterError(f"gradients(x, y) changed {path!r}; it must only compute "
                               "gradients (give train_step for a step that updates)")
    model = to_torch(ctx.network())
    loss = get_torch_loss(ad.loss)(model(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    expected = handnet_gradients(model)
    scales = update_scales(model, _f64(x), _f64(y), ad.loss)
    extra = {n: float(np.max(s)) for n, s in scales.items()}
    rtol = tolerance(ctx.dtype, 0).rtol
    actual: dict[str, Array] = {}
    raw_shapes: dict[str, tuple[Array, tuple[int, ...]]] = {}
    for name, user_name in ctx.names.items():
        _require_finite(expected[name], f"the twin's gradient for {user_name}", twin=True)
        g = ad.canonical_gradient(name, raw)
        path = _path_of(ad, name)
        if g is None:
            raw_shapes[name] = (raw[path], ctx.user_shape(name) if ad.bias_layout != "folded"
                                else ad.raw(path).shape)
            continue
        _require_finite(g, f"the gradient gradients() returned for {user_name}")
        actual[name] = g.astype(np.float64)

    def fits(name: str, step: int, predicted: Array, value: Array) -> bool:
        return compare_arrays(name, value, predicted, rtol, extra[name]).ok

    def residual(name: str, step: int, predicted: Array, value: Array) -> float:
        return compare_arrays(name, value, predicted, rtol, extra[name]).max_rel_error

    records = {n: compare_arrays(n, actual[n], expected[n], rtol, extra[n]) for n in actual}
    first_wrong = {n: 1 for n in ctx.names if n in raw_shapes or not records[n].ok}
    problem = Problem(
        ctx.params64(), ad.activations, ad.loss, ctx.batches64(), "gradient",
        [{n: e.astype(np.float64) for n, e in expected.items()}], [actual], first_wrong,
        ctx.names, fits, residual, raw_shapes=raw_shapes, element=ad.element)
    findings = diagnose(problem, forward_ok)
    for name, (arr, shape) in raw_shapes.items():
        if not any(f.kind in ("transposed", "bias_axis", "bias_unreduced")
                   for f in findings[name]):
            raise AdapterError(
                f"gradients() returned shape {arr.shape} for {ctx.names[name]!r}, whose "
                f"parameter has shape {shape}")
    out = []
    for name, user_name in ctx.names.items():
        rec = records.get(name)
        out.append(ParameterResult(
            user_name, name, ctx.user_shape(name), "gradient",
            None if rec is None else rec.max_abs_error,
            None if rec is None else rec.max_rel_error,
            name not in first_wrong, 1 if name in first_wrong else None,
            _pairs(findings.get(name, []))))
    return out


# --- style (b): in-place updates ----------------------------------------------------------------


def _check_updates(ctx: _Context, forward_ok: bool, notes: list[str]) -> list[ParameterResult]:
    ad = ctx.ad
    assert ad.lr is not None and ad.train_step is not None
    model = to_torch(ctx.network())
    if ad.bias_layout == "none":  # the twin has no bias to train either
        for linear in model.linears:
            linear.bias.requires_grad_(False)
    opt = make_optimizer(model, ad.lr, ad.momentum, ad.momentum_style, ad.bias_momentum,
                         ad.nesterov, ad.weight_decay)
    sched = make_scheduler(opt, ad.lr_epoch, ad.lr_gamma)
    loss_fn = get_torch_loss(ad.loss)
    names = ctx.names
    user_prev = {n: v for n, v in ad.canonical_dict().items() if n in names}
    twin_prev = {n: v for n, v in handnet_parameters(model).items() if n in names}
    shapes0 = {p: v.shape for p, v in ad.raw_parameters().items()}
    lrs: list[float] = []
    actual: list[dict[str, Array]] = []
    expected: list[dict[str, Array]] = []
    extras: list[dict[str, float]] = []  # per step, per parameter: the error scale s
    carried = {n: 0.0 for n in names}  # the momentum buffer's share of gradient error
    bound = STABLE_GROWTH * max(float(np.max(np.abs(v))) for v in twin_prev.values()) + 1.0
    cfg = OptConfig(ad.lr, ad.momentum, ad.momentum_style, ad.bias_momentum, ad.nesterov,
                    ad.weight_decay)
    broken: dict[str, str] = {}  # canonical name -> what went wrong beyond comparing
    for t, (x, y) in enumerate(ctx.batches):
        if ad.start_epoch is not None:
            _call(f"start_epoch({t})", ad.start_epoch, t)
        _call(f"train_step(x, y) (step {t + 1})", ad.train_step, ad.to_user(x), ad.to_user(y))
        for path, shape in shapes0.items():
            new = ad.raw(path).shape
            if new != shape:
                for n in names:
                    if _path_of(ad, n) == path:
                        broken[n] = (f"train_step changed its shape from {shape} to {new} at "
                                     f"step {t + 1}: an update of the wrong shape was broadcast "
                                     "into it")
        if broken:
            break
        user_now = {n: v for n, v in ad.canonical_dict().items() if n in names}
        lr = current_lr(opt)
        grad_scales = update_scales(model, _f64(x), _f64(y), ad.loss)
        opt.zero_grad()
        loss_fn(model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step()
        sched.step()
        twin_now = {n: v for n, v in handnet_parameters(model).items() if n in names}
        if not all(np.all(np.abs(v) < bound) for v in twin_now.values()):
            notes.append(f"training is unstable: at step {t + 1} the twin's weights leave "
                         f"|p| < {bound:.3g} (10 x the largest initial weight + 1), where any "
                         "two correct implementations part; steps from there on are not "
                         "compared (a smaller lr, or fewer --steps)")
            break
        for n, v in user_now.items():
            if not np.all(np.isfinite(v)):
                broken[n] = (f"not finite after step {t + 1} while the twin's stays finite")
        if broken:
            break
        if t == 0 and all(np.array_equal(user_now[n], user_prev[n]) for n in names) and \
                not all(np.array_equal(twin_now[n], twin_prev[n]) for n in names):
            raise AdapterError(
                "train_step(x, y) changed none of the parameters the adapter points at ("
                + ", ".join(names.values()) + "): it must update those arrays in place or "
                "rebind those attributes (does it update a copy, or another object?)")
        lrs.append(lr)
        actual.append({n: (user_prev[n].astype(np.float64) - user_now[n].astype(np.float64))
                       / lr for n in names})
        expected.append({n: (twin_prev[n].astype(np.float64) - twin_now[n].astype(np.float64))
                         / lr for n in names})
        rtol = tolerance(ctx.dtype, t + 1).rtol
        step_extra = {}
        for n in names:
            m = cfg.momentum if cfg.uses_momentum(n) else 0.0
            carried[n] = m * carried[n] + lr * float(np.max(grad_scales[n]))
            rounding = UPDATE_ROUNDING * ctx.eps * max(
                float(np.max(np.abs(a))) for a in (user_prev[n], user_now[n], twin_now[n]))
            step_extra[n] = (cfg.first_step_scale(n) * carried[n] + rounding / rtol) / lr
        extras.append(step_extra)
        user_prev, twin_prev = user_now, twin_now

    def tol(step: int) -> float:
        return tolerance(ctx.dtype, step).rtol

    def fits(name: str, step: int, predicted: Array, value: Array) -> bool:
        return compare_arrays(name, value, predicted, tol(step), extras[step - 1][name]).ok

    def residual(name: str, step: int, predicted: Array, value: Array) -> float:
        return compare_arrays(name, value, predicted, tol(step),
                              extras[step - 1][name]).max_rel_error

    first_wrong: dict[str, int] = {}
    worst: dict[str, tuple[float, float]] = {}
    for name in names:
        for t in range(len(actual)):
            rec = compare_arrays(name, actual[t][name], expected[t][name], tol(t + 1),
                                 extras[t][name])
            a, r = worst.get(name, (0.0, 0.0))
            worst[name] = (max(a, rec.max_abs_error), max(r, rec.max_rel_error))
            if name not in first_wrong and not rec.ok:
                first_wrong[name] = t + 1
        if name in broken and name not in first_wrong:
            first_wrong[name] = len(actual) + 1
    findings: dict[str, list[Finding]] = {}
    if actual:
        problem = Problem(
            ctx.params64(), ad.activations, ad.loss, ctx.batches64()[:len(actual)], "update",
            expected, actual, {n: t for n, t in first_wrong.items() if t <= len(actual)},
            names, fits, residual,
            opt=cfg,
            lr_at=lambda t: lrs[t], lr_epoch=ad.lr_epoch, lr_gamma=ad.lr_gamma,
            element=ad.element)
        findings = diagnose(problem, forward_ok)
    out = []
    for name, user_name in names.items():
        pairs = _pairs(findings.get(name, []))
        if name in broken:
            pairs.insert(0, ("broken", broken[name], ""))
        a, r = worst.get(name, (None, None))  # type: ignore[assignment]
        out.append(ParameterResult(user_name, name, ctx.user_shape(name), "update", a, r,
                                   name not in first_wrong, first_wrong.get(name), pairs))
    return out


def _path_of(ad: Adapter, name: str) -> str:
    layer = ad.layers[int(name[1:])]
    if name.startswith("b") and layer.bias is not None:
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
        ad = _call("adapter()", source)
        if not isinstance(ad, Adapter):
            raise AdapterError(f"adapter() returned a {type(ad).__name__}, not a "
                               "handnet.adapter.Adapter")
        return ad

    return make, True


def _same_start(ad: Adapter, params0: list[tuple[Array, Array]]) -> None:
    ad.validate()
    again = ad.canonical_parameters()
    if len(again) != len(params0) or any(
            not (np.array_equal(w, w0) and np.array_equal(b, b0))
            for (w, b), (w0, b0) in zip(again, params0, strict=False)):
        raise AdapterError("adapter() built different weights on its second call: seed the "
                           "network's generator so every call builds the same network")


def _call(what: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Call user code; any exception becomes an ``AdapterError`` naming the call and line."""
    try:
        return fn(*args)
    except AdapterError:
        raise
    except Exception as exc:  # noqa: BLE001 - user code may raise anything
        frames = traceback.extract_tb(exc.__traceback__)
        where = ""
        if frames:
            last = frames[-1]
            where = f" (at {os.path.basename(last.filename)}:{last.lineno})"
        raise AdapterError(f"{what} raised {type(exc).__name__}: {exc}{where}") from exc


def _f64(a: Array) -> NDArray[np.float64]:
    return np.asarray(a, dtype=np.float64)


def _require_finite(value: Array, what: str, twin: bool = False) -> None:
    arr = np.asarray(value)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        hint = " for these inputs; try another --seed" if twin else ""
        raise AdapterError(f"{what} is not finite ({arr[bad]} at {list(bad)}){hint}")
