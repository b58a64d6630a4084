"""Figures (matplotlib). Importing influence_sim does not import this package.

Functions that draw one panel take ``ax=None`` and return the Axes; functions that draw a
multi-panel figure return a `matplotlib.figure.Figure` built without pyplot, so they change no
global state (no ``plt.show()``, no style changes).

Every time-series function accepts a ``source``, any `ResultSource`: an in-memory run
(`influence_sim.simulate`) or an experiment store (`influence_sim.load_results`); for a store,
``scenario=`` picks the scenario (default: the baseline) and ``point=`` the design point
(default 0). Results are read only through that protocol. Uncertainty is shown as the median
across replicates with 50% and 90% bands (central quantiles), drawn only where replicates
differ. Where an actor is not given, figures show the first of the states that the scenarios'
events name (``source.focus_states()``): no actor id is written into this package.

Colours are the same in every figure: one per power (its ``color`` in the world file, else
`EXTRA_POWER_COLORS` by the power's position in its world), one per faction by its position
within its state (`FACTION_COLORS`), one per counterfactual by its position in the experiment
(`SCENARIO_COLORS`), and a diverging map from the second balance power's colour (negative)
through white to the first's (positive) for the balance.

Modules: `style` (colours and axis helpers), `data` (series and events read from results),
`marks` (fans and event marks), `timeseries`, `economy` (trade and the shares of the flows),
`factions`, `effects`, `maps` (the schematic `regional_map` and the `choropleth` of country
outlines), `network`, `sensitivity` (Sobol' indices and Morris's μ*–σ, with the model's noise
shown), `discovery` (PRIM's peeling trade-off and the chosen box), `evidence` (held-out observations
against the forecasts; calibration's targets before and after, implausibility by wave and the
non-implausible points) and `figure_set`.
"""

from __future__ import annotations

from .data import scenario_events, series
from .discovery import box_limits, discovery_panels, tradeoff
from .economy import economy_panels, flow_events, has_economy
from .effects import attribution_chart, effects_forest
from .evidence import (
    calibration_intervals,
    implausibility_by_wave,
    pairwise_survivors,
    scores_chart,
)
from .factions import faction_leaders, faction_share_quantiles, faction_shares
from .figure_set import figure_set
from .maps import boundaries, choropleth, choropleth_of, regional_map, regional_map_panels
from .network import network_layout as network_layout
from .network import network_view
from .network import tie_strength as tie_strength
from .sensitivity import morris_chart, sobol_chart
from .style import (
    BASELINE_COLOR,
    EXTRA_POWER_COLORS,
    FACTION_COLORS,
    SCENARIO_COLORS,
    balance_cmap,
    faction_color,
    power_color,
)
from .style import (
    FAINT_COLOR as FAINT_COLOR,
)
from .timeseries import balance_panels, fan_chart, fan_panels, reputation_credibility

__all__ = [
    "BASELINE_COLOR",
    "EXTRA_POWER_COLORS",
    "FACTION_COLORS",
    "SCENARIO_COLORS",
    "attribution_chart",
    "balance_cmap",
    "balance_panels",
    "boundaries",
    "box_limits",
    "calibration_intervals",
    "choropleth",
    "choropleth_of",
    "discovery_panels",
    "economy_panels",
    "effects_forest",
    "faction_color",
    "faction_leaders",
    "faction_share_quantiles",
    "faction_shares",
    "fan_chart",
    "fan_panels",
    "figure_set",
    "flow_events",
    "has_economy",
    "implausibility_by_wave",
    "morris_chart",
    "network_view",
    "pairwise_survivors",
    "power_color",
    "regional_map",
    "regional_map_panels",
    "reputation_credibility",
    "scenario_events",
    "scores_chart",
    "series",
    "sobol_chart",
    "tradeoff",
]
