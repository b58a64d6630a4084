"""Figures: each function draws what it should (artists, data, colours, labels), on the Axes it
is given, from a Result or a store; figures save; importing the package leaves matplotlib out."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from matplotlib import dates as mdates
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, PathPatch
from matplotlib.text import Text

import influence_sim as isim
from influence_sim import load_experiment, plots, run_experiment
from influence_sim.core.scenario import scenario_from_dict
from influence_sim.plots.factions import _short

from .conftest import BASELINE, short
from .test_experiment import write_experiment

#: The powers' colours as the shipped world file sets them (Okabe-Ito vermillion and blue).
RU, CN = to_rgba("#D55E00"), to_rgba("#0072B2")
PLOTS = Path(plots.__file__).parent


# ---------------------------------------------------------------------------------------
# inputs


@pytest.fixture(scope="module")
def run():
    """The baseline cut to 40 days, 8 replicates, in memory."""
    return isim.simulate(short(BASELINE, 40), replicates=8, rng=3)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A tiny experiment store: short baseline ('base') and no_csto ('cf'), 8 replicates."""
    folder = tmp_path_factory.mktemp("plots")
    path = write_experiment(folder, replicates=8, chunk=4)
    out = folder / "out"
    run_experiment(load_experiment(path), out, workers=1, progress=False)
    return isim.load_results(out)


@pytest.fixture(scope="module")
def comparison(store):
    return isim.compare(store, n_boot=200)


def contributions_frame() -> pd.DataFrame:
    """A contributions table in the format `explain` returns, with known numbers."""
    rows = [
        ("e_small", 0.010, 0.006, 0.014, 0.5),
        ("e_big", 0.030, 0.020, 0.041, 1.0),
        ("e_neg", -0.020, -0.026, -0.015, 1.0),
        ("e_never", 0.0, 0.0, 0.0, 0.0),
        ("(all events)", 0.025, 0.020, 0.030, np.nan),
        ("(sum of contributions)", 0.020, 0.015, 0.024, np.nan),
    ]
    return pd.DataFrame(rows, columns=["event", "mean", "ci_low", "ci_high", "fired"])


def fills(ax) -> list[PolyCollection]:
    """Bands (fill_between) and stacked areas on an Axes."""
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def line(ax, label: str):
    hits = [ln for ln in ax.lines if ln.get_label() == label]
    assert len(hits) == 1, [ln.get_label() for ln in ax.lines]
    return hits[0]


def event_lines(ax, gid: str = "event") -> list[float]:
    return sorted(float(ln.get_xdata()[0]) for ln in ax.lines if ln.get_gid() == gid)


def event_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_gid() == "event_label"]


def legend_texts(ax) -> list[str]:
    leg = ax.get_legend()
    assert leg is not None
    return [t.get_text() for t in leg.get_texts()]


def median(values: np.ndarray) -> np.ndarray:
    return np.quantile(values, 0.5, axis=1)


# ---------------------------------------------------------------------------------------
# the package does not import matplotlib


def test_importing_the_package_does_not_import_matplotlib():
    code = "import sys, influence_sim; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------
# fan charts


def test_fan_chart_of_a_run_draws_median_bands_and_events(run):
    ax = plots.fan_chart(run, "balance", "KZ")
    assert isinstance(ax.figure, Figure)
    med = line(ax, "kazakhstan_2022")
    np.testing.assert_allclose(
        med.get_ydata(), median(run.data["balance"][:, :, 0].astype(float)), rtol=1e-6
    )
    assert to_rgba(med.get_color()) == to_rgba(plots.BASELINE_COLOR)
    assert len(fills(ax)) == 2  # 90% and 50% bands
    assert {"kazakhstan_2022", "50% band", "90% band"} <= set(legend_texts(ax))
    assert ax.get_ylabel() == "balance KZ (RU \u2212 CN)"
    # one line per distinct event date, at that date
    dates = {np.datetime64(p.event.date, "D") for p in run.plans}
    assert event_lines(ax) == sorted(float(mdates.date2num(d)) for d in dates)
    labels = event_labels(ax)
    assert len(labels) == len(run.plans)
    assert {lb.split(" ")[0] for lb in labels} == {p.event.id for p in run.plans}
    # an event that fired in only some replicates says so
    rates = run.firing_rates()
    partial = rates[(rates > 0) & (rates < 1)]
    for eid, rate in partial.items():
        assert f"{eid} ({rate:.0%})" in labels


def test_fan_chart_event_labels_do_not_overlap(run):
    ax = plots.fan_chart(run, "balance", "KZ")
    fig = ax.figure
    fig.draw_without_rendering()
    # the text alone (an annotation's extent includes its leader line)
    boxes = [Text.get_window_extent(t) for t in ax.texts if t.get_gid() == "event_label"]
    assert len(boxes) > 5
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)


def test_fan_chart_draws_on_the_axes_it_is_given(run):
    fig = Figure()
    ax = fig.add_subplot()
    out = plots.fan_chart(run, "alignment", "KG", power="RU", events=False, ax=ax)
    assert out is ax
    assert len(ax.lines) == 1
    assert to_rgba(ax.lines[0].get_color()) == RU  # a per-power series in its power's colour
    assert ax.get_legend() is None  # no legend unless asked on a given Axes
    assert not event_lines(ax)


def test_fan_chart_without_variation_has_no_bands():
    one = isim.simulate(short(BASELINE, 20), replicates=1, rng=1)
    ax = plots.fan_chart(one, "balance", "KZ", events="lines")
    assert fills(ax) == []
    assert "90% band" not in legend_texts(ax)
    assert event_labels(ax) == []  # lines only
    assert event_lines(ax)


def test_fan_chart_of_a_counterfactual_draws_the_baseline_faintly(store):
    ax = plots.fan_chart(store, "balance", "KZ", scenario="cf")
    base = line(ax, "base (baseline)")
    cf = line(ax, "cf")
    assert to_rgba(base.get_color())[:3] == to_rgba(plots.FAINT_COLOR)[:3]
    assert base.get_alpha() < 1 and base.get_zorder() < cf.get_zorder()
    vb, _, labels = store.array("balance", "base")
    vc, _, _ = store.array("balance", "cf")
    k = labels.index("KZ")
    np.testing.assert_allclose(base.get_ydata(), np.median(vb[:, :, k], axis=0))
    np.testing.assert_allclose(cf.get_ydata(), np.median(vc[:, :, k], axis=0))
    assert to_rgba(cf.get_color()) == to_rgba(plots.SCENARIO_COLORS[0])
    assert len(fills(ax)) == 3  # the baseline's 90% band, and the scenario's two bands
    assert {"cf", "base (baseline)"} <= set(legend_texts(ax))
    # the scenario's own events, from the manifest
    entry = next(s for s in store.manifest["scenarios"] if s["name"] == "cf")
    ids = {e["id"] for e in entry["resolved"]["events"]}
    assert {lb.split(" ")[0] for lb in event_labels(ax)} == ids
    assert "csto_deploy" not in ids


def test_fan_chart_changed_events_mark_what_differs_from_the_baseline(store):
    ax = plots.fan_chart(store, "balance", "KZ", scenario="cf", events="changed")
    labels = event_labels(ax)
    # no_csto removes three events and adds none
    assert sorted(labels) == sorted(
        "\u2212" + e for e in ("csto_request", "csto_deploy", "csto_withdrawal")
    )
    removed = {
        np.datetime64("2022-01-05"),
        np.datetime64("2022-01-06"),
        np.datetime64("2022-01-13"),
    }
    assert event_lines(ax, "event_removed") == sorted(float(mdates.date2num(d)) for d in removed)
    assert event_lines(ax) == []


def test_series_reads_results_and_stores_alike(run, store):
    x, y = plots.series(run, "reputation", "CN")
    assert y.shape == (len(run.steps), 8)
    assert x[0] == np.datetime64("2022-01-01")
    _, ys = plots.series(store, "corridor", "region")  # one power: found without it
    assert ys.shape == (46, 8)
    with pytest.raises(KeyError, match="no balance series 'XX'"):
        plots.series(store, "balance", "XX")
    with pytest.raises(KeyError, match="no scenario 'nope'"):
        plots.series(store, "balance", "KZ", scenario="nope")


def test_balance_panels_baseline_bands_counterfactual_lines_and_events(store):
    fig = plots.balance_panels(store)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 6  # five states and the region
    for ax in axes:
        assert len(fills(ax)) == 2  # baseline bands only
        assert {ln.get_label() for ln in ax.lines} >= {"base (baseline)", "cf"}
        assert event_lines(ax)
    assert event_labels(axes[0]) and not any(event_labels(ax) for ax in axes[1:])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"base (baseline)", "cf", "baseline event"} <= set(labels)


def test_fan_panels_one_panel_per_scenario_with_shared_y(store):
    fig = plots.fan_panels(store, "KG")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["base (baseline)", "cf"]
    assert axes[0].get_ylim() == axes[1].get_ylim()
    assert "base (baseline)" in {ln.get_label() for ln in axes[1].lines}


# ---------------------------------------------------------------------------------------
# factions


@pytest.mark.parametrize("which", ["run", "store"])
def test_faction_shares_stack_renormalised_medians(which, request, world):
    source = request.getfixturevalue(which)
    ax = plots.faction_shares(source, "KZ")
    facs = [f for f in world.factions if f.state == "KZ"]
    areas = fills(ax)
    assert len(areas) == len(facs)
    for k, area in enumerate(areas):
        assert to_rgba(area.get_facecolor()[0])[:3] == to_rgba(plots.FACTION_COLORS[k])[:3]
    # the stack's top is 1 at every date (medians rescaled), never above
    top = areas[-1].get_paths()[0].vertices[:, 1]
    assert top.max() == pytest.approx(1.0)
    x, vals, labels = source.block("share")
    med = np.median(vals[:, :, [labels.index(f.id) for f in facs]], axis=1)
    assert not np.allclose(med.sum(axis=1), 1.0)  # so the rescaling matters
    assert np.isclose(top, 1.0).sum() >= len(x)
    assert "rescaled to sum to 1" in ax.get_ylabel()
    assert set(legend_texts(ax)) == {_short(f.name) for f in facs}


def test_faction_leaders_are_shares_of_replicates(run, world):
    ax = plots.faction_leaders(run, "KZ", events=False)
    facs = [f.id for f in world.factions if f.state == "KZ"]
    assert len(ax.lines) == len(facs)
    ys = np.array([ln.get_ydata() for ln in ax.lines])
    assert ((ys >= 0) & (ys <= 1)).all()
    np.testing.assert_allclose(ys.sum(axis=0), 1.0)
    share = run.data["share"][:, :, [world.index[f] for f in facs]]
    expected = (share.argmax(axis=2) == 0).mean(axis=1)  # the first faction leads
    np.testing.assert_allclose(ys[0], expected)
    assert 0 < expected.min() < 1 or expected.min() != expected.max()  # it changes


def test_faction_share_quantiles_one_panel_per_faction(run, world):
    fig = plots.faction_share_quantiles(run, "KZ")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    facs = [f for f in world.factions if f.state == "KZ"]
    assert len(axes) == len(facs)
    for ax, f in zip(axes, facs, strict=True):
        assert f.id in ax.get_title()
        med = line(ax, "median")
        np.testing.assert_allclose(
            med.get_ydata(), median(run.data["share"][:, :, world.index[f.id]].astype(float))
        )
        assert to_rgba(med.get_color()) == to_rgba(plots.faction_color(f.id, world))
        assert len(fills(ax)) == 2


# ---------------------------------------------------------------------------------------
# reputation and credibility


def test_reputation_credibility_lines_colours_and_styles(run, world):
    ax = plots.reputation_credibility(run)
    labels = legend_texts(ax)
    for p in world.powers:
        ln = line(ax, f"{p.name} ({p.id}): reputation")
        assert to_rgba(ln.get_color()) == to_rgba(plots.power_color(p.id, world))
        assert ln.get_linestyle() == "-"
        np.testing.assert_allclose(
            ln.get_ydata(), median(run.data["reputation"][:, :, world.index[p.id]].astype(float))
        )
    dashes = []
    for inst in world.institutions:
        label = f"{inst.id} (led by {inst.leader}): credibility"
        assert label in labels
        ln = line(ax, label)
        assert to_rgba(ln.get_color()) == to_rgba(plots.power_color(inst.leader, world))
        assert ln.get_linestyle() != "-"
        dashes.append(tuple(ln._unscaled_dash_pattern[1]))
    assert len(set(dashes)) == len(world.institutions)  # a distinct style per institution
    assert len(fills(ax)) >= 1  # 90% bands where replicates differ


# ---------------------------------------------------------------------------------------
# comparison and attribution


def test_effects_forest_one_errorbar_per_row_from_the_frame(comparison):
    eff = comparison.effects
    ax = plots.effects_forest(comparison, measure="balance")
    horizon = max(eff.loc[eff["measure"] == "balance", "date"])
    rows = eff[(eff["measure"] == "balance") & (eff["date"] == horizon)]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == len(rows) == 6
    by_label = {c.get_label(): c for c in bars}
    for r in rows.itertuples():
        c = by_label[f"{r.scenario}: {r.actor}"]
        point, _, (segments,) = c.lines[0], c.lines[1], c.lines[2]
        assert point.get_xdata()[0] == pytest.approx(r.mean)
        (x0, _), (x1, _) = segments.get_segments()[0]
        assert (min(x0, x1), max(x0, x1)) == (pytest.approx(r.ci_low), pytest.approx(r.ci_high))
    groups = [t.get_text() for t in ax.texts if t.get_gid() == "group_label"]
    assert groups == ["cf"]
    assert ax.get_xlabel().startswith("difference from baseline (balance on " + horizon)
    assert any(list(ln.get_xdata()) == [0, 0] for ln in ax.lines)  # the zero line
    assert [t.get_text() for t in ax.get_yticklabels()] == ["KG", "KZ", "TJ", "TM", "UZ", "region"]


def test_effects_forest_groups_scenarios_in_order_with_chosen_actors():
    eff = pd.DataFrame(
        {
            "scenario": ["b", "a", "a", "b", "a"],
            "point": 0,
            "measure": "balance",
            "actor": ["KZ", "KZ", "region", "region", "KZ"],
            "power": "",
            "date": ["2022-03-01"] * 4 + ["2022-01-01"],
            "mean": [0.1, -0.2, 0.05, 0.02, 9.0],
            "ci_low": [0.05, -0.3, -0.01, 0.01, 8.0],
            "ci_high": [0.15, -0.1, 0.08, 0.03, 10.0],
        }
    )
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.effects_forest(eff, scenarios=["a", "b"], actors=["region", "KZ"], ax=ax) is ax
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    # latest date only; groups in the order given, rows in the actor order given
    assert [c.get_label() for c in bars] == ["a: region", "a: KZ", "b: region", "b: KZ"]
    ys = [c.lines[0].get_ydata()[0] for c in bars]
    xs = [c.lines[0].get_xdata()[0] for c in bars]
    assert xs == [0.05, -0.2, 0.02, 0.1]
    assert ax.yaxis_inverted() and ys == sorted(ys)  # drawn top to bottom
    # filled markers where the interval excludes 0, open where it includes 0
    assert to_rgba(bars[0].lines[0].get_markerfacecolor()) == to_rgba("white")
    assert to_rgba(bars[1].lines[0].get_markerfacecolor()) != to_rgba("white")
    groups = [t.get_text() for t in ax.texts if t.get_gid() == "group_label"]
    assert groups == ["a", "b"]


def test_attribution_chart_bars_in_order_with_totals_apart():
    frame = contributions_frame()
    ax = plots.attribution_chart(frame, colors=("#D55E00", "#0072B2"))
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    events, totals = bars
    assert [p.get_width() for p in events.patches] == pytest.approx([0.03, -0.02, 0.01, 0.0])
    ys = [p.get_y() for p in events.patches]
    assert ys == sorted(ys) and ax.yaxis_inverted()  # largest |contribution| on top
    assert [p.get_width() for p in totals.patches] == pytest.approx([0.025, 0.02])
    assert min(p.get_y() for p in totals.patches) > max(ys) + 1  # below, set apart
    assert all(p.get_hatch() for p in totals.patches)
    assert not any(p.get_hatch() for p in events.patches)
    colours = [to_rgba(p.get_facecolor()) for p in events.patches]
    assert colours[0] == RU and colours[1] == CN  # positive and negative differ
    errs = next(c for c in ax.containers if isinstance(c, ErrorbarContainer))
    ends = [sorted((seg[0][0], seg[1][0])) for seg in errs.lines[2][0].get_segments()]
    np.testing.assert_allclose(ends, [(0.020, 0.041), (-0.026, -0.015), (0.006, 0.014), (0, 0)])
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == [
        "e_big",
        "e_neg",
        "e_small (fired in 50%)",
        "e_never (never fired)",
        "(all events)",
        "(sum of contributions)",
    ]


def test_attribution_chart_top_keeps_the_largest_and_the_totals():
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.attribution_chart(contributions_frame(), ax=ax, top=2) is ax
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["e_big", "e_neg", "(all events)", "(sum of contributions)"]


# ---------------------------------------------------------------------------------------
# the map


def state_discs(ax) -> dict[str, Circle]:
    return {
        p.get_gid().split(":", 1)[1]: p
        for p in ax.patches
        if isinstance(p, Circle) and (p.get_gid() or "").startswith("state:")
    }


def test_regional_map_colours_follow_the_sign_of_the_balance(run, world):
    ax = plots.regional_map(run)
    discs = state_discs(ax)
    assert set(discs) == set(world.state_ids)
    med = np.median(run.data["balance"][-1].astype(float), axis=0)
    cmap = plots.balance_cmap(world)
    pos_end, neg_end = np.array(cmap(1.0)[:3]), np.array(cmap(0.0)[:3])
    signs = set()
    for s in world.state_ids:
        v = med[world.index[s]]
        rgb = np.array(discs[s].get_facecolor()[:3])
        nearer_pos = np.linalg.norm(rgb - pos_end) < np.linalg.norm(rgb - neg_end)
        assert nearer_pos == (v > 0), (s, v)
        signs.add(v > 0)
        assert any(t.get_text() == f"{s}\n{v:+.2f}".replace("-", "\u2212") for t in ax.texts)
    assert signs == {True, False}  # both ends are exercised
    # the positive end is the first balance power's colour
    assert to_rgba(cmap(1.0)) == RU and to_rgba(cmap(0.0)) == CN
    # areas proportional to population
    pops = {s.id: s.population for s in world.states}
    r = {s: d.get_radius() for s, d in discs.items()}
    assert r["UZ"] / r["TM"] == pytest.approx(np.sqrt(pops["UZ"] / pops["TM"]))
    # powers as squares in their colours; schematic lon/lat axes
    for p, colour in (("RU", RU), ("CN", CN)):
        (sq,) = [c for c in ax.collections if c.get_gid() == f"power:{p}"]
        assert to_rgba(sq.get_facecolor()[0]) == colour
        np.testing.assert_allclose(sq.get_offsets()[0], world.powers[world.index[p]].position)
    assert ax.get_aspect() == 1.0
    assert "schematic; positions approximate" in ax.get_xlabel()
    cbar = ax.figure.axes[-1]
    label = cbar.get_xlabel()
    assert label.index("China (CN)") < label.index("Russia (RU)")


def state_outlines(ax) -> dict[str, PathPatch]:
    """The choropleth's state shapes (gid ``state:<id>``), by state."""
    return {
        p.get_gid().split(":", 1)[1]: p
        for p in ax.patches
        if isinstance(p, PathPatch) and (p.get_gid() or "").startswith("state:")
    }


@pytest.mark.parametrize("outlines", [False, True], ids=["schematic", "outlines"])
def test_regional_map_panels_share_one_scale(store, world, outlines):
    dates = ["2022-01-01", "2022-01-20", "2022-02-14"]
    fig = plots.regional_map_panels(store, dates, outlines=outlines)
    shapes = state_outlines if outlines else state_discs
    maps = [ax for ax in fig.axes if shapes(ax)]
    assert [ax.get_title().split(" ")[0] for ax in maps] == dates
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == len(maps) + 1  # one colour bar
    vals, steps, labels = store.array("balance", "base")
    x = store.dates(steps)
    cmap = plots.balance_cmap(world)
    allmed = np.median(vals, axis=0)[:, [labels.index(s) for s in world.state_ids]]
    picks = [int(np.flatnonzero(x == np.datetime64(d))[0]) for d in dates]
    m = np.abs(allmed[picks]).max()
    for ax, k in zip(maps, picks, strict=True):
        for s, disc in shapes(ax).items():
            v = np.median(vals[:, k, labels.index(s)])
            expected = cmap((v + m) / (2 * m))
            np.testing.assert_allclose(disc.get_facecolor(), expected, atol=1e-6)


# ---------------------------------------------------------------------------------------
# the network


def collection(ax, gid) -> LineCollection:
    (c,) = [c for c in ax.collections if c.get_gid() == gid]
    return c


def test_network_edge_widths_grow_with_tie_strength(world):
    ax = plots.network_view(world)
    ties = collection(ax, "ties")
    strength = plots.tie_strength(world)
    # sum over channels of sensitivity x tie, for one faction by hand
    f = world.index["KZ.tokayev"]
    hand = sum(
        world.factions[f].sensitivity[c] * world.ties[("KZ", "RU")].get(c, 0.0)
        for c in world.channels
    )
    assert strength[f, world.index["RU"]] == pytest.approx(hand)
    flat = strength[strength > 0]
    widths = np.asarray(ties.get_linewidths())
    assert len(widths) == len(flat) == len(world.factions) * len(world.powers)
    np.testing.assert_allclose(widths / flat, widths[0] / flat[0])  # proportional
    assert np.array_equal(np.argsort(widths, kind="stable"), np.argsort(flat, kind="stable"))
    colours = {tuple(c) for c in ties.get_colors()}
    assert {RU[:3], CN[:3]} == {c[:3] for c in colours}
    n_peers = sum(
        n * (n - 1) // 2 for n in np.bincount(world.faction_state, minlength=len(world.states))
    )
    assert len(collection(ax, "peers").get_segments()) == n_peers
    assert len(collection(ax, "links").get_segments()) == len(world.links)
    assert len(collection(ax, "memberships").get_segments()) == sum(
        len(i.members) for i in world.institutions
    )
    for p, colour in (("RU", RU), ("CN", CN)):
        (sq,) = [c for c in ax.collections if c.get_gid() == f"power:{p}"]
        assert to_rgba(sq.get_facecolor()[0]) == colour
    for inst in world.institutions:
        (d,) = [c for c in ax.collections if c.get_gid() == f"institution:{inst.id}"]
        assert to_rgba(d.get_facecolor()[0]) == to_rgba(plots.power_color(inst.leader, world))


def test_network_view_of_one_state_is_deterministic(world):
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.network_view(world, ax=ax, state="KZ") is ax
    kz = [f for f in world.factions if f.state == "KZ"]
    assert len(collection(ax, "ties").get_segments()) == len(kz) * len(world.powers)
    assert len(collection(ax, "peers").get_segments()) == len(kz) * (len(kz) - 1) // 2
    touching = [(a, b) for a, b, _ in world.links if a.startswith("KZ.") or b.startswith("KZ.")]
    assert len(collection(ax, "links").get_segments()) == len(touching)
    texts = {t.get_text() for t in ax.texts}
    assert {f.id.split(".")[1] for f in kz} <= texts  # factions labelled
    a = plots.network_layout(world, state="KZ")
    b = plots.network_layout(world, state="KZ")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    # far-end factions never closer than the minimum angular gap
    far = sorted(np.arctan2(v[1], v[0]) for k, v in a.items() if "." in k and k[:2] != "KZ")
    assert np.diff(far).min() == pytest.approx(0.17)


# ---------------------------------------------------------------------------------------
# colours


def test_power_colours_are_the_same_in_every_figure(run, world):
    def rgba(artist):
        c = artist.get_color() if isinstance(artist, Line2D) else artist.get_facecolor()[0]
        return to_rgba(c)

    seen = {"RU": set(), "CN": set()}
    for p in ("RU", "CN"):
        ax = plots.fan_chart(run, "alignment", "KZ", power=p, events=False)
        seen[p].add(rgba(line(ax, "kazakhstan_2022")))
        ax = plots.reputation_credibility(run, events=False)
        name = world.powers[world.index[p]].name
        seen[p].add(rgba(line(ax, f"{name} ({p}): reputation")))
        for ax in (plots.regional_map(run, colorbar=False), plots.network_view(world)):
            (sq,) = [c for c in ax.collections if c.get_gid() == f"power:{p}"]
            seen[p].add(rgba(sq))
    assert seen == {"RU": {RU}, "CN": {CN}}


def test_power_colours_come_from_the_world_file(world):
    assert [plots.power_color(p, world) for p in ("RU", "CN")] == ["#D55E00", "#0072B2"]
    # another colour in the world file is followed
    ru, cn = world.powers
    recoloured = dataclasses.replace(world, powers=(dataclasses.replace(ru, color="#123456"), cn))
    assert plots.power_color("RU", recoloured) == "#123456"
    assert plots.power_color("CN", recoloured) == "#0072B2"
    assert to_rgba(plots.balance_cmap(recoloured)(1.0)) == to_rgba("#123456")


def test_powers_without_a_colour_fall_back_by_world_position(world):
    ru, cn = world.powers
    us = dataclasses.replace(ru, id="US", name="United States", color=None)
    india = dataclasses.replace(cn, id="IN", name="India", color=None)
    w = dataclasses.replace(world, powers=(us, dataclasses.replace(ru, color=None), cn, india))
    assert plots.power_color("US", w) == plots.EXTRA_POWER_COLORS[0]
    assert plots.power_color("RU", w) == plots.EXTRA_POWER_COLORS[1]  # by position, not by id
    assert plots.power_color("CN", w) == "#0072B2"  # its own colour, wherever it stands
    assert plots.power_color("IN", w) == plots.EXTRA_POWER_COLORS[3]
    assert plots.power_color("IN", w) == plots.power_color("IN", w)
    assert plots.power_color("XX", w) == plots.EXTRA_POWER_COLORS[0]  # not in the world


# ---------------------------------------------------------------------------------------
# no actor ids: defaults follow the scenarios' events


@pytest.fixture(scope="module")
def kg_run():
    """A run whose only event names KG (not the world's first state)."""
    data = {
        "scenario": {
            "name": "kg_only",
            "world": "central_asia_2021",
            "start": date(2022, 1, 1),
            "step": "1d",
            "steps": 20,
        },
        "events": [
            {
                "id": "kg_unrest",
                "kind": "unrest",
                "date": date(2022, 1, 5),
                "state": "KG",
                "intensity": 0.5,
                "days": 3,
                "source": "test",
            }
        ],
    }
    return isim.simulate(scenario_from_dict(data), replicates=4, rng=1)


def test_fan_chart_without_an_actor_draws_the_first_focus_state(kg_run, run, world):
    assert world.state_ids[0] != "KG" and kg_run.focus_states() == ["KG"]
    ax = plots.fan_chart(kg_run, "balance")
    assert ax.get_ylabel() == "balance KG (RU \u2212 CN)"
    k = world.state_ids.index("KG")
    np.testing.assert_allclose(
        line(ax, "kg_only").get_ydata(), median(kg_run.data["balance"][:, :, k].astype(float))
    )
    fig = plots.fan_panels(kg_run)
    assert "balance KG" in fig.get_suptitle()
    # the baseline's events name KZ only
    assert plots.fan_chart(run).get_ylabel() == "balance KZ (RU \u2212 CN)"


def plots_sources() -> dict[str, str]:
    files = sorted(PLOTS.glob("*.py"))
    assert {"__init__.py", "style.py", "data.py", "network.py", "figure_set.py"} <= {
        f.name for f in files
    }
    return {f.name: f.read_text() for f in files}


def code_only(text: str) -> str:
    """Source without docstrings and comments (string literals in code are kept)."""
    import ast
    import io
    import tokenize

    tree = ast.parse(text)
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docs.add(body[0].lineno)
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            continue
        if tok.type == tokenize.STRING and tok.start[0] in docs:
            continue
        out.append(tok.string)
    return " ".join(out)


def test_plots_hold_no_actor_ids_manifest_reads_or_duck_typing():
    for name, text in plots_sources().items():
        assert not re.search(r"[\"'](KZ|RU|CN)[\"']", text), name
        assert "manifest" not in code_only(text), name
        assert "hasattr" not in text, name
        assert "POWER_COLORS" not in code_only(text).replace("EXTRA_POWER_COLORS", ""), name


# ---------------------------------------------------------------------------------------
# the figure set, and saving


def test_figure_set_has_every_figure_and_they_save(store, comparison, tmp_path):
    figs = plots.figure_set(store, comparison, contributions_frame())
    expected = {
        "balance_by_state",
        *(f"fan_{a}" for a in ("KZ", "KG", "TJ", "UZ", "TM", "region")),
        "faction_shares_KZ",
        "faction_leaders_KZ",
        "faction_quantiles_KZ",
        "reputation_credibility",
        "regional_map",
        "network",
        "network_KZ",
        "effects_forest",
        "attribution",
        "economy",
    }
    assert set(figs) == expected
    assert all(isinstance(f, Figure) for f in figs.values())
    # the map: the start, the horizon (no [compare] at in this experiment)
    # the shipped world has country outlines, so the set draws the choropleth
    maps = [ax.get_title() for ax in figs["regional_map"].axes if state_outlines(ax)]
    assert maps == ["2022-01-01 (start)", "2022-02-15 (horizon)"]
    for name in ("regional_map", "attribution", "fan_KZ"):
        for fmt in ("png", "svg"):
            path = tmp_path / f"{name}.{fmt}"
            figs[name].savefig(path, format=fmt, dpi=40)
            head = path.read_bytes()[:200]
            assert head.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in path.read_bytes()
            assert path.stat().st_size > 1000
    without = plots.figure_set(store)
    assert set(figs) - set(without) == {"effects_forest", "attribution"}
