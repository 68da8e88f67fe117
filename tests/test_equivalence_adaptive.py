"""The adaptive optimisers (Adam, AdamW, RMSprop, Adagrad) against torch.optim's own, built from
the same declaration: parameters and state (moments, step counts; values and dtypes) after
every step, given the same gradients and on networks, float32 and float64, down to the
eps-dominated regime of tiny second moments; and mixed precision where torch defines it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, reject
from hypothesis import strategies as st
from support import examples

from handnet.optim.adam import lerp
from reference.comparison import strategies as S
from reference.comparison.adaptive_harness import AdaptiveLockstep, flatten
from reference.comparison.adaptive_scales import AdaptiveScales
from reference.comparison.compare import assert_matches_reference
from reference.comparison.stability import Unstable
from reference.comparison.tolerance import tolerance
from reference.twin.adaptive import make_adaptive, steps_on_gradients, twin_state
from reference.twin.network import TwinNet, handnet_parameters, to_torch_layout

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)


def _layer(rows: int, cols: int, dtype: np.dtype, seed: int) -> tuple[dict, TwinNet]:
    """One dense layer's parameters (handnet layout) and a twin holding the same values."""
    rng = np.random.default_rng(seed)
    params = {"W0": rng.standard_normal((rows, cols)).astype(dtype),
              "b0": rng.standard_normal((1, cols)).astype(dtype)}
    model = TwinNet([torch.nn.Linear(rows, cols, dtype=getattr(torch, dtype.name))],
                    ["identity"])
    named = model.named_handnet_parameters()
    with torch.no_grad():
        for k, v in params.items():
            named[k].copy_(to_torch_layout(k, v))
    return params, model


@pytest.mark.parametrize("kind", S.ADAPTIVE_KINDS)
@examples(25)
@given(data=st.data(), dtype=S.dtypes(), rows=st.integers(1, 6), cols=st.integers(1, 6),
       k=st.integers(1, 8), log_scale=st.sampled_from((-12.0, -8.0, -4.0, 0.0, 3.0)),
       seed=S.SEEDS)
def test_steps_equal_torch_given_the_same_gradients(
    kind: str, data: st.DataObject, dtype: str, rows: int, cols: int, k: int,
    log_scale: float, seed: int,
) -> None:
    """k steps from the same gradients on both sides (their magnitude ``10**log_scale``: at
    1e-12 and 1e-8 the second moments are far below eps**2 or near it, so eps dominates the
    denominator); parameters and every state buffer compared after each step, dtype strictly
    (``step`` a float32 scalar, moments in the parameter's dtype).  Error scales follow
    ``reference.comparison.adaptive_scales`` with exact gradients."""
    spec = data.draw(S.adaptive_specs(kinds=(kind,)), label="spec")
    params, _ = _layer(rows, cols, np.dtype(dtype), seed)
    rng = np.random.default_rng(seed + 1)
    grads = [{n: (rng.standard_normal(v.shape) * 10.0**log_scale).astype(dtype)
              for n, v in params.items()} for _ in range(k)]
    twin = steps_on_gradients(kind, params, grads, [spec.lr] * k, spec.weight_decay,
                              spec.bias_decay, **dict(spec.hyper))
    opt = spec.build()
    groups = make_adaptive(_layer(1, 1, F64, 0)[1], kind, spec.lr, spec.weight_decay,
                           spec.bias_decay, **dict(spec.hyper)).param_groups
    errors = AdaptiveScales(kind, groups[0])  # torch's own values and defaults
    decay = {"W0": groups[0]["weight_decay"], "b0": groups[1]["weight_decay"]}
    scales = {n: 0.0 for n in params}
    for step, (g_step, (expected, state)) in enumerate(zip(grads, twin, strict=True), 1):
        before = {n: v.astype(np.float64) for n, v in params.items()}
        opt.step(params, g_step)
        for n, g in g_step.items():
            wd = decay[n] if kind != "adamw" else 0.0
            u = errors.step(n, g.astype(np.float64) + wd * before[n], wd * np.abs(before[n]),
                            state[n], spec.lr)
            scales[n] += float(np.max(u))
        assert_matches_reference(params, expected, steps=step, scales=scales,
                                 what=f"{kind} parameters after step {step}")
        state_scales = {f"{n}.{key}": float(np.max(v)) for n, e in errors.errors.items()
                        for key, v in e.items()}
        assert_matches_reference(flatten(opt.state), flatten(state), steps=step,
                                 scales=state_scales, what=f"{kind} state after step {step}")


@pytest.mark.parametrize("kind", S.ADAPTIVE_KINDS)
@examples(12)
@given(case=S.training_cases(max_depth=3, max_width=16, max_batch=16), data=st.data(),
       k=st.integers(1, 10))
def test_trajectories_on_networks_equal_torch(
    kind: str, case: tuple[S.Problem, S.OptSpec], data: st.DataObject, k: int,
) -> None:
    """k training steps of a generated network (gradients by handnet's backward and by
    autograd): parameters and optimiser state equal after every step."""
    problem, _ = case
    spec = data.draw(S.adaptive_specs(kinds=(kind,), max_lr=0.01), label="spec")
    lock = AdaptiveLockstep(problem.net.build(), spec, problem.loss)
    for j in range(k):
        x, y, _ = problem.arrays(j)
        try:
            lock.step(x, y)
        except Unstable:
            reject()
        actual, expected = lock.parameters()
        assert_matches_reference(actual, expected, steps=lock.steps, scales=lock.scales,
                                 what=f"{kind} weights after step {lock.steps}")
        mine, theirs, scales = lock.state()
        assert_matches_reference(mine, theirs, steps=lock.steps, scales=scales,
                                 what=f"{kind} state after step {lock.steps}")


MIXED = [("rmsprop", ()), ("rmsprop", (("momentum", 0.5),)), ("adagrad", ()),
         ("adagrad", (("lr_decay", 0.1), ("initial_accumulator_value", 0.5)))]


@pytest.mark.parametrize(("kind", "hyper"), MIXED, ids=lambda v: str(v))
@pytest.mark.parametrize("mix", [(F32, F64), (F64, F32)], ids=["p32-g64", "p64-g32"])
@examples(6)
@given(rows=st.integers(1, 6), cols=st.integers(1, 6), k=st.integers(1, 4),
       wd=st.sampled_from((0.0, 0.1)), seed=S.SEEDS)
def test_mixed_precision_like_torch(
    kind: str, hyper: tuple, mix: tuple[np.dtype, np.dtype], rows: int, cols: int, k: int,
    wd: float, seed: int,
) -> None:
    """Gradients of another dtype than their parameters (torch: ``grad_dtype``): the state
    keeps the parameter's dtype, each in-place operation computes in the promoted dtype and
    rounds into the state's or parameter's; compared to float32's tolerance (the narrower)."""
    p_dtype, g_dtype = mix
    spec = S.AdaptiveSpec(kind, 0.01, wd, True, hyper)
    params, model = _layer(rows, cols, p_dtype, seed)
    opt, named = spec.build(), model.named_handnet_parameters()
    for t in named.values():
        t.grad_dtype = getattr(torch, g_dtype.name)
    twin = make_adaptive(model, kind, spec.lr, wd, True, **dict(hyper))
    rng = np.random.default_rng(seed)
    for step in range(1, k + 1):
        grads = {n: rng.standard_normal(v.shape).astype(g_dtype) for n, v in params.items()}
        opt.step(params, grads)
        for n, g in grads.items():
            named[n].grad = to_torch_layout(n, g)
        twin.step()
        assert_matches_reference(params, handnet_parameters(model), tol=tolerance(F32, step),
                                 what=f"parameters, step {step}")
        assert_matches_reference(flatten(opt.state), flatten(twin_state(twin, model)),
                                 tol=tolerance(F32, step), what=f"state, step {step}")


@pytest.mark.parametrize(("spec", "kind"), [
    (S.AdaptiveSpec("adam", 0.01), "Adam"), (S.AdaptiveSpec("adamw", 0.01), "AdamW"),
    (S.AdaptiveSpec("rmsprop", 0.01, hyper=(("centered", True),)), "RMSprop (centered)")],
    ids=["adam", "adamw", "rmsprop-centered"])
def test_mixed_dtypes_refused_where_torch_refuses(spec: S.AdaptiveSpec, kind: str) -> None:
    """torch's Adam, AdamW and centered RMSprop raise on a float64 gradient for a float32
    parameter (their lerp_); handnet raises too, naming the parameter, and changes nothing."""
    params, model = _layer(2, 3, F32, 0)
    named = model.named_handnet_parameters()
    for t in named.values():
        t.grad_dtype = torch.float64
    twin = make_adaptive(model, spec.kind, spec.lr, **dict(spec.hyper))
    grads = {n: np.ones(v.shape) for n, v in params.items()}
    for n, g in grads.items():
        named[n].grad = to_torch_layout(n, g)
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        twin.step()
    before = {n: v.copy() for n, v in params.items()}
    opt = spec.build()
    with pytest.raises(ValueError) as info:
        opt.step(params, grads)
    assert str(info.value) == (
        f"{kind}: the gradient for W0 is float64 but the parameter is float32; torch's {kind} "
        "refuses mixed dtypes too (cast the gradient or the parameter)")
    assert all(np.array_equal(before[n], params[n]) for n in params) and not opt.state


def test_lerp_takes_torchs_formula_from_a_half_on() -> None:
    """torch's lerp is ``start + w * (end - start)`` for ``|w| < 0.5`` and ``end - (end - start) *
    (1 - w)`` otherwise; the two round differently on most elements.  At ``w = 0.5`` torch's own
    result is the second formula's bit for bit (its fused multiply-add makes no difference
    there); at ``w = 0.9`` handnet must take the second formula too."""
    rng = np.random.default_rng(0)
    s, e = rng.standard_normal((2, 1000))
    half = torch.tensor(s).lerp(torch.tensor(e), 0.5).numpy()
    assert np.array_equal(lerp(s, e, 0.5), half)
    assert not np.array_equal(s + 0.5 * (e - s), half)  # the other formula would be told apart
    assert np.array_equal(lerp(s, e, 0.9), e - (e - s) * (1 - 0.9))
    assert np.array_equal(lerp(s, e, 0.1), s + 0.1 * (e - s))


def test_lerp_branches_match_torch() -> None:
    """beta1 < 0.5 takes lerp's other formula (``end - (end - start) * (1 - w)``)."""
    spec = replace(S.AdaptiveSpec("adam", 0.01), hyper=(("betas", (0.2, 0.3)),))
    params, model = _layer(3, 4, F64, 3)
    opt, twin = spec.build(), make_adaptive(model, "adam", 0.01, betas=(0.2, 0.3))
    named = model.named_handnet_parameters()
    rng = np.random.default_rng(0)
    for step in range(1, 4):
        grads = {n: rng.standard_normal(v.shape) for n, v in params.items()}
        opt.step(params, grads)
        for n, g in grads.items():
            named[n].grad = to_torch_layout(n, g)
        twin.step()
        assert_matches_reference(flatten(opt.state), flatten(twin_state(twin, model)),
                                 tol=tolerance(F64, step), what=f"state, step {step}")
