"""``handnet check`` over many networks (``handnet.commands.check_many``): a class's folder.

The networks are written here, each as the line a person would write: a correct 3-4-1 tanh
network (style (a), gradients), the same with ``2 *`` on one gradient, one that floods its
output and calls ``os._exit``, one that hangs and swallows the time limit, one whose adapter
declares a loss that does not exist, one that calls ``sys.exit`` at import.  Every check runs in
a real worker process, so the file costs a few seconds per network; the hanging one runs with a
2 s ``--timeout`` (the others with a long one: they must not be cut short on a busy machine).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handnet.commands.check import CheckOptions
from handnet.commands.check_many import (
    OUTPUT_TAIL,
    Network,
    batch_document,
    check_all,
    discover,
    summary_text,
)
from handnet.verdict import Verdict, batch_verdict

ROOT = Path(__file__).resolve().parent.parent

NET = '''
import os, sys, time
import numpy as np
from handnet.adapter import Adapter, Layer
{at_import}

class Net:
    def __init__(self):
        rng = np.random.default_rng(0)
        self.W1, self.b1 = rng.standard_normal((3, 4)), np.zeros((1, 4))
        self.W2, self.b2 = rng.standard_normal((4, 1)), np.zeros((1, 1))

    def forward(self, x):
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def gradients(self, x, y):
        {in_backward}
        d2 = self.forward(x) - y
        d1 = d2 @ self.W2.T * (1 - self.h ** 2)
        return {{"W2": {w2_factor}self.h.T @ d2, "b2": d2.sum(0, keepdims=True),
                 "W1": x.T @ d1, "b1": d1.sum(0, keepdims=True)}}

def adapter():
    net = Net()
    return Adapter(network=net, layers=[Layer("W1", "b1", "tanh"), Layer("W2", "b2", "identity")],
                   loss="{loss}", forward=net.forward, gradients=net.gradients)
'''

HANG = "while True:\n            try:\n                time.sleep(0.05)\n" \
       "            except BaseException:\n                pass"


def network(path: Path, at_import: str = "", in_backward: str = "pass", w2_factor: str = "",
            loss: str = "half-sse") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(NET.format(at_import=at_import, in_backward=in_backward,
                               w2_factor=w2_factor, loss=loss))
    return str(path)


def opts(path: str, timeout: float = 120.0) -> CheckOptions:
    return CheckOptions(path, batch=None, steps=None, seed=0, json=None, timeout=timeout)


def test_batch_priority_as_documented() -> None:
    # docs/check.md: internal-error > adapter-error > user-error > mismatch > inconclusive > match
    V = Verdict
    assert batch_verdict([V.MATCH, V.MATCH]) is V.MATCH
    assert batch_verdict([V.MATCH, V.INCONCLUSIVE]) is V.INCONCLUSIVE
    assert batch_verdict([V.INCONCLUSIVE, V.MISMATCH, V.MATCH]) is V.MISMATCH
    assert batch_verdict([V.MISMATCH, V.USER_ERROR]) is V.USER_ERROR
    assert batch_verdict([V.USER_ERROR, V.ADAPTER_ERROR]) is V.ADAPTER_ERROR
    assert batch_verdict([V.ADAPTER_ERROR, V.INTERNAL_ERROR, V.MATCH]) is V.INTERNAL_ERROR
    with pytest.raises(ValueError):
        batch_verdict([])


def test_discover_by_the_documented_rule(tmp_path: Path) -> None:
    for rel in ("a/adapter.py", "b/deep/adapter_v2.py", "b/network.py", "b/net_adapter.py",
                "b/adapters.txt", "_old/adapter.py",
                ".git/adapter.py", "c/__pycache__/adapter.py", "solo.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    folder = str(tmp_path)
    solo = str(tmp_path / "solo.py")
    nets = discover([folder, solo, str(tmp_path / "a" / "adapter.py")])  # a/adapter.py twice
    assert [n.name for n in nets] == ["a/adapter.py", "b/deep/adapter_v2.py",
                                      "b/net_adapter.py", "solo.py"]
    assert nets[3].path == solo
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no adapter"):
        discover([str(tmp_path / "empty")])
    with pytest.raises(ValueError, match="not found"):
        discover([str(tmp_path / "missing.py")])


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    files = [network(tmp_path / f"n{i}" / "adapter.py") for i in range(2)]
    proc = subprocess.run([sys.executable, "-m", "handnet", "check", *files, "--jobs", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "handnet: error: --jobs must be at least 1, got 0"


def test_one_summary_for_a_class_with_crashes_and_a_hang(tmp_path: Path) -> None:
    plan = [
        (Network("hang", network(tmp_path / "hang" / "adapter.py", in_backward=HANG)), 2.0),
        (Network("ok", network(tmp_path / "ok" / "adapter.py")), 120.0),
        (Network("wrong", network(tmp_path / "wrong" / "adapter.py", w2_factor="2 * ")), 120.0),
        (Network("exits", network(tmp_path / "exits" / "adapter.py",
                                  at_import="sys.stdout.write('x' * 1_000_000)",
                                  in_backward="os._exit(3)")), 120.0),
        (Network("bad", network(tmp_path / "bad" / "adapter.py", loss="hinge")), 120.0),
    ]
    start = time.monotonic()
    results = check_all([(n, opts(n.path, t)) for n, t in plan], jobs=2)
    wall = time.monotonic() - start
    by = {r.network.name: r for r in results}
    assert [r.network.name for r in results] == [n.name for n, _ in plan]

    assert (by["ok"].verdict, by["ok"].exit_code) == ("match", 0), by["ok"].text
    assert (by["wrong"].verdict, by["wrong"].exit_code) == ("mismatch", 1), by["wrong"].text
    assert by["wrong"].data["root_causes"] == ["W2"]
    assert by["wrong"].data["start_here"] == "W2"
    assert (by["exits"].verdict, by["exits"].exit_code) == ("user-error", 4)
    assert "exit status 3" in by["exits"].text
    assert by["exits"].output_bytes >= 1_000_000  # drained, not blocking the worker
    assert by["exits"].output.endswith("x") and len(by["exits"].output) <= OUTPUT_TAIL
    assert (by["hang"].verdict, by["hang"].exit_code) == ("user-error", 4)
    assert "--timeout" in by["hang"].text
    assert 2.0 <= by["hang"].seconds < 30
    assert (by["bad"].verdict, by["bad"].exit_code) == ("adapter-error", 2)
    assert "hinge" in by["bad"].text
    # two at a time: the batch took less than the networks one after the other
    assert wall < 0.9 * sum(r.seconds for r in results)

    doc = json.loads(json.dumps(batch_document(results, 2, wall)))
    assert doc["exit_code"] == 2 and doc["verdict"] == "adapter-error"  # by the priority
    assert doc["summary"] == {"networks": 5, "match": 1, "mismatch": 1, "inconclusive": 0,
                              "adapter-error": 1, "user-error": 2, "internal-error": 0}
    assert [e["network"] for e in doc["networks"]] == [n.name for n, _ in plan]
    for e in doc["networks"]:  # the single check's own JSON object, one per network
        assert e["report"]["verdict"] == e["verdict"]
        assert e["report"]["source"] == e["adapter"]

    table = summary_text(results, doc).splitlines()
    print("\n".join(table))
    assert table[0].split() == ["network", "verdict", "exit", "wrong", "parameters", "start",
                                "here", "time"]
    row = next(line for line in table if line.startswith("wrong "))
    assert row.split()[1:4] == ["mismatch", "1", "W2"]
    assert [line.split()[0] for line in table[1:6]] == [n.name for n, _ in plan]
    assert any(line.startswith("hang (user-error): ") for line in table[6:])


def test_command_line_over_a_folder_and_a_file(tmp_path: Path) -> None:
    # networks that end early: the test above runs full checks (each costs seconds of CPU)
    cls = tmp_path / "class"
    network(cls / "alice" / "adapter.py", loss="hinge")
    network(cls / "bob" / "adapter_v2.py", at_import="raise ImportError('no module named mlp')")
    network(cls / "bob" / "network.py", at_import="raise SystemExit('not an adapter')")
    network(cls / "_old" / "adapter.py", at_import="raise SystemExit('skipped folder')")
    solo = network(tmp_path / "carol.py", at_import="print('hello from carol'); sys.exit(1)")
    out = tmp_path / "class.json"
    proc = subprocess.run([sys.executable, "-m", "handnet", "check", str(cls), solo, "--json",
                           str(out), "--jobs", "2"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr  # adapter-error first by the priority
    assert "hello from carol" not in proc.stdout
    rows = {line.split()[0]: line.split()[1:4] for line in proc.stdout.splitlines()[1:4]}
    assert rows == {"class/alice/adapter.py": ["adapter-error", "2", "-"],
                    "class/bob/adapter_v2.py": ["user-error", "4", "-"],
                    "carol.py": ["user-error", "4", "-"]}
    assert "class/bob/adapter_v2.py (user-error): loading" in proc.stdout
    doc = json.loads(out.read_text())
    assert len(doc["networks"]) == 3 and doc["exit_code"] == 2
    assert doc["summary"]["adapter-error"] == 1 and doc["summary"]["user-error"] == 2
    assert "hello from carol" in doc["networks"][2]["output_tail"]


def test_ctrl_c_stops_every_worker(tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    hang = (f"open({str(marks)!r} + '/' + str(os.getpid()), 'w').close()\n"
            "while True:\n    try:\n        time.sleep(0.05)\n    except BaseException:\n"
            "        pass")
    files = [network(tmp_path / f"n{i}" / "adapter.py", at_import=hang) for i in range(3)]
    proc = subprocess.Popen([sys.executable, "-m", "handnet", "check", *files, "--jobs", "2",
                             "--timeout", "100"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while len(list(marks.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        pids = [int(p.name) for p in marks.iterdir()]
        assert len(pids) == 2, "two workers should be running"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    time.sleep(0.2)
    assert [pid for pid in pids if alive(pid)] == []
    assert len(list(marks.iterdir())) == 2  # the third never started


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
