"""Calibration figures (plots/evidence.py): the targets before and after history matching, the
implausibility wave by wave, and the scatter matrix of the non-implausible points, drawn from
small synthetic tables: what is drawn where, the normalisation, clipping of infinite and
far-off values, the no-survivor cases, bad tables, and the frames left unchanged."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from matplotlib.axes import Axes
from matplotlib.collections import FillBetweenPolyCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

from influence_sim.errors import ArgumentError
from influence_sim.plots import calibration_intervals as exported_intervals
from influence_sim.plots.evidence import (
    AFTER_COLOR,
    BEFORE_COLOR,
    INTERVAL_CLIP,
    _axis_names,
    calibration_intervals,
    implausibility_by_wave,
    pairwise_survivors,
)

# ---------------------------------------------------------------------------------------
# tables


def intervals_table() -> pd.DataFrame:
    """Four targets: a level, a threshold above, an order, and a level nothing survived."""
    nan = np.nan
    spec = [
        # target, kind, label, units, observed, obs_low, obs_high, before, after, after points
        ("lvl", "level", "approval of A in B", "share", 0.5, 0.4, 0.6, (0.3, 0.45, 0.7),
         (0.45, 0.5, 0.55), 12),
        ("thr", "threshold", "share x - y", "share", nan, 0.1, nan, (-0.1, 0.0, 0.3),
         (0.1, 0.2, 0.25), 12),
        ("ord", "order", "balance B > C", "balance", nan, 0.0, nan, (-0.4, 0.1, 0.4),
         (0.0, 0.2, 0.3), 12),
        ("gone", "level", "GDP growth C", "%", 8.0, 6.0, 10.0, (0.0, 3.0, 6.0),
         (nan, nan, nan), 0),
    ]  # fmt: skip
    rows = []
    for tid, kind, label, units, obs, lo, hi, before, after, n_after in spec:
        for stage, iv, n in (("before", before, 50), ("after", after, n_after)):
            rows.append(
                {
                    "target": tid,
                    "kind": kind,
                    "label": label,
                    "units": units,
                    "observed": obs,
                    "obs_low": lo,
                    "obs_high": hi,
                    "stage": stage,
                    "low": iv[0],
                    "median": iv[1],
                    "high": iv[2],
                    "points": n,
                }
            )
    return pd.DataFrame(rows)


def implausibility_table() -> pd.DataFrame:
    """Two targets x two waves of four points; target b has an infinite value in wave 1."""
    values = {
        ("a", 1): [0.5, 2.0, 4.0, 8.0],
        ("a", 2): [0.1, 0.5, 1.0, 5.0],
        ("b", 1): [0.0, 1.0, np.inf, 5.0],
        ("b", 2): [0.0, 0.0, 0.2, 0.4],
    }
    return pd.DataFrame(
        [
            {"wave": w, "point": p, "target": t, "implausibility": v}
            for (t, w), vs in values.items()
            for p, v in enumerate(vs)
        ]
    )


INPUTS = {
    "pull_scale": (0.0, 4.0),
    "event.deploy.magnitude": (0.0, 2.0),
    "factions.S.x.anchor.P": (-1.0, 1.0),
    "factions.S.y.anchor.P": (-1.0, 1.0),
    "noise": (0.0, 0.2),
}


def survivors_tables(n: int = 30) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Survivors, their constraint table (spans 0.1, 0.2, ... in that order) and a prior."""
    gen = np.random.default_rng(0)
    spans = dict(zip(INPUTS, [0.3, 0.1, 0.2, 0.5, 0.95], strict=True))
    prior = pd.DataFrame({k: gen.uniform(a, b, 80) for k, (a, b) in INPUTS.items()})
    surv = pd.DataFrame(
        {k: a + (b - a) * (0.2 + spans[k] * gen.random(n)) for k, (a, b) in INPUTS.items()}
    )
    constraint = pd.DataFrame(
        {
            "low": [a for a, _ in INPUTS.values()],
            "high": [b for _, b in INPUTS.values()],
            "survivors_low": surv.min().to_numpy(),
            "survivors_high": surv.max().to_numpy(),
            "span": list(spans.values()),
            "unconstrained": [s >= 0.9 for s in spans.values()],
        },
        index=pd.Index(list(INPUTS), name="input"),
    )
    return surv, constraint, prior


def by_gid(ax: Axes, gid: str) -> list:
    return [a for a in ax.get_children() if a.get_gid() == gid]


def texts(ax: Axes) -> list[str]:
    return [a.get_text() for a in ax.get_children() if isinstance(a, Text)]


# ---------------------------------------------------------------------------------------
# calibration_intervals


def test_intervals_one_row_per_target_with_before_and_after():
    table = intervals_table()
    ax = calibration_intervals(table)
    assert exported_intervals is calibration_intervals
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 4
    assert labels[0].startswith("approval of A in B") and "[lvl · level]" in labels[0]
    for k, tid in enumerate(["lvl", "thr", "ord"]):
        (before,) = by_gid(ax, f"before_{tid}")
        (after,) = by_gid(ax, f"after_{tid}")
        assert before.get_color() == BEFORE_COLOR and after.get_color() == AFTER_COLOR
        # before above after, both within the target's row
        assert k - 0.5 < before.get_ydata()[0] < after.get_ydata()[0] < k + 0.5
    assert ax.get_title(loc="left").startswith("Calibration targets")
    assert ax.get_legend() is not None


def test_intervals_are_relative_to_the_observation_in_before_half_widths():
    ax = calibration_intervals(intervals_table())
    # level: observed 0.5, before [0.3, 0.7] -> half-width 0.2
    np.testing.assert_allclose(by_gid(ax, "before_lvl")[0].get_xdata(), [-1.0, 1.0])
    np.testing.assert_allclose(by_gid(ax, "after_lvl")[0].get_xdata(), [-0.25, 0.25])
    # threshold above 0.1: relative to the bound; before [-0.1, 0.3] -> half-width 0.2
    np.testing.assert_allclose(by_gid(ax, "before_thr")[0].get_xdata(), [-1.0, 1.0])
    np.testing.assert_allclose(by_gid(ax, "after_thr")[0].get_xdata(), [0.0, 0.75])
    # the observation's band: [0.4, 0.6] around 0.5 -> [-0.5, 0.5]
    (band,) = by_gid(ax, "observation_lvl")
    xs = band.get_paths()[0].vertices[:, 0]
    np.testing.assert_allclose([xs.min(), xs.max()], [-0.5, 0.5])
    (tick,) = by_gid(ax, "observed_lvl")
    np.testing.assert_allclose(tick.get_xdata(), [0.0, 0.0])
    # the numbers in their units at the right
    (numbers,) = by_gid(ax, "numbers_lvl")
    assert numbers.get_text() == "0.5 [0.4, 0.6] share\nmedian 0.45 → 0.5"
    assert by_gid(ax, "numbers_ord")[0].get_text().startswith("> 0 balance")


def test_one_sided_patterns_are_hatched_to_the_axis_edge():
    ax = calibration_intervals(intervals_table())
    right = ax.get_xlim()[1]
    for tid in ("thr", "ord"):
        (side,) = by_gid(ax, f"observation_{tid}")
        assert isinstance(side, FillBetweenPolyCollection | PolyCollection)
        assert side.get_hatch() == "////"
        xs = side.get_paths()[0].vertices[:, 0]
        assert xs.min() == pytest.approx(0.0) and xs.max() == pytest.approx(right)


def test_no_survivors_is_a_note_not_a_line():
    ax = calibration_intervals(intervals_table())
    assert by_gid(ax, "after_gone") == []
    assert by_gid(ax, "before_gone")
    notes = [t.get_text() for t in by_gid(ax, "note_after")]
    assert notes == ["no point survived"]
    assert by_gid(ax, "numbers_gone")[0].get_text().endswith("→ none left")
    # the legend counts the after stage's points
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("12 non-implausible points" in t for t in legend)
    # no after row at all: also a note
    table = intervals_table()
    table = table[~((table["target"] == "lvl") & (table["stage"] == "after"))]
    ax = calibration_intervals(table)
    assert len(by_gid(ax, "note_after")) == 2


def test_far_off_intervals_are_clipped_with_an_arrow():
    table = intervals_table()
    # after interval of lvl far right of the observation: 0.5 + 30 half-widths
    sel = (table["target"] == "lvl") & (table["stage"] == "after")
    table.loc[sel, ["low", "median", "high"]] = [5.0, 6.0, 7.0]
    ax = calibration_intervals(table)
    lo, hi = ax.get_xlim()
    assert hi == pytest.approx(INTERVAL_CLIP) and lo >= -INTERVAL_CLIP
    (after,) = by_gid(ax, "after_lvl")
    np.testing.assert_allclose(after.get_xdata(), [hi, hi])
    arrows = [
        a
        for a in ax.get_lines()
        if a.get_marker() == ">" and a.get_color() == AFTER_COLOR and not a.get_clip_on()
    ]
    assert len(arrows) == 1


def test_intervals_on_a_given_axes_and_the_frame_unchanged():
    table = intervals_table()
    copy = table.copy(deep=True)
    ax = Figure().add_subplot()
    assert calibration_intervals(table, ax) is ax
    assert ax.get_title(loc="left") == ""
    assert (
        calibration_intervals(table, ax=Figure().add_subplot(), title="T").get_title(loc="left")
        == "T"
    )
    pd.testing.assert_frame_equal(table, copy)


def test_intervals_missing_columns_are_named():
    with pytest.raises(ArgumentError, match="units, points") as err:
        calibration_intervals(intervals_table().drop(columns=["points", "units"]))
    assert err.value.argument == "table"
    with pytest.raises(ArgumentError, match="no targets"):
        calibration_intervals(intervals_table().iloc[:0])


# ---------------------------------------------------------------------------------------
# implausibility_by_wave


def test_implausibility_rows_cutoff_and_shares():
    table = implausibility_table()
    copy = table.copy(deep=True)
    ax = implausibility_by_wave(table, cutoff=2.5)
    pd.testing.assert_frame_equal(table, copy)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    boxes = [a for a in ax.get_lines() if str(a.get_gid()).startswith("box_")]
    assert len(boxes) == 4  # targets x waves
    (cutoff,) = by_gid(ax, "cutoff")
    np.testing.assert_allclose(cutoff.get_xdata(), [2.5, 2.5])
    assert ax.get_xscale() == "symlog"
    assert ax.get_xlim() == pytest.approx((0.0, 10.0))
    # a, wave 1: 4 and 8 above 2.5; b, wave 1: inf and 5
    assert by_gid(ax, "share_a_1")[0].get_text() == "50%"
    assert by_gid(ax, "share_a_2")[0].get_text() == "25%"
    assert by_gid(ax, "share_b_2")[0].get_text() == "0%"
    # wave 2 rows sit below wave 1 rows, inside the target's block
    y = {k: by_gid(ax, f"box_{k}")[0].get_ydata()[0] for k in ("a_1", "a_2", "b_1", "b_2")}
    assert y["a_1"] < y["a_2"] < y["b_1"] < y["b_2"]


def test_infinite_implausibility_is_drawn_on_the_edge_not_dropped():
    ax = implausibility_by_wave(implausibility_table())
    edge = ax.get_xlim()[1]
    (beyond,) = by_gid(ax, "beyond_b_1")
    np.testing.assert_allclose(beyond.get_xdata(), [edge])
    assert beyond.get_marker() == ">"
    assert by_gid(ax, "share_b_1")[0].get_text() == "50%  (1 off axis)"
    assert by_gid(ax, "beyond_a_1") == []
    # the box is computed on the clipped values: its upper whisker reaches the edge
    assert max(by_gid(ax, "box_b_1")[0].get_xdata()) <= edge


def test_implausibility_axis_ends_at_a_power_of_ten():
    table = implausibility_table()
    table.loc[0, "implausibility"] = 250.0
    assert implausibility_by_wave(table).get_xlim()[1] == pytest.approx(1000.0)
    table.loc[0, "implausibility"] = 1e6  # beyond the largest axis: on the edge
    ax = implausibility_by_wave(table)
    assert ax.get_xlim()[1] == pytest.approx(1000.0)
    assert by_gid(ax, "beyond_a_1")


def test_implausibility_bad_tables_and_cutoffs():
    with pytest.raises(ArgumentError, match="point, implausibility") as err:
        implausibility_by_wave(implausibility_table().drop(columns=["implausibility", "point"]))
    assert err.value.argument == "table"
    with pytest.raises(ArgumentError) as err:
        implausibility_by_wave(implausibility_table(), cutoff=0)
    assert err.value.argument == "cutoff"
    with pytest.raises(ArgumentError, match="no rows"):
        implausibility_by_wave(implausibility_table().iloc[:0])


def test_implausibility_legible_with_ten_targets_and_three_waves():
    gen = np.random.default_rng(1)
    table = pd.DataFrame(
        [
            {"wave": w, "point": p, "target": f"t{t}", "implausibility": gen.exponential(4 / w)}
            for w in (1, 2, 3)
            for t in range(10)
            for p in range(50)
        ]
    )
    ax = implausibility_by_wave(table)
    assert len(ax.get_yticklabels()) == 10
    assert len([a for a in ax.get_lines() if str(a.get_gid()).startswith("box_")]) == 30
    fig = ax.get_figure(root=True)
    assert fig.get_figheight() > 6  # sized to the rows
    # the tick labels do not overlap
    fig.draw_without_rendering()
    boxes = [t.get_window_extent() for t in ax.get_yticklabels()]
    assert all(a.y0 >= b.y1 or b.y0 >= a.y1 for a, b in itertools.pairwise(boxes))


# ---------------------------------------------------------------------------------------
# pairwise_survivors


def test_pairwise_picks_the_most_constrained_inputs_on_their_whole_ranges():
    surv, constraint, prior = survivors_tables()
    frames = [f.copy(deep=True) for f in (surv, constraint, prior)]
    fig = pairwise_survivors(surv, constraint, max_inputs=3, prior=prior)
    for before, after in zip(frames, (surv, constraint, prior), strict=True):
        pd.testing.assert_frame_equal(before, after)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 6  # lower triangle and diagonal of 3 x 3
    order = ["event.deploy.magnitude", "factions.S.x.anchor.P", "pull_scale"]
    diagonal = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert diagonal == ["deploy.magnitude", "x.anchor.P", "pull_scale"]
    grid = {(ax.get_subplotspec().rowspan.start, ax.get_subplotspec().colspan.start): ax
            for ax in fig.axes}  # fmt: skip
    for (i, j), ax in grid.items():
        assert ax.get_xlim() == pytest.approx(INPUTS[order[j]])
        if i != j:
            assert ax.get_ylim() == pytest.approx(INPUTS[order[i]])
            (pts,) = by_gid(ax, f"survivors_{order[j]}|{order[i]}")
            np.testing.assert_allclose(pts.get_xdata(), surv[order[j]])
            assert by_gid(ax, "prior")
    assert "30 non-implausible points" in fig.get_suptitle()
    assert "whole range" in fig.get_suptitle()
    assert grid[(2, 0)].get_xlabel() == "deploy.magnitude"
    assert grid[(2, 1)].get_ylabel() == ""


def test_pairwise_named_inputs_and_an_input_column():
    surv, constraint, _ = survivors_tables()
    named = ["noise", "pull_scale"]
    fig = pairwise_survivors(surv, constraint.reset_index(), inputs=named, max_inputs=1)
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == named
    assert "chosen" in fig.get_suptitle()
    with pytest.raises(ArgumentError, match="pul_scale") as err:
        pairwise_survivors(surv, constraint, inputs=["pul_scale"])
    assert err.value.argument == "inputs"
    assert err.value.suggestion == "pull_scale"


def test_pairwise_without_survivors_says_so():
    surv, constraint, prior = survivors_tables()
    fig = pairwise_survivors(surv.iloc[:0], constraint, prior=prior)
    (ax,) = fig.axes
    message = [t.get_text() for t in by_gid(ax, "message")]
    assert len(message) == 1 and "No non-implausible point" in message[0]
    assert not ax.axison


def test_pairwise_bad_frames_are_named():
    surv, constraint, prior = survivors_tables()
    with pytest.raises(ArgumentError, match="high, span") as err:
        pairwise_survivors(surv, constraint.drop(columns=["high", "span"]))
    assert err.value.argument == "constraint"
    with pytest.raises(ArgumentError, match="noise") as err:
        pairwise_survivors(surv.drop(columns="noise"), constraint)
    assert err.value.argument == "survivors"
    with pytest.raises(ArgumentError) as err:
        pairwise_survivors(surv, constraint, prior=prior.drop(columns="pull_scale"))
    assert err.value.argument == "prior"
    with pytest.raises(ArgumentError) as err:
        pairwise_survivors(surv, constraint, max_inputs=0)
    assert err.value.argument == "max_inputs"


def test_axis_names_keep_the_last_two_parts_unless_ambiguous():
    every = ["pull_scale", "event.a.magnitude", "factions.S.x.anchor.P", "factions.S.y.anchor.P"]
    assert _axis_names(every, every) == ["pull_scale", "a.magnitude", "x.anchor.P", "y.anchor.P"]
    # only one faction in the space: two parts suffice
    assert _axis_names(["factions.S.x.anchor.P"], ["factions.S.x.anchor.P"]) == ["anchor.P"]
    long = "event." + "w" * 40 + ".magnitude"
    (short,) = _axis_names([long], [long])
    assert len(short) <= 26 and short.endswith("magnitude") and "…" in short


def test_the_three_figures_save(tmp_path):
    surv, constraint, prior = survivors_tables()
    figs = {
        "intervals": calibration_intervals(intervals_table()).get_figure(root=True),
        "implausibility": implausibility_by_wave(implausibility_table()).get_figure(root=True),
        "pairwise": pairwise_survivors(surv, constraint, prior=prior),
    }
    for name, fig in figs.items():
        path = tmp_path / f"{name}.png"
        fig.savefig(path, dpi=40)
        assert path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size > 1000
    assert all(isinstance(line, Line2D) for line in figs["intervals"].axes[0].get_lines())
