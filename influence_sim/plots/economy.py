"""The economy over time: trade with each power and each power's share of a state's flows.

Only for results whose world declares ``[[flows]]`` and that recorded ``trade``
(`has_economy`); the shares (``trade_share``, ``remittance_share``, ``debt_share``) are drawn
where they were recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from ..errors import ArgumentError, suggest
from .data import _name, _quantiles, _rate_text, _varies, scenario_events
from .marks import _mark_events
from .style import BASELINE_COLOR, EVENT_COLOR, _date_axis, power_color

if TYPE_CHECKING:
    from ..core.world import World
    from ..experiment.source import ResultSource

#: The measures this figure reads: trade turnover (USD bn per year), then the shares.
ECONOMY_MEASURES = ("trade", "trade_share", "remittance_share", "debt_share")
#: Line style of each share (the trade share also gets its 90% band).
SHARE_STYLES: dict[str, Any] = {
    "trade_share": "-",
    "remittance_share": (0, (4, 1.6)),
    "debt_share": (0, (1, 1.4)),
}
SHARE_LABELS = {
    "trade_share": "trade share",
    "remittance_share": "remittance share",
    "debt_share": "lending & investment share",
}
#: Event kinds that move flows, and the fields that must be non-zero for them to (None: any).
FLOW_EVENTS: dict[str, tuple[str, ...] | None] = {
    "trend": None,
    "sanction": None,
    "summit": ("lending", "trade_growth"),
    "treaty": ("lending", "trade_growth"),
}


def has_economy(source: ResultSource, scenario: str | None = None) -> bool:
    """Whether ``source`` recorded the economy: the ``trade`` measure of a world with flows.

    A store lists the measures its experiment asked for; a world without ``[[flows]]``
    records no economy measure even when asked, so the world is checked too.
    """
    return "trade" in source.measures and source.world(scenario).has_economy


def flow_events(
    source: ResultSource, scenario: str | None = None, *, point: int = 0
) -> list[tuple[str, np.datetime64]]:
    """The events of a scenario that move flows, as (label, date); see `FLOW_EVENTS`.

    The label is the event id, with its firing rate where it fired in only some replicates.
    """
    rec = source.record(scenario)
    moves = set()
    for ev in rec.events:
        kind = ev.get("kind")
        if kind not in FLOW_EVENTS:
            continue
        fields = FLOW_EVENTS[kind]
        if fields is None or any(ev.get(f, 0) not in (0, 0.0) for f in fields):
            moves.add(ev["id"])
    return [
        (eid + _rate_text(rate), when)
        for eid, when, rate in scenario_events(source, rec.name, point=point)
        if eid in moves
    ]


def _blocks(
    source: ResultSource, name: str, point: int
) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
    """The recorded economy measures of a scenario: measure -> (dates, values, labels)."""
    out = {}
    for m in ECONOMY_MEASURES:
        if m not in source.measures:
            continue
        try:
            out[m] = source.block(m, name, point)
        except KeyError:  # asked for but not recorded (a world without flows)
            continue
    return out


def economy_differs(source: ResultSource, scenario: str, *, point: int = 0) -> bool:
    """Whether any economy series of ``scenario`` differs from the baseline's."""
    mine = _blocks(source, scenario, point)
    base = _blocks(source, source.baseline, point)
    return any(
        m not in base or v[1].shape != base[m][1].shape or not np.array_equal(v[1], base[m][1])
        for m, v in mine.items()
    )


def _band(ax: Axes, x: np.ndarray, y: np.ndarray, color: str, gid: str) -> bool:
    """Median line and (where replicates differ) the central 90% band of (T, R) values.

    Returns whether a band was drawn.
    """
    q = _quantiles(y)
    varies = _varies(q)
    if varies:
        ax.fill_between(x, q[0], q[4], color=color, alpha=0.16, lw=0, zorder=1, gid=gid)
    ax.plot(x, q[2], color=color, lw=1.6, zorder=2.2, gid=gid)
    return varies


def economy_panels(
    source: ResultSource,
    *,
    scenario: str | None = None,
    point: int = 0,
    states: Sequence[str] | None = None,
    baseline: bool = True,
    exposure: bool | None = None,
    events: bool = True,
) -> Figure:
    """Trade with each power and each power's shares of a state's flows, one column per state.

    Top row: trade turnover with each power (USD bn per year), median across replicates with
    the central 90% band, one line per power in the power's colour; each state has its own
    scale, from 0. Bottom row: each power's share of the state's trade (median with 90% band)
    and, with ``exposure``, of its remittance inflows (dashed) and lending and investment
    stock (dotted), medians only; all states on one scale from 0%. Thin dashed vertical lines
    mark the events that move flows (`FLOW_EVENTS`; ids over the first panel). Each line's
    gid names its series (``trade_share:KZ/CN``; the baseline's: ``baseline trade:KZ/CN``).

    Parameters
    ----------
    source : ResultSource
        A run (`influence_sim.simulate`) or an experiment store (`load_results`) that
        recorded ``trade`` in a world with ``[[flows]]`` (`has_economy`).
    scenario : str, optional
        For a store: the scenario drawn (default: the baseline).
    point : int
        For a store: the design point.
    states : sequence of str, optional
        The states, one column each (default: every state of the world, in world order).
    baseline : bool
        For a store and a scenario other than the baseline: draw the baseline's medians
        behind, as thin faint lines in the powers' colours.
    exposure : bool, optional
        Draw the remittance and lending shares in the bottom row (default: when no baseline
        is drawn behind, to keep a comparison legible).
    events : bool
        Mark the dates of the events that move flows.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ArgumentError
        When the source has no economy (``argument="source"``) or a state is unknown.
    """
    name = _name(source, scenario)
    world = source.world(name)
    if not has_economy(source, name):
        raise ArgumentError(
            "no economy in these results: the trade measure needs a world with [[flows]] "
            f"and trade among the recorded measures (recorded: {', '.join(source.measures)})",
            argument="source",
        )
    if states is None:
        states = list(world.state_ids)
    for s in states:
        if s not in world.state_ids:
            raise ArgumentError(
                f"unknown state {s!r}; one of {', '.join(world.state_ids)}",
                argument="states",
                suggestion=suggest(s, world.state_ids, world.aliases),
            )
    blocks = _blocks(source, name, point)
    if "trade" not in blocks:
        raise ArgumentError(f"no trade recorded for {name} at point {point}", argument="source")
    behind = None
    if baseline and name != source.baseline:
        behind = _blocks(source, source.baseline, point)
    if exposure is None:
        exposure = behind is None
    shares = [m for m in SHARE_STYLES if m in blocks and (exposure or m == "trade_share")]
    nrows = 2 if shares else 1
    ncols = len(states)
    fig = Figure(figsize=(2.75 * ncols + 0.9, 2.75 * nrows + 2.0), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False)
    x = blocks["trade"][0]
    names = {st.id: st.name for st in world.states}
    banded = False
    for j, s in enumerate(states):
        rows = [("trade", axes[0, j])] + [(m, axes[1, j]) for m in shares]
        for m, ax in rows:
            _, vals, labels = blocks[m]
            style = "-" if m == "trade" else SHARE_STYLES[m]
            for p in world.power_ids:
                k = labels.index(f"{s}/{p}")
                c = power_color(p, world)
                gid = f"{m}:{s}/{p}"  # e.g. trade_share:KZ/CN (kept in SVG output)
                if behind is not None and m in behind:
                    _, bv, bl = behind[m]
                    med = np.median(bv[:, :, bl.index(f"{s}/{p}")], axis=1)
                    ax.plot(
                        x,
                        med,
                        color=c,
                        lw=1.0,
                        alpha=0.45,
                        ls=style,
                        zorder=1.5,
                        gid=f"baseline {gid}",
                    )
                if style == "-":
                    banded = _band(ax, x, vals[:, :, k], c, gid) or banded
                else:
                    med = np.median(vals[:, :, k], axis=1)
                    ax.plot(x, med, color=c, ls=style, lw=1.3, zorder=2.1, gid=gid)
    for ax in axes[0]:  # each state its own scale, from 0, with room above the top line
        ax.set_ylim(0, max(float(ax.dataLim.ymax), 1e-9) * 1.08)
    if shares:
        # one scale for every state: from 0 to the next 10% above the largest share drawn
        top = max(float(ax.dataLim.ymax) for ax in axes[1])
        top = min(1.0, max(0.1, np.ceil(top * 1.05 * 10 - 1e-9) / 10))
        for ax in axes[1, 1:]:
            ax.sharey(axes[1, 0])
            ax.tick_params(labelleft=False)
        axes[1, 0].set_ylim(0, top)
        axes[1, 0].yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    for ax in axes.ravel():
        _date_axis(ax, x)
        ax.tick_params(axis="both", labelsize=8)
        ax.grid(axis="y", color="#E6E6E6", lw=0.6, zorder=0)
        ax.set_axisbelow(True)
    axes[0, 0].set_ylabel("trade turnover with each power\n(USD bn per year)", fontsize=8.5)
    if shares:
        what = "trade, remittances, lending" if len(shares) > 1 else "trade"
        axes[1, 0].set_ylabel(f"each power's share of\nthe state's {what}", fontsize=8.5)
    pad = 0.0
    marked = flow_events(source, name, point=point) if events else []
    if marked:
        for k, ax in enumerate(axes.ravel()):
            got = _mark_events(ax, marked, labels=k == 0, fontsize=6.5)
            pad = max(pad, got)
    for j, s in enumerate(states):
        axes[0, j].set_title(f"{names[s]} ({s})", fontsize=10, pad=pad + 3)
    _legend(fig, source, world, shares, behind is not None, banded, bool(marked))
    spread = "with the central 90% band" if banded else "(identical in every replicate)"
    fig.suptitle(
        f"Trade and economic exposure per state: {name}"
        + (f" against {source.baseline} (baseline)" if behind is not None else "")
        + f"\nmedian across {source.n_replicates} replicates {spread}; "
        "flows as the model moves them from the world's 2021 figures",
        fontsize=10,
    )
    return fig


def _legend(
    fig: Figure,
    source: ResultSource,
    world: World,
    shares: list[str],
    behind: bool,
    band: bool,
    events: bool,
) -> None:
    """Powers by colour, measures by line style, the band, the baseline and event marks."""
    handles: list[Any] = [
        Line2D([], [], color=power_color(p.id, world), lw=2.2, label=f"{p.name} ({p.id})")
        for p in world.powers
    ]
    solid = "median: trade" + ("; trade share" if "trade_share" in shares else "")
    handles.append(Line2D([], [], color=BASELINE_COLOR, lw=1.6, label=solid))
    if band:
        handles.append(Patch(color=BASELINE_COLOR, alpha=0.16, lw=0, label="90% band"))
    for m in shares:
        if m != "trade_share":
            handles.append(
                Line2D(
                    [], [], color=BASELINE_COLOR, lw=1.3, ls=SHARE_STYLES[m], label=SHARE_LABELS[m]
                )
            )
    if behind:
        handles.append(
            Line2D(
                [],
                [],
                color=BASELINE_COLOR,
                lw=1.0,
                alpha=0.45,
                label=f"{source.baseline} (baseline): median",
            )
        )
    if events:
        handles.append(
            Line2D([], [], color=EVENT_COLOR, lw=0.6, ls=(0, (3, 2)), label="event moving flows")
        )
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), 8),
        fontsize=8,
        frameon=False,
    )
