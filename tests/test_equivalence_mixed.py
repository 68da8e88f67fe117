"""Mixed precision: handnet does what torch does where torch defines it.

* The optimiser with gradients of another dtype than their parameters (torch: a parameter's
  ``grad_dtype``): float32 parameters with float64 gradients, float64 with float32, and float32
  buffers carried into float64 gradients.  torch's rule: a new momentum buffer has the dtype of
  the gradient (after weight decay, which promotes), an existing one keeps its dtype, a parameter
  keeps its dtype and each update is computed in the promoted dtype and rounded into it once.
* Backward with a float64 upstream gradient on a float32 network: autograd casts the gradient to
  the output's dtype first, so the backward pass runs in float32.
* A float32 network fed float64 inputs: NumPy promotes the forward pass to float64 (torch
  refuses mixed inputs); it must then equal a float64 twin with the same (widened) weights.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from support import examples

from handnet.optim import STYLES
from reference.comparison import strategies as S
from reference.comparison.compare import assert_matches_reference
from reference.comparison.harness import handnet_vjp, twin_vjp
from reference.comparison.scales import forward_scale, vjp_scales
from reference.comparison.tolerance import tolerance
from reference.twin.network import handnet_gradients, to_torch
from reference.twin.optim import ClassicSGD

Array = np.ndarray
F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
TORCH = {F32: torch.float32, F64: torch.float64}
# (parameter dtype, gradient dtype, preloaded buffer dtype or None)
MIXES = [(F32, F64, None), (F64, F32, None), (F32, F32, None), (F32, F64, F32)]


def _torch_optimizer(tensors: dict[str, torch.Tensor], spec: S.OptSpec) -> torch.optim.Optimizer:
    """torch's own SGD (or the twin's ClassicSGD), grouped as ``reference.twin.optim`` groups them:
    biases without momentum unless ``bias_momentum``."""
    bias_m = spec.momentum if spec.bias_momentum else 0.0
    groups = [{"params": [t for n, t in tensors.items() if not n.startswith("b")],
               "momentum": spec.momentum, "nesterov": spec.nesterov},
              {"params": [t for n, t in tensors.items() if n.startswith("b")],
               "momentum": bias_m, "nesterov": spec.nesterov and bias_m > 0}]
    if spec.style == "torch":
        return torch.optim.SGD(groups, lr=spec.lr, momentum=spec.momentum,
                               nesterov=spec.nesterov, weight_decay=spec.weight_decay)
    return ClassicSGD(groups, lr=spec.lr, momentum=spec.momentum, nesterov=spec.nesterov,
                      weight_decay=spec.weight_decay)


@pytest.mark.parametrize("decay", [False, True], ids=["no-decay", "decay"])
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("mix", MIXES, ids=["p32-g64", "p64-g32", "p32-g32", "p32-g64-u32"])
@examples(4)
@given(spec=S.optimizer_specs(momentum=True), rows=st.integers(1, 6), cols=st.integers(1, 6),
       k=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_gradients_of_another_dtype_update_like_torch_sgd(
    mix: tuple[np.dtype, np.dtype, np.dtype | None], style: str, decay: bool, spec: S.OptSpec,
    rows: int, cols: int, k: int, seed: int,
) -> None:
    """k steps from the same gradients on both sides: parameters keep their dtype, buffers take
    the gradient's (or keep a preloaded one's), compared with the dtype strictly.  float32
    parameters updated from float64 gradients and fresh buffers are computed in float64 and
    rounded once on both sides, so they must be equal to the bit (two float64 results a few ulps
    apart round to different float32 values with probability about 2**-28 per element).  The
    biases (plain SGD unless ``bias_momentum``) cover the update without momentum.

    The tolerance is that of the dtype the update is computed in: float32 for float32
    parameters, and where a float32 gradient or buffer meets a scalar in a fused torch
    operation (``u.add_(g, alpha=lr)`` of classic momentum, ``g.add(u, alpha=m)`` of Nesterov:
    torch rounds once, NumPy twice); float64 otherwise (torch's momentum and plain SGD on float64
    parameters), so a product rounded to float32 before it moves a float64 parameter is caught."""
    p_dtype, g_dtype, u_dtype = mix
    spec = replace(spec, style=style, weight_decay=spec.weight_decay if decay else 0.0)
    fused32 = F32 in (g_dtype, u_dtype) and (style == "classic" or spec.nesterov)
    narrow = p_dtype == F32 or fused32
    narrowest = F32 if narrow else F64
    rng = np.random.default_rng(seed)
    params = {"W0": rng.standard_normal((rows, cols)).astype(p_dtype),
              "b0": rng.standard_normal((1, cols)).astype(p_dtype)}
    opt = spec.build()
    tensors = {n: torch.nn.Parameter(torch.tensor(v)) for n, v in params.items()}
    for t in tensors.values():
        t.grad_dtype = TORCH[g_dtype]  # torch's switch for gradients of another dtype
    twin = _torch_optimizer(tensors, spec)
    if u_dtype is not None:  # buffers carried over (a checkpoint loaded into float32 params)
        for name in params:
            if opt.uses_momentum(name):
                u = rng.standard_normal(params[name].shape).astype(u_dtype)
                opt.buffers[name] = u.copy()
                twin.state[tensors[name]]["momentum_buffer"] = torch.tensor(u)
    exact = p_dtype == F32 and g_dtype == F64 and u_dtype is None
    for step in range(1, k + 1):
        grads = {n: rng.standard_normal(v.shape).astype(g_dtype) for n, v in params.items()}
        opt.step(params, grads)
        for name, t in tensors.items():
            t.grad = torch.tensor(grads[name])
        twin.step()
        expected = {n: t.detach().numpy() for n, t in tensors.items()}
        assert_matches_reference(params, expected, tol=tolerance(narrowest, step),
                                 what=f"parameters, step {step}")
        if exact:
            for name, p in params.items():
                assert p.tobytes() == expected[name].tobytes(), (
                    f"{name} after step {step}: float32 update from float64 not rounded once "
                    f"as torch rounds it (max diff {np.max(np.abs(p - expected[name])):.3g})")
        state = {n: twin.state.get(t, {}).get("momentum_buffer") for n, t in tensors.items()}
        twin_buffers = {n: u.numpy() for n, u in state.items() if u is not None}
        assert_matches_reference(opt.buffers, twin_buffers, steps=step,
                                 what=f"momentum buffers, step {step}")


@examples(100)
@given(S.problems(nets=S.network_specs(dtype="float32")))
def test_float64_upstream_on_a_float32_network_is_rounded_to_float32_first(
    problem: S.Problem,
) -> None:
    """torch casts ``y_hat.backward(g)``'s ``g`` to ``y_hat``'s dtype: float32 gradients equal to
    the twin's, and to the bit those of the upstream rounded to float32 (on both sides)."""
    net = problem.net.build()
    model = to_torch(net)
    x, _, _ = problem.arrays()
    g64 = np.random.default_rng(problem.seed).standard_normal((problem.batch, net.sizes[-1]))
    g32 = g64.astype(np.float32)

    def twin(g: Array) -> dict[str, Array]:  # twin_vjp, but g passed as it is
        model.zero_grad(set_to_none=True)
        xt = torch.tensor(x, requires_grad=True)
        model(xt).backward(torch.tensor(g))
        assert xt.grad is not None
        return {**handnet_gradients(model), "x": xt.grad.numpy()}

    actual, expected = handnet_vjp(net, x, g64), twin(g64)
    assert_matches_reference(actual, expected, scales=vjp_scales(model, x, g32),
                             what="gradients for a float64 upstream")
    rounded, twin_rounded = handnet_vjp(net, x, g32), twin(g32)
    for name in expected:
        assert expected[name].tobytes() == twin_rounded[name].tobytes()  # torch's rule
        assert actual[name].tobytes() == rounded[name].tobytes(), (
            f"{name}: a float64 upstream is not the float32-rounded one, as it is in torch")


@examples(100)
@given(S.problems(nets=S.network_specs(dtype="float32"), max_scale=10.0))
def test_a_float32_network_fed_float64_inputs_computes_in_float64(problem: S.Problem) -> None:
    """Forward and backward promote to float64 (the training path of a float32 network on the
    float64 data sets): equal, in float64 and to float64's tolerance, to a float64 twin with the
    network's float32 weights widened.  (Inputs up to 10: deep saturation is the float64
    suite's subject; here it only adds cases that do not involve a float32 network at all.)"""
    net = problem.net.build()
    model = to_torch(net, dtype=np.float64)
    x32, _, _ = problem.arrays()
    rng = np.random.default_rng(problem.seed)
    x = x32.astype(np.float64) * (1 + 1e-3 * rng.standard_normal(x32.shape))  # not float32s
    g = rng.standard_normal((problem.batch, net.sizes[-1]))
    with torch.no_grad():
        y_hat = model(torch.tensor(x)).numpy()
    actual = handnet_vjp(net, x, g)
    assert_matches_reference({"y_hat": net.forward(x)}, {"y_hat": y_hat},
                             scales={"y_hat": forward_scale(model, x)}, what="float64 forward")
    assert_matches_reference(actual, twin_vjp(model, x, g), scales=vjp_scales(model, x, g),
                             what="gradients of a float32 network on float64 inputs")
    for name, p in net.parameters.items():
        assert p.dtype == F32, f"{name} changed dtype"
