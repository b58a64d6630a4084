"""Every figure of an experiment store, by name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .economy import economy_differs, economy_panels, has_economy
from .effects import attribution_chart, effects_forest
from .factions import faction_leaders, faction_share_quantiles, faction_shares
from .maps import regional_map_panels
from .network import network_view
from .style import _root, power_color
from .timeseries import balance_panels, fan_panels, reputation_credibility

if TYPE_CHECKING:
    from ..analysis.compare import Comparison
    from ..core.world import World
    from ..experiment.store import ResultSet


def figure_set(
    results: ResultSet,
    comparison: Comparison | None = None,
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
    the ``states``; ``reputation_credibility``; ``economy`` (trade and shares of the flows
    per state, when the store recorded ``trade`` in a world with flows) and
    ``economy_<scenario>`` for each counterfactual whose flows differ from the baseline's
    (drawn against the baseline); ``regional_map`` (the start, the
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
        scenarios' events name, else the first state: ``results.focus_states()``).
    explained : dict, optional
        What the contributions explain, for the attribution's labels and colours:
        ``measure``, ``actor``, ``scenario`` and ``at`` (a date, as text); default: the
        baseline's balance of the first focus state at the horizon.
    """
    world = results.world()
    recorded = results.measures
    focus = results.focus_states()
    out: dict[str, Figure] = {}
    if "balance" in recorded:
        out["balance_by_state"] = balance_panels(results, point=point)
        for actor in [*world.state_ids, "region"]:
            out[f"fan_{actor}"] = fan_panels(results, actor, point=point)
    states = list(states) if states is not None else focus
    if "share" in recorded:
        for s in states:
            out[f"faction_shares_{s}"] = _root(faction_shares(results, s, point=point))
            out[f"faction_leaders_{s}"] = _root(faction_leaders(results, s, point=point))
            out[f"faction_quantiles_{s}"] = faction_share_quantiles(results, s, point=point)
    if {"reputation", "credibility"} <= set(recorded):
        out["reputation_credibility"] = _root(reputation_credibility(results, point=point))
    if has_economy(results):
        out["economy"] = economy_panels(results, point=point)
        for name in results.scenarios:
            if name != results.baseline and economy_differs(results, name, point=point):
                out[f"economy_{name}"] = economy_panels(results, scenario=name, point=point)
    if "balance" in recorded:
        x, _, _ = results.block("balance", None, point)
        when = [x[0], *(np.datetime64(d, "D") for d in results.compare_at), x[-1]]
        out["regional_map"] = regional_map_panels(results, sorted(set(when)), point=point)
    out["network"] = _root(network_view(world))
    for s in states:
        out[f"network_{s}"] = _root(network_view(world, state=s))
    if comparison is not None and not comparison.effects.empty:
        eff = comparison.effects
        eff = eff[eff["measure"] == "balance"]
        if not eff.empty:
            out["effects_forest"] = _effects_figure(results, world, eff, point)
    if contributions is not None and len(contributions):
        info = {
            "measure": "balance",
            "actor": focus[0],
            "scenario": results.baseline,
            "at": "the horizon",
            **(explained or {}),
        }
        out["attribution"] = _attribution_figure(contributions, world, info)
    return out


def _effects_figure(results: ResultSet, world: World, eff: pd.DataFrame, point: int) -> Figure:
    """Forest plots of the balance effects, one panel per compared date."""
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
    return fig


def _attribution_figure(contributions: pd.DataFrame, world: World, info: dict[str, str]) -> Figure:
    """The attribution chart, labelled by what it explains (``measure``, ``actor``, ...)."""
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
    return _root(ax)
