"""The compiled path against the plain path over the whole option grid, deterministically.

Every combination, enumerated (not drawn): optimiser (plain SGD; classic or torch momentum, each
with and without Nesterov) x weight decay (off, on) x bias momentum (off, on) x activation (each
of the four in every layer; under bce the output is sigmoid) x loss (half-sse, mse, bce), trained
per sample (the compiled epoch kernel, ``handnet._fast_kernel.epoch``) and in shuffled batches of
4 with a short last batch (the compiled batched step, ``handnet._fast_batch.step``), 3 epochs with
the lr halved after each, so that classic and torch momentum part ways.  Then targeted cases:
outputs within 1e-13 of 0 and of 1, where bce's denominator clamp is active, and inputs of
magnitude 1e3 that overflow sigmoid's exp and saturate tanh.

Batched, the compiled step makes the plain path's NumPy calls and its compiled loops round as the
plain path's expressions do: parameters, momentum buffers and the loss history must be equal
(``np.array_equal``: bit for bit up to the sign of a zero).  Per sample the kernel sums dot
products in its own order and has its own ``exp`` (see ``handnet._fast_kernel``), so it cannot
be bit-equal; there the bound is tests/test_fast.py's, 1e-12 of the largest magnitude, which
the runs here meet by two orders of magnitude (worst measured 6.3e-15 over the grid, 2.6e-15
with huge inputs, 3.8e-16 at the clamp, under every optimiser setting).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

pytest.importorskip("numba", reason="numba is not installed: the fast path is optional")

from handnet import Config, build, fast  # noqa: E402
from handnet.data import Dataset  # noqa: E402
from handnet.train import Run, train  # noqa: E402

if not fast.available():  # pragma: no cover - numba imports but the path is switched off
    pytest.skip(f"fast path unavailable: {fast.why_unavailable()}", allow_module_level=True)

RTOL = 1e-12  # per-sample bound, as tests/test_fast.py
ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")
LOSSES = ("half-sse", "mse", "bce")
BATCHES = {"per-sample": 1, "batched": 4}


@dataclass(frozen=True)
class Options:
    optimizer: str
    momentum_style: str = "classic"
    nesterov: bool = False
    bias_momentum: bool = False
    weight_decay: float = 0.0

    def __str__(self) -> str:
        if self.optimizer == "sgd":
            opt = "sgd"
        else:
            opt = self.momentum_style + (" nesterov" if self.nesterov else "")
            opt += " bias-momentum" if self.bias_momentum else ""
        return opt + (f" wd={self.weight_decay}" if self.weight_decay else "")


OPTIONS = [
    Options("sgd", weight_decay=wd) for wd in (0.0, 0.1)
] + [
    Options("momentum", style, nesterov, bias_momentum, wd)
    for style, nesterov, bias_momentum, wd in itertools.product(
        ("classic", "torch"), (False, True), (False, True), (0.0, 0.1)
    )
]


def _acts(activation: str, loss: str, layers: int) -> tuple[str, ...]:
    return (activation,) * (layers - 1) + ("sigmoid" if loss == "bce" else activation,)


def _pair(config: Config, setup: Callable[[Run], None] | None = None) -> tuple[Run, Run]:
    """The same run twice, trained by the plain path and by the compiled one."""
    plain, compiled = build(config), build(config)
    for run in (plain, compiled):
        if setup is not None:
            setup(run)
    assert fast.supports(compiled)
    with np.errstate(over="ignore", invalid="ignore"):
        train(plain)
        fast.train(compiled)
    return plain, compiled


def _groups(run: Run) -> dict[str, dict[str, np.ndarray]]:
    return {"parameters": run.network.parameters, "buffers": run.optimizer.buffers,
            "loss history": {"loss": np.array(run.history.loss)}}


def _difference(plain: Run, compiled: Run, exact: bool) -> str:
    """'' when the two runs agree (exactly, or per sample within RTOL), else what differs."""
    if plain.history.lr != compiled.history.lr:
        return f"lr {compiled.history.lr} != {plain.history.lr}"
    found = []
    for group, expected in _groups(plain).items():
        actual = _groups(compiled)[group]
        if actual.keys() != expected.keys():
            return f"{group} {sorted(actual)} != {sorted(expected)}"
        scale = max((float(np.max(np.abs(v))) for v in expected.values()), default=0.0) or 1.0
        wrong = []
        for name in expected:
            if exact:
                if not np.array_equal(actual[name], expected[name], equal_nan=True):
                    wrong.append(name)
                continue
            err = float(np.max(np.abs(actual[name] - expected[name]), initial=0.0)) / scale
            if not err <= RTOL:  # NaN fails too
                wrong.append(f"{name} ({err:.1e})")
        if wrong:
            found.append(f"{group} {' '.join(wrong)}")
    return "; ".join(found)


def _report(failures: list[str], total: int, what: str) -> str:
    shown = failures[:6] + ([f"... and {len(failures) - 6} more"] if len(failures) > 6 else [])
    return f"{len(failures)}/{total} {what} differ from the plain path:\n  " + "\n  ".join(shown)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("path", sorted(BATCHES))
def test_every_option_combination(path: str, loss: str) -> None:
    """All 18 optimiser settings x 4 activations for one loss, on a 2-3-2-1 network."""
    failures = []
    for options, activation in itertools.product(OPTIONS, ACTIVATIONS):
        config = Config(
            n_train=6, n_test=2, epochs=3, hidden=(3, 2), lr=0.01, lr_epoch=1, lr_gamma=0.5,
            activation=_acts(activation, loss, 3), loss=loss, batch_size=BATCHES[path],
            shuffle=True, optimizer=options.optimizer, momentum_style=options.momentum_style,
            nesterov=options.nesterov, bias_momentum=options.bias_momentum,
            weight_decay=options.weight_decay,
        )
        plain, compiled = _pair(config)
        assert np.all(np.isfinite(plain.history.loss)), f"{options} {activation} diverged"
        diff = _difference(plain, compiled, exact=path == "batched")
        if diff:
            failures.append(f"{options}, {activation}: {diff}")
    assert not failures, _report(failures, len(OPTIONS) * len(ACTIVATIONS), f"{path} {loss} runs")


# Output pre-activations for the clamp cases: sigmoid within 1e-13 of 1 (29.93 and up; 1.0
# exactly from 37) and of 0 (-29.93 and down; 0.0 exactly where exp(-z) overflows, below -709).
SATURATED = (29.95, 30.5, 33.0, 36.8, 40.0, 800.0, -29.95, -31.0, -40.0, -745.0, -800.0)


def _clamp_data(run: Run) -> None:
    """Each saturated output twice, once with the target it approaches and once with the other:
    z_out = x[:, 0] through an identity hidden layer (W0 = I) and W1 = (1, 0)."""
    z = np.repeat(np.array(SATURATED), 2)
    y = np.tile([1.0, 0.0], len(SATURATED))
    y = np.where(z > 0, y, 1.0 - y)[:, None]
    x = np.column_stack([z, np.linspace(-1.0, 1.0, len(z))])
    run.data = Dataset("saturated", x, y, x, y)
    W0, b0 = run.network.layers[0].parameters.values()
    W1, b1 = run.network.layers[1].parameters.values()
    W0[...], b0[...], W1[...], b1[...] = np.eye(2), 0.0, [[1.0], [0.0]], 0.0


@pytest.mark.parametrize("options", [OPTIONS[0], OPTIONS[-1], OPTIONS[5]], ids=str)
@pytest.mark.parametrize("path", sorted(BATCHES))
def test_bce_with_outputs_at_the_clamp(path: str, options: Options) -> None:
    """p * (1 - p) < 1e-12 on every sample, half of them with the wrong target: there the
    gradient is (p - y) / BCE_EPS / N, so the clamp constant itself sets the update."""
    config = Config(
        n_train=len(SATURATED) * 2, n_test=2, epochs=2, hidden=(2,), lr=1e-3,
        activation=("identity", "sigmoid"), loss="bce", batch_size=BATCHES[path], shuffle=True,
        optimizer=options.optimizer, momentum_style=options.momentum_style,
        nesterov=options.nesterov, bias_momentum=options.bias_momentum,
        weight_decay=options.weight_decay,
    )
    plain, compiled = _pair(config, _clamp_data)
    out = np.array(SATURATED)
    p = 1.0 / (1.0 + np.exp(-np.clip(out, -700, 700)))
    assert np.all(p * (1.0 - p) < 1e-12)
    moved = plain.network.parameters["W1"][0, 0] - 1.0
    assert abs(moved) > 1e-3  # the wrong-target samples' clamped gradients did move it
    diff = _difference(plain, compiled, exact=path == "batched")
    assert not diff, f"{path}, {options}: {diff}"


# Small enough that no network diverges in two epochs (relu and identity pass the 1e3 on).
HUGE_LR = {"sigmoid": 1e-2, "tanh": 1e-2, "relu": 1e-9, "identity": 1e-9}


def _huge_inputs(run: Run) -> None:
    rng = np.random.default_rng(3)
    x = np.vstack([rng.uniform(-1e3, 1e3, (6, 2)), [[1e3, -1e3], [-1e3, 1e3]]])
    y = (x[:, :1] > x[:, 1:]).astype(np.float64)
    run.data = Dataset("huge", x, y, x, y)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("path", sorted(BATCHES))
def test_huge_pre_activations(path: str, loss: str) -> None:
    """Inputs up to 1e3 into N(0, 1) weights: sigmoid's exp overflows (outputs exactly 0),
    tanh saturates to +-1, relu and identity pass values of 1e3 and more on."""
    failures = []
    for activation, options in itertools.product(ACTIVATIONS, (OPTIONS[1], OPTIONS[-1])):
        config = Config(
            n_train=8, n_test=2, epochs=2, hidden=(3, 2), lr=HUGE_LR[activation],
            activation=_acts(activation, loss, 3), loss=loss, batch_size=BATCHES[path],
            optimizer=options.optimizer, momentum_style=options.momentum_style,
            nesterov=options.nesterov, bias_momentum=options.bias_momentum,
            weight_decay=options.weight_decay,
        )
        plain, compiled = _pair(config, _huge_inputs)
        assert np.all(np.isfinite(plain.history.loss)), f"{options} {activation} diverged"
        diff = _difference(plain, compiled, exact=path == "batched")
        if diff:
            failures.append(f"{options}, {activation}: {diff}")
    assert not failures, _report(failures, len(ACTIVATIONS) * 2, f"{path} {loss} runs")
