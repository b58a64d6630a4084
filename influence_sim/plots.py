"""Figures (matplotlib). Importing influence_sim does not import this module.

Functions that draw one panel take ``ax=None`` and return the Axes; functions that draw a
multi-panel figure return a `matplotlib.figure.Figure` built without pyplot, so they change no
global state.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["POWER_COLORS", "balance_panels", "fan_chart", "series"]

#: One colour per power, the same in every figure (Okabe–Ito, colour-blind safe).
POWER_COLORS = {"RU": "#D55E00", "CN": "#0072B2"}
#: Counterfactual lines: distinct hues (none of them the powers' or the baseline's), cycling
#: through line styles past eight scenarios.
SCENARIO_COLORS = [
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#CC79A7",
    "#882255",
    "#44AA99",
    "#999933",
    "#AA4499",
]
SCENARIO_STYLES = ["-", "--", ":"]
BASELINE_COLOR = "#222222"


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
        For a store: which scenario (default: the baseline).
    point : int
        For a store: the design point.
    """
    if hasattr(source, "manifest"):  # a results store
        vals, steps, labels = source.array(measure, scenario or source.baseline, point=point)
        key = actor + (f"/{power}" if power else "")
        if key not in labels:
            raise KeyError(f"no {measure} series '{key}' (have {', '.join(labels)})")
        return source.dates(steps), vals[:, :, labels.index(key)].T
    actors, powers = source.labels(measure)
    col = next(
        j
        for j, (a, p) in enumerate(zip(actors, powers, strict=True))
        if a == actor and (power is None or p == power)
    )
    arr = source.data[measure]
    return source.dates, arr.reshape(arr.shape[0], arr.shape[1], -1)[:, :, col].astype(float)


def fan_chart(
    source,
    measure: str = "balance",
    actor: str = "KZ",
    *,
    power: str | None = None,
    scenario: str | None = None,
    ax: Axes | None = None,
    color: str = BASELINE_COLOR,
    label: str | None = None,
    bands: bool = True,
    linestyle: str = "-",
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
    ax : matplotlib Axes, optional
        Where to draw; a new figure's Axes when None.
    color, label, linestyle : str
        Line colour, legend label (default: the scenario name) and line style.
    bands : bool
        Draw the 50% and 90% bands.
    """
    if ax is None:
        ax = Figure(figsize=(7, 4)).add_subplot()
    x, y = series(source, measure, actor, power, scenario=scenario)
    q05, q25, q50, q75, q95 = np.quantile(y, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
    if bands:
        ax.fill_between(x, q05, q95, color=color, alpha=0.15, lw=0, label="90% band")
        ax.fill_between(x, q25, q75, color=color, alpha=0.3, lw=0, label="50% band")
    name = scenario or getattr(source, "baseline", None) or source.scenario.name
    ax.plot(x, q50, color=color, lw=1.6, ls=linestyle, label=label or name)
    ax.set_ylabel(f"{measure} {actor}" + (f" {power}" if power else ""))
    return ax


def balance_panels(results, *, ncols: int = 3) -> Figure:
    """Balance per state and for the region: baseline fan chart, other scenarios' medians.

    Parameters
    ----------
    results : ResultSet
        An experiment store; its baseline gets bands, every other scenario a median line.
    """
    m = results.manifest
    base = results.baseline
    others = [n for n in results.scenarios if n != base]
    world = _world(m)
    actors = [*world.state_ids, "region"]
    names = {s.id: s.name for s in world.states}
    nrows = -(-len(actors) // ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.0 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    for ax, actor in zip(axes, actors, strict=False):
        fan_chart(results, "balance", actor, ax=ax, label=f"{base} (baseline)")
        for k, other in enumerate(others):
            n = len(SCENARIO_COLORS)
            fan_chart(
                results,
                "balance",
                actor,
                scenario=other,
                ax=ax,
                bands=False,
                color=SCENARIO_COLORS[k % n],
                linestyle=SCENARIO_STYLES[(k // n) % len(SCENARIO_STYLES)],
            )
        lo, hi = ax.get_ylim()
        if lo < 0 < hi:  # mark parity only where it is in range, not squashing the panel
            ax.axhline(0, color="black", lw=0.6)
        ax.set_title(
            f"{names[actor]} ({actor})" if actor != "region" else "Region (weighted)", fontsize=10
        )
        ax.set_ylabel("balance " + "\u2212".join(world.balance))
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    for ax in axes[len(actors) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
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


def _world(manifest):
    """The experiment's world, from the path recorded in its manifest."""
    from .world import load_world

    return load_world(manifest["scenarios"][0]["world_path"])
