"""pytest plugin for mutant runs (``-p planted_bugs.pytest_plugin``): no shrinking, killers first.

* **No shrinking.**  A mutant is killed by the first failing example; shrinking it to a minimal
  one (what makes a real failure readable) only costs time here, up to minutes per mutant.  The
  profile in force (``ci``: derandomized, fixed example counts) is kept as it is, minus the
  shrink and explain phases, so exactly the same examples are generated and a mutant is killed
  or survives exactly as under ``make test``.
* **Cheap, strong tests first.**  With ``-x`` the run stops at the first failure, so the order
  decides the time a kill takes, never whether it happens (a survivor runs everything).
  ``FIRST`` lists, in order, tests that measurement showed to kill whole families of mutants in
  about a second each (docs/mutants.md); every other test follows in its usual order.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import Phase, settings

FIRST = [
    "tests/test_equivalence_fd.py::test_both_gradients_agree_with_finite_differences",
    "tests/test_equivalence_forward.py::test_loss_and_its_gradient_equal_at_the_same_output",
    "tests/test_equivalence_schedule.py::test_lr_sequence_equals_steplr_at_every_epoch",
    "tests/test_equivalence_optim.py::test_momentum_trajectories_equal",
    "tests/test_equivalence_adaptive.py::test_steps_equal_torch_given_the_same_gradients",
    "tests/test_equivalence_schedule.py::test_torch_schedules_lr_equal_to_the_bit",
    "tests/test_equivalence_schedule.py::test_trajectories_equal_across_decay_boundaries",
    "tests/test_equivalence_train.py::test_per_sample_training_equals_the_torch_loop",
    "tests/test_equivalence_gradients.py::test_relu_at_exactly_zero_matches_torch",
]


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    # tests/conftest.py has registered and loaded the profiles by now (initial conftests are
    # imported before pytest_configure); the test modules, whose @settings inherit from the
    # loaded profile, are imported later, at collection.
    base = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    settings.register_profile(
        "mutants", base, phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
    )
    settings.load_profile("mutants")


def rank(nodeid: str) -> int:
    """Position in ``FIRST`` (parametrized ids share their test's rank), else after all."""
    base = nodeid.split("[")[0]
    return FIRST.index(base) if base in FIRST else len(FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: rank(item.nodeid))  # stable: the rest keep their order
