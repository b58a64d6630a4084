"""Comparison and attribution: paired effects as a forest plot, event contributions as bars."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib import transforms
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .style import _new_axes, _scenario_look

if TYPE_CHECKING:
    from ..analysis.compare import Comparison


def _forest_rows(
    eff: pd.DataFrame,
    measure: str,
    when: str | date | None,
    actors: Sequence[str] | None,
    power: str | None,
    point: int,
) -> tuple[pd.DataFrame, str, list[str]]:
    """The effects drawn (with a ``row`` label ``actor[/power]``), their date and actor order."""
    sel = eff[eff["measure"] == measure]
    if "point" in sel:
        sel = sel[sel["point"] == point]
    if sel.empty:
        raise KeyError(f"no effects for measure '{measure}' at point {point}")
    day = str(when) if when is not None else max(sel["date"].astype(str))
    sel = sel[sel["date"].astype(str) == day]
    if sel.empty:
        raise KeyError(f"no effects for {measure} on {day}")
    if power is not None:
        sel = sel[sel["power"] == power]
    pw = sel["power"].fillna("").astype(str)
    sel = sel.assign(row=sel["actor"].astype(str) + np.where(pw != "", "/" + pw, ""))
    if actors is None:
        names = sorted(set(sel["actor"]), key=lambda a: (a == "region", a))
    else:
        names = list(actors)
        sel = sel[sel["actor"].isin(names)]
    return sel, day, names


def _forest_group(
    ax: Axes,
    scen: str,
    rows: pd.DataFrame,
    color: str,
    marker: str,
    y: float,
    ticks: list[float],
    tick_labels: list[str],
) -> float:
    """One scenario's rows of the forest from ``y`` down, under a bold label; the next y.

    Appends each row's position and label to ``ticks`` and ``tick_labels``.
    """
    ax.text(
        0.005,
        y,
        scen,
        transform=transforms.blended_transform_factory(ax.transAxes, ax.transData),
        fontsize=8.5,
        fontweight="bold",
        va="center",
        ha="left",
        color=color,
        gid="group_label",
    )
    y += 1
    means = rows["mean"].to_numpy(float)
    lows, highs = rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float)
    for row, mean, low, high in zip(rows["row"], means, lows, highs, strict=True):
        excludes = low > 0 or high < 0
        ax.errorbar(
            mean,
            y,
            xerr=[[mean - low], [high - mean]],
            fmt=marker,
            ms=4.5,
            color=color,
            mfc=color if excludes else "white",
            mec=color,
            elinewidth=1.4,
            capsize=2.5,
            label=f"{scen}: {row}",
        )
        ticks.append(y)
        tick_labels.append(str(row))
        y += 1
    return y


def effects_forest(
    comparison: Comparison | pd.DataFrame,
    *,
    measure: str = "balance",
    date: str | date | None = None,
    actors: Sequence[str] | None = None,
    power: str | None = None,
    scenarios: Sequence[str] | None = None,
    point: int = 0,
    ax: Axes | None = None,
) -> Axes:
    """Forest plot of paired differences from the baseline, with 95% confidence intervals.

    One row per (scenario, actor): the mean paired difference as a point and its bootstrap
    interval as a horizontal error bar, grouped by scenario (a bold label over each group).
    A filled marker means the interval excludes 0, an open one that it includes 0.

    Parameters
    ----------
    comparison : Comparison or pandas.DataFrame
        From `influence_sim.compare` (its ``effects``), or that frame.
    measure : str
        The measure (``balance``, ``alignment``, ``corridor``).
    date : str or datetime.date, optional
        The date (default: the latest date present, i.e. the horizon).
    actors : sequence of str, optional
        Actors to show, in that order (default: all, ``region`` last).
    power : str, optional
        For per-power measures (alignment): keep one power (default: every power, labelled
        ``actor/power``).
    scenarios : sequence of str, optional
        Scenario order and colours (pass the store's ``scenarios`` to match `balance_panels`;
        default: order of first appearance, i.e. of the largest effect).
    point : int
        Design point.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    eff = comparison if isinstance(comparison, pd.DataFrame) else comparison.effects
    sel, when, names = _forest_rows(eff, measure, date, actors, power, point)
    known = set(eff["scenario"])  # every counterfactual of the comparison: fixes the colours
    looks = list(dict.fromkeys(eff["scenario"])) if scenarios is None else list(scenarios)
    looks = [s for s in looks if s in known]
    order = [s for s in looks if s in set(sel["scenario"])]
    ax, created = _new_axes(ax, size=(7.0, 0.24 * (len(sel) + 2 * len(order)) + 1.4))
    y = 0.0
    ticks: list[float] = []
    tick_labels: list[str] = []
    for scen in order:
        rows = sel[sel["scenario"] == scen]
        rows = rows.assign(_o=rows["actor"].map({a: j for j, a in enumerate(names)})).sort_values(
            ["_o", "row"], kind="stable"
        )
        color, _, marker = _scenario_look(looks.index(scen))
        y = _forest_group(ax, scen, rows, color, marker, y, ticks, tick_labels) + 0.6
    ax.axvline(0, color="black", lw=0.8, zorder=1.5)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.set_yticks(ticks, tick_labels, fontsize=8)
    ax.set_ylim(y - 0.4, -0.8)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="#E5E5E5", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel(
        f"difference from baseline ({measure} on {when}; mean of paired differences and 95% CI)",
        fontsize=9,
    )
    if created:
        ax.set_title(
            "Effects of each scenario (filled: the interval excludes 0)", fontsize=10, loc="left"
        )
    return ax


def _fired_note(fired: Any) -> str:
    """`` (fired in 40%)`` or `` (never fired)`` for an event that did not always fire."""
    if isinstance(fired, float) and not np.isnan(fired) and fired < 1:
        return " (never fired)" if fired == 0 else f" (fired in {fired:.0%})"
    return ""


def _contribution_bars(
    ax: Axes,
    rows: pd.DataFrame,
    ys: np.ndarray,
    colors: tuple[str, str],
    hatch: str | None,
    gid: str,
) -> None:
    """Bars of mean contributions with CI error bars (hatched outlines for the totals)."""
    pos, neg = colors
    m = rows["mean"].to_numpy(float)
    err = np.vstack([m - rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float) - m])
    fill = [pos if v >= 0 else neg for v in m]
    ax.barh(
        ys,
        m,
        height=0.65,
        color="white" if hatch else fill,
        edgecolor=fill if hatch else "none",
        hatch=hatch,
        lw=1.0,
        xerr=err,
        error_kw={"ecolor": "black", "elinewidth": 0.9, "capsize": 2.5},
        gid=gid,
    )


def _attribution_legend(ax: Axes, colors: tuple[str, str]) -> None:
    """Positive, negative and totals, below the axes."""
    pos, neg = colors
    handles = [
        Patch(color=pos, label="positive"),
        Patch(color=neg, label="negative"),
        Patch(facecolor="white", edgecolor="#555555", hatch="////", label="totals"),
    ]
    ax.legend(
        handles=handles,
        fontsize=7.5,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.13),
        ncols=3,
        frameon=False,
    )


def attribution_chart(
    contributions: pd.DataFrame,
    *,
    ax: Axes | None = None,
    top: int | None = None,
    colors: tuple[str, str] = ("#4D4D4D", "#B8B8B8"),
    xlabel: str | None = None,
) -> Axes:
    """Horizontal bars of each event's mean contribution with 95% CI error bars.

    Parameters
    ----------
    contributions : pandas.DataFrame
        The first frame `influence_sim.explain` returns: columns ``event``, ``mean``,
        ``ci_low``, ``ci_high``, ``fired``; its last two rows ``(all events)`` and
        ``(sum of contributions)`` are drawn apart, hatched, below a separating line.
    ax : matplotlib Axes, optional
    top : int, optional
        Show only the ``top`` events with the largest absolute contribution (the two summary
        rows are always shown).
    colors : (str, str)
        Bar colours of positive and negative contributions (pass the powers' colours for a
        balance: positive toward the first balance power).
    xlabel : str, optional
        The x label (default: a generic description of a contribution).

    Returns
    -------
    matplotlib.axes.Axes
    """
    summary_ids = ("(all events)", "(sum of contributions)")
    body = contributions[~contributions["event"].isin(summary_ids)]
    body = body.reindex(body["mean"].abs().sort_values(ascending=False, kind="stable").index)
    if top is not None:
        body = body.head(top)
    tail = contributions[contributions["event"].isin(summary_ids)]
    n = len(body)
    ax, created = _new_axes(ax, size=(8.0, 0.3 * (n + 2) + 2.0))
    yb = np.arange(n, dtype=float)
    ys = n + 0.8 + np.arange(len(tail), dtype=float)
    if n:
        _contribution_bars(ax, body, yb, colors, None, "events")
    if len(tail):
        _contribution_bars(ax, tail, ys, colors, "////", "summary")
        ax.axhline(n - 0.1, color="#777777", lw=0.8, ls="--")
    fired = body["fired"] if "fired" in body else pd.Series(np.nan, index=body.index)
    labels = [f"{e}{_fired_note(f)}" for e, f in zip(body["event"], fired, strict=True)]
    labels += list(tail["event"])
    ax.set_yticks(np.concatenate([yb, ys]), labels, fontsize=8)
    ax.set_ylim(ys[-1] + 0.6 if len(tail) else n - 0.4, -0.6)
    ax.axvline(0, color="black", lw=0.8)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="#E5E5E5", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel(
        xlabel or "mean contribution (outcome with all events \u2212 without the event), 95% CI",
        fontsize=9,
    )
    _attribution_legend(ax, colors)
    if created:
        ax.set_title(
            "Attribution: each event's contribution\n(leave-one-out, paired replicates)",
            fontsize=10,
            loc="left",
        )
    return ax
