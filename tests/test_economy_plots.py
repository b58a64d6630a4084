"""The economy figure (trade and shares of the flows per state) and the report's economy figure
and votes table, from a short run of the Kazakhstan baseline with a trade trend and a roll call."""

from __future__ import annotations

import dataclasses
import re
from html import escape as html_escape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from matplotlib import dates as mdates
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

import influence_sim as isim
from influence_sim import load_experiment, plots, report, run_experiment
from influence_sim.errors import ArgumentError
from influence_sim.plots.economy import ECONOMY_MEASURES, SHARE_STYLES

from .conftest import BASELINE, DATA

#: The powers' colours as the shipped world file sets them.
RU, CN = to_rgba("#D55E00"), to_rgba("#0072B2")
STATES = ["KZ", "KG", "TJ", "UZ", "TM"]
VOTERS = ["KZ", "KG", "UZ"]
REPLICATES = 6

#: A short Kazakhstan baseline with Kazakhstan's trade with China growing from 10 January (at an
#: uncertain rate, so the replicates differ) and a roll call of three states on 1 February.
ECON = f"""
[scenario]
extends = "{BASELINE}"
name = "base"
steps = 45

[[events]]
id = "kz_china_trade"
kind = "trend"
date = 2022-01-10
state = "KZ"
flow = "trade"
partner = "CN"
growth = {{dist = "uniform", low = 0.5, high = 1.5}}
source = "assumption: a test trend"

[[events]]
id = "test_roll_call"
kind = "vote"
date = 2022-02-01
power = "RU"
side = "against"
motion = "Test motion"
states = {VOTERS!r}
source = "assumption: a test roll call"
""".replace("'", '"')

#: The counterfactual: the same without the trend (its flows differ; the roll call stays).
NO_TREND = """
[scenario]
extends = "base.toml"
name = "cf"
remove = ["kz_china_trade"]
"""


def _experiment(folder: Path, baseline: str, scenarios: str, output: str) -> Path:
    path = folder / "exp.toml"
    path.write_text(
        "[experiment]\n"
        f'name = "econ"\nbaseline = "{baseline}"\nscenarios = [{scenarios}]\n'
        f"replicates = {REPLICATES}\nseed = 11\nchunk = 3\n[output]\n{output}"
    )
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("econ")
    (folder / "base.toml").write_text(ECON)
    (folder / "cf.toml").write_text(NO_TREND)
    return folder


@pytest.fixture(scope="module")
def run(folder):
    """The scenario in memory: 6 replicates."""
    return isim.simulate(isim.load_scenario(folder / "base.toml"), replicates=REPLICATES, rng=5)


@pytest.fixture(scope="module")
def store(folder):
    """An experiment store: the scenario ('base') and the scenario without the trend ('cf')."""
    out = folder / "out"
    exp = _experiment(folder, "base.toml", '"cf.toml"', "every = 1\n")
    run_experiment(load_experiment(exp), out, workers=1, progress=False)
    return isim.load_results(out)


def _lines(ax, measure=None, *, baseline=False):
    """The data lines of an Axes (not the event marks): the scenario's or the baseline's."""
    out = []
    for ln in ax.get_lines():
        gid = ln.get_gid() or ""
        if ":" not in gid or gid.startswith("baseline ") != baseline:
            continue
        if measure is None or gid.removeprefix("baseline ").split(":")[0] == measure:
            out.append(ln)
    return out


def _median(source, measure, state, power, scenario=None):
    x, vals, labels = source.block(measure, scenario)
    return x, np.median(vals[:, :, labels.index(f"{state}/{power}")], axis=1)


# ---------------------------------------------------------------------------------------
# the figure


def test_economy_panels_draw_trade_and_shares_per_state(run):
    fig = plots.economy_panels(run)
    assert isinstance(fig, Figure)
    axes = np.array(fig.axes).reshape(2, len(STATES))
    world = run.world()
    names = {s.id: s.name for s in world.states}
    assert [ax.get_title() for ax in axes[0]] == [f"{names[s]} ({s})" for s in STATES]
    assert "USD bn per year" in axes[0, 0].get_ylabel()
    assert "share" in axes[1, 0].get_ylabel()
    for j, s in enumerate(STATES):
        top, bottom = axes[:, j]
        # top: one median line per power, in the power's colour, equal to the data
        lines = _lines(top)
        assert [to_rgba(ln.get_color()) for ln in lines] == [RU, CN]
        for ln, p in zip(lines, ("RU", "CN"), strict=True):
            x, med = _median(run, "trade", s, p)
            assert np.allclose(ln.get_ydata(), med)
            assert np.array_equal(ln.get_xdata(), x)
        assert top.get_ylim()[0] == 0
        assert [ln.get_gid() for ln in lines] == [f"trade:{s}/RU", f"trade:{s}/CN"]
        # bottom: trade share (solid), remittance share (dashed), debt share (dotted) per power
        assert len(_lines(bottom)) == 3 * 2
        for m in SHARE_STYLES:
            lines = _lines(bottom, m)
            assert [to_rgba(ln.get_color()) for ln in lines] == [RU, CN]
            for ln, p in zip(lines, ("RU", "CN"), strict=True):
                assert np.allclose(ln.get_ydata(), _median(run, m, s, p)[1])
        dashes = {m: _lines(bottom, m)[0]._dash_pattern for m in SHARE_STYLES}
        assert dashes["trade_share"][1] is None  # solid
        assert len({str(d) for d in dashes.values()}) == 3  # three distinct styles
        lo, hi = bottom.get_ylim()
        assert lo == 0 and 0 < hi <= 1
        assert isinstance(bottom.yaxis.get_major_formatter(), PercentFormatter)
    # the trend grows Kazakhstan's trade with China, differently per replicate: a band there,
    # none where the replicates agree
    kz_cn = _lines(axes[0, 0])[1].get_ydata()
    assert kz_cn[-1] > 1.05 * kz_cn[0]
    assert np.allclose(_lines(axes[0, 0])[0].get_ydata(), _lines(axes[0, 0])[0].get_ydata()[0])
    bands = [c for c in axes[0, 0].collections if isinstance(c, PolyCollection)]
    assert [to_rgba(c.get_facecolor()[0])[:3] for c in bands] == [CN[:3]]
    assert not [c for c in axes[0, 1].collections if isinstance(c, PolyCollection)]
    # the shares stay shares: Kazakhstan's Chinese trade share rises, every share in [0, 1]
    _, share = _median(run, "trade_share", "KZ", "CN")
    assert share[-1] > share[0]
    for m in ECONOMY_MEASURES[1:]:
        vals = run.block(m)[1]
        assert np.all((vals >= 0) & (vals <= 1 + 1e-6))


def test_economy_panels_mark_the_events_that_move_flows(run):
    fig = plots.economy_panels(run)
    when = mdates.date2num(np.datetime64("2022-01-10"))
    for ax in fig.axes:
        marks = [ln for ln in ax.get_lines() if ln.get_gid() == "event"]
        assert [ln.get_xdata()[0] for ln in marks] == [when]  # the trend; not the roll call
    labels = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "event_label"]
    assert labels == ["kz_china_trade"]  # over the first panel only
    assert plots.flow_events(run) == [("kz_china_trade", np.datetime64("2022-01-10"))]
    quiet = plots.economy_panels(run, events=False)
    assert not [ln for ax in quiet.axes for ln in ax.get_lines() if ln.get_gid() == "event"]


def test_economy_panels_legend_and_labels(run):
    fig = plots.economy_panels(run, states=["KZ", "UZ"], exposure=False)
    assert len(fig.axes) == 4
    assert [ax.get_title() for ax in fig.axes[:2]] == ["Kazakhstan (KZ)", "Uzbekistan (UZ)"]
    # without the exposure lines only the trade share is drawn in the bottom row
    assert [ln.get_gid() for ln in _lines(fig.axes[2])] == [
        "trade_share:KZ/RU",
        "trade_share:KZ/CN",
    ]
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts[:2] == ["Russia (RU)", "China (CN)"]
    assert "90% band" in texts and "event moving flows" in texts
    assert not any("remittance" in t for t in texts)
    full = [t.get_text() for t in plots.economy_panels(run).legends[0].get_texts()]
    assert "remittance share" in full and "lending & investment share" in full
    assert f"median across {REPLICATES} replicates" in fig.get_suptitle()


def test_economy_panels_refuse_results_without_trade(run):
    economy = set(ECONOMY_MEASURES)
    bare = dataclasses.replace(run, data={k: v for k, v in run.data.items() if k not in economy})
    assert plots.has_economy(run) and not plots.has_economy(bare)
    with pytest.raises(ArgumentError, match="no economy") as err:
        plots.economy_panels(bare)
    assert err.value.argument == "source"
    with pytest.raises(ArgumentError, match="unknown state") as err:
        plots.economy_panels(run, states=["XX"])
    assert err.value.argument == "states"


# ---------------------------------------------------------------------------------------
# a store: the figure, the figure set and the report


def test_economy_panels_read_a_store_and_overlay_the_baseline(store):
    assert set(ECONOMY_MEASURES) <= set(store.measures)
    base = plots.economy_panels(store)
    assert "base" in base.get_suptitle() and "against" not in base.get_suptitle()
    assert not _lines(base.axes[0], baseline=True)
    cf = plots.economy_panels(store, scenario="cf")
    assert "cf against base (baseline)" in cf.get_suptitle()
    kz = cf.axes[0]
    faint = _lines(kz, baseline=True)  # the baseline's medians behind, in the powers' colours
    assert [to_rgba(ln.get_color()) for ln in faint] == [RU, CN]
    assert all(ln.get_alpha() < 1 for ln in faint)
    assert np.allclose(faint[1].get_ydata(), _median(store, "trade", "KZ", "CN", "base")[1])
    main = _lines(kz)
    _, flat = _median(store, "trade", "KZ", "CN", "cf")
    assert np.allclose(main[1].get_ydata(), flat) and np.allclose(flat, flat[0])
    # comparing, the bottom row holds the trade shares only (the baseline's and the scenario's)
    bottom = cf.axes[len(STATES)]
    assert len(_lines(bottom)) == len(_lines(bottom, "trade_share")) == 2
    assert len(_lines(bottom, baseline=True)) == 2
    texts = [t.get_text() for t in cf.legends[0].get_texts()]
    assert "base (baseline): median" in texts
    # without the trend the flows are the same in every replicate and no event moves them:
    # no band and no event marks, and the legend and title say nothing of them
    assert "90% band" not in texts and "event moving flows" not in texts
    assert not [c for ax in cf.axes for c in ax.collections if isinstance(c, PolyCollection)]
    assert "identical in every replicate" in cf.get_suptitle()
    assert "central 90% band" in base.get_suptitle()
    top = cf.axes[0].get_ylim()[1]  # room above the highest line
    assert top > 1.05 * max(ln.get_ydata().max() for ln in _lines(cf.axes[0], baseline=True))


@pytest.fixture(scope="module")
def figs(store):
    """The store's figure set (built once: drawing every figure takes a few seconds)."""
    return plots.figure_set(store)


def test_the_figure_set_holds_the_economy_where_flows_differ(store, figs):
    from influence_sim.plots.economy import economy_differs

    assert economy_differs(store, "cf")
    economy = [k for k in figs if k.startswith("economy")]
    assert economy == ["economy", "economy_cf"]
    assert "cf against base" in figs["economy_cf"].get_suptitle()


def test_the_report_embeds_the_economy_and_tabulates_the_votes(store, figs, tmp_path):
    # the report's figures as the CLI passes them, cut to the economy (PNGs take time)
    cmp = isim.compare(store, n_boot=50)
    page = report.build_report(
        store, comparison=cmp, figures={"economy": figs["economy"]}, out=tmp_path / "r.html"
    )
    html = page.read_text()
    assert "<script" not in html.lower()
    srcs = re.findall(r"<img alt='([a-z_]*)' src='data:image/png;base64,", html)
    assert srcs == ["economy"]
    assert html_escape(report.CAPTIONS["economy"]) in html
    # the votes: linked, after the effects, with its caption
    assert "<a href='#effects'>Effects</a><a href='#votes'>Votes</a>" in html
    ids = re.findall(r"<h2 id='([a-z]+)'>", html)
    sections = ["scenarios", "figures", "effects", "votes", "attribution", "parameters"]
    assert ids == [*sections, "manifest"]
    section = html.split("<h2 id='votes'>", 1)[1].split("<h2 ", 1)[0]
    assert "drawn by the model" in section and "never an input" in section
    assert "<h3>test_roll_call: Test motion</h3>" in section
    # baseline and counterfactual side by side, one row per state called
    assert "<th colspan='4'>base (baseline)</th><th colspan='4'>cf</th>" in section
    rows = re.findall(r"<tr><td>([^<]*)</td>((?:<td[^>]*>[^<]*</td>)+)</tr>", section)
    assert [r[0] for r in rows] == ["Kazakhstan (KZ)", "Kyrgyzstan (KG)", "Uzbekistan (UZ)"]
    shares = report.vote_shares(store.votes, scenarios=store.scenarios, states=STATES)
    for state, cells in rows:
        values = re.findall(r">([^<]*)</td>", cells)
        sid = state[-3:-1]
        expected = [
            report._pct(float(v))
            for scen in ("base", "cf")
            for v in shares.loc[
                (shares["scenario"] == scen) & (shares["state"] == sid),
                ["yes", "no", "abstain", "absent"],
            ].iloc[0]
        ]
        assert values == expected


def test_vote_shares_sum_to_one_per_state_and_roll_call(store):
    votes = store.votes
    assert not votes.empty
    assert set(votes["state"]) == set(VOTERS)
    shares = report.vote_shares(votes, scenarios=store.scenarios, states=STATES)
    stances = ["yes", "no", "abstain", "absent"]
    assert list(shares.columns) == [
        "scenario",
        "point",
        "event",
        "motion",
        "power",
        "side",
        "date",
        "state",
        "replicates",
        *stances,
    ]
    assert list(shares["scenario"]) == ["base"] * 3 + ["cf"] * 3
    assert list(shares["state"]) == VOTERS * 2  # in world order
    assert set(shares["event"]) == {"test_roll_call"}
    assert set(shares["date"]) == {"2022-02-01"}
    assert np.allclose(shares[stances].sum(axis=1), 1.0)
    assert (shares["replicates"] == REPLICATES).all()
    # the shares are the counts of the replicates' stances
    for r in shares.itertuples():
        sel = votes[(votes["scenario"] == r.scenario) & (votes["state"] == r.state)]
        counts = sel["stance"].astype(str).value_counts()
        for st in stances:
            assert getattr(r, st) == pytest.approx(counts.get(st, 0) / REPLICATES)
    # a run's votes table (no point column) gives the same shares
    assert report.vote_shares(pd.DataFrame(columns=votes.columns)).empty


def test_a_run_and_a_store_agree_on_the_votes_columns(run, store):
    assert list(run.votes().columns) == [c for c in store.votes.columns if c != "point"]
    shares = report.vote_shares(run.votes(), states=STATES)
    assert list(shares["state"]) == VOTERS and (shares["point"] == 0).all()
    assert np.allclose(shares[["yes", "no", "abstain", "absent"]].sum(axis=1), 1.0)


#: A scenario in the test world of three powers, which declares no [[flows]].
NO_FLOWS = f"""
[scenario]
name = "tri"
world = "{DATA / "tri_power.toml"}"
start = 2022-01-01
step = "1d"
steps = 20

[[events]]
id = "a_statement"
kind = "statement"
date = 2022-01-05
power = "US"
face = 0.02
source = "assumption: a test event"
"""


def test_a_store_without_flows_or_votes_has_neither(tmp_path):
    (tmp_path / "tri.toml").write_text(NO_FLOWS)
    out = tmp_path / "out"
    # the experiment asks for trade; a world without flows cannot record it
    exp = _experiment(tmp_path, "tri.toml", "", 'measures = ["credibility", "trade"]\n')
    run_experiment(load_experiment(exp), out, workers=1, progress=False)
    rs = isim.load_results(out)
    assert "trade" in rs.measures and not rs.columns("trade")
    assert not plots.has_economy(rs)
    with pytest.raises(ArgumentError, match="no economy") as err:
        plots.economy_panels(rs)
    assert err.value.argument == "source"
    assert not any(k.startswith("economy") for k in plots.figure_set(rs))
    assert rs.votes.empty and report._votes(rs) == ""
    assert "#votes" not in report._intro() and "#votes" in report._intro(votes=True)
    # compare and explain say why, instead of failing on a missing column
    with pytest.raises(ArgumentError, match=r"needs a world with \[\[flows\]\]") as err:
        isim.compare(rs, measures=["trade"], n_boot=10)
    assert err.value.argument == "measures"
    with pytest.raises(ArgumentError, match=r"needs a world with \[\[flows\]\]") as err:
        isim.explain(rs, measure="trade", actor="AM", power="US", n_boot=10)
    assert err.value.argument == "measure"


def test_share_styles_are_distinct():
    assert len(set(map(str, SHARE_STYLES.values()))) == len(SHARE_STYLES)
