"""``reference.checker.blindspots``: what a check at the network's own parameters
(``randomize=False``) cannot see, found by the hostile corpus (a forward that never adds its
zero biases, and a delta averaged over identical hidden units, both passed as a match)."""

from __future__ import annotations

import numpy as np

from reference.checker.blindspots import blind_spots

NAMES = {"W0": "W1", "b0": "b1", "W1": "W2", "b1": "b2"}


def _net(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray):
    return [(w1, b1), (w2, b2)]


def test_random_values_hide_nothing() -> None:
    rng = np.random.default_rng(0)
    p = _net(rng.standard_normal((3, 4)), rng.standard_normal((1, 4)),
             rng.standard_normal((4, 2)), rng.standard_normal((1, 2)))
    assert blind_spots(NAMES, [p], biases=True) == []


def test_zero_biases_are_named_unless_the_network_has_none() -> None:
    rng = np.random.default_rng(1)
    p = _net(rng.standard_normal((3, 4)), np.zeros((1, 4)),
             rng.standard_normal((4, 1)), np.zeros((1, 1)))
    (line,) = blind_spots(NAMES, [p], biases=True)
    assert line.startswith("b1 (0), b2 (0): one value in every element")
    assert blind_spots(NAMES, [p], biases=False) == []


def test_a_bias_that_moved_by_the_last_point_is_not_named() -> None:
    rng = np.random.default_rng(2)
    start = _net(rng.standard_normal((3, 4)), np.zeros((1, 4)),
                 rng.standard_normal((4, 1)), rng.standard_normal((1, 1)))
    trained = _net(start[0][0], rng.standard_normal((1, 4)), start[1][0], start[1][1])
    assert blind_spots(NAMES, [start, trained], biases=True) == []


def test_identical_hidden_units_are_named_even_when_no_parameter_is_constant() -> None:
    col, row = np.array([[0.1], [0.2], [0.3]]), np.array([[0.5, -0.4]])
    p = _net(np.repeat(col, 4, axis=1), np.full((1, 4), 0.2), np.repeat(row, 4, axis=0),
             np.array([[0.1, 0.3]]))
    (line,) = blind_spots(NAMES, [p], biases=True)
    assert line.startswith("the 4 units of layer 0 (W1) are identical")
    p[1] = (p[1][0] + np.arange(4.0)[:, None], p[1][1])  # the next layer tells them apart
    assert blind_spots(NAMES, [p], biases=True)[1:] == []
