"""Global sensitivity: Sobol' indices as bars, Morris screening as the μ*–σ plot.

Both figures read the frames of `influence_sim.analysis.sensitivity` (`sobol_indices`,
`morris_indices`) and show the model's own noise beside the indices, from the frames'
``attrs`` (``noise_single``: the share of one replicate's variance that is noise;
``noise_in_means``: the share left in the replicate means the indices are computed on). With a
single replicate per design point the noise cannot be told apart from the inputs' effects:
the figures say so instead of showing a share of 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib import transforms
from matplotlib.axes import Axes
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox

from ..errors import ArgumentError
from .style import FAINT_COLOR, _new_axes, _root

__all__ = ["morris_chart", "sobol_chart"]

#: First-order and total indices (Paul Tol's "muted" indigo and cyan: colour-blind safe, and
#: told apart in grey as dark and light).
S1_COLOR = "#332288"
ST_COLOR = "#88CCEE"
#: The model's own noise: grey, hatched, never a colour an input has.
NOISE_COLOR = "#D9D9D9"
NOISE_EDGE = "#6E6E6E"
#: The band from 0 to the noise left in the replicate means, behind the inputs' bars.
BAND_COLOR = "#E4E4E4"
#: Morris: the labelled inputs (the largest μ*) and the rest.
MORRIS_COLOR = "#332288"
#: How many inputs `morris_chart` names by default (those with the largest μ*).
MORRIS_LABELS = 8
#: Input names longer than this are cut in the middle (kept unique among those shown).
NAME_WIDTH = 30
NAME_SIZE = 8.0
NOTE_SIZE = 7.5

SOBOL_COLUMNS = ("S1", "S1_lo", "S1_hi", "ST", "ST_lo", "ST_hi")
MORRIS_COLUMNS = ("mu_star", "mu_star_lo", "mu_star_hi", "sigma")


# ---------------------------------------------------------------------------------------
# input frames and names


def _checked(indices: Any, columns: Sequence[str], chart: str, producer: str) -> pd.DataFrame:
    """``indices`` if it is a non-empty frame with ``columns``, else an `ArgumentError`."""
    if not isinstance(indices, pd.DataFrame):
        raise ArgumentError(
            f"{chart} needs the DataFrame that {producer} returns, got {type(indices).__name__}",
            argument="indices",
        )
    missing = [c for c in columns if c not in indices.columns]
    if missing:
        raise ArgumentError(
            f"{chart} needs the columns {', '.join(columns)} (the frame that "
            f"influence_sim.analysis.sensitivity.{producer} returns); missing: "
            f"{', '.join(missing)}",
            argument="indices",
        )
    if indices.empty:
        raise ArgumentError(f"{chart}: the frame has no inputs (no rows)", argument="indices")
    return indices


def _positive_int(value: int | None, argument: str, least: int) -> None:
    """Check that ``value`` is None or an int of at least ``least``."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise ArgumentError(
            f"{argument} must be a whole number of at least {least}, got {value!r}",
            argument=argument,
        )


def _cut(part: str, size: int) -> str:
    """``part`` cut to ``size`` characters around an ellipsis (kept whole if it fits)."""
    if len(part) <= size:
        return part
    keep = size - 1
    return f"{part[: keep - keep // 2]}…{part[len(part) - keep // 2 :]}"


def _shorten(name: str, width: int) -> str:
    """``name`` cut to about ``width`` characters, every part of it still showing.

    A dotted name keeps all its parts and its last one whole; the longest of the others are
    cut in their middle first (``factions.KZ.naza…clan.anchor.RU``). Any other name keeps
    both ends around an ellipsis.
    """
    if len(name) <= width:
        return name
    parts = name.split(".")
    if len(parts) >= 2:
        sizes = [len(p) for p in parts]
        room = width - (len(parts) - 1) - sizes[-1]
        while sum(sizes[:-1]) > room and max(sizes[:-1]) > 4:
            k = int(np.argmax(sizes[:-1]))
            sizes[k] -= 1
        short = ".".join(_cut(p, n) for p, n in zip(parts, sizes, strict=True))
        if len(short) <= width:
            return short
    return _cut(name, max(width, 3))


def _short_names(names: Sequence[str], width: int = NAME_WIDTH) -> list[str]:
    """Labels for ``names``: long ones cut by `_shorten`, full where a cut would be ambiguous."""
    cut = [_shorten(n, width) for n in names]
    counts = Counter(cut)
    return [c if c == n or counts[c] == 1 else n for n, c in zip(names, cut, strict=True)]


# ---------------------------------------------------------------------------------------
# the model's noise


def _noise(attrs: Mapping[Any, Any]) -> tuple[float, float, int] | None:
    """``(noise_single, noise_in_means, replicates)`` from a frame's attrs, None if absent."""
    try:
        single = float(attrs["noise_single"])
        in_means = float(attrs["noise_in_means"])
    except (KeyError, TypeError, ValueError):
        return None
    reps = attrs.get("replicates")
    return single, in_means, int(reps) if isinstance(reps, int | np.integer) else 0


def _noise_note(attrs: Mapping[Any, Any]) -> str:
    """One or two sentences on the model's own noise, for the notes under the charts."""
    noise = _noise(attrs)
    if noise is None:
        return (
            "Model noise: not known (the frame's attrs lack noise_single and noise_in_means);"
            " the model's own noise is not shown."
        )
    single, in_means, reps = noise
    if reps == 1:
        return (
            "Model noise: one replicate per design point, so the model's own noise cannot be "
            "told apart from the inputs' effects: it is inside these indices."
        )
    means = f"the means of {reps} replicates" if reps > 1 else "the replicate means"
    return (
        f"Model noise: {single:.1%} of one replicate's variance; {in_means:.1%} of the "
        f"variance of {means}, which the indices are computed on."
    )


def _finish(
    ax: Axes, handles: list[Any], xlabel: str, note: str, title: str | None
) -> tuple[Legend, Annotation]:
    """The x label, the legend above the axes, the note under the x label, the title.

    The figure is laid out once to measure the axes: the x label and the note are broken
    into lines a little narrower than the axes, the legend takes one column if two do not
    fit, and the title is raised over the legend. Constrained layout makes room for them.
    """
    ax.set_xlabel(xlabel, fontsize=8.5)
    legend = _legend_above(ax, handles, 2)
    text = ax.annotate(
        note,
        xy=(0.0, 0.0),
        xycoords=("axes fraction", ax.xaxis.label),
        xytext=(0.0, -4.0),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=NOTE_SIZE,
        color="#333333",
        gid="noise_note",
        annotation_clip=False,
    )
    text.set_in_layout(False)
    fig = _root(ax)
    fig.draw_without_rendering()
    # text grows a little faster than the figure at a higher dpi (hinting): keep a margin
    room = 0.88 * ax.get_window_extent().width
    if legend.get_window_extent().width > room:
        legend = _legend_above(ax, handles, 1)
    for artist, content in ((ax.xaxis.label, xlabel), (text, note)):
        full = artist.get_window_extent().width
        if full > room > 0:
            artist.set_text(_wrap(content, max(int(len(content) * room / full) - 2, 24)))
    text.set_in_layout(True)
    if title:
        pad = legend.get_window_extent().height * 72.0 / fig.dpi + 8.0
        ax.set_title(title, fontsize=10, loc="left", pad=pad)
    return legend, text


def _legend_above(ax: Axes, handles: list[Any], ncols: int) -> Legend:
    """The legend just above the axes, left-aligned, without a frame."""
    return ax.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.01),
        ncols=ncols,
        fontsize=7.5,
        frameon=False,
        borderaxespad=0.0,
        handlelength=1.8,
        columnspacing=1.5,
    )


def _wrap(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width`` characters, at spaces."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Sobol'


def _sobol_bars(
    ax: Axes, rows: pd.DataFrame, y: np.ndarray, name: str, color: str, offset: float
) -> None:
    """One index's bars (at ``y + offset``) with its confidence intervals as error bars."""
    value = rows[name].to_numpy(float)
    lo, hi = rows[f"{name}_lo"].to_numpy(float), rows[f"{name}_hi"].to_numpy(float)
    err = np.vstack([np.clip(value - lo, 0, None), np.clip(hi - value, 0, None)])
    ax.barh(
        y + offset,
        value,
        height=0.36,
        color=color,
        edgecolor="none",
        xerr=err,
        error_kw={"ecolor": "#1A1A1A", "elinewidth": 0.9, "capsize": 2.0},
        label=name,
        gid=name,
    )


def _sobol_noise_rows(
    ax: Axes, noise: tuple[float, float, int], y0: float
) -> tuple[list[float], list[str]]:
    """The noise shares as two hatched bars from ``y0`` down; their tick positions, labels."""
    single, in_means, reps = noise
    ys = [y0, y0 + 1.0]
    means = f"the means of {reps} replicates" if reps > 1 else "the replicate means"
    labels = ["model noise (share of one replicate's variance)", f"model noise left in {means}"]
    ax.barh(
        ys,
        [single, in_means],
        height=0.55,
        color=NOISE_COLOR,
        edgecolor=NOISE_EDGE,
        hatch="////",
        lw=0.8,
        gid="noise",
    )
    return ys, labels


def sobol_chart(
    indices: pd.DataFrame,
    ax: Axes | None = None,
    *,
    top: int | None = None,
    title: str | None = None,
) -> Axes:
    """Sobol' indices per input: first-order (S1) and total (ST) bars with their intervals.

    Inputs are sorted by ST, the largest at the top. Below them, hatched grey bars show the
    model's own noise (the share of one replicate's variance, and the share left in the
    replicate means the indices are computed on), and a light grey band from 0 to the noise
    left in the means marks indices no larger than that noise. A note under the axes gives
    both shares. Estimates can be slightly negative (estimation error): the axis starts below
    0 (at -0.05 or at the lowest interval end) and nothing is clipped.

    Parameters
    ----------
    indices : pandas.DataFrame
        What `influence_sim.analysis.sensitivity.sobol_indices` returns: indexed by input,
        columns ``S1``, ``S1_lo``, ``S1_hi``, ``ST``, ``ST_lo``, ``ST_hi``; its ``attrs``
        ``noise_single``, ``noise_in_means`` and ``replicates`` give the noise shown.
    ax : matplotlib Axes, optional
        Draw here (default: a new figure, sized to the inputs).
    top : int, optional
        Show only the ``top`` inputs with the largest ST; a note row says how many are hidden.
    title : str, optional
        The title (default: a generic one on a new figure, none on a given ``ax``).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    influence_sim.errors.ArgumentError
        If ``indices`` lacks a column (``argument="indices"``) or ``top`` is not a whole
        number of at least 1.
    """
    frame = _checked(indices, SOBOL_COLUMNS, "sobol_chart", "sobol_indices")
    _positive_int(top, "top", 1)
    order = frame["ST"].to_numpy(float)
    frame = frame.iloc[np.argsort(-np.nan_to_num(order, nan=-np.inf), kind="stable")]
    shown = frame if top is None else frame.head(top)
    hidden = len(frame) - len(shown)
    noise = _noise(frame.attrs)
    with_noise = noise is not None and noise[2] != 1
    n = len(shown)
    rows = n + (1 if hidden else 0) + (3 if with_noise else 0)
    ax, created = _new_axes(ax, size=(8.0, 0.36 * rows + 2.2))

    y = np.arange(n, dtype=float)
    _sobol_bars(ax, shown, y, "ST", ST_COLOR, -0.19)
    _sobol_bars(ax, shown, y, "S1", S1_COLOR, 0.19)
    ticks, labels = list(y), _short_names([str(i) for i in shown.index])
    next_y = float(n)
    if hidden:
        below = float(np.nanmax(frame["ST"].to_numpy(float)[n:]))
        ax.text(
            0.01,
            next_y,
            f"… {hidden} more input{'s' if hidden > 1 else ''} not shown (ST at most {below:.3f})",
            transform=transforms.blended_transform_factory(ax.transAxes, ax.transData),
            fontsize=NAME_SIZE,
            fontstyle="italic",
            color="#555555",
            va="center",
            ha="left",
            gid="hidden_note",
            zorder=5,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5},
        )
        next_y += 1.0
    if noise is not None and with_noise:
        ax.axhline(next_y - 0.5, color="#888888", lw=0.8, ls="--")
        ax.axvspan(
            0.0,
            noise[1],
            ymax=1.0,
            color=BAND_COLOR,
            zorder=0,
            lw=0,
            gid="noise_band",
        )
        ys, names = _sobol_noise_rows(ax, noise, next_y + 0.3)
        ticks += ys
        labels += names
        next_y = ys[-1] + 1.0
    ax.set_yticks(ticks, labels, fontsize=NAME_SIZE)
    for label in ax.get_yticklabels()[n:]:
        label.set_color("#444444")
    ax.set_ylim(next_y - 0.4, -0.7)
    ax.tick_params(axis="y", length=0)

    drawn = shown[["S1", "S1_lo", "S1_hi", "ST", "ST_lo", "ST_hi"]].to_numpy(float)
    low = float(np.nanmin(drawn)) if np.isfinite(drawn).any() else 0.0
    high = float(np.nanmax(drawn)) if np.isfinite(drawn).any() else 1.0
    if noise is not None and with_noise:
        high = max(high, noise[0])
    ax.set_xlim(min(-0.05, low - 0.02), max(1.0, high + 0.03))
    ax.axvline(0.0, color="black", lw=0.8, zorder=1.5)
    ax.grid(axis="x", color="#E5E5E5", lw=0.6)
    ax.set_axisbelow(True)
    handles = [
        Patch(color=ST_COLOR, label="ST: total (alone and in interactions)"),
        Patch(color=S1_COLOR, label="S1: first order (alone)"),
    ]
    if noise is not None and with_noise:
        handles.append(
            Patch(facecolor=NOISE_COLOR, edgecolor=NOISE_EDGE, hatch="////", label="model noise")
        )
        handles.append(Patch(color=BAND_COLOR, label="0 to the noise left in the means"))
    extra = f" Showing the {n} inputs with the largest ST of {len(frame)}." if hidden else ""
    if title is None and created:
        title = "Global sensitivity: Sobol' indices by input"
    _finish(
        ax,
        handles,
        "Sobol' index (share of the outcome's variance; whiskers: bootstrap interval)",
        _noise_note(frame.attrs) + extra,
        title,
    )
    return ax


# ---------------------------------------------------------------------------------------
# Morris


_HA = Literal["left", "center", "right"]
_VA = Literal["bottom", "center", "top"]

#: Where a point's label may go: offset (points) and alignment, nearest first; the far ones
#: get a leader line to their point.
_SPOTS: list[tuple[float, float, _HA, _VA]] = sorted(
    [
        (5.0, 4.0, "left", "bottom"),
        (5.0, -4.0, "left", "top"),
        (-5.0, 4.0, "right", "bottom"),
        (-5.0, -4.0, "right", "top"),
        (0.0, 7.0, "center", "bottom"),
        (0.0, -7.0, "center", "top"),
        *(
            spot
            for d in (14.0, 26.0, 40.0)
            for spot in (
                (d, 0.8 * d, "left", "bottom"),
                (d, -0.8 * d, "left", "top"),
                (-d, 0.8 * d, "right", "bottom"),
                (-d, -0.8 * d, "right", "top"),
                (0.0, 1.3 * d, "center", "bottom"),
                (0.0, -1.3 * d, "center", "top"),
                (1.6 * d, 0.0, "left", "center"),
                (-1.6 * d, 0.0, "right", "center"),
            )
        ),
    ],
    key=lambda spot: float(np.hypot(spot[0], spot[1])),
)
_FAR = 12.0
#: A spot's cost: the share of the label covering other labels, points or error bars (these
#: count less) or lying outside the axes, weighed against its distance from the point (per
#: point of distance), so that a near spot that slightly touches an error bar beats a far one.
_HIT_WEIGHT = 3.0
_BAR_WEIGHT = 0.3
_DISTANCE_WEIGHT = 0.004


def _overlap(a: Bbox, b: Bbox) -> float:
    """The area two boxes share (display units)."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def _place_labels(
    ax: Axes,
    points: np.ndarray,
    bars: np.ndarray,
    names: Sequence[str],
    kw: dict[str, Any],
) -> list[Annotation]:
    """Name the first ``len(names)`` of ``points`` (data x, y), clear of what is drawn.

    ``bars`` holds each point's error bar (x low, x high). Once the figure is laid out, each
    label in turn is measured at every spot of `_SPOTS` and takes the one that overlaps least
    (labels placed before, points, error bars, the legend, the outside of the axes), nearer
    spots first when the overlaps are alike. Spots away from the point get a leader line.
    The labels are added in the order of ``names``.
    """
    if not len(names):
        return []
    fig = _root(ax)
    fig.draw_without_rendering()
    r = 3.5 * fig.dpi / 72.0
    frame = ax.get_window_extent()
    ok = np.isfinite(points).all(axis=1)
    marks = ax.transData.transform(np.where(ok[:, None], points, 0.0))
    dots = [
        Bbox.from_extents(px - r, py - r, px + r, py + r) if good else None
        for (px, py), good in zip(marks, ok, strict=True)
    ]
    ends = np.where(np.isfinite(bars), bars, points[:, :1])
    left = ax.transData.transform(np.column_stack([ends[:, 0], points[:, 1]]))
    right = ax.transData.transform(np.column_stack([ends[:, 1], points[:, 1]]))
    whiskers = [
        Bbox.from_extents(a[0], a[1] - r / 2, b[0], b[1] + r / 2)
        for a, b, good in zip(left, right, ok, strict=True)
        if good
    ]
    legend = ax.get_legend()
    placed = [legend.get_window_extent()] if legend is not None else []
    out = []
    for k, ((x, y), name) in enumerate(zip(points, names, strict=False)):
        probe = ax.annotate(name, (x, y), xytext=(0.0, 0.0), textcoords="offset points", **kw)
        best: tuple[float, int] | None = None
        for j, (dx, dy, ha, va) in enumerate(_SPOTS):
            if best is not None and best[0] <= _DISTANCE_WEIGHT * float(np.hypot(dx, dy)):
                break  # no spot from here on can cost less
            probe.set_position((dx, dy))
            probe.set_horizontalalignment(ha)
            probe.set_verticalalignment(va)
            box = probe.get_window_extent()
            area = max(box.width * box.height, 1.0)
            hit = sum(_overlap(box, b) for b in placed)
            hit += sum(_overlap(box, d) for i, d in enumerate(dots) if d is not None and i != k)
            hit += _BAR_WEIGHT * sum(_overlap(box, w) for w in whiskers)
            hit += 2.0 * (area - _overlap(box, frame))
            cost = _HIT_WEIGHT * hit / area + _DISTANCE_WEIGHT * float(np.hypot(dx, dy))
            if best is None or cost < best[0]:
                best = (cost, j)
        probe.remove()
        assert best is not None
        dx, dy, ha, va = _SPOTS[best[1]]
        far = abs(dx) >= _FAR or abs(dy) >= _FAR
        ann = ax.annotate(
            name,
            (x, y),
            xytext=(dx, dy),
            textcoords="offset points",
            ha=ha,
            va=va,
            arrowprops=(
                {"arrowstyle": "-", "lw": 0.6, "color": "#777777", "shrinkB": 4} if far else None
            ),
            **kw,
        )
        ann.set_in_layout(False)
        placed.append(ann.get_window_extent())
        out.append(ann)
    return out


def _dot(color: str, label: str) -> Line2D:
    """A legend entry of a point with its error bar's colour."""
    return Line2D([], [], color=color, marker="o", ms=5, ls="none", label=label)


def morris_chart(
    indices: pd.DataFrame,
    ax: Axes | None = None,
    *,
    label: int | None = None,
    title: str | None = None,
) -> Axes:
    """Morris screening: μ* against σ per input, the classic screening plot.

    Each input is a point at its μ* (mean absolute elementary effect: importance) and σ
    (spread of its elementary effects: non-linearity or interactions), with μ*'s confidence
    interval as a horizontal error bar. The ``label`` inputs with the largest μ* are drawn
    dark and named (labels placed clear of each other where possible); the rest are grey.
    Points above the dashed line σ = μ* act non-linearly or in interactions. A note under the
    axes gives the model's own noise share, which also inflates μ* and σ.

    Parameters
    ----------
    indices : pandas.DataFrame
        What `influence_sim.analysis.sensitivity.morris_indices` returns: indexed by input,
        columns ``mu_star``, ``mu_star_lo``, ``mu_star_hi``, ``sigma``; ``attrs`` as for
        `sobol_chart`.
    ax : matplotlib Axes, optional
        Draw here (default: a new figure).
    label : int, optional
        How many inputs to name, those with the largest μ* (default `MORRIS_LABELS`, 8;
        0 names none).
    title : str, optional
        The title (default: a generic one on a new figure, none on a given ``ax``).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    influence_sim.errors.ArgumentError
        If ``indices`` lacks a column (``argument="indices"``) or ``label`` is negative.
    """
    frame = _checked(indices, MORRIS_COLUMNS, "morris_chart", "morris_indices")
    _positive_int(label, "label", 0)
    label = MORRIS_LABELS if label is None else int(label)
    mu = frame["mu_star"].to_numpy(float)
    frame = frame.iloc[np.argsort(-np.nan_to_num(mu, nan=-np.inf), kind="stable")]
    ax, created = _new_axes(ax, size=(7.5, 5.8))
    mu = frame["mu_star"].to_numpy(float)
    sigma = frame["sigma"].to_numpy(float)
    lo, hi = frame["mu_star_lo"].to_numpy(float), frame["mu_star_hi"].to_numpy(float)
    err = np.vstack([np.clip(mu - lo, 0, None), np.clip(hi - mu, 0, None)])
    k = min(label, len(frame))
    for part, color, gid, z in (
        (slice(k, None), FAINT_COLOR, "other_inputs", 2.0),
        (slice(0, k), MORRIS_COLOR, "inputs", 3.0),
    ):
        if len(mu[part]):
            drawn = ax.errorbar(
                mu[part],
                sigma[part],
                xerr=err[:, part],
                fmt="o",
                ms=5,
                color=color,
                ecolor=color,
                elinewidth=1.0,
                capsize=2.0,
                alpha=0.9,
                zorder=z,
            )
            drawn.lines[0].set_gid(gid)  # the points; their error bars:
            for bar in drawn.lines[2]:
                bar.set_gid(f"{gid}_ci")
    xs = np.concatenate([hi[np.isfinite(hi)], mu[np.isfinite(mu)], [0.0]])
    ys = np.concatenate([sigma[np.isfinite(sigma)], [0.0]])
    x_high = max(float(xs.max()), 1e-12) * 1.1
    y_high = max(float(ys.max()), 1e-12) * 1.15
    x_low = min(0.0, float(np.nanmin(lo)) if np.isfinite(lo).any() else 0.0)
    ax.set_xlim(x_low - 0.03 * x_high, x_high)
    ax.set_ylim(-0.03 * y_high, y_high)
    ax.axline(
        (0.0, 0.0),
        slope=1.0,
        color="#555555",
        lw=0.9,
        ls="--",
        zorder=1,
        gid="sigma_line",
    )
    ax.axvline(0.0, color="#BBBBBB", lw=0.6, zorder=0.5)
    ax.axhline(0.0, color="#BBBBBB", lw=0.6, zorder=0.5)
    ax.grid(color="#EEEEEE", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_ylabel("σ: spread of the elementary effects", fontsize=8.5)
    handles: list[Any] = []
    if k:
        named = f"all {k} inputs (named)" if k == len(frame) else f"the {k} largest μ* (named)"
        handles.append(_dot(MORRIS_COLOR, named))
    if len(frame) > k:
        handles.append(
            _dot(FAINT_COLOR, f"{len(frame) - k} other input{'s' * (len(frame) - k > 1)}")
        )
    handles.append(
        Line2D(
            [],
            [],
            color="#555555",
            lw=0.9,
            ls="--",
            label="σ = μ*: above, non-linear or interacting",
        )
    )
    if title is None and created:
        title = "Global sensitivity: Morris screening (μ*–σ)"
    _finish(
        ax,
        handles,
        "μ*: mean |elementary effect| (outcome change over an input's range; "
        "whiskers: bootstrap interval)",
        f"{_noise_note(frame.attrs)} The noise also adds to μ* and σ.",
        title,
    )
    kw = {"fontsize": NAME_SIZE, "color": "#1A1A1A", "gid": "input_label", "zorder": 4}
    points = np.column_stack([mu, sigma])
    names = _short_names([str(i) for i in frame.index[:k]])
    _place_labels(ax, points, np.column_stack([lo, hi]), names, kw)
    return ax
