"""The look shared by every figure: colours, line styles, and small axis helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from ..core.world import World
    from ..experiment.source import ResultSource

#: Powers without a ``color`` in their world file (a third power, another world) take a
#: colour from this fixed colour-blind-safe list (Okabe–Ito) by their position in the world.
EXTRA_POWER_COLORS = ["#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
#: Counterfactual lines: six hues told apart easily (none of them the powers' or the
#: baseline's); past six scenarios they repeat with the next line style (and marker).
SCENARIO_COLORS = ["#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#882255", "#999933"]
SCENARIO_STYLES = ["-", "--", ":"]
SCENARIO_MARKERS = ["o", "s", "D"]
BASELINE_COLOR = "#222222"
#: The baseline drawn behind a counterfactual.
FAINT_COLOR = "#8C8C8C"
#: Factions, by position within their state (Paul Tol's "muted", colour-blind safe).
FACTION_COLORS = [
    "#332288",
    "#44AA99",
    "#999933",
    "#CC6677",
    "#882255",
    "#88CCEE",
    "#DDCC77",
    "#117733",
    "#AA4499",
]
#: Institutions' credibility lines (colour: the leader's), a distinct style per institution
#: by its position in the world.
INSTITUTION_STYLES = [
    (0, (5, 2)),
    (0, (1, 1.5)),
    (0, (6, 2, 1.5, 2)),
    (0, (2, 2.5)),
    (0, (9, 2, 1.5, 2, 1.5, 2)),
    (0, (1, 4)),
]
EVENT_COLOR = "#5A5A5A"
LABEL_SIZE = 6.5


# ---------------------------------------------------------------------------------------
# colours


def power_color(power: str, world: World) -> str:
    """Colour of a power: its ``color`` in the world file, else one by its world position.

    Parameters
    ----------
    power : str
        A power id.
    world : World
        The power's world. A power with a ``color`` there gets it; any other power gets
        `EXTRA_POWER_COLORS` by its position among the world's powers (a power not in the
        world: the first extra colour).
    """
    ids = world.power_ids
    if power not in ids:
        return EXTRA_POWER_COLORS[0]
    k = ids.index(power)
    own = world.powers[k].color
    return own if own is not None else EXTRA_POWER_COLORS[k % len(EXTRA_POWER_COLORS)]


def faction_color(faction: str, world: World) -> str:
    """Colour of a faction: `FACTION_COLORS` by its position within its state."""
    f = world.factions[world.index[faction]]
    own = [g.id for g in world.factions if g.state == f.state]
    return FACTION_COLORS[own.index(faction) % len(FACTION_COLORS)]


def balance_cmap(world: World) -> LinearSegmentedColormap:
    """Diverging colour map of the balance: second power (negative), white, first (positive).

    Both ends are the powers' own colours, so the map reads like every other figure.
    """
    a, b = world.balance
    return LinearSegmentedColormap.from_list(
        f"balance_{b}_{a}", [power_color(b, world), "#F7F7F7", power_color(a, world)]
    )


def _scenario_style(source: ResultSource, name: str) -> tuple[str, Any]:
    """Colour and line style of a scenario: dark for the baseline, else by its position."""
    if name == source.baseline:
        return BASELINE_COLOR, "-"
    others = [n for n in source.scenarios if n != source.baseline]
    color, style, _ = _scenario_look(others.index(name))
    return color, style


def _scenario_look(k: int) -> tuple[str, str, str]:
    """Colour, line style and marker of the k-th counterfactual (0-based)."""
    n = len(SCENARIO_COLORS)
    cycle = (k // n) % len(SCENARIO_STYLES)
    return SCENARIO_COLORS[k % n], SCENARIO_STYLES[cycle], SCENARIO_MARKERS[cycle]


# ---------------------------------------------------------------------------------------
# axes


def _root(ax: Axes) -> Figure:
    """The figure an Axes belongs to (the top-level one)."""
    return cast(Figure, ax.get_figure(root=True))


def _new_axes(ax: Axes | None, size: tuple[float, float] = (8.0, 5.0)) -> tuple[Axes, bool]:
    """``ax``, or the Axes of a new figure; and whether it was created here."""
    if ax is not None:
        return ax, False
    return Figure(figsize=size, layout="constrained").add_subplot(), True


def _date_axis(ax: Axes, x: np.ndarray) -> None:
    """Concise date ticks and limits at the first and last recorded dates."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlim(x[0], x[-1])


def _zero_line(ax: Axes) -> None:
    """Mark zero where it is in range (without widening the panel)."""
    lo, hi = ax.get_ylim()
    if lo < 0 < hi:
        ax.axhline(0, color="black", lw=0.6, zorder=1)


def _bare(ax: Axes) -> None:
    """No ticks and light grey spines (maps and networks)."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#BBBBBB")


def _legend_outside(ax: Axes, **kw: Any) -> None:
    """A legend beside the axes, right of them (none when nothing is labelled)."""
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=7.5,
            frameon=False,
            borderaxespad=0.0,
            **kw,
        )
