"""The lr schedule: handnet's StepDecay against torch's StepLR, and what a decay does to the
two momentum conventions."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import assume, given, reject
from hypothesis import strategies as st
from support import examples, run_and_compare

from handnet.optim import SGD
from reference.comparison import strategies as S
from reference.comparison.compare import assert_matches_reference
from reference.comparison.harness import Lockstep
from reference.comparison.stability import Unstable
from reference.comparison.tolerance import tolerance
from reference.twin.optim import make_optimizer
from reference.twin.schedule import make_scheduler


@examples(200)
@given(spec=S.schedule_specs(), lr0=st.floats(1e-4, 1.0), epochs=st.integers(1, 40))
def test_lr_sequence_equals_steplr_at_every_epoch(
    spec: S.ScheduleSpec, lr0: float, epochs: int
) -> None:
    """lr during epoch e: handnet's ``lr_at(e)`` and StepLR's lr after e scheduler steps (one
    per finished epoch).  Both multiply by ``1 - lr_gamma`` once per boundary, so they agree to
    rounding of ``e // lr_epoch`` multiplications; a schedule one epoch early or late is off by
    a whole factor ``1 - lr_gamma`` at the boundary."""
    schedule = spec.build(lr0)
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([param], lr=lr0)
    sched = make_scheduler(opt, spec.lr_epoch, spec.lr_gamma)
    handnet_lrs, torch_lrs = [], []
    for epoch in range(epochs):
        handnet_lrs.append(schedule.lr_at(epoch))
        torch_lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    expected = np.array(torch_lrs)
    assert_matches_reference({"lr": np.array(handnet_lrs)}, {"lr": expected},
                             steps=epochs // spec.lr_epoch, what="lr per epoch")
    factor = 1.0 - spec.lr_gamma
    for e in range(epochs):  # the documented closed form, pinned to its boundaries
        assert np.isclose(handnet_lrs[e], lr0 * factor ** (e // spec.lr_epoch), rtol=1e-12)


@examples(60)
@given(case=S.training_cases(momentum=True, max_batch=16), spec=S.schedule_specs(),
       batches=st.integers(1, 3), data=st.data())
def test_trajectories_equal_across_decay_boundaries(
    case: tuple[S.Problem, S.OptSpec], spec: S.ScheduleSpec, batches: int, data: st.DataObject
) -> None:
    """handnet with its StepDecay against the twin with StepLR stepped after each epoch, for
    enough epochs to cross at least one boundary: lr and weights equal every epoch."""
    problem, opt = case
    epochs = data.draw(st.integers(spec.lr_epoch + 1, 2 * spec.lr_epoch + 1), label="epochs")
    lock = Lockstep(problem.net.build(), opt.build(), problem.loss, spec.build(opt.lr))
    for epoch in range(epochs):
        lock.start_epoch()
        handnet_lr, twin_lr = lock.lrs()
        assert_matches_reference({"lr": np.array(handnet_lr)}, {"lr": np.array(twin_lr)},
                                 steps=epoch, what=f"lr in epoch {epoch}")
        for b in range(batches):
            x, y, _ = problem.arrays(epoch * batches + b)
            try:
                lock.step(x, y)
            except Unstable:
                reject()
        lock.end_epoch()
        actual, expected = lock.parameters()
        assert_matches_reference(actual, expected, steps=lock.steps, scales=lock.scales,
                                 what=f"weights after epoch {epoch}")
        actual, expected = lock.buffers()
        assert_matches_reference(actual, expected, steps=lock.steps, scales=lock.buffer_scales,
                                 what=f"momentum buffers after epoch {epoch}")


@examples(60)
@given(case=S.training_cases(momentum=True, max_batch=16), k=st.integers(2, 20))
def test_classic_and_torch_momentum_identical_while_lr_is_constant(
    case: tuple[S.Problem, S.OptSpec], k: int
) -> None:
    """With a constant lr the classic buffer is exactly ``lr`` times torch's (``u = lr * v`` by
    induction), so the two conventions take the same steps: handnet's classic optimiser against
    the twin's ``torch.optim.SGD``, and handnet's torch style against the twin's ClassicSGD."""
    problem, opt = case
    other = {"classic": "torch", "torch": "classic"}[opt.style]
    lock = Lockstep(problem.net.build(), opt.build(), problem.loss, twin_style=other)
    run_and_compare(lock, problem, k, f"{opt.style} vs {other}")


def predicted_gap(grads: list[np.ndarray], s: int, lr1: float, lr2: float, m: float,
                  nesterov: bool) -> np.ndarray:
    """``p_classic - p_torch`` after ``s`` steps at ``lr1`` then ``len(grads) - s`` at ``lr2``,
    both fed the same gradients ``g_t``.

    torch: ``v_t = m v_{t-1} + g_t``, step ``lr_t v_t``; classic: ``u_t = m u_{t-1} + lr_t g_t``,
    step ``u_t``.  While ``lr = lr1``, ``u_t = lr1 v_t`` and ``d_t = u_t - lr_t v_t = 0``.  At the
    first step with ``lr2``, ``d = m (u_s - lr2 v_s) = m (lr1 - lr2) v_s``, and after that
    ``d_{t+1} = m d_t``.  So with ``J`` steps at ``lr2``::

        p_classic - p_torch = -sum_t d_t = -(lr1 - lr2) v_s m (1 - m**J) / (1 - m)

    Nesterov steps differ by ``m d_t`` instead of ``d_t`` (``lr g + m u`` against
    ``lr (g + m v)``): one more factor ``m``.
    """
    v = np.zeros_like(grads[0])
    for g in grads[:s]:
        v = m * v + g
    big_j = len(grads) - s
    gap = -(lr1 - lr2) * v * m * (1.0 - m**big_j) / (1.0 - m)
    return m * gap if nesterov else gap


@examples(200)
@given(
    shape=st.tuples(st.integers(1, 8), st.integers(1, 8)),
    s=st.integers(1, 10), big_j=st.integers(1, 10),
    lr1=st.floats(1e-3, 0.5), lr_gamma=st.floats(0.05, 0.95),
    m=st.floats(0.3, 0.99), nesterov=st.booleans(), bias_momentum=st.booleans(),
    dtype=S.dtypes(), seed=S.SEEDS,
)
def test_conventions_differ_after_a_decay_by_exactly_the_derived_amount(
    shape: tuple[int, int], s: int, big_j: int, lr1: float, lr_gamma: float, m: float,
    nesterov: bool, bias_momentum: bool, dtype: str, seed: int,
) -> None:
    """After the lr drops from ``lr1`` to ``lr2 = lr1 * (1 - lr_gamma)`` the classic and torch
    conventions part ways by exactly :func:`predicted_gap` (biases out of momentum: not at all),
    in handnet and in the twin alike.  The same gradients are fed to all four optimisers."""
    rng = np.random.default_rng(seed)
    lr2 = lr1 * (1.0 - lr_gamma)
    p0 = {"W0": rng.standard_normal(shape).astype(dtype),
          "b0": rng.standard_normal((1, shape[1])).astype(dtype)}
    grads = [{k: rng.standard_normal(v.shape).astype(dtype) for k, v in p0.items()}
             for _ in range(s + big_j)]

    def run_handnet(style: str) -> dict[str, np.ndarray]:
        params = {k: v.copy() for k, v in p0.items()}
        opt = SGD(lr1, m, style, bias_momentum=bias_momentum, nesterov=nesterov)
        for t, g in enumerate(grads):
            opt.lr = lr1 if t < s else lr2
            opt.step(params, g)
        return params

    def run_twin(style: str) -> dict[str, np.ndarray]:
        from reference.twin.network import TwinNet, handnet_parameters, to_torch_layout
        linear = torch.nn.Linear(*shape, dtype=getattr(torch, dtype))
        model = TwinNet([linear], ["identity"])
        named = model.named_handnet_parameters()
        with torch.no_grad():
            for k, v in p0.items():
                named[k].copy_(to_torch_layout(k, v))
        opt = make_optimizer(model, lr1, m, style, bias_momentum, nesterov)
        for t, g in enumerate(grads):
            for group in opt.param_groups:
                group["lr"] = lr1 if t < s else lr2
            for k, v in g.items():
                named[k].grad = to_torch_layout(k, v)
            opt.step()
        return handnet_parameters(model)

    for side, run in (("handnet", run_handnet), ("twin", run_twin)):
        classic, torch_style = run("classic"), run("torch")
        gap = {k: classic[k].astype(np.float64) - torch_style[k] for k in p0}
        predicted = {
            "W0": predicted_gap([g["W0"].astype(np.float64) for g in grads], s, lr1, lr2, m,
                                nesterov),
            "b0": (predicted_gap([g["b0"].astype(np.float64) for g in grads], s, lr1, lr2, m,
                                 nesterov) if bias_momentum else np.zeros(p0["b0"].shape)),
        }
        # The gap is a difference of two weight arrays: its rounding error is relative to the
        # weights (and to the steps taken), so they are its error scale.
        scales = {k: np.abs(classic[k]).astype(np.float64) + np.abs(torch_style[k]) for k in p0}
        tol = tolerance(dtype, steps=s + big_j)
        # Only examples where the predicted gap is far outside the tolerance can tell "differ
        # by exactly this" from "do not differ" (float32 with a small momentum may not).
        assume(np.max(np.abs(predicted["W0"])) > 100 * tol.rtol * np.max(scales["W0"]))
        assert_matches_reference(gap, predicted, tol=tol, scales=scales,
                                 what=f"{side}: classic minus torch after the decay")


@st.composite
def torch_schedules(draw: st.DrawFn) -> tuple[str, dict]:
    """A schedule name and its declared fields (some left to the defaults)."""
    kind = draw(st.sampled_from(("multistep", "exponential", "cosine", "linear")))
    if kind == "multistep":
        fields: dict = {"milestones": tuple(draw(st.lists(st.integers(1, 30), min_size=1,
                                                          max_size=4)))}
        if draw(st.booleans()):
            fields["gamma"] = draw(st.floats(0.05, 0.95))
    elif kind == "exponential":
        fields = {"gamma": draw(st.floats(0.5, 1.0))}
    elif kind == "cosine":
        fields = {"t_max": draw(st.integers(1, 12))}
        if draw(st.booleans()):
            fields["eta_min"] = draw(st.sampled_from((0.0, 1e-5)) | st.floats(0.0, 1e-2))
    else:
        fields = {k: draw(v) for k, v in (("start_factor", st.floats(0.01, 1.0)),
                                          ("end_factor", st.floats(0.0, 1.0)),
                                          ("total_iters", st.integers(1, 10)))
                  if draw(st.booleans())}
    return kind, fields


@examples(60)
@given(schedule=torch_schedules(), lr0=st.floats(1e-4, 1.0), steps=st.integers(1, 60))
def test_torch_schedules_lr_equal_to_the_bit(schedule: tuple[str, dict], lr0: float,
                                             steps: int) -> None:
    """MultiStepLR, ExponentialLR, CosineAnnealingLR (past T_max too, where it rises again)
    and LinearLR built by the twin from the declared Config; handnet's ``lr_at(t)`` equals
    the lr torch's scheduler sets after t steps *to the bit* (both run torch's recursion in
    Python floats), and the documented closed form to rounding."""
    from handnet.choices import build_schedule
    from handnet.config import Config
    from reference.twin.schedule import scheduler_from_config

    kind, fields = schedule
    config = Config(optimizer="adam", lr=lr0, schedule=kind, **fields)
    handnet = build_schedule(config)
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([param], lr=lr0)
    sched = scheduler_from_config(opt, config)
    for t in range(steps):
        lr = opt.param_groups[0]["lr"]
        assert handnet.lr_at(t) == lr, (
            f"{kind} {fields}: lr after {t} steps {handnet.lr_at(t)!r}, torch {lr!r}")
        closed = closed_form(kind, fields, lr0, t)
        assert np.isclose(lr, closed, rtol=1e-12, atol=1e-15 * lr0), (kind, t, lr, closed)
        opt.step()
        sched.step()


def closed_form(kind: str, fields: dict, lr0: float, t: int) -> float:
    """torch's documented closed forms (its recursion agrees to rounding)."""
    if kind == "multistep":
        return lr0 * fields.get("gamma", 0.1) ** sum(m <= t for m in fields["milestones"])
    if kind == "exponential":
        return lr0 * fields["gamma"] ** t
    if kind == "cosine":
        eta = fields.get("eta_min", 0.0)
        return eta + (lr0 - eta) * (1 + np.cos(np.pi * t / fields["t_max"])) / 2
    start, end = fields.get("start_factor", 1 / 3), fields.get("end_factor", 1.0)
    n = fields.get("total_iters", 5)
    return lr0 * (start + (end - start) * min(t, n) / n)
