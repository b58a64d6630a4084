"""The layout as a contract, and the papercuts fixed while moving the code (issue 9)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

import influence_sim as isim
from influence_sim.cli import main, share_text
from influence_sim.core.measures import MEASURES, RECORDED
from influence_sim.core.runner import Recorder, Runner
from influence_sim.errors import ArgumentError, ScenarioError, StoreError
from influence_sim.experiment.design import Output
from influence_sim.seeds import point_seed, root_seed

from .conftest import BASELINE, ROOT
from .test_experiment import write_experiment

PACKAGE = ROOT / "influence_sim"
HEAVY = ("pyarrow", "matplotlib", "dask", "distributed")


def _modules_after(code: str) -> set[str]:
    """Top-level modules imported by a fresh interpreter running ``code``."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return {m.split(".")[0] for m in json.loads(out.stdout.strip().splitlines()[-1])}


def test_import_is_light():
    mods = _modules_after("import influence_sim")
    assert not mods & {*HEAVY, "pandas", "scipy", "mesa"}, mods & {*HEAVY, "pandas", "mesa"}


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["validate", str(BASELINE)], ["params"]],
    ids=["help", "validate", "params"],
)
def test_cli_front_doors_import_nothing_heavy(argv):
    code = (
        "from influence_sim.cli import main\n"
        "import contextlib, io\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    main({argv!r})"
    )
    assert not _modules_after(code) & set(HEAVY)


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_actor_ids_in_python_code():
    hits = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in _sources()
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r'"(KZ|RU|CN)"', line)
    ]
    assert hits == []


def test_only_the_store_reads_manifest_keys():
    readers = {
        p.relative_to(PACKAGE).as_posix()
        for p in _sources()
        if re.search(r"manifest\[", p.read_text())
    }
    # the stores: a batch's, and a design run's
    assert readers == {"experiment/store.py", "experiment/integrity.py", "experiment/sweep.py"}


def test_the_per_point_seed_rule_is_written_once():
    writers = {
        p.relative_to(PACKAGE).as_posix()
        for p in _sources()
        if "spawn_key=" in p.read_text() and "SeedSequence(" in p.read_text()
    }
    assert writers == {"seeds.py"}
    assert point_seed(7, 3).spawn_key == (3,) and point_seed(7, 3).entropy == 7


def test_every_reader_of_measures_agrees_with_the_table(baseline):
    runner = Runner(baseline, np.arange(2), root_seed(1))
    rec = Recorder(runner.ens, 3, 1, factions=True)
    assert list(rec.data) == [*RECORDED, "score"]
    for name, arr in rec.data.items():
        assert arr.shape[2:] == MEASURES[name].shape(baseline.world)
    assert Output().measures == RECORDED
    res = isim.simulate(baseline, replicates=1, rng=1, every=365)
    for name in res.data:
        assert res.series_names(name) == [
            f"{name}/{s}" for s in MEASURES[name].series_names(baseline.world)
        ]
    model = isim.InfluenceModel(baseline, rng=1)
    names = set(model.datacollector.model_reporters)
    assert "balance.region" in names and "corridor" in names
    w = baseline.world
    expected = {
        f"{m}.{a}" + (f".{p}" if MEASURES[m].per_power else "")
        for m in RECORDED
        if MEASURES[m].kind not in (None, "faction")
        for a, p in zip(*MEASURES[m].labels(w), strict=True)
    } | {"corridor"}
    assert names == expected


def test_measure_values_match_the_recorded_arrays(baseline):
    res = isim.simulate(baseline, replicates=[0, 5], rng=4, every=730)
    runner = Runner(baseline, np.array([0, 5]), root_seed(4))
    while not runner.done:
        runner.advance()
    w = baseline.world
    for name in RECORDED:
        spec = MEASURES[name]
        for col, (actor, power) in enumerate(zip(*spec.labels(w), strict=True)):
            got = spec.value(runner.ens, actor, power if spec.per_power else None)
            want = res.data[name][-1].reshape(2, -1)[:, col]
            np.testing.assert_array_equal(got.astype(np.float32), want)


# ---------------------------------------------------------------------------------------
# errors


def test_an_unknown_power_lists_the_choices_and_points_a_full_name_to_its_id(baseline):
    spec = MEASURES["alignment"]
    with pytest.raises(ArgumentError) as err:
        spec.column(baseline.world, "KZ", "Russia")
    assert "one of RU, CN" in str(err.value) and "did you mean 'RU'" in str(err.value)
    from influence_sim.core.scenario import scenario_from_dict

    data = {
        "scenario": {
            "name": "s",
            "world": "central_asia_2021",
            "start": date(2022, 1, 1),
            "step": "1d",
            "steps": 10,
        },
        "events": [
            {
                "id": "speech",
                "kind": "statement",
                "date": date(2022, 1, 3),
                "power": "China",
                "face": 0.1,
                "source": "assumption: test",
            }
        ],
    }
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    text = str(err.value)
    assert "unknown power 'China'" in text and "one of RU, CN" in text, text
    assert "did you mean 'CN'" in text


def test_messages_escape_control_characters_and_cut_long_text():
    err = ScenarioError("unknown kind '\x1b[31mred\x00'", file="s.toml", item="event 'x'")
    assert "\x1b" not in str(err) and "\x00" not in str(err)
    assert "\\x1b" in str(err)
    long = ScenarioError("value " + "y" * 5_000_000)
    assert len(str(long)) < 500 and "characters cut" in str(long)


def test_library_errors_name_arguments_and_the_cli_names_flags(tmp_path, capsys):
    out = tmp_path / "out"
    isim.run_experiment(
        isim.load_experiment(write_experiment(tmp_path, replicates=2, chunk=2)),
        out,
        workers=1,
        progress=False,
    )
    with pytest.raises(ArgumentError) as err:
        isim.compare(out, baseline="bse")
    assert err.value.argument == "baseline" and "--" not in str(err.value)
    assert main(["compare", str(out), "--baseline", "bse", "--boot", "10"]) == 2
    msg = capsys.readouterr().err
    assert "--baseline" in msg and "did you mean 'base'" in msg
    with pytest.raises(StoreError) as serr:
        isim.run_experiment(isim.load_experiment(tmp_path / "tiny.toml"), out, progress=False)
    assert "--resume" not in str(serr.value) and serr.value.remedy == "resume"


# ---------------------------------------------------------------------------------------
# papercuts


@pytest.mark.parametrize(
    ("share", "text"),
    [
        (0.995, "99.5%"),
        (0.005, "0.5%"),
        (0.5, "50%"),
        (1.0, "100%"),
        (0.0, "0%"),
        (0.9999, "99.99%"),
    ],
)
def test_partial_shares_are_never_printed_as_0_or_100(share, text):
    assert share_text(share) == text


def test_run_prints_a_99_5_percent_event_with_its_digits(capsys, monkeypatch):
    import pandas as pd

    from influence_sim.experiment.run import Result

    monkeypatch.setattr(
        Result, "firing_rates", lambda self: pd.Series({"massimov_arrested": 0.995, "x": 1.0})
    )
    assert main(["run", str(BASELINE), "-n", "2", "-q", "--every", "365"]) == 0
    assert "massimov_arrested (99.5%)" in capsys.readouterr().out


@pytest.fixture(scope="module")
def design_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("design")
    design = '[design]\nkind = "grid"\n[design.params]\npull_scale = [0.8, 1.2]\n'
    out = folder / "out"
    isim.run_experiment(
        isim.load_experiment(write_experiment(folder, design=design, replicates=4, chunk=4)),
        out,
        workers=1,
        progress=False,
    )
    return out


def test_compare_tables_name_the_design_point(design_store):
    cmp = isim.compare(design_store, n_boot=50)
    head, _rule, *rows = cmp.table().splitlines()
    assert "point" in head.split()
    assert {r.split()[1] for r in rows} == {"0", "1"}
    assert "point" in cmp.threshold_table().splitlines()[0].split()


def test_compare_at_an_unrecorded_date_uses_the_nearest_and_says_so(tmp_path, capsys):
    design = ""
    path = write_experiment(tmp_path, replicates=2, chunk=2, design=design)
    path.write_text(path.read_text().replace("every = 1", "every = 7"))
    out = tmp_path / "out"
    isim.run_experiment(isim.load_experiment(path), out, workers=1, progress=False)
    cmp = isim.compare(out, at=[date(2022, 1, 17)], n_boot=20)
    # recorded every 7 days from 2022-01-01: the 15th is nearest to the 17th
    assert "2022-01-15" in set(cmp.effects["date"])
    assert cmp.notes == [
        "2022-01-17 is not a recorded date; using the nearest recorded date, 2022-01-15"
    ]
    with pytest.raises(ArgumentError, match="outside the recorded dates"):
        isim.compare(out, at=[date(2030, 1, 1)], n_boot=20)
    assert main(["compare", str(out), "--at", "2022-01-17", "--boot", "20"]) == 0
    assert "using the nearest recorded date, 2022-01-15" in capsys.readouterr().out


def test_explain_marks_events_after_the_date_and_names_files_by_date(design_store, capsys):
    table, _ = isim.explain(design_store, at=date(2022, 1, 4), replicates=2, n_boot=20)
    after = table[table["note"] == "on or after the date"]
    assert len(after) > 0
    assert (after["date"] >= "2022-01-04").all() and after["fired"].isna().all()
    due = table[(table["note"] == "") & ~table["event"].str.startswith("(")]
    assert (due["date"] < "2022-01-04").all()
    assert main(["explain", str(design_store), "--at", "2022-01-04", "-n", "2", "-q"]) == 0
    out = capsys.readouterr().out
    assert "on or after the date" in out and "fired   0%" not in out
    assert main(["explain", str(design_store), "-n", "2", "-q"]) == 0
    files = sorted(p.name for p in (design_store / "analysis").glob("explain_*.csv"))
    assert files == [
        "explain_baseline_balance_KZ_2022-01-04.csv",
        "explain_baseline_balance_KZ_2022-02-15.csv",
    ]


def test_scenario_format_says_legitimacy_acts_only_during_unrest():
    text = (ROOT / "docs" / "scenario-format.md").read_text()
    assert re.search(r"legitimacy acts only during unrest", text, re.I)


def test_architecture_doc_names_every_subpackage():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    for sub in sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")):
        assert f"{sub}/" in doc, sub
    for mod in sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"):
        assert mod in doc, mod
