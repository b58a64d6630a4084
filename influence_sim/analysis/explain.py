"""Attribution of a scenario's outcome to its events, by leaving each out (paired).

Each event draws from its own random stream (keyed by its id), so a rerun without one event
changes nothing else about the run: the difference, replicate by replicate, is that event's
contribution.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from ..core.measures import measure as measure_spec
from ..core.runner import STATUS, EventPlan, run_ensemble
from ..core.scenario import Scenario, load_scenario
from ..errors import ArgumentError, InputError, suggest
from ..experiment.design import with_params
from ..experiment.store import ResultSet
from ..seeds import point_seed
from .compare import _as_results
from .stats import bootstrap_counts, paired_stats

__all__ = ["explain"]

OUTSIDE_HORIZON = STATUS.index("outside horizon")


def explain(
    results: ResultSet | str | Path,
    *,
    scenario: str | None = None,
    measure: str = "balance",
    actor: str | None = None,
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
        The outcome, any measure of `influence_sim.core.measures.MEASURES`: ``balance``
        (actor a state or ``region``), ``alignment`` (with power), ``share`` (a faction),
        ``reputation`` (a power), ``credibility`` (an institution) or ``corridor`` (no
        actor). ``actor`` defaults to the first state that the scenarios' events name.
    at : datetime.date, optional
        Date of the outcome (default: the horizon).
    point : int
        Design point.
    replicates : int, optional
        Use the first N replicates (default: all the experiment's).

    Returns
    -------
    contributions : pandas.DataFrame
        Per event: kind, date, firing rate, note, mean contribution with its bootstrap CI,
        share positive, effect size; sorted by absolute contribution. Events scheduled after
        ``at`` follow, with the note "on or after the date" and no contribution. The rows
        ``(all events)`` and ``(sum of contributions)`` give the total change from step 0 and
        the additive part.
    partial : pandas.DataFrame
        Events that fired in only some replicates, with their firing rates.
    """
    rs = _as_results(results)
    name = scenario or rs.baseline
    if name not in rs.scenarios:
        raise ArgumentError(
            f"no scenario named '{name}' in these results ({', '.join(rs.scenarios)})",
            argument="scenario",
            suggestion=suggest(name, rs.scenarios),
        )
    if not 0 <= point < len(rs.points):
        raise ArgumentError(
            f"no design point {point} (the experiment has {len(rs.points)})", argument="point"
        )
    record = rs.record(name)
    scen = load_scenario(record.path)
    if scen.sha256 != record.sha256:
        raise InputError(
            f"the scenario file changed since the batch (hash {scen.sha256[:12]}"
            f", recorded {record.sha256[:12]}); explain reruns it, so it must "
            "be the same",
            file=record.path,
        )
    scen = with_params(scen, rs.points[point])
    spec = measure_spec(measure)
    if not spec.available(scen.world):
        raise ArgumentError(
            f"measure '{measure}' needs a world with [[flows]]; the world of '{name}' has none",
            argument="measure",
        )
    actor = actor if actor is not None or spec.kind is None else rs.focus_states()[0]
    column = spec.column(scen.world, actor, power)
    n = rs.n_replicates if replicates is None else min(replicates, rs.n_replicates)
    ids = np.arange(n)
    root = point_seed(rs.seed, point)
    step = scen.steps
    if at is not None:
        if not scen.start < at <= scen.end:
            raise ArgumentError(
                f"{at} is outside the horizon ({scen.start}, {scen.end}]", argument="at"
            )
        step = (at - scen.start).days // scen.step_days
    horizon = replace(scen, steps=step)

    def pick(data: dict[str, np.ndarray], t: int) -> np.ndarray:
        return data[spec.name][t].reshape(n, -1)[:, column].astype(float)

    def outcome(s: Scenario) -> tuple[np.ndarray, np.ndarray, list[EventPlan]]:
        data, _steps, plans, _ = run_ensemble(s, ids, root, every=s.steps)
        return pick(data, 0), pick(data, -1), plans

    start, full, plans = outcome(horizon)
    # events that fall after the outcome's date in every replicate cannot contribute:
    # they are listed as such, not rerun
    after_date = {p.event.id for p in plans if np.all(p.status == OUTSIDE_HORIZON)}
    due = [e for e in horizon.events if e.id not in after_date]
    later = [e for e in horizon.events if e.id in after_date]
    rows = {}
    for ev in tqdm(due, desc=f"explain {name}", disable=not progress, leave=False):
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
    meta = [(e.id, e.kind, e.date.isoformat(), rates[e.id], "") for e in due]
    meta += [("(all events)", "", "", np.nan, ""), ("(sum of contributions)", "", "", np.nan, "")]
    st.insert(0, "event", [m[0] for m in meta])
    st.insert(1, "kind", [m[1] for m in meta])
    st.insert(2, "date", [m[2] for m in meta])
    st.insert(3, "fired", [m[3] for m in meta])
    st.insert(4, "note", [m[4] for m in meta])
    body = st.iloc[:-2]
    body = body.reindex(body["mean"].abs().sort_values(ascending=False, kind="stable").index)
    after = pd.DataFrame(
        {
            "event": [e.id for e in later],
            "kind": [e.kind for e in later],
            "date": [e.date.isoformat() for e in later],
            "fired": np.nan,
            "note": "on or after the date",
        }
    )
    parts = [body, after, st.iloc[-2:]] if len(later) else [body, st.iloc[-2:]]
    out = pd.concat(parts, ignore_index=True)
    partial = pd.DataFrame(
        [(e.id, rates[e.id]) for e in due if 0 < rates[e.id] < 1], columns=["event", "fired"]
    )
    return out, partial
