"""Regional maps: the schematic map (states as discs, powers as squares) and the choropleth.

`regional_map` places each state as a disc at its world ``position``; `choropleth` draws the
countries' real outlines (Natural Earth 1:110m, shipped as package data in
``data/boundaries/``) on the same diverging colour scale.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Circle, PathPatch
from matplotlib.path import Path
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


def _balance_cbar_label(world: World, measure: str, stat: str = "median ") -> str:
    """The colour bar's label: which end points toward which power."""
    a, b = world.balance
    names = {p.id: p.name for p in world.powers}
    if measure != "balance":
        return f"{stat}{measure}"
    return f"{stat}balance   \u2190 toward {names[b]} ({b})  |  toward {names[a]} ({a}) \u2192"


def _medians(
    source: ResultSource, measure: str, scenario: str | None, point: int, date: str | date | None
) -> tuple[str, World, np.ndarray, int, dict[str, float]]:
    """Scenario name, world, dates, the date's position and each series' median there."""
    name = _name(source, scenario)
    world = source.world(name)
    x, vals, labels = source.block(measure, name, point)
    k = _pick_date(x, date)
    values = {lb: float(v) for lb, v in zip(labels, np.median(vals[k], axis=0), strict=True)}
    return name, world, x, k, values


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
    name, world, x, k, values = _medians(source, measure, scenario, point, date)
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
    outlines: bool | None = None,
) -> Figure:
    """Small multiples of the map at chosen dates with one shared colour bar.

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
    outlines : bool, optional
        Draw country outlines (`choropleth`) or the schematic circles (`regional_map`).
        Default: outlines when they are shipped for the world (`boundaries`).

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
    if outlines is None:
        try:
            boundaries(world.name)
            outlines = True
        except KeyError:
            outlines = False
    if outlines:
        x0, y0, x1, y1 = _choropleth_frame(world, boundaries(world.name))
        aspect = float(np.clip((y1 - y0) / (x1 - x0), 0.4, 1.5))
    else:
        aspect = _map_aspect(world)
    draw = choropleth if outlines else regional_map
    fig = Figure(figsize=(5.0 * ncols, (5.0 * aspect + 0.7) * nrows + 1.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, k in zip(axes, idx, strict=False):
        draw(
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


# ---------------------------------------------------------------------------------------
# the choropleth: country outlines (Natural Earth 1:110m, package data)

#: Fill of countries outside the world (context) and of water (the axes' background).
CONTEXT_FILL = "#F1F1EE"
CONTEXT_EDGE = "#C8C8C8"
WATER = "#E6EEF4"
#: Fill of the powers' own territory (neutral, so it never reads as a value on the scale;
#: the power's colour is in its hatching, its outline and its name).
POWER_FILL = "#F4F4F1"


@dataclass(frozen=True)
class Outline:
    """One country's outline: its name and closed rings of (lon, lat), as float arrays."""

    name: str
    rings: tuple[np.ndarray, ...]

    @property
    def path(self) -> Path:
        """All rings as one compound matplotlib Path (each ring a closed sub-path)."""
        return Path.make_compound_path(*(Path(r, closed=True) for r in self.rings))

    @property
    def bounds(self) -> Box:
        """(lon0, lat0, lon1, lat1) of all rings."""
        pts = np.concatenate(self.rings)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


@dataclass(frozen=True)
class Boundaries:
    """The outlines of a world's countries (by actor id) and of their neighbours (context)."""

    countries: dict[str, Outline]
    context: dict[str, Outline]
    source: str


def _outline(entry: dict[str, Any]) -> Outline:
    return Outline(entry["name"], tuple(np.asarray(r, float) for r in entry["rings"]))


@cache
def boundaries(world: str) -> Boundaries:
    """The shipped outlines for a world, by world name (``data/boundaries/<world>.json``).

    Raises
    ------
    KeyError
        When no boundary file is shipped for the world (draw `regional_map` instead).
    """
    res = resources.files("influence_sim") / "data" / "boundaries" / f"{world}.json"
    if not res.is_file():
        raise KeyError(
            f"no country outlines are shipped for world '{world}'; use regional_map (schematic)"
        )
    doc = json.loads(res.read_text("utf-8"))
    return Boundaries(
        countries={k: _outline(v) for k, v in doc["countries"].items()},
        context={k: _outline(v) for k, v in doc.get("context", {}).items()},
        source=doc["source"],
    )


def _inner_point(path: Path, frame: Box, n: int = 40) -> tuple[float, float] | None:
    """A point well inside ``path`` and inside ``frame``: the grid point farthest from the edge.

    A cheap pole of inaccessibility, good enough to place a label. None when the path does not
    reach into the frame.
    """
    x0, y0, x1, y1 = frame
    gx, gy = np.meshgrid(np.linspace(x0, x1, n + 2)[1:-1], np.linspace(y0, y1, n + 2)[1:-1])
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    inside = pts[path.contains_points(pts)]
    if not len(inside):
        return None
    # distance of each inside point to the nearest edge of the path (and of the frame)
    verts = np.asarray(path.vertices, dtype=float)
    codes = None if path.codes is None else np.asarray(path.codes)
    # an edge joins vertex i to i + 1 unless i + 1 starts another ring
    edge = np.ones(len(verts) - 1, bool) if codes is None else codes[1:] != Path.MOVETO
    a, b = verts[:-1][edge], verts[1:][edge]
    ab = b - a
    den = np.maximum((ab**2).sum(axis=1), 1e-12)
    t = np.clip(((inside[:, None, :] - a) * ab).sum(axis=2) / den, 0.0, 1.0)
    near = a + t[:, :, None] * ab
    d = np.sqrt(((inside[:, None, :] - near) ** 2).sum(axis=2)).min(axis=1)
    d = np.minimum.reduce(
        [d, inside[:, 0] - x0, x1 - inside[:, 0], inside[:, 1] - y0, y1 - inside[:, 1]]
    )
    k = int(np.argmax(d))
    return float(inside[k, 0]), float(inside[k, 1])


def _tint(color: str, amount: float) -> tuple[float, float, float]:
    """``color`` mixed with white: ``amount`` of the colour (opaque, so water does not show)."""
    rgb = np.array(to_rgba(color)[:3])
    r, g, b = amount * rgb + (1 - amount)
    return float(r), float(g), float(b)


def _choropleth_frame(world: World, shapes: Boundaries) -> Box:
    """The map's extent: the states' outlines, padded."""
    boxes = [shapes.countries[s].bounds for s in world.state_ids if s in shapes.countries]
    if not boxes:
        raise KeyError(f"the outlines of world '{world.name}' include none of its states")
    b = np.array(boxes)
    x0, y0 = b[:, 0].min(), b[:, 1].min()
    x1, y1 = b[:, 2].max(), b[:, 3].max()
    pad = 0.07 * max(x1 - x0, y1 - y0)
    return float(x0 - pad), float(y0 - pad), float(x1 + pad), float(y1 + 2.2 * pad)


def _draw_choropleth(
    ax: Axes,
    world: World,
    values: dict[str, float],
    norm: Normalize,
    cmap: Colormap,
    shapes: Boundaries,
) -> None:
    """Context countries, the powers hatched in their colours, the states by value, labels."""
    frame = _choropleth_frame(world, shapes)
    x0, y0, x1, y1 = frame
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    # equirectangular, with the scale of longitude at the frame's middle latitude
    ax.set_aspect(1.0 / np.cos(np.radians((y0 + y1) / 2)), adjustable="box")
    ax.set_facecolor(WATER)
    _bare(ax)
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for key, o in shapes.context.items():
        ax.add_patch(
            PathPatch(
                o.path, facecolor=CONTEXT_FILL, edgecolor=CONTEXT_EDGE, lw=0.4, gid=f"context:{key}"
            )
        )
    for p in world.powers:
        if p.id not in shapes.countries:
            continue
        color = power_color(p.id, world)
        path = shapes.countries[p.id].path
        ax.add_patch(
            PathPatch(
                path,
                facecolor=POWER_FILL,
                edgecolor=_tint(color, 0.35),
                hatch="////",
                lw=0.0,
                zorder=1.5,
                gid=f"power:{p.id}",
            )
        )
        # keep the name clear of the frame's sides: search an inset of the frame
        dx, dy = 0.14 * (x1 - x0), 0.06 * (y1 - y0)
        spot = _inner_point(path, (x0 + dx, y0 + dy, x1 - dx, y1 - dy))
        if spot is not None:
            ax.text(
                *spot,
                f"{p.name} ({p.id})",
                ha="center",
                va="center",
                fontsize=9,
                fontweight="bold",
                color=color,
                path_effects=halo,
                zorder=5,
                gid=f"label:{p.id}",
            )
    for s in world.states:
        if s.id not in shapes.countries:
            continue
        v = values.get(s.id, np.nan)
        path = shapes.countries[s.id].path
        ax.add_patch(
            PathPatch(
                path,
                facecolor=cmap(norm(v)) if np.isfinite(v) else "#DDDDDD",
                edgecolor="#333333",
                lw=0.8,
                zorder=3,
                gid=f"state:{s.id}",
            )
        )
        spot = _inner_point(path, frame)
        if spot is not None:
            text = f"{s.id}\n{_signed(v)}" if np.isfinite(v) else s.id
            ax.text(
                *spot,
                text,
                ha="center",
                va="center",
                fontsize=7.5,
                linespacing=1.05,
                path_effects=halo,
                zorder=5,
                gid=f"label:{s.id}",
            )
    shown = [p.name for p in world.powers if p.id in shapes.countries]
    ax.set_xlabel(
        "outlines: Natural Earth 1:110m (public domain)"
        + (f"; {' and '.join(shown)} hatched in their colours" if shown else ""),
        fontsize=6.5,
        style="italic",
        color="#555555",
        labelpad=2,
    )


def choropleth_of(
    world: World,
    values: dict[str, float],
    *,
    ax: Axes | None = None,
    norm: Normalize | None = None,
    colorbar: bool = True,
    label: str | None = None,
    title: str | None = None,
) -> Axes:
    """`choropleth` of given values per state (for example one replicate's, or differences).

    Parameters
    ----------
    world : World
        Whose states, powers and colours (its outlines must be shipped: `boundaries`).
    values : dict of str to float
        Value per state id; a ``region`` entry is written in the top right corner.
    ax, norm, colorbar
        As in `choropleth`.
    label : str, optional
        The colour bar's label (default: which end of the balance is which power).
    title : str, optional
        The Axes title.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax, _ = _new_axes(ax, size=(6.4, 5.2))
    shapes = boundaries(world.name)
    norm = norm or _map_norm(np.array([values[s] for s in world.state_ids if s in values]))
    cmap = balance_cmap(world)
    _draw_choropleth(ax, world, values, norm, cmap, shapes)
    if "region" in values:
        ax.text(
            0.99,
            0.985,
            "region (population-weighted): " + _signed(values["region"]),
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=7.5,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.5},
            zorder=6,
        )
    if title:
        ax.set_title(title, fontsize=10)
    if colorbar:
        cb = _root(ax).colorbar(
            ScalarMappable(norm=norm, cmap=cmap), ax=ax, location="bottom", shrink=0.85, pad=0.03
        )
        cb.set_label(label or _balance_cbar_label(world, "balance", stat=""), fontsize=8)
        cb.ax.tick_params(labelsize=7.5)
    return ax


def choropleth(
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
    """Map of country outlines: each state filled by the median of a measure across replicates.

    The states of the world are drawn with their Natural Earth 1:110m outlines (package data,
    `boundaries`), filled on the same diverging scale as `regional_map` (`balance_cmap`:
    the second balance power's colour for negative values, white at 0, the first's for
    positive), and labelled with id and value. The powers' own territories are drawn for
    context, hatched in their colours (never filled, so they do not read as values), and the
    neighbouring countries grey. Where no outlines are shipped for the world, a `KeyError`
    says to use `regional_map`. `choropleth_of` draws given values instead.

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
    name, world, x, k, values = _medians(source, measure, scenario, point, date)
    return choropleth_of(
        world,
        values,
        ax=ax,
        norm=norm,
        colorbar=colorbar,
        label=_balance_cbar_label(world, measure),
        title=f"{name}, {x[k]}",
    )
