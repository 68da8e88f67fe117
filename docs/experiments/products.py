"""The full-batch-1000 step's 11 matrix products: NumPy's BLAS, a compiled loop, MKL (optional).

A one-off measurement behind docs/measurements.md's performance notes, kept so that it can be
run again:

    .venv/bin/python docs/experiments/products.py [path/to/libmkl_rt.so.N]

MKL is not a dependency of handnet; to include it, unpack PyPI's ``mkl`` wheel somewhere
(``pip download --no-deps mkl`` and unzip its ``data/lib``) and pass its ``libmkl_rt``.  All
products run on one thread (threadpoolctl for NumPy, MKL's sequential layer); medians of 300.
"""

from __future__ import annotations

import ctypes
import sys
import time
from collections.abc import Callable

import numpy as np
from numba import njit
from threadpoolctl import threadpool_limits

# (rows, inner, cols, first operand transposed): forward, weight gradients, input gradients of
# the seed network 2-100-50-10-1 at batch 1000.
SHAPES = [(1000, 2, 100, 0), (1000, 100, 50, 0), (1000, 50, 10, 0), (1000, 10, 1, 0),
          (10, 1000, 1, 1), (50, 1000, 10, 1), (100, 1000, 50, 1), (2, 1000, 100, 1),
          (1000, 1, 10, 0), (1000, 10, 50, 0), (1000, 50, 100, 0)]


@njit(cache=True)
def loop_product(a, b, c):  # type: ignore[no-untyped-def]
    """c = a @ b, i-k-j order (the inner loop vectorises)."""
    for i in range(a.shape[0]):
        c[i, :] = 0.0
        for p in range(a.shape[1]):
            api = a[i, p]
            for j in range(b.shape[1]):
                c[i, j] += api * b[p, j]


def median_us(f: Callable[[], object], reps: int = 300) -> float:
    f()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e6


def mkl_product(path: str) -> Callable[[np.ndarray, np.ndarray, np.ndarray, bool], None]:
    lib = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
    lib.MKL_Set_Threading_Layer(ctypes.c_int(1))  # sequential
    dgemm = lib.cblas_dgemm
    i, d, p = ctypes.c_int, ctypes.c_double, ctypes.c_void_p
    dgemm.restype = None
    dgemm.argtypes = [i, i, i, i, i, i, d, p, i, p, i, d, p, i]

    def product(a: np.ndarray, b: np.ndarray, c: np.ndarray, transposed: bool) -> None:
        k, n = a.shape if transposed else a.shape[::-1]
        dgemm(101, 112 if transposed else 111, 111, n, b.shape[1], k, 1.0, a.ctypes.data,
              a.shape[1], b.ctypes.data, b.shape[1], 0.0, c.ctypes.data, b.shape[1])

    return product


Product = Callable[[np.ndarray, np.ndarray, np.ndarray, bool], None]


def measure(shape: tuple[int, int, int, int], rng: np.random.Generator,
            mkl: Product | None) -> dict[str, float]:
    """µs per product of one shape, by each implementation (the results are checked)."""
    n, k, m, transposed = shape
    a = rng.standard_normal((k, n) if transposed else (n, k))
    op = a.T if transposed else a
    op_c = np.ascontiguousarray(op)
    b = rng.standard_normal((k, m))
    c = np.empty((n, m))
    row = {"numpy": median_us(lambda: np.matmul(op, b, out=c)),
           "loop": median_us(lambda: loop_product(op_c, b, c))}
    assert np.allclose(c, op @ b)
    if mkl is not None:
        row["mkl"] = median_us(lambda: mkl(a, b, c, bool(transposed)))
        assert np.allclose(c, op @ b)
    return row


def main() -> None:
    mkl = mkl_product(sys.argv[1]) if len(sys.argv) > 1 else None
    rng = np.random.default_rng(0)
    totals: dict[str, float] = {}
    with threadpool_limits(1):
        for shape in SHAPES:
            row = measure(shape, rng, mkl)
            for key, value in row.items():
                totals[key] = totals.get(key, 0.0) + value
            n, k, m, transposed = shape
            print(f"{n:>5} x {k:>4} @ {m:>3}{' (A.T)' if transposed else '      '}  "
                  + "  ".join(f"{key} {value:8.1f} µs" for key, value in row.items()))
    print("total  " + "  ".join(f"{key} {value:8.1f} µs" for key, value in totals.items()))


if __name__ == "__main__":
    main()
