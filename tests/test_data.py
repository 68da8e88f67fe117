"""The data sets: label rules (on hand-picked points and on drawn data), sizes, seeding."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from handnet.data import DATASETS, chessboard_labels, linear_labels, load_dataset, xor_easy

RANDOM_SETS = ("linear", "xor", "chessboard")


def test_linear_rule_on_hand_picked_points() -> None:
    x = np.array([[0.7, 0.2], [0.2, 0.7], [0.5, 0.5], [0.0, 1.0], [1.0, 0.0], [0.51, 0.5]])
    # label 1 exactly where x > y (strict: the diagonal itself is 0)
    np.testing.assert_array_equal(linear_labels(x), [[1], [0], [0], [0], [1], [1]])


def test_chessboard_rule_on_hand_picked_points() -> None:
    # cell (floor(4x), floor(4y)); label = (sum of cell indices) mod 2
    points_and_labels = [
        ((0.10, 0.10), 0),  # cell (0, 0)
        ((0.30, 0.10), 1),  # cell (1, 0)
        ((0.30, 0.30), 0),  # cell (1, 1)
        ((0.90, 0.10), 1),  # cell (3, 0)
        ((0.60, 0.85), 1),  # cell (2, 3)
        ((0.99, 0.99), 0),  # cell (3, 3)
        ((0.2499, 0.0), 0),  # cell (0, 0), just left of the first edge
        ((0.25, 0.0), 1),  # cell (1, 0): an edge belongs to the cell on its right
        ((0.5, 0.75), 1),  # cell (2, 3)
        ((float(np.nextafter(0.5, 0)), 0.0), 1),  # one ulp left of x = 0.5: still cell (1, 0)
        ((0.0, float(np.nextafter(0.75, 0))), 0),  # one ulp below y = 0.75: cell (0, 2)
    ]
    x = np.array([p for p, _ in points_and_labels])
    expected = np.array([[lab] for _, lab in points_and_labels], dtype=float)
    np.testing.assert_array_equal(chessboard_labels(x), expected)


def _linear_rule(px: float, py: float) -> float:
    return 1.0 if px > py else 0.0


def _chess_rule(px: float, py: float) -> float:
    return float((math.floor(4 * px) + math.floor(4 * py)) % 2)


@pytest.mark.parametrize(("name", "rule"), [("linear", _linear_rule),
                                            ("chessboard", _chess_rule)])
def test_drawn_data_follow_the_rule(name: str, rule: Callable[[float, float], float]) -> None:
    d = load_dataset(name, 300, 200, seed=5)
    for x, y in ((d.x_train, d.y_train), (d.x_test, d.y_test)):
        assert [rule(px, py) for px, py in x] == list(y[:, 0])
        assert 0.3 < y.mean() < 0.7  # both classes present, roughly balanced


def test_xor_points_lie_on_the_diagonals_with_the_right_labels() -> None:
    d = load_dataset("xor", 400, 300, seed=2)
    for x, y in ((d.x_train, d.y_train), (d.x_test, d.y_test)):
        on_diag = np.abs(x[:, 0] - x[:, 1]) < 1e-12  # (t, t): label 0
        on_anti = np.abs(x[:, 0] + x[:, 1] - 1) < 1e-12  # (t, 1 - t): label 1
        assert np.all(on_diag ^ on_anti)  # on exactly one of the two
        np.testing.assert_array_equal(y[:, 0], on_anti.astype(float))
        assert 0.4 < y.mean() < 0.6
        assert x[:, 0].min() < 0.05 and x[:, 0].max() > 0.95  # t covers [0, 1]


def test_xor_easy_is_the_fixed_21_points() -> None:
    x, y = xor_easy()
    assert x.shape == (21, 2) and y.shape == (21, 1)
    assert len({(round(a, 9), round(b, 9)) for a, b in x}) == 21  # no duplicates
    diag, anti = x[y[:, 0] == 0], x[y[:, 0] == 1]
    assert len(diag) == 11 and len(anti) == 10
    t = np.arange(11) / 10  # 0.0, 0.1, ..., 1.0
    np.testing.assert_allclose(diag, np.stack([t, t], axis=1), atol=1e-12)
    anti_t = np.delete(t, 5)  # the centre (0.5, 0.5) is on the diagonal only
    np.testing.assert_allclose(anti, np.stack([anti_t, 1 - anti_t], axis=1), atol=1e-12)
    centre = np.all(np.abs(x - 0.5) < 1e-12, axis=1)
    assert centre.sum() == 1 and y[centre, 0][0] == 0.0


def test_xor_easy_dataset_is_train_and_test() -> None:
    d = load_dataset("xor-easy")
    np.testing.assert_array_equal(d.x_train, d.x_test)
    np.testing.assert_array_equal(d.y_train, d.y_test)
    assert d.x_train is not d.x_test  # independent copies
    assert len(d.x_train) == 21


@pytest.mark.parametrize("name", DATASETS)
def test_shapes_dtypes_and_range(name: str) -> None:
    d = load_dataset(name, 50, 30, seed=0)
    n_train, n_test = (21, 21) if name == "xor-easy" else (50, 30)
    assert d.name == name
    assert d.x_train.shape == (n_train, 2) and d.y_train.shape == (n_train, 1)
    assert d.x_test.shape == (n_test, 2) and d.y_test.shape == (n_test, 1)
    for arr in (d.x_train, d.y_train, d.x_test, d.y_test):
        assert arr.dtype == np.float64
    for x in (d.x_train, d.x_test):
        assert np.all((x >= 0) & (x <= 1))
    for y in (d.y_train, d.y_test):
        assert set(np.unique(y)) <= {0.0, 1.0}


@pytest.mark.parametrize("name", RANDOM_SETS)
def test_default_sizes(name: str) -> None:
    d = load_dataset(name)
    assert len(d.x_train) == 1000 and len(d.x_test) == 1000


@pytest.mark.parametrize("name", RANDOM_SETS)
def test_seeded_determinism_and_independence(name: str) -> None:
    a, b, c = (load_dataset(name, 100, 100, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.x_train, c.x_train)  # another seed, other points
    assert not np.array_equal(a.x_train, a.x_test)  # train and test are separate draws
    assert not np.isin(a.x_train[:, 0], a.x_test[:, 0]).any()


def test_the_same_seed_sequence_gives_the_same_data_twice() -> None:
    ss = np.random.SeedSequence(9)
    first = load_dataset("chessboard", 20, 20, seed=ss)
    second = load_dataset("chessboard", 20, 20, seed=ss)
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(first.x_train, load_dataset("chessboard", 20, 20, seed=9).x_train)


def test_does_not_touch_global_numpy_state() -> None:
    before = np.random.get_state()[1].copy()  # type: ignore[index]  # noqa: NPY002
    load_dataset("xor", 10, 10, seed=0)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # type: ignore[index]  # noqa: NPY002


def test_unknown_name() -> None:
    with pytest.raises(ValueError, match=r"unknown dataset 'spiral'.*linear, xor, xor-easy"):
        load_dataset("spiral")


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("sizes", [(0, 10), (10, -1), (2.5, 10), (10, "7"), (True, 10)])
def test_bad_sizes(name: str, sizes: tuple[object, object]) -> None:
    with pytest.raises(ValueError, match="n_train and n_test must be positive integers"):
        load_dataset(name, *sizes)  # type: ignore[arg-type]


def test_spirals_are_deterministic_and_on_their_arms() -> None:
    from handnet.data import SPIRAL_NOISE, SPIRAL_RADIUS, SPIRAL_TURNS

    a = load_dataset("spirals", 300, 50, seed=4, classes=3)
    b = load_dataset("spirals", 300, 50, seed=4, classes=3)
    assert a.classes == 3 and a.x_train.shape == (300, 2) and a.y_train.shape == (300, 1)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert set(np.unique(a.y_train)) == {0.0, 1.0, 2.0}
    assert not np.array_equal(a.x_train, load_dataset("spirals", 300, 50, seed=5,
                                                      classes=3).x_train)
    # every point is within the radius of the centre, and its angle is its arm's
    # 2 pi k / 3 + 3 pi t (t = r / 0.45) up to the angle noise (0.2 * N(0, 1): 5 sigma = 1)
    d = a.x_train - 0.5
    r = np.hypot(d[:, 0], d[:, 1])
    assert np.all(r <= SPIRAL_RADIUS + 1e-12)
    k = a.y_train[:, 0]
    arm = 2 * np.pi * k / 3 + SPIRAL_TURNS * 2 * np.pi * r / SPIRAL_RADIUS
    off = np.angle(np.exp(1j * (np.arctan2(d[:, 1], d[:, 0]) - arm)))
    assert np.max(np.abs(off)) < 5 * SPIRAL_NOISE


def test_classes_are_checked_per_data_set() -> None:
    with pytest.raises(ValueError, match=r"classes must be 2 for data set 'chessboard' \(got 3\)"):
        load_dataset("chessboard", 10, 10, classes=3)
    with pytest.raises(ValueError, match="classes must be an integer >= 2"):
        load_dataset("spirals", 10, 10, classes=1)


def test_one_hot_rows_and_labels_back() -> None:
    from handnet.data import labels_of, one_hot

    data = one_hot(load_dataset("spirals", 20, 10, seed=1, classes=4))
    assert data.y_train.shape == (20, 4)
    np.testing.assert_array_equal(data.y_train.sum(axis=1), np.ones(20))
    np.testing.assert_array_equal(labels_of(data.y_train),
                                  load_dataset("spirals", 20, 10, seed=1, classes=4).y_train)
