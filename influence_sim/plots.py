"""Figures (matplotlib). Importing influence_sim does not import this module.

Functions that draw one panel take ``ax=None`` and return the Axes; functions that draw a
multi-panel figure return a `matplotlib.figure.Figure` built without pyplot, so they change no
global state.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["POWER_COLORS", "balance_panels", "fan_chart"]

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


def _series(result, measure: str, actor: str, power: str | None = None) -> np.ndarray:
    actors, powers = result.labels(measure)
    col = next(
        j
        for j, (a, p) in enumerate(zip(actors, powers, strict=True))
        if a == actor and (power is None or p == power)
    )
    arr = result.data[measure]
    return arr.reshape(arr.shape[0], arr.shape[1], -1)[:, :, col].astype(float)


def fan_chart(
    result,
    measure: str = "balance",
    actor: str = "KZ",
    *,
    power: str | None = None,
    ax: Axes | None = None,
    color: str = BASELINE_COLOR,
    label: str | None = None,
    bands: bool = True,
    linestyle: str = "-",
) -> Axes:
    """Median of a measure across replicates, with 50% and 90% bands.

    Parameters
    ----------
    result : Result
        A run from `influence_sim.simulate`.
    measure, actor, power : str
        Which series (power only for per-power measures such as ``alignment``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure's Axes when None.
    color, label, linestyle : str
        Line colour, legend label (default: the scenario name) and line style.
    bands : bool
        Draw the 50% and 90% bands.
    """
    if ax is None:
        ax = Figure(figsize=(7, 4)).add_subplot()
    y = _series(result, measure, actor, power)
    x = result.dates
    q05, q25, q50, q75, q95 = np.quantile(y, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
    if bands:
        ax.fill_between(x, q05, q95, color=color, alpha=0.15, lw=0, label="90% band")
        ax.fill_between(x, q25, q75, color=color, alpha=0.3, lw=0, label="50% band")
    ax.plot(x, q50, color=color, lw=1.6, ls=linestyle, label=label or result.scenario.name)
    ax.set_ylabel(f"{measure} {actor}" + (f" {power}" if power else ""))
    return ax


def balance_panels(base, others: Sequence = (), *, ncols: int = 3) -> Figure:
    """Balance per state and for the region: baseline fan chart, counterfactual medians."""
    w = base.scenario.world
    actors = [*w.state_ids, "region"]
    nrows = -(-len(actors) // ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.0 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    for ax, actor in zip(axes, actors, strict=False):
        fan_chart(base, "balance", actor, ax=ax, label=f"{base.scenario.name} (baseline)")
        for k, other in enumerate(others):
            n = len(SCENARIO_COLORS)
            fan_chart(
                other,
                "balance",
                actor,
                ax=ax,
                bands=False,
                color=SCENARIO_COLORS[k % n],
                linestyle=SCENARIO_STYLES[(k // n) % len(SCENARIO_STYLES)],
            )
        lo, hi = ax.get_ylim()
        if lo < 0 < hi:  # mark parity only where it is in range, not squashing the panel
            ax.axhline(0, color="black", lw=0.6)
        name = next((s.name for s in w.states if s.id == actor), "Region (weighted)")
        ax.set_title(f"{name} ({actor})" if actor != "region" else name, fontsize=10)
        ax.set_ylabel(f"balance {'−'.join(w.balance)}")
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
        f"{base.scenario.title}\nmedian across {len(base.replicates)} paired "
        "replicates; baseline with 50% and 90% bands; panels have their own scales",
        fontsize=10,
    )
    return fig
