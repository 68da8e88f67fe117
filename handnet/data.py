"""The three 2-D data sets of the seed (points in [0, 1]^2, binary labels), each seeded.

* ``linear``: uniform points, label 1 where ``x > y``.
* ``xor``: points on the two diagonals; ``t ~ U(0, 1)`` and a fair coin picks ``(t, t)``
  (label 0) or ``(t, 1 - t)`` (label 1).  Points near the centre are ambiguous.
* ``xor-easy``: the fixed classic set, ``t = 0.0, 0.1, ..., 1.0`` on both diagonals without the
  duplicate centre on the anti-diagonal: 21 points, used as both train and test set.
* ``chessboard``: uniform points, label ``(floor(4x) + floor(4y)) mod 2`` (a 4 x 4 board).

Inputs have shape (n, 2) and labels (n, 1), both float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

DATASETS = ("linear", "xor", "xor-easy", "chessboard")


@dataclass(frozen=True)
class Dataset:
    name: str
    x_train: Array
    y_train: Array
    x_test: Array
    y_test: Array


def linear_labels(x: Array) -> Array:
    return (x[:, 0] > x[:, 1]).astype(np.float64)[:, None]


def chessboard_labels(x: Array) -> Array:
    cells = np.floor(4 * x).astype(np.int64)
    return ((cells[:, 0] + cells[:, 1]) % 2).astype(np.float64)[:, None]


def _uniform(rng: np.random.Generator, n: int) -> Array:
    return rng.uniform(0.0, 1.0, size=(n, 2))


def _xor(rng: np.random.Generator, n: int) -> tuple[Array, Array]:
    t = rng.uniform(0.0, 1.0, size=n)
    anti = rng.integers(0, 2, size=n).astype(np.float64)
    x = np.stack([t, np.where(anti == 1, 1.0 - t, t)], axis=1)
    return x, anti[:, None]


def xor_easy() -> tuple[Array, Array]:
    t = np.round(np.arange(11) * 0.1, 10)
    diag = np.stack([t, t], axis=1)
    anti_t = t[t != 0.5]
    anti = np.stack([anti_t, 1.0 - anti_t], axis=1)
    x = np.concatenate([diag, anti])
    y = np.concatenate([np.zeros(len(diag)), np.ones(len(anti))])[:, None]
    return x, y


def _draw(name: str, rng: np.random.Generator, n: int) -> tuple[Array, Array]:
    if name == "linear":
        x = _uniform(rng, n)
        return x, linear_labels(x)
    if name == "chessboard":
        x = _uniform(rng, n)
        return x, chessboard_labels(x)
    if name == "xor":
        return _xor(rng, n)
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")


def _is_count(n: object) -> bool:
    return isinstance(n, int | np.integer) and not isinstance(n, bool) and bool(n > 0)


def load_dataset(
    name: str, n_train: int = 1000, n_test: int = 1000, seed: int | np.random.SeedSequence = 0
) -> Dataset:
    """Draw a train and a test set from ``name`` with its own seeded generator.

    The train and test generators are the first two children of ``seed``; a ``SeedSequence``
    passed in is not advanced, so the same one gives the same data every time.  ``xor-easy``
    is fixed: it ignores the sizes and the seed (which are still validated).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if not (_is_count(n_train) and _is_count(n_test)):
        raise ValueError(
            f"n_train and n_test must be positive integers, got {n_train!r} and {n_test!r}"
        )
    if name == "xor-easy":
        x, y = xor_easy()
        return Dataset(name, x, y, x.copy(), y.copy())
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    # The children root.spawn(2) would give on a fresh root, without mutating root.
    train_ss, test_ss = (
        np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, i),
                               pool_size=root.pool_size)
        for i in range(2)
    )
    train_rng, test_rng = np.random.default_rng(train_ss), np.random.default_rng(test_ss)
    x_train, y_train = _draw(name, train_rng, n_train)
    x_test, y_test = _draw(name, test_rng, n_test)
    return Dataset(name, x_train, y_train, x_test, y_test)
