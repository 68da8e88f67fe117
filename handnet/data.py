"""The 2-D data sets (points in [0, 1]^2): the seed's three binary ones, and K spirals.

* ``linear``: uniform points, label 1 where ``x > y``.
* ``xor``: points on the two diagonals; ``t ~ U(0, 1)`` and a fair coin picks ``(t, t)``
  (label 0) or ``(t, 1 - t)`` (label 1).  Points near the centre are ambiguous.
* ``xor-easy``: the fixed classic set, ``t = 0.0, 0.1, ..., 1.0`` on both diagonals without the
  duplicate centre on the anti-diagonal: 21 points, used as both train and test set.
* ``chessboard``: uniform points, label ``(floor(4x) + floor(4y)) mod 2`` (a 4 x 4 board).
* ``spirals``: ``classes`` = K >= 2 interleaved spiral arms around (0.5, 0.5), one per class.  A
  point draws its class ``k`` uniformly, ``t ~ U(0, 1)`` and ``e ~ N(0, 1)``; it lies at radius
  ``0.45 * t`` and angle ``2 pi k / K + 3 pi t + 0.2 e`` (one and a half turns, the arm
  blurred by the noise in the angle), i.e. ``(0.5 + r cos a, 0.5 + r sin a)``.

Inputs have shape (n, 2) and labels (n, 1), both float64; a label is the class index 0..K-1
(0 or 1 for the binary sets, ``classes = 2``).  ``one_hot`` turns the labels into rows of K
columns, the targets of a network with one output per class (``Config.n_outputs``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

DATASETS = ("linear", "xor", "xor-easy", "chessboard", "spirals")
MULTICLASS = ("spirals",)  # the data sets whose number of classes is a choice
SPIRAL_TURNS = 1.5
SPIRAL_RADIUS = 0.45
SPIRAL_NOISE = 0.2


@dataclass(frozen=True)
class Dataset:
    name: str
    x_train: Array
    y_train: Array
    x_test: Array
    y_test: Array
    classes: int = 2


def one_hot(data: Dataset) -> Dataset:
    """``data`` with each label (n, 1) replaced by a one-hot row (n, K), K = ``data.classes``."""
    eye = np.eye(data.classes)
    return replace(data, y_train=eye[data.y_train[:, 0].astype(np.intp)],
                   y_test=eye[data.y_test[:, 0].astype(np.intp)])


def labels_of(y: NDArray[np.floating]) -> NDArray[np.floating]:
    """Class labels (n, 1) from targets: a label column as it is, one-hot rows by argmax."""
    return y if y.shape[1] == 1 else np.argmax(y, axis=1)[:, None].astype(np.float64)


def spirals(rng: np.random.Generator, n: int, classes: int) -> tuple[Array, Array]:
    """``n`` points on ``classes`` spiral arms (see the module docstring) and their labels."""
    k = rng.integers(0, classes, size=n)
    t = rng.uniform(0.0, 1.0, size=n)
    e = rng.standard_normal(n)
    angle = 2 * np.pi * k / classes + SPIRAL_TURNS * 2 * np.pi * t + SPIRAL_NOISE * e
    r = SPIRAL_RADIUS * t
    x = np.stack([0.5 + r * np.cos(angle), 0.5 + r * np.sin(angle)], axis=1)
    return x, k.astype(np.float64)[:, None]


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


def _draw(name: str, rng: np.random.Generator, n: int, classes: int) -> tuple[Array, Array]:
    if name == "spirals":
        return spirals(rng, n, classes)
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


def check_classes(name: str, classes: object) -> None:
    """``ValueError`` unless ``classes`` suits data set ``name`` (2 for the binary ones)."""
    if not (isinstance(classes, int | np.integer) and not isinstance(classes, bool)
            and classes >= 2):
        raise ValueError(f"classes must be an integer >= 2, got {classes!r}")
    if name not in MULTICLASS and classes != 2:
        raise ValueError(f"classes must be 2 for data set {name!r} (got {classes}); only "
                         f"{', '.join(MULTICLASS)} take another number")


def load_dataset(
    name: str, n_train: int = 1000, n_test: int = 1000, seed: int | np.random.SeedSequence = 0,
    classes: int = 2,
) -> Dataset:
    """Draw a train and a test set from ``name`` with its own seeded generator.

    The train and test generators are the first two children of ``seed``; a ``SeedSequence``
    passed in is not advanced, so the same one gives the same data every time.  ``xor-easy``
    is fixed: it ignores the sizes and the seed (which are still validated).  ``classes`` is K
    for ``spirals`` and must be 2 for the others.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    check_classes(name, classes)
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
    x_train, y_train = _draw(name, train_rng, n_train, classes)
    x_test, y_test = _draw(name, test_rng, n_test, classes)
    return Dataset(name, x_train, y_train, x_test, y_test, classes)
