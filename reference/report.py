"""The result of ``reference.check``: a per-parameter table as text, the same records as JSON.

Errors are in *gradient units* in both styles: a returned gradient as is, an in-place update
divided by the lr in force at that step (so both tables read alike).  ``max_rel_error`` is the
comparison module's normwise measure ``max |a - e| / (max |e| + s)``, ``s`` the error scale of
the quantity (see ``reference.check``); a parameter is ok when it is at most rtol.  Parameters
are listed in backprop order (output side first); "start here" names the first wrong one in
that order among those that went wrong earliest.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

STYLE_TITLES = {
    "gradient": "style (a): returned gradients vs the twin's autograd gradients",
    "update": "style (b): in-place updates vs the twin's optimiser (errors in update / lr)",
}


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

    @property
    def diagnosis(self) -> str:
        return "; ".join(f"{text} ({ev})" if ev else text for _, text, ev in self.findings)

    @property
    def patterns(self) -> list[str]:
        return [kind for kind, _, _ in self.findings]

    def verdict(self, steps: int) -> str:
        if self.ok:
            return "ok"
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
            "diagnosis": self.diagnosis,
            "patterns": self.patterns,
            "style": self.style,
            "canonical": self.canonical,
            "first_wrong_step": self.first_wrong_step,
        }


@dataclass
class ForwardResult:
    max_abs_error: float
    max_rel_error: float
    ok: bool
    diagnosis: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"max_abs_error": _finite(self.max_abs_error),
                "max_rel_error": _finite(self.max_rel_error), "ok": self.ok,
                "diagnosis": "; ".join(self.diagnosis)}


@dataclass
class Report:
    """Everything ``check`` found; ``exit_code`` is 0 when all matches, 1 otherwise."""

    source: str
    batch: int
    steps: int
    seed: int
    dtype: str
    sizes: list[int]
    activations: list[str]
    loss: str
    tolerance: str
    forward: ForwardResult
    parameters: list[ParameterResult]
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.forward.ok and all(p.ok for p in self.parameters)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    @property
    def wrong(self) -> list[ParameterResult]:
        return [p for p in self.parameters if not p.ok]

    def start_here(self) -> ParameterResult | None:
        """The first wrong parameter in backprop order (output side first), earliest step."""
        wrong = self.wrong
        if not wrong:
            return None
        first = min(p.first_wrong_step or 1 for p in wrong)
        return next(p for p in wrong if (p.first_wrong_step or 1) == first)

    def to_dict(self) -> dict[str, Any]:
        start = self.start_here()
        return {
            "ok": self.ok,
            "verdict": "match" if self.ok else "mismatch",
            "source": self.source,
            "batch": self.batch,
            "steps": self.steps,
            "seed": self.seed,
            "dtype": self.dtype,
            "sizes": self.sizes,
            "activations": self.activations,
            "loss": self.loss,
            "tolerance": self.tolerance,
            "forward": self.forward.to_dict(),
            "parameters": [p.to_dict() for p in self.parameters],
            "start_here": None if start is None else start.name,
            "notes": self.notes,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_text(self) -> str:
        arch = "-".join(map(str, self.sizes))
        lines = [
            f"handnet check: {self.source}",
            f"network {arch}, activations {', '.join(self.activations)}, loss {self.loss}, "
            f"{self.dtype}; batch {self.batch}, {self.steps} step(s), seed {self.seed}; "
            f"tolerance {self.tolerance}",
        ]
        f = self.forward
        verdict = "ok" if f.ok else "DIFFERS"
        lines.append(f"forward output: {verdict} (max abs error {f.max_abs_error:.2e}, "
                     f"max rel error {f.max_rel_error:.2e})")
        for d in f.diagnosis:
            lines.append(f"  forward: {d}")
        for style in ("gradient", "update"):
            rows = [p for p in self.parameters if p.style == style]
            if rows:
                lines += ["", STYLE_TITLES[style], *self._table(rows)]
        lines.append("")
        start = self.start_here()
        if not f.ok:
            lines.append("start here: the forward pass (its output already differs, so every "
                         "gradient after it is suspect)")
        elif start is None:
            lines.append("verdict: every parameter matches the twin")
        else:
            names = ", ".join(p.name for p in self.wrong)
            lines.append(f"verdict: MISMATCH in {names}")
            top = f": {start.findings[0][1].split(' — ')[0]}" if start.findings else ""
            lines.append(f"start here: {start.name} (first wrong in backprop order, output "
                         f"side first){top}")
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


SHORT = {
    "factor": "constant factor", "sign": "sign flipped", "zero": "never updated",
    "transposed": "transposed", "bias_mean": "bias averaged", "bias_axis": "bias wrong axis",
    "bias_unreduced": "bias not reduced", "deriv_at_preactivation": "f' at z",
    "deriv_at_output": "f' at a", "deriv_missing": "f' missing", "loss": "other loss",
    "after_update": "delta after update", "momentum_style": "momentum convention",
    "bias_momentum": "bias momentum", "weight_momentum": "weight momentum",
    "schedule_early": "schedule early", "schedule_late": "schedule late",
    "schedule_gamma": "gamma vs 1-gamma", "forward": "forward differs",
    "relu_at_zero": "relu'(0) = 1", "wrong_layer_weights": "other layer's W",
    "nesterov": "nesterov formula", "weight_decay": "weight decay decoupled",
    "consequence": "consequence", "unexplained": "no pattern fits", "broken": "broken",
}


def _short(p: ParameterResult) -> str:
    if p.ok:
        return ""
    seen: list[str] = []
    for kind in p.patterns:
        label = SHORT.get(kind, kind)
        if label not in seen:
            seen.append(label)
    return ", ".join(seen[:3]) + (" ..." if len(seen) > 3 else "")


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2e}"


def _finite(x: float | None) -> float | str | None:
    if x is None:
        return None
    return x if math.isfinite(x) else str(x)
