"""Malformed experiment files are rejected by `influence-sim batch` with one clear message.

The corpus is ``tests/malformed_experiments/``: small experiment TOML files with one defect
each (the first line of each file says which). ``cases.toml`` there lists, for every file, the
substrings its message must contain (the file, the item such as ``[design]``, the field, what
is wrong and the suggestion for near-miss names). Files starting with ``_`` are valid helpers:
``_valid.toml`` (the valid experiment each case differs from), ``_same_name.toml`` and
``_short.toml`` (valid scenarios that some cases list). Scenario references point at the
shipped scenarios (``../../scenarios/...``), relative to the experiment file.

A rejected experiment must leave no trace: ``--out`` is not created.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import influence_sim as isim
from influence_sim import load_experiment
from influence_sim.cli import main

from .corpus import assert_corpus_matches, check_message, load_cases

CORPUS = Path(__file__).resolve().parent / "malformed_experiments"
TABLE = CORPUS / "cases.toml"
HELPERS = ("_valid.toml", "_same_name.toml", "_short.toml")
CASE_KEYS = {"file", "expect", "absent"}
PREFIX = "influence-sim: error: "


CASES = load_cases(TABLE)
PARAMS = [pytest.param(c, id=c["file"].removesuffix(".toml")) for c in CASES]


# ---------------------------------------------------------------------------------------------
# the table and the corpus agree


def test_every_malformed_experiment_has_exactly_one_case():
    assert_corpus_matches(CORPUS, TABLE, CASES, minimum=14)


@pytest.mark.parametrize("case", PARAMS)
def test_case_is_well_formed(case):
    assert set(case) <= CASE_KEYS, f"unknown keys {set(case) - CASE_KEYS}"
    assert case["file"].startswith("experiment_") and case["file"].endswith(".toml")
    assert case["file"] in case["expect"], "the message must name the file"
    assert len(case["expect"]) >= 3, "expect the file, the item or field, and what is wrong"
    assert all(isinstance(s, str) and s for s in [*case["expect"], *case.get("absent", [])])
    first = (CORPUS / case["file"]).read_text("utf-8").splitlines()[0]
    assert first.startswith("# Defect: "), "the first line names the defect"


def test_helpers_are_valid():
    """The valid experiment and the helper scenarios load, so each case's defect is its only one."""
    exp = load_experiment(CORPUS / "_valid.toml")
    assert [s.name for s in exp.scenarios] == ["kazakhstan_2022", "no_csto"]
    assert exp.output.every == 7
    assert [d.isoformat() for d in exp.at] == ["2022-03-05"]
    assert exp.thresholds == (("KZ", 0.2),)
    base = isim.load_scenario(CORPUS / "../../scenarios/kazakhstan_2022.toml")
    same = isim.load_scenario(CORPUS / "_same_name.toml")
    short = isim.load_scenario(CORPUS / "_short.toml")
    assert same.name == base.name
    assert same.steps == base.steps
    assert short.name != base.name
    assert short.steps != base.steps


# ---------------------------------------------------------------------------------------------
# each case: the CLI and the library


@pytest.mark.parametrize("case", PARAMS)
def test_batch_reports_one_line_and_exits_2(case, tmp_path, capsys):
    out_dir = tmp_path / "out"
    status = main(["batch", str(CORPUS / case["file"]), "--out", str(out_dir), "-q"])
    out, err = capsys.readouterr()
    if "Traceback" in err:
        pytest.fail(
            f"exit {status} with a traceback instead of an input error: {err.splitlines()[-1]}"
        )
    assert status == 2, f"exit status {status}, expected 2; stderr: {err!r}"
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith(PREFIX), err
    check_message(lines[0].removeprefix(PREFIX), case)
    assert not out_dir.exists(), "nothing is written for a malformed experiment"


@pytest.mark.parametrize("case", PARAMS)
def test_library_raises_scenario_error(case):
    error: Exception | None = None
    try:
        load_experiment(CORPUS / case["file"])
    except Exception as exc:
        error = exc
    if error is None:
        pytest.fail(f"{case['file']}: loaded without an error")
    if not isinstance(error, isim.ScenarioError):
        pytest.fail(f"{case['file']}: {type(error).__name__} instead of ScenarioError: {error}")
    check_message(str(error), case)


# ---------------------------------------------------------------------------------------------
# the uncertainty cases: `influence-sim sensitivity` rejects them the same way

UNCERTAINTY_PARAMS = [
    p for p in PARAMS if p.values[0]["file"].startswith("experiment_uncertainty_")
]


@pytest.mark.parametrize("case", UNCERTAINTY_PARAMS)
def test_sensitivity_reports_one_line_and_exits_2(case, tmp_path, capsys):
    out_dir = tmp_path / "out"
    status = main(["sensitivity", str(CORPUS / case["file"]), "--out", str(out_dir), "-q"])
    out, err = capsys.readouterr()
    if "Traceback" in err:
        pytest.fail(
            f"exit {status} with a traceback instead of an input error: {err.splitlines()[-1]}"
        )
    assert status == 2, f"exit status {status}, expected 2; stderr: {err!r}"
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith(PREFIX), err
    check_message(lines[0].removeprefix(PREFIX), case)
    assert not out_dir.exists(), "nothing is written for a malformed experiment"
