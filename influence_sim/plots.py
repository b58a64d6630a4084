"""Figures (matplotlib). Importing influence_sim does not import this module.

Functions that draw one panel take ``ax=None`` and return the Axes; functions that draw a
multi-panel figure return a `matplotlib.figure.Figure` built without pyplot, so they change no
global state (no ``plt.show()``, no style changes).

Every time-series function accepts a ``source``: an in-memory run (`influence_sim.simulate`)
or an experiment store (`influence_sim.load_results`); for a store, ``scenario=`` picks the
scenario (default: the baseline) and ``point=`` the design point (default 0). Uncertainty is
shown as the median across replicates with 50% and 90% bands (central quantiles), drawn only
where replicates differ.

Colours are the same in every figure: one per power (`POWER_COLORS`, then `EXTRA_POWER_COLORS`
by the power's position in its world), one per faction by its position within its state
(`FACTION_COLORS`), one per counterfactual by its position in the experiment
(`SCENARIO_COLORS`), and a diverging map from the second balance power's colour (negative)
through white to the first's (positive) for the balance.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, cast

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib import patheffects, transforms
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch
from matplotlib.ticker import MaxNLocator

__all__ = [
    "BASELINE_COLOR",
    "EXTRA_POWER_COLORS",
    "FACTION_COLORS",
    "POWER_COLORS",
    "SCENARIO_COLORS",
    "attribution_chart",
    "balance_cmap",
    "balance_panels",
    "effects_forest",
    "faction_color",
    "faction_leaders",
    "faction_share_quantiles",
    "faction_shares",
    "fan_chart",
    "fan_panels",
    "figure_set",
    "network_view",
    "power_color",
    "regional_map",
    "regional_map_panels",
    "reputation_credibility",
    "scenario_events",
    "series",
]

#: One colour per power, the same in every figure (Okabe–Ito, colour-blind safe).
POWER_COLORS = {"RU": "#D55E00", "CN": "#0072B2"}
#: Powers not in `POWER_COLORS` (a third power, another world) take a colour from this fixed
#: colour-blind-safe list (the rest of Okabe–Ito) by their position in the world's powers.
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
#: Quantiles drawn: 90% band, 50% band, median.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
LABEL_SIZE = 6.5


# ---------------------------------------------------------------------------------------
# colours


def power_color(power: str, world=None) -> str:
    """Colour of a power: `POWER_COLORS`, else `EXTRA_POWER_COLORS` by its world position.

    Parameters
    ----------
    power : str
        A power id.
    world : World, optional
        Needed only for powers not in `POWER_COLORS`; without it such a power gets the first
        extra colour.
    """
    if power in POWER_COLORS:
        return POWER_COLORS[power]
    k = world.power_ids.index(power) if world is not None and power in world.power_ids else 0
    return EXTRA_POWER_COLORS[k % len(EXTRA_POWER_COLORS)]


def faction_color(faction: str, world) -> str:
    """Colour of a faction: `FACTION_COLORS` by its position within its state."""
    f = world.factions[world.index[faction]]
    own = [g.id for g in world.factions if g.state == f.state]
    return FACTION_COLORS[own.index(faction) % len(FACTION_COLORS)]


def balance_cmap(world) -> LinearSegmentedColormap:
    """Diverging colour map of the balance: second power (negative), white, first (positive).

    Both ends are the powers' own colours, so the map reads like every other figure.
    """
    a, b = world.balance
    return LinearSegmentedColormap.from_list(
        f"balance_{b}_{a}", [power_color(b, world), "#F7F7F7", power_color(a, world)]
    )


def _scenario_style(source, name: str) -> tuple[str, Any]:
    """Colour and line style of a scenario: dark for the baseline, else by its position."""
    if not _is_store(source) or name == source.baseline:
        return BASELINE_COLOR, "-"
    others = [n for n in source.scenarios if n != source.baseline]
    k = others.index(name)
    return _scenario_look(k)[:2]


def _scenario_look(k: int) -> tuple[str, Any, str]:
    """Colour, line style and marker of the k-th counterfactual (0-based)."""
    n = len(SCENARIO_COLORS)
    cycle = (k // n) % len(SCENARIO_STYLES)
    return SCENARIO_COLORS[k % n], SCENARIO_STYLES[cycle], SCENARIO_MARKERS[cycle]


# ---------------------------------------------------------------------------------------
# data access


def _is_store(source) -> bool:
    """Whether ``source`` is a results store (a `Result` has a manifest() method too)."""
    return hasattr(source, "baseline") and hasattr(source, "array")


def _name(source, scenario: str | None) -> str:
    """The scenario drawn: a store's ``scenario`` (default baseline), or the Result's own."""
    if _is_store(source):
        name = scenario or source.baseline
        if name not in source.scenarios:
            raise KeyError(f"no scenario '{name}' in these results ({', '.join(source.scenarios)})")
        return name
    own = source.scenario.name
    if scenario not in (None, own):
        raise KeyError(f"this run is of scenario '{own}', not '{scenario}'")
    return own


def _world_of(source, scenario: str | None = None):
    """The World of a Result, or of a store's scenario (from its manifest)."""
    if not _is_store(source):
        return source.scenario.world
    if scenario is None:
        return _world(source.manifest)
    entry = next(s for s in source.manifest["scenarios"] if s["name"] == scenario)
    from .core.world import load_world

    return load_world(entry["world_path"])


def _block(
    source, measure: str, scenario: str | None = None, point: int = 0
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Dates (T,), values (T, R, K) as floats and series labels ``actor[/power]`` (K)."""
    if _is_store(source):
        vals, steps, labels = source.array(measure, _name(source, scenario), point=point)
        return source.dates(steps), np.swapaxes(vals, 0, 1), labels
    _name(source, scenario)
    if measure not in source.data:
        raise KeyError(f"measure '{measure}' was not recorded (have {', '.join(source.data)})")
    arr = source.data[measure]
    actors, powers = source.labels(measure)
    labels = [a + (f"/{p}" if p else "") for a, p in zip(actors, powers, strict=True)]
    return source.dates, arr.reshape(arr.shape[0], arr.shape[1], -1).astype(float), labels


def _column(labels: list[str], measure: str, actor: str, power: str | None) -> int:
    key = actor + (f"/{power}" if power else "")
    if key in labels:
        return labels.index(key)
    if power is None:  # a per-power series with one power (corridor: region/CN)
        hits = [k for k, lb in enumerate(labels) if lb.split("/", 1)[0] == actor]
        if len(hits) == 1:
            return hits[0]
    raise KeyError(f"no {measure} series '{key}' (have {', '.join(labels)})")


def series(
    source,
    measure: str,
    actor: str,
    power: str | None = None,
    *,
    scenario: str | None = None,
    point: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Dates (T,) and values (T, R) of one series, from a `Result` or a results store.

    Parameters
    ----------
    source : Result or ResultSet
        An in-memory run (`simulate`) or an experiment store (`load_results`).
    measure, actor, power : str
        The series (power only for per-power measures such as ``alignment``).
    scenario : str, optional
        For a store: which scenario (default: the baseline). For a Result: its own name or
        None.
    point : int
        For a store: the design point.
    """
    x, vals, labels = _block(source, measure, scenario, point)
    return x, vals[:, :, _column(labels, measure, actor, power)]


def _quantiles(y: np.ndarray) -> np.ndarray:
    """Quantiles `QUANTILES` over replicates of (T, R) values: shape (5, T)."""
    return np.quantile(y, QUANTILES, axis=1)


def _varies(q: np.ndarray) -> bool:
    """Whether the replicates differ anywhere (the 90% band has width)."""
    return bool(np.any(q[4] - q[0] > 1e-9 * np.maximum(1.0, np.abs(q[2]))))


def scenario_events(
    source, scenario: str | None = None, *, point: int = 0
) -> list[tuple[str, np.datetime64, float | None]]:
    """Events of a scenario: (id, scheduled date, share of replicates in which it fired).

    For a Result the events are its plans; for a store the scenario's resolved events in the
    manifest, with firing rates from the stored events (None when not available).
    """
    if not _is_store(source):
        return [
            (p.event.id, np.datetime64(p.event.date, "D"), float(np.mean(p.status == 0)))
            for p in source.plans
        ]
    name = _name(source, scenario)
    entry = next(s for s in source.manifest["scenarios"] if s["name"] == name)
    rates: dict[str, float] = {}
    ev = source.events
    if len(ev):
        sel = ev[(ev["scenario"] == name) & (ev["point"] == point)]
        rates = sel.groupby("event")["fired"].mean().astype(float).to_dict()
    return [
        (e["id"], np.datetime64(e["date"], "D"), rates.get(e["id"]))
        for e in entry["resolved"]["events"]
    ]


def _changed_events(source, name: str, point: int) -> list[tuple[str, np.datetime64, str]]:
    """Events of a counterfactual that differ from the baseline: (label, date, kind).

    kind is ``added`` (not in the baseline), ``changed`` (same id, other fields) or
    ``removed`` (in the baseline only; labelled with a leading minus sign).
    """
    entries = {s["name"]: s for s in source.manifest["scenarios"]}
    mine = {e["id"]: e for e in entries[name]["resolved"]["events"]}
    base = {e["id"]: e for e in entries[source.baseline]["resolved"]["events"]}
    rates = {e: r for e, _, r in scenario_events(source, name, point=point)}
    out = []
    for eid, e in mine.items():
        if eid not in base or base[eid] != e:
            label = eid + ("" if eid not in base else " (changed)") + _rate_text(rates.get(eid))
            out.append(
                (label, np.datetime64(e["date"], "D"), "added" if eid not in base else "changed")
            )
    for eid, e in base.items():
        if eid not in mine:
            out.append(("\u2212" + eid, np.datetime64(e["date"], "D"), "removed"))
    return sorted(out, key=lambda t: (t[1], t[0]))


def _rate_text(rate: float | None) -> str:
    return "" if rate is None or rate >= 1 else f" ({rate:.0%})"


# ---------------------------------------------------------------------------------------
# drawing helpers


def _root(ax: Axes) -> Figure:
    """The figure an Axes belongs to (the top-level one)."""
    return cast(Figure, ax.get_figure(root=True))


def _new_axes(ax: Axes | None, size=(8.0, 5.0)) -> tuple[Axes, bool]:
    if ax is not None:
        return ax, False
    return Figure(figsize=size, layout="constrained").add_subplot(), True


def _date_axis(ax: Axes, x: np.ndarray) -> None:
    """Concise date ticks and limits at the first and last recorded dates."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlim(x[0], x[-1])


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


def _zero_line(ax: Axes) -> None:
    """Mark zero where it is in range (without widening the panel)."""
    lo, hi = ax.get_ylim()
    if lo < 0 < hi:
        ax.axhline(0, color="black", lw=0.6, zorder=1)


def _mark_events(
    ax: Axes,
    events: Sequence[tuple[Any, ...]],
    *,
    labels: bool = True,
    fontsize: float = LABEL_SIZE,
) -> float:
    """Thin vertical lines at event dates, ids written above the axes.

    One line per distinct date inside the x range. Labels (rotated, small) fan out beside
    each other from the first date of a group of nearby events, joined to their dates by
    leader lines, so events on the same or close dates never overlap. Labels of removed
    events (kind ``removed``) are grey and italic. Returns the height the labels take above
    the axes, in points (0 without labels), so that a title can be placed above them.
    """
    lo, hi = ax.get_xlim()
    rows = []
    for ev in events:
        xv = mdates.date2num(np.datetime64(ev[1], "D"))
        if lo <= xv <= hi:
            rows.append((xv, ev[0], ev[2] if len(ev) > 2 else ""))
    rows.sort(key=lambda r: r[0])
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


def _measure_label(world, measure: str, actor: str, power: str | None) -> str:
    if measure == "balance":
        a, b = world.balance
        return f"balance {actor} ({a} \u2212 {b})"
    return f"{measure} {actor}" + (f" {power}" if power else "")


def _legend_outside(ax: Axes, **kw) -> None:
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


# ---------------------------------------------------------------------------------------
# time series


def fan_chart(
    source,
    measure: str = "balance",
    actor: str = "KZ",
    *,
    power: str | None = None,
    scenario: str | None = None,
    point: int = 0,
    baseline: bool = True,
    events: bool | str = True,
    ax: Axes | None = None,
    color: str | None = None,
    label: str | None = None,
    bands: bool = True,
    linestyle: Any = None,
    legend: bool | None = None,
    title: str | None = None,
) -> Axes:
    """Median of a measure across replicates, with 50% and 90% bands.

    Parameters
    ----------
    source : Result or ResultSet
        A run from `influence_sim.simulate`, or an experiment store.
    measure, actor, power : str
        Which series (power only for per-power measures such as ``alignment``).
    scenario : str, optional
        For a store: which scenario (default: the baseline).
    point : int
        For a store: the design point.
    baseline : bool
        For a store and a scenario other than the baseline: draw the baseline's median and
        90% band faintly (grey) behind, labelled ``"<baseline> (baseline)"``.
    events : bool or {"lines", "changed"}
        Mark the scenario's event dates with thin vertical lines, ids written above the
        axes (an event that fired in only some replicates shows its firing rate). ``"lines"``:
        lines without labels. ``"changed"``: for a counterfactual in a store, only the events
        that differ from the baseline (removed ones in grey, with a minus sign).
    ax : matplotlib Axes, optional
        Where to draw; a new figure's Axes when None.
    color, label, linestyle : optional
        Line colour (default: the power's colour for per-power series, else the scenario's),
        legend label (default: the scenario name) and line style.
    bands : bool
        Draw the 50% and 90% bands.
    legend : bool, optional
        Draw a legend beside the axes (default: when the Axes is created here).
    title : str, optional
        Axes title, placed above the event labels.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax, created = _new_axes(ax)
    pad = _fan_chart(
        source,
        measure,
        actor,
        power=power,
        scenario=scenario,
        point=point,
        baseline=baseline,
        events=events,
        ax=ax,
        color=color,
        label=label,
        bands=bands,
        linestyle=linestyle,
    )
    if title:
        ax.set_title(title, fontsize=10, pad=pad + 3)
    if legend or (legend is None and created):
        _legend_outside(ax)
    return ax


def _fan_chart(
    source,
    measure,
    actor,
    *,
    power,
    scenario,
    point,
    baseline,
    events,
    ax,
    color=None,
    label=None,
    bands=True,
    linestyle=None,
) -> float:
    """Draw `fan_chart` on ``ax``; return the height of the event labels (points)."""
    name = _name(source, scenario)
    world = _world_of(source, name)
    x, y = series(source, measure, actor, power, scenario=name, point=point)
    own_color, own_style = _scenario_style(source, name)
    if color is None:
        per_power = power or (actor if measure == "reputation" else None)
        color = power_color(per_power, world) if per_power else own_color
    is_base = not _is_store(source) or name == source.baseline
    if baseline and not is_base:
        _, yb = series(source, measure, actor, power, scenario=source.baseline, point=point)
        _fan(ax, x, yb, color=FAINT_COLOR, label=f"{source.baseline} (baseline)", faint=True)
    _fan(
        ax,
        x,
        y,
        color=color,
        label=label or name,
        bands=bands,
        linestyle=linestyle or own_style,
    )
    _date_axis(ax, x)
    ax.set_ylabel(_measure_label(world, measure, actor, power))
    if measure == "balance":
        _zero_line(ax)
    pad = 0.0
    if events:
        evs: list[tuple[Any, ...]]
        if events == "changed" and not is_base:
            evs = list(_changed_events(source, name, point))
        else:
            evs = [(e + _rate_text(r), d) for e, d, r in scenario_events(source, name, point=point)]
        pad = _mark_events(ax, evs, labels=events != "lines")
    return pad


def fan_panels(
    results,
    actor: str = "KZ",
    measure: str = "balance",
    *,
    power: str | None = None,
    point: int = 0,
    ncols: int = 3,
) -> Figure:
    """One panel per scenario of a store: the baseline first, then each counterfactual.

    The baseline panel marks all its events; each counterfactual panel shows the baseline
    faintly behind and marks only the events that differ from the baseline. Panels share
    their y axis.

    Parameters
    ----------
    results : ResultSet
        An experiment store.
    actor, measure, power : str
        The series.
    """
    names = results.scenarios
    nrows = -(-len(names) // ncols)
    fig = Figure(figsize=(4.4 * ncols, 3.6 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    pads = []
    for j, (ax, name) in enumerate(zip(axes, names, strict=False)):
        pads.append(
            _fan_chart(
                results,
                measure,
                actor,
                power=power,
                scenario=name,
                point=point,
                baseline=True,
                events=True if name == results.baseline else "changed",
                ax=ax,
            )
        )
        ax.tick_params(axis="both", labelsize=8)
        ax.yaxis.label.set_size(8)
        if j % ncols:
            ax.set_ylabel("")
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    for j, (ax, name) in enumerate(zip(axes, names, strict=False)):
        # titles of a row at one height, above the tallest event labels of the row
        row = pads[(j // ncols) * ncols : (j // ncols + 1) * ncols]
        title = name + (" (baseline)" if name == results.baseline else "")
        ax.set_title(title, fontsize=10, pad=max(row) + 3)
        _zero_line(ax)  # y limits are shared: mark zero once the panels are all drawn
    handles = [
        Line2D([], [], color=BASELINE_COLOR, lw=1.6, label="median"),
        Patch(color=BASELINE_COLOR, alpha=0.3, label="50% band"),
        Patch(color=BASELINE_COLOR, alpha=0.15, label="90% band"),
        Line2D([], [], color=FAINT_COLOR, lw=1.1, label=f"{results.baseline} (baseline) median"),
        Patch(color=FAINT_COLOR, alpha=0.14, label="baseline 90% band"),
        Line2D([], [], color=EVENT_COLOR, lw=0.6, ls=(0, (3, 2)), label="event (added or changed)"),
        Line2D([], [], color="#A8A8A8", lw=0.6, ls=(0, (1, 2)), label="\u2212event: removed"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    world = _world(results.manifest)
    fig.suptitle(
        f"{_measure_label(world, measure, actor, power)}: each scenario against the baseline\n"
        f"median across {results.manifest['replicates']} paired replicates with 50% and 90% "
        "bands; percentages: share of replicates in which an event fired",
        fontsize=10,
    )
    return fig


def balance_panels(results, *, ncols: int = 3, point: int = 0) -> Figure:
    """Balance per state and for the region: baseline fan chart, other scenarios' medians.

    Thin dashed lines mark the baseline's event dates (their ids over the top row).

    Parameters
    ----------
    results : ResultSet
        An experiment store; its baseline gets bands, every other scenario a median line.
    ncols : int
        Panels per row.
    point : int
        The design point.
    """
    m = results.manifest
    base = results.baseline
    others = [n for n in results.scenarios if n != base]
    world = _world(m)
    actors = [*world.state_ids, "region"]
    names = {s.id: s.name for s in world.states}
    nrows = -(-len(actors) // ncols)
    fig = Figure(figsize=(4.4 * ncols, 3.2 * nrows + 2.2), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    base_events = [
        (e + _rate_text(r), d) for e, d, r in scenario_events(results, base, point=point)
    ]
    for j, (ax, actor) in enumerate(zip(axes, actors, strict=False)):
        fan_chart(
            results,
            "balance",
            actor,
            point=point,
            ax=ax,
            label=f"{base} (baseline)",
            events=False,
            legend=False,
        )
        for other in others:
            fan_chart(
                results,
                "balance",
                actor,
                scenario=other,
                point=point,
                ax=ax,
                bands=False,
                baseline=False,
                events=False,
                legend=False,
                linestyle=None,
            )
        _zero_line(ax)
        pad = _mark_events(ax, base_events, labels=j == 0)
        ax.set_title(
            f"{names[actor]} ({actor})" if actor != "region" else "Region (population-weighted)",
            fontsize=10,
            pad=pad + 3,
            loc="left" if j == 0 else "center",
        )
        ax.set_ylabel("balance " + " \u2212 ".join(world.balance), fontsize=8)
        ax.tick_params(axis="both", labelsize=8)
    for ax in axes[len(actors) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(Line2D([], [], color=EVENT_COLOR, lw=0.6, ls=(0, (3, 2))))
    labels.append("baseline event")
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=min(4, len(labels)),
        fontsize=8,
        frameon=False,
    )
    fig.suptitle(
        f"{m['experiment']['title']}\nmedian across {m['replicates']} paired "
        "replicates; baseline with 50% and 90% bands; panels have their own scales",
        fontsize=10,
    )
    return fig


def _state_factions(world, state: str) -> list:
    if state not in world.state_ids:
        raise KeyError(f"no state '{state}' (have {', '.join(world.state_ids)})")
    return [f for f in world.factions if f.state == state]


def _short(name: str) -> str:
    """A faction's name without its parenthesis, for legends."""
    return name.split(" (", 1)[0]


def _faction_block(source, state: str, scenario, point):
    name = _name(source, scenario)
    world = _world_of(source, name)
    facs = _state_factions(world, state)
    x, vals, labels = _block(source, "share", name, point)
    cols = [labels.index(f.id) for f in facs]
    return name, world, facs, x, vals[:, :, cols]


def faction_shares(
    source,
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
    source : Result or ResultSet
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
    pad = 0.0
    if events:
        evs = [(e + _rate_text(r), d) for e, d, r in scenario_events(source, name, point=point)]
        pad = _mark_events(ax, evs, labels=events != "lines")
    ax.set_title(f"Factions of {state}: {name}", fontsize=10, pad=pad + 3)
    if legend:
        _legend_outside(ax, reverse=True)
    return ax


def faction_leaders(
    source,
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
    source : Result or ResultSet
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
    pad = 0.0
    if events:
        evs = [(e + _rate_text(r), d) for e, d, r in scenario_events(source, name, point=point)]
        pad = _mark_events(ax, evs, labels=events != "lines")
    ax.set_title(f"Leading faction of {state}: {name}", fontsize=10, pad=pad + 3)
    if legend:
        _legend_outside(ax)
    return ax


def faction_share_quantiles(
    source, state: str, *, scenario: str | None = None, point: int = 0, ncols: int = 3
) -> Figure:
    """Small multiples, one panel per faction of a state: median share with 50%/90% bands.

    Each panel has its own y scale (the factions' shares differ in size). Event dates are
    marked with thin lines.

    Parameters
    ----------
    source : Result or ResultSet
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


def reputation_credibility(
    source,
    *,
    scenario: str | None = None,
    point: int = 0,
    events: bool | str = True,
    ax: Axes | None = None,
    legend: bool = True,
) -> Axes:
    """Median reputation of each power and credibility of each institution, 90% bands.

    Powers: solid lines in the power's colour. Institutions: the leader's colour, a distinct
    dashed or dotted style per institution. Both are in [0, 1].

    Parameters
    ----------
    source : Result or ResultSet
    scenario, point
        For a store: scenario (default baseline) and design point.
    events : bool or "lines"
        Mark event dates (see `fan_chart`).
    ax : matplotlib Axes, optional
    legend : bool
        Legend beside the axes.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax, _ = _new_axes(ax)
    name = _name(source, scenario)
    world = _world_of(source, name)
    x, rep, rep_labels = _block(source, "reputation", name, point)
    _, cred, cred_labels = _block(source, "credibility", name, point)
    for p in world.powers:
        q = _quantiles(rep[:, :, rep_labels.index(p.id)])
        c = power_color(p.id, world)
        if _varies(q):
            ax.fill_between(x, q[0], q[4], color=c, alpha=0.15, lw=0)
        ax.plot(x, q[2], color=c, lw=1.8, ls="-", label=f"{p.name} ({p.id}): reputation")
    for k, inst in enumerate(world.institutions):
        q = _quantiles(cred[:, :, cred_labels.index(inst.id)])
        c = power_color(inst.leader, world)
        if _varies(q):
            ax.fill_between(x, q[0], q[4], color=c, alpha=0.08, lw=0, hatch=None)
        ax.plot(
            x,
            q[2],
            color=c,
            lw=1.6,
            ls=INSTITUTION_STYLES[k % len(INSTITUTION_STYLES)],
            label=f"{inst.id} (led by {inst.leader}): credibility",
        )
    _date_axis(ax, x)
    ax.set_ylabel("median, with 90% band")
    pad = 0.0
    if events:
        evs = [(e + _rate_text(r), d) for e, d, r in scenario_events(source, name, point=point)]
        pad = _mark_events(ax, evs, labels=events != "lines")
    ax.set_title(
        f"Reputation of the powers and credibility of the institutions: {name}",
        fontsize=10,
        pad=pad + 3,
    )
    if legend:
        _legend_outside(ax)
    return ax


# ---------------------------------------------------------------------------------------
# comparison and attribution


def effects_forest(
    comparison,
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
    eff = comparison.effects if hasattr(comparison, "effects") else comparison
    sel = eff[eff["measure"] == measure]
    if "point" in sel:
        sel = sel[sel["point"] == point]
    if sel.empty:
        raise KeyError(f"no effects for measure '{measure}' at point {point}")
    when = str(date) if date is not None else max(sel["date"].astype(str))
    sel = sel[sel["date"].astype(str) == when]
    if sel.empty:
        raise KeyError(f"no effects for {measure} on {when}")
    if power is not None:
        sel = sel[sel["power"] == power]
    pw = sel["power"].fillna("").astype(str)
    sel = sel.assign(row=sel["actor"].astype(str) + np.where(pw != "", "/" + pw, ""))
    if actors is None:
        names = sorted(set(sel["actor"]), key=lambda a: (a == "region", a))
    else:
        names = list(actors)
        sel = sel[sel["actor"].isin(names)]
    known = set(eff["scenario"])  # every counterfactual of the comparison: fixes the colours
    looks = list(dict.fromkeys(eff["scenario"])) if scenarios is None else list(scenarios)
    looks = [s for s in looks if s in known]
    order = [s for s in looks if s in set(sel["scenario"])]
    ax, created = _new_axes(ax, size=(7.0, 0.24 * (len(sel) + 2 * len(order)) + 1.4))
    y = 0.0
    ticks, tick_labels = [], []
    for scen in order:
        rows = sel[sel["scenario"] == scen]
        rows = rows.assign(_o=rows["actor"].map({a: j for j, a in enumerate(names)})).sort_values(
            ["_o", "row"], kind="stable"
        )
        color, _, marker = _scenario_look(looks.index(scen))
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
        for r in rows.itertuples():
            excludes = r.ci_low > 0 or r.ci_high < 0
            ax.errorbar(
                r.mean,
                y,
                xerr=[[r.mean - r.ci_low], [r.ci_high - r.mean]],
                fmt=marker,
                ms=4.5,
                color=color,
                mfc=color if excludes else "white",
                mec=color,
                elinewidth=1.4,
                capsize=2.5,
                label=f"{scen}: {r.row}",
            )
            ticks.append(y)
            tick_labels.append(r.row)
            y += 1
        y += 0.6
    ax.axvline(0, color="black", lw=0.8, zorder=1.5)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.set_yticks(ticks, tick_labels, fontsize=8)
    ax.set_ylim(y - 0.4, -0.8)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="#E5E5E5", lw=0.6)
    ax.set_axisbelow(True)
    what = measure if measure != "balance" else "balance"
    ax.set_xlabel(
        f"difference from baseline ({what} on {when}; mean of paired differences and 95% CI)",
        fontsize=9,
    )
    if created:
        ax.set_title(
            "Effects of each scenario (filled: the interval excludes 0)", fontsize=10, loc="left"
        )
    return ax


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
    pos, neg = colors
    yb = np.arange(n, dtype=float)
    ys = n + 0.8 + np.arange(len(tail), dtype=float)

    def bars(rows, ys, hatch, gid):
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

    if n:
        bars(body, yb, None, "events")
    if len(tail):
        bars(tail, ys, "////", "summary")
        ax.axhline(n - 0.1, color="#777777", lw=0.8, ls="--")
    labels = []
    for r in body.itertuples():
        fired = getattr(r, "fired", np.nan)
        note = ""
        if isinstance(fired, float) and not np.isnan(fired) and fired < 1:
            note = " (never fired)" if fired == 0 else f" (fired in {fired:.0%})"
        labels.append(f"{r.event}{note}")
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
    if created:
        ax.set_title(
            "Attribution: each event's contribution\n(leave-one-out, paired replicates)",
            fontsize=10,
            loc="left",
        )
    return ax


# ---------------------------------------------------------------------------------------
# the map


def _pick_date(x: np.ndarray, when) -> int:
    """Index of ``when`` among the recorded dates (the last one on or before it)."""
    if when is None:
        return len(x) - 1
    d = np.datetime64(when, "D")
    k = int(np.searchsorted(x, d, side="right")) - 1
    if k < 0:
        raise ValueError(f"{when} is before the first recorded date {x[0]}")
    return k


def _map_values(source, measure, scenario, point, when):
    x, vals, labels = _block(source, measure, scenario, point)
    k = _pick_date(x, when)
    return x[k], np.median(vals[k], axis=0), labels


def _map_norm(values: np.ndarray) -> Normalize:
    """A symmetric norm centred on 0 (at least +-0.05)."""
    m = max(float(np.nanmax(np.abs(values))) if len(values) else 0.0, 0.05)
    return Normalize(-m, m)


def _label_spot(cx, cy, r, w, h, pad, taken, frame):
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

    def free(x0, y0):
        if x0 < frame[0] or y0 < frame[1] or x0 + w > frame[2] or y0 + h > frame[3]:
            return False
        return not any(
            x0 < tx1 and x0 + w > tx0 and y0 < ty1 and y0 + h > ty0 for tx0, ty0, tx1, ty1 in taken
        )

    return next((o for o in options if free(o[0], o[1])), options[0])


def _place_label(ax, taken, frame, xy, r, text, per_pt, **kw):
    """Write ``text`` beside a marker of radius r at ``xy`` where it hits nothing."""
    cx, cy = xy
    size = kw.get("fontsize", 7.5)
    lines = text.split("\n")
    w = (0.62 * size * max(len(t) for t in lines) + 2) * per_pt
    h = (1.2 * size * len(lines) + 1) * per_pt
    x0, y0, ha, va = _label_spot(cx, cy, r, w, h, 2.5 * per_pt, taken, frame)
    taken.append((x0, y0, x0 + w, y0 + h))
    tx = {"left": x0, "right": x0 + w, "center": x0 + w / 2}[ha]
    ty = {"center": y0 + h / 2, "bottom": y0, "top": y0 + h}[va]
    return ax.text(tx, ty, text, ha=ha, va=va, zorder=5, linespacing=1.05, **kw)


def _signed(v: float) -> str:
    """A value with its sign, two decimals, typographic minus."""
    return f"{v:+.2f}".replace("-", "\u2212")


def _draw_map(ax: Axes, world, values: dict[str, float], norm, cmap) -> None:
    """States as discs coloured by value, powers as squares, on schematic lon/lat axes."""
    states = [s for s in world.states if s.position is not None]
    powers = [p for p in world.powers if p.position is not None]
    pts = np.array([s.position for s in states] + [p.position for p in powers], float)
    pops = np.array([s.population for s in states])
    rel = np.sqrt(pops / pops.max()) if len(pops) else pops  # radius ~ sqrt(population)
    # largest radius: discs never touch, and stay small against the extent
    span = float(np.ptp(pts, axis=0).max()) if len(pts) > 1 else 10.0
    r_max = 0.09 * span
    for i in range(len(states)):
        for j in range(i + 1, len(states)):
            d = float(np.hypot(*np.subtract(states[i].position, states[j].position)))
            r_max = min(r_max, 0.92 * d / (rel[i] + rel[j]))
    radius = r_max * rel
    lo = pts.min(axis=0) - r_max - 0.1 * span
    hi = pts.max(axis=0) + r_max + 0.1 * span
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#BBBBBB")
    # data units per point, to size labels (estimated before layout)
    fig = _root(ax)
    bb = ax.get_position()
    w_pt, h_pt = fig.get_figwidth() * bb.width * 72, fig.get_figheight() * bb.height * 72
    per_pt = max((hi[0] - lo[0]) / w_pt, (hi[1] - lo[1]) / h_pt)
    frame = (lo[0], lo[1], hi[0], hi[1] - 12 * per_pt)  # keep the top line for the region
    sq = 6 * per_pt  # half side of a power's square
    taken = [
        (s.position[0] - r, s.position[1] - r, s.position[0] + r, s.position[1] + r)
        for s, r in zip(states, radius, strict=True)
    ]
    taken += [
        (p.position[0] - sq, p.position[1] - sq, p.position[0] + sq, p.position[1] + sq)
        for p in powers
    ]
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for s, r in zip(states, radius, strict=True):
        v = values.get(s.id, np.nan)
        ax.add_patch(
            Circle(
                s.position,
                r,
                facecolor=cmap(norm(v)) if np.isfinite(v) else "#DDDDDD",
                edgecolor="#333333",
                lw=0.8,
                zorder=3,
                gid=f"state:{s.id}",
            )
        )
        text = f"{s.id}\n{_signed(v)}" if np.isfinite(v) else s.id
        _place_label(
            ax,
            taken,
            frame,
            s.position,
            r,
            text,
            per_pt,
            fontsize=7.5,
            path_effects=halo,
            gid=f"label:{s.id}",
        )
    for p in powers:
        ax.scatter(
            [p.position[0]],
            [p.position[1]],
            marker="s",
            s=110,
            color=power_color(p.id, world),
            edgecolor="black",
            lw=0.6,
            zorder=4,
            gid=f"power:{p.id}",
        )
        _place_label(
            ax,
            taken,
            frame,
            p.position,
            sq,
            f"{p.name} ({p.id})",
            per_pt,
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


def _balance_cbar_label(world, measure: str) -> str:
    a, b = world.balance
    names = {p.id: p.name for p in world.powers}
    if measure != "balance":
        return f"median {measure}"
    return f"median balance   \u2190 toward {names[b]} ({b})  |  toward {names[a]} ({a}) \u2192"


def regional_map(
    source,
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
    source : Result or ResultSet
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
    world = _world_of(source, name)
    when, med, labels = _map_values(source, measure, name, point, date)
    values = {lb: float(v) for lb, v in zip(labels, med, strict=True)}
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
    ax.set_title(f"{name}, {when}", fontsize=10)
    if colorbar:
        cb = _root(ax).colorbar(
            ScalarMappable(norm=norm, cmap=cmap), ax=ax, location="bottom", shrink=0.85, pad=0.02
        )
        cb.set_label(_balance_cbar_label(world, measure), fontsize=8)
        cb.ax.tick_params(labelsize=7.5)
    return ax


def regional_map_panels(
    source,
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
    source : Result or ResultSet
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
    world = _world_of(source, name)
    x, vals, labels = _block(source, measure, name, point)
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
    pts = np.array(
        [
            p
            for p in [*(s.position for s in world.states), *(p.position for p in world.powers)]
            if p is not None
        ]
    )
    span = np.ptp(pts, axis=0) if len(pts) > 1 else np.ones(2)
    aspect = float(np.clip((span[1] + 0.3 * span.max()) / (span[0] + 0.3 * span.max()), 0.4, 1.5))
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


# ---------------------------------------------------------------------------------------
# the network


def _fallback_positions(ids: Sequence[str], radius: float, phase: float) -> dict[str, tuple]:
    n = max(len(ids), 1)
    return {
        a: (radius * np.cos(phase + 2 * np.pi * k / n), radius * np.sin(phase + 2 * np.pi * k / n))
        for k, a in enumerate(ids)
    }


def _node(
    ax: Axes,
    xy,
    *,
    marker: str,
    size: float,
    color: str,
    lw: float,
    gid: str,
    label: str,
    offset: tuple[float, float],
    text_color: str = "black",
    **text,
) -> None:
    """One labelled network node (a power or an institution)."""
    ax.scatter(
        [xy[0]],
        [xy[1]],
        marker=marker,
        s=size,
        color=color,
        edgecolor="black",
        lw=lw,
        zorder=4,
        gid=gid,
    )
    ax.annotate(
        label,
        (xy[0], xy[1]),
        xytext=offset,
        textcoords="offset points",
        color=text_color,
        zorder=5,
        **text,
    )


def network_layout(world, *, state: str | None = None) -> dict[str, np.ndarray]:
    """Deterministic node positions for `network_view` (no random seeds).

    Whole world: states and powers at their world positions (lon, lat; on a circle when a
    position is absent); factions on a small circle around their state, the first at the
    top, clockwise; institutions near their leader, toward the states.

    One ``state``: an ego view centred on it. Its factions on a unit circle; every other
    node in the direction of its geographic position from the state: the far ends of
    cross-border links at radius 1.6 (around their state's direction), institutions at 2.25
    (around their leader's), powers at 2.9.
    """
    pos: dict[str, np.ndarray] = {}
    fb_states = _fallback_positions(world.state_ids, 10.0, np.pi / 2)
    fb_powers = _fallback_positions(world.power_ids, 18.0, np.pi / 4)
    for s in world.states:
        pos[s.id] = np.array(s.position if s.position is not None else fb_states[s.id], float)
    for p in world.powers:
        pos[p.id] = np.array(p.position if p.position is not None else fb_powers[p.id], float)
    centres = np.array([pos[s] for s in world.state_ids])
    d = [
        np.hypot(*(centres[i] - centres[j]))
        for i in range(len(centres))
        for j in range(i + 1, len(centres))
    ]
    radius = min(1.2, 0.34 * min(d)) if d else 1.2
    by_state = {s: [f.id for f in world.factions if f.state == s] for s in world.state_ids}

    def ring(centre, ids, r):
        for k, fid in enumerate(ids):
            ang = np.pi / 2 - 2 * np.pi * k / len(ids)
            pos[fid] = centre + r * np.array([np.cos(ang), np.sin(ang)])

    if state is None:
        for s in world.state_ids:
            ring(pos[s], by_state[s], radius)
        middle = centres.mean(axis=0)
        for p in world.powers:
            led = [i for i in world.institutions if i.leader == p.id]
            toward = middle - pos[p.id]
            base = np.arctan2(toward[1], toward[0])
            for k, inst in enumerate(led):
                ang = base + (k - (len(led) - 1) / 2) * 0.55
                pos[inst.id] = pos[p.id] + 2.6 * np.array([np.cos(ang), np.sin(ang)])
        return pos
    geo = dict(pos)
    centre = geo[state]

    def angle(node):
        v = geo[node] - centre
        return float(np.arctan2(v[1], v[0])) if np.hypot(*v) > 0 else np.pi / 2

    def unit(a):
        return np.array([np.cos(a), np.sin(a)])

    out = {state: np.zeros(2)}
    for k, fid in enumerate(by_state[state]):
        out[fid] = unit(np.pi / 2 - 2 * np.pi * k / len(by_state[state]))
    for p in world.powers:
        out[p.id] = 2.9 * unit(angle(p.id))
        led = [i for i in world.institutions if i.leader == p.id]
        for k, inst in enumerate(led):
            out[inst.id] = 2.25 * unit(angle(p.id) + (k - (len(led) - 1) / 2) * 0.3)
    # other states' factions around their state's direction, at least `gap` radians apart
    gap = 0.17
    far = []
    for s in world.state_ids:
        if s == state:
            continue
        out[s] = 1.75 * unit(angle(s))
        ids = by_state[s]
        far += [(angle(s) + (k - (len(ids) - 1) / 2) * gap, fid) for k, fid in enumerate(ids)]
    far.sort()
    angles = _spread([a for a, _ in far], gap)
    for a, (_, fid) in zip(angles, far, strict=True):
        out[fid] = 1.75 * unit(a)
    return out


def _spread(values: Sequence[float], gap: float) -> list[float]:
    """Move sorted values apart, as little as possible, until neighbours are ``gap`` apart.

    Values that would crowd form a run centred on their mean; runs merge when they touch.
    """
    runs: list[tuple[float, list[float]]] = []  # (first position, wanted values)
    for v in values:
        runs.append((v, [v]))
        while len(runs) > 1 and runs[-2][0] + len(runs[-2][1]) * gap > runs[-1][0] + 1e-12:
            members = runs[-2][1] + runs[-1][1]
            runs[-2:] = [(float(np.mean(members)) - (len(members) - 1) * gap / 2, members)]
    return [start + k * gap for start, members in runs for k in range(len(members))]


def tie_strength(world) -> np.ndarray:
    """Channel-weighted tie strength of each faction to each power, shape (F, P).

    For faction f of state s and power p: sum over channels c of sensitivity[f, c] times
    tie[s, p, c]; in [0, 1].
    """
    ties = world.tie_array[world.faction_state]  # (F, P, C)
    return np.einsum("fc,fpc->fp", world.sensitivity, ties)


def network_view(
    world,
    *,
    ax: Axes | None = None,
    state: str | None = None,
    labels: bool | None = None,
    max_width: float = 3.5,
) -> Axes:
    """The tie structure of a world, drawn on a schematic map.

    Nodes: factions (small circles in their faction colour, on a circle around their state's
    position), powers (squares in their colour), institutions (diamonds near their leader,
    in the leader's colour). Edges: faction-to-power ties (power colour, width proportional
    to the channel-weighted tie strength, `tie_strength`), intra-state peer ties (thin
    grey), cross-border links (dashed dark grey, width growing with the link weight) and
    institution memberships (dotted, leader colour; to the member state's centre or power).

    Parameters
    ----------
    world : World
    ax : matplotlib Axes, optional
    state : str, optional
        Draw only this state's factions (and the far ends of their links, in grey).
    labels : bool, optional
        Label the factions (default: when ``state`` is given).
    max_width : float
        Line width, in points, of the strongest tie.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax, created = _new_axes(ax, size=(8.0, 6.6) if state is None else (6.5, 6.0))
    if state is not None and state not in world.state_ids:
        raise KeyError(f"no state '{state}' (have {', '.join(world.state_ids)})")
    labels = state is not None if labels is None else labels
    pos = network_layout(world, state=state)
    shown = [f for f in world.factions if state is None or f.state == state]
    shown_ids = {f.id for f in shown}
    strength = tie_strength(world)
    smax = float(strength.max()) or 1.0
    segs, widths, cols = [], [], []
    for f in shown:
        for k, p in enumerate(world.powers):
            s = float(strength[world.index[f.id], k])
            if s > 0:
                segs.append([pos[f.id], pos[p.id]])
                widths.append(max_width * s / smax)
                cols.append(power_color(p.id, world))
    ties = LineCollection(segs, linewidths=widths, colors=cols, alpha=0.4, zorder=1)
    ties.set_gid("ties")
    ax.add_collection(ties)
    peers = []
    for s in world.states:
        if state is not None and s.id != state:
            continue
        own = [f.id for f in world.factions if f.state == s.id]
        peers += [[pos[a], pos[b]] for i, a in enumerate(own) for b in own[i + 1 :]]
    pc = LineCollection(peers, linewidths=0.5, colors="#9A9A9A", zorder=1.5, gid="peers")
    ax.add_collection(pc)
    lsegs, lwid, far = [], [], set()
    wmax = max((w for _, _, w in world.links), default=1.0) or 1.0
    for a, b, w in world.links:
        if state is not None and a not in shown_ids and b not in shown_ids:
            continue
        lsegs.append([pos[a], pos[b]])
        lwid.append(0.6 + 1.4 * w / wmax)
        far |= {a, b} - shown_ids
    lc = LineCollection(
        lsegs, linewidths=lwid, colors="#333333", linestyles=(0, (4, 2)), zorder=1.6, gid="links"
    )
    ax.add_collection(lc)
    msegs, mcols = [], []
    for inst in world.institutions:
        for m in inst.members:
            if state is not None and m in world.state_ids and m != state:
                continue
            msegs.append([pos[inst.id], pos[m]])
            mcols.append(power_color(inst.leader, world))
    mc = LineCollection(
        msegs,
        linewidths=1.0,
        colors=mcols,
        linestyles=(0, (1, 1.5)),
        alpha=0.8,
        zorder=1.4,
        gid="memberships",
    )
    ax.add_collection(mc)
    halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
    ax.scatter(
        [pos[f.id][0] for f in shown],
        [pos[f.id][1] for f in shown],
        s=28 if state is None else 60,
        c=[faction_color(f.id, world) for f in shown],
        edgecolors="#222222",
        linewidths=0.5,
        zorder=3,
        gid="factions",
    )
    if far:
        farl = sorted(far)
        ax.scatter(
            [pos[f][0] for f in farl],
            [pos[f][1] for f in farl],
            s=22,
            c="#CCCCCC",
            edgecolors="#666666",
            linewidths=0.5,
            zorder=3,
            gid="far_factions",
        )
        for fid in farl:
            a = float(np.arctan2(pos[fid][1], pos[fid][0]))
            right = np.cos(a) >= 0
            ax.annotate(
                fid,
                (pos[fid][0], pos[fid][1]),
                xytext=(6 * np.cos(a), 6 * np.sin(a)),
                textcoords="offset points",
                rotation=np.degrees(a) if right else np.degrees(a) + 180,
                rotation_mode="anchor",
                ha="left" if right else "right",
                va="center",
                fontsize=6.5,
                color="#555555",
                path_effects=halo,
                zorder=5,
            )
    for p in world.powers:
        _node(
            ax,
            pos[p.id],
            marker="s",
            size=150,
            color=power_color(p.id, world),
            lw=0.6,
            gid=f"power:{p.id}",
            label=f"{p.name} ({p.id})",
            offset=(9, 4),
            fontsize=8.5,
            fontweight="bold",
            text_color=power_color(p.id, world),
            path_effects=halo,
        )
    for inst in world.institutions:
        _node(
            ax,
            pos[inst.id],
            marker="D",
            size=60,
            color=power_color(inst.leader, world),
            lw=0.5,
            gid=f"institution:{inst.id}",
            label=inst.id,
            offset=(0, -9),
            ha="center",
            va="top",
            fontsize=7.5,
            path_effects=halo,
        )
    for s in world.states:
        if state is not None and s.id != state:
            continue
        ax.text(
            pos[s.id][0],
            pos[s.id][1],
            s.id,
            ha="center",
            va="center",
            fontsize=9,
            fontweight="bold",
            path_effects=halo,
            zorder=5,
        )
    if labels:
        for f in shown:
            d = pos[f.id] - pos[f.state]
            d = d / (np.hypot(*d) or 1.0)
            ax.annotate(
                f.id.split(".", 1)[-1],
                (pos[f.id][0], pos[f.id][1]),
                xytext=(9 * d[0], 9 * d[1]),
                textcoords="offset points",
                ha="left" if d[0] > 0.2 else ("right" if d[0] < -0.2 else "center"),
                va="bottom" if d[1] > 0.2 else ("top" if d[1] < -0.2 else "center"),
                fontsize=7.5,
                path_effects=halo,
                zorder=5,
            )
    ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale_view()
    ax.margins(0.08)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#BBBBBB")
    handles = [
        Line2D(
            [],
            [],
            color="#777777",
            lw=max_width,
            alpha=0.45,
            label="tie to a power (width: strength)",
        ),
        Line2D([], [], color="#9A9A9A", lw=0.5, label="peers within a state"),
        Line2D([], [], color="#333333", lw=1.0, ls=(0, (4, 2)), label="cross-border link"),
        Line2D([], [], color="#777777", lw=1.0, ls=(0, (1, 1.5)), label="institution membership"),
    ]
    ax.legend(
        handles=handles,
        fontsize=7.5,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncols=2,
        frameon=False,
    )
    if created:
        ax.set_title(
            f"Ties of {world.name}"
            + (f": {state}" if state else "")
            + " (schematic; positions approximate)",
            fontsize=10,
        )
    return ax


# ---------------------------------------------------------------------------------------
# everything for a store


def figure_set(
    results,
    comparison=None,
    contributions: pd.DataFrame | None = None,
    *,
    point: int = 0,
    states: Sequence[str] | None = None,
    explained: dict[str, str] | None = None,
) -> dict[str, Figure]:
    """Every figure of an experiment store, by name (ready for ``fig.savefig``).

    Names: ``balance_by_state``; ``fan_<actor>`` for each state and the region (one panel
    per scenario, the baseline faint behind each counterfactual); ``faction_shares_<state>``,
    ``faction_leaders_<state>``, ``faction_quantiles_<state>`` and ``network_<state>`` for
    the ``states``; ``reputation_credibility``; ``regional_map`` (the start, the
    ``[compare] at`` dates and the horizon); ``network`` (the whole world);
    ``effects_forest`` (with a comparison: balance at each compared date) and
    ``attribution`` (with contributions from `influence_sim.explain`).

    Parameters
    ----------
    results : ResultSet
        An experiment store.
    comparison : Comparison, optional
        From `influence_sim.compare`.
    contributions : pandas.DataFrame, optional
        The first frame from `influence_sim.explain`.
    point : int
        Design point.
    states : sequence of str, optional
        States with faction figures and a one-state network (default: the states that the
        scenarios' events name, else the first state).
    explained : dict, optional
        What the contributions explain, for the attribution's labels and colours:
        ``measure``, ``actor``, ``scenario`` and ``at`` (a date, as text); default: the
        baseline's balance of KZ at the horizon.
    """
    m = results.manifest
    world = _world(m)
    recorded = m["output"]["measures"]
    out: dict[str, Figure] = {}
    if "balance" in recorded:
        out["balance_by_state"] = balance_panels(results, point=point)
        for actor in [*world.state_ids, "region"]:
            out[f"fan_{actor}"] = fan_panels(results, actor, point=point)
    states = list(states) if states is not None else _event_states(m, world)
    if "share" in recorded:
        for s in states:
            out[f"faction_shares_{s}"] = _root(faction_shares(results, s, point=point))
            out[f"faction_leaders_{s}"] = _root(faction_leaders(results, s, point=point))
            out[f"faction_quantiles_{s}"] = faction_share_quantiles(results, s, point=point)
    if {"reputation", "credibility"} <= set(recorded):
        out["reputation_credibility"] = _root(reputation_credibility(results, point=point))
    if "balance" in recorded:
        x, _, _ = _block(results, "balance", None, point)
        when = [x[0], *(np.datetime64(d, "D") for d in m["compare"]["at"]), x[-1]]
        when = sorted(set(when))
        out["regional_map"] = regional_map_panels(results, when, point=point)
    out["network"] = _root(network_view(world))
    for s in states:
        out[f"network_{s}"] = _root(network_view(world, state=s))
    if comparison is not None and not comparison.effects.empty:
        eff = comparison.effects
        eff = eff[eff["measure"] == "balance"]
        if not eff.empty:
            dates = sorted(set(eff["date"].astype(str)))
            n_rows = len(eff[eff["date"].astype(str) == dates[-1]])
            n_groups = eff["scenario"].nunique()
            fig = Figure(
                figsize=(3.6 * len(dates) + 1.2, 0.165 * (n_rows + 1.6 * n_groups) + 1.5),
                layout="constrained",
            )
            axes = fig.subplots(1, len(dates), sharey=True, sharex=True, squeeze=False).ravel()
            for ax, d in zip(axes, dates, strict=True):
                effects_forest(
                    eff,
                    measure="balance",
                    date=d,
                    scenarios=results.scenarios,
                    point=point,
                    ax=ax,
                )
                ax.set_xlabel("")
                ax.set_title(d + (" (horizon)" if d == dates[-1] else ""), fontsize=10)
                ax.tick_params(axis="x", labelsize=8)
            a, b = world.balance
            fig.supxlabel(
                f"difference from baseline (balance {a} \u2212 {b}; mean of paired differences "
                "with 95% CI; filled: the CI excludes 0)",
                fontsize=9,
            )
            fig.suptitle(
                f"Effects of each scenario on the balance, against {results.baseline}",
                fontsize=10,
            )
            out["effects_forest"] = fig
    if contributions is not None and len(contributions):
        info = {
            "measure": "balance",
            "actor": "KZ",
            "scenario": results.baseline,
            "at": "the horizon",
        }
        info.update(explained or {})
        a, b = world.balance
        if info["measure"] == "balance":
            colors = (power_color(a, world), power_color(b, world))
            label = (
                f"contribution to the balance of {info['actor']} ({a} \u2212 {b}) at "
                f"{info['at']}\n(+ toward {a}, \u2212 toward {b}; with all events \u2212 without "
                "the event)"
            )
        else:
            colors = ("#4D4D4D", "#B8B8B8")
            label = f"contribution to {info['measure']} {info['actor']} at {info['at']}"
        ax = attribution_chart(contributions, colors=colors, xlabel=label)
        ax.set_title(
            f"What moved {info['measure']} {info['actor']} in {info['scenario']}\n"
            "each event's mean contribution with its 95% CI (paired replicates)",
            fontsize=10,
            loc="left",
        )
        out["attribution"] = _root(ax)
    return out


def _event_states(manifest, world) -> list[str]:
    """States that any scenario's events name (directly or through a faction), world order.

    Falls back to the first state when no event names one.
    """
    named = set()
    for entry in manifest["scenarios"]:
        for ev in entry["resolved"]["events"]:
            for key in ("state", "faction", "from", "to", "backs"):
                v = ev.get(key)
                if isinstance(v, str):
                    named.add(v.split(".", 1)[0])
    return [s for s in world.state_ids if s in named] or list(world.state_ids[:1])


def _world(manifest):
    """The experiment's world, from the path recorded in its manifest."""
    from .core.world import load_world

    return load_world(manifest["scenarios"][0]["world_path"])
