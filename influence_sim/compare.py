"""Paired comparison of counterfactuals with their baseline, and attribution to events.

Replicate k of every scenario at a design point shares its random streams with the baseline's
replicate k (common random numbers), so differences are taken replicate by replicate. For each
counterfactual, measure, actor and date `compare` reports the mean paired difference, a
percentile bootstrap confidence interval of that mean, the share of replicates in which the
difference is positive and a standardised effect size (mean / sd of the paired differences,
Cohen's d_z). It also reports time-to-threshold outcomes. `explain` reruns a scenario without
each of its events, paired replicate by replicate, and reports each event's contribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ScenarioError, suggest

__all__ = ["Comparison", "bootstrap_counts", "compare", "crossings", "explain", "paired_stats"]

#: Outcome measures compared by default, with the label of their series.
OUTCOMES = ("balance", "alignment", "corridor")


def bootstrap_counts(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Resampling counts (n_boot, n): row b says how often each replicate is drawn.

    One matrix serves every series of a comparison (the same resamples of the same paired
    replicates), which keeps the bootstrap cheap: a mean over a resample is a matrix product.
    """
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)


def paired_stats(diff: np.ndarray, counts: np.ndarray, level: float = 0.95) -> pd.DataFrame:
    """Statistics of paired differences, one row per column of ``diff``.

    Parameters
    ----------
    diff : ndarray, shape (R,) or (R, K)
        Per-replicate differences (scenario minus baseline) of K series.
    counts : ndarray, shape (B, R)
        Bootstrap resampling counts from `bootstrap_counts`.
    level : float
        Confidence level of the percentile interval (default 0.95).

    Returns
    -------
    pandas.DataFrame
        ``n``, ``mean``, ``ci_low``, ``ci_high`` (percentile bootstrap of the mean),
        ``positive`` (share of replicates with a difference > 0), ``sd`` and ``effect_size``
        (mean / sd; NaN where sd is 0, i.e. the difference is the same in every replicate).
    """
    d = np.asarray(diff, dtype=float)
    d = d[:, None] if d.ndim == 1 else d
    n = d.shape[0]
    if counts.shape[1] != n:
        raise ValueError(f"counts are for {counts.shape[1]} replicates, diff has {n}")
    mean = d.mean(axis=0)
    boot = counts @ d / n  # (B, K)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boot, [alpha, 1 - alpha], axis=0)
    sd = d.std(axis=0, ddof=1) if n > 1 else np.zeros(d.shape[1])
    # differences that are equal in every replicate (up to float32 storage) have no spread
    flat = sd <= 1e-12 * np.maximum(1.0, np.abs(mean))
    with np.errstate(divide="ignore", invalid="ignore"):
        effect = np.where(flat, np.nan, mean / np.where(flat, 1.0, sd))
    return pd.DataFrame(
        {
            "n": n,
            "mean": mean,
            "ci_low": np.minimum(lo, mean),
            "ci_high": np.maximum(hi, mean),
            "positive": (d > 0).mean(axis=0),
            "sd": sd,
            "effect_size": effect,
        }
    )


def crossings(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """First crossing of ``level`` by each replicate's series.

    Parameters
    ----------
    values : ndarray, shape (R, T)
        One series per replicate (e.g. a state's balance at the recorded steps).
    level : float
        The threshold. A series crosses when it reaches the other side of the level from
        where it started (reaching the level counts).

    Returns
    -------
    crossed : ndarray of bool, shape (R,)
    first : ndarray of int, shape (R,)
        Index of the first recorded step on the other side (-1 where it never crosses).
    """
    start = values[:, :1]
    above = start < level
    other = np.where(above, values >= level, values <= level)
    other[:, 0] = False
    crossed = other.any(axis=1)
    first = np.where(crossed, other.argmax(axis=1), -1)
    return crossed, first


@dataclass
class Comparison:
    """Output of `compare`: effects (biggest first) and time-to-threshold outcomes."""

    effects: pd.DataFrame
    thresholds: pd.DataFrame

    def table(self, top: int | None = None) -> str:
        """The effects as a readable table."""
        eff = self.effects if top is None else self.effects.head(top)
        rows = []
        for r in eff.itertuples():
            series = r.actor + (f"/{r.power}" if isinstance(r.power, str) and r.power else "")
            es = "   n/a" if np.isnan(r.effect_size) else f"{r.effect_size:+6.2f}"
            rows.append(
                f"{r.scenario:24} {r.measure:10} {series:9} {r.date:10} "
                f"{r.mean:+8.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}] "
                f"{r.positive:5.0%}  {es}"
            )
        head = (
            f"{'scenario':24} {'measure':10} {'actor':9} {'date':10} "
            f"{'mean diff':>8}  {'95% CI':^20} {'>0':>5}  {'d':>6}"
        )
        return "\n".join([head, "-" * len(head), *rows])

    def threshold_table(self) -> str:
        """Time-to-threshold outcomes as a readable table."""
        rows = [
            f"{'scenario':24} {'actor':7} {'level':>7} {'crossed':>8}  first date: median "
            "[25%, 75%] of those that cross"
        ]
        for r in self.thresholds.itertuples():
            when = f"{r.median_date} [{r.q25_date}, {r.q75_date}]" if r.crossed > 0 else "-"
            rows.append(f"{r.scenario:24} {r.actor:7} {r.level:+7.3f} {r.crossed:8.0%}  {when}")
        return "\n".join(rows)


def _as_results(results):
    from .store import ResultSet, load_results

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
        Dates besides the horizon (each must be a recorded date); defaults to the
        experiment's ``[compare] at``.
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
        raise ScenarioError(
            f"no scenario named '{base}' in these results",
            item="--baseline",
            suggestion=suggest(base, names),
        )
    recorded = rs.manifest["output"]["measures"]
    for m in measures:
        if m not in recorded:
            raise ScenarioError(
                f"measure '{m}' was not recorded (recorded: {', '.join(recorded)})",
                item="--measure",
                suggestion=suggest(m, recorded),
            )
    at = list(at) or [date.fromisoformat(d) for d in rs.manifest["compare"]["at"]]
    points = range(len(rs.manifest["points"])) if point is None else [point]
    others = [n for n in names if n != base]
    rng = np.random.default_rng(seed)
    eff_rows: list[pd.DataFrame] = []
    thr_rows: list[dict] = []
    for j in points:
        counts = None
        for m in measures:
            b_vals, steps, labels = rs.array(m, base, point=j)
            dates = rs.dates(steps)
            cols = [len(steps) - 1]
            for d in at:
                hit = np.flatnonzero(dates == np.datetime64(d, "D"))
                if not len(hit):
                    raise ScenarioError(
                        f"{d} is not a recorded date (recorded: {dates[0]} to "
                        f"{dates[-1]}, every {rs.manifest['output']['every']} "
                        "step(s))",
                        item="--at",
                    )
                cols.insert(0, int(hit[0]))
            if counts is None:
                counts = bootstrap_counts(b_vals.shape[0], n_boot, rng)
            for other in others:
                o_vals, o_steps, o_labels = rs.array(m, other, point=j)
                if (
                    o_labels != labels
                    or not np.array_equal(o_steps, steps)
                    or (o_vals.shape != b_vals.shape)
                ):
                    raise ScenarioError(
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
        if "balance" in rs.manifest["output"]["measures"]:
            thr_rows += _thresholds(rs, names, j, thresholds)
    effects = pd.concat(eff_rows, ignore_index=True) if eff_rows else pd.DataFrame()
    if not effects.empty:
        effects = effects.reindex(
            effects["mean"].abs().sort_values(ascending=False, kind="stable").index
        ).reset_index(drop=True)
    return Comparison(effects=effects, thresholds=pd.DataFrame(thr_rows))


def _thresholds(rs, names, point, thresholds) -> list[dict]:
    rows = []
    levels = thresholds
    if levels is None:
        levels = [tuple(t) for t in rs.manifest["compare"]["thresholds"]] or None
    for name in names:
        vals, steps, labels = rs.array("balance", name, point=point)
        dates = rs.dates(steps)
        lv = levels or [(a, round(float(vals[0, 0, k]) + 0.05, 3)) for k, a in enumerate(labels)]
        for actor, level in lv:
            if actor not in labels:
                raise ScenarioError(
                    f"unknown state '{actor}' for a threshold", suggestion=suggest(actor, labels)
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


def explain(
    results,
    *,
    scenario: str | None = None,
    measure: str = "balance",
    actor: str = "KZ",
    power: str | None = None,
    at: date | None = None,
    point: int = 0,
    replicates: int | None = None,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
    progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Attribute a scenario's outcome to its events by leaving each out, paired.

    For each event e, the scenario is rerun without e with the same seeds; e's contribution in
    replicate k is the outcome with all events minus the outcome without e. Because each
    event's draws are keyed by its id, leaving one out changes nothing else about the run.

    Parameters
    ----------
    results : ResultSet or path
        The experiment store; its manifest gives the scenario file, seed and replicates (the
        scenario file must still have the hash recorded there).
    scenario : str, optional
        Scenario to explain (default: the baseline).
    measure, actor, power : str
        The outcome: ``balance`` (actor a state or ``region``), ``alignment`` (with power),
        ``share`` (a faction), ``reputation`` (a power), ``credibility`` (an institution) or
        ``corridor``.
    at : datetime.date, optional
        Date of the outcome (default: the horizon).
    point : int
        Design point.
    replicates : int, optional
        Use the first N replicates (default: all the experiment's).

    Returns
    -------
    contributions : pandas.DataFrame
        Per event: kind, date, firing rate, mean contribution with its bootstrap CI, share
        positive, effect size; sorted by absolute contribution. The rows ``(all events)`` and
        ``(sum of contributions)`` give the total change from step 0 and the additive part.
    partial : pandas.DataFrame
        Events that fired in only some replicates, with their firing rates.
    """
    from .experiment import with_params
    from .scenario import load_scenario
    from .simulate import run_ensemble

    rs = _as_results(results)
    name = scenario or rs.baseline
    entry = next((s for s in rs.manifest["scenarios"] if s["name"] == name), None)
    if entry is None:
        raise ScenarioError(
            f"no scenario named '{name}' in these results",
            item="--scenario",
            suggestion=suggest(name, rs.scenarios),
        )
    scen = load_scenario(entry["path"])
    if scen.sha256 != entry["sha256"]:
        raise ScenarioError(
            f"the scenario file changed since the batch (hash {scen.sha256[:12]}"
            f", recorded {entry['sha256'][:12]}); explain reruns it, so it must "
            "be the same",
            file=entry["path"],
        )
    scen = with_params(scen, rs.manifest["points"][point]["params"])
    pick = _measure_picker(scen, measure, actor, power)
    n = (
        rs.manifest["replicates"]
        if replicates is None
        else min(replicates, rs.manifest["replicates"])
    )
    ids = np.arange(n)
    root = np.random.SeedSequence(int(rs.manifest["seed"]), spawn_key=(point,))
    step = scen.steps
    if at is not None:
        step = (at - scen.start).days // scen.step_days
        if not scen.start < at <= scen.end:
            raise ScenarioError(
                f"{at} is outside the horizon ({scen.start}, {scen.end}]", item="--at"
            )
    horizon = replace(scen, steps=step)

    def outcome(s):
        data, _steps, plans, _ = run_ensemble(s, ids, root, every=s.steps)
        return pick(data, 0), pick(data, -1), plans

    start, full, plans = outcome(horizon)
    rows = {}
    from tqdm import tqdm

    for ev in tqdm(horizon.events, desc=f"explain {name}", disable=not progress, leave=False):
        without = replace(horizon, events=tuple(e for e in horizon.events if e.id != ev.id))
        rows[ev.id] = full - outcome(without)[1]
    rates = {p.event.id: float(np.mean(p.status == 0)) for p in plans}
    contrib = (
        np.column_stack([*rows.values(), full - start, np.sum(list(rows.values()), axis=0)])
        if rows
        else np.column_stack([full - start, np.zeros(n)])
    )
    counts = bootstrap_counts(n, n_boot, np.random.default_rng(seed))
    st = paired_stats(contrib, counts, level)
    meta = [(e.id, e.kind, e.date.isoformat(), rates[e.id]) for e in horizon.events]
    meta += [("(all events)", "", "", np.nan), ("(sum of contributions)", "", "", np.nan)]
    st.insert(0, "event", [m[0] for m in meta])
    st.insert(1, "kind", [m[1] for m in meta])
    st.insert(2, "date", [m[2] for m in meta])
    st.insert(3, "fired", [m[3] for m in meta])
    body = st.iloc[:-2]
    body = body.reindex(body["mean"].abs().sort_values(ascending=False, kind="stable").index)
    out = pd.concat([body, st.iloc[-2:]], ignore_index=True)
    partial = pd.DataFrame(
        [(e, r) for e, r in rates.items() if 0 < r < 1], columns=["event", "fired"]
    )
    return out, partial


def _measure_picker(scen, measure: str, actor: str, power: str | None):
    """A function (recorded data, step position) -> (R,) for one outcome series."""
    w = scen.world
    kinds = {
        "balance": "state",
        "alignment": "state",
        "share": "faction",
        "reputation": "power",
        "credibility": "institution",
        "corridor": None,
    }
    if measure not in kinds:
        raise ScenarioError(
            f"unknown measure '{measure}'", item="--measure", suggestion=suggest(measure, kinds)
        )
    if measure == "corridor":
        return lambda data, t: data["corridor"][t].astype(float)
    ids = list(w.kinds[kinds[measure]]) + (["region"] if measure == "balance" else [])
    if actor not in ids:
        raise ScenarioError(
            f"unknown {kinds[measure]} '{actor}' for {measure}",
            item="--actor",
            suggestion=suggest(actor, ids),
        )
    col = len(w.states) if actor == "region" else w.index[actor]
    if measure == "alignment":
        if power not in w.power_ids:
            raise ScenarioError(
                f"alignment needs --power, one of {', '.join(w.power_ids)}",
                item="--power",
                suggestion=suggest(power, w.power_ids),
            )
        p = w.index[power]
        return lambda data, t: data["alignment"][t][:, col, p].astype(float)
    return lambda data, t: data[measure][t][:, col].astype(float)


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a frame as CSV atomically."""
    from .results import atomic_file

    with atomic_file(path) as tmp:
        frame.to_csv(tmp, index=False)
    return Path(path)
