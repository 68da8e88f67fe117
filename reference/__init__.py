"""reference: the PyTorch side of handnet, in four rooms.

``reference.twin``
    The PyTorch twin, module by module as ``handnet/``: ``network``, ``activations``, ``losses``,
    ``optim``, ``schedule``, ``train`` (torch.nn.functional, torch.optim, lr_scheduler).
``reference.comparison``
    The one tolerance policy (``tolerance``, with the error scales of ``scales``), the one
    comparison (``compare``), the lockstep harness (``harness``) and the hypothesis strategies of
    the equivalence suite (``strategies``, reusable by other projects).
``reference.checker``
    ``handnet check`` on anyone's network: the plan (``checkplan``), the run (``check``), the
    diagnosis (``diagnose`` with the bug simulations of ``simulate``), the report (``report``),
    and the guarded process user code runs in (``guard``, ``usercode``).
``reference.experiments``
    Studies built on the twin: ``shadow`` (the twin in lockstep with a handnet run), ``resync``,
    ``seed_run`` (the seed configuration checked both ways), ``bench`` (torch's timings).

The names below are the public API; ``reference.check`` is the check function.
"""

# The marker ``handnet.twin`` reads (without importing) to tell this package from another one
# named ``reference`` that comes first on the module path (a user's own folder).
__handnet_twin__ = 1

from reference.checker.assertion import NetworkMismatchError, assert_network_matches
from reference.checker.check import check
from reference.comparison.compare import (
    MismatchError,
    Record,
    assert_matches_reference,
    compare,
    format_table,
)
from reference.comparison.tolerance import Tolerance, tolerance
from reference.twin.network import TwinNet, copy_into, to_handnet, to_torch

__all__ = [
    "MismatchError", "NetworkMismatchError", "Record", "Tolerance", "TwinNet",
    "assert_matches_reference", "assert_network_matches", "check", "compare", "copy_into",
    "format_table", "to_handnet", "to_torch", "tolerance",
]
