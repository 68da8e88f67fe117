"""handnet.layers.Dense's contract where the network's own tests do not reach it (found by
mutmut on handnet/layers.py, docs/mutation.md): its standalone backward, its gradients before
any backward, and its messages.  Expected values worked by hand in the comments."""

from __future__ import annotations

import re

import numpy as np
import pytest

from handnet.layers import Dense


def _layer() -> Dense:
    # W = [[1, 2], [3, 4]] (2 in, 2 out), b = [[0.5, -0.5]]
    return Dense(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5, -0.5]]))


def test_backward_fills_the_gradients_and_returns_the_input_gradient() -> None:
    layer = _layer()
    layer.forward(np.array([[1.0, 0.0], [0.0, 2.0]]))
    dz = np.array([[1.0, -1.0], [2.0, 0.5]])
    dx = layer.backward(dz)
    # dW = x.T @ dz = [[1, -1], [4, 1]]; db = [[3, -0.5]]; dx = dz @ W.T = [[-1, -1], [3, 8]]
    np.testing.assert_array_equal(layer.gradients["W"], [[1.0, -1.0], [4.0, 1.0]])
    np.testing.assert_array_equal(layer.gradients["b"], [[3.0, -0.5]])
    np.testing.assert_array_equal(dx, [[-1.0, -1.0], [3.0, 8.0]])


def test_gradients_start_as_zeros_shaped_and_typed_like_the_parameters() -> None:
    W, b = np.ones((3, 2), dtype=np.float32), np.ones((1, 2), dtype=np.float32)
    layer = Dense(W, b)
    for key, like in (("W", W), ("b", b)):
        g = layer.gradients[key]
        assert g.shape == like.shape and g.dtype == np.float32 and not np.any(g)


def test_backward_before_forward_is_refused_by_name() -> None:
    with pytest.raises(RuntimeError, match=r"^backward called before forward$"):
        _layer().parameter_gradients(np.ones((1, 2)))
    with pytest.raises(RuntimeError, match=r"^backward called before forward$"):
        _layer().backward(np.ones((1, 2)))


def test_a_dtype_mismatch_is_refused_naming_both() -> None:
    message = "W and b must share a dtype, got float64 and float32"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Dense(np.ones((2, 2)), np.ones((1, 2), dtype=np.float32))
