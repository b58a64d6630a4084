"""The command line: outputs, reloading, exit statuses, no side effects."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

import influence_sim as isim
from influence_sim.cli import main

from .conftest import BASELINE, SCENARIOS


def test_run_writes_outputs_that_reload(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        ["run", str(BASELINE), "-n", "6", "--seed", "3", "--out", str(out), "-q", "--every", "7"]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "median [90% interval]" in text
    for state in ("KZ", "KG", "TJ", "UZ", "TM", "region"):
        assert f"\n{state}" in text
    assert {p.name for p in out.iterdir()} == {
        "manifest.json",
        "timeseries",
        "summary.csv",
        "events.csv",
        "votes.csv",
    }
    manifest = json.loads((out / "manifest.json").read_text())
    scen = isim.load_scenario(BASELINE)
    assert manifest["scenario"]["sha256"] == scen.sha256
    assert manifest["seed"]["entropy"] == "3"
    assert manifest["versions"]["influence_sim"] == isim.__version__
    assert manifest["resolved"]["params"]["peer_weight"] == 1.0
    schema = pq.read_table(out / "timeseries").schema
    assert schema.names == [
        "scenario",
        "replicate",
        "step",
        "date",
        "measure",
        "actor",
        "power",
        "value",
    ]
    run = isim.load_run(out)
    ts = run.timeseries
    assert set(ts["measure"].astype(str)) == {
        "alignment",
        "balance",
        "share",
        "reputation",
        "credibility",
        "corridor",
        "perception",
        "threat",
        "hedging",
        "approval",
        "elite_alignment",
        "trade",
        "trade_share",
        "remittance_share",
        "debt_share",
    }
    assert "region" in set(ts.loc[ts["measure"] == "balance", "actor"].astype(str))
    assert sorted(ts["replicate"].unique()) == list(range(6))
    assert ts["step"].max() == scen.steps and (ts["step"] % 7 == 0).sum() > 0
    assert len(run.summary) == 6
    assert set(run.events["event"]) == {e.id for e in scen.events}
    # what was written equals a fresh in-memory run with the same seed
    res = isim.simulate(scen, replicates=6, rng=3, every=7)
    bal = (
        ts[(ts["measure"] == "balance") & (ts["actor"] == "KZ")]
        .sort_values(["step", "replicate"])["value"]
        .to_numpy()
    )
    np.testing.assert_array_equal(bal, res.data["balance"][:, :, 0].reshape(-1))


def test_run_refuses_to_overwrite_a_foreign_directory(tmp_path, capsys):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("precious")
    code = main(["run", str(BASELINE), "-n", "2", "--out", str(foreign), "-q"])
    assert code == 2
    assert "holds something else, not an earlier run" in capsys.readouterr().err
    assert (foreign / "notes.txt").read_text() == "precious"


def test_rerun_replaces_an_earlier_result_atomically(tmp_path):
    out = tmp_path / "run"
    assert main(["run", str(BASELINE), "-n", "2", "--out", str(out), "-q"]) == 0
    first = (out / "summary.csv").read_text()
    assert main(["run", str(BASELINE), "-n", "3", "--out", str(out), "-q"]) == 0
    assert (out / "summary.csv").read_text() != first
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary leftovers


def test_validate_all_shipped_files(capsys):
    files = sorted(SCENARIOS.rglob("*.toml"))
    assert main(["validate", *map(str, files)]) == 0
    assert capsys.readouterr().out.count(": ok") == len(files)


def test_bad_arguments_exit_2(capsys):
    assert main(["run", str(BASELINE), "--replicates", "0"]) == 2
    assert main(["run", "does/not/exist.toml"]) == 2
    assert "file not found" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2


def test_params_lists_every_parameter(capsys):
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    for name in isim.params.parameters():
        assert name in out


def test_import_has_no_side_effects():
    code = (
        "import sys, multiprocessing, logging; import influence_sim; "
        "assert 'matplotlib' not in sys.modules; "
        "assert 'mesa' not in sys.modules; "
        "assert multiprocessing.get_start_method(allow_none=True) is None; "
        "assert not logging.getLogger().handlers; "
        "from influence_sim import InfluenceModel; assert 'mesa' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("argv", [["--version"], ["run", "--help"]])
def test_help_and_version_exit_0(argv, capsys):
    assert main(argv) == 0
