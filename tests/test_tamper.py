"""Tamper evidence (``reference.checker.usercode.snapshot`` / ``tampered``): user code that
replaces what the comparison computes with is named and put back — a module's function, and a
method of a class the twin uses (found by the hostile corpus: ``torch.Tensor.backward``
wrapped at import made a wrong network's gradients agree with the twin's, and outlived the
check in the same process)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from reference.checker.guard import check_file
from reference.checker.usercode import snapshot, tampered


def test_a_replaced_method_of_torch_tensor_is_named_and_put_back() -> None:
    original = torch.Tensor.backward
    before = snapshot()
    torch.Tensor.backward = lambda self, *a, **k: None  # type: ignore[method-assign]
    try:
        assert tampered(before) == ["torch.Tensor.backward"]
        assert torch.Tensor.backward is original
    finally:
        torch.Tensor.backward = original  # type: ignore[method-assign]


def test_a_method_added_to_a_class_to_shadow_an_inherited_one_is_named_and_removed() -> None:
    before = snapshot()
    torch.nn.Linear.__call__ = lambda self, x: x  # type: ignore[method-assign]
    try:
        assert tampered(before) == ["torch.nn.modules.linear.Linear.__call__"]
        assert "__call__" not in vars(torch.nn.Linear)
    finally:
        if "__call__" in vars(torch.nn.Linear):
            delattr(torch.nn.Linear, "__call__")


def test_torch_own_step_hook_on_a_first_optimiser_is_not_tampering() -> None:
    """torch wraps an optimiser class's ``step`` the first time one is built: not the user."""
    sgd = torch.optim.SGD
    hooked = vars(sgd)["step"]
    sgd.step = getattr(hooked, "__wrapped__", hooked)  # as before any SGD was built
    try:
        before = snapshot()
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        assert getattr(vars(sgd)["step"], "hooked", False)  # torch did wrap it
        assert tampered(before) == []
    finally:
        sgd.step = hooked


def test_numpy_error_handling_set_by_the_adapter_does_not_outlive_its_check() -> None:
    before = np.geterr()
    case = Path(__file__).resolve().parent / "hostile" / "ok_seterr_raise_ce.py"
    assert check_file([str(case)]).verdict == "match"  # its module: np.seterr(all="raise")
    assert np.geterr() == before
