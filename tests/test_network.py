"""The network: forward shapes, the VJP backward against finite differences, no side effects."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from support import exactly

from handnet.init import init_weight
from handnet.layers import Dense
from handnet.network import Network


def _net(sizes: Sequence[int], acts: str | Sequence[str], seed: int = 0) -> Network:
    return Network.create(sizes, acts, rng=np.random.default_rng(seed))


def test_forward_shapes() -> None:
    net = _net([2, 5, 3, 1], "sigmoid")
    assert net.sizes == [2, 5, 3, 1]
    assert net(np.zeros((7, 2))).shape == (7, 1)
    assert net(np.zeros((1, 2))).shape == (1, 1)
    wide = _net([3, 4, 2], ["tanh", "identity"])
    assert wide(np.ones((5, 3))).shape == (5, 2)


def test_parameter_names_shapes_and_seed_layout() -> None:
    net = _net([2, 5, 3, 1], "sigmoid")
    shapes = {k: v.shape for k, v in net.parameters.items()}
    # W of shape (in, out), b a (1, out) row, named per layer from the input side
    assert shapes == {"W0": (2, 5), "b0": (1, 5), "W1": (5, 3), "b1": (1, 3),
                      "W2": (3, 1), "b2": (1, 1)}
    assert all(np.all(net.parameters[f"b{i}"] == 0) for i in range(3))


def test_forward_is_the_formula() -> None:
    net = _net([2, 3, 1], ["tanh", "sigmoid"])
    x = np.array([[0.2, -0.4], [1.0, 0.5]])
    p = net.parameters
    hidden = np.tanh(x @ p["W0"] + p["b0"])
    expected = 1 / (1 + np.exp(-(hidden @ p["W1"] + p["b1"])))
    np.testing.assert_allclose(net(x), expected, rtol=1e-14)


def _numeric_vjp(net: Network, x: np.ndarray, upstream: np.ndarray,
                 h: float = 1e-6) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Central differences of f = sum(upstream * net(x)) for every parameter and for x."""

    def f() -> float:
        return float(np.sum(upstream * net.forward(x)))

    def diff(arr: np.ndarray) -> np.ndarray:
        out = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + h
            up = f()
            arr[idx] = old - h
            down = f()
            arr[idx] = old
            out[idx] = (up - down) / (2 * h)
        return out

    return {k: diff(v) for k, v in net.parameters.items()}, diff(x)


ACTIVATION_SETS = [
    ["sigmoid", "sigmoid", "sigmoid"],
    ["tanh", "relu", "identity"],
    ["relu", "tanh", "sigmoid"],
]


@pytest.mark.parametrize("acts", ACTIVATION_SETS, ids="-".join)
def test_backward_is_the_vjp_for_a_random_upstream(acts: list[str]) -> None:
    rng = np.random.default_rng(11)
    net = _net([3, 4, 3, 2], acts, seed=5)
    for layer in net.layers:  # non-zero biases so that they matter
        layer.parameters["b"][...] = rng.normal(size=layer.parameters["b"].shape)
    x = rng.normal(size=(5, 3))
    upstream = rng.normal(size=(5, 2))
    y_hat = net.forward(x)
    assert y_hat.shape == upstream.shape
    # relu has a kink at 0: make sure no pre-activation sits close enough for h to cross it
    assert min(np.min(np.abs(z)) for z in net._z) > 1e-4
    grads, dx = net.backward(upstream)
    numeric, numeric_dx = _numeric_vjp(net, x, upstream)
    assert set(grads) == set(numeric) == {"W0", "b0", "W1", "b1", "W2", "b2"}
    for name in grads:
        assert grads[name].shape == net.parameters[name].shape
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-6, atol=1e-8,
                                   err_msg=name)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, numeric_dx, rtol=1e-6, atol=1e-8)


def test_backward_with_the_seed_loss_is_the_seeds_delta_rule() -> None:
    # The seed: error = y_hat - y; output delta = error * s(1 - s) through the output;
    # delta_prev = (delta @ W.T) * a(1 - a); dW = a_prev.T @ delta. Written out for 2-3-1.
    net = _net([2, 3, 1], "sigmoid", seed=2)
    x = np.array([[0.3, 0.9]])
    y = np.array([[1.0]])
    p = {k: v.copy() for k, v in net.parameters.items()}
    a1 = 1 / (1 + np.exp(-(x @ p["W0"] + p["b0"])))
    out = 1 / (1 + np.exp(-(a1 @ p["W1"] + p["b1"])))
    d1 = (out - y) * out * (1 - out)
    d0 = (d1 @ p["W1"].T) * a1 * (1 - a1)
    y_hat = net.forward(x)
    grads, _ = net.backward(y_hat - y)
    np.testing.assert_allclose(grads["W1"], a1.T @ d1, rtol=1e-13)
    np.testing.assert_allclose(grads["b1"], d1, rtol=1e-13)
    np.testing.assert_allclose(grads["W0"], x.T @ d0, rtol=1e-13)
    np.testing.assert_allclose(grads["b0"], d0, rtol=1e-13)


def test_backward_leaves_every_weight_untouched() -> None:
    net = _net([2, 4, 3, 1], "sigmoid")
    before = {k: v.copy() for k, v in net.parameters.items()}
    ids = {k: id(v) for k, v in net.parameters.items()}
    x = np.random.default_rng(0).uniform(size=(6, 2))
    net.forward(x)
    net.backward(np.ones((6, 1)))
    for k, v in net.parameters.items():
        assert id(v) == ids[k]
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_backward_does_not_accumulate_and_is_linear_in_the_upstream() -> None:
    net = _net([2, 4, 1], "tanh")
    x = np.random.default_rng(1).normal(size=(3, 2))
    g = np.random.default_rng(2).normal(size=(3, 1))
    net.forward(x)
    first = {k: v.copy() for k, v in net.backward(g)[0].items()}
    second, _ = net.backward(g)  # a second call replaces, it does not add (unlike torch .grad)
    for k in first:
        np.testing.assert_array_equal(second[k], first[k])
    doubled, _ = net.backward(2 * g)
    for k in first:
        np.testing.assert_allclose(doubled[k], 2 * first[k], rtol=1e-14)


def test_the_batch_gradient_is_the_sum_of_per_sample_gradients() -> None:
    net = _net([2, 3, 1], "sigmoid")
    x = np.random.default_rng(4).uniform(size=(4, 2))
    g = np.random.default_rng(5).normal(size=(4, 1))
    net.forward(x)
    batch = {k: v.copy() for k, v in net.backward(g)[0].items()}
    total = {k: np.zeros_like(v) for k, v in batch.items()}
    for i in range(4):
        net.forward(x[i : i + 1])
        for k, v in net.backward(g[i : i + 1])[0].items():
            total[k] += v
    for k in batch:
        np.testing.assert_allclose(batch[k], total[k], rtol=1e-13, atol=1e-15)


def test_copy_is_independent() -> None:
    net = _net([2, 3, 1], "sigmoid")
    twin = net.copy()
    twin.parameters["W0"][0, 0] += 1.0
    assert net.parameters["W0"][0, 0] != twin.parameters["W0"][0, 0]
    assert twin.activation_names == net.activation_names


@pytest.mark.parametrize("bad", [np.zeros((4, 3)), np.zeros(2), np.zeros((1, 1, 2))])
def test_forward_rejects_a_wrong_input_shape(bad: np.ndarray) -> None:
    message = f"input must have shape (batch, 2), got {bad.shape}"
    with pytest.raises(ValueError, match=exactly(message)):
        _net([2, 3, 1], "sigmoid")(bad)


def test_backward_rejects_a_wrong_upstream_shape() -> None:
    net = _net([2, 3, 1], "sigmoid")
    net.forward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=exactly(
            "upstream gradient has shape (4, 2), output is (4, 1)")):
        net.backward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=exactly(
            "upstream gradient has shape (4,), output is (4, 1)")):
        net.backward(np.zeros(4))
    deep = _net([2, 3, 4, 1], "sigmoid")  # the output, not a hidden layer, is named
    deep.forward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=exactly(
            "upstream gradient has shape (4, 4), output is (4, 1)")):
        deep.backward(np.zeros((4, 4)))


def test_backward_before_forward() -> None:
    with pytest.raises(RuntimeError, match=exactly("backward called before forward")):
        _net([2, 3, 1], "sigmoid").backward(np.zeros((1, 1)))


def test_construction_errors_name_the_problem() -> None:
    with pytest.raises(ValueError,
                       match=exactly("sizes must be at least two positive integers, got [2]")):
        Network.create([2])
    with pytest.raises(ValueError, match=exactly(
            "sizes must be at least two positive integers, got [2, 0, 1]")):
        Network.create([2, 0, 1])
    with pytest.raises(ValueError, match=exactly("2 layers but 3 activations; give one per layer")):
        Network.create([2, 3, 1], ["sigmoid"] * 3)
    with pytest.raises(ValueError, match=exactly(
            "unknown activation 'swish'; choose one of sigmoid, tanh, relu, identity, softmax")):
        Network.create([2, 3, 1], "swish")
    with pytest.raises(ValueError, match=exactly("layer 0 has 3 outputs but layer 1 takes 4")):
        Network([Dense(np.zeros((2, 3)), np.zeros((1, 3))),
                 Dense(np.zeros((4, 1)), np.zeros((1, 1)))], ["sigmoid", "sigmoid"])
    with pytest.raises(ValueError, match=exactly("b must have shape (1, 3), got (3,)")):
        Dense(np.zeros((2, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=exactly("W must be 2-D (in, out), got shape (3,)")):
        Dense(np.zeros(3), np.zeros((1, 3)))


def test_init_schemes() -> None:
    w = init_weight(np.random.default_rng(0), 100, 50, "glorot")
    a = np.sqrt(6 / 150)
    assert w.shape == (100, 50) and np.all(np.abs(w) <= a) and np.abs(w).max() > 0.9 * a
    n = init_weight(np.random.default_rng(0), 200, 100, "normal")
    assert abs(n.mean()) < 0.02 and abs(n.std() - 1) < 0.02  # N(0, 1): the seed's randn
    same = init_weight(np.random.default_rng(0), 200, 100, "normal")
    np.testing.assert_array_equal(n, same)
    assert init_weight(np.random.default_rng(0), 2, 2, "normal", np.float32).dtype == np.float32
    with pytest.raises(ValueError,
                       match=exactly("unknown init 'he'; choose one of normal, glorot")):
        init_weight(np.random.default_rng(0), 2, 2, "he")


def test_create_is_seeded() -> None:
    a, b, c = _net([2, 5, 1], "sigmoid", 3), _net([2, 5, 1], "sigmoid", 3), _net(
        [2, 5, 1], "sigmoid", 4)
    np.testing.assert_array_equal(a.parameters["W0"], b.parameters["W0"])
    assert not np.array_equal(a.parameters["W0"], c.parameters["W0"])


def test_a_layer_list_changed_after_construction_is_refused_not_cut_short() -> None:
    """``forward`` pairs layers with activations strictly: a layer appended to ``net.layers``
    without an activation raises instead of being skipped silently (mutmut: `strict=False`
    survived)."""
    net = _net([2, 3, 1], "sigmoid")
    net.layers.append(Dense(np.ones((1, 1)), np.zeros((1, 1))))
    with pytest.raises(ValueError, match="zip"):
        net.forward(np.zeros((4, 2)))
