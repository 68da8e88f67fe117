"""The JSON of ``handnet check`` against its JSON Schema (``reference/checker/report.schema.json``,
shipped as package data): real output of a match, a mismatch, an inconclusive run and errors."""

from __future__ import annotations

import copy
import json
import os
import stat
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from handnet.cli import main
from handnet.verdict import SCHEMA_VERSION
from reference.checker.guard import check_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "per_sample"
HOSTILE = ROOT / "tests" / "hostile"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(files("reference.checker").joinpath("report.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$defs"]["report"]["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def outputs() -> dict[str, dict[str, Any]]:
    cases = {
        "match": [EXAMPLE / "adapter_fixed.py"],
        "mismatch": [EXAMPLE / "adapter.py"],
        # two steps cannot see the declared momentum convention and schedule
        "inconclusive": [EXAMPLE / "adapter_fixed.py", "--steps", "2"],
        "user-error": [HOSTILE / "index_error_train_step.py"],
        "adapter-error": [HOSTILE / "lr_string.py"],
    }
    out = {}
    for verdict, argv in cases.items():
        outcome = check_file([str(a) for a in argv])
        assert outcome.verdict == verdict, outcome.text
        out[verdict] = json.loads(json.dumps(outcome.data, allow_nan=False))
    return out


@pytest.mark.parametrize("verdict", ["match", "mismatch", "inconclusive", "user-error",
                                     "adapter-error"])
def test_real_output_validates(verdict: str, validator: jsonschema.Draft202012Validator,
                               outputs: dict[str, dict[str, Any]]) -> None:
    validator.validate(outputs[verdict])


def test_tolerance_is_numbers_per_parameter(outputs: dict[str, dict[str, Any]]) -> None:
    data = outputs["mismatch"]
    assert data["tolerance"]["rtol"] == 256 * 2.0**-52 and data["tolerance"]["atol"] == 0
    for p in data["parameters"]:
        steps = p["worst"]["step"]
        assert p["rtol"] == pytest.approx(256 * 2.0**-52 * (1 + steps), rel=1e-15)
        assert p["worst"]["rtol"] == p["rtol"]


def test_the_schema_has_teeth(validator: jsonschema.Draft202012Validator,
                              outputs: dict[str, dict[str, Any]]) -> None:
    broken = []
    old = copy.deepcopy(outputs["match"])
    old["tolerance"] = "rtol = 256 * eps(float64) * (1 + steps)"  # schema 2's sentence
    broken.append(old)
    missing = copy.deepcopy(outputs["mismatch"])
    del missing["parameters"][0]["worst"]
    broken.append(missing)
    extra = copy.deepcopy(outputs["user-error"])
    extra["traceback"] = "..."
    broken.append(extra)
    wrong_code = copy.deepcopy(outputs["match"])
    wrong_code["exit_code"] = 1.5
    broken.append(wrong_code)
    for data in broken:
        assert not validator.is_valid(data)


def test_the_command_line_writes_valid_json_with_ordinary_permissions(
        validator: jsonschema.Draft202012Validator, outputs: dict[str, dict[str, Any]],
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker's outcome as the in-process check gave it (the worker process itself is
    # tested in test_check_cli.py): what is tested here is the command's JSON output.
    data = outputs["mismatch"]
    monkeypatch.setattr("handnet.commands.check._run_worker", lambda opts, twin: (
        data["verdict"], data["exit_code"], "text", data))
    target = tmp_path / "report.json"
    mask = os.umask(0o022)
    try:
        code = main(["check", str(EXAMPLE / "adapter.py"), "--json", str(target)])
    finally:
        os.umask(mask)
    assert code == 1
    validator.validate(json.loads(target.read_text()))
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    capsys.readouterr()
    assert main(["check", str(tmp_path / "missing.py"), "--json", "-"]) == 2
    validator.validate(json.loads(capsys.readouterr().out))
    assert main(["check", str(EXAMPLE / "adapter.py"), "--steps", "0", "--json", "-"]) == 2
    data = json.loads(capsys.readouterr().out)
    validator.validate(data)
    assert "--steps must be at least 1" in data["error"]
