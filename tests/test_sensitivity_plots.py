"""Sensitivity figures (plots/sensitivity.py): Sobol' bars and the Morris μ*–σ plot, drawn
from the real index frames of a cheap analytic model (Ishigami with a dummy input and noise):
order, hidden inputs, the noise shown, negative estimates, labels, bad frames."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Annotation

from influence_sim.analysis.sensitivity import (
    Space,
    morris_design,
    morris_indices,
    sobol_design,
    sobol_indices,
)
from influence_sim.errors import ArgumentError
from influence_sim.plots.sensitivity import (
    NAME_WIDTH,
    _short_names,
    _shorten,
    morris_chart,
    sobol_chart,
)

PI = np.pi
SPACE = Space.of({"x1": (-PI, PI), "x2": (-PI, PI), "x3": (-PI, PI), "dummy": (0.0, 1.0)})


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7.0 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def noisy(x: np.ndarray, k: int, sd: float, seed: int) -> np.ndarray:
    """The Ishigami function with k replicates of added Gaussian noise, (rows, k)."""
    gen = np.random.default_rng(seed)
    return ishigami(x)[:, None] + sd * gen.standard_normal((len(x), k))


@pytest.fixture(scope="module")
def sobol():
    """Sobol' indices at N=64 with 4 noisy replicates per point."""
    x = sobol_design(SPACE, 64, rng=1)
    return sobol_indices(SPACE, noisy(x, 4, 1.5, 2), rng=3, resamples=50)


@pytest.fixture(scope="module")
def sobol_single():
    """The same without replicates: the noise cannot be told apart."""
    x = sobol_design(SPACE, 64, rng=1)
    return sobol_indices(SPACE, ishigami(x), rng=3, resamples=50)


@pytest.fixture(scope="module")
def morris():
    x = morris_design(SPACE, 12, rng=4)
    return morris_indices(SPACE, x, noisy(x, 4, 0.5, 5), rng=6, resamples=50)


def shuffled(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows in another order (attrs kept): the charts must sort them themselves."""
    out = frame.iloc[::-1].copy()
    out.attrs = dict(frame.attrs)
    return out


def tick_names(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def by_gid(ax: Axes, gid: str, kind: type = object) -> list:
    return [a for a in ax.findobj() if a.get_gid() == gid and isinstance(a, kind)]


def note(ax: Axes) -> str:
    (text,) = by_gid(ax, "noise_note")
    return " ".join(text.get_text().split())  # the note is wrapped to the axes' width


def rendered(ax: Axes) -> bytes:
    buf = io.BytesIO()
    ax.get_figure(root=True).savefig(buf, format="png", dpi=60)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------
# Sobol'


def test_sobol_chart_draws_on_a_new_figure_and_on_a_given_axes(sobol):
    ax = sobol_chart(sobol)
    assert isinstance(ax, Axes) and type(ax.get_figure(root=True)) is Figure
    assert ax.get_title(loc="left")  # a default title on a figure of its own
    assert rendered(ax).startswith(b"\x89PNG")

    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    assert sobol_chart(sobol, ax=right, title="outcome A") is right
    assert right.get_title(loc="left") == "outcome A"
    assert not left.has_data()  # the other panel is left alone
    assert sobol_chart(sobol, ax=left) is left and left.get_title(loc="left") == ""
    rendered(left)


def test_sobol_rows_are_in_total_index_order_with_their_values(sobol):
    ax = sobol_chart(shuffled(sobol))
    expected = sobol.sort_values("ST", ascending=False)
    names = tick_names(ax)
    assert names[: len(expected)] == list(expected.index)
    assert names[0] == "x1" and names[3] == "dummy"  # Ishigami: ST 0.56, 0.44, 0.24, 0
    for index in ("ST", "S1"):
        bars = sorted(by_gid(ax, index), key=lambda p: p.get_y())  # top row first
        np.testing.assert_allclose([b.get_width() for b in bars], expected[index])
    s1 = sorted(by_gid(ax, "S1"), key=lambda p: p.get_y())
    st = sorted(by_gid(ax, "ST"), key=lambda p: p.get_y())
    assert all(a.get_y() > b.get_y() for a, b in zip(s1, st, strict=True))  # ST above S1
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("ST") and legend[1].startswith("S1")


def test_top_shows_the_largest_and_says_how_many_are_hidden(sobol):
    ax = sobol_chart(sobol, top=2)
    names = tick_names(ax)
    assert names[:2] == ["x1", "x2"]
    assert "x3" not in names and "dummy" not in names
    (hidden,) = by_gid(ax, "hidden_note")
    largest_hidden = sobol["ST"].iloc[2:].max()
    assert "2 more inputs not shown" in hidden.get_text()
    assert f"{largest_hidden:.3f}" in hidden.get_text()
    assert "Showing the 2 inputs with the largest ST of 4" in note(ax)
    assert len(by_gid(ax, "ST")) == 2

    everything = sobol_chart(sobol, top=10)
    assert not by_gid(everything, "hidden_note")
    assert tick_names(everything)[:4] == list(sobol.index)


def test_the_noise_is_shown_as_bars_a_band_and_a_note_with_its_numbers(sobol):
    single, in_means = sobol.attrs["noise_single"], sobol.attrs["noise_in_means"]
    assert 0.05 < single < 0.5 and 0 < in_means < single  # the fixture has real noise
    ax = sobol_chart(sobol)
    text = note(ax)
    assert f"{single:.1%} of one replicate's variance" in text
    assert f"{in_means:.1%} of the variance of the means of 4 replicates" in text
    bars = sorted(by_gid(ax, "noise"), key=lambda p: p.get_y())
    np.testing.assert_allclose([b.get_width() for b in bars], [single, in_means])
    names = tick_names(ax)
    assert names[-2] == "model noise (share of one replicate's variance)"
    assert names[-1] == "model noise left in the means of 4 replicates"
    (band,) = by_gid(ax, "noise_band")
    assert (band.get_x(), band.get_x() + band.get_width()) == pytest.approx((0.0, in_means))


def test_without_replicates_the_chart_says_the_noise_is_inside_the_indices(sobol_single):
    assert sobol_single.attrs["replicates"] == 1
    ax = sobol_chart(sobol_single)
    assert "cannot be told apart" in note(ax)
    assert "0.0%" not in note(ax)  # no false "no noise"
    assert not by_gid(ax, "noise") and not by_gid(ax, "noise_band")
    assert tick_names(ax) == list(sobol_single.sort_values("ST", ascending=False).index)


def test_a_frame_without_noise_attrs_says_the_noise_is_not_known(sobol):
    bare = sobol.copy()
    bare.attrs = {}
    ax = sobol_chart(bare)
    assert "not known" in note(ax)
    assert not by_gid(ax, "noise")


def test_negative_estimates_stay_visible(sobol):
    frame = sobol.copy()
    frame.loc["dummy", ["S1", "S1_lo", "S1_hi"]] = [-0.1, -0.3, 0.1]
    ax = sobol_chart(frame)
    left, right = ax.get_xlim()
    assert left <= -0.3 and right >= 1.0
    s1 = {p.get_width() for p in by_gid(ax, "S1")}
    assert -0.1 in s1  # drawn as it is, not clipped to 0
    # a frame whose intervals all sit above 0 still starts a little below 0
    positive = sobol.copy()
    for col in ("S1", "S1_lo", "ST", "ST_lo"):
        positive[col] = positive[col].clip(lower=0.01)
    assert sobol_chart(positive).get_xlim()[0] == pytest.approx(-0.05)


def test_long_input_names_are_cut_but_stay_distinct():
    names = [
        "factions.KZ.nazarbayev_family_clan.anchor.RU",
        "factions.KZ.nazarbayev_family_clan.anchor.CN",
        "event.csto_deploy.size",
        "a_really_long_parameter_name_without_any_dots",
    ]
    short = _short_names(names)
    assert short[2] == "event.csto_deploy.size"  # short enough: kept whole
    assert len(set(short)) == len(short)
    for full, cut in zip(names, short, strict=True):
        assert len(cut) <= NAME_WIDTH
        assert cut[0] == full[0] and cut[-2:] == full[-2:]
    assert short[0].startswith("factions.KZ.") and short[0].endswith(".anchor.RU")
    # two names that would cut alike keep their full names
    twins = ["factions.KZ.nazarbayev_one_family_clan.anchor.RU"]
    twins.append(twins[0].replace("_one_", "_two_"))
    assert _shorten(twins[0], NAME_WIDTH) == _shorten(twins[1], NAME_WIDTH)
    assert _short_names(twins) == twins


def test_the_chart_shows_the_short_names(sobol):
    long = "factions.KZ.nazarbayev_family_clan.anchor.RU"
    frame = sobol.rename(index={"x1": long})
    assert tick_names(sobol_chart(frame))[0] == _short_names([long])[0] != long


# ---------------------------------------------------------------------------------------
# Morris


def test_morris_chart_draws_on_a_new_figure_and_on_a_given_axes(morris):
    ax = morris_chart(morris)
    assert isinstance(ax, Axes) and type(ax.get_figure(root=True)) is Figure
    assert ax.get_title(loc="left")
    rendered(ax)
    fig = Figure(figsize=(6, 5), layout="constrained")
    given = fig.subplots()
    assert morris_chart(morris, ax=given, title="screening") is given
    assert given.get_title(loc="left") == "screening"


def test_morris_points_and_labels_follow_mu_star(morris):
    ax = morris_chart(shuffled(morris))
    expected = morris.sort_values("mu_star", ascending=False)
    (points,) = by_gid(ax, "inputs", Line2D)
    np.testing.assert_allclose(points.get_xdata(), expected["mu_star"])
    np.testing.assert_allclose(points.get_ydata(), expected["sigma"])
    labels = by_gid(ax, "input_label", Annotation)
    assert [a.get_text() for a in labels] == list(expected.index)
    for a, (mu, sigma) in zip(labels, expected[["mu_star", "sigma"]].to_numpy(), strict=True):
        assert a.xy == pytest.approx((mu, sigma))  # each label points at its own input
    assert expected.index[-1] == "dummy"


def test_morris_labels_only_the_top_k_and_greys_the_rest(morris):
    ax = morris_chart(morris, label=2)
    labels = [a.get_text() for a in by_gid(ax, "input_label", Annotation)]
    assert labels == list(morris.index[:2])
    (named,) = by_gid(ax, "inputs", Line2D)
    (others,) = by_gid(ax, "other_inputs", Line2D)
    assert len(named.get_xdata()) == 2 and len(others.get_xdata()) == 2
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "the 2 largest μ* (named)" in legend and "2 other inputs" in legend
    assert not by_gid(morris_chart(morris, label=0), "input_label")


def test_morris_labels_do_not_overlap(morris):
    ax = morris_chart(morris)
    fig = ax.get_figure(root=True)
    fig.draw_without_rendering()
    boxes = [a.get_window_extent() for a in by_gid(ax, "input_label")]
    assert len(boxes) == 4
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)


def test_morris_reference_line_and_noise_note(morris):
    ax = morris_chart(morris)
    (line,) = by_gid(ax, "sigma_line", Line2D)
    assert line.get_slope() == 1.0 and line.get_linestyle() == "--"
    text = note(ax)
    assert f"{morris.attrs['noise_single']:.1%} of one replicate's variance" in text
    assert f"{morris.attrs['noise_in_means']:.1%} of the variance of the means" in text
    assert ax.get_xlim()[0] <= 0.0 < ax.get_xlim()[1]


# ---------------------------------------------------------------------------------------
# bad arguments


@pytest.mark.parametrize(
    ("chart", "drop", "producer"),
    [
        (sobol_chart, ["ST_lo", "ST_hi"], "sobol_indices"),
        (sobol_chart, ["S1"], "sobol_indices"),
        (morris_chart, ["sigma"], "morris_indices"),
    ],
)
def test_a_frame_missing_columns_is_refused_with_the_columns_named(
    sobol, morris, chart, drop, producer
):
    frame = (sobol if chart is sobol_chart else morris).drop(columns=drop)
    with pytest.raises(ArgumentError) as err:
        chart(frame)
    assert err.value.argument == "indices"
    message = str(err.value)
    assert all(col in message for col in drop) and producer in message


def test_the_wrong_frame_or_bad_options_are_refused(sobol, morris):
    with pytest.raises(ArgumentError, match="mu_star"):
        morris_chart(sobol)
    with pytest.raises(ArgumentError, match="S1"):
        sobol_chart(morris)
    with pytest.raises(ArgumentError) as err:
        sobol_chart(sobol, top=0)
    assert err.value.argument == "top"
    with pytest.raises(ArgumentError) as err:
        morris_chart(morris, label=-1)
    assert err.value.argument == "label"
    with pytest.raises(ArgumentError) as err:
        sobol_chart(sobol.iloc[:0])
    assert err.value.argument == "indices"
    with pytest.raises(ArgumentError) as err:
        sobol_chart(sobol.to_numpy())  # type: ignore[arg-type]
    assert err.value.argument == "indices"
