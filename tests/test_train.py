"""Training: determinism, the three batch granularities against hand-written loops, shuffling,
history, and the seed configuration's defaults (see /work/shared/seed-facts.md)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from support import exactly

from handnet.config import Config
from handnet.layers import Dense
from handnet.network import Network
from handnet.train import Run, accuracy, build, train


def _cfg(**overrides: Any) -> Config:
    base: dict[str, Any] = dict(dataset="chessboard", hidden=(4, 3), n_train=12, n_test=6,
                                seed=0, epochs=3, lr=0.3)
    base.update(overrides)
    return Config(**base)


def _weights(run: Run) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in run.network.parameters.items()}


def _sig(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _seed_gradients(p: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray
                    ) -> dict[str, np.ndarray]:
    """The seed's backward for a 2-4-3-1 all-sigmoid net, written out independently:
    error = y_hat - y, deltas through s(1 - s), all deltas before any update."""
    a0 = _sig(x @ p["W0"] + p["b0"])
    a1 = _sig(a0 @ p["W1"] + p["b1"])
    out = _sig(a1 @ p["W2"] + p["b2"])
    d2 = (out - y) * out * (1 - out)
    d1 = (d2 @ p["W2"].T) * a1 * (1 - a1)
    d0 = (d1 @ p["W1"].T) * a0 * (1 - a0)
    return {"W2": a1.T @ d2, "b2": d2.sum(0, keepdims=True),
            "W1": a0.T @ d1, "b1": d1.sum(0, keepdims=True),
            "W0": x.T @ d0, "b0": d0.sum(0, keepdims=True)}


def _close(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-12, atol=1e-14, err_msg=k)


# ---- determinism -----------------------------------------------------------------------------

@pytest.mark.parametrize("extra", [{}, {"shuffle": True, "batch_size": 5}])
def test_same_seed_gives_bit_identical_weights(extra: dict[str, Any]) -> None:
    a, b = build(_cfg(**extra)), build(_cfg(**extra))
    ha, hb = train(a), train(b)
    for k, v in a.network.parameters.items():
        np.testing.assert_array_equal(v, b.network.parameters[k])  # bit for bit
    assert ha == hb


def test_different_seeds_differ() -> None:
    a, b = build(_cfg(seed=0)), build(_cfg(seed=1))
    assert not np.array_equal(a.data.x_train, b.data.x_train)
    assert not np.array_equal(a.network.parameters["W0"], b.network.parameters["W0"])
    train(a)
    train(b)
    assert not np.array_equal(a.network.parameters["W2"], b.network.parameters["W2"])


# ---- granularity: per sample, mini-batch, full batch -------------------------------------------

def test_full_batch_epoch_is_one_step_with_the_summed_gradient() -> None:
    run = build(_cfg(optimizer="sgd", batch_size=0, epochs=1))
    p0 = _weights(run)
    x, y = run.data.x_train, run.data.y_train
    summed = {k: np.zeros_like(v) for k, v in p0.items()}
    for i in range(len(x)):  # the sum of the per-sample gradients, one sample at a time
        for k, g in _seed_gradients(p0, x[i : i + 1], y[i : i + 1]).items():
            summed[k] += g
    _close(summed, _seed_gradients(p0, x, y))  # half-sse sums over the batch
    train(run)
    _close(_weights(run), {k: p0[k] - 0.3 * summed[k] for k in p0})


def test_per_sample_is_the_seeds_loop() -> None:
    # The seed's loop transcribed: one update per sample in order; classic momentum on the
    # weights only (U = m U + lr dW; W -= U), plain SGD on biases; lr halved at the start of
    # every lr_epoch-th epoch (here every 2nd epoch, so the change is exercised).
    cfg = _cfg(optimizer="momentum", epochs=3, lr_epoch=2, lr=0.3)
    assert (cfg.batch_size, cfg.momentum_style, cfg.bias_momentum) == (1, "classic", False)
    run = build(cfg)
    p = _weights(run)
    x, y = run.data.x_train, run.data.y_train
    velocity = {k: np.zeros_like(v) for k, v in p.items() if k.startswith("W")}
    lr = 0.3
    for epoch in range(3):
        if epoch % 2 == 0 and epoch != 0:
            lr *= 1 - 0.5
        for i in range(len(x)):
            g = _seed_gradients(p, x[i : i + 1], y[i : i + 1])
            for k in p:
                if k.startswith("W"):
                    velocity[k] = 0.9 * velocity[k] + lr * g[k]
                    p[k] = p[k] - velocity[k]
                else:
                    p[k] = p[k] - lr * g[k]
    train(run)
    _close(_weights(run), p)


def test_mini_batches_are_consecutive_slices_with_a_short_last_one() -> None:
    # 12 samples, batch 5 -> [0:5], [5:10], [10:12]; plain SGD with the batch-summed gradient
    run = build(_cfg(optimizer="sgd", batch_size=5, epochs=1))
    p = _weights(run)
    x, y = run.data.x_train, run.data.y_train
    for lo, hi in ((0, 5), (5, 10), (10, 12)):
        g = _seed_gradients(p, x[lo:hi], y[lo:hi])
        p = {k: p[k] - 0.3 * g[k] for k in p}
    train(run)
    _close(_weights(run), p)


def test_batch_size_one_and_full_batch_really_differ() -> None:
    per_sample, full = build(_cfg(optimizer="sgd", epochs=1)), build(
        _cfg(optimizer="sgd", epochs=1, batch_size=0))
    train(per_sample)
    train(full)
    assert not np.allclose(per_sample.network.parameters["W0"], full.network.parameters["W0"])


# ---- shuffling ---------------------------------------------------------------------------------

def _orders(cfg: Config) -> tuple[Run, list[np.ndarray]]:
    run, orders = build(cfg), []
    train(run, lambda epoch, order, r: orders.append(order.copy()))
    return run, orders


def test_no_shuffle_means_data_order() -> None:
    _, orders = _orders(_cfg())
    for order in orders:
        np.testing.assert_array_equal(order, np.arange(12))


def test_shuffle_is_a_seeded_fresh_permutation_each_epoch() -> None:
    _, a = _orders(_cfg(shuffle=True))
    _, b = _orders(_cfg(shuffle=True))
    _, c = _orders(_cfg(shuffle=True, seed=5))
    for order in a:
        np.testing.assert_array_equal(np.sort(order), np.arange(12))
    assert not np.array_equal(a[0], a[1])  # a new order each epoch
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)  # same seed, same orders
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_training_follows_the_shuffled_order() -> None:
    run, orders = _orders(_cfg(shuffle=True, optimizer="sgd", epochs=2))
    fresh = build(_cfg(shuffle=True, optimizer="sgd", epochs=2))
    p = _weights(fresh)
    x, y = fresh.data.x_train, fresh.data.y_train
    for order in orders:
        for i in order:
            g = _seed_gradients(p, x[i : i + 1], y[i : i + 1])
            p = {k: p[k] - 0.3 * g[k] for k in p}
    _close(_weights(run), p)


# ---- history -----------------------------------------------------------------------------------

def test_history_has_one_entry_per_epoch_and_means_what_it_says() -> None:
    run = build(_cfg(epochs=4))
    history = train(run)
    assert len(history.loss) == len(history.train_accuracy) == len(history.lr) == 4
    x, y = run.data.x_train, run.data.y_train
    y_hat = run.network(x)
    # loss: mean over samples of the per-sample half-sse, after the epoch's updates
    assert history.loss[-1] == pytest.approx(np.mean(0.5 * (y_hat - y) ** 2), rel=1e-12)
    assert history.train_accuracy[-1] == accuracy(run.network, x, y)
    assert history.train_accuracy[-1] == np.mean((y_hat > 0.5) == y)


# ---- the seed configuration --------------------------------------------------------------------

def test_config_defaults_are_the_seed_configuration() -> None:
    c = Config()
    assert c.sizes == [2, 100, 50, 10, 1]
    assert c.activations == ["sigmoid"] * 4
    assert c.loss == "half-sse" and c.init == "normal"
    assert (c.optimizer, c.momentum_style, c.bias_momentum) == ("momentum", "classic", False)
    assert c.effective_momentum == 0.9 and not c.nesterov and c.weight_decay == 0.0
    assert c.lr == 1e-2 and c.lr_epoch == 1500 and c.effective_lr_gamma == 0.5
    assert c.epochs == 6000 and c.print_interval == 100
    assert c.batch_size == 1 and not c.shuffle
    assert c.n_train == 1000 and c.n_test == 1000


def test_seed_run_is_built_as_the_seed() -> None:
    run = build(Config())
    opt = run.optimizer
    assert (opt.lr, opt.momentum, opt.style, opt.bias_momentum) == (1e-2, 0.9, "classic", False)
    assert not opt.nesterov and opt.weight_decay == 0.0
    assert run.schedule.lr_at(1499) == 1e-2 and run.schedule.lr_at(1500) == 5e-3
    assert run.network.sizes == [2, 100, 50, 10, 1]
    assert all(np.all(layer.parameters["b"] == 0) for layer in run.network.layers)
    w = np.concatenate([layer.parameters["W"].ravel() for layer in run.network.layers])
    assert abs(w.mean()) < 0.05 and abs(w.std() - 1) < 0.05  # randn
    assert len(run.data.x_train) == len(run.data.x_test) == 1000


def test_plain_sgd_row_has_no_momentum_and_no_schedule() -> None:
    c = Config(optimizer="sgd")
    assert c.effective_momentum == 0.0 and c.effective_lr_gamma == 0.0
    run = build(c)
    assert run.optimizer.momentum == 0.0 and run.schedule.lr_at(5999) == 1e-2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({'dataset': 'spiral'},
         "unknown dataset 'spiral'; choose one of linear, xor, xor-easy, chessboard, spirals"),
        ({'optimizer': 'nadam'},
         "unknown optimizer 'nadam'; choose one of sgd, momentum, adam, adamw, rmsprop, adagrad"),
        ({'activation': 'swish'},
         "unknown activation 'swish'; choose one of sigmoid, tanh, relu, identity, softmax"),
        ({'activation': ('sigmoid', 'tanh')}, 'activation lists 2 names for 4 layers'),
        ({'hidden': (10, 0)}, 'hidden sizes must be positive, got [10, 0]'),
        ({'epochs': 0}, 'epochs must be positive, got 0'),
        ({'epochs': 2.5}, 'epochs must be an integer, got 2.5'),
        ({'batch_size': -1}, 'batch_size must be >= 0 (0 = full batch), got -1'),
        ({'batch_size': 1.5}, 'batch_size must be an integer, got 1.5'),
        ({'lr': 0.0}, 'lr must be positive, got 0.0'),
        ({'momentum': 1.0}, 'momentum must be in [0, 1), got 1.0'),
        ({'weight_decay': -0.1}, 'weight_decay must be >= 0, got -0.1'),
        ({'seed': 1.0}, 'seed must be an integer, got 1.0'),
        ({'lr_gamma': 1.0}, 'lr_gamma must be in [0, 1), got 1.0'),
        ({'n_train': 0}, 'n_train must be positive, got 0'),
        ({'classes': 3},
         "classes must be 2 for data set 'chessboard' (got 3); only spirals take another number"),
        ({'dataset': 'spirals', 'classes': 1}, 'classes must be an integer >= 2, got 1'),
        ({'activation': ('softmax', 'tanh', 'tanh', 'tanh')},
         'activation softmax normalises a whole layer: use it on the output layer only'),
        ({'activation': 'tanh', 'loss': 'ce', 'hidden': ()}, None),
        ({'activation': ('tanh', 'tanh', 'tanh', 'identity'), 'loss': 'ce'},
         "loss ce takes softmax probabilities: the output layer's activation must be softmax, "
         "got identity"),
        ({'activation': ('tanh', 'tanh', 'tanh', 'softmax')},
         "activation softmax over a single output is the constant 1; use a class loss "
         "(softmax-ce, ce) or more classes"),
    ],
)
def test_config_errors_name_the_field(kwargs: dict[str, Any], message: str | None) -> None:
    if message is None:  # a valid neighbour of the invalid cases
        Config(**kwargs)
        return
    with pytest.raises(ValueError, match=exactly(message)):
        Config(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "sizes", "activations"),
    [
        ({}, [2, 4, 1], ["tanh", "tanh"]),  # binary, element-wise loss: one output
        ({"loss": "bce"}, [2, 4, 1], ["tanh", "sigmoid"]),  # bce takes probabilities
        ({"loss": "bce-logits"}, [2, 4, 1], ["tanh", "identity"]),
        ({"loss": "softmax-ce"}, [2, 4, 2], ["tanh", "identity"]),  # 2 classes, one-hot
        ({"loss": "ce"}, [2, 4, 2], ["tanh", "softmax"]),
        ({"dataset": "spirals", "classes": 5, "loss": "softmax-ce"}, [2, 4, 5],
         ["tanh", "identity"]),
        ({"dataset": "spirals", "classes": 3, "loss": "mse"}, [2, 4, 3], ["tanh", "tanh"]),
        ({"dataset": "spirals", "classes": 2}, [2, 4, 1], ["tanh", "tanh"]),
    ],
)
def test_outputs_follow_the_data_and_the_loss(kwargs: dict[str, Any], sizes: list[int],
                                              activations: list[str]) -> None:
    c = Config(hidden=(4,), activation="tanh", n_train=6, n_test=6, **kwargs)
    assert c.sizes == sizes and c.activations == activations
    run = build(c)
    assert run.network.sizes == sizes
    assert run.data.y_train.shape == (6, sizes[-1]) and run.data.y_test.shape == (6, sizes[-1])
    if sizes[-1] > 1:  # one-hot rows
        np.testing.assert_array_equal(run.data.y_train.sum(axis=1), np.ones(6))


def test_k_class_accuracy_is_the_argmax() -> None:
    net = Network([Dense(np.eye(2, 3), np.zeros((1, 3)))], ["identity"])
    # outputs (x0, x1, 0): argmax 0, 1, 2 (both negative), 0
    x = np.array([[2.0, 1.0], [0.0, 3.0], [-1.0, -2.0], [5.0, 4.0]])
    y = np.eye(3)[[0, 1, 2, 1]]  # the last one is wrong
    assert accuracy(net, x, y) == 0.75
