"""Evidence: held-out observations against the model's predictive intervals and the baselines.

`scores_chart` reads the table of `influence_sim.analysis.scoring.score` (or the
``scores.csv`` the ``score`` command writes) and draws, per target, the observation with its
95% interval, the model's central predictive interval with its median, and the naive
baselines' point forecasts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from ..errors import ArgumentError
from .style import FAINT_COLOR, _new_axes

__all__ = ["scores_chart"]

#: The model's interval (Okabe-Ito blue) and the baselines' markers.
MODEL_COLOR = "#0072B2"
BASELINES = {"persistence": ("#D55E00", "s"), "trend": ("#009E73", "D")}
REQUIRED = ("target", "forecaster", "observed", "obs_low", "obs_high", "forecast", "low", "high")


def scores_chart(table: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """One row per held-out target: the observation against the forecasts (``ax=None``).

    Each target's values are on their own scale, so every row is drawn relative to its
    observation (forecast / observation - 1), the observation's interval around 0.
    """
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise ArgumentError(
            f"the table lacks {', '.join(missing)}; influence_sim.analysis.scoring.score "
            "(or the score command's scores.csv) gives it",
            argument="table",
        )
    targets = list(dict.fromkeys(table["target"]))
    ax, fresh = _new_axes(ax, (8.0, 1.2 + 0.7 * len(targets)))
    for row, tid in enumerate(targets):
        sub = table[table["target"] == tid].set_index("forecaster")
        y = float(sub["observed"].iloc[0])
        scale = abs(y) if y else 1.0

        def rel(v: float, y: float = y, scale: float = scale) -> float:
            return (v - y) / scale

        lo, hi = rel(float(sub["obs_low"].iloc[0])), rel(float(sub["obs_high"].iloc[0]))
        ax.plot([lo, hi], [row, row], color="black", lw=6, alpha=0.25, solid_capstyle="butt")
        ax.plot([0.0], [row], marker="|", color="black", markersize=16, mew=2)
        if "model" in sub.index:
            m = sub.loc["model"]
            ax.plot(
                [rel(m["low"]), rel(m["high"])], [row - 0.2, row - 0.2], color=MODEL_COLOR, lw=3
            )
            ax.plot([rel(m["forecast"])], [row - 0.2], "o", color=MODEL_COLOR, markersize=6)
        for name, (color, marker) in BASELINES.items():
            if name in sub.index and pd.notna(sub.loc[name, "forecast"]):
                ax.plot(
                    [rel(sub.loc[name, "forecast"])],
                    [row + 0.2],
                    marker,
                    color=color,
                    markersize=6,
                )
    ax.set_yticks(np.arange(len(targets)), targets)
    ax.set_ylim(len(targets) - 0.4, -0.6)
    ax.axvline(0.0, color=FAINT_COLOR, lw=0.8, zorder=0)
    ax.set_xlabel("relative to the observation (forecast / observed - 1)")
    handles = [
        Line2D([], [], color="black", lw=6, alpha=0.25, label="observation, 95% interval"),
        Line2D([], [], color=MODEL_COLOR, lw=3, marker="o", label="model, predictive interval"),
        *[
            Line2D([], [], color=c, marker=mk, lw=0, label=name)
            for name, (c, mk) in BASELINES.items()
        ],
    ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0, -0.25 if len(targets) < 3 else -0.12),
        ncol=2,
        fontsize=8,
        frameon=False,
    )
    if title is not None or fresh:
        ax.set_title(title or "Held-out observations against the forecasts")
    return ax
