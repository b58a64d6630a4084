"""Paired comparison of counterfactuals with their baseline.

Replicate k of every scenario at a design point shares its random streams with the baseline's
replicate k (common random numbers), so differences are taken replicate by replicate. For each
counterfactual, measure, actor and date `compare` reports the mean paired difference, a
percentile bootstrap confidence interval of that mean, the share of replicates in which the
difference is positive and a standardised effect size (mean / sd of the paired differences,
Cohen's d_z). It also reports time-to-threshold outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_file
from ..core.measures import MEASURES
from ..errors import ArgumentError, StoreError, suggest
from ..experiment.store import ResultSet, load_results
from .stats import bootstrap_counts, crossings, paired_stats

__all__ = ["OUTCOMES", "Comparison", "compare", "write_csv"]

#: Outcome measures compared by default, with the label of their series.
OUTCOMES = ("balance", "alignment", "corridor")


@dataclass
class Comparison:
    """Output of `compare`: effects (biggest first), time-to-threshold outcomes and notes.

    ``notes`` says where a requested date stood for the nearest recorded one.
    """

    effects: pd.DataFrame
    thresholds: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def table(self, top: int | None = None) -> str:
        """The effects as a readable table."""
        eff = self.effects if top is None else self.effects.head(top)
        # with a parameter design, a column names the design point of each row
        by_point = "point" in self.effects and self.effects["point"].nunique() > 1
        # the measure column fits the longest name shown (remittance_share: 16)
        wm = max([10, *(len(str(m)) for m in eff.get("measure", []))])
        rows = []
        for r in eff.itertuples():
            series = r.actor + (f"/{r.power}" if isinstance(r.power, str) and r.power else "")
            es = "   n/a" if np.isnan(r.effect_size) else f"{r.effect_size:+6.2f}"
            pt = f"{r.point:>5} " if by_point else ""
            rows.append(
                f"{r.scenario:24} {pt}{r.measure:{wm}} {series:9} {r.date:10} "
                f"{r.mean:+8.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}] "
                f"{r.positive:5.0%}  {es}"
            )
        head = (
            f"{'scenario':24} {'point ' if by_point else ''}{'measure':{wm}} {'actor':9} "
            f"{'date':10} {'mean diff':>8}  {'95% CI':^20} {'>0':>5}  {'d':>6}"
        )
        return "\n".join([head, "-" * len(head), *rows])

    def threshold_table(self) -> str:
        """Time-to-threshold outcomes as a readable table."""
        by_point = "point" in self.thresholds and self.thresholds["point"].nunique() > 1
        rows = [
            f"{'scenario':24} {'point ' if by_point else ''}{'actor':7} {'level':>7} "
            f"{'crossed':>8}  first date: median [25%, 75%] of those that cross"
        ]
        for r in self.thresholds.itertuples():
            when = f"{r.median_date} [{r.q25_date}, {r.q75_date}]" if r.crossed > 0 else "-"
            pt = f"{r.point:>5} " if by_point else ""
            rows.append(f"{r.scenario:24} {pt}{r.actor:7} {r.level:+7.3f} {r.crossed:8.0%}  {when}")
        return "\n".join(rows)


def _as_results(results: ResultSet | str | Path) -> ResultSet:
    return results if isinstance(results, ResultSet) else load_results(results)


def compare(
    results,
    *,
    baseline: str | None = None,
    at: Sequence[date] = (),
    measures: Sequence[str] = OUTCOMES,
    thresholds: Sequence[tuple[str, float]] | None = None,
    point: int | None = None,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> Comparison:
    """Compare every scenario with the baseline, paired replicate by replicate.

    Parameters
    ----------
    results : ResultSet or path
        An experiment's results store (`load_results` or a directory).
    baseline : str, optional
        Baseline scenario name (default: the experiment's).
    at : sequence of datetime.date
        Dates besides the horizon; defaults to the experiment's ``[compare] at``. A date that
        was not recorded (with ``every`` > 1) stands for the nearest recorded date, and
        `Comparison.notes` says so.
    measures : sequence of str
        Outcome measures to compare (default balance, alignment, corridor), among those
        recorded.
    thresholds : sequence of (actor, level), optional
        Levels of balance for the time-to-threshold outcomes; default: the experiment's
        ``[compare] thresholds``, else 0.05 above each state's (and the region's) start.
    point : int, optional
        Design point (default: every point).
    n_boot, level, seed
        Bootstrap resamples, confidence level and the bootstrap's seed.

    Returns
    -------
    Comparison
    """
    rs = _as_results(results)
    names = rs.scenarios
    base = baseline or rs.baseline
    if base not in names:
        raise ArgumentError(
            f"no scenario named '{base}' in these results ({', '.join(names)})",
            argument="baseline",
            suggestion=suggest(base, names),
        )
    recorded = rs.measures
    for m in measures:
        if m not in recorded:
            raise ArgumentError(
                f"measure '{m}' was not recorded (recorded: {', '.join(recorded)})",
                argument="measures",
                suggestion=suggest(m, recorded),
            )
        if m in MEASURES and not MEASURES[m].available(rs.world(base)):
            # the experiment asked for it, but a world without [[flows]] records no economy
            raise ArgumentError(
                f"measure '{m}' needs a world with [[flows]]; the world of '{base}' has none",
                argument="measures",
            )
    at = list(at) or rs.compare_at
    points = range(len(rs.points)) if point is None else [point]
    others = [n for n in names if n != base]
    rng = np.random.default_rng(seed)
    eff_rows: list[pd.DataFrame] = []
    thr_rows: list[dict] = []
    notes: dict[str, None] = {}
    for j in points:
        counts = None
        for m in measures:
            b_vals, steps, labels = rs.array(m, base, point=j)
            dates = rs.dates(steps)
            cols = [len(steps) - 1]
            for d in at:
                col, note = nearest_recorded(dates, d)
                if note:
                    notes[note] = None
                cols.insert(0, col)
            if counts is None:
                counts = bootstrap_counts(b_vals.shape[0], n_boot, rng)
            for other in others:
                o_vals, o_steps, o_labels = rs.array(m, other, point=j)
                if (
                    o_labels != labels
                    or not np.array_equal(o_steps, steps)
                    or (o_vals.shape != b_vals.shape)
                ):
                    raise StoreError(
                        f"'{other}' is not paired with '{base}' in these "
                        "results (different replicates or series)"
                    )
                for c in cols:
                    diff = o_vals[:, c, :] - b_vals[:, c, :]
                    st = paired_stats(diff, counts, level)
                    st.insert(0, "scenario", other)
                    st.insert(1, "point", j)
                    st.insert(2, "measure", m)
                    st.insert(3, "actor", [lb.split("/")[0] for lb in labels])
                    st.insert(4, "power", [lb.split("/")[1] if "/" in lb else "" for lb in labels])
                    st.insert(5, "date", str(dates[c]))
                    st["baseline_mean"] = b_vals[:, c, :].mean(axis=0)
                    st["scenario_mean"] = o_vals[:, c, :].mean(axis=0)
                    eff_rows.append(st)
        if "balance" in rs.measures:
            thr_rows += _thresholds(rs, names, j, thresholds)
    effects = pd.concat(eff_rows, ignore_index=True) if eff_rows else pd.DataFrame()
    if not effects.empty:
        effects = effects.reindex(
            effects["mean"].abs().sort_values(ascending=False, kind="stable").index
        ).reset_index(drop=True)
    return Comparison(effects=effects, thresholds=pd.DataFrame(thr_rows), notes=list(notes))


def nearest_recorded(dates: np.ndarray, when: date) -> tuple[int, str]:
    """Position of the recorded date nearest to ``when`` (the earlier one on a tie).

    Returns the position and a note saying which date stands in, or ``""`` when ``when`` is
    recorded. A date outside the recorded range raises `ArgumentError` (argument ``at``).
    """
    day = np.datetime64(when, "D")
    if not dates[0] <= day <= dates[-1]:
        raise ArgumentError(
            f"{when} is outside the recorded dates ({dates[0]} to {dates[-1]})", argument="at"
        )
    k = int(np.argmin(np.abs(dates - day)))
    if dates[k] == day:
        return k, ""
    return k, f"{when} is not a recorded date; using the nearest recorded date, {dates[k]}"


def _thresholds(
    rs: ResultSet,
    names: list[str],
    point: int,
    thresholds: Sequence[tuple[str, float]] | None,
) -> list[dict]:
    rows = []
    levels = thresholds
    if levels is None:
        levels = rs.compare_thresholds or None
    for name in names:
        vals, steps, labels = rs.array("balance", name, point=point)
        dates = rs.dates(steps)
        lv = levels or [(a, round(float(vals[0, 0, k]) + 0.05, 3)) for k, a in enumerate(labels)]
        for actor, level in lv:
            if actor not in labels:
                raise ArgumentError(
                    f"unknown state '{actor}' for a threshold; one of {', '.join(labels)}",
                    argument="thresholds",
                    suggestion=suggest(actor, labels),
                )
            crossed, first = crossings(vals[:, :, labels.index(actor)], level)
            firsts = np.sort(dates[first[crossed]])
            q25, q50, q75 = (
                str(firsts[round(p * (len(firsts) - 1))]) if len(firsts) else ""
                for p in (0.25, 0.5, 0.75)
            )
            rows.append(
                {
                    "scenario": name,
                    "point": point,
                    "actor": actor,
                    "level": level,
                    "crossed": float(crossed.mean()),
                    "median_date": q50,
                    "q25_date": q25,
                    "q75_date": q75,
                }
            )
    return rows


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a frame as CSV atomically."""
    with atomic_file(path) as tmp:
        frame.to_csv(tmp, index=False)
    return Path(path)
