"""Experiments: determinism across chunking, workers and executors; resume after SIGKILL;
common random numbers; a store that refuses to mix experiments."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import influence_sim as isim
from influence_sim import load_experiment, run_experiment
from influence_sim.cli import main

from .conftest import SCENARIOS

STEPS = 45


def write_experiment(
    folder: Path,
    *,
    chunk: int = 4,
    replicates: int = 12,
    extra: str = "",
    design: str = "",
    name: str = "tiny",
) -> Path:
    """A small experiment over short versions of the shipped baseline and no_csto."""
    folder.mkdir(parents=True, exist_ok=True)
    for fname, parent, scen in (
        ("base.toml", "kazakhstan_2022.toml", "base"),
        ("cf.toml", "counterfactuals/no_csto.toml", "cf"),
    ):
        (folder / fname).write_text(
            f'[scenario]\nextends = "{SCENARIOS / parent}"\nname = "{scen}"\nsteps = {STEPS}\n'
        )
    if extra:
        (folder / "extra.toml").write_text(extra)
    path = folder / f"{name}.toml"
    path.write_text(
        "[experiment]\n"
        f'name = "{name}"\nbaseline = "base.toml"\n'
        f'scenarios = ["cf.toml"{", " + chr(34) + "extra.toml" + chr(34) if extra else ""}]\n'
        f"replicates = {replicates}\nseed = 7\nchunk = {chunk}\n"
        "[output]\nevery = 1\nfactions = true\n" + design
    )
    return path


def frames(out: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rs = isim.load_results(out)
    return rs.timeseries(), rs.summary, rs.events


def assert_same_results(a: Path, b: Path) -> None:
    for fa, fb in zip(frames(a), frames(b), strict=True):
        pd.testing.assert_frame_equal(fa, fb, check_exact=True, check_categorical=False)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The experiment run in-process, chunks of 4."""
    folder = tmp_path_factory.mktemp("ref")
    out = folder / "out"
    run_experiment(load_experiment(write_experiment(folder)), out, workers=1, progress=False)
    return out


def test_store_is_complete_and_canonical(reference):
    rs = isim.load_results(reference)
    assert rs.complete
    manifest = rs.manifest
    assert len(manifest["chunks"]) == 2 * 3
    assert {c["status"] for c in manifest["chunks"].values()} == {"done"}
    assert manifest["versions"]["mesa"] and manifest["versions"]["numpy"]
    assert manifest["seed"] == "7"
    assert "[experiment]" in manifest["experiment"]["text"]
    assert [s["name"] for s in manifest["scenarios"]] == ["base", "cf"]
    ts = rs.timeseries()
    assert ts["value"].dtype == np.float32
    key = ["scenario", "point", "measure", "actor", "power", "replicate", "step"]
    assert not ts.duplicated(key).any()
    # every (scenario, measure, series) has every replicate at every step
    counts = ts.groupby(["scenario", "measure"], observed=True).size()
    per_series = ts.groupby(
        ["scenario", "measure", "actor", "power"], observed=True, dropna=False
    ).size()
    assert set(per_series) == {12 * (STEPS + 1)}
    assert counts.loc[("base", "score")] == 22 * 2 * 12 * (STEPS + 1)
    assert len(rs.summary) == 2 * 12
    assert set(rs.events["scenario"]) == {"base", "cf"}


def test_chunk_size_and_worker_count_do_not_change_results(reference, tmp_path):
    path = write_experiment(tmp_path, chunk=5)
    out = tmp_path / "out"
    run_experiment(load_experiment(path), out, workers=2, executor="process", progress=False)
    assert len(json.loads((out / "manifest.json").read_text())["chunks"]) == 2 * 3
    assert_same_results(reference, out)
    # a process pool must not change the global start method
    assert multiprocessing.get_start_method(allow_none=True) in (
        None,
        "fork",
        "spawn",
        "forkserver",
    )


def test_dask_local_cluster_gives_identical_results(reference, tmp_path):
    pytest.importorskip("distributed")
    path = write_experiment(tmp_path, chunk=3)
    out = tmp_path / "out"
    run_experiment(load_experiment(path), out, workers=2, executor="dask", progress=False)
    assert len(json.loads((out / "manifest.json").read_text())["chunks"]) == 2 * 4
    assert_same_results(reference, out)


def test_dask_scheduler_address(reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    path = write_experiment(tmp_path, chunk=6)
    out = tmp_path / "out"
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        code = main(
            [
                "batch",
                str(path),
                "--out",
                str(out),
                "-q",
                "--executor",
                "dask",
                "--scheduler",
                cluster.scheduler_address,
            ]
        )
    assert code == 0
    assert_same_results(reference, out)


def test_common_random_numbers_pair_replicates(tmp_path):
    """A scenario identical to the baseline but for an event that never fires gives
    bit-identical series in every replicate: the pairing is exact."""
    extra = (
        '[scenario]\nextends = "base.toml"\nname = "twin"\n'
        '[[events]]\nid = "never"\nkind = "statement"\ndate = 2022-01-03\npower = "RU"\n'
        'face = 0.5\nprobability = 0.0\nsource = "test"\n'
    )
    path = write_experiment(tmp_path, extra=extra, replicates=6, chunk=3)
    out = tmp_path / "out"
    run_experiment(load_experiment(path), out, workers=1, progress=False)
    rs = isim.load_results(out)
    for measure in ("balance", "share", "score"):
        base, _, _ = rs.array(measure, "base")
        twin, _, _ = rs.array(measure, "twin")
        np.testing.assert_array_equal(base, twin)
        cf, _, _ = rs.array(measure, "cf")
        assert not np.array_equal(base, cf)
    # replicates differ from each other
    bal, _, _ = rs.array("balance", "base")
    assert len({bal[k].tobytes() for k in range(6)}) == 6


def test_design_points_get_their_own_streams(tmp_path):
    design = '[design]\nkind = "grid"\n[design.params]\npull_scale = [1.0, 1.0]\n'
    path = write_experiment(tmp_path, design=design, replicates=4, chunk=4)
    exp = load_experiment(path)
    assert exp.points == ({"pull_scale": 1.0}, {"pull_scale": 1.0})
    out = tmp_path / "out"
    run_experiment(exp, out, workers=1, progress=False)
    rs = isim.load_results(out)
    p0, _, _ = rs.array("share", "base", point=0)
    p1, _, _ = rs.array("share", "base", point=1)
    assert not np.array_equal(p0, p1)  # same parameters, keyed by (point, replicate)


def test_latin_hypercube_design(tmp_path):
    design = (
        '[design]\nkind = "lhs"\npoints = 5\n[design.params]\n'
        "pull_scale = {low = 0.5, high = 2.0}\npeer_weight = {low = 0.5, high = 1.5}\n"
    )
    exp = load_experiment(write_experiment(tmp_path, design=design))
    again = load_experiment(write_experiment(tmp_path / "again", design=design))
    assert exp.points == again.points and len(exp.points) == 5
    ps = sorted(p["pull_scale"] for p in exp.points)
    assert all(0.5 <= v <= 2.0 for v in ps)
    # one point in each fifth of the range: the Latin hypercube property
    assert [int((v - 0.5) / 1.5 * 5) for v in ps] == [0, 1, 2, 3, 4]
    assert len(exp.tasks()) == 5 * 2 * 3


def test_resume_after_sigkill_gives_identical_data(reference, tmp_path):
    path = write_experiment(tmp_path)
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "influence_sim.cli",
        "batch",
        str(path),
        "--out",
        str(out),
        "-q",
        "--workers",
        "1",
    ]
    env = {**os.environ, "INFLUENCE_SIM_FAULT": "chunk-files:3"}
    killed = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=600)
    assert killed.returncode == -9, killed.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    done = [c for c, e in manifest["chunks"].items() if e["status"] == "done"]
    assert len(done) == 2
    on_disk = {p.name.split(".")[0] for p in (out / "chunks").iterdir()}
    assert len(on_disk) == 3  # the third chunk's files exist but are not recorded
    partial = isim.load_results(out)
    assert not partial.complete and len(partial.summary) == 2 * 4
    # refuse to start over, then resume
    again = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
    assert again.returncode == 2 and "--resume" in again.stderr
    resumed = subprocess.run(
        [*cmd, "--resume"], capture_output=True, text=True, check=False, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr
    assert isim.load_results(out).complete
    assert_same_results(reference, out)


def test_store_refuses_another_experiment_and_foreign_folders(reference, tmp_path, capsys):
    other = write_experiment(tmp_path / "other", replicates=8)
    assert main(["batch", str(other), "--out", str(reference), "-q"]) == 2
    assert "another experiment" in capsys.readouterr().err
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    assert main(["batch", str(other), "--out", str(foreign), "-q"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (foreign / "thesis.tex").read_text() == "precious"
    # resuming a complete store runs nothing and changes nothing
    before = (reference / "manifest.json").read_text()
    same = Path(isim.load_results(reference).manifest["experiment"]["path"])
    assert main(["batch", str(same), "--out", str(reference), "-q", "--resume"]) == 0
    after = json.loads((reference / "manifest.json").read_text())
    assert after["chunks"] == json.loads(before)["chunks"]


def test_compare_explain_and_plot_commands(reference, capsys):
    assert main(["compare", str(reference), "--boot", "200"]) == 0
    out = capsys.readouterr().out
    assert "cf" in out and "Time to threshold" in out
    effects = pd.read_csv(reference / "analysis" / "effects.csv")
    assert set(effects["scenario"]) == {"cf"}
    assert effects["mean"].abs().is_monotonic_decreasing
    assert main(["explain", str(reference), "--actor", "KZ", "--boot", "200", "-q"]) == 0
    out = capsys.readouterr().out
    assert "csto_deploy" in out and "(all events)" in out
    assert main(["plot", str(reference)]) == 0
    assert (reference / "figures" / "balance_by_state.png").stat().st_size > 10_000
    assert main(["compare", str(reference), "--baseline", "bse"]) == 2
    assert "did you mean 'base'" in capsys.readouterr().err


def test_mesa_batch_run_still_works_beside_experiments(short_baseline):
    import mesa

    method = multiprocessing.get_start_method(allow_none=True)
    try:
        rows = mesa.batch_run(
            isim.InfluenceModel,
            parameters={"scenario": short_baseline},
            rng=[3],
            max_steps=10,
            display_progress=False,
        )
    finally:
        multiprocessing.set_start_method(method, force=True)
    assert rows[0]["Step"] == 10 and "balance.region" in rows[0]
