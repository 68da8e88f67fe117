"""The diagnosis patterns: one enumeration shared by the diagnosis (``diagnose``), the report's
short labels, the tests and the planted-bug catalogue (``planted_bugs/catalogue.toml``'s
``pattern``).

A :class:`Pattern` is a ``str`` (``StrEnum``), so JSON and older string comparisons read it as
its value.
"""

from __future__ import annotations

from enum import StrEnum


class Pattern(StrEnum):
    # fits of one parameter's error by itself
    FACTOR = "factor"
    SIGN = "sign"
    ZERO = "zero"
    TRANSPOSED = "transposed"
    BIAS_MEAN = "bias_mean"
    BIAS_AXIS = "bias_axis"
    BIAS_UNREDUCED = "bias_unreduced"
    # one-change simulations of the backward pass
    DERIV_AT_PREACTIVATION = "deriv_at_preactivation"
    DERIV_AT_OUTPUT = "deriv_at_output"
    DERIV_MISSING = "deriv_missing"
    DERIV_OTHER_LAYER = "deriv_other_layer"
    RELU_AT_ZERO = "relu_at_zero"
    LOSS = "loss"
    WRONG_LAYER_WEIGHTS = "wrong_layer_weights"
    AFTER_UPDATE = "after_update"
    SOFTMAX_ELEMENTWISE = "softmax_elementwise"
    SOFTMAX_TWICE = "softmax_twice"
    # optimiser and schedule variants over the trajectory
    MOMENTUM_STYLE = "momentum_style"
    BIAS_MOMENTUM = "bias_momentum"
    WEIGHT_MOMENTUM = "weight_momentum"
    MOMENTUM_AFTER_USE = "momentum_after_use"
    MOMENTUM_AVERAGE = "momentum_average"
    NESTEROV = "nesterov"
    WEIGHT_DECAY = "weight_decay"
    SCHEDULE_EARLY = "schedule_early"
    SCHEDULE_LATE = "schedule_late"
    SCHEDULE_GAMMA = "schedule_gamma"
    SCHEDULE_UNIT = "schedule_unit"
    # the adaptive optimisers' variants over the trajectory
    ADAM_BIAS_CORRECTION = "adam_bias_correction"
    EPS_INSIDE_SQRT = "eps_inside_sqrt"
    V_PREVIOUS = "v_previous"
    DECAY_COUPLING = "decay_coupling"
    RMSPROP_CENTERED = "rmsprop_centered"
    RMSPROP_ALPHA = "rmsprop_alpha"
    ADAGRAD_LR_DECAY = "adagrad_lr_decay"
    ADAPTIVE_STATE_RESET = "adaptive_state_reset"
    ADAPTIVE_UNDECLARED = "adaptive_undeclared"
    # not a bug of the parameter itself
    FORWARD = "forward"
    OVERFLOW = "overflow"
    CONSEQUENCE = "consequence"
    UNEXPLAINED = "unexplained"
    BROKEN = "broken"
    ODD_DTYPE = "odd_dtype"


SHORT: dict[Pattern, str] = {
    Pattern.FACTOR: "constant factor", Pattern.SIGN: "sign flipped", Pattern.ZERO: "never updated",
    Pattern.TRANSPOSED: "transposed", Pattern.BIAS_MEAN: "bias averaged",
    Pattern.BIAS_AXIS: "bias wrong axis", Pattern.BIAS_UNREDUCED: "bias not reduced",
    Pattern.DERIV_AT_PREACTIVATION: "f' at z", Pattern.DERIV_AT_OUTPUT: "f' at a",
    Pattern.DERIV_MISSING: "f' missing", Pattern.DERIV_OTHER_LAYER: "f' of another layer",
    Pattern.LOSS: "other loss",
    Pattern.AFTER_UPDATE: "delta after update", Pattern.MOMENTUM_STYLE: "momentum convention",
    Pattern.BIAS_MOMENTUM: "bias momentum", Pattern.WEIGHT_MOMENTUM: "weight momentum",
    Pattern.MOMENTUM_AFTER_USE: "buffer after use",
    Pattern.MOMENTUM_AVERAGE: "momentum as average",
    Pattern.SCHEDULE_EARLY: "schedule early", Pattern.SCHEDULE_LATE: "schedule late",
    Pattern.SCHEDULE_GAMMA: "gamma vs 1-gamma", Pattern.FORWARD: "forward differs",
    Pattern.SCHEDULE_UNIT: "updates vs epochs",
    Pattern.RELU_AT_ZERO: "relu'(0) = 1", Pattern.WRONG_LAYER_WEIGHTS: "other layer's W",
    Pattern.NESTEROV: "nesterov formula", Pattern.WEIGHT_DECAY: "weight decay decoupled",
    Pattern.ADAM_BIAS_CORRECTION: "no bias correction", Pattern.EPS_INSIDE_SQRT: "eps inside sqrt",
    Pattern.V_PREVIOUS: "v of previous step", Pattern.DECAY_COUPLING: "decay coupling",
    Pattern.RMSPROP_CENTERED: "centered sign", Pattern.RMSPROP_ALPHA: "alpha vs 1-alpha",
    Pattern.ADAGRAD_LR_DECAY: "lr_decay off by one",
    Pattern.ADAPTIVE_STATE_RESET: "state reset",
    Pattern.ADAPTIVE_UNDECLARED: "adaptive optimiser?",
    Pattern.SOFTMAX_ELEMENTWISE: "softmax' element-wise",
    Pattern.SOFTMAX_TWICE: "softmax applied twice", Pattern.OVERFLOW: "overflows",
    Pattern.CONSEQUENCE: "consequence", Pattern.UNEXPLAINED: "no pattern fits",
    Pattern.BROKEN: "broken",
    Pattern.ODD_DTYPE: "other dtype",
}


def parse_patterns(text: str) -> list[Pattern]:
    """``"factor|loss"`` -> ``[Pattern.FACTOR, Pattern.LOSS]``; ``"-"`` -> ``[]``; an unknown
    name is a ValueError naming it and the known ones."""
    if text == "-":
        return []
    out = []
    for part in text.split("|"):
        try:
            out.append(Pattern(part))
        except ValueError:
            known = ", ".join(p.value for p in Pattern)
            raise ValueError(f"unknown pattern {part!r}; known: {known}") from None
    return out
