"""The HTML report: self-contained, complete, and written atomically."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import influence_sim as isim
from influence_sim import load_experiment, report, run_experiment
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
    for ev in rs.record().events:
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
    # no temporaries left (the lock file stays: it is part of a store, harmless once released)
    assert [p.name for p in store.iterdir() if p.name.startswith(".")] == [".lock"]


def test_report_refuses_a_missing_store(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "not a results directory" in capsys.readouterr().err


def _stamp(text: str) -> str:
    """Blank the report's time of writing (two renderings may differ by a second)."""
    return re.sub(r"Report written [^<]*", "Report written T", text)


def test_report_is_its_sections_in_order(store, tmp_path):
    from matplotlib.figure import Figure

    rs = isim.load_results(store)
    cmp = isim.compare(rs)
    fig = Figure(figsize=(1, 1))
    fig.add_subplot().plot([0, 1])
    figures = {"fan_KZ": fig}
    page = report.build_report(rs, comparison=cmp, figures=figures, out=tmp_path / "r.html")
    assert page == tmp_path / "r.html"
    body = _stamp(page.read_text()).split("<main>", 1)[1].split("</main>", 1)[0]
    sections = [
        report._header(rs),
        report._intro(),
        report._scenarios(rs),
        report._figures(figures),
        report._effects(cmp, 40),
        report._thresholds(cmp),
        report._attribution(None, None, ""),
        report._parameters(rs),
        report._manifest(rs),
    ]
    assert all(sections[:5]) and all(sections[6:])
    assert body == _stamp("\n".join(s for s in sections if s))
    ids = re.findall(r"<h2 id='([a-z]+)'>", body)
    assert ids == ["scenarios", "figures", "effects", "attribution", "parameters", "manifest"]
    assert ids == [anchor for anchor, _ in report.SECTIONS]
    # the figure's caption comes from its family; attribution says how to compute it
    assert report.CAPTIONS["fan"] in report._figures(figures).replace("&#x27;", "'")
    assert "influence-sim explain" in body


def test_report_sections_read_the_typed_accessors(store):
    rs = isim.load_results(store)
    head = report._header(rs)
    assert f"{len(rs.scenarios)} scenarios x {len(rs.points)} point(s)" in head
    assert f"{rs.n_replicates} paired replicates; seed {rs.seed}" in head
    assert f"{len(rs.done)} of {rs.n_chunks} chunks done" in head
    assert rs.experiment["sha256"][:16] in head
    scen = report._scenarios(rs)
    for rec in rs.records():
        assert rec.sha256[:12] in scen
    # a counterfactual that extends the baseline names the file it extends
    assert "-&gt; " in scen
    assert "<h3>Design points</h3>" not in report._parameters(rs)


def test_design_points_are_listed_when_there_are_several(store):
    rs = isim.load_results(store)

    class TwoPoints:
        """Stands in for a store with a two-point design."""

        @property
        def points(self):
            return [{"pressure": 0.1}, {"pressure": 0.3}]

        def record(self):
            return rs.record()

    html = report._parameters(TwoPoints())
    assert "<h3>Design points</h3>" in html
    assert "<th>point</th><th>pressure</th>" in html
    assert "<td>1</td><td>0.3</td>" in html


def test_attribution_lists_partly_fired_events():
    contributions = pd.DataFrame(
        [["e1", "shock", "2022-01-05", 0.5, 0.01, -0.02, 0.04, 0.6]],
        columns=["event", "kind", "date", "fired", "mean", "ci_low", "ci_high", "positive"],
    )
    partial = pd.DataFrame({"event": ["e1"], "fired": [0.5]})
    html = report._attribution(contributions, partial, "balance KZ")
    assert html.startswith("<h2 id='attribution'>")
    assert "<p>balance KZ: the outcome" in html
    assert "<tr class='pos'>" in html and "+0.0100" in html
    assert "fired in only some replicates: e1 (50%)" in html


def test_report_reads_the_manifest_only_to_print_it():
    source = Path(report.__file__).read_text()
    assert len(re.findall(r"manifest\[", source)) <= 1
    tree = ast.parse(source)
    users = {
        fn.name
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef)
        for node in ast.walk(fn)
        if isinstance(node, ast.Attribute) and node.attr == "manifest"
    }
    assert users == {"_manifest"}


def test_importing_the_report_is_cheap():
    heavy = ["matplotlib", "scipy", "mesa", "influence_sim.plots", "influence_sim.experiment"]
    code = f"import sys, influence_sim.report; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
