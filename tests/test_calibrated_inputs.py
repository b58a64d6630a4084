"""Counterfactuals over the inputs the evidence allows: `batch --inputs` and `sensitivity
--inputs` read a calibration's non-implausible points (or any CSV of input points)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import influence_sim as isim
from influence_sim import load_experiment, run_experiment
from influence_sim.cli import main
from influence_sim.errors import InputError, StoreError
from influence_sim.experiment.uncertainty import load_input_sample
from influence_sim.seeds import point_seed

from .test_experiment import write_experiment


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    exp = load_experiment(write_experiment(folder, replicates=6, chunk=3))
    points = folder / "points.csv"
    pd.DataFrame(
        {
            "pull_scale": [0.6, 1.7],
            "event.csto_deploy.size": [0.3, 0.8],
            "factions.KZ.tokayev.anchor.RU": [0.40, 0.52],
        }
    ).to_csv(points, index=False)
    return folder, exp, points


def test_replicate_r_runs_at_point_r_mod_p_in_every_scenario(setup):
    folder, exp, points = setup
    sample = load_input_sample(points, exp.scenarios)
    assert sample.names == (
        "pull_scale",
        "event.csto_deploy.size",
        "factions.KZ.tokayev.anchor.RU",
    )
    out = folder / "over_points"
    rs = run_experiment(exp.with_inputs(sample), out, workers=1, progress=False)
    assert rs.manifest["inputs"]["sha256"] == sample.sha256
    ts = rs.timeseries(measures=["balance"], actors=["KZ"])
    for r in (1, 4):  # both take point 1 (r mod 2)
        alone = isim.simulate(
            exp.scenario("cf"),
            replicates=[r],
            rng=point_seed(exp.seed, 0),
            inputs=sample.columns([r]),
        )
        got = ts[(ts["scenario"] == "cf") & (ts["replicate"] == r)]["value"].to_numpy()
        want = alone.frame("balance").query("actor == 'KZ'")["value"].to_numpy()
        np.testing.assert_array_equal(got, want.astype(np.float32))
    # the inputs change the runs: a plain batch differs
    plain = run_experiment(exp, folder / "plain", workers=1, progress=False)
    a = plain.timeseries(measures=["balance"], actors=["KZ"])["value"].to_numpy()
    assert not np.array_equal(a, ts["value"].to_numpy())


def test_inputs_at_their_defaults_reproduce_the_plain_batch(setup):
    folder, exp, _ = setup
    from influence_sim.params import parameters

    default = parameters()["pull_scale"].default
    path = folder / "defaults.csv"
    pd.DataFrame({"pull_scale": [default, default]}).to_csv(path, index=False)
    sample = load_input_sample(path, exp.scenarios)
    a = run_experiment(exp.with_inputs(sample), folder / "d", workers=1, progress=False)
    b = isim.load_results(folder / "plain")
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries(), check_categorical=False)


def test_a_store_over_points_is_the_same_whatever_the_executor_and_refuses_other_points(setup):
    folder, exp, points = setup
    sample = load_input_sample(points, exp.scenarios)
    a = isim.load_results(folder / "over_points")
    b = run_experiment(
        exp.with_inputs(sample), folder / "dask", executor="dask", workers=2, progress=False
    )
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries(), check_categorical=False)
    other = folder / "other.csv"
    pd.DataFrame({"pull_scale": [0.9]}).to_csv(other, index=False)
    with pytest.raises(StoreError):
        run_experiment(
            exp.with_inputs(load_input_sample(other, exp.scenarios)),
            folder / "over_points",
            workers=1,
            resume=True,
            progress=False,
        )


def test_batch_and_compare_run_over_the_points_from_the_command_line(setup, capsys):
    folder, exp, points = setup
    out = folder / "cli"
    status = main(["batch", exp.path, "--out", str(out), "--inputs", str(points), "-q"])
    text, err = capsys.readouterr()
    assert status == 0, err
    assert "Inputs drawn per replicate" in text and "2 points of 3 inputs" in text
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"]["points"] == 2
    assert main(["compare", str(out), "--measure", "balance", "--boot", "50"]) == 0
    assert "cf" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("pull_scal\n1.0\n", ["points.csv", "field 'pull_scal'", "did you mean 'pull_scale'"]),
        ("pull_scale\n99.0\n", ["points.csv", "field 'pull_scale'", "valid range"]),
        ("pull_scale\nabc\n", ["points.csv", "row 2", "field 'pull_scale'", "finite number"]),
        ("pull_scale\n", ["points.csv", "no points"]),
        ("point,replicate\n1,2\n", ["points.csv", "no input columns"]),
        (
            "event.csto_deploy.sise\n0.5\n",
            ["points.csv", "field 'event.csto_deploy.sise'", "size"],
        ),
    ],
)
def test_a_bad_inputs_file_gets_one_line_and_exit_2(setup, tmp_path, capsys, text, expect):
    _, exp, _ = setup
    bad = tmp_path / "points.csv"
    bad.write_text(text)
    with pytest.raises(InputError):
        load_input_sample(bad, exp.scenarios)
    status = main(["batch", exp.path, "--out", str(tmp_path / "o"), "--inputs", str(bad), "-q"])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    for e in expect:
        assert e in err, err
    assert not (tmp_path / "o").exists()


def test_the_report_shows_the_evidence_and_the_effects_over_the_surviving_points(setup, tmp_path):
    from influence_sim.analysis.calibration import history_match
    from influence_sim.core.targets import load_targets
    from influence_sim.report import build_report

    from .test_calibration import EXPERIMENT, ROOT, TARGETS

    _, exp, _ = setup
    store = tmp_path / "store"
    rs = run_experiment(exp, store, workers=1, progress=False)
    from influence_sim.analysis.compare import compare
    from influence_sim.report import _evidence

    assert _evidence(rs, compare(rs, n_boot=50)) == ""  # no calibration: no section
    (tmp_path / "cal.toml").write_text(EXPERIMENT.format(root=ROOT))
    (tmp_path / "targets.toml").write_text(TARGETS)
    hm = history_match(
        load_experiment(tmp_path / "cal.toml"),
        load_targets(tmp_path / "targets.toml"),
        store / "calibration",
        waves=1,
        points=8,
        workers=1,
        progress=False,
    )
    assert len(hm.survivors) > 0
    sample = load_input_sample(store / "calibration" / "non_implausible.csv", exp.scenarios)
    run_experiment(exp.with_inputs(sample), store / "calibrated", workers=1, progress=False)
    html = build_report(rs).read_text()
    assert "id='evidence'" in html and "href='#evidence'" in html
    assert "alt='calibration'" in html and "wave 1:" in html
    assert "Effects over the inputs the evidence allows" in html
    assert "mean (non-implausible)" in html and "mean (defaults)" in html
