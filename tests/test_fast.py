"""The compiled path (handnet.fast): its own pieces, and the plain path's results on fixed cases.

Generated configurations are checked against the torch twin in tests/test_equivalence_train.py,
under the tolerance policy, exactly like the plain path (and interleaved with it).  Here, fixed
well-conditioned cases (the seed network) must agree with the plain path to within 1e-12 of the
largest magnitude in each group (parameters, momentum buffers, losses), and accuracies and lrs
exactly.  (Scaled by the largest magnitude rather than element by element: a bias that is the
small remainder of cancelling updates carries the absolute rounding error of those updates, so
its own relative error says nothing.)  A fixed bound suits fixed, well-conditioned cases only:
through a saturated tanh, ``1 - a**2`` turns a 1-ulp difference in ``a`` into a relative
difference of 1e-12 in the gradient, which the twin comparison's error scales account for.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba", reason="numba is not installed: the fast path is optional")

from handnet import Config, build, fast  # noqa: E402
from handnet.activations import sigmoid  # noqa: E402
from handnet.network import Network  # noqa: E402
from handnet.train import Run, record, train, train_epoch  # noqa: E402

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


@pytest.mark.parametrize("style", ["classic", "torch"])
def test_seed_configuration_many_epochs(style: str) -> None:
    """The seed network itself, 12 epochs on 200 points, lr halved every 4 epochs."""
    config = Config(n_train=200, epochs=12, lr_epoch=4, momentum_style=style)
    plain, compiled = build(config), build(config)
    train(plain)
    fast.train(compiled)
    assert_same_state(plain, compiled)
    assert sorted(compiled.optimizer.buffers) == ["W0", "W1", "W2", "W3"]


def _float32_run(config: Config) -> Run:
    run = build(config)
    run.network = Network.create(run.network.sizes, "sigmoid", rng=np.random.default_rng(0),
                                 dtype=np.float32)
    return run


def test_train_falls_back_to_plain_when_unsupported(monkeypatch: pytest.MonkeyPatch) -> None:
    """A float32 run: fast.train never touches a compiled function, trains as train() does
    (float32 kept, every figure of the history) and calls the callback after every epoch."""
    config = Config(n_train=20, epochs=2, batch_size=4, hidden=(3,))
    plain, other = _float32_run(config), _float32_run(config)
    assert not fast.supports(other)

    def compiled(*args: object) -> None:
        raise AssertionError("a compiled function ran on an unsupported run")

    for name in ("train_epoch_fast", "record_fast", "train_step"):
        monkeypatch.setattr(fast, name, compiled)
    seen: list[tuple[int, float]] = []
    train(plain)
    fast.train(other, lambda epoch, order, run: seen.append((epoch, run.history.loss[-1])))
    for name, value in plain.network.parameters.items():
        assert other.network.parameters[name].dtype == np.float32
        np.testing.assert_array_equal(value, other.network.parameters[name])
    assert other.history.loss == plain.history.loss
    assert other.history.train_accuracy == plain.history.train_accuracy
    assert other.history.lr == plain.history.lr
    assert seen == list(enumerate(plain.history.loss))


def test_unsupported_run_is_refused() -> None:
    run = _float32_run(Config(n_train=8, batch_size=2, hidden=(3,)))
    with pytest.raises(ValueError, match="float64"):
        fast.train_epoch_fast(run, 0, np.arange(8))


@pytest.mark.parametrize("batch_size", [0, 7, 64])
@pytest.mark.parametrize("style", ["classic", "torch"])
def test_seed_network_batched_epochs(batch_size: int, style: str) -> None:
    """The seed network in (mini-)batches, the last one short, lr halved every 4 epochs."""
    config = Config(n_train=200, epochs=12, lr_epoch=4, momentum_style=style,
                    batch_size=batch_size, shuffle=batch_size == 7)
    plain, compiled = build(config), build(config)
    train(plain)
    fast.train(compiled)
    assert_same_state(plain, compiled)
    # The batched step makes the plain path's own NumPy calls and rounds as it does.
    for name, value in plain.network.parameters.items():
        np.testing.assert_array_equal(compiled.network.parameters[name], value, err_msg=name)
    for name, value in plain.optimizer.buffers.items():
        np.testing.assert_array_equal(compiled.optimizer.buffers[name], value, err_msg=name)
    assert compiled.history.loss == plain.history.loss


@pytest.mark.parametrize("activation", sorted(fast.ACT_CODES))
@pytest.mark.parametrize("loss", sorted(fast.LOSS_CODES))
def test_record_is_the_plain_paths_bit_for_bit(activation: str, loss: str) -> None:
    """record_fast makes the plain forward's NumPy calls: the same figures, twice in a row
    (the second time through the kept buffers)."""
    config = Config(n_train=300, hidden=(20, 7), activation=("tanh", activation, "sigmoid"),
                    loss=loss, init="glorot")
    plain, compiled = build(config), build(config)
    rng = np.random.default_rng(1)
    for a, b in zip(plain.network.layers, compiled.network.layers, strict=True):
        a.parameters["b"][...] = b.parameters["b"][...] = rng.normal(size=b.parameters["b"].shape)
    for _ in range(2):
        record(plain, 0.5)
        fast.record_fast(compiled, 0.5)
    assert compiled.history.loss == plain.history.loss
    assert compiled.history.train_accuracy == plain.history.train_accuracy
    assert compiled.history.lr == plain.history.lr == [0.5, 0.5]


def test_train_step_names_a_batch_that_does_not_fit() -> None:
    run = build(Config(n_train=8, hidden=(3,)))
    x, y = run.data.x_train, run.data.y_train
    wide = np.hstack([x, x[:, :1]])
    with pytest.raises(ValueError, match=r"\(8, 3\) and \(8, 1\) does not fit .* \[2, 3, 1\]"):
        fast.train_step(run.network, run.optimizer, run.loss, wide, y)


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
    x = np.concatenate([
        -np.linspace(0.0, 745.0, 20001), np.linspace(0.0, 709.78, 20001),
        rng.exponential(2.0, 20000), -rng.exponential(2.0, 20000),
        [0.0, -1e-300, 1e-300, -708.0, -708.5, 708.9, 709.0, 709.1, 709.78, 709.8, 710.0],
        [-709.0, -744.0, -745.2, -746.0, -1e4, -np.inf, 1e4, np.inf],
    ])
    out = np.empty_like(x)
    _fast_kernel.exp(x, out)
    with np.errstate(over="ignore"):
        expected = np.exp(x)  # the C library's exp raises OverflowError past 709.78
    assert np.max(_ulps(out, expected)) <= 1
    nan = np.empty(1)
    _fast_kernel.exp(np.array([np.nan]), nan)
    assert np.isnan(nan[0])


def test_kernel_sigmoid_matches_handnet_sigmoid() -> None:
    from handnet import _fast_kernel

    z = np.concatenate([
        np.linspace(-50.0, 50.0, 10001), np.linspace(-709.0, 709.0, 10001),
        [0.0, -0.0, 1e4, -1e4, 707.0, -707.0, -709.5, -709.78, -710.0, -720.0, -745.0],
        [-800.0, np.inf, -np.inf],
    ])
    out = np.empty_like(z)
    _fast_kernel.activate(fast.ACT_CODES["sigmoid"], z, out)
    expected = sigmoid(z)
    assert np.all(np.isfinite(out))
    # The same formula; exp differs by at most 1 ulp, which 1 + e and 1 / (...) can round to 2.
    assert np.max(_ulps(out, expected)) <= 2
    nan = np.empty(1)
    _fast_kernel.activate(fast.ACT_CODES["sigmoid"], np.array([np.nan]), nan)
    assert np.isnan(nan[0])
