"""The HTML report: self-contained, complete, and written atomically."""

from __future__ import annotations

import re

import pytest

import influence_sim as isim
from influence_sim import load_experiment, run_experiment
from influence_sim.cli import main

from .test_experiment import write_experiment


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    out = folder / "out"
    exp = load_experiment(write_experiment(folder, replicates=6, chunk=3))
    run_experiment(exp, out, workers=1, progress=False)
    return out


def test_report_command_writes_a_self_contained_page(store, capsys):
    assert main(["report", str(store), "-q"]) == 0
    printed = capsys.readouterr().out
    page = store / "report.html"
    assert str(page.resolve()) in printed
    html = page.read_text()
    # self-contained: no scripts, no external stylesheets or images; figures inline
    assert "<script" not in html.lower()
    assert not re.search(r"<link[^>]+stylesheet", html)
    srcs = re.findall(r"<img[^>]*src='([^']*)'", html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    figures = sorted((store / "figures").glob("*.png"))
    assert len(srcs) == len(figures) >= 10
    rs = isim.load_results(store)
    for name in rs.scenarios:
        assert name in html
    for ev in rs.manifest["scenarios"][0]["resolved"]["events"]:
        assert ev["id"] in html
    # counterfactual differences are marked, sources are links, conditions readable
    assert "removed" in html and "csto_deploy" in html
    assert "<a href='https://pledgetimes.com" in html or '<a href="https://pledgetimes.com' in html
    assert "share(KZ.tokayev) &gt; 0.35" in html
    for section in (
        "Effects against the baseline",
        "Time to threshold",
        "Attribution to events",
        "Parameters",
        "manifest.json",
    ):
        assert section in html
    assert "(all events)" in html and "(sum of contributions)" in html
    assert [p.name for p in store.iterdir() if p.name.startswith(".")] == []


def test_report_refuses_a_missing_store(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "not a results directory" in capsys.readouterr().err
