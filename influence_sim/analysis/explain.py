"""Attribution of a scenario's outcome to its events, by leaving each out (paired).

Each event draws from its own random stream (keyed by its id), so a rerun without one event
changes nothing else about the run: the difference, replicate by replicate, is that event's
contribution.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
from tqdm import tqdm

from ..core.runner import run_ensemble
from ..core.scenario import load_scenario
from ..errors import ScenarioError, suggest
from ..experiment.design import with_params
from .compare import _as_results
from .stats import bootstrap_counts, paired_stats

__all__ = ["explain"]


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
