"""Parameter names, one definition: layer ``i``'s weight is ``W{i}``, its bias ``b{i}``.

Every module that builds, parses or orders these names goes through here (checkpoints, the
adapter, the optimisers' bias groups, the twin, the comparison, the check and its diagnosis).
"""

from __future__ import annotations

import re

WEIGHT = "W"
BIAS = "b"
_NAME = re.compile(r"([Wb])(\d+)")


def param_name(kind: str, layer: int) -> str:
    """``("W", 3)`` -> ``"W3"``."""
    if kind not in (WEIGHT, BIAS):
        raise ValueError(f"parameter kind must be {WEIGHT!r} or {BIAS!r}, got {kind!r}")
    return f"{kind}{layer}"


def weight_name(layer: int) -> str:
    return param_name(WEIGHT, layer)


def bias_name(layer: int) -> str:
    return param_name(BIAS, layer)


def pair(layer: int) -> tuple[str, str]:
    """``(W{layer}, b{layer})``."""
    return weight_name(layer), bias_name(layer)


def all_names(n_layers: int) -> list[str]:
    """``W0, b0, W1, b1, ...`` for a network of ``n_layers`` dense layers."""
    return [name for i in range(n_layers) for name in pair(i)]


def parse(name: str) -> tuple[str, int]:
    """``"W3"`` -> ``("W", 3)``; anything else is a ValueError naming it."""
    m = _NAME.fullmatch(name)
    if m is None:
        raise ValueError(f"not a parameter name: {name!r} (expected W<i> or b<i>)")
    return m.group(1), int(m.group(2))


def layer_of(name: str) -> int:
    return parse(name)[1]


def is_bias(name: str) -> bool:
    return parse(name)[0] == BIAS


def is_weight(name: str) -> bool:
    return parse(name)[0] == WEIGHT


def backprop_key(name: str) -> tuple[int, bool]:
    """Sort key for backprop order: the output layer first, a layer's weight before its bias."""
    kind, layer = parse(name)
    return -layer, kind == BIAS
