"""The schematic regional map: states as discs coloured by a measure, powers as squares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Circle
from matplotlib.text import Text

from .data import _name
from .style import _bare, _new_axes, _root, balance_cmap, power_color

if TYPE_CHECKING:
    from ..core.world import Power, State, World
    from ..experiment.source import ResultSource

#: A rectangle (x0, y0, x1, y1) in data units.
Box = tuple[float, float, float, float]
#: A position (lon, lat).
Point = tuple[float, float]


def _pick_date(x: np.ndarray, when: Any) -> int:
    """Index of ``when`` among the recorded dates (the last one on or before it)."""
    if when is None:
        return len(x) - 1
    d = np.datetime64(when, "D")
    k = int(np.searchsorted(x, d, side="right")) - 1
    if k < 0:
        raise ValueError(f"{when} is before the first recorded date {x[0]}")
    return k


def _map_norm(values: np.ndarray) -> Normalize:
    """A symmetric norm centred on 0 (at least +-0.05)."""
    m = max(float(np.nanmax(np.abs(values))) if len(values) else 0.0, 0.05)
    return Normalize(-m, m)


def _label_spot(
    cx: float, cy: float, r: float, w: float, h: float, pad: float, taken: list[Box], frame: Box
) -> tuple[float, float, str, str]:
    """Where to put a w x h label beside a disc at (cx, cy), clear of ``taken`` and in frame.

    Tries right, left, below, above, then the corners; returns (x0, y0, ha, va) of the
    label's lower-left corner and alignment.
    """
    d = (r + pad) / np.sqrt(2)
    options = [
        (cx + r + pad, cy - h / 2, "left", "center"),
        (cx - r - pad - w, cy - h / 2, "right", "center"),
        (cx - w / 2, cy - r - pad - h, "center", "top"),
        (cx - w / 2, cy + r + pad, "center", "bottom"),
        (cx + d, cy + d, "left", "bottom"),
        (cx - d - w, cy + d, "right", "bottom"),
        (cx + d, cy - d - h, "left", "top"),
        (cx - d - w, cy - d - h, "right", "top"),
    ]

    def free(x0: float, y0: float) -> bool:
        if x0 < frame[0] or y0 < frame[1] or x0 + w > frame[2] or y0 + h > frame[3]:
            return False
        return not any(
            x0 < tx1 and x0 + w > tx0 and y0 < ty1 and y0 + h > ty0 for tx0, ty0, tx1, ty1 in taken
        )

    return next((o for o in options if free(o[0], o[1])), options[0])


@dataclass
class _Canvas:
    """A map's Axes and what its labels need: occupied boxes, the frame, data units per pt."""

    ax: Axes
    taken: list[Box]
    frame: Box
    per_pt: float

    def label(self, xy: Sequence[float], r: float, text: str, **kw: Any) -> Text:
        """Write ``text`` beside a marker of radius r at ``xy`` where it hits nothing."""
        cx, cy = xy
        size = kw.get("fontsize", 7.5)
        lines = text.split("\n")
        w = (0.62 * size * max(len(t) for t in lines) + 2) * self.per_pt
        h = (1.2 * size * len(lines) + 1) * self.per_pt
        x0, y0, ha, va = _label_spot(cx, cy, r, w, h, 2.5 * self.per_pt, self.taken, self.frame)
        self.taken.append((x0, y0, x0 + w, y0 + h))
        tx = {"left": x0, "right": x0 + w, "center": x0 + w / 2}[ha]
        ty = {"center": y0 + h / 2, "bottom": y0, "top": y0 + h}[va]
        return self.ax.text(tx, ty, text, ha=ha, va=va, zorder=5, linespacing=1.05, **kw)


def _signed(v: float) -> str:
    """A value with its sign, two decimals, typographic minus."""
    return f"{v:+.2f}".replace("-", "\u2212")


def _placed(world: World) -> tuple[list[tuple[State, Point]], list[tuple[Power, Point]]]:
    """States and powers that have a position, with it."""
    states = [(s, s.position) for s in world.states if s.position is not None]
    powers = [(p, p.position) for p in world.powers if p.position is not None]
    return states, powers


def _state_radii(states: list[tuple[State, Point]], span: float) -> tuple[np.ndarray, float]:
    """Disc radius per placed state (area ~ population) and the largest radius.

    The largest radius keeps discs from touching and small against the extent.
    """
    pops = np.array([s.population for s, _ in states])
    rel = np.sqrt(pops / pops.max()) if len(pops) else pops  # radius ~ sqrt(population)
    r_max = 0.09 * span
    for i in range(len(states)):
        for j in range(i + 1, len(states)):
            d = float(np.hypot(*np.subtract(states[i][1], states[j][1])))
            r_max = min(r_max, 0.92 * d / (rel[i] + rel[j]))
    return r_max * rel, r_max


def _map_canvas(ax: Axes, world: World) -> tuple[_Canvas, np.ndarray]:
    """Set the map's extent on ``ax``; return its label canvas and the states' disc radii."""
    states, powers = _placed(world)
    pts = np.array([xy for _, xy in states] + [xy for _, xy in powers], float)
    span = float(np.ptp(pts, axis=0).max()) if len(pts) > 1 else 10.0
    radius, r_max = _state_radii(states, span)
    lo = pts.min(axis=0) - r_max - 0.1 * span
    hi = pts.max(axis=0) + r_max + 0.1 * span
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal", adjustable="box")
    _bare(ax)
    # data units per point, to size labels (estimated before layout)
    fig = _root(ax)
    bb = ax.get_position()
    w_pt, h_pt = fig.get_figwidth() * bb.width * 72, fig.get_figheight() * bb.height * 72
    per_pt = max((hi[0] - lo[0]) / w_pt, (hi[1] - lo[1]) / h_pt)
    frame = (lo[0], lo[1], hi[0], hi[1] - 12 * per_pt)  # keep the top line for the region
    sq = 6 * per_pt  # half side of a power's square
    taken: list[Box] = [
        (x - r, y - r, x + r, y + r) for (_, (x, y)), r in zip(states, radius, strict=True)
    ]
    taken += [(x - sq, y - sq, x + sq, y + sq) for _, (x, y) in powers]
    return _Canvas(ax, taken, frame, per_pt), radius


def _draw_map(
    ax: Axes, world: World, values: dict[str, float], norm: Normalize, cmap: Colormap
) -> None:
    """States as discs coloured by value, powers as squares, on schematic lon/lat axes."""
    canvas, radius = _map_canvas(ax, world)
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    states, powers = _placed(world)
    for (s, xy), r in zip(states, radius, strict=True):
        v = values.get(s.id, np.nan)
        ax.add_patch(
            Circle(
                xy,
                r,
                facecolor=cmap(norm(v)) if np.isfinite(v) else "#DDDDDD",
                edgecolor="#333333",
                lw=0.8,
                zorder=3,
                gid=f"state:{s.id}",
            )
        )
        text = f"{s.id}\n{_signed(v)}" if np.isfinite(v) else s.id
        canvas.label(xy, r, text, fontsize=7.5, path_effects=halo, gid=f"label:{s.id}")
    sq = 6 * canvas.per_pt
    for p, xy in powers:
        ax.scatter(
            [xy[0]],
            [xy[1]],
            marker="s",
            s=110,
            color=power_color(p.id, world),
            edgecolor="black",
            lw=0.6,
            zorder=4,
            gid=f"power:{p.id}",
        )
        canvas.label(
            xy,
            sq,
            f"{p.name} ({p.id})",
            fontsize=8,
            fontweight="bold",
            color=power_color(p.id, world),
            path_effects=halo,
        )
    ax.set_xlabel(
        "schematic; positions approximate; disc area \u221d population",
        fontsize=6.5,
        style="italic",
        color="#555555",
        labelpad=2,
    )


def _balance_cbar_label(world: World, measure: str) -> str:
    """The colour bar's label: which end points toward which power."""
    a, b = world.balance
    names = {p.id: p.name for p in world.powers}
    if measure != "balance":
        return f"median {measure}"
    return f"median balance   \u2190 toward {names[b]} ({b})  |  toward {names[a]} ({a}) \u2192"


def regional_map(
    source: ResultSource,
    *,
    measure: str = "balance",
    date: str | date | None = None,
    scenario: str | None = None,
    point: int = 0,
    ax: Axes | None = None,
    norm: Normalize | None = None,
    colorbar: bool = True,
) -> Axes:
    """Schematic map: states as circles at their positions, coloured by the median balance.

    Circles sit at each state's world ``position`` (lon, lat) with area proportional to its
    population; colour: the median across replicates of the measure at the date, on a
    diverging map centred at 0 whose ends are the two balance powers' colours (positive: the
    first). Labels give the state id and value; the powers are squares in their colours.

    Parameters
    ----------
    source : ResultSource
        A run or an experiment store.
    measure : str
        A per-state measure (``balance``).
    date : str or datetime.date, optional
        The date (default: the horizon); the last recorded date on or before it is used
        (shown in the title).
    scenario, point
        For a store: scenario (default baseline) and design point.
    ax : matplotlib Axes, optional
    norm : matplotlib Normalize, optional
        Colour scale (default: symmetric about 0, at least +-0.05).
    colorbar : bool
        Add a horizontal colour bar below.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax, _ = _new_axes(ax, size=(6.2, 5.6))
    name = _name(source, scenario)
    world = source.world(name)
    x, vals, labels = source.block(measure, name, point)
    k = _pick_date(x, date)
    values = {lb: float(v) for lb, v in zip(labels, np.median(vals[k], axis=0), strict=True)}
    norm = norm or _map_norm(np.array([values[s] for s in world.state_ids if s in values]))
    cmap = balance_cmap(world)
    _draw_map(ax, world, values, norm, cmap)
    if "region" in values:
        ax.text(
            0.99,
            0.99,
            "region (population-weighted): " + _signed(values["region"]),
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=7.5,
        )
    ax.set_title(f"{name}, {x[k]}", fontsize=10)
    if colorbar:
        cb = _root(ax).colorbar(
            ScalarMappable(norm=norm, cmap=cmap), ax=ax, location="bottom", shrink=0.85, pad=0.02
        )
        cb.set_label(_balance_cbar_label(world, measure), fontsize=8)
        cb.ax.tick_params(labelsize=7.5)
    return ax


def _map_aspect(world: World) -> float:
    """Height over width of the map's extent (clipped to [0.4, 1.5]), to size panels."""
    pts = np.array(
        [
            p
            for p in [*(s.position for s in world.states), *(p.position for p in world.powers)]
            if p is not None
        ]
    )
    span = np.ptp(pts, axis=0) if len(pts) > 1 else np.ones(2)
    return float(np.clip((span[1] + 0.3 * span.max()) / (span[0] + 0.3 * span.max()), 0.4, 1.5))


def regional_map_panels(
    source: ResultSource,
    dates: Sequence[str | date | np.datetime64],
    *,
    measure: str = "balance",
    scenario: str | None = None,
    point: int = 0,
    ncols: int = 2,
) -> Figure:
    """Small multiples of `regional_map` at chosen dates with one shared colour bar.

    Parameters
    ----------
    source : ResultSource
        A run or an experiment store.
    dates : sequence of dates
        The dates (each rounded down to a recorded date).
    measure, scenario, point
        As in `regional_map`.
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    name = _name(source, scenario)
    world = source.world(name)
    x, vals, labels = source.block(measure, name, point)
    idx = [_pick_date(x, d) for d in dates]
    if not idx:
        raise ValueError("regional_map_panels needs at least one date")
    cols = [labels.index(s) for s in world.state_ids]
    meds = np.median(vals[idx][:, :, cols], axis=1)  # (D, S)
    norm = _map_norm(meds.ravel())
    ncols = min(ncols, len(idx))
    nrows = -(-len(idx) // ncols)
    # size panels to the map's own aspect, so equal-aspect boxes fill their slots and
    # constrained layout keeps the titles apart (a one-row grid of 4.1-inch-high slots did not)
    aspect = _map_aspect(world)
    fig = Figure(figsize=(5.0 * ncols, (5.0 * aspect + 0.7) * nrows + 1.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, k in zip(axes, idx, strict=False):
        regional_map(
            source,
            measure=measure,
            date=x[k],
            scenario=name,
            point=point,
            ax=ax,
            norm=norm,
            colorbar=False,
        )
        note = " (start)" if k == 0 else (" (horizon)" if k == len(x) - 1 else "")
        ax.set_title(f"{x[k]}{note}", fontsize=10)
    for ax in axes[len(idx) :]:
        ax.set_visible(False)
    cb = fig.colorbar(
        ScalarMappable(norm=norm, cmap=balance_cmap(world)),
        ax=list(axes[: len(idx)]),
        location="bottom",
        shrink=0.5,
        aspect=40,
    )
    cb.set_label(_balance_cbar_label(world, measure), fontsize=9)
    fig.suptitle(
        f"{name}: median {measure} across replicates by state (one colour scale)", fontsize=10
    )
    return fig
