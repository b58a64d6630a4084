"""What time-series panels draw: fans (median and bands across replicates) and event marks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import dates as mdates
from matplotlib import transforms
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from .data import _labelled_events, _quantiles, _varies
from .style import EVENT_COLOR, LABEL_SIZE, _root

if TYPE_CHECKING:
    from ..experiment.source import ResultSource


def _fan(
    ax: Axes,
    x: np.ndarray,
    y: np.ndarray,
    *,
    color: str,
    label: str | None,
    bands: bool = True,
    linestyle: Any = "-",
    faint: bool = False,
    band_labels: bool = True,
    lw: float = 1.6,
) -> Line2D:
    """Median line and (where replicates differ) 50% and 90% bands of (T, R) values."""
    q = _quantiles(y)
    if bands and _varies(q):
        if faint:
            ax.fill_between(x, q[0], q[4], color=color, alpha=0.14, lw=0, zorder=0.5)
        else:
            ax.fill_between(
                x,
                q[0],
                q[4],
                color=color,
                alpha=0.15,
                lw=0,
                label="90% band" if band_labels else None,
            )
            ax.fill_between(
                x,
                q[1],
                q[3],
                color=color,
                alpha=0.3,
                lw=0,
                label="50% band" if band_labels else None,
            )
    (line,) = ax.plot(
        x,
        q[2],
        color=color,
        lw=1.1 if faint else lw,
        ls=linestyle,
        alpha=0.8 if faint else 1.0,
        zorder=0.8 if faint else 2.2,
        label=label,
    )
    return line


def _event_lines(ax: Axes, rows: list[tuple[float, str, str]]) -> None:
    """One thin vertical line per distinct event date (grey dotted where all were removed)."""
    removed_dates = {r[0] for r in rows if r[2] == "removed"}
    present_dates = {r[0] for r in rows if r[2] != "removed"}
    for xv in sorted(removed_dates | present_dates):
        gone = xv not in present_dates
        ax.axvline(
            xv,
            color="#A8A8A8" if gone else EVENT_COLOR,
            lw=0.6,
            ls=(0, (1, 2)) if gone else (0, (3, 2)),
            zorder=1.2,
            gid="event_removed" if gone else "event",
        )


def _mark_events(
    ax: Axes,
    events: Sequence[tuple[Any, ...]],
    *,
    labels: bool = True,
    fontsize: float = LABEL_SIZE,
) -> float:
    """Thin vertical lines at event dates, ids written above the axes.

    ``events`` are (label, date) or (label, date, kind). One line per distinct date inside
    the x range. Labels (rotated, small) fan out beside each other from the first date of a
    group of nearby events, joined to their dates by leader lines, so events on the same or
    close dates never overlap. Labels of removed events (kind ``removed``) are grey and
    italic. Returns the height the labels take above the axes, in points (0 without labels),
    so that a title can be placed above them.
    """
    lo, hi = ax.get_xlim()
    rows = []
    for ev in events:
        xv = mdates.date2num(np.datetime64(ev[1], "D"))
        if lo <= xv <= hi:
            rows.append((xv, ev[0], ev[2] if len(ev) > 2 else ""))
    rows.sort(key=lambda r: r[0])
    _event_lines(ax, rows)
    if not labels or not rows:
        return 0.0
    fig = _root(ax)
    bbox = ax.get_position()
    width_pt = max(fig.get_figwidth() * bbox.width * 72.0, 1.0)
    per_pt = (hi - lo) / width_pt  # data units (days) per point, before layout
    step = fontsize * 1.6
    # groups: consecutive events whose fanned labels would touch
    groups: list[list[tuple[float, str, str]]] = []
    for r in rows:
        if groups:
            g = groups[-1]
            if (r[0] - g[0][0]) / per_pt < len(g) * step + 0.5 * step:
                g.append(r)
                continue
        groups.append([r])
    base = transforms.blended_transform_factory(ax.transData, ax.transAxes)
    gap = 9.0
    longest = 0
    for g in groups:
        n = len(g)
        leftward = (g[0][0] - lo) / per_pt + n * step > width_pt
        anchor = g[-1][0] if leftward else g[0][0]
        for k, (xv, text, kind) in enumerate(g):
            dx = -(n - 1 - k) * step if leftward else k * step
            ax.annotate(
                text,
                xy=(xv, 1.0),
                xycoords=base,
                xytext=(anchor, 1.0),
                textcoords=transforms.offset_copy(base, fig=fig, x=dx, y=gap, units="points"),
                rotation=90,
                ha="center",
                va="bottom",
                fontsize=fontsize,
                color="#8A8A8A" if kind == "removed" else "#303030",
                style="italic" if kind == "removed" else "normal",
                annotation_clip=False,
                arrowprops={
                    "arrowstyle": "-",
                    "lw": 0.5,
                    "color": "#9A9A9A",
                    "shrinkA": 0,
                    "shrinkB": 0,
                    "relpos": (0.5, 0.0),
                },
                gid="event_label",
            )
            longest = max(longest, len(text))
    return gap + 0.6 * fontsize * longest + 4.0


def _draw_events(
    ax: Axes, source: ResultSource, scenario: str, point: int, events: bool | str
) -> float:
    """Mark a scenario's events as ``events`` asks (False, True or ``"lines"``).

    Returns the height of the event labels above the axes, in points.
    """
    if not events:
        return 0.0
    return _mark_events(ax, _labelled_events(source, scenario, point), labels=events != "lines")
