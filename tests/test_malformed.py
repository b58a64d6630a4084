"""Malformed scenario and world files are rejected with one clear message, never a traceback.

The corpus is ``tests/malformed/``: small TOML files with one defect each (the first line of
each file says which). ``tests/malformed/cases.toml`` lists, for every file, the loader that
must reject it and the substrings its message must contain (the file, the item, the field,
what is wrong and the suggestion for near-miss names). Files starting with ``_`` are valid
helpers: ``_base.toml`` (a base scenario the scenario cases extend) and ``_world.toml`` (the
tiny world the world cases copy).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import influence_sim as isim
from influence_sim.cli import main

from .corpus import assert_corpus_matches, check_message, load_cases

MALFORMED = Path(__file__).resolve().parent / "malformed"
TABLE = MALFORMED / "cases.toml"
HELPERS = ("_base.toml", "_world.toml")
CASE_KEYS = {"file", "loader", "expect", "absent"}
PREFIX = "influence-sim: error: "


CASES = load_cases(TABLE)
BY_FILE = {c["file"]: c for c in CASES}
PARAMS = [pytest.param(c, id=c["file"].removesuffix(".toml")) for c in CASES]


# ---------------------------------------------------------------------------------------------
# the table and the corpus agree


def test_every_malformed_file_has_a_case():
    assert_corpus_matches(MALFORMED, TABLE, CASES, minimum=24)


@pytest.mark.parametrize("case", PARAMS)
def test_case_is_well_formed(case):
    assert set(case) <= CASE_KEYS, f"unknown keys {set(case) - CASE_KEYS}"
    assert case["loader"] in ("scenario", "world")
    assert case["file"].startswith(f"{case['loader']}_"), "name files after their loader"
    assert case["file"] in case["expect"], "the message must name the file"
    assert len(case["expect"]) >= 2, "expect the file and at least what is wrong"
    assert all(isinstance(s, str) and s for s in [*case["expect"], *case.get("absent", [])])


def test_helpers_are_valid(capsys):
    """The base scenario and the tiny world load, so each case's defect is its only one."""
    paths = [str(MALFORMED / h) for h in HELPERS]
    assert main(["validate", *paths]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.count(": ok (") == len(HELPERS)
    assert isim.load_scenario(MALFORMED / "_base.toml").world.name == "central_asia_2021"
    assert isim.load_world(MALFORMED / "_world.toml").name == "tiny"


# ---------------------------------------------------------------------------------------------
# each case: the CLI and the library


@pytest.mark.parametrize("case", PARAMS)
def test_validate_reports_one_line_and_exits_2(case, capsys):
    status = main(["validate", str(MALFORMED / case["file"])])
    out, err = capsys.readouterr()
    if "Traceback" in err:
        pytest.fail(
            f"exit {status} with a traceback instead of an input error: {err.splitlines()[-1]}"
        )
    assert status == 2, f"exit status {status}, expected 2; stderr: {err!r}"
    assert out == ""
    assert err.startswith(PREFIX), err
    assert len(err.splitlines()) == 1, f"expected one line on stderr, got:\n{err}"
    check_message(err.removeprefix(PREFIX).strip(), case)


@pytest.mark.parametrize("case", PARAMS)
def test_library_raises_scenario_error(case):
    path = MALFORMED / case["file"]
    load = isim.load_world if case["loader"] == "world" else isim.load_scenario
    error: Exception | None = None
    try:
        load(path)
    except Exception as exc:
        error = exc
    if error is not None and not isinstance(error, isim.ScenarioError):
        pytest.fail(f"{case['file']}: {type(error).__name__} instead of ScenarioError: {error}")
    if error is None:
        pytest.fail(f"{case['file']}: loaded without an error")
    if case["loader"] == "world":
        assert isinstance(error, isim.WorldError), f"{type(error).__name__}, not WorldError"
    check_message(str(error), case)


# ---------------------------------------------------------------------------------------------
# end to end: a separate process through `influence-sim run`


def _commands() -> list[Any]:
    script = Path(sys.executable).with_name("influence-sim")
    return [
        pytest.param([sys.executable, "-m", "influence_sim.cli"], id="python-m"),
        pytest.param(
            [str(script)],
            id="console-script",
            marks=pytest.mark.skipif(not script.exists(), reason=f"no {script}"),
        ),
    ]


@pytest.mark.parametrize("command", _commands())
def test_run_in_a_subprocess_exits_2_with_one_line(command, tmp_path):
    case = BY_FILE["scenario_unknown_faction.toml"]
    out_dir = tmp_path / "out"
    proc = subprocess.run(
        [*command, "run", str(MALFORMED / case["file"]), "-n", "2", "-q", "--out", str(out_dir)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    if "Traceback" in proc.stderr:
        pytest.fail(f"exit {proc.returncode} with a traceback: {proc.stderr.splitlines()[-1]}")
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(PREFIX)
    check_message(lines[0], case)
    assert not out_dir.exists(), "nothing is written for a malformed scenario"
