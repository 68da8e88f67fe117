"""Hypothesis profiles and the count of generated cases.

Profiles, chosen by the environment variable ``HYPOTHESIS_PROFILE`` (default ``dev``):

* ``ci``: derandomized (the same examples on every run and machine), no example database,
  ``print_blob`` (a failure prints the blob that reproduces it), fixed example counts, no
  deadline.  ``make test`` uses it.
* ``dev``: random examples, the local database (failures are replayed first), same counts.
* ``thorough``: ten times the examples (``make test-thorough``).

Each property asks for ``examples(n)`` (``tests/support.py``): ``n`` in ``ci`` and ``dev``,
``10 * n`` in ``thorough``.

Every example that runs (hypothesis calls the test body) is counted by wrapping each
hypothesis test's ``inner_test``; examples rejected by ``assume``/``reject`` are not counted.
Under pytest-xdist each worker sends its count to the controller through
``config.workeroutput``.  The session ends with the line ``generated cases: N``.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, settings
from hypothesis.errors import UnsatisfiedAssumption
from threadpoolctl import threadpool_limits

# One thread each for torch and NumPy's BLAS: the suite's arrays are small (threads cost more
# than they give), and pytest-xdist already runs one worker per core.
torch.set_num_threads(1)
threadpool_limits(1)

_COMMON: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, **_COMMON)
settings.register_profile("dev", print_blob=True, **_COMMON)
settings.register_profile("thorough", print_blob=True, **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
settings.load_profile(PROFILE)

_count = {"cases": 0}


def _counted(inner: Any) -> Any:
    @functools.wraps(inner)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            result = inner(*args, **kwargs)
        except UnsatisfiedAssumption:
            raise
        except BaseException:
            _count["cases"] += 1
            raise
        _count["cases"] += 1
        return result

    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        obj = getattr(item, "obj", None)
        handle = getattr(obj, "hypothesis", None)
        if handle is not None and not getattr(handle.inner_test, "_counted", False):
            handle.inner_test = _counted(handle.inner_test)
            handle.inner_test._counted = True


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the count to the controller
        workeroutput["generated_cases"] = _count["cases"]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    _count["cases"] += int(getattr(node, "workeroutput", {}).get("generated_cases", 0))


def pytest_unconfigure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"generated cases: {_count['cases']}")
