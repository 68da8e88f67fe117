"""The verdicts of ``handnet check`` and their exit codes: the one definition.

A CI gate must tell "your backprop is wrong" from "too little could be compared", from "your
code crashed", from "the checker broke", so each has its own exit code:

========  ================  ==========================================================
exit      verdict           meaning
========  ================  ==========================================================
0         match             every comparison the run promised ran, and every one matched
1         mismatch          the network computes something else than the twin (a wrong
                            forward, gradient or update, or user code that changed the
                            arrays it was handed)
2         adapter-error     the command line or the adapter's declarations are unusable
3         inconclusive      too little could be compared to say either (the twin unstable
                            at step 1, not finite for these inputs, fewer steps than
                            promised); the report says why and what to try
4         user-error        the user's code raised, exited, or did not return in time
5         internal-error    the checker itself failed: a bug of ours, not of the network
========  ================  ==========================================================

Several networks at once (``handnet check a.py b.py`` or a folder) exit with the code of the
verdict that comes first in :data:`BATCH_PRIORITY`, present in at least one network: the
checker broke (5), an adapter is unusable (2), a network's code crashed or hung (4), a network is
wrong (1), one could not be decided (3); 0 only when every network matches.  The first two say
the batch itself needs fixing before its table can be read as grades; the next three go from the
most to the least definite finding about a network.

Every ``handnet`` command uses the same codes: 0 success, 2 bad input (a usage error, one
line naming the problem), 5 an unexpected exception (one line, with a request to report it),
130 interrupted; ``check`` adds 1, 3 and 4 as above.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERNAL = 5
EXIT_INTERRUPTED = 130

SCHEMA_VERSION = 3  # of the JSON report (reference/checker/report.schema.json)


class Verdict(Enum):
    MATCH = ("match", EXIT_OK)
    MISMATCH = ("mismatch", 1)
    ADAPTER_ERROR = ("adapter-error", EXIT_USAGE)
    INCONCLUSIVE = ("inconclusive", 3)
    USER_ERROR = ("user-error", 4)
    INTERNAL_ERROR = ("internal-error", EXIT_INTERNAL)

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def exit_code(self) -> int:
        return self.value[1]

    @classmethod
    def of(cls, label: str) -> Verdict:
        for v in cls:
            if v.label == label:
                return v
        raise ValueError(f"no verdict {label!r}")


BATCH_PRIORITY: tuple[Verdict, ...] = (
    Verdict.INTERNAL_ERROR, Verdict.ADAPTER_ERROR, Verdict.USER_ERROR, Verdict.MISMATCH,
    Verdict.INCONCLUSIVE, Verdict.MATCH,
)


def batch_verdict(verdicts: Iterable[Verdict]) -> Verdict:
    """The verdict (and so the exit code) of a batch: the first of :data:`BATCH_PRIORITY`
    among ``verdicts`` (at least one)."""
    present = set(verdicts)
    for v in BATCH_PRIORITY:
        if v in present:
            return v
    raise ValueError("a batch needs at least one verdict")


def error_object(verdict: Verdict, source: str, message: str) -> dict[str, Any]:
    """The JSON object of a check that ended without a report (an error of any kind)."""
    return {"schema_version": SCHEMA_VERSION, "verdict": verdict.label,
            "exit_code": verdict.exit_code, "ok": False, "source": source, "error": message}


class UserCodeError(Exception):
    """The user's code (the adapter file, ``adapter()``, ``forward``, ``gradients``,
    ``train_step``, ``start_epoch``) raised, exited or hung; the message names the call and
    the user's file:line."""
