"""reference: the PyTorch twin of handnet, the comparison and tolerance policy, and the
hypothesis strategies of the equivalence suite (``reference.strategies``, reusable elsewhere).

Modules mirror ``handnet/``: ``activations``, ``network``, ``losses``, ``optim``, ``schedule``,
``train``; plus ``tolerance`` and ``compare`` (one policy, one comparison), ``shadow`` (train the
twin in lockstep with a handnet run), ``resync`` (the twin rebuilt from handnet's mid-run state
at checkpoint epochs; free-running divergence beside a one-ulp control), ``seed_run`` (the seed
configuration checked both ways) and
``check`` (with ``diagnose``, ``simulate``, ``report``: ``handnet check`` on anyone's network;
``reference.check`` is the function, its module is still importable by ``from ... import``).
"""

from reference.check import check
from reference.compare import Record, assert_matches_reference, compare, format_table
from reference.network import TwinNet, copy_into, to_handnet, to_torch
from reference.tolerance import Tolerance, tolerance

__all__ = [
    "Record", "Tolerance", "TwinNet", "assert_matches_reference", "check", "compare", "copy_into",
    "format_table", "to_handnet", "to_torch", "tolerance",
]
