"""A parameter of one element (the bias of a single output) is a multiple of any expected value:
a constant factor fitted to it says nothing unless it follows a named law or stays the same
across batch sizes. Found by the hostile corpus: a train_step whose forward leaves out the
hidden bias had b2 reported as "constant factor" (patterns ["factor"]) with factors -0.21 at
batch 5 and 0.86 at batch 8 — a confident name for a pattern that is not the fault."""

from __future__ import annotations

from pathlib import Path

from reference.checker.guard import check_file

HOSTILE = Path(__file__).resolve().parent / "hostile"


def _patterns(name: str) -> dict[str, list[str]]:
    outcome = check_file([str(HOSTILE / name)])
    assert outcome.verdict == "mismatch", outcome.text
    return {p["name"]: p["patterns"] for p in outcome.data["parameters"]}


def test_a_one_element_bias_whose_factor_changes_with_the_batch_is_not_a_constant_factor() -> None:
    patterns = _patterns("train_forward_no_bias.py")
    assert "factor" not in patterns["b2"], patterns


def test_a_one_element_bias_off_by_a_named_factor_is_still_named() -> None:
    # sse's 2 under half-sse: every parameter, b2 (one element) included, is off by 2
    patterns = _patterns("property_copy.py")
    assert "factor" in patterns["b2"], patterns
