"""The factions of one state: stacked shares, who leads, and each faction's spread."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .data import _name, scenario_events
from .marks import _draw_events, _fan, _mark_events
from .style import _date_axis, _legend_outside, _new_axes, faction_color

if TYPE_CHECKING:
    from ..core.world import Faction, World
    from ..experiment.source import ResultSource


def _state_factions(world: World, state: str) -> list[Faction]:
    """The factions of a state, in world order (KeyError for an unknown state)."""
    if state not in world.state_ids:
        raise KeyError(f"no state '{state}' (have {', '.join(world.state_ids)})")
    return [f for f in world.factions if f.state == state]


def _short(name: str) -> str:
    """A faction's name without its parenthesis, for legends."""
    return name.split(" (", 1)[0]


def _faction_block(
    source: ResultSource, state: str, scenario: str | None, point: int
) -> tuple[str, World, list[Faction], np.ndarray, np.ndarray]:
    """Scenario name, world, the state's factions, dates (T,) and their shares (T, R, K)."""
    name = _name(source, scenario)
    world = source.world(name)
    facs = _state_factions(world, state)
    x, vals, labels = source.block("share", name, point)
    cols = [labels.index(f.id) for f in facs]
    return name, world, facs, x, vals[:, :, cols]


def faction_shares(
    source: ResultSource,
    state: str,
    *,
    scenario: str | None = None,
    point: int = 0,
    events: bool | str = True,
    ax: Axes | None = None,
    legend: bool = True,
) -> Axes:
    """Stacked areas of the median power share of each faction of one state over time.

    The median of each faction's share is taken across replicates separately, so the
    medians need not sum to 1; they are **renormalised to sum to 1 at each date** before
    stacking (the y label says so). For the spread across replicates see `faction_leaders`
    and `faction_share_quantiles`.

    Parameters
    ----------
    source : ResultSource
        A run or an experiment store.
    state : str
        A state id.
    scenario : str, optional
        For a store: the scenario (default: the baseline).
    point : int
        For a store: the design point.
    events : bool or "lines"
        Mark event dates (see `fan_chart`).
    ax : matplotlib Axes, optional
        Where to draw.
    legend : bool
        Draw a legend (factions top to bottom as stacked) beside the axes.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax, _ = _new_axes(ax)
    name, world, facs, x, vals = _faction_block(source, state, scenario, point)
    med = np.median(vals, axis=1)  # (T, K)
    total = med.sum(axis=1, keepdims=True)
    med = np.divide(med, total, out=np.full_like(med, 1.0 / med.shape[1]), where=total > 0)
    ax.stackplot(
        x,
        med.T,
        colors=[faction_color(f.id, world) for f in facs],
        labels=[_short(f.name) for f in facs],
        edgecolor="white",
        lw=0.4,
    )
    _date_axis(ax, x)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of power in " + state + "\n(medians, rescaled to sum to 1)")
    pad = _draw_events(ax, source, name, point, events)
    ax.set_title(f"Factions of {state}: {name}", fontsize=10, pad=pad + 3)
    if legend:
        _legend_outside(ax, reverse=True)
    return ax


def faction_leaders(
    source: ResultSource,
    state: str,
    *,
    scenario: str | None = None,
    point: int = 0,
    events: bool | str = True,
    ax: Axes | None = None,
    legend: bool = True,
) -> Axes:
    """Share of replicates in which each faction of a state holds the largest share.

    One line per faction, in [0, 1] at every date (the lines sum to 1: ties go to the
    faction listed first in the world file).

    Parameters
    ----------
    source : ResultSource
        A run or an experiment store.
    state : str
        A state id.
    scenario, point, events, ax, legend
        As in `faction_shares`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax, _ = _new_axes(ax)
    name, world, facs, x, vals = _faction_block(source, state, scenario, point)
    top = vals.argmax(axis=2)  # (T, R)
    for k, f in enumerate(facs):
        ax.plot(
            x,
            (top == k).mean(axis=1),
            color=faction_color(f.id, world),
            lw=1.6,
            label=_short(f.name),
        )
    _date_axis(ax, x)
    ax.set_ylim(-0.03, 1.03)
    ax.set_ylabel("share of replicates in which\nthe faction is the largest")
    pad = _draw_events(ax, source, name, point, events)
    ax.set_title(f"Leading faction of {state}: {name}", fontsize=10, pad=pad + 3)
    if legend:
        _legend_outside(ax)
    return ax


def faction_share_quantiles(
    source: ResultSource,
    state: str,
    *,
    scenario: str | None = None,
    point: int = 0,
    ncols: int = 3,
) -> Figure:
    """Small multiples, one panel per faction of a state: median share with 50%/90% bands.

    Each panel has its own y scale (the factions' shares differ in size). Event dates are
    marked with thin lines.

    Parameters
    ----------
    source : ResultSource
        A run or an experiment store.
    state : str
        A state id.
    scenario, point
        As in `faction_shares`.
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    name, world, facs, x, vals = _faction_block(source, state, scenario, point)
    ncols = min(ncols, len(facs))
    nrows = -(-len(facs) // ncols)
    fig = Figure(figsize=(3.8 * ncols, 2.6 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    evs = [(e, d) for e, d, _ in scenario_events(source, name, point=point)]
    for k, (ax, f) in enumerate(zip(axes, facs, strict=False)):
        _fan(ax, x, vals[:, :, k], color=faction_color(f.id, world), label="median")
        _date_axis(ax, x)
        _mark_events(ax, evs, labels=False)
        ax.set_title(f"{_short(f.name)} ({f.id})", fontsize=9)
        ax.tick_params(axis="both", labelsize=7.5)
    for ax in axes[len(facs) :]:
        ax.set_visible(False)
    fig.supylabel("share of power", fontsize=9)
    fig.suptitle(
        f"Power shares of the factions of {state} ({name}): median with 50% and 90% bands "
        "across replicates; dashed lines: events; own y scales",
        fontsize=9.5,
    )
    return fig
