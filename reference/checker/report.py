"""The result of ``reference.checker.check``: a per-parameter table as text, the same records as
JSON.

Errors are in *gradient units* in both styles: a returned gradient as is, an in-place update
divided by the lr in force at that step (so both tables read alike).  ``max_rel_error`` is the
comparison module's normwise measure ``max |a - e| / (max |e| + s)``, ``s`` the error scale of
the quantity (see ``reference.checker.check``); a parameter is ok when it is at most rtol.
Parameters are listed in backprop order (output side first); "start here" names the first wrong one
in that order among those that went wrong earliest.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from handnet.verdict import SCHEMA_VERSION, Verdict
from reference.checker.patterns import SHORT, Pattern
from reference.comparison.compare import Record
from reference.comparison.tolerance import Tolerance

STYLE_TITLES = {
    "gradient": "style (a): returned gradients vs the twin's autograd gradients",
    "update": "style (b): in-place updates vs the twin's optimiser (errors in update / lr)",
}


@dataclass(frozen=True)
class WorstElement:
    """A parameter's worst element at its worst step (largest error relative to tolerance),
    at full precision, with how many elements of that step were over tolerance."""

    element: str  # the user's expression, e.g. "self.W2[3, 0]"
    step: int
    actual: float
    expected: float
    abs_error: float
    rel_error: float
    mismatched: int
    total: int
    rtol: float
    atol: float

    @classmethod
    def of(cls, rec: Record, step: int, element: str | None) -> WorstElement:
        where = element or f"{rec.name}[{', '.join(map(str, rec.worst_index))}]"
        return cls(where, step, rec.actual_at_worst, rec.expected_at_worst, rec.max_abs_error,
                   rec.max_rel_error, rec.mismatched, rec.total, rec.rtol, rec.atol)

    def to_dict(self) -> dict[str, Any]:
        return {k: _finite(v) if isinstance(v, float) else v
                for k, v in self.__dict__.items()}

    def describe(self) -> str:
        """One line, values as ``repr`` (full precision)."""
        tol = f"rtol {self.rtol!r}" + (f", atol {self.atol!r}" if self.atol else "")
        return (f"{self.element}: got {self.actual!r}, expected {self.expected!r} (abs error "
                f"{self.abs_error!r}; {self.mismatched} of {self.total} elements over "
                f"tolerance at step {self.step}; {tol})")


@dataclass
class ParameterResult:
    """One parameter's verdict; ``name`` and ``shape`` are the user's."""

    name: str
    canonical: str
    shape: tuple[int, ...]
    style: str
    max_abs_error: float | None
    max_rel_error: float | None
    ok: bool
    first_wrong_step: int | None = None
    findings: list[tuple[str, str, str]] = field(default_factory=list)  # kind, text, evidence
    worst: WorstElement | None = None
    # the worst step's actual and expected arrays, canonical layout (W: in x out), for plots
    arrays: tuple[Any, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def diagnosis(self) -> str:
        return "; ".join(f"{text} ({ev})" if ev else text for _, text, ev in self.findings)

    @property
    def patterns(self) -> list[str]:
        return [kind for kind, _, _ in self.findings]

    @property
    def consequence(self) -> bool:
        """Wrong only after another parameter went wrong first, with nothing of its own that
        explains it: a consequence, listed apart from the root causes."""
        return not self.ok and self.patterns == ["consequence"]

    def verdict(self, steps: int) -> str:
        if self.ok:
            return "ok"
        if self.consequence:
            return f"follows (step {self.first_wrong_step})"
        if steps > 1 and self.first_wrong_step is not None:
            return f"WRONG (step {self.first_wrong_step})"
        return "WRONG"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "max_abs_error": _finite(self.max_abs_error),
            "max_rel_error": _finite(self.max_rel_error),
            "ok": self.ok,
            "consequence": self.consequence,
            "diagnosis": self.diagnosis,
            "patterns": self.patterns,
            "style": self.style,
            "canonical": self.canonical,
            "first_wrong_step": self.first_wrong_step,
            "rtol": None if self.worst is None else self.worst.rtol,
            "atol": None if self.worst is None else self.worst.atol,
            "worst": None if self.worst is None else self.worst.to_dict(),
        }


@dataclass
class ForwardResult:
    max_abs_error: float
    max_rel_error: float
    ok: bool
    diagnosis: list[str] = field(default_factory=list)
    # A near match: the forward differs by a small relative amount (tolerance.NEAR_MATCH_LIMIT);
    # gradients and updates are then judged with that difference as the per-evaluation error.
    near: bool = False
    # the patterns the forward's findings name (the loss probe's OVERFLOW)
    patterns: list[Pattern] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"max_abs_error": _finite(self.max_abs_error),
                "max_rel_error": _finite(self.max_rel_error), "ok": self.ok,
                "near_match": self.near,
                "diagnosis": "; ".join(self.diagnosis),
                "patterns": [str(p) for p in self.patterns]}


@dataclass
class Report:
    """Everything ``check`` found; ``verdict`` (``handnet.verdict``) says what it adds up to."""

    source: str
    batch_sizes: list[int]
    steps: int
    seed: int
    dtype: str
    sizes: list[int]
    activations: list[str]
    loss: str
    tolerance: Tolerance  # at step 0: one evaluation's budget
    forward: ForwardResult
    parameters: list[ParameterResult]
    notes: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)  # wrong beyond any one parameter
    untested: list[str] = field(default_factory=list)  # declared, but not observable
    randomized: bool = False
    epochs: list[int] | None = None
    compared_steps: int | None = None  # style (b): steps actually compared
    unstable_at: int | None = None

    @property
    def wrong(self) -> list[ParameterResult]:
        """The parameters at fault (root causes); consequences are apart."""
        return [p for p in self.parameters if not p.ok and not p.consequence]

    @property
    def consequences(self) -> list[ParameterResult]:
        return [p for p in self.parameters if p.consequence]

    @property
    def inconclusive(self) -> list[str]:
        """Why too little was compared to call it a match (empty: everything promised ran)."""
        out = []
        if self.compared_steps is not None and self.compared_steps < self.steps:
            why = (f"the twin's training became unstable at step {self.unstable_at}"
                   if self.unstable_at else "the trajectory stopped early")
            out.append(f"only {self.compared_steps} of the {self.steps} steps promised were "
                       f"compared: {why} (try a smaller lr in the adapter, or fewer --steps)")
        out += [f"not tested: {u}" for u in self.untested]
        return out

    @property
    def verdict(self) -> Verdict:
        if not self.forward.ok or self.faults or any(not p.ok for p in self.parameters):
            return Verdict.MISMATCH
        if self.inconclusive:
            return Verdict.INCONCLUSIVE
        return Verdict.MATCH

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.MATCH

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code

    @property
    def batch(self) -> int:
        return self.batch_sizes[0]

    def start_here(self) -> ParameterResult | None:
        """The first wrong parameter in backprop order (output side first), earliest step."""
        wrong = self.wrong
        if not wrong:
            return None
        first = min(p.first_wrong_step or 1 for p in wrong)
        return next(p for p in wrong if (p.first_wrong_step or 1) == first)

    def start_here_name(self) -> str | None:
        """Where to look first, as the text says it: "forward", a parameter, or nothing.

        A near match of the forward is a finding, but a parameter wrong beyond it comes first.
        """
        start = self.start_here()
        if not self.forward.ok and not (self.forward.near and start is not None):
            return "forward"
        return None if start is None else start.name

    def to_dict(self) -> dict[str, Any]:
        v = self.verdict
        return {
            "schema_version": SCHEMA_VERSION,
            "verdict": v.label,
            "exit_code": v.exit_code,
            "ok": self.ok,
            "source": self.source,
            "batch": self.batch,
            "batch_sizes": self.batch_sizes,
            "steps": self.steps,
            "compared_steps": self.compared_steps,
            "epochs": self.epochs,
            "seed": self.seed,
            "dtype": self.dtype,
            "sizes": self.sizes,
            "activations": self.activations,
            "loss": self.loss,
            "randomized": self.randomized,
            "tolerance": {"rtol": self.tolerance.base, "atol": self.tolerance.atol,
                          "rule": self.tolerance_text(), "growth": "rtol * (1 + steps)"},
            "forward": self.forward.to_dict(),
            "parameters": [p.to_dict() for p in self.parameters],
            "start_here": self.start_here_name(),
            "root_causes": [p.name for p in self.wrong],
            "consequences": [p.name for p in self.consequences],
            "faults": self.faults,
            "inconclusive": self.inconclusive,
            "untested": self.untested,
            "notes": self.notes,
        }

    def tolerance_text(self) -> str:
        t = self.tolerance
        atol = f" + atol {t.atol!r}" if t.atol else ""
        return (f"rtol = {t.base_rule} * (1 + steps) = {t.base:.2e} for a gradient, relative "
                f"to max|expected| + its error scale{atol}")

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_text(self) -> str:
        arch = "-".join(map(str, self.sizes))
        sizes = sorted(set(self.batch_sizes))
        batch = "batch " + "/".join(map(str, sizes)) + (" (alternating)" if len(sizes) > 1
                                                         else "")
        epochs = ""
        if self.epochs is not None and self.epochs != list(range(len(self.epochs))):
            epochs = f" at epochs {', '.join(map(str, self.epochs))}"
        lines = [
            f"handnet check: {self.source}",
            f"network {arch}, activations {', '.join(self.activations)}, loss {self.loss}, "
            f"{self.dtype}; {batch}, {self.steps} step(s){epochs}, seed {self.seed}"
            + ("; parameters set to random values" if self.randomized else "")
            + f"; tolerance {self.tolerance_text()}",
        ]
        f = self.forward
        verdict = "ok" if f.ok else ("DIFFERS SLIGHTLY (near match)" if f.near else "DIFFERS")
        lines.append(f"forward output: {verdict} (max abs error {f.max_abs_error:.2e}, "
                     f"max rel error {f.max_rel_error:.2e})")
        for d in f.diagnosis:
            lines.append(f"  forward: {d}")
        for style in ("gradient", "update"):
            rows = [p for p in self.parameters if p.style == style]
            if rows:
                lines += ["", STYLE_TITLES[style], *self._table(rows)]
        lines.append("")
        lines += [f"FAULT: {fault}" for fault in self.faults]
        start = self.start_here()
        v = self.verdict
        if not f.ok and f.near and start is not None:
            lines.append("verdict: MISMATCH in " + ", ".join(p.name for p in self.wrong)
                         + " (and the forward pass differs slightly)")
            if self.consequences:
                lines.append("  (" + ", ".join(p.name for p in self.consequences) + " differ "
                             "later only as a consequence)")
            top = f": {start.findings[0][1].split(' — ')[0]}" if start.findings else ""
            lines.append(f"start here: {start.name} (wrong beyond what the forward's small "
                         f"difference explains){top}")
        elif not f.ok and f.near:
            lines.append("verdict: MISMATCH in the forward pass, slightly (every gradient and "
                         "update agrees within what that difference explains)")
            lines.append("start here: the forward pass (see its hints above)")
        elif not f.ok and start is None and Pattern.OVERFLOW in f.patterns:
            lines.append("verdict: MISMATCH in the forward pass at large logits (it overflows)")
            lines.append("start here: the forward pass (its softmax, log-softmax or loss; see "
                         "the hint above)")
        elif not f.ok:
            lines.append("verdict: MISMATCH in the forward pass")
            lines.append("start here: the forward pass (its output already differs, so every "
                         "gradient after it is suspect)")
        elif start is not None:
            names = ", ".join(p.name for p in self.wrong)
            lines.append(f"verdict: MISMATCH in {names}")
            if self.consequences:
                lines.append("  (" + ", ".join(p.name for p in self.consequences) + " differ "
                             "later only as a consequence)")
            top = f": {start.findings[0][1].split(' — ')[0]}" if start.findings else ""
            lines.append(f"start here: {start.name} (first wrong in backprop order, output "
                         f"side first){top}")
        elif v is Verdict.MISMATCH:
            lines.append("verdict: MISMATCH (see FAULT above)")
        elif v is Verdict.INCONCLUSIVE:
            lines.append("verdict: INCONCLUSIVE: nothing compared differs, but the run could "
                         "not compare everything it promised")
            lines += [f"  - {reason}" for reason in self.inconclusive]
        else:
            lines.append("verdict: every parameter matches the twin")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _table(self, rows: list[ParameterResult]) -> list[str]:
        name_w = max(9, *(len(p.name) for p in rows))
        header = (f"  {'parameter':<{name_w}}  {'shape':<10} {'max abs err':>11} "
                  f"{'max rel err':>11}  {'verdict':<15} diagnosis")
        out = [header]
        for p in rows:
            shape = "(" + ", ".join(map(str, p.shape)) + ("," if len(p.shape) == 1 else "") + ")"
            short = _short(p)
            out.append(f"  {p.name:<{name_w}}  {shape:<10} {_num(p.max_abs_error):>11} "
                       f"{_num(p.max_rel_error):>11}  {p.verdict(self.steps):<15} {short}")
        groups: dict[str, tuple[list[str], str]] = {}
        for p in rows:
            if p.ok:
                continue
            for _, text, ev in p.findings:
                names, first_ev = groups.setdefault(text, ([], ev))
                names.append(p.name)
        if groups:
            out.append("  diagnosis:")
        for text, (names, ev) in groups.items():
            out.append(f"  - {', '.join(names)}: {text}" + (f" [{ev}]" if ev else ""))
        return out




def short_labels(kinds: Iterable[str]) -> list[str]:
    """The short labels of pattern names, each once, in order."""
    seen: list[str] = []
    for kind in kinds:
        label = SHORT.get(kind, kind)  # type: ignore[call-overload]  # a str finds a StrEnum key
        if label not in seen:
            seen.append(label)
    return seen


def _short(p: ParameterResult) -> str:
    if p.ok:
        return ""
    seen = short_labels(p.patterns)
    return ", ".join(seen[:3]) + (" ..." if len(seen) > 3 else "")


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2e}"


def _finite(x: float | None) -> float | str | None:
    if x is None:
        return None
    return x if math.isfinite(x) else str(x)
