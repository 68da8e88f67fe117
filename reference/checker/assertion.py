"""``assert_network_matches``: ``handnet check`` as a raise-style assertion for pytest.

In the spirit of ``torch.testing.assert_close`` and ``jax.test_util.check_grads``: it returns
quietly when the network matches its PyTorch twin and raises :class:`NetworkMismatchError`
(an ``AssertionError``) when it does not, so a user's test is one line::

    from reference import assert_network_matches

    def test_my_backprop():
        assert_network_matches("tests/check_mynet.py")   # an adapter file, module or factory

The message is written for pytest's short summary, which shows only its first line: that line
names the wrong parameters and the kind of mistake (``W2, b2 wrong: transposed; start here:
W2``).  The lines below give, per wrong parameter, its worst element under the user's name at
full precision (``repr``: an error of 1e-9 on 1.0 reads ``1.000000001`` against ``1.0``), the
number of elements over tolerance and the tolerance used, then ``handnet check``'s whole
report.  An *inconclusive* check (too little could be compared) raises too: a gate passes only
on a match.

``rtol`` and ``atol`` override the tolerance policy (``reference.comparison.tolerance``) for
ports that accept less, e.g. float32 ports checked by float64 arithmetic: ``rtol`` replaces one
evaluation's budget ``256 * eps(dtype)`` (still growing with the steps compared), ``atol`` adds
an absolute term.  The check runs in the calling process (no separate worker, unlike the
command line): adapter errors and exceptions of the user's code propagate as they are.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from handnet.adapter import Adapter, AdapterError
from handnet.verdict import Verdict
from reference.checker.check import check
from reference.checker.patterns import Pattern
from reference.checker.report import Report, short_labels

AdapterLike = str | os.PathLike[str] | ModuleType | Adapter | Callable[[], Adapter]


class NetworkMismatchError(AssertionError):
    """The network does not match its twin (or could not be verified); ``report`` is the
    full ``reference.check`` report."""

    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report


# Named where users import it from: pytest's short summary prints the qualified name first.
NetworkMismatchError.__module__ = "reference"


def _source(adapter: AdapterLike) -> tuple[Adapter | Callable[[], Adapter], str]:
    if isinstance(adapter, str | os.PathLike):
        # imported here: ``python -m reference.checker.guard`` imports this package first
        from reference.checker.guard import load_adapter_module

        module = load_adapter_module(os.fspath(adapter))
        return module.adapter, os.fspath(adapter)
    if isinstance(adapter, ModuleType):
        factory = getattr(adapter, "adapter", None)
        if not callable(factory):
            raise AdapterError(f"module {adapter.__name__} defines no function adapter()")
        return factory, getattr(adapter, "__file__", None) or adapter.__name__
    if isinstance(adapter, Adapter) or callable(adapter):
        name = getattr(adapter, "__module__", "") or ""
        return adapter, Path(name).name or "adapter"
    raise AdapterError(f"expected an adapter file path, a module defining adapter(), a "
                       f"factory or an Adapter; got {type(adapter).__name__}")


def _patterns(report: Report) -> str:
    kinds = (k for p in report.wrong for k in p.patterns if k != Pattern.CONSEQUENCE)
    return ", ".join(short_labels(kinds)) or "no pattern fits"


def first_line(report: Report) -> str:
    """What pytest's short summary shows: the wrong parameters and the pattern."""
    v = report.verdict
    if v is Verdict.INCONCLUSIVE:
        return ("network could not be verified against the PyTorch twin (inconclusive): "
                + report.inconclusive[0])
    if not report.forward.ok:
        why = "; ".join(report.forward.diagnosis) or "no forward pattern fits"
        return f"network's forward output differs from the PyTorch twin's: {why}"
    if report.wrong:
        names = ", ".join(p.name for p in report.wrong)
        start = report.start_here_name()
        return f"{names} wrong: {_patterns(report)}; start here: {start}"
    return "network does not match the PyTorch twin: " + "; ".join(report.faults)


def message(report: Report) -> str:
    lines = [first_line(report)]
    lines += ["  " + p.worst.describe() for p in report.wrong if p.worst is not None]
    lines += ["", report.to_text()]
    return "\n".join(lines)


def assert_network_matches(
    adapter: AdapterLike,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    batch: int | None = None,
    steps: int | None = None,
    seed: int = 0,
) -> Report:
    """Check the network against its twin; raise :class:`NetworkMismatchError` unless it
    matches.  ``adapter``: an adapter file's path, a module defining ``adapter()``, the
    factory itself, or an ``Adapter``.  Returns the report of a match."""
    __tracebackhide__ = True  # pytest: the failure is the caller's line
    factory, source = _source(adapter)
    report = check(factory, batch=batch, steps=steps, seed=seed, source=source, rtol=rtol,
                   atol=atol)
    if report.verdict is not Verdict.MATCH:
        raise NetworkMismatchError(message(report), report)
    return report
