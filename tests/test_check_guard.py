"""No false pass: user code that exits, hangs, prints, changes its arguments or patches the
comparison, and adapter numbers that make nothing comparable, never end in "match".

Each case is a network written the way people write them (``NET`` below) with one hostile
line, run through ``reference.checker.guard.check_file`` (the worker's code, in this process); the
cases only a separate process can catch (``os._exit``, an endless loop that swallows the time
limit) run the real command.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reference.checker.guard import check_file

NET = '''
import numpy as np
from handnet.adapter import Adapter, Layer

def sig(z):
    return 1 / (1 + np.exp(-z))

class Net:
    def __init__(self, lr=0.1, m=0.0):
        rng = np.random.default_rng(0)
        self.W1, self.b1 = rng.standard_normal((2, 6)), np.zeros((1, 6))
        self.W2, self.b2 = rng.standard_normal((6, 1)), np.zeros((1, 1))
        self.V1, self.V2 = np.zeros((2, 6)), np.zeros((6, 1))
        self.lr, self.m = lr, m

    def predict(self, x):
        self.x = x
        self.h = sig(x @ self.W1 + self.b1)
        self.o = sig(self.h @ self.W2 + self.b2)
        return self.o

    def learn(self, x, y):
        o = self.predict(x)
        d2 = (o - y) * o * (1 - o)
        d1 = (d2 @ self.W2.T) * self.h * (1 - self.h)
        self.V2 = self.m * self.V2 + self.lr * self.h.T @ d2
        self.V1 = self.m * self.V1 + self.lr * self.x.T @ d1
        self.W2 -= self.V2; self.b2 -= self.lr * d2.sum(0, keepdims=True)
        self.W1 -= self.V1; self.b1 -= self.lr * d1.sum(0, keepdims=True)

LR, M = 0.1, 0.0

def adapter():
    n = Net(LR, M)
    return Adapter(network=n, layers=[Layer("W1", "b1", "sigmoid"), Layer("W2", "b2", "sigmoid")],
                   loss="half-sse", forward=n.predict, train_step=n.learn, lr=LR, momentum=M,
                   bias_momentum=False)
'''


def _case(tmp_path: Path, *edits: tuple[str, str], append: str = "") -> str:
    text = NET
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    f = tmp_path / "case.py"
    f.write_text(text + append)
    return str(f)


def _verdict(tmp_path: Path, *edits: tuple[str, str], append: str = "",
             argv: tuple[str, ...] = ()) -> tuple[str, str]:
    outcome = check_file([_case(tmp_path, *edits, append=append), *argv], timeout=20)
    return outcome.verdict, outcome.text


def test_the_correct_network_matches(tmp_path: Path) -> None:
    assert _verdict(tmp_path)[0] == "match"
    assert _verdict(tmp_path, ("LR, M = 0.1, 0.0", "LR, M = 0.1, 0.9"))[0] == "match"


@pytest.mark.parametrize(("line", "argument"), [
    ("y -= 0.5", "y"), ("x *= 2", "x"), ("y[:] = 1 - y", "y"), ("x[0, 0] = 0.0", "x")])
def test_arguments_changed_in_place_are_a_mismatch(tmp_path: Path, line: str,
                                                   argument: str) -> None:
    verdict, text = _verdict(tmp_path, ("        o = self.predict(x)\n",
                                        f"        {line}\n        o = self.predict(x)\n"))
    assert verdict == "mismatch", text
    assert f"train_step(x, y) (step 1) changed its argument {argument} in place" in text


def test_a_forward_that_changes_its_input_is_a_mismatch(tmp_path: Path) -> None:
    verdict, text = _verdict(tmp_path, ("        self.x = x\n", "        self.x = x\n"
                                        "        x += 0.0 * x + 1e-3\n"))
    assert verdict == "mismatch", text
    assert "changed its argument x in place" in text


@pytest.mark.parametrize("where", ["import", "adapter", "train_step", "forward"])
def test_sys_exit_anywhere_is_a_user_error(tmp_path: Path, where: str) -> None:
    edits = {
        "import": [("import numpy as np\n", "import numpy as np\nimport sys\nsys.exit(0)\n")],
        "adapter": [("    n = Net(LR, M)\n", "    raise SystemExit(0)\n")],
        "train_step": [("        o = self.predict(x)\n", "        import sys; sys.exit(0)\n")],
        "forward": [("        self.x = x\n", "        import sys; sys.exit(0)\n")],
    }[where]
    verdict, text = _verdict(tmp_path, *edits)
    assert verdict == "user-error", text
    assert "sys.exit(0)" in text and "case.py:" in text


def test_an_exception_is_the_users_with_file_and_line(tmp_path: Path) -> None:
    verdict, text = _verdict(tmp_path, ("        d2 = (o - y) * o * (1 - o)\n",
                                        "        d2 = (o - y) @ np.ones((3, 3))\n"))
    assert verdict == "user-error", text
    assert "train_step(x, y) (step 1) raised ValueError" in text
    assert "case.py:24" in text


def test_an_endless_loop_ends_at_the_time_limit(tmp_path: Path) -> None:
    loop = "        while True:\n            pass\n"
    f = _case(tmp_path, ("        o = self.predict(x)\n", loop))
    outcome = check_file([f, "--timeout", "1"])
    assert outcome.verdict == "user-error", outcome.text
    assert "did not finish within the time limit of 1 s" in outcome.text
    assert "case.py:" in outcome.text


@pytest.mark.parametrize(("setting", "fragment"), [
    ("lr=float('inf'), momentum=M", "lr must be finite"),
    ("lr=float('nan'), momentum=M", "lr must be finite"),
    ("lr='0.01', momentum=M", "lr must be a number"),
    ("lr=-0.1, momentum=M", "lr must be in (0, inf)"),
    ("lr=LR, momentum=M, weight_decay=float('nan')", "weight_decay must be finite"),
    ("lr=LR, momentum=1.0", "momentum must be in [0, 1)"),
    ("lr=LR, momentum=M, batch=2.0", "batch must be an integer"),
    ("lr=LR, momentum=M, lr_epoch=3, lr_gamma=float('nan')", "lr_gamma must be finite"),
    ("lr=LR, momentum=M, nesterov='yes'", "nesterov must be True or False"),
    ("lr=LR, momentum=M, randomize=1", "randomize must be True or False"),
])
def test_adapter_numbers_are_validated_before_anything_runs(tmp_path: Path, setting: str,
                                                            fragment: str) -> None:
    verdict, text = _verdict(tmp_path, ("lr=LR, momentum=M", setting))
    assert verdict == "adapter-error", text
    assert fragment in text


def test_wrong_and_unstable_at_step_one_is_a_mismatch_not_a_pass(tmp_path: Path) -> None:
    # lr 100 makes the twin leave the stable regime at once; the user's first update is wrong
    verdict, text = _verdict(tmp_path, ("LR, M = 0.1, 0.0", "LR, M = 100.0, 0.0"),
                             ("self.W2 -= self.V2", "self.W2 -= 0.5 * self.V2"))
    assert verdict != "match", text


def test_a_huge_lr_is_still_compared_from_step_one(tmp_path: Path) -> None:
    # Step 1 starts both sides from the same parameters: nothing has been amplified yet.
    verdict, text = _verdict(tmp_path, ("LR, M = 0.1, 0.0", "LR, M = 1e4, 0.0"))
    assert verdict == "match", text
    verdict, text = _verdict(tmp_path, ("LR, M = 0.1, 0.0", "LR, M = 1e4, 0.0"),
                             ("d2 = (o - y) * o * (1 - o)", "d2 = 2 * (o - y) * o * (1 - o)"))
    assert verdict == "mismatch", text


def test_nothing_comparable_is_inconclusive_never_match(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # No step can be compared when no widening of the tolerance is allowed at all.
    monkeypatch.setattr("reference.comparison.stability.WIDEST_RTOL", 0.0)
    verdict, text = _verdict(tmp_path)
    assert verdict == "inconclusive", text
    assert "only 0 of the 5 steps promised were compared" in text


def test_declared_momentum_never_applied_is_caught(tmp_path: Path) -> None:
    verdict, text = _verdict(tmp_path, ("LR, M = 0.1, 0.0", "LR, M = 0.1, 0.9"),
                             ("self.V2 = self.m * self.V2", "self.V2 = 0.0 * self.V2"),
                             ("self.V1 = self.m * self.V1", "self.V1 = 0.0 * self.V1"))
    assert verdict == "mismatch", text


def test_one_step_cannot_see_momentum_and_says_so(tmp_path: Path) -> None:
    verdict, text = _verdict(tmp_path, ("LR, M = 0.1, 0.0", "LR, M = 0.1, 0.9"),
                             ("self.V2 = self.m * self.V2", "self.V2 = 0.0 * self.V2"),
                             ("self.V1 = self.m * self.V1", "self.V1 = 0.0 * self.V1"),
                             argv=("--steps", "1"))
    assert verdict == "inconclusive", text
    assert "not tested: momentum 0.9" in text


def test_forward_without_biases_is_caught_though_they_start_at_zero(tmp_path: Path) -> None:
    verdict, text = _verdict(tmp_path, ("sig(self.h @ self.W2 + self.b2)", "sig(self.h @ self.W2)"))
    assert verdict == "mismatch", text
    assert "forward output: DIFFERS" in text


def test_forward_reading_stale_arrays_after_rebinding_is_caught(tmp_path: Path) -> None:
    verdict, text = _verdict(
        tmp_path,
        ("        self.lr, self.m = lr, m\n",
         "        self.lr, self.m = lr, m\n        self.params = [self.W1, self.b1]\n"),
        ("self.h = sig(x @ self.W1 + self.b1)",
         "self.h = sig(x @ self.params[0] + self.params[1])"),
        ("self.W1 -= self.V1; self.b1 -= self.lr * d1.sum(0, keepdims=True)",
         "self.W1 = self.W1 - self.V1; self.b1 = self.b1 - self.lr * d1.sum(0, keepdims=True)"))
    assert verdict == "mismatch", text


def test_patching_the_comparison_is_refused(tmp_path: Path) -> None:
    verdict, text = _verdict(tmp_path, append="\nimport sys, torch\ntorch.sigmoid = lambda t: t\n"
                             "sys.modules['reference.comparison.compare'].compare_arrays = print\n")
    assert verdict == "adapter-error", text
    assert "reference.comparison.compare.compare_arrays" in text and "torch.sigmoid" in text
    import torch

    assert sys.modules["reference.comparison.compare"].compare_arrays is not print  # put back

    assert torch.sigmoid(torch.zeros(1)).item() == 0.5


def test_a_one_sample_network_asked_for_batches_is_not_a_pass(tmp_path: Path) -> None:
    verdict, text = _verdict(tmp_path, ("d1.sum(0, keepdims=True)", "d1[0]"),  # one sample
                             ("d2.sum(0, keepdims=True)", "d2[0]"), argv=("--batch", "4"))
    assert verdict in ("mismatch", "user-error", "adapter-error"), text


def _real(tmp_path: Path, *edits: tuple[str, str], argv: tuple[str, ...] = ()
          ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handnet", "check", _case(tmp_path, *edits),
                           *argv], capture_output=True, text=True, timeout=120)


def test_os_exit_in_user_code_is_a_user_error(tmp_path: Path) -> None:
    done = _real(tmp_path, ("        o = self.predict(x)\n", "        import os; os._exit(0)\n"),
                 argv=("--json", "-"))
    assert done.returncode == 4, done.stdout + done.stderr
    assert '"verdict": "user-error"' in done.stdout and "os._exit" in done.stdout


def test_a_loop_that_swallows_the_time_limit_is_killed(tmp_path: Path) -> None:
    done = _real(tmp_path, ("        o = self.predict(x)\n",
                            "        while True:\n            try:\n                pass\n"
                            "            except BaseException:\n                pass\n"),
                 argv=("--timeout", "1"))
    assert done.returncode == 4, done.stdout + done.stderr
    assert "did not finish within 1 s" in done.stderr


def test_an_unknown_adapter_field_is_an_adapter_error_naming_the_fields(tmp_path: Path) -> None:
    verdict, text = _verdict(tmp_path, ("lr=LR, momentum=M", "lr=LR, momentum=M, optimiser='adam'"))
    assert verdict == "adapter-error", text
    assert "Adapter(...): got an unexpected keyword argument 'optimiser' (at case.py:" in text
    assert "its fields are: network, layers, loss, forward," in text


def test_a_type_error_in_the_users_code_stays_a_user_error(tmp_path: Path) -> None:
    verdict, text = _verdict(tmp_path, ("        o = self.predict(x)\n",
                                        "        o = self.predict(x, 1)\n"))
    assert verdict == "user-error", text
    assert "TypeError" in text


@pytest.mark.parametrize("lr", ["1.0", "30.0", "300.0", "1e4"])
def test_step_one_is_compared_at_the_policy_tolerance_whatever_the_lr(tmp_path: Path,
                                                                        lr: str) -> None:
    # both sides start step 1 from the same parameters: nothing amplified can widen it, so a
    # 1e-11 relative error in the output delta (100 x the policy's rtol) is a mismatch at any lr
    verdict, text = _verdict(tmp_path, ("LR, M = 0.1, 0.0", f"LR, M = {lr}, 0.0"),
                             ("d2 = (o - y) * o * (1 - o)",
                              "d2 = (o - y) * o * (1 - o) * (1 + 1e-11)"))
    assert verdict == "mismatch", text
    assert "WRONG (step 1)" in text, text
