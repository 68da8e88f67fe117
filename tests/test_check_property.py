"""No false alarms: correct user-style networks, in every layout, never get a mismatch.

They pass (exit 0), or — where the run could not see everything declared (a momentum whose
effect stays within the tolerance over the steps asked for, a schedule whose decay the steps
do not reach, training unstable before the last step) — are inconclusive (exit 3), for the
reasons the report gives and for no other.

Networks, optimisers and schedules come from the suite's strategies
(``reference.comparison.strategies``); the layouts vary over everything the adapter protocol
covers: weights (in, out) or (out, in), samples as rows or columns, biases as rows, columns,
vectors, folded into the weight or absent, parameters as attributes, a list or a dict, gradients
returned or in-place steps (updating in place or rebinding), over several steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from support import examples
from user_layouts import Layout, Opt, PlantedNet

from handnet.adapter import CHECKED_LOSSES, Adapter
from handnet.verdict import Verdict
from reference.checker.check import check
from reference.comparison.strategies import (
    NetSpec,
    OptSpec,
    ScheduleSpec,
    network_specs,
    optimizer_specs,
    output_for,
    schedule_specs,
)


@st.composite
def layouts(draw: st.DrawFn) -> Layout:
    return Layout(
        weight=draw(st.sampled_from(("in_out", "out_in"))),
        bias=draw(st.sampled_from(("row", "column", "vector", "folded", "none"))),
        inputs=draw(st.sampled_from(("rows", "columns"))),
        container=draw(st.sampled_from(("attrs", "list", "dict"))),
        mode=draw(st.sampled_from(("gradients", "train_step"))),
        rebind=draw(st.booleans()),
    )


@dataclass(frozen=True)
class Case:
    net: NetSpec
    loss: str
    layout: Layout
    opt: OptSpec
    schedule: ScheduleSpec
    batch: int | None
    steps: int | None
    seed: int
    randomize: bool

    def adapter(self) -> Adapter:
        built = self.net.build()
        initial = [(layer.parameters["W"], layer.parameters["b"]) for layer in built.layers]
        opt = Opt(self.opt.lr, self.opt.momentum, self.opt.style, self.opt.bias_momentum,
                  self.opt.nesterov, self.opt.weight_decay, self.schedule.lr_epoch,
                  self.schedule.lr_gamma)
        ad = PlantedNet(self.net.sizes, self.net.activations, self.loss, self.layout, opt,
                        dtype=np.dtype(self.net.dtype).type, initial=initial).adapter()
        ad.randomize = self.randomize  # the strategies' parameters, or the check's own
        return ad


@st.composite
def cases(draw: st.DrawFn) -> Case:
    loss = draw(st.sampled_from(CHECKED_LOSSES))
    net = output_for(draw(network_specs(max_depth=4, max_width=8)), loss)
    layout = draw(layouts())
    steps = draw(st.none() | st.integers(1, 5 if layout.mode == "train_step" else 3))
    return Case(net, loss, layout, draw(optimizer_specs()), draw(schedule_specs()),
                draw(st.none() | st.integers(1, 16)), steps, draw(st.integers(0, 2**16)),
                draw(st.booleans()))


@examples(200)
@given(case=cases())
def test_correct_networks_raise_no_false_alarm(case: Case) -> None:
    report = check(case.adapter, batch=case.batch, steps=case.steps, seed=case.seed)
    assert report.verdict in (Verdict.MATCH, Verdict.INCONCLUSIVE), report.to_text()
    for reason in report.inconclusive:
        if reason.startswith("only "):
            assert report.unstable_at is not None, report.to_text()
        else:
            assert reason.startswith("not tested: "), report.to_text()
