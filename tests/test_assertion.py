"""``reference.assert_network_matches``: handnet check as a raise-style pytest assertion.

Its first line (what pytest's short summary shows) names the wrong parameters and the pattern;
values are printed at full precision with the count of elements over tolerance; ``rtol`` and
``atol`` go through the tolerance policy; ``assert_matches_reference``'s error has a message.
A user-style pytest file is run in a temporary folder, as a user would run it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from support import README, readme_blocks

from handnet.adapter import Adapter, Layer
from reference import (
    MismatchError,
    NetworkMismatchError,
    assert_matches_reference,
    assert_network_matches,
)
from reference.comparison.tolerance import C

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "per_sample"


class Linear:
    """y = x @ W + b, half-sse; its W gradient scaled by ``1 + error`` (0: correct)."""

    def __init__(self, error: float = 0.0) -> None:
        rng = np.random.default_rng(3)
        self.W, self.b = rng.standard_normal((3, 2)), rng.standard_normal((1, 2))
        self.error = error

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x @ self.W + self.b

    def gradients(self, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        d = self.forward(x) - y
        return {"W": (x.T @ d) * (1 + self.error), "b": d.sum(axis=0, keepdims=True)}


def linear(error: float = 0.0):  # noqa: ANN201 - a factory, as users write them
    def adapter() -> Adapter:
        net = Linear(error)
        return Adapter(network=net, layers=[Layer("W", "b", "identity")], loss="half-sse",
                       forward=net.forward, gradients=net.gradients)
    return adapter


def test_a_correct_network_passes_and_returns_the_report() -> None:
    report = assert_network_matches(linear())
    assert report.ok


def test_the_example_adapter_file_fails_with_names_and_pattern_first() -> None:
    with pytest.raises(NetworkMismatchError) as info:
        assert_network_matches(EXAMPLES / "adapter.py")
    first = str(info.value).splitlines()[0]
    assert first == "W2, b2, W1, b1 wrong: delta after update; start here: W2"
    assert info.value.report.exit_code == 1


def test_a_tiny_error_prints_at_full_precision_with_its_count() -> None:
    with pytest.raises(NetworkMismatchError) as info:
        assert_network_matches(linear(1e-9))
    lines = str(info.value).splitlines()
    assert lines[0].startswith("W wrong: ")
    worst = info.value.report.wrong[0].worst
    assert worst is not None
    # The premise: rounded as tables round, the two values read the same.
    assert f"{worst.actual:.5g}" == f"{worst.expected:.5g}"
    assert f"got {worst.actual!r}, expected {worst.expected!r}" in lines[1]
    assert repr(worst.actual) != repr(worst.expected)
    assert f"{worst.mismatched} of 6 elements over tolerance" in lines[1]
    assert worst.mismatched == 6
    assert lines[1].lstrip().startswith(f"W[{worst_index(worst.element)}]")


def worst_index(element: str) -> str:
    return element[element.index("[") + 1:element.index("]")]


def test_rtol_override_goes_through_the_policy() -> None:
    # A 1e-9 relative error: over the float64 policy (5.7e-14), under a given rtol of 1e-8.
    report = assert_network_matches(linear(1e-9), rtol=1e-8)
    assert report.tolerance.base == 1e-8
    assert all(p.worst is not None and p.worst.rtol == 1e-8 for p in report.parameters)
    with pytest.raises(NetworkMismatchError):
        assert_network_matches(linear(1e-9), rtol=1e-10)


def test_atol_override_adds_an_absolute_term() -> None:
    # A 1e-6 relative error on gradients of size ~10-100: absolute errors ~1e-5..1e-4.
    with pytest.raises(NetworkMismatchError) as info:
        assert_network_matches(linear(1e-6), atol=1e-7)
    assert "atol 1e-07" in str(info.value).splitlines()[1]
    report = assert_network_matches(linear(1e-6), atol=1e-2)
    assert report.ok and report.to_dict()["tolerance"]["atol"] == 1e-2
    rtol = report.to_dict()["tolerance"]["rtol"]
    assert rtol == C * float(np.finfo(np.float64).eps)  # the policy's, untouched


def test_a_factor_near_one_is_not_printed_as_one() -> None:
    with pytest.raises(NetworkMismatchError) as info:
        assert_network_matches(linear(1e-6))
    text = str(info.value)
    assert "constant factor 1 " not in text and "constant factor 1.000001" in text


@pytest.mark.parametrize("bad, error", [("0.01", TypeError), (-1.0, ValueError),
                                        (float("nan"), ValueError)])
def test_bad_overrides_are_refused(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="rtol must be"):
        assert_network_matches(linear(), rtol=bad)  # type: ignore[arg-type]


def test_assert_matches_reference_error_carries_a_message() -> None:
    expected = {"W": np.array([[1.0, 2.0]])}
    actual = {"W": np.array([[1.0 + 1e-9, 2.0]])}
    with pytest.raises(MismatchError) as info:
        assert_matches_reference(actual, expected)
    lines = str(info.value).splitlines()
    assert lines[0].startswith("arrays differ from the reference in W (rtol 5.68e-14")
    assert lines[1] == ("W[0, 0]: actual 1.000000001, expected 1.0 (abs error "
                        f"{abs(1.000000001 - 1.0)!r}, rel error {abs(1.000000001 - 1.0) / 2!r}; "
                        "1 of 2 elements over tolerance; rtol 5.684341886080802e-14)")


def _user_project(folder: Path, bug: bool) -> None:
    """The README's three files (mynet.py, check_mynet.py, test_mynet.py) in ``folder``."""
    blocks = readme_blocks()
    folder.mkdir()
    net = blocks["mynet.py"]
    if bug:
        assert "self.b2 -= self.lr * d2" in net
        net = net.replace("self.b2 -= self.lr * d2", "self.b2 += self.lr * d2")
    (folder / "mynet.py").write_text(net)
    (folder / "check_mynet.py").write_text(blocks["check_mynet.py"])
    test = blocks["test_mynet.py"]
    assert 'assert_network_matches("check_mynet.py")' in test
    (folder / f"test_{folder.name}.py").write_text(
        test.replace('"check_mynet.py"', f'"{folder.name}/check_mynet.py"'))


def test_user_pytest_files_in_another_folder_pass_and_fail_readably(tmp_path: Path) -> None:
    """As a user runs it: their own folder, their own pytest, our package installed.  One
    project with a correct network, one with a sign error in a bias update."""
    _user_project(tmp_path / "good", bug=False)
    _user_project(tmp_path / "bad", bug=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "HYPOTHESIS"))}
    env["COLUMNS"] = "160"
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-p", "no:xdist", "good/test_good.py", "bad/test_bad.py"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 1, out.stdout + out.stderr
    summary = [line for line in out.stdout.splitlines() if line.startswith("FAILED")]
    assert summary == ["FAILED bad/test_bad.py::test_my_backprop - reference.NetworkMismatchError: "
                       "b2 wrong: sign flipped; start here: b2"]
    assert out.stdout.strip().splitlines()[-1].startswith("1 failed, 1 passed")
    shown = summary[0].split(" - ", 1)[1]
    assert f"FAILED test_mynet.py::test_my_backprop - {shown}" in README.read_text()
