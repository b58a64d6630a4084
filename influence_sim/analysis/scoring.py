"""Scoring on held-out years: the model's predictive intervals against naive baselines.

For each level target of a held-out targets file, `score` reads the model's replicates at the
target's date (or their means over its window) from a results source (`simulate`'s result or
an experiment store, `load_results`), and scores three forecasters against the observation:

- **the model**: its central ``1 - alpha`` predictive interval across replicates, whether it
  covers the observation, the interval score (Gneiting and Raftery 2007)
  ``(u - l) + (2 / alpha) (l - y) 1{y < l} + (2 / alpha) (y - u) 1{y > u}``, and the ensemble's
  CRPS ``mean|X - y| - mean|X - X'| / 2``;
- **persistence**: the last training value of the same observable, actor and power (from a
  training targets file, e.g. the pre-2022 targets);
- **trend**: the least-squares line through the training values (two at least), extended to
  the target's date.

The baselines are point forecasts, scored as degenerate distributions: their interval has no
width (so its score is the penalty alone), and their CRPS is the absolute error. The tool says
plainly when the model scores worse than a baseline.

For each stance target (a state's stance in a roll call the results hold), the model's
forecast is the share of replicates voting each way; it is scored by the multi-category Brier
score ``sum_k (p_k - 1{k observed})^2`` and the log score ``-ln p(observed)``, beside a
uniform guess (1/4 each: Brier 0.75, log score 1.386), and its central predictive set (the
fewest stances, most likely first, holding ``1 - alpha`` of the probability) is checked for the
observed stance (`Scores.stances`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ..core.events import STANCES
from ..core.targets import Z95, Target, Targets
from ..errors import ArgumentError
from ..experiment.source import ResultSource

__all__ = ["Scores", "brier_score", "crps_ensemble", "interval_score", "log_score", "score"]


def interval_score(low: float, high: float, y: float, alpha: float) -> float:
    """The interval score of a central ``1 - alpha`` interval [low, high] for observation y."""
    penalty = (2 / alpha) * (max(low - y, 0.0) + max(y - high, 0.0))
    return (high - low) + penalty


def crps_ensemble(x: np.ndarray, y: float) -> float:
    """The CRPS of an ensemble ``x`` for observation ``y`` (0 for a perfect point forecast)."""
    x = np.sort(np.asarray(x, dtype=float))
    n = len(x)
    spread = 2 * np.sum((2 * np.arange(1, n + 1) - n - 1) * x) / n**2  # mean |X - X'|
    return float(np.mean(np.abs(x - y)) - spread / 2)


@dataclass(frozen=True)
class Scores:
    """The scores of `score`: one row per target and forecaster, and a verdict."""

    table: pd.DataFrame
    alpha: float
    stances: pd.DataFrame = field(default_factory=pd.DataFrame)
    unscored: dict[str, str] = field(default_factory=dict)

    def verdict(self) -> str:
        """Where the model stands against each baseline, by mean CRPS and interval score."""
        t = self.table
        lines: list[str] = []
        levels = ("persistence", "trend") if not t.empty else ()
        model = t[t["forecaster"] == "model"].set_index("target") if not t.empty else t
        for base in levels:
            b = t[(t["forecaster"] == base) & t["crps"].notna()].set_index("target")
            common = model.index.intersection(b.index)
            if common.empty:
                lines.append(f"{base}: no target has the training values it needs")
                continue
            m_crps, b_crps = model.loc[common, "crps"].mean(), b.loc[common, "crps"].mean()
            wins = int((model.loc[common, "crps"] < b.loc[common, "crps"]).sum())
            if np.isclose(m_crps, b_crps, rtol=1e-9, atol=0.0):
                word = "no better than (tied with)"
            else:
                word = "better than" if m_crps < b_crps else "WORSE than"
            lines.append(
                f"the model is {word} {base} on mean CRPS ({m_crps:.4g} against {b_crps:.4g}; "
                f"better on {wins} of {len(common)} targets)"
            )
        if len(model):
            cover = model["covers"].mean()
            lines.append(
                f"the model's {1 - self.alpha:.0%} intervals cover {cover:.0%} of "
                f"{len(model)} observation(s)"
            )
        if not self.stances.empty:
            st = self.stances
            m = st[st["forecaster"] == "model"]
            u = st[st["forecaster"] == "uniform"]
            mb, ub = m["brier"].mean(), u["brier"].mean()
            word = "better than" if mb < ub else "WORSE than"
            lines.append(
                f"roll-call stances: the model is {word} a uniform guess on mean Brier score "
                f"({mb:.3g} against {ub:.3g}; the observed stance's mean probability "
                f"{m['p_observed'].mean():.2f}); its {1 - self.alpha:.0%} predictive sets "
                f"hold {m['covers'].mean():.0%} of {len(m)} observed stance(s)"
            )
        lines += [f"not scored: {k}: {why}" for k, why in self.unscored.items()]
        return "\n".join(lines)


def _when(t: Target) -> date:
    if t.window is not None:
        return t.window[1]
    assert t.date is not None
    return t.date


def _model_values(source: ResultSource, t: Target, scenario: str | None) -> np.ndarray:
    """The replicates' values of a target's observable at its date (or window mean)."""
    dates, values, labels = source.block(t.observable, scenario)
    label = t.actor + (f"/{t.power}" if t.power else "") if t.actor else ""
    if label not in labels:
        raise ArgumentError(
            f"target {t.id}: no series {label} of {t.observable} in the results",
            argument="targets",
        )
    k = labels.index(label)
    d = dates.astype("datetime64[D]")
    if t.window is not None:
        inside = (d >= np.datetime64(t.window[0])) & (d <= np.datetime64(t.window[1]))
        if not inside.any():
            raise ArgumentError(
                f"target {t.id}: no recorded date in its window {t.window[0]}..{t.window[1]}",
                argument="targets",
            )
        out: np.ndarray = values[inside, :, k].mean(axis=0)
        return out
    hit = np.flatnonzero(d == np.datetime64(t.date))
    if not hit.size:
        raise ArgumentError(
            f"target {t.id}: {t.date} is not a recorded date of the results (record more "
            "often, or give the target a window)",
            argument="targets",
        )
    out = values[hit[0], :, k]
    return out


def _training(t: Target, training: Targets | None) -> list[tuple[float, float]]:
    """(decimal year, value) of the training levels of the same series, before the target."""
    if training is None:
        return []
    when = _when(t)
    out = []
    for x in training.targets:
        if (
            x.kind == "level"
            and (x.observable, x.actor, x.power) == (t.observable, t.actor, t.power)
            and _when(x) < when
            and x.value is not None
        ):
            out.append((_year(_when(x)), x.value))
    return sorted(out)


def _year(d: date) -> float:
    return d.year + (d.timetuple().tm_yday - 1) / 365.25


def _votes(source: ResultSource, scenario: str) -> pd.DataFrame:
    """The scenario's recorded roll calls (a store's table, or a run's), read once."""
    votes = getattr(source, "votes", None)
    if votes is None:
        raise ArgumentError("these results record no votes", argument="targets")
    table = votes() if callable(votes) else votes
    table = table[table["scenario"] == scenario]
    out: pd.DataFrame = table[table["point"] == 0] if "point" in table.columns else table
    return out


def _stance_rows(votes: pd.DataFrame, t: Target, alpha: float) -> list[dict[str, Any]]:
    """A stance target's scores: the model's stance probabilities against a uniform guess."""
    sel = votes[(votes["event"] == t.vote) & (votes["state"] == t.actor)]
    if sel.empty:
        return []
    counts = sel["stance"].value_counts()
    probs = np.array([counts.get(s, 0) for s in STANCES], dtype=float) / len(sel)
    rows = []
    for forecaster, p in (("model", probs), ("uniform", np.full(len(STANCES), 1 / len(STANCES)))):
        rows.append(
            {
                "target": t.id,
                "vote": t.vote,
                "actor": t.actor,
                "observed": t.stance,
                "forecaster": forecaster,
                **{f"p_{s}": float(v) for s, v in zip(STANCES, p, strict=True)},
                "p_observed": float(p[STANCES.index(str(t.stance))]),
                "covers": str(t.stance) in _predictive_set(p, 1 - alpha),
                "brier": brier_score(p, STANCES.index(str(t.stance))),
                "log_score": log_score(p, STANCES.index(str(t.stance))),
                "replicates": len(sel),
            }
        )
    return rows


def _predictive_set(p: np.ndarray, level: float) -> set[str]:
    """The fewest stances, most likely first, whose probabilities sum to at least ``level``."""
    order = np.argsort(-p, kind="stable")
    chosen, total = set(), 0.0
    for k in order:
        if total >= level - 1e-12:
            break
        chosen.add(STANCES[k])
        total += p[k]
    return chosen


def brier_score(p: np.ndarray, observed: int) -> float:
    """The multi-category Brier score: sum over categories of (p_k - 1{k observed})^2."""
    o = np.zeros(len(p))
    o[observed] = 1.0
    return float(np.sum((np.asarray(p, dtype=float) - o) ** 2))


def log_score(p: np.ndarray, observed: int) -> float:
    """The logarithmic score, -ln p(observed) (infinite when the forecast ruled it out)."""
    q = float(p[observed])
    return float("inf") if q <= 0 else float(-np.log(q))


def score(
    source: ResultSource,
    targets: Targets,
    *,
    training: Targets | None = None,
    scenario: str | None = None,
    alpha: float = 0.1,
) -> Scores:
    """Score a run or a store against held-out level and stance targets (module docs).

    Parameters
    ----------
    source : ResultSource
        `simulate`'s result or an experiment store (`load_results`).
    targets : Targets
        The held-out targets (their level and stance targets are scored; the others are
        left out, and stances on a roll call the results lack are listed in
        `Scores.unscored`).
    training : Targets, optional
        The targets the baselines extrapolate from (without them, only the model is scored).
    scenario : str, optional
        The scenario of a store to score (default: its baseline).
    alpha : float
        The intervals are central ``1 - alpha`` (default 90%).
    """
    if not 0 < alpha < 1:
        raise ArgumentError(f"alpha is in (0, 1), got {alpha}", argument="alpha")
    rows = []
    stance_rows: list[dict[str, Any]] = []
    unscored: dict[str, str] = {}
    name = scenario or source.baseline
    votes = _votes(source, name) if any(t.kind == "stance" for t in targets.targets) else None
    for t in targets.targets:
        if t.kind == "stance":
            assert votes is not None
            got = _stance_rows(votes, t, alpha)
            if not got:
                unscored[t.id] = (
                    f"the results hold no stance of {t.actor} in roll call '{t.vote}' "
                    f"(scenario '{name}')"
                )
            stance_rows += got
            continue
        if t.kind != "level":
            continue
        assert t.value is not None
        y = t.value
        x = _model_values(source, t, scenario)
        lo, hi = np.quantile(x, [alpha / 2, 1 - alpha / 2])
        half = Z95 * t.sigma if t.sigma is not None else 0.0
        obs_low, obs_high = t.interval if t.interval is not None else (y - half, y + half)
        base = {
            "target": t.id,
            "observable": t.observable,
            "date": _when(t),
            "observed": y,
            "obs_low": obs_low,
            "obs_high": obs_high,
        }
        rows.append(
            {
                **base,
                "forecaster": "model",
                "forecast": float(np.median(x)),
                "low": float(lo),
                "high": float(hi),
                "covers": bool(lo <= y <= hi),
                "interval_score": interval_score(lo, hi, y, alpha),
                "crps": crps_ensemble(x, y),
            }
        )
        train = _training(t, training)
        points: dict[str, float | None] = {
            "persistence": train[-1][1] if train else None,
            "trend": None,
        }
        if len(train) >= 2:
            yrs, vals = np.array(train).T
            slope, intercept = np.polyfit(yrs, vals, 1)
            points["trend"] = float(intercept + slope * _year(_when(t)))
        for name, f in points.items():
            rows.append(
                {
                    **base,
                    "forecaster": name,
                    "forecast": f,
                    "low": f,
                    "high": f,
                    "covers": None if f is None else bool(f == y),
                    "interval_score": None if f is None else interval_score(f, f, y, alpha),
                    "crps": None if f is None else abs(f - y),
                }
            )
    if not rows and not stance_rows:
        why = "; ".join(f"{k}: {v}" for k, v in unscored.items())
        raise ArgumentError(
            "the targets file has no level or stance target these results can score"
            + (f" ({why})" if why else ""),
            argument="targets",
        )
    return Scores(pd.DataFrame(rows), alpha, pd.DataFrame(stance_rows), unscored)
