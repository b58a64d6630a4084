"""Scenario discovery (`influence_sim.analysis.discovery`): PRIM's trade-off and box limits.

`tradeoff` draws the peeling trajectory as coverage against density, `box_limits` the chosen
box's restrictions against each input's full range. Both read only a `Discovery`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .style import FAINT_COLOR, _new_axes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..analysis.discovery import Discovery
    from ..analysis.sensitivity import Space

__all__ = ["box_limits", "discovery_panels", "tradeoff"]

#: The chosen box's limits (Okabe-Ito blue) and the ring round it on the trade-off.
BOX_COLOR = "#0072B2"
CHOSEN_COLOR = "#D55E00"
#: A full range behind a box's limits.
RANGE_COLOR = "#E8E8E8"
#: Quasi-p-values at or above this are greyed: the restriction may be chance.
SIGNIFICANT = 0.05


def _restricted_colors(most: int) -> list[Any]:
    """One colour per number of restricted inputs, 0 to ``most`` (viridis: colour-blind safe)."""
    cmap = colormaps["viridis"]
    return [cmap(0.88 * k / max(most, 1)) for k in range(most + 1)]


def tradeoff(discovery: Discovery, ax: Axes | None = None) -> Axes:
    """Coverage against density along PRIM's peeling trajectory, the chosen box marked.

    Each step of the trajectory is a point, coloured by the number of inputs its box
    restricts, joined to the next by a faint line; the chosen box is ringed and labelled with
    its step, coverage, density and restricted inputs. A dashed line marks the density
    threshold and a dotted one the least coverage of the box chosen by default.

    Parameters
    ----------
    discovery : Discovery
        From `influence_sim.analysis.discovery.prim`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax, created = _new_axes(ax, size=(6.4, 4.6))
    traj = discovery.trajectory
    cov, den = traj["coverage"].to_numpy(float), traj["density"].to_numpy(float)
    res = traj["restricted"].to_numpy(int)
    colors = _restricted_colors(int(res.max()))
    ax.plot(cov, den, color=FAINT_COLOR, lw=0.8, zorder=1, gid="trajectory")
    for k in np.unique(res):
        on = res == k
        ax.scatter(
            cov[on],
            den[on],
            s=22,
            color=colors[k],
            edgecolor="white",
            linewidth=0.4,
            zorder=2,
            label=str(k),
            gid=f"restricted:{k}",
        )
    ax.axhline(discovery.threshold, color="#444444", ls="--", lw=0.9, zorder=1, gid="threshold")
    ax.axvline(
        discovery.min_coverage, color="#444444", ls=":", lw=0.9, zorder=1, gid="min_coverage"
    )
    c, d = discovery.coverage, discovery.density
    ax.scatter(
        [c],
        [d],
        s=130,
        facecolor="none",
        edgecolor=CHOSEN_COLOR,
        linewidth=1.8,
        zorder=3,
        gid="chosen",
    )
    names = ", ".join(discovery.restricted) or "no input"
    if len(names) > 40:
        names = f"{len(discovery.restricted)} inputs"
    low = float(min(cov.min(), discovery.min_coverage))
    ax.set_xlim(max(0.0, low - 0.05), 1.02)
    ax.set_ylim(max(0.0, float(den.min()) - 0.05), 1.03)
    # the label goes toward the middle of the panel, so it stays inside it
    x0, x1 = ax.get_xlim()
    right = (c - x0) / (x1 - x0) < 0.5
    ax.annotate(
        f"box {discovery.chosen}: coverage {c:.0%}, density {d:.0%}\nrestricts {names}",
        xy=(c, d),
        xytext=(12 if right else -12, -20),
        textcoords="offset points",
        ha="left" if right else "right",
        va="top",
        fontsize=8,
        color=CHOSEN_COLOR,
        arrowprops={"arrowstyle": "-", "color": CHOSEN_COLOR, "lw": 0.8},
        gid="chosen_label",
    )
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    ax.grid(color="#EEEEEE", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel("coverage (share of the cases of interest inside the box)", fontsize=9)
    ax.set_ylabel("density (share of the box that are cases of interest)", fontsize=9)
    handles, labels = ax.get_legend_handles_labels()
    handles += [
        Line2D([], [], color="#444444", ls="--", lw=0.9),
        Line2D([], [], color="#444444", ls=":", lw=0.9),
    ]
    labels += [
        f"density threshold {discovery.threshold:.0%}",
        f"least coverage {discovery.min_coverage:.0%}",
    ]
    ax.legend(
        handles,
        labels,
        title="restricted inputs",
        title_fontsize=7.5,
        fontsize=7.5,
        loc="best",
        frameon=True,
        framealpha=0.9,
        edgecolor="#DDDDDD",
        ncols=2 if len(labels) > 8 else 1,
    )
    if created:
        ax.set_title(
            f"PRIM peeling trajectory: {discovery.cases:,} cases of interest in "
            f"{discovery.n:,} rows",
            fontsize=10,
            loc="left",
        )
    return ax


def box_limits(
    discovery: Discovery,
    space_bounds: Space | Mapping[str, tuple[float, float]] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """The chosen box's range on each restricted input, against the input's full range.

    One row per restricted input (most significant at the top): a grey bar for the full
    range, normalised to 0-1, and over it the box's range, labelled with its limits (one
    limit for a one-sided restriction); the quasi-p-value of the restriction is written at
    the right, in grey italics from 0.05 up (a restriction that chance could explain).

    Parameters
    ----------
    discovery : Discovery
        From `influence_sim.analysis.discovery.prim`.
    space_bounds : Space or mapping of input name to (low, high), optional
        The inputs' full ranges (default: the data's, `Discovery.ranges`). A side of the box
        that PRIM left unrestricted reaches the full range's end.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    limits = discovery.limits
    ax, created = _new_axes(ax, size=(6.4, 0.55 * max(len(limits), 1) + 1.4))
    bounds = _bounds(discovery, space_bounds)
    for y, (name, row) in enumerate(limits.iterrows()):
        lo, hi = bounds[str(name)]
        data_lo, data_hi = discovery.ranges.loc[name, ["low", "high"]]
        low = lo if row["low"] <= data_lo else float(row["low"])
        high = hi if row["high"] >= data_hi else float(row["high"])
        a, b = (low - lo) / (hi - lo), (high - lo) / (hi - lo)
        ax.barh(y, 1.0, height=0.5, color=RANGE_COLOR, edgecolor="#BBBBBB", lw=0.6, zorder=1)
        ax.barh(
            y, b - a, left=a, height=0.5, color=BOX_COLOR, alpha=0.85, zorder=2, gid=f"box:{name}"
        )
        if row["low"] <= data_lo:
            text = f"\u2264 {_num(high)}"
        elif row["high"] >= data_hi:
            text = f"\u2265 {_num(low)}"
        else:
            text = f"{_num(low)} to {_num(high)}"
        ax.text(
            (a + b) / 2,
            y - 0.3,
            text,
            ha="center",
            va="bottom",
            fontsize=7.5,
            color=BOX_COLOR,
            gid="limit_label",
        )
        qp = float(row["qp"])
        ax.text(
            1.03,
            y,
            f"quasi-p {_p(qp)}",
            ha="left",
            va="center",
            fontsize=7.5,
            color="#222222" if qp < SIGNIFICANT else "#8C8C8C",
            style="normal" if qp < SIGNIFICANT else "italic",
            gid="qp",
        )
    if limits.empty:
        ax.text(
            0.5,
            0.5,
            f"box {discovery.chosen} restricts no input",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=9,
            color="#555555",
            gid="no_restriction",
        )
    ax.set_yticks(range(len(limits)), [str(n) for n in limits.index], fontsize=8.5)
    ax.set_ylim(len(limits) - 0.4, -0.85)
    ax.set_xlim(0.0, 1.0)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["low", "", "", "", "high"], fontsize=8)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("each input's full range, normalised to 0-1", fontsize=9)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if created:
        ax.set_title(
            f"Box {discovery.chosen}: coverage {discovery.coverage:.0%}, density "
            f"{discovery.density:.0%}, mass {discovery.mass:.0%}",
            fontsize=10,
            loc="left",
        )
    return ax


def _bounds(
    discovery: Discovery, space_bounds: Space | Mapping[str, tuple[float, float]] | None
) -> dict[str, tuple[float, float]]:
    """Each restricted input's full range: the space's, else the data's."""
    data = {str(n): (float(r["low"]), float(r["high"])) for n, r in discovery.ranges.iterrows()}
    if space_bounds is None:
        given: dict[str, tuple[float, float]] = {}
    elif isinstance(space_bounds, Mapping):
        given = {str(k): (float(v[0]), float(v[1])) for k, v in space_bounds.items()}
    else:
        given = {
            n: (float(b[0]), float(b[1]))
            for n, b in zip(space_bounds.names, space_bounds.bounds, strict=True)
        }
    out = {}
    for name in discovery.restricted:
        lo, hi = given.get(name, data[name])
        lo, hi = min(lo, data[name][0]), max(hi, data[name][1])
        out[name] = (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)
    return out


def _num(value: float) -> str:
    """A limit for a label: three significant digits."""
    return f"{value:.3g}"


def _p(value: float) -> str:
    """A quasi-p-value for a label."""
    return f"{value:.2g}" if value >= 1e-3 else f"{value:.0e}"


def discovery_panels(
    discovery: Discovery,
    space_bounds: Space | Mapping[str, tuple[float, float]] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """The trade-off and the chosen box's limits side by side (a Figure, without pyplot)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 5.2), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.15])
    tradeoff(discovery, ax=left)
    box_limits(discovery, space_bounds=space_bounds, ax=right)
    if title:
        fig.suptitle(title)
    return fig
