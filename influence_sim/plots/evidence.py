"""Evidence: observations against the model's predictive intervals, and calibration's figures.

- `scores_chart` reads the table of `influence_sim.analysis.scoring.score` (or the
  ``scores.csv`` the ``score`` command writes) and draws, per target, the observation with its
  95% interval, the model's central predictive interval with its median, and the naive
  baselines' point forecasts.
- `calibration_intervals` draws, per calibration target, the observation (or the side a
  pattern admits) against the model's central 90% predictive interval before calibration
  (wave 1, the whole input space) and after it (the last wave's non-implausible points).
- `implausibility_by_wave` draws, per target and wave of history matching, the distribution of
  the design points' implausibility against the cutoff, with the share of points it rules out.
- `pairwise_survivors` draws a scatter matrix of the non-implausible points over the whole
  range of the inputs the targets constrain most, the first wave's points faint behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import transforms
from matplotlib.axes import Axes
from matplotlib.axis import Axis, XAxis
from matplotlib.colors import LinearSegmentedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from ..errors import ArgumentError, suggest
from .sensitivity import _cut, _positive_int, _wrap
from .style import FAINT_COLOR, _new_axes

__all__ = [
    "calibration_intervals",
    "implausibility_by_wave",
    "pairwise_survivors",
    "scores_chart",
]

#: The model's interval (Okabe-Ito blue) and the baselines' markers.
MODEL_COLOR = "#0072B2"
BASELINES = {"persistence": ("#D55E00", "s"), "trend": ("#009E73", "D")}
REQUIRED = ("target", "forecaster", "observed", "obs_low", "obs_high", "forecast", "low", "high")


def scores_chart(table: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """One row per held-out target: the observation against the forecasts (``ax=None``).

    Each target's values are on their own scale, so every row is drawn relative to its
    observation (forecast / observation - 1), the observation's interval around 0.
    """
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise ArgumentError(
            f"the table lacks {', '.join(missing)}; influence_sim.analysis.scoring.score "
            "(or the score command's scores.csv) gives it",
            argument="table",
        )
    targets = list(dict.fromkeys(table["target"]))
    ax, fresh = _new_axes(ax, (8.0, 1.2 + 0.7 * len(targets)))
    for row, tid in enumerate(targets):
        sub = table[table["target"] == tid].set_index("forecaster")
        y = float(sub["observed"].iloc[0])
        scale = abs(y) if y else 1.0

        def rel(v: float, y: float = y, scale: float = scale) -> float:
            return (v - y) / scale

        lo, hi = rel(float(sub["obs_low"].iloc[0])), rel(float(sub["obs_high"].iloc[0]))
        ax.plot([lo, hi], [row, row], color="black", lw=6, alpha=0.25, solid_capstyle="butt")
        ax.plot([0.0], [row], marker="|", color="black", markersize=16, mew=2)
        if "model" in sub.index:
            m = sub.loc["model"]
            ax.plot(
                [rel(m["low"]), rel(m["high"])], [row - 0.2, row - 0.2], color=MODEL_COLOR, lw=3
            )
            ax.plot([rel(m["forecast"])], [row - 0.2], "o", color=MODEL_COLOR, markersize=6)
        for name, (color, marker) in BASELINES.items():
            if name in sub.index and pd.notna(sub.loc[name, "forecast"]):
                ax.plot(
                    [rel(sub.loc[name, "forecast"])],
                    [row + 0.2],
                    marker,
                    color=color,
                    markersize=6,
                )
    ax.set_yticks(np.arange(len(targets)), targets)
    ax.set_ylim(len(targets) - 0.4, -0.6)
    ax.axvline(0.0, color=FAINT_COLOR, lw=0.8, zorder=0)
    ax.set_xlabel("relative to the observation (forecast / observed - 1)")
    handles = [
        Line2D([], [], color="black", lw=6, alpha=0.25, label="observation, 95% interval"),
        Line2D([], [], color=MODEL_COLOR, lw=3, marker="o", label="model, predictive interval"),
        *[
            Line2D([], [], color=c, marker=mk, lw=0, label=name)
            for name, (c, mk) in BASELINES.items()
        ],
    ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0, -0.25 if len(targets) < 3 else -0.12),
        ncol=2,
        fontsize=8,
        frameon=False,
    )
    if title is not None or fresh:
        ax.set_title(title or "Held-out observations against the forecasts")
    return ax


# ---------------------------------------------------------------------------------------
# calibration: shared


#: Before calibration (wave 1) and after it (the last wave's non-implausible points):
#: Okabe-Ito orange and blue (the model's colour, as in `scores_chart`).
BEFORE_COLOR = "#E69F00"
AFTER_COLOR = MODEL_COLOR
#: The observation's interval, or the side a pattern admits (hatched to the axis edge).
OBS_COLOR = "#BDBDBD"
#: Ruled-out side of the cutoff (Okabe-Ito vermillion, light).
OUT_COLOR = "#D55E00"
NOTE_COLOR = "#333333"
#: Normalised values beyond this many half-widths are drawn at the axis edge, with an arrow.
INTERVAL_CLIP = 10.0
#: The implausibility axis ends at the first power of 10 at or above the largest finite
#: value, at least this, at most `IMPLAUSIBILITY_MAX`; larger and infinite values sit on the edge.
IMPLAUSIBILITY_MIN = 10.0
IMPLAUSIBILITY_MAX = 1000.0
#: Longest label line (characters) in `calibration_intervals`, and how many lines.
LABEL_WIDTH = 38
LABEL_LINES = 2

INTERVAL_COLUMNS = (
    "target",
    "kind",
    "label",
    "units",
    "observed",
    "obs_low",
    "obs_high",
    "stage",
    "low",
    "median",
    "high",
    "points",
)
#: A model interval's columns, in the order they are read.
COLS = ("low", "median", "high")
IMPLAUSIBILITY_COLUMNS = ("wave", "point", "target", "implausibility")
CONSTRAINT_COLUMNS = ("low", "high", "span")


def _table(table: Any, columns: Sequence[str], chart: str, argument: str) -> pd.DataFrame:
    """``table`` if it is a DataFrame with ``columns``, else an `ArgumentError` naming them."""
    if not isinstance(table, pd.DataFrame):
        raise ArgumentError(
            f"{chart} needs a pandas DataFrame as {argument}, got {type(table).__name__}",
            argument=argument,
        )
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ArgumentError(
            f"{chart}: the {argument} table lacks the column(s) {', '.join(missing)} "
            f"(it needs {', '.join(columns)})",
            argument=argument,
        )
    return table


def _num(v: float) -> str:
    """A value for a label: three significant digits, whole numbers from 1000 on."""
    if not np.isfinite(v):
        return "∞" if v > 0 else ("−∞" if v < 0 else "n/a")
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}".replace("-", "−")


def _finite(v: Any) -> bool:
    try:
        return bool(np.isfinite(float(v)))
    except (TypeError, ValueError):
        return False


def _below_axes(ax: Axes, points: float) -> transforms.Transform:
    """Axes coordinates moved down by ``points`` (to put a legend under the x label)."""
    fig = ax.get_figure(root=True)
    assert fig is not None
    return ax.transAxes + transforms.ScaledTranslation(0.0, -points / 72.0, fig.dpi_scale_trans)


# ---------------------------------------------------------------------------------------
# calibration: the observation against the intervals before and after


def _margin(
    ax: Axes,
    text: str,
    y: float | None,
    *,
    dx: float,
    dy: float = 0.0,
    fontsize: float,
    color: str = NOTE_COLOR,
    gid: str | None = None,
) -> None:
    """Text in the right margin: beside row ``y``, or (``y=None``) a bold column header."""
    header = y is None
    ax.annotate(
        text,
        xy=(1.0, 1.0 if header else y),
        xycoords="axes fraction" if header else ax.get_yaxis_transform(),
        xytext=(dx, dy),
        textcoords="offset points",
        ha="left",
        va="bottom" if header else "center",
        fontsize=fontsize,
        fontweight="bold" if header else "normal",
        color=color,
        annotation_clip=False,
        gid=gid,
    )


def _stage(rows: pd.DataFrame, stage: str) -> pd.Series | None:
    """The row of ``stage`` for one target (the first, if repeated), None if absent."""
    sub = rows[rows["stage"] == stage]
    return None if sub.empty else sub.iloc[0]


def _reference(obs_low: float, obs_high: float, observed: float) -> tuple[float, str]:
    """The value a row is drawn relative to, and the observation's shape.

    Shapes: ``two`` (an interval; relative to the observed value, else its midpoint),
    ``above`` / ``below`` (one side admitted; relative to the bound), ``point`` (the observed
    value alone) and ``none``.
    """
    lo, hi = _finite(obs_low), _finite(obs_high)
    if lo and hi:
        return (observed if _finite(observed) else (obs_low + obs_high) / 2.0), "two"
    if lo:
        return obs_low, "above"
    if hi:
        return obs_high, "below"
    if _finite(observed):
        return observed, "point"
    return np.nan, "none"


def _row_scale(before: pd.Series | None, obs_low: float, obs_high: float, ref: float) -> float:
    """One unit of a row: half the wider of the model's and the observation's intervals.

    The model's is its 90% interval before calibration; a one-sided pattern has only that.
    Fallbacks, where that is 0 or missing: the reference's size, 1.
    """
    model = (float(before["high"]) - float(before["low"])) / 2.0 if before is not None else np.nan
    obs = (obs_high - obs_low) / 2.0
    widths = [w for w in (model, obs) if _finite(w) and w > 0]
    if widths:
        return float(max(widths))
    if _finite(ref) and ref != 0:
        return abs(float(ref))
    return 1.0


def _observation_text(kind: str, shape: str, row: pd.Series) -> str:
    """The observation in its own units: ``0.42 [0.38, 0.46] share``, ``≥ 0.3 share``."""
    units = str(row["units"]) if pd.notna(row["units"]) else ""
    observed, lo, hi = float(row["observed"]), float(row["obs_low"]), float(row["obs_high"])
    if shape == "two":
        head = f"{_num(observed)} " if _finite(observed) else "within "
        text = f"{head}[{_num(lo)}, {_num(hi)}]"
    elif shape == "above":
        text = f"{'>' if kind == 'order' else '≥'} {_num(lo)}"
    elif shape == "below":
        text = f"≤ {_num(hi)}"
    elif shape == "point":
        text = _num(observed)
    else:
        text = "no observation"
    return f"{text} {units}".strip()


def _model_text(before: pd.Series | None, after: pd.Series | None) -> str:
    """The model's medians before → after calibration, in the target's units."""

    def median(s: pd.Series | None) -> str:
        if s is None or not _finite(s["median"]):
            return "–"
        return _num(float(s["median"]))

    tail = median(after) if after is not None and _points(after) > 0 else "none left"
    return f"median {median(before)} → {tail}"


def _points(row: pd.Series | None) -> int:
    if row is None or not _finite(row["points"]):
        return 0
    return int(row["points"])


def _tick_label(label: Any, tid: str, kind: str) -> str:
    """The target's label (wrapped to at most two lines) over its id and kind."""
    text = _wrap(str(label), LABEL_WIDTH) if pd.notna(label) and str(label) else tid
    lines = text.split("\n")
    if len(lines) > LABEL_LINES:
        lines = [*lines[: LABEL_LINES - 1], _cut(" ".join(lines[LABEL_LINES - 1 :]), LABEL_WIDTH)]
    return "\n".join([*lines, f"[{tid} · {kind}]"])


def calibration_intervals(
    table: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None
) -> Axes:
    """One row per calibration target: the observation against the model before and after.

    Each row shows the observation's 95% interval (a grey band, the observed value as a
    black tick) or, for a one-sided pattern (a threshold, an order), the side it admits
    (hatched from the bound to the axis edge); below it, the model's central 90% predictive
    interval with its median before calibration (wave 1, the whole input space; orange) and
    after it (the last wave's non-implausible points; blue). Where no point survived, the
    "after" line is a note.

    Targets are on different scales, so each row is drawn relative to its observation: 0 is
    the observed value (for an interval without one, its midpoint; for a one-sided pattern,
    its bound), and one unit is half the width of the wider of the model's interval before
    calibration and the observation's interval on that target (so the wider of the two is 2
    units wide, and the "after" interval's width shows its shrinkage). Values further
    than `INTERVAL_CLIP` units are drawn at the axis edge with an arrow. The actual numbers
    are written at the right: the observation in its units and the model's median before →
    after.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per target and stage, with the columns ``target``, ``kind``, ``label``,
        ``units``, ``observed``, ``obs_low``, ``obs_high``, ``stage`` (``"before"`` or
        ``"after"``), ``low``, ``median``, ``high`` and ``points``. For a threshold
        ``above = a``, ``obs_low = a`` and ``obs_high`` is NaN (``below``: the reverse); for
        an order, ``obs_low = 0``. Targets are drawn in their order of first appearance.
    ax : matplotlib Axes, optional
        Draw here (default: a new figure, sized to the targets).
    title : str, optional
        The title (default: a generic one on a new figure, none on a given ``ax``).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    influence_sim.errors.ArgumentError
        If ``table`` is not a DataFrame or lacks a column (``argument="table"``), or has no
        rows.
    """
    table = _table(table, INTERVAL_COLUMNS, "calibration_intervals", "table")
    targets = [str(t) for t in dict.fromkeys(table["target"])]
    if not targets:
        raise ArgumentError("calibration_intervals: the table has no targets", argument="table")
    target_ids = table["target"].astype(str)
    ax, fresh = _new_axes(ax, (10.0, 1.9 + 0.62 * len(targets)))

    rows: list[dict[str, Any]] = []
    for tid in targets:
        sub = table[target_ids == tid]
        first = sub.iloc[0]
        before, after = _stage(sub, "before"), _stage(sub, "after")
        obs_low, obs_high = float(first["obs_low"]), float(first["obs_high"])
        ref, shape = _reference(obs_low, obs_high, float(first["observed"]))
        scale = _row_scale(before, obs_low, obs_high, ref)

        def rel(v: Any, ref: float = ref, scale: float = scale) -> float:
            return (float(v) - ref) / scale if _finite(ref) else np.nan

        rows.append(
            {
                "tid": tid,
                "kind": str(first["kind"]),
                "first": first,
                "shape": shape,
                "obs": (rel(obs_low), rel(obs_high), rel(first["observed"])),
                "before": None if before is None else [rel(before[c]) for c in COLS],
                "after": None
                if after is None or _points(after) == 0
                else [rel(after[c]) for c in COLS],
                "before_row": before,
                "after_row": after,
            }
        )

    values = [0.0, -1.0, 1.0]
    for r in rows:
        values += [*r["obs"], *(r["before"] or []), *(r["after"] or [])]
    finite = np.array([v for v in values if _finite(v)])
    lo, hi = float(finite.min()), float(finite.max())
    pad = 0.06 * (hi - lo)
    lim = (max(lo - pad, -INTERVAL_CLIP), min(hi + pad, INTERVAL_CLIP))
    ax.set_xlim(*lim)

    for y, r in enumerate(rows):
        _draw_observation(ax, y, r, lim)
        for stage, offset, color in (("before", -0.13, BEFORE_COLOR), ("after", 0.13, AFTER_COLOR)):
            vals = r[stage]
            if vals is None or not all(_finite(v) for v in vals):
                why = "no point survived" if stage == "after" else "no model values"
                if stage == "after" and r["after_row"] is None:
                    why = "no after-calibration row"
                ax.text(
                    lim[0] + 0.02 * (lim[1] - lim[0]),
                    y + offset,
                    why,
                    color=color,
                    fontsize=7,
                    fontstyle="italic",
                    va="center",
                    ha="left",
                    bbox={"facecolor": "white", "alpha": 0.85, "lw": 0, "pad": 1.0},
                    gid=f"note_{stage}",
                )
                continue
            low, median, high = np.clip(np.asarray(vals, float), *lim)
            ax.plot(
                [low, high],
                [y + offset] * 2,
                color=color,
                lw=3.2,
                solid_capstyle="butt",
                gid=f"{stage}_{r['tid']}",
            )
            ax.plot([median], [y + offset], "o", color=color, mec="white", mew=0.7, ms=6)
            for v, end, marker in ((vals[0], lim[0], "<"), (vals[2], lim[1], ">")):
                if (marker == "<" and v < end) or (marker == ">" and v > end):
                    ax.plot([end], [y + offset], marker, color=color, ms=6, clip_on=False)
        _margin(
            ax,
            f"{_observation_text(r['kind'], r['shape'], r['first'])}\n"
            f"{_model_text(r['before_row'], r['after_row'])}",
            y,
            dx=8.0,
            fontsize=7.2,
            gid=f"numbers_{r['tid']}",
        )

    ax.axvline(0.0, color=FAINT_COLOR, lw=0.8, zorder=0)
    for y in range(len(rows) - 1):
        ax.axhline(y + 0.5, color="#E6E6E6", lw=0.6, zorder=0)
    ax.set_yticks(
        np.arange(len(rows)),
        [_tick_label(r["first"]["label"], r["tid"], r["kind"]) for r in rows],
        fontsize=7.5,
    )
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel(
        "distance from the observation (0; one-sided patterns: from the bound), in half-widths\n"
        "of the wider of the model's 90% interval before calibration and the observation's",
        fontsize=8,
    )
    _margin(ax, "observed (units)\nmodel: before → after", None, dx=8.0, dy=4.0, fontsize=7.2)
    n_before = max((_points(r["before_row"]) for r in rows), default=0)
    n_after = max((_points(r["after_row"]) for r in rows), default=0)
    shapes = {r["shape"] for r in rows}
    handles: list[Any] = []
    if "two" in shapes:
        handles.append(
            Patch(facecolor=OBS_COLOR, label="observation, 95% interval (observed: tick)")
        )
    if shapes & {"above", "below"}:
        handles.append(
            Patch(
                facecolor="white", edgecolor="#7F7F7F", hatch="////", label="side a pattern admits"
            )
        )
    handles += [
        Line2D(
            [],
            [],
            color=BEFORE_COLOR,
            lw=3,
            marker="o",
            mec="white",
            label=f"model before calibration (wave 1, {n_before:,} points), 90% interval",
        ),
        Line2D(
            [],
            [],
            color=AFTER_COLOR,
            lw=3,
            marker="o",
            mec="white",
            label=f"model after calibration ({n_after:,} non-implausible points)",
        ),
    ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.0, 0.0),
        bbox_transform=_below_axes(ax, 46.0),
        ncols=2,
        fontsize=7.5,
        frameon=False,
        borderaxespad=0.0,
    )
    if title is not None or fresh:
        ax.set_title(
            title or "Calibration targets: the model before and after history matching",
            fontsize=10,
            loc="left",
        )
    return ax


def _draw_observation(ax: Axes, y: float, r: dict[str, Any], lim: tuple[float, float]) -> None:
    """The observation's band (or admitted side, hatched to the edge) and observed tick."""
    lo, hi, observed = r["obs"]
    y1, y2, gid = y - 0.36, y + 0.36, f"observation_{r['tid']}"
    shape = r["shape"]
    if shape == "two":
        a, b = np.clip([lo, hi], *lim)
        ax.fill_betweenx(
            [y1, y2],
            a,
            b,
            color=OBS_COLOR,
            lw=0,
            alpha=0.7,
            zorder=0.5,
            gid=gid,
        )
    elif shape in ("above", "below"):
        bound = float(np.clip(lo if shape == "above" else hi, *lim))
        edge = lim[1] if shape == "above" else lim[0]
        ax.fill_betweenx(
            [y1, y2],
            bound,
            edge,
            facecolor="none",
            edgecolor="#9A9A9A",
            hatch="////",
            lw=0,
            zorder=0.5,
            gid=gid,
        )
        ax.plot([bound, bound], [y1, y2], color="black", lw=1.2, zorder=1)
    if _finite(observed) and lim[0] <= observed <= lim[1]:
        ax.plot(
            [observed, observed],
            [y1, y2],
            color="black",
            lw=1.6,
            zorder=1,
            gid=f"observed_{r['tid']}",
        )


# ---------------------------------------------------------------------------------------
# calibration: implausibility wave by wave


def _wave_colors(waves: Sequence[int]) -> dict[int, str]:
    """One blue per wave, light (wave 1) to dark (the last): later waves read as darker."""
    if len(waves) == 1:
        return {waves[0]: AFTER_COLOR}
    ramp = LinearSegmentedColormap.from_list("waves", ["#56B4E9", "#0072B2", "#00304D"])
    return {w: to_hex(ramp(k / (len(waves) - 1))) for k, w in enumerate(waves)}


def _implausibility_edge(values: np.ndarray, cutoff: float) -> float:
    """Where the implausibility axis ends (see `IMPLAUSIBILITY_MIN`)."""
    finite = values[np.isfinite(values)]
    top = max(float(finite.max()) if finite.size else 0.0, 3.0 * cutoff, IMPLAUSIBILITY_MIN)
    return float(min(10.0 ** np.ceil(np.log10(top) - 1e-9), IMPLAUSIBILITY_MAX))


def implausibility_by_wave(
    table: pd.DataFrame,
    *,
    cutoff: float = 3.0,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Per target, the implausibility of the design points in each wave, against the cutoff.

    Each target is a block of rows, one per wave (wave 1 at the top, later waves darker):
    every design point is a faint dot, the bar is the middle half of the points (25th–75th
    percentile), the thin line the middle 90%, the white tick the median. The x axis is
    linear from 0 to 1 and logarithmic beyond (implausibility is often 0 for a pattern that
    holds and can reach thousands); it ends at the first power of 10 above the largest finite
    value (10 at least, 1000 at most), and points beyond it, infinite ones included, are drawn
    on the edge as a triangle. A vertical line marks the cutoff, the side beyond it shaded.
    At the right, the share of the wave's points the target alone rules out (implausibility
    above the cutoff; missing values left out).

    Parameters
    ----------
    table : pandas.DataFrame
        Long table with the columns ``wave`` (int), ``point`` (int), ``target`` and
        ``implausibility`` (at least 0, may be infinite). Targets are drawn in their order of
        first appearance.
    cutoff : float, default 3.0
        The implausibility above which a point is ruled out.
    ax : matplotlib Axes, optional
        Draw here (default: a new figure, sized to the targets and waves).
    title : str, optional
        The title (default: a generic one on a new figure, none on a given ``ax``).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    influence_sim.errors.ArgumentError
        If ``table`` is not a DataFrame, lacks a column or has no rows (``argument="table"``),
        or ``cutoff`` is not a positive number (``argument="cutoff"``).
    """
    table = _table(table, IMPLAUSIBILITY_COLUMNS, "implausibility_by_wave", "table")
    if isinstance(cutoff, bool) or not _finite(cutoff) or float(cutoff) <= 0:
        raise ArgumentError(f"cutoff must be a positive number, got {cutoff!r}", argument="cutoff")
    if table.empty:
        raise ArgumentError("implausibility_by_wave: the table has no rows", argument="table")
    cutoff = float(cutoff)
    target_ids = table["target"].astype(str).to_numpy()
    targets = list(dict.fromkeys(target_ids))
    wave_of = table["wave"].to_numpy()
    waves = sorted({int(w) for w in wave_of})
    values = pd.to_numeric(table["implausibility"], errors="coerce").to_numpy(float)
    edge = _implausibility_edge(values[~np.isnan(values)], cutoff)
    colors = _wave_colors(waves)
    gap = 0.9
    k_waves = len(waves)
    n_rows = len(targets) * k_waves + (len(targets) - 1) * gap
    ax, fresh = _new_axes(ax, (8.0, 2.0 + 0.17 * n_rows))
    gen = np.random.default_rng(0)

    centres = []
    for b, tid in enumerate(targets):
        top = b * (k_waves + gap)
        centres.append(top + (k_waves - 1) / 2.0)
        if b % 2:
            ax.axhspan(top - 0.5, top + k_waves - 0.5, color="#F4F4F4", zorder=0, lw=0)
        for k, wave in enumerate(waves):
            y = top + k
            color = colors[wave]
            mask = (target_ids == tid) & (wave_of == wave)
            vals = values[mask]
            vals = vals[~np.isnan(vals)]
            if vals.size == 0:
                ax.text(
                    0.02,
                    y,
                    "no values",
                    transform=ax.get_yaxis_transform(),
                    fontsize=6.5,
                    color=NOTE_COLOR,
                    fontstyle="italic",
                    va="center",
                )
                continue
            beyond = vals > edge
            shown = np.minimum(vals, edge)
            inside = shown[~beyond]
            jitter = gen.uniform(-0.3, 0.3, inside.size)
            ax.plot(
                inside,
                y + jitter,
                "o",
                color=color,
                ms=1.8,
                alpha=0.3,
                mew=0,
                zorder=2,
                gid=f"points_{tid}_{wave}",
            )
            q05, q25, q50, q75, q95 = np.quantile(shown, [0.05, 0.25, 0.5, 0.75, 0.95])
            ax.plot([q05, q95], [y, y], color=color, lw=1.1, zorder=3, solid_capstyle="butt")
            ax.plot(
                [q25, q75],
                [y, y],
                color=color,
                lw=5.5,
                zorder=3,
                solid_capstyle="butt",
                gid=f"box_{tid}_{wave}",
            )
            ax.plot([q50], [y], "|", color="white", ms=6.5, mew=1.6, zorder=4)
            if beyond.any():
                ax.plot(
                    [edge],
                    [y],
                    ">",
                    color=color,
                    ms=5.5,
                    mec="black",
                    mew=0.5,
                    clip_on=False,
                    zorder=5,
                    gid=f"beyond_{tid}_{wave}",
                )
            share = float(np.mean(vals > cutoff))
            more = f"  ({int(beyond.sum())} off axis)" if beyond.any() else ""
            _margin(
                ax,
                f"{share:.0%}{more}",
                y,
                dx=9.0,
                fontsize=6.8,
                color=color,
                gid=f"share_{tid}_{wave}",
            )

    ax.set_xscale("symlog", linthresh=1.0, linscale=0.8)
    ax.set_xlim(0.0, edge)
    ticks = [0.0, 1.0, *[10.0**p for p in range(1, round(float(np.log10(edge))) + 1)]]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.axvspan(cutoff, edge, color=OUT_COLOR, alpha=0.07, lw=0, zorder=0)
    ax.axvline(cutoff, color=OUT_COLOR, lw=1.3, ls="--", zorder=1, gid="cutoff")
    ax.set_yticks(centres, targets, fontsize=8)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_xlabel(
        "implausibility (linear to 1, logarithmic above; off-axis and infinite values: ▶ on "
        "the edge)",
        fontsize=8,
    )
    _margin(ax, f"ruled out\n(> {cutoff:g})", None, dx=9.0, dy=3.0, fontsize=7)
    ax.annotate(
        f"cutoff {cutoff:g}",
        xy=(cutoff, 1.0),
        xycoords=ax.get_xaxis_transform(),
        xytext=(0.0, 3.0),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=7,
        color=OUT_COLOR,
        annotation_clip=False,
    )
    points = table.groupby("wave")["point"].nunique()
    handles: list[Any] = [
        Line2D([], [], color=colors[w], lw=5, label=f"wave {w} ({int(points.get(w, 0)):,} points)")
        for w in waves
    ]
    handles += [
        Line2D([], [], color=OUT_COLOR, ls="--", lw=1.3, label=f"cutoff ({cutoff:g})"),
        Line2D(
            [],
            [],
            color="#7F7F7F",
            marker=">",
            lw=0,
            mec="black",
            mew=0.5,
            label=f"beyond {edge:g} or infinite",
        ),
    ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.0, 0.0),
        bbox_transform=_below_axes(ax, 34.0),
        ncols=min(len(handles), 3),
        fontsize=7.5,
        frameon=False,
        borderaxespad=0.0,
    )
    if title is not None or fresh:
        ax.set_title(
            title or "Implausibility of the design points, wave by wave",
            fontsize=10,
            loc="left",
            pad=22.0,
        )
    return ax


# ---------------------------------------------------------------------------------------
# calibration: the non-implausible points


#: Labels of the scatter matrix: at most this many characters.
AXIS_NAME_WIDTH = 26


def _axis_names(shown: Sequence[str], every: Sequence[str]) -> list[str]:
    """Short labels for ``shown``: the last two dotted parts, more where that is ambiguous.

    A label is unambiguous among ``every`` input of the space (so ``anchor.<power>`` becomes
    ``<faction>.anchor.<power>`` when several factions have one), then cut to
    `AXIS_NAME_WIDTH` characters in its middle.
    """
    split = {n: n.split(".") for n in every}
    out = []
    for name in shown:
        parts = name.split(".")
        keep = min(2, len(parts))
        while keep < len(parts):
            tail = parts[-keep:]
            clash = [o for o, p in split.items() if o != name and p[-keep:] == tail]
            if not clash:
                break
            keep += 1
        out.append(".".join(parts[-keep:]))
    return [_cut(n, AXIS_NAME_WIDTH) for n in out]


def _message_figure(text: str, size: tuple[float, float] = (6.0, 3.0)) -> Figure:
    """A figure holding only ``text`` (when there is nothing to draw)."""
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    lines = "\n".join(_wrap(part, 64) for part in text.split("\n"))
    ax.text(0.5, 0.5, lines, ha="center", va="center", fontsize=10, gid="message")
    return fig


def pairwise_survivors(
    survivors: pd.DataFrame,
    constraint: pd.DataFrame,
    *,
    inputs: Sequence[str] | None = None,
    max_inputs: int = 5,
    prior: pd.DataFrame | None = None,
) -> Figure:
    """Scatter matrix of the non-implausible points over the inputs' whole ranges.

    Below the diagonal, each pair of inputs as a scatter of the surviving points (blue); on
    the diagonal, each input's histogram (density) with the share of its range the survivors
    span. Every axis spans the input's whole range (``low`` to ``high``), so how far the
    targets shrink it shows directly; ``prior`` (wave 1's points) is drawn in faint grey
    behind. The inputs are those the targets constrain most (the smallest ``span``) unless
    ``inputs`` names them. Labels keep the last two parts of a dotted name (more where that
    is ambiguous among the inputs), with the full names in a note under the panels.

    Parameters
    ----------
    survivors : pandas.DataFrame
        One row per non-implausible point, one column per input (other columns are ignored).
    constraint : pandas.DataFrame
        Indexed by input name (or with an ``input`` column), with the columns ``low`` and
        ``high`` (the whole range) and ``span`` (the share of the range the survivors span);
        ``survivors_low``, ``survivors_high`` and ``unconstrained`` may be there too.
    inputs : sequence of str, optional
        The inputs to draw, in this order (all of them, whatever ``max_inputs``).
    max_inputs : int, default 5
        How many of the most constrained inputs to draw when ``inputs`` is not given.
    prior : pandas.DataFrame, optional
        Wave 1's design points (the same input columns), drawn faint grey behind.

    Returns
    -------
    matplotlib.figure.Figure
        With no surviving point, a figure that says so.

    Raises
    ------
    influence_sim.errors.ArgumentError
        If a frame is not a DataFrame or lacks a column (``argument`` names it), ``inputs``
        names an input ``constraint`` or ``survivors`` does not have, or ``max_inputs`` is
        not a whole number of at least 1.
    """
    _table(survivors, (), "pairwise_survivors", "survivors")
    constraint = _table(constraint, (), "pairwise_survivors", "constraint")
    if "input" in constraint.columns:
        constraint = constraint.set_index("input")
    _table(constraint, CONSTRAINT_COLUMNS, "pairwise_survivors", "constraint")
    _positive_int(max_inputs, "max_inputs", 1)
    every = [str(n) for n in constraint.index]
    if inputs is not None:
        names = [str(n) for n in inputs]
        unknown = [n for n in names if n not in every or n not in survivors.columns]
        if unknown or not names:
            raise ArgumentError(
                f"pairwise_survivors: inputs names {', '.join(unknown) or 'nothing'}, not an "
                f"input of both the constraint and the survivors tables (they have "
                f"{', '.join(n for n in every if n in survivors.columns)})",
                argument="inputs",
                suggestion=suggest(unknown[0], every) if unknown else None,
            )
    else:
        present = [n for n in every if n in survivors.columns]
        missing = [n for n in every if n not in survivors.columns]
        if missing:
            raise ArgumentError(
                f"pairwise_survivors: the survivors table lacks the column(s) "
                f"{', '.join(missing)} (every input of the constraint table)",
                argument="survivors",
            )
        span = pd.to_numeric(constraint["span"], errors="coerce").to_numpy(float)
        order = np.argsort(np.nan_to_num(span, nan=np.inf), kind="stable")
        names = [present[k] for k in order[:max_inputs]]
    if prior is not None:
        _table(prior, names, "pairwise_survivors", "prior")
    n_points = len(survivors)
    if n_points == 0:
        return _message_figure(
            "No non-implausible point: every design point of the last wave was ruled out, so "
            "there are no survivors to draw.\nLoosen the cutoff, add model discrepancy, or "
            "check the targets that rule out the most points."
        )

    n = len(names)
    short = _axis_names(names, every)
    ranges = {
        name: _range(float(constraint.loc[name, "low"]), float(constraint.loc[name, "high"]))
        for name in names
    }
    side = 1.9 if n > 1 else 3.0
    fig = Figure(figsize=(side * n + 1.0, side * n + 1.2), layout="constrained")
    grid = fig.add_gridspec(n, n)
    alpha = float(np.clip(60.0 / n_points, 0.15, 0.8))
    for i, yname in enumerate(names):
        for j, xname in enumerate(names[: i + 1]):
            ax = fig.add_subplot(grid[i, j])
            ax.set_xlim(*ranges[xname])
            ax.tick_params(labelsize=6.5, length=2.5)
            _range_ticks(ax.xaxis, ranges[xname])
            if i == j:
                _diagonal(ax, survivors, prior, xname, ranges[xname], constraint)
                ax.set_title(short[i], fontsize=8, fontweight="bold")
            else:
                ax.set_ylim(*ranges[yname])
                _range_ticks(ax.yaxis, ranges[yname])
                if prior is not None:
                    ax.plot(
                        prior[xname],
                        prior[yname],
                        "o",
                        color=FAINT_COLOR,
                        ms=1.6,
                        alpha=0.25,
                        mew=0,
                        zorder=1,
                        gid="prior",
                    )
                ax.plot(
                    survivors[xname],
                    survivors[yname],
                    "o",
                    color=AFTER_COLOR,
                    ms=2.4,
                    alpha=alpha,
                    mew=0,
                    zorder=2,
                    gid=f"survivors_{xname}|{yname}",
                )
                if j == 0:
                    ax.set_ylabel(short[i], fontsize=7.5)
                else:
                    ax.tick_params(labelleft=False)
            if i == n - 1:
                ax.set_xlabel(short[j], fontsize=7.5)
            else:
                ax.tick_params(labelbottom=False)
    total = len(every)
    which = "chosen" if inputs is not None else "most constrained"
    of = f" (of {total})" if n < total else ""
    behind = "; grey: wave 1's points" if prior is not None else ""
    fig.suptitle(
        f"{n_points:,} non-implausible points on the {n} {which} inputs{of}\n"
        f"every axis spans the input's whole range{behind}",
        fontsize=9.5,
    )
    full = [f"{s} = {name}" for s, name in zip(short, names, strict=True) if s != name]
    if full:
        fig.supxlabel("\n".join(full), fontsize=6.8, color=NOTE_COLOR, x=0.02, ha="left")
    return fig


def _range(low: float, high: float) -> tuple[float, float]:
    """An input's whole range as axis limits (widened a little if it is a single value)."""
    if not (_finite(low) and _finite(high)):
        raise ArgumentError(
            f"pairwise_survivors: an input's range [{low}, {high}] is not finite",
            argument="constraint",
        )
    if high > low:
        return low, high
    pad = abs(low) * 0.05 or 0.5
    return low - pad, high + pad


def _range_ticks(axis: Axis, lim: tuple[float, float]) -> None:
    """Three ticks: both ends of the range and its middle, the end labels kept inside.

    The first label is aligned to start at its tick and the last to end at it, so the labels
    of neighbouring panels (one range's end, the next one's start) do not run into each other.
    """
    lo, hi = lim
    axis.set_major_locator(FixedLocator([lo, (lo + hi) / 2.0, hi]))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}".replace("-", "−")))
    first, _, last = axis.get_majorticklabels()
    if isinstance(axis, XAxis):
        first.set_horizontalalignment("left")
        last.set_horizontalalignment("right")
    else:
        first.set_verticalalignment("bottom")
        last.set_verticalalignment("top")


def _diagonal(
    ax: Axes,
    survivors: pd.DataFrame,
    prior: pd.DataFrame | None,
    name: str,
    lim: tuple[float, float],
    constraint: pd.DataFrame,
) -> None:
    """An input's histograms (density: survivors blue, prior grey) and its span."""
    bins = [float(b) for b in np.linspace(*lim, 21)]
    if prior is not None:
        ax.hist(
            prior[name].to_numpy(float),
            bins=bins,
            density=True,
            histtype="stepfilled",
            color=FAINT_COLOR,
            alpha=0.3,
            gid="prior_hist",
        )
    ax.hist(
        survivors[name].to_numpy(float),
        bins=bins,
        density=True,
        histtype="stepfilled",
        color=AFTER_COLOR,
        alpha=0.75,
        gid=f"survivors_hist_{name}",
    )
    ax.set_yticks([])
    span = float(constraint.loc[name, "span"])
    if _finite(span):
        ax.text(
            0.03,
            0.95,
            f"span {span:.0%}",
            transform=ax.transAxes,
            fontsize=6.8,
            va="top",
            ha="left",
            color=NOTE_COLOR,
            bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1.0},
        )
