"""Optimisers with torch's semantics, NumPy only; each applies the gradients it is given.

* :class:`SGD` (``sgd.py``): momentum in torch's and the seed's (classic) convention.
* :class:`Adam`, :class:`AdamW` (``adam.py``): ``torch.optim.Adam`` / ``AdamW``.
* :class:`RMSprop` (``rmsprop.py``): ``torch.optim.RMSprop``.
* :class:`Adagrad` (``adagrad.py``): ``torch.optim.Adagrad``.

Every optimiser has ``lr`` (set by the schedule before a step), ``step(parameters,
gradients)`` (in place, names like ``Network.parameters``), ``decay_of(name)`` (weight decay of
the parameter's group) and its per-parameter state; docs/optimisers.md has the math.
"""

from __future__ import annotations

from handnet.optim.adagrad import Adagrad
from handnet.optim.adam import Adam, AdamW
from handnet.optim.common import Array, is_bias
from handnet.optim.rmsprop import RMSprop
from handnet.optim.sgd import SGD, STYLES

Optimizer = SGD | Adam | RMSprop | Adagrad

__all__ = ["SGD", "STYLES", "Adam", "AdamW", "RMSprop", "Adagrad", "Optimizer", "Array",
           "is_bias"]
