"""The compiled per-sample path (handnet.fast) against the plain NumPy path.

Tolerance policy (float64): after several epochs every parameter agrees with the plain path's
to within 1e-12 of the largest parameter magnitude in the network, every momentum buffer to
within 1e-12 of the largest buffer magnitude, the history's losses to within 1e-12 of the
largest loss, and accuracies and lrs exactly.  (Scaled by the largest magnitude rather than
element by element: a bias that is the small remainder of cancelling updates carries the
absolute rounding error of those updates, so its own relative error says nothing.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("numba", reason="numba is not installed: the fast path is optional")

from handnet import Config, build, fast  # noqa: E402
from handnet.activations import sigmoid  # noqa: E402
from handnet.train import Run, epoch_order, record, train, train_epoch  # noqa: E402

RTOL = 1e-12

if not fast.available():  # pragma: no cover - numba imports but the path is switched off
    pytest.skip(f"fast path unavailable: {fast.why_unavailable()}", allow_module_level=True)


def _scaled_error(plain: dict[str, np.ndarray], other: dict[str, np.ndarray]) -> float:
    assert plain.keys() == other.keys()
    if not plain:
        return 0.0
    scale = max(float(np.max(np.abs(v))) for v in plain.values())
    worst = max(float(np.max(np.abs(plain[k] - other[k]))) for k in plain)
    return worst / scale if scale > 0 else worst


def assert_same_state(plain: Run, other: Run) -> None:
    assert _scaled_error(plain.network.parameters, other.network.parameters) <= RTOL
    assert _scaled_error(plain.optimizer.buffers, other.optimizer.buffers) <= RTOL
    assert plain.optimizer.lr == other.optimizer.lr
    h, g = plain.history, other.history
    assert h.lr == g.lr
    assert h.train_accuracy == g.train_accuracy
    loss_p, loss_o = np.array(h.loss), np.array(g.loss)
    assert np.all(np.isfinite(loss_p))
    assert np.max(np.abs(loss_p - loss_o)) <= RTOL * np.max(np.abs(loss_p))


def run_epochs(run: Run, epochs: int, fast_epochs: set[int]) -> None:
    """Train ``epochs`` epochs, the ones in ``fast_epochs`` on the compiled path."""
    for epoch in range(epochs):
        order = epoch_order(run)
        if epoch in fast_epochs:
            fast.train_epoch_fast(run, epoch, order)
            fast.record_fast(run, run.optimizer.lr)
        else:
            train_epoch(run, epoch, order)
            record(run, run.optimizer.lr)


ACTS = ("sigmoid", "tanh", "relu", "identity")


@st.composite
def configs(draw: st.DrawFn) -> Config:
    n_hidden = draw(st.integers(0, 3))
    hidden = tuple(draw(st.lists(st.integers(1, 12), min_size=n_hidden, max_size=n_hidden)))
    acts = tuple(draw(st.lists(st.sampled_from(ACTS), min_size=n_hidden, max_size=n_hidden)))
    # The output layer: a bounded activation keeps bce meaningful and training finite.
    out = draw(st.sampled_from(("sigmoid",) if n_hidden == 0 else ("sigmoid", "tanh")))
    loss = draw(st.sampled_from(("half-sse", "mse", "bce")))
    if loss == "bce":
        out = "sigmoid"
    optimizer = draw(st.sampled_from(("sgd", "momentum")))
    return Config(
        dataset=draw(st.sampled_from(("linear", "xor", "xor-easy", "chessboard"))),
        optimizer=optimizer,
        momentum_style=draw(st.sampled_from(("classic", "torch"))),
        momentum=draw(st.sampled_from((0.5, 0.9))),
        bias_momentum=draw(st.booleans()),
        nesterov=draw(st.booleans()) and optimizer == "momentum",
        weight_decay=draw(st.sampled_from((0.0, 1e-3, 0.05))),
        lr=draw(st.sampled_from((1e-3, 1e-2, 5e-2))),
        lr_epoch=draw(st.integers(0, 3)),
        lr_gamma=draw(st.sampled_from((None, 0.0, 0.5, 0.3))),
        hidden=hidden,
        activation=(*acts, out),
        loss=loss,
        init=draw(st.sampled_from(("normal", "glorot"))),
        seed=draw(st.integers(0, 2**32 - 1)),
        shuffle=draw(st.booleans()),
        n_train=draw(st.integers(1, 30)),
        n_test=5,
        epochs=4,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs())
def test_fast_epochs_equal_plain_epochs(config: Config) -> None:
    plain, compiled = build(config), build(config)
    assert fast.supports(compiled)
    run_epochs(plain, config.epochs, set())
    run_epochs(compiled, config.epochs, set(range(config.epochs)))
    assert_same_state(plain, compiled)


@settings(max_examples=15, deadline=None)
@given(config=configs(), pattern=st.lists(st.booleans(), min_size=4, max_size=4))
def test_paths_interleave(config: Config, pattern: list[bool]) -> None:
    """Either path can continue from the other's state (weights and momentum buffers)."""
    plain, mixed = build(config), build(config)
    run_epochs(plain, 4, set())
    run_epochs(mixed, 4, {e for e, f in enumerate(pattern) if f})
    assert_same_state(plain, mixed)


@pytest.mark.parametrize("style", ["classic", "torch"])
def test_seed_configuration_many_epochs(style: str) -> None:
    """The seed network itself, 12 epochs on 200 points, lr halved every 4 epochs."""
    config = Config(n_train=200, epochs=12, lr_epoch=4, momentum_style=style)
    plain, compiled = build(config), build(config)
    train(plain)
    fast.train(compiled)
    assert_same_state(plain, compiled)
    assert sorted(compiled.optimizer.buffers) == ["W0", "W1", "W2", "W3"]


def test_train_falls_back_to_plain_when_unsupported() -> None:
    config = Config(n_train=20, epochs=2, batch_size=4, hidden=(3,))
    plain, other = build(config), build(config)
    assert not fast.supports(other)
    train(plain)
    fast.train(other)
    for name, value in plain.network.parameters.items():
        np.testing.assert_array_equal(value, other.network.parameters[name])


def test_unsupported_run_is_refused() -> None:
    run = build(Config(n_train=8, batch_size=2, hidden=(3,)))
    with pytest.raises(ValueError, match="batch size 1"):
        fast.train_epoch_fast(run, 0, np.arange(8))


def test_bad_order_raises_like_numpy() -> None:
    run = build(Config(n_train=8, hidden=(3,)))
    with pytest.raises(IndexError):
        fast.train_epoch_fast(run, 0, np.array([0, 8]))


def test_negative_indices_wrap_as_in_numpy() -> None:
    plain, compiled = build(Config(n_train=8, hidden=(3,))), build(Config(n_train=8, hidden=(3,)))
    order = np.array([-1, 0, -8, 3])
    train_epoch(plain, 0, order)
    fast.train_epoch_fast(compiled, 0, order)
    assert _scaled_error(plain.network.parameters, compiled.network.parameters) <= RTOL


def test_empty_order_creates_no_buffers() -> None:
    run = build(Config(n_train=8, hidden=(3,)))
    fast.train_epoch_fast(run, 0, np.arange(0))
    assert run.optimizer.buffers == {}


def test_switched_off_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast, "_kernel", None)
    monkeypatch.setattr(fast, "_import_error", None)
    monkeypatch.setenv("HANDNET_NO_FAST", "1")
    assert not fast.available()
    assert "HANDNET_NO_FAST" in (fast.why_unavailable() or "")
    run = build(Config(n_train=4, hidden=(2,)))
    with pytest.raises(RuntimeError, match="not available"):
        fast.train_epoch_fast(run, 0, np.arange(4))


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.view(np.int64) - b.view(np.int64))


def test_kernel_exp_within_one_ulp_of_the_c_library() -> None:
    from handnet import _fast_kernel

    rng = np.random.default_rng(0)
    x = -np.concatenate([
        np.linspace(0.0, 745.0, 20001), rng.exponential(2.0, 20000), [0.0, 1e-300, 708.0, 708.5],
        [709.0, 744.0, 745.2, 746.0, 1e4, np.inf],
    ])
    out = np.empty_like(x)
    _fast_kernel.exp_nonpos(x, out)
    expected = np.array([math.exp(v) for v in x])
    assert np.max(_ulps(out, expected)) <= 1
    nan = np.empty(1)
    _fast_kernel.exp_nonpos(np.array([np.nan]), nan)
    assert np.isnan(nan[0])


def test_kernel_sigmoid_matches_handnet_sigmoid() -> None:
    from handnet import _fast_kernel

    z = np.concatenate([
        np.linspace(-50.0, 50.0, 10001), [0.0, -0.0, 1e4, -1e4, 707.0, -707.0, -720.0, -745.0],
        [-800.0, np.inf, -np.inf],
    ])
    out = np.empty_like(z)
    _fast_kernel.activate(fast.ACT_CODES["sigmoid"], z, out)
    expected = sigmoid(z)
    assert np.all(np.isfinite(out))
    assert np.max(_ulps(out, expected)) <= 2
    nan = np.empty(1)
    _fast_kernel.activate(fast.ACT_CODES["sigmoid"], np.array([np.nan]), nan)
    assert np.isnan(nan[0])
