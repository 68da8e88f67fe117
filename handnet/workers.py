"""Run independent jobs in spawned worker processes and yield results as they finish."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def as_completed_in_workers(
    fn: Callable[[T], R],
    items: Iterable[T],
    workers: int,
    initializer: Callable[[], None] | None = None,
) -> Iterator[R]:
    """``fn(item)`` for every item over ``workers`` spawned processes, yielded in finishing order.

    The first exception raised by a job cancels the jobs not yet started and propagates.
    ``fn`` and the items must be picklable (module-level functions, plain data).
    """
    pool = ProcessPoolExecutor(max_workers=workers, initializer=initializer,
                               mp_context=multiprocessing.get_context("spawn"))
    try:
        pending: set[Future[R]] = {pool.submit(fn, item) for item in items}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
