"""Sensitivity runs in a store: identical across chunks, workers and executors; resumable.

A small experiment (three inputs of each kind, two replicates, an outcome a few weeks in) is
run by `run_sensitivity` and by the ``sensitivity`` command.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import influence_sim as isim
from influence_sim.analysis.sensitivity import load_sensitivity, run_sensitivity
from influence_sim.cli import main
from influence_sim.errors import ArgumentError, StoreError
from influence_sim.experiment import sweep

ROOT = Path(__file__).resolve().parent.parent

EXPERIMENT = """
[experiment]
name = "tiny_sensitivity"
baseline = "{root}/scenarios/kazakhstan_2022.toml"
scenarios = ["{root}/scenarios/counterfactuals/no_csto.toml"]
replicates = 2
seed = 7

[uncertainty]
replicates = 2
chunk = {chunk}
params = ["pull_scale"]

[uncertainty.inputs]
"event.csto_deploy.size" = {{}}
"powers.RU.reputation" = {{}}

[[outcomes]]
name = "csto_KZ"
effect = "no_csto"
measure = "balance"
actor = "KZ"
date = 2022-01-20

[[outcomes]]
name = "tokayev"
measure = "share"
actor = "KZ.tokayev"
window = [2022-01-05, 2022-01-20]

[[conclusions]]
name = "csto_helps_russia"
statement = "csto_KZ < -0.05"
"""


def _experiment(tmp_path: Path, chunk: int = 4) -> isim.Experiment:
    path = tmp_path / f"tiny_{chunk}.toml"
    path.write_text(EXPERIMENT.format(root=ROOT, chunk=chunk))
    return isim.load_experiment(path)


def _outcomes(res) -> dict[str, np.ndarray]:
    return {o.name: res.run.Y(o.name) for o in res.run.outcomes}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ref")
    exp = _experiment(tmp, chunk=4)
    return run_sensitivity(exp, tmp / "store", method="morris", n=3, workers=1, progress=False)


def test_a_run_holds_its_design_outcomes_indices_and_manifest(reference):
    res = reference
    assert res.run.complete
    assert res.run.X.shape == (3 * 4, 3)  # r (D + 1) rows
    assert set(res.indices["outcome"]) == {"csto_KZ", "tokayev"}
    y = res.run.Y("csto_KZ")
    assert y.shape == (12, 2) and np.isfinite(y).all()
    m = json.loads((res.path / "manifest.json").read_text())
    assert m["method"] == {"name": "morris", "n": 3, "levels": 4}
    assert m["uncertainty"]["space"]["kinds"] == ["param", "event", "world"]
    assert {s["name"] for s in m["scenarios"]} == {"kazakhstan_2022", "no_csto"}
    assert all(s["sha256"] for s in m["scenarios"])
    assert "versions" in m and m["seed"] == "7"
    # the CSV files can be read back, with the noise shares beside the indices
    csv = pd.read_csv(res.path / "indices.csv")
    assert {"outcome", "input", "mu_star", "noise_single"} <= set(csv.columns)
    concl = pd.read_csv(res.path / "conclusions.csv")
    assert concl["conclusion"].tolist() == ["csto_helps_russia"]
    assert 0 <= concl["holds"].iloc[0] <= 1
    # the conclusion's share is the share of points whose mean effect is below -0.05
    assert concl["holds"].iloc[0] == pytest.approx((y.mean(axis=1) < -0.05).mean())
    # reloading reads the same numbers back, and the same attributes
    again = load_sensitivity(res.path)
    pd.testing.assert_frame_equal(again.indices, res.indices)
    pd.testing.assert_frame_equal(again.conclusions, res.conclusions)
    assert again.of("tokayev").attrs == res.of("tokayev").attrs
    assert set(res.of("tokayev").attrs) == {"noise_single", "noise_in_means", "replicates"}
    # a reader does not write: without the CSV files the indices are computed again
    for f in ("indices.csv", "conclusions.csv"):
        (res.path / f).rename(res.path / f"{f}.bak")
    try:
        fresh = load_sensitivity(res.path)
        assert not (res.path / "indices.csv").exists()
        pd.testing.assert_frame_equal(fresh.indices, res.indices)
    finally:
        for f in ("indices.csv", "conclusions.csv"):
            (res.path / f"{f}.bak").rename(res.path / f)


@pytest.mark.parametrize(
    ("chunk", "workers", "executor"),
    [(1, 1, "process"), (5, 2, "process"), (3, 2, "dask")],
)
def test_identical_across_chunks_workers_and_executors(
    reference, tmp_path, chunk, workers, executor
):
    exp = _experiment(tmp_path, chunk=chunk)
    res = run_sensitivity(
        exp,
        tmp_path / "s",
        method="morris",
        n=3,
        workers=workers,
        executor=executor,
        progress=False,
    )
    ref = _outcomes(reference)
    for name, y in _outcomes(res).items():
        np.testing.assert_array_equal(y, ref[name], err_msg=name)


def test_an_interrupted_run_resumes_to_the_same_numbers(reference, tmp_path, monkeypatch):
    exp = _experiment(tmp_path, chunk=4)
    calls = {"n": 0}
    real = sweep.run_rows

    def flaky(*args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # killed after the first chunk
        return real(*args)

    monkeypatch.setattr(sweep, "run_rows", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_sensitivity(exp, tmp_path / "s", method="morris", n=3, workers=1, progress=False)
    monkeypatch.setattr(sweep, "run_rows", real)
    m = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert [c["status"] for c in m["chunks"].values()] == ["done", "pending", "pending"]
    with pytest.raises(StoreError, match="resume"):
        run_sensitivity(exp, tmp_path / "s", method="morris", n=3, workers=1, progress=False)
    with pytest.raises(StoreError, match="incomplete"):
        sweep.load_design_run(tmp_path / "s").Y("csto_KZ")
    res = run_sensitivity(
        exp, tmp_path / "s", method="morris", n=3, workers=1, resume=True, progress=False
    )
    ref = _outcomes(reference)
    for name, y in _outcomes(res).items():
        np.testing.assert_array_equal(y, ref[name])


def test_a_damaged_chunk_is_refused_on_reading_and_rerun_on_resume(reference, tmp_path, capsys):
    import shutil

    store = tmp_path / "copy"
    shutil.copytree(reference.path, store)
    assert main(["verify", str(store)]) == 0
    assert "3 chunks: 3 ok" in capsys.readouterr().out
    victim = sorted((store / "chunks").glob("*.parquet"))[1]
    victim.write_bytes(victim.read_bytes()[:-20])
    assert main(["verify", str(store)]) == 2
    out = capsys.readouterr().out
    assert "1 corrupt" in out and victim.name in out
    with pytest.raises(StoreError, match="damaged"):
        sweep.load_design_run(store).Y("csto_KZ")
    exp = _experiment(tmp_path, chunk=4)
    res = run_sensitivity(exp, store, method="morris", n=3, workers=1, resume=True, progress=False)
    np.testing.assert_array_equal(res.run.Y("csto_KZ"), reference.run.Y("csto_KZ"))


def test_another_design_in_the_same_store_is_refused(reference, tmp_path):
    exp = _experiment(tmp_path, chunk=4)
    with pytest.raises(StoreError, match="another design run"):
        run_sensitivity(
            exp, reference.path, method="morris", n=4, workers=1, resume=True, progress=False
        )
    with pytest.raises(StoreError, match="another design run"):
        run_sensitivity(
            exp, reference.path, method="sobol", n=4, workers=1, resume=True, progress=False
        )


def test_the_command_runs_reports_and_draws(tmp_path, capsys):
    path = tmp_path / "tiny.toml"
    path.write_text(EXPERIMENT.format(root=ROOT, chunk=8))
    out = tmp_path / "sobol"
    status = main(
        [
            "sensitivity",
            str(path),
            "--method",
            "sobol",
            "--n",
            "4",
            "--out",
            str(out),
            "--workers",
            "1",
            "-q",
        ]
    )
    text, err = capsys.readouterr()
    assert status == 0, err
    assert "csto_KZ: effect(no_csto, balance, KZ, 2022-01-20)" in text
    assert "conclusion csto_helps_russia: holds at" in text
    assert (out / "indices.csv").is_file()
    assert sorted(p.name for p in (out / "figures").glob("*.png")) == [
        "sobol_csto_KZ.png",
        "sobol_tokayev.png",
    ]
    # an experiment without [uncertainty]: one line, exit 2
    plain = ROOT / "scenarios" / "experiments" / "kazakhstan_2022.toml"
    status = main(["sensitivity", str(plain), "--out", str(tmp_path / "x"), "-q"])
    err = capsys.readouterr().err
    assert status == 2 and len(err.splitlines()) == 1 and "[uncertainty]" in err
    assert not (tmp_path / "x").exists()
    # a Sobol' n that is not a power of 2
    status = main(
        [
            "sensitivity",
            str(path),
            "--method",
            "sobol",
            "--n",
            "6",
            "--out",
            str(tmp_path / "y"),
            "-q",
        ]
    )
    err = capsys.readouterr().err
    assert status == 2 and "power of 2" in err and len(err.splitlines()) == 1


# ---------------------------------------------------------------------------------------
# scenario discovery on the stored run, and the report


def test_discover_reads_a_declared_conclusion_or_a_statement(reference, tmp_path):
    import shutil

    from influence_sim.analysis.discovery import Discovery, discover

    store = tmp_path / "copy"
    shutil.copytree(reference.path, store)
    y = reference.run.Y("csto_KZ").mean(axis=1)
    named = discover(store, "csto_helps_russia", min_coverage=0.3)
    assert named.statement == "csto_KZ < -0.05"
    assert named.share == pytest.approx((y < -0.05).mean())
    assert 0 < named.share < 1
    assert named.discovery.cases == int((y >= -0.05).sum())  # where it fails
    record = json.loads(named.path.read_text())
    assert record["conclusion"] == "csto_helps_russia" and record["where"] == "fails"
    assert Discovery.from_dict(record).chosen == named.discovery.chosen
    # the same conclusion as a function term over the stored outcome
    text = discover(store, "effect(no_csto, balance, KZ, 2022-01-20) < -0.05", min_coverage=0.3)
    assert text.discovery.cases == named.discovery.cases
    assert text.discovery.limits.equals(named.discovery.limits)
    held = discover(store, "csto_KZ < -0.05", where="holds", min_coverage=0.3)
    assert held.discovery.cases == int((y < -0.05).sum())
    with pytest.raises(ArgumentError, match="not an outcome of this run") as err:
        discover(store, "effect(no_csto, balance, KZ, 2022-01-21) < 0")
    assert err.value.suggestion == "effect(no_csto, balance, KZ, 2022-01-20)"
    with pytest.raises(ArgumentError, match="never fails"):
        discover(store, "csto_KZ < 100")
    # the run answers any statement over its outcomes, on the replicate means
    run = reference.run
    np.testing.assert_array_equal(run.holds("csto_helps_russia"), y < -0.05)
    both = run.holds("csto_KZ < -0.05 and effect(no_csto, balance, KZ, 2022-01-20) < -0.06")
    np.testing.assert_array_equal(both, y < -0.06)
    assert list(run.design.columns) == list(run.space.names)


def test_discover_command_and_report_section(reference, tmp_path, capsys):
    import shutil

    store = tmp_path / "results"
    exp = _experiment(tmp_path, chunk=4)
    isim.run_experiment(exp, store, workers=1, progress=False)
    shutil.copytree(reference.path, store / "sensitivity" / "morris")
    status = main(
        [
            "discover",
            str(store / "sensitivity" / "morris"),
            "--conclusion",
            "csto_helps_russia",
            "--min-coverage",
            "0.3",
        ]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Conclusion csto_helps_russia: csto_KZ < -0.05" in out and "PRIM:" in out
    disc = store / "sensitivity" / "morris" / "discovery"
    assert sorted(p.name for p in disc.iterdir()) == [
        "csto_helps_russia-fails.json",
        "csto_helps_russia-fails.png",
    ]
    status = main(["discover", str(store / "sensitivity" / "morris"), "--conclusion", "csto_KZ <"])
    err = capsys.readouterr().err
    assert status == 2 and len(err.splitlines()) == 1 and "ends too early" in err
    # the report finds the run under <store>/sensitivity/ (built here without the costly
    # attribution and figure set; the command does the same through build_report)
    from matplotlib.figure import Figure

    from influence_sim import report
    from influence_sim.analysis.sensitivity import find_sensitivity

    runs = find_sensitivity(store)
    assert [r.method for r in runs] == ["morris"]
    page = report.build_report(
        isim.load_results(store), figures={"x": Figure()}, sensitivity=runs, out=tmp_path / "r.html"
    )
    html = page.read_text()
    assert "What drives the conclusions" in html and "href='#drivers'" in html
    assert "csto_helps_russia" in html and "Where csto_helps_russia fails" in html
    assert html.count("data:image/png;base64") >= 4  # two outcomes' charts, the PRIM figure


def test_a_design_run_that_would_not_fit_in_memory_is_refused_before_writing(
    tmp_path, monkeypatch, capsys
):
    path = tmp_path / "big.toml"
    path.write_text(EXPERIMENT.format(root=ROOT, chunk=100_000))
    monkeypatch.setenv("INFLUENCE_SIM_MEMORY_BUDGET", "64MiB")
    status = main(["sensitivity", str(path), "--out", str(tmp_path / "s"), "--workers", "2", "-q"])
    err = capsys.readouterr().err
    assert status == 2 and len(err.splitlines()) == 1, err
    assert "[uncertainty]: field 'chunk'" in err and "use a smaller chunk" in err
    assert not (tmp_path / "s").exists()
