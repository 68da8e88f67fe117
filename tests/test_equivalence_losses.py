"""The losses of issue 12 against torch.nn.functional: the fused and the separate softmax
cross-entropy gradients (with each other and with torch), index targets, saturation (logits of
1000 under the softmax, +-100 under BCE-with-logits, BCE at its clamp), and k-step training on
the class losses.  Forward, gradients, one step, k steps, float32 and the finite-difference
oracle for every loss are the general properties (``problems`` draws every loss)."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from support import examples, run_and_compare

from handnet.losses import get_loss
from handnet.network import Network
from reference.comparison import strategies as S
from reference.comparison.compare import assert_matches_reference
from reference.comparison.harness import Lockstep, handnet_loss_gradients, twin_loss_gradients
from reference.comparison.scales import loss_value_scale, update_scales
from reference.twin.losses import get_torch_loss
from reference.twin.network import to_torch

# Bounded hidden activations and inputs up to 1 keep the logits moderate: the separate path's
# log needs every probability above 0 (examples where one underflows are rejected).
CLASS_PROBLEMS = S.problems(nets=S.network_specs(max_depth=3, max_width=16,
                                                 activations=S.BOUNDED),
                            losses=("softmax-ce", "softmax-ce-sum"), max_batch=32, max_scale=1.0)


def _separate(net: Network) -> Network:
    """The same layers with a softmax output layer: the separate path."""
    return Network(net.copy().layers, [*net.activation_names[:-1], "softmax"])


def _add(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: a[k] + b[k] for k in a}


@examples(60)
@given(CLASS_PROBLEMS)
def test_fused_and_separate_softmax_gradients_agree_with_each_other_and_torch(
    problem: S.Problem,
) -> None:
    """identity output + softmax-ce (``(s - y) / N``) and softmax output + ce (the softmax's
    VJP of ``-y / (N s)``), on handnet and on the twin (``F.cross_entropy``; autograd through
    ``F.softmax`` and ``log``): all four agree."""
    ce = "ce" if problem.loss == "softmax-ce" else "ce-sum"
    fused = problem.net.build()
    separate = _separate(fused)
    x, y, _ = problem.arrays()
    with torch.no_grad():
        p = to_torch(separate)(torch.tensor(x)).numpy()
    assume(np.min(p) > 0)  # the separate path's log(p)
    twin_fused = twin_loss_gradients(to_torch(fused), x, y, problem.loss)
    twin_sep = twin_loss_gradients(to_torch(separate), x, y, ce)
    fused_scales = {**update_scales(to_torch(fused), x, y, problem.loss), "x": np.zeros(1)}
    sep_scales = {**update_scales(to_torch(separate), x, y, ce), "x": np.zeros(1)}
    ours_fused = handnet_loss_gradients(fused, x, y, problem.loss)
    ours_sep = handnet_loss_gradients(separate, x, y, ce)
    del ours_fused["x"], ours_sep["x"], twin_fused["x"], twin_sep["x"]
    del fused_scales["x"], sep_scales["x"]
    assert_matches_reference(ours_fused, twin_fused, scales=fused_scales, what="fused vs torch")
    assert_matches_reference(ours_sep, twin_sep, scales=sep_scales, what="separate vs torch")
    both = _add(fused_scales, sep_scales)
    assert_matches_reference(ours_sep, twin_fused, scales=both,
                             what="handnet's separate vs torch's fused")
    assert_matches_reference(ours_sep, ours_fused, scales=both,
                             what="handnet's separate vs its fused")


@examples(40)
@given(CLASS_PROBLEMS, st.sampled_from(("softmax-ce", "softmax-ce-sum", "ce", "ce-sum")))
def test_index_targets_equal_one_hot_targets(problem: S.Problem, loss: str) -> None:
    """Class indices (``torch.long`` for the twin) give what one-hot rows give, on both sides."""
    problem = replace(problem, loss=loss, soft_labels=False, net=S.output_for(problem.net, loss))
    net = problem.net.build()
    x, y, _ = problem.arrays()
    index = np.argmax(y, axis=1)
    y_hat = net.forward(x)
    ours = get_loss(loss)
    pt = torch.tensor(y_hat, requires_grad=True)
    value = get_torch_loss(loss)(pt, torch.tensor(index))
    value.backward()
    assert pt.grad is not None
    assert_matches_reference(
        {"loss": np.asarray(ours.value(y_hat, index)), "dL/dy_hat": ours.gradient(y_hat, index)},
        {"loss": np.asarray(value.item()), "dL/dy_hat": pt.grad.numpy()},
        what=f"{loss} with index targets")
    np.testing.assert_array_equal(ours.gradient(y_hat, index), ours.gradient(y_hat, y))


SATURATED = {"softmax-ce": 1e3, "softmax-ce-sum": 1e3, "bce-logits": 1e2, "bce-logits-sum": 1e2,
             "bce": 40.0, "bce-sum": 40.0}


@examples(60)
@given(st.sampled_from(tuple(SATURATED)), st.sampled_from(S.DTYPES), st.integers(1, 16),
       st.integers(2, 5), S.SEEDS, st.booleans())
def test_saturated_losses_are_finite_silent_and_equal(
    loss: str, dtype: str, batch: int, k: int, seed: int, hard: bool
) -> None:
    """Logits of +-1000 under the softmax (exp overflows without the max shift), +-100 under
    BCE-with-logits (sigmoid rounds to 0 or 1), and BCE at probabilities sigmoid(+-40) where
    torch's clamp on ``p (1 - p)`` is active: values and gradients finite, without a warning,
    and equal to torch's at the same ``y_hat``."""
    rng = np.random.default_rng(seed)
    spec = get_loss(loss)
    width = k if spec.classes else 1
    z = SATURATED[loss] * rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0], size=(batch, width))
    if spec.classes:
        y = np.eye(k)[rng.integers(0, k, size=batch)] if hard else rng.dirichlet(
            np.ones(k), size=batch)
    else:
        y = rng.integers(0, 2, size=(batch, 1)).astype(float) if hard else rng.uniform(
            size=(batch, 1))
    zt = torch.tensor(z, dtype=getattr(torch, dtype))
    y_hat = (torch.sigmoid(zt) if spec.takes == "probabilities" else zt).numpy()
    y = y.astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = spec.value(y_hat, y), spec.gradient(y_hat, y)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert grad.dtype == y_hat.dtype
    pt = torch.tensor(y_hat, requires_grad=True)
    expected = get_torch_loss(loss)(pt, torch.tensor(y))
    expected.backward()
    assert pt.grad is not None
    assert_matches_reference({"loss": np.asarray(value), "dL/dy_hat": grad},
                             {"loss": np.asarray(expected.item()), "dL/dy_hat": pt.grad.numpy()},
                             scales={"loss": loss_value_scale(loss, y_hat, y)},
                             what=f"{loss} at saturation")


@examples(20)
@given(case=S.training_cases(max_depth=3, max_width=16, max_batch=16,
                             losses=("softmax-ce", "softmax-ce-sum", "ce", "ce-sum",
                                     "bce-logits", "half-mse", "sse")),
       k=st.integers(2, 10))
def test_k_steps_on_the_new_losses(case: tuple[S.Problem, S.OptSpec], k: int) -> None:
    """k optimiser steps on K outputs (class losses) and the new element-wise ones: weights
    and momentum buffers equal the twin's after every step."""
    problem, opt = case
    lock = Lockstep(problem.net.build(), opt.build(), problem.loss)
    run_and_compare(lock, problem, k, f"{problem.loss} trajectory")
