"""Inputs that can't crash or exhaust the tool (the "Integrity" contract for bad input).

The contract: a bad input file makes the library raise an `InputError` subclass
(`ScenarioError`, `WorldError`, `ExperimentError`) with one line naming the file, the item and
the field; the CLI then exits 2 with that line after ``influence-sim: error:``, no traceback,
no raw control characters, and writes nothing. The limits it enforces are documented in
docs/scenario-format.md, "Limits"; a test here checks the documented numbers against the
constants.

No network, no sleeps, no wall-clock timing: a FIFO is made with ``os.mkfifo`` and never
opened by the test, and "the grid is never built" is checked by making the product fail.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tomllib
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import influence_sim as isim
from influence_sim import _io
from influence_sim._io import (
    MAX_DATE,
    MAX_INPUT_BYTES,
    MAX_INT,
    MAX_NESTING,
    MIN_DATE,
    MIN_INT,
    check_values,
    parse_toml,
    read_input,
    read_toml,
)
from influence_sim.cli import main
from influence_sim.core.events import Condition
from influence_sim.core.scenario import scenario_from_dict
from influence_sim.errors import (
    ID_PATTERN,
    MAX_EXCERPT,
    MAX_MESSAGE,
    ExperimentError,
    InputError,
    ScenarioError,
    WorldError,
    bad_id,
    excerpt,
)
from influence_sim.experiment import design
from influence_sim.experiment.design import MAX_POINTS, MAX_TASKS, load_experiment
from influence_sim.params import parameters

from .conftest import BASELINE, DATA, ROOT
from .mutations import dumps, mutated

PREFIX = "influence-sim: error: "
#: Raw control characters that must never reach a terminal (tab and newline aside).
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
WORLD = ROOT / "influence_sim" / "data" / "worlds" / "central_asia_2021.toml"
VALID_EXPERIMENT = Path(__file__).resolve().parent / "malformed_experiments" / "_valid.toml"
HEAD = '[scenario]\nname = "h"\nworld = "central_asia_2021"\nstart = 2022-01-01\nstep = "1d"\n'
HEAD += "steps = 30\n"
EVENT = (
    '\n[[events]]\nid = "riots"\nkind = "unrest"\ndate = 2022-01-05\nstate = "KZ"\n'
    'intensity = 0.5\ndays = 5\nsource = "test"\n'
)


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def refused(argv: list[str]) -> str:
    """Run the CLI; assert the bad-input contract; return the message (after the prefix)."""
    status, out, err = _cli(argv)
    assert "Traceback" not in err, err
    assert status == 2, f"exit {status}; stderr: {err!r}"
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    assert lines[0].startswith(PREFIX), err
    assert not RAW_CONTROL.search(lines[0]), f"raw control character in {lines[0]!r}"
    assert out == ""
    return lines[0].removeprefix(PREFIX)


def refused_everywhere(path: Path, tmp_path: Path, *expected: str) -> str:
    """`validate` and `run --out` (or `batch --out`) both refuse ``path``; nothing is written."""
    message = refused(["validate", str(path)])
    for text in expected:
        assert text in message, message
    out = tmp_path / "out"
    is_experiment = "experiment" in path.name
    command = ["batch", str(path)] if is_experiment else ["run", str(path), "-n", "2"]
    again = refused([*command, "-q", "--out", str(out)])
    for text in expected:
        assert text in again, again
    assert not out.exists(), "nothing is written for bad input"
    return message


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, "utf-8")
    return path


def _experiment(folder: Path, file: str, extra: str = "", **head: object) -> Path:
    fields = {
        "name": '"hardening"',
        "baseline": f'"{BASELINE}"',
        "scenarios": f'["{ROOT / "scenarios" / "counterfactuals" / "no_csto.toml"}"]',
        "replicates": "4",
        "seed": "1",
        **{k: str(v) for k, v in head.items()},
    }
    body = "".join(f"{k} = {v}\n" for k, v in fields.items())
    return _write(folder, file, f"[experiment]\n{body}{extra}")


def _nested_when(levels: int) -> str:
    cond = '{measure = "unrest", actor = "KZ", op = "<", value = 0.5}'
    for k in range(levels):
        cond = f"{{{'all' if k % 2 else 'any'} = [{cond}]}}"
    return cond


# ---------------------------------------------------------------------------------------------
# deep nesting: refused by name, never a RecursionError


def test_deeply_nested_arrays_are_refused_by_line(tmp_path):
    """1,000 levels of arrays (tomllib alone recurses out at about 330)."""
    path = _write(tmp_path, "deep.toml", HEAD + "\n[params]\npeer_weight = " + "[" * 1000)
    out = tmp_path / "out"
    message = refused(["run", str(path), "-n", "2", "-q", "--out", str(out)])
    assert "deep.toml: line 9: arrays and tables nested more than 16 deep" in message
    assert not out.exists()
    with pytest.raises(ScenarioError, match="line 9"):
        isim.load_scenario(path)


def test_deeply_nested_arrays_are_refused_by_validate(tmp_path):
    path = _write(tmp_path, "deep.toml", HEAD + "\n[params]\npeer_weight = " + "[" * 1000)
    assert "line 9" in refused(["validate", str(path)])


def test_deeply_nested_when_is_refused(tmp_path):
    path = _write(tmp_path, "when.toml", HEAD + EVENT + f"when = {_nested_when(30)}\n")
    message = refused_everywhere(path, tmp_path, "when.toml", "nested more than 16 deep")
    assert "line 16" in message  # found in the text, before tomllib recursed


def test_nesting_just_past_the_limit_names_the_item_and_the_field(tmp_path):
    # 7 levels of all/any put the innermost comparison at level 17; 6 levels are fine
    path = _write(tmp_path, "when7.toml", HEAD + EVENT + f"when = {_nested_when(7)}\n")
    message = refused_everywhere(path, tmp_path, "event 'riots'", "field 'when.any[0].all[0]")
    assert "MAX_NESTING" in message
    ok = _write(tmp_path, "when6.toml", HEAD + EVENT + f"when = {_nested_when(6)}\n")
    assert isim.load_scenario(ok).events[0].when is not None


def _python_when(levels: int) -> dict:
    cond: dict = {"measure": "unrest", "actor": "KZ", "op": "<", "value": 0.5}
    for _ in range(levels):
        cond = {"all": [cond]}
    return cond


def test_condition_parse_counts_its_own_depth(world):
    """`Condition.parse` refuses deep all/any by itself (for conditions built in Python)."""
    messages: list[str] = []

    def fail(msg: str) -> InputError:
        messages.append(msg)
        return ScenarioError(msg)

    deep = _python_when(MAX_NESTING)
    assert Condition.parse(deep, world, fail).combine == "all"
    with pytest.raises(ScenarioError, match="nested more than 16 levels"):
        Condition.parse(_python_when(MAX_NESTING + 1), world, fail)
    with pytest.raises(ScenarioError, match="nested more than 16 levels"):
        Condition.parse(_python_when(5000), world, fail)  # no RecursionError either


def test_scenario_from_dict_checks_values_too():
    data = tomllib.loads(HEAD + EVENT)
    data["events"][0]["when"] = _python_when(3000)
    with pytest.raises(ScenarioError, match="nested more than 16 deep"):
        scenario_from_dict(data, path="mem.toml")
    data = tomllib.loads(HEAD)
    data["scenario"]["start"] = date(9999, 12, 31)
    with pytest.raises(ScenarioError, match="outside the accepted range"):
        scenario_from_dict(data, path="mem.toml")


# ---------------------------------------------------------------------------------------------
# dates, numbers, text, ids


def test_far_future_start_is_refused(tmp_path):
    path = _write(tmp_path, "future.toml", HEAD.replace("2022-01-01", "9999-12-31"))
    refused_everywhere(
        path,
        tmp_path,
        "future.toml: [scenario]: field 'start'",
        "date 9999-12-31 is outside the accepted range 1900-01-01 to 2200-12-31",
    )


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+nan"])
def test_non_finite_when_value_is_refused(tmp_path, value):
    cond = f'{{measure = "unrest", actor = "KZ", op = "<", value = {value}}}'
    path = _write(tmp_path, "nan.toml", HEAD + EVENT + f"when = {cond}\n")
    refused_everywhere(
        path, tmp_path, "event 'riots': field 'when.value'", "is not a finite number"
    )


def test_condition_parse_refuses_non_finite_values(world):
    def fail(msg: str) -> InputError:
        return ScenarioError(msg)

    for value in (float("nan"), float("inf"), 10**400):
        raw = {"measure": "unrest", "actor": "KZ", "op": "<", "value": value}
        with pytest.raises(ScenarioError, match="finite 'value'"):
            Condition.parse(raw, world, fail)


@pytest.mark.parametrize("eid", ["riots\\u001b[2J", "ri\\u0000ots", "a\\u2028b", "bell\\u0007"])
def test_control_characters_in_an_event_id_are_refused(tmp_path, eid):
    path = _write(tmp_path, "ctl.toml", HEAD + EVENT.replace('"riots"', f'"{eid}"'))
    message = refused_everywhere(path, tmp_path, "event #1: field 'id'", "control character")
    assert "\\x" in message or "\\u" in message  # named escaped


@pytest.mark.parametrize("eid", ["street riots", "", "a/b", "x" * 65, "émeute"])
def test_event_ids_follow_the_id_pattern(tmp_path, eid):
    path = _write(tmp_path, "id.toml", HEAD + EVENT.replace('"riots"', f'"{eid}"'))
    refused_everywhere(path, tmp_path, "event #1: field 'id'")


def test_a_huge_string_gives_a_short_message(tmp_path):
    big = "x" * 3_000_000
    path = _write(tmp_path, "big_id.toml", HEAD + EVENT.replace('"riots"', f'"{big}"'))
    message = refused(["validate", str(path)])
    assert "expected an event id" in message
    assert f"'{'x' * MAX_EXCERPT}'…" in message
    assert len(message) < 300
    scen = _write(tmp_path, "big_state.toml", HEAD + EVENT.replace('"KZ"', f'"{big}"'))
    message = refused(["validate", str(scen)])
    assert "unknown state" in message
    assert len(message) <= MAX_MESSAGE + 40


def test_world_actor_ids_follow_the_id_pattern(tmp_path):
    text = (DATA / "tri_power.toml").read_text()
    path = _write(tmp_path, "world.toml", text.replace('id = "TR"', 'id = "T R"', 1))
    assert "power #2: field 'id'" in refused(["validate", str(path)])
    with pytest.raises(WorldError, match="without spaces"):
        isim.load_world(path)


def test_experiment_name_follows_the_id_pattern(tmp_path):
    path = _experiment(tmp_path, "experiment_name.toml", name='"a\\u0007b"')
    refused_everywhere(path, tmp_path, "[experiment]: field 'name'", "control character")
    path = _experiment(tmp_path, "experiment_name.toml", name='"a;b"')
    refused_everywhere(path, tmp_path, "[experiment]: field 'name'", "letters, digits")


def test_integers_beyond_64_bits_are_refused(tmp_path):
    path = _write(tmp_path, "int.toml", HEAD + EVENT + "jitter = 99999999999999999999\n")
    refused_everywhere(path, tmp_path, "event 'riots': field 'jitter'", "64-bit")
    huge = _write(tmp_path, "huge.toml", HEAD + "\n[params]\npeer_weight = " + "9" * 5000)
    with pytest.raises(ScenarioError, match="thousands of digits"):
        isim.load_scenario(huge)


# ---------------------------------------------------------------------------------------------
# files that are not regular files, or too large


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_being_opened(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)  # nobody writes to it: opening it for reading would block
    refused(["validate", str(fifo)])
    out = tmp_path / "out"
    message = refused(["run", str(fifo), "-n", "2", "-q", "--out", str(out)])
    assert "pipe.toml: not a regular file (a named pipe (FIFO))" in message
    assert not out.exists()
    with pytest.raises(ScenarioError, match="named pipe"):
        isim.load_scenario(fifo)
    with pytest.raises(WorldError, match="named pipe"):
        isim.load_world(fifo)
    # a scenario whose world is a FIFO, and an experiment whose baseline is one
    scen = _write(tmp_path, "s.toml", HEAD.replace('"central_asia_2021"', '"pipe.toml"'))
    assert "named pipe" in refused(["run", str(scen), "-n", "2", "-q", "--out", str(out)])
    exp = _experiment(tmp_path, "experiment_fifo.toml", baseline=f'"{fifo}"')
    assert "named pipe" in refused(["batch", str(exp), "-q", "--out", str(out)])
    assert not out.exists()


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_dev_zero_is_refused(tmp_path):
    refused(["validate", "/dev/zero"])
    out = tmp_path / "out"
    message = refused(["run", "/dev/zero", "-n", "2", "-q", "--out", str(out)])
    assert "/dev/zero: not a regular file (a character device)" in message
    assert not out.exists()
    with pytest.raises(WorldError, match="character device"):
        isim.load_world("/dev/zero")
    with pytest.raises(ExperimentError, match="character device"):
        load_experiment("/dev/zero")


def test_a_directory_is_refused(tmp_path):
    folder = tmp_path / "dir.toml"
    folder.mkdir()
    with pytest.raises(ScenarioError, match="a directory"):
        isim.load_scenario(folder)


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "large.toml"
    path.write_text(HEAD + "# " + "x" * MAX_INPUT_BYTES + "\n")
    message = refused_everywhere(path, tmp_path, "large.toml", "MAX_INPUT_BYTES")
    assert "more than the limit of 4,194,304 bytes (4 MiB" in message


def test_read_input_reads_at_most_one_byte_past_the_limit(tmp_path, monkeypatch):
    """A file that looks small when stat'ed but holds more is refused once read."""
    path = tmp_path / "grows.toml"
    path.write_bytes(b"#" * (MAX_INPUT_BYTES + 10))
    real_stat, calls = os.stat, []

    def small_stat(p, *a, **kw):
        st = real_stat(p, *a, **kw)
        calls.append(p)
        return os.stat_result((st.st_mode, *st[1:6], 10, *st[7:]))

    reads: list[int] = []
    real_read = os.read

    def counting_read(fd, n):
        reads.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(_io.os, "stat", small_stat)
    monkeypatch.setattr(_io.os, "fstat", lambda fd: small_stat(path))
    monkeypatch.setattr(_io.os, "read", counting_read)
    with pytest.raises(ScenarioError, match="grew while being read"):
        read_input(path, ScenarioError)
    assert sum(reads) <= MAX_INPUT_BYTES + 1 + (1 << 20)
    assert calls


def test_missing_and_unusable_names(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        read_input(tmp_path / "nope.toml", ScenarioError)
    with pytest.raises(ScenarioError):
        read_input(Path("x" * 5000 + ".toml"), ScenarioError)
    assert not _io.is_file("x" * 5000)
    assert not _io.path_exists("a\x00b")


# ---------------------------------------------------------------------------------------------
# experiments: design and task caps, pairing


def test_an_astronomical_grid_is_refused_without_being_built(tmp_path, monkeypatch):
    def product(*_a, **_k):
        raise AssertionError("the grid was built")

    monkeypatch.setattr(design.itertools, "product", product)
    values = "[" + ", ".join(str(k / 1000) for k in range(100)) + "]"
    names = ["peer_weight", "pull_scale", "institution_gain", "patronage_gain", "contest_noise"]
    grid = '\n[design]\nkind = "grid"\n' + "".join(f"params.{n} = {values}\n" for n in names)
    path = _experiment(tmp_path, "experiment_grid.toml", grid)
    message = refused_everywhere(
        path, tmp_path, "[design]: field 'params'", "10,000,000,000 points", "MAX_POINTS"
    )
    assert "100 x 100 x 100 x 100 x 100" in message


def test_an_lhs_above_the_point_cap_is_refused(tmp_path):
    lhs = '\n[design]\nkind = "lhs"\npoints = 100001\nparams.peer_weight = {low = 0, high = 1}\n'
    path = _experiment(tmp_path, "experiment_lhs.toml", lhs)
    with pytest.raises(ExperimentError, match=r"\[1, 100000\]"):
        load_experiment(path)


def test_millions_of_tasks_are_refused_with_the_count_and_the_way_out(tmp_path):
    path = _experiment(tmp_path, "experiment_tasks.toml", replicates="5_000_000", chunk="2")
    message = refused_everywhere(
        path, tmp_path, "[experiment]: field 'chunk'", "5,000,000 tasks", "MAX_TASKS"
    )
    assert "2 scenario(s) x 1 point(s) x 2,500,000 chunk(s)" in message
    assert "larger chunk" in message


def test_the_task_cap_is_inclusive(tmp_path):
    path = _experiment(tmp_path, "experiment_cap.toml", replicates=str(MAX_TASKS), chunk="2")
    assert len(load_experiment(path).tasks()) == MAX_TASKS


def test_scenarios_on_different_worlds_cannot_be_paired(tmp_path):
    other = _write(
        tmp_path,
        "other.toml",
        HEAD.replace('"h"', '"other"')
        .replace('"central_asia_2021"', f'"{DATA / "tri_power.toml"}"')
        .replace("steps = 30", "steps = 730"),
    )
    path = _experiment(tmp_path, "experiment_worlds.toml", scenarios=f'["{other}"]')
    message = refused_everywhere(
        path, tmp_path, "[experiment]: field 'scenarios'", "scenario 'other'", "cannot be paired"
    )
    assert "world 'tri_power_test'" in message
    assert "'central_asia_2021'" in message


def test_another_version_of_the_same_world_cannot_be_paired(tmp_path):
    copy = _write(tmp_path, "central_asia_2021.toml", WORLD.read_text() + "\n# edited\n")
    other = _write(
        tmp_path,
        "other.toml",
        HEAD.replace('"h"', '"other"')
        .replace('"central_asia_2021"', f'"{copy}"')
        .replace("steps = 30", "steps = 730"),
    )
    path = _experiment(tmp_path, "experiment_version.toml", scenarios=f'["{other}"]')
    message = refused(["validate", str(path)])
    # a long line is cut in its middle (how much depends on the temporary folder's path)
    assert "runs on another version of world" in message and "cannot be paired" in message


# ---------------------------------------------------------------------------------------------
# the reader's pieces


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("a = " + "[" * 16 + "]" * 16, False),
        ("a = " + "[" * 17 + "]" * 17, True),
        ("a = " + "{b = " * 17 + "1" + "}" * 17, True),
        ('a = "' + "[" * 40 + '"', False),
        ("a = '" + "[" * 40 + "'", False),
        ('a = """\n' + "[" * 40 + '\n"""', False),
        ("a = '''\n" + "{" * 40 + "\n'''", False),
        ('a = """x\\"""' + "[" * 40 + '"""', False),  # an escaped quote does not end it
        ('a = """x""""\nb = ' + "[" * 17 + "]" * 17, True),  # four quotes end it
        ('a = "x\\"' + "[" * 40 + '"', False),
        ("# " + "[" * 40 + "\na = 1", False),
        ("[a]\n[[b]]\n[[b]]\n" * 20, False),  # headers are shallow
        ('["a]"]\nb = 1', False),
        ("a = [\n" + "[" * 17, True),
    ],
)
def test_the_nesting_scan(text, deep):
    assert (_io._too_deep(text) is not None) == deep


def test_the_walk_names_items_and_fields():
    def message(data):
        with pytest.raises(ScenarioError) as info:
            check_values(data, "f.toml", ScenarioError)
        return str(info.value)

    nan = float("nan")
    assert message({"events": [{"id": "x"}, {"id": "y", "when": {"all": [{"value": nan}]}}]}) == (
        "f.toml: event 'y': field 'when.all[0].value': nan is not a finite number; no field "
        "accepts NaN or infinity"
    )
    assert message({"events": [{"id": "a b", "p": nan}]}).startswith("f.toml: event #1: field 'p'")
    assert message({"factions": [{"id": "KZ.x", "share": {"value": nan}}]}).startswith(
        "f.toml: faction 'KZ.x': field 'share.value'"
    )
    assert message({"compare": {"at": [date(1800, 1, 1)]}}).startswith(
        "f.toml: [compare]: field 'at[0]': date 1800-01-01"
    )
    assert message({"x": [1, [nan]]}).startswith("f.toml: [[x]] item #2: field '[0]'")
    assert message({"top": nan}).startswith("f.toml: field 'top'")
    assert "key contains" in message({"a": {"b\x1b": 1}})
    check_values({"a": [MIN_INT, MAX_INT, MIN_DATE, MAX_DATE, "tab\tand\nnewline"]}, None)


def test_read_toml_turns_every_parser_failure_into_an_input_error(tmp_path):
    for name, raw in [
        ("utf8.toml", b"a = '\xff'"),
        ("syntax.toml", b"a = = 1"),
        ("nul.toml", b'a = "\x00"'),
        ("digits.toml", b"a = " + b"1" * 5000),
    ]:
        with pytest.raises(WorldError):
            parse_toml(raw, Path(name), WorldError)


def test_recursion_in_the_parser_is_caught_too(monkeypatch):
    """The safety net: were the text scan to miss deep nesting, tomllib's RecursionError is
    still an input error."""
    monkeypatch.setattr(_io, "_too_deep", lambda text: None)
    with pytest.raises(ScenarioError, match="nested more than 16 deep"):
        parse_toml(b"a = " + b"[" * 5000 + b"]" * 5000, Path("deep.toml"), ScenarioError)


def test_an_integer_of_thousands_of_digits_built_in_python():
    data = tomllib.loads(HEAD + EVENT)
    data["events"][0]["jitter"] = 10**5000
    with pytest.raises(ScenarioError, match="an integer of about 5,001 digits"):
        scenario_from_dict(data, path="mem.toml")


def test_excerpt_and_bad_id():
    assert excerpt("730") == "'730'"
    assert excerpt("y" * 10_000) == f"'{'y' * MAX_EXCERPT}'…"
    assert len(excerpt([list(range(1000))] * 1000)) < 3 * MAX_EXCERPT
    assert len(excerpt(_python_when(5000))) < 3 * MAX_EXCERPT
    assert bad_id("KZ.tokayev") is None
    assert bad_id("x" * 64) is None
    assert bad_id("x" * 65) is not None
    assert bad_id("a\n") is not None  # fullmatch: a trailing newline is not allowed
    assert bad_id(3) is not None


def test_shipped_params_file_passes_the_input_checks():
    """params.toml is read with tomllib (package data, below _io); it passes the checks too."""
    data = read_toml(ROOT / "influence_sim" / "data" / "params.toml")
    assert set(data) == set(parameters())


def test_every_shipped_and_test_id_matches_the_pattern():
    for path in [WORLD, DATA / "tri_power.toml"]:
        w = isim.load_world(path)
        for ids in w.kinds.values():
            assert all(ID_PATTERN.fullmatch(i) for i in ids)
    for path in sorted((ROOT / "scenarios").rglob("*.toml")):
        if "experiment" in read_toml(path):
            assert ID_PATTERN.fullmatch(load_experiment(path).name)
            continue
        s = isim.load_scenario(path)
        assert ID_PATTERN.fullmatch(s.name)
        assert all(ID_PATTERN.fullmatch(e.id) for e in s.events)


# ---------------------------------------------------------------------------------------------
# the documented limits are the constants


def _limits_rows() -> dict[str, list[str]]:
    text = (ROOT / "docs" / "scenario-format.md").read_text()
    section = text[text.index("## Limits") : text.index("\n## ", text.index("## Limits") + 1)]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"^\|\s*`([A-Z_]+)`\s*\|(.*)\|\s*$", line)
        if m:
            rows[m.group(1)] = [c.strip() for c in m.group(2).split("|")]
    return rows


def test_documented_limits_equal_the_constants():
    rows = _limits_rows()
    assert set(rows) == {
        "MAX_INPUT_BYTES",
        "MAX_NESTING",
        "MIN_DATE",
        "MAX_DATE",
        "MAX_INT",
        "CONTROL",
        "ID_PATTERN",
        "MAX_POINTS",
        "MAX_TASKS",
        "MAX_EXCERPT",
        "MAX_MESSAGE",
    }
    mib = MAX_INPUT_BYTES // 2**20
    assert rows["MAX_INPUT_BYTES"][0] == f"{MAX_INPUT_BYTES:,} bytes ({mib} MiB)"
    assert rows["MAX_NESTING"][0] == str(MAX_NESTING)
    assert rows["MIN_DATE"][0] == MIN_DATE.isoformat()
    assert rows["MAX_DATE"][0] == MAX_DATE.isoformat()
    assert rows["MAX_INT"][0].startswith(f"{MAX_INT:,} (2^63 - 1)")
    assert MIN_INT == -(2**63) and "-2^63" in rows["MAX_INT"][1]
    assert rows["ID_PATTERN"][0] == f"`{ID_PATTERN.pattern}`"
    assert rows["MAX_POINTS"][0] == f"{MAX_POINTS:,}"
    assert rows["MAX_TASKS"][0] == f"{MAX_TASKS:,}"
    assert rows["MAX_EXCERPT"][0] == str(MAX_EXCERPT)
    assert rows["MAX_MESSAGE"][0] == str(MAX_MESSAGE)
    # the `when` depth the docs derive from MAX_NESTING: event 2, when 3, two levels per all/any
    levels = (MAX_NESTING - 3) // 2
    assert f"at most {levels} levels of `all`/`any`" in rows["MAX_NESTING"][1]
    # the module columns name where each constant lives
    assert rows["MAX_POINTS"][2] == "`experiment/design.py`"
    assert rows["ID_PATTERN"][2] == "`errors.py`"


# ---------------------------------------------------------------------------------------------
# the contract, by property: random mutations of valid files of every kind


def _base(path: Path) -> dict:
    data = tomllib.loads(path.read_text())
    head = data.get("scenario", {})
    if "extends" in head:  # the mutated copy lives elsewhere: make the path absolute
        head["extends"] = str((path.parent / head["extends"]).resolve())
    exp = data.get("experiment", {})
    if "baseline" in exp:
        exp["baseline"] = str((path.parent / exp["baseline"]).resolve())
        exp["scenarios"] = [str((path.parent / s).resolve()) for s in exp["scenarios"]]
    return data


def _with_design(data: dict, design: dict) -> dict:
    data = {**data, "design": design}
    data["experiment"] = {**data["experiment"], "name": "with_design"}
    return data


GRID = {"kind": "grid", "params": {"peer_weight": [0.1, 0.2], "pull_scale": [0.5]}}
LHS = {"kind": "lhs", "points": 3, "params": {"contest_noise": {"low": 0.1, "high": 0.3}}}


BASES = {
    "scenario": _base(BASELINE),
    "counterfactual": _base(ROOT / "scenarios" / "counterfactuals" / "china_sco_response.toml"),
    "world": _base(DATA / "tri_power.toml"),
    "shipped_world": _base(WORLD),
    "experiment": _base(VALID_EXPERIMENT),
    "experiment_grid": _with_design(_base(VALID_EXPERIMENT), GRID),
    "experiment_lhs": _with_design(_base(VALID_EXPERIMENT), LHS),
}


@pytest.mark.parametrize("kind", sorted(BASES))
def test_the_writer_round_trips_every_base(kind, tmp_path):
    text = dumps(BASES[kind])
    assert tomllib.loads(text) == BASES[kind]
    path = _write(tmp_path, f"{kind}.toml", text)
    status, out, err = _cli(["validate", str(path)])
    assert (status, err) == (0, ""), err
    assert ": ok (" in out


@pytest.fixture(scope="module")
def mutation_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("mutations")


def _contract(path: Path) -> None:
    status, out, err = _cli(["validate", str(path)])
    assert "Traceback" not in err, err
    assert status in (0, 2), f"exit {status}: {err[-2000:]}"
    if status == 2:
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith(PREFIX), err
        assert out == ""
    else:
        assert err == ""
    assert not RAW_CONTROL.search(err.rstrip("\n")), repr(err)
    assert not RAW_CONTROL.search(out.rstrip("\n")), repr(out)


@pytest.mark.parametrize("kind", sorted(BASES))
@settings(
    max_examples=max(2 * settings.default.max_examples, 40),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_validate_keeps_the_contract_on_mutated_files(kind, mutation_dir, data):
    text = data.draw(mutated(BASES[kind]), label="file")
    path = mutation_dir / f"{kind}.toml"
    path.write_text(text, "utf-8")
    _contract(path)
