"""Time series: fan charts of one series, panels per scenario or per state, reputations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .data import _changed_events, _labelled_events, _name, _quantiles, _varies, series
from .marks import _draw_events, _fan, _mark_events
from .style import (
    BASELINE_COLOR,
    EVENT_COLOR,
    FAINT_COLOR,
    INSTITUTION_STYLES,
    _date_axis,
    _legend_outside,
    _new_axes,
    _scenario_style,
    _zero_line,
    power_color,
)

if TYPE_CHECKING:
    from ..core.world import World
    from ..experiment.source import ResultSource
    from ..experiment.store import ResultSet


def _measure_label(world: World, measure: str, actor: str, power: str | None) -> str:
    """The y label of a series, e.g. ``balance KZ (RU − CN)``."""
    if measure == "balance":
        a, b = world.balance
        return f"balance {actor} ({a} \u2212 {b})"
    return f"{measure} {actor}" + (f" {power}" if power else "")


def fan_chart(
    source: ResultSource,
    measure: str = "balance",
    actor: str | None = None,
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
    source : ResultSource
        A run from `influence_sim.simulate`, or an experiment store.
    measure, actor, power : str
        Which series (power only for per-power measures such as ``alignment``). ``actor``
        defaults to the first of the states that the scenarios' events name
        (``source.focus_states()``).
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
    source: ResultSource,
    measure: str,
    actor: str | None,
    *,
    power: str | None,
    scenario: str | None,
    point: int,
    baseline: bool,
    events: bool | str,
    ax: Axes,
    color: str | None = None,
    label: str | None = None,
    bands: bool = True,
    linestyle: Any = None,
) -> float:
    """Draw `fan_chart` on ``ax``; return the height of the event labels (points)."""
    name = _name(source, scenario)
    world = source.world(name)
    if actor is None:
        actor = source.focus_states()[0]
    x, y = series(source, measure, actor, power, scenario=name, point=point)
    own_color, own_style = _scenario_style(source, name)
    if color is None:
        per_power = power or (actor if measure == "reputation" else None)
        color = power_color(per_power, world) if per_power else own_color
    is_base = name == source.baseline
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
    if events == "changed" and not is_base:
        return _mark_events(ax, _changed_events(source, name, point))
    return _draw_events(ax, source, name, point, events)


def _fan_panels_legend(fig: Figure, baseline: str) -> None:
    """The legend of `fan_panels`, below the panels."""
    handles = [
        Line2D([], [], color=BASELINE_COLOR, lw=1.6, label="median"),
        Patch(color=BASELINE_COLOR, alpha=0.3, label="50% band"),
        Patch(color=BASELINE_COLOR, alpha=0.15, label="90% band"),
        Line2D([], [], color=FAINT_COLOR, lw=1.1, label=f"{baseline} (baseline) median"),
        Patch(color=FAINT_COLOR, alpha=0.14, label="baseline 90% band"),
        Line2D([], [], color=EVENT_COLOR, lw=0.6, ls=(0, (3, 2)), label="event (added or changed)"),
        Line2D([], [], color="#A8A8A8", lw=0.6, ls=(0, (1, 2)), label="\u2212event: removed"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8, frameon=False)


def fan_panels(
    results: ResultSource,
    actor: str | None = None,
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
    results : ResultSource
        An experiment store (a single run gives one panel).
    actor, measure, power : str
        The series; ``actor`` defaults to the first of ``results.focus_states()``.
    """
    if actor is None:
        actor = results.focus_states()[0]
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
    _fan_panels_legend(fig, results.baseline)
    fig.suptitle(
        f"{_measure_label(results.world(), measure, actor, power)}: each scenario against the "
        f"baseline\nmedian across {results.n_replicates} paired replicates with 50% and 90% "
        "bands; percentages: share of replicates in which an event fired",
        fontsize=10,
    )
    return fig


def balance_panels(results: ResultSet, *, ncols: int = 3, point: int = 0) -> Figure:
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
    base = results.baseline
    others = [n for n in results.scenarios if n != base]
    world = results.world()
    actors = [*world.state_ids, "region"]
    names = {s.id: s.name for s in world.states}
    nrows = -(-len(actors) // ncols)
    fig = Figure(figsize=(4.4 * ncols, 3.2 * nrows + 2.2), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    base_events = _labelled_events(results, base, point)
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
        f"{results.experiment['title']}\nmedian across {results.n_replicates} paired "
        "replicates; baseline with 50% and 90% bands; panels have their own scales",
        fontsize=10,
    )
    return fig


def reputation_credibility(
    source: ResultSource,
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
    source : ResultSource
        A run or an experiment store.
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
    world = source.world(name)
    x, rep, rep_labels = source.block("reputation", name, point)
    _, cred, cred_labels = source.block("credibility", name, point)
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
    pad = _draw_events(ax, source, name, point, events)
    ax.set_title(
        f"Reputation of the powers and credibility of the institutions: {name}",
        fontsize=10,
        pad=pad + 3,
    )
    if legend:
        _legend_outside(ax)
    return ax
