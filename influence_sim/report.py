"""One self-contained HTML report of an experiment's results store.

The report embeds its figures (PNG, base64) and needs nothing else: no scripts, no fonts, no
network. It holds the experiment and its scenarios with their event timelines and sources, the
figures, the comparison, time-to-threshold, votes (when the scenarios hold roll calls) and
attribution tables, the parameters and the manifest.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._io import atomic_file
from .params import parameters

if TYPE_CHECKING:  # kept out of the import: pyarrow, matplotlib
    from matplotlib.figure import Figure

    from .analysis.compare import Comparison
    from .analysis.sensitivity import SensitivityRun
    from .experiment.source import ScenarioRecord
    from .experiment.store import ResultSet

__all__ = ["build_report", "vote_shares"]

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1d1d1f; background: #fafafa; line-height: 1.45; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }
h1 { font-size: 1.7em; margin: 0.2em 0; } h2 { border-bottom: 2px solid #ddd;
     padding-bottom: 4px; margin-top: 2em; } h3 { margin-top: 1.4em; }
.meta { color: #555; font-size: 0.92em; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.86em; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.neg td.num.main { color: #0a4f86; } tr.pos td.num.main { color: #a13a00; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.88em; color: #444; margin-top: 4px; }
details { margin: 0.6em 0; } summary { cursor: pointer; font-weight: 600; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 0.78em; }
nav a { margin-right: 14px; } .src { font-size: 0.85em; color: #444; word-break: break-word; }
.tag { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 0.8em;
       background: #eef; } .removed { background: #fdd; } .added { background: #dfd; }
.replaced { background: #ffd; }
table.votes td.num { min-width: 3.2em; } table.votes th { text-align: center; }
"""

SECTIONS = [
    ("scenarios", "Scenarios"),
    ("figures", "Figures"),
    ("effects", "Effects"),
    ("attribution", "Attribution"),
    ("parameters", "Parameters"),
    ("manifest", "Manifest"),
]
"""Anchors and labels of the navigation bar."""
#: The votes section, linked after the effects when the scenarios hold roll calls.
VOTES_SECTION = ("votes", "Votes")
#: The scores section, linked before the attribution when `score` has written scores.
SCORES_SECTION = ("scores", "Scores")
#: The sensitivity section, linked after the attribution when the store holds a run.
DRIVERS_SECTION = ("drivers", "What drives the conclusions")
#: The evidence section, when the store holds a calibration (``<store>/calibration``).
EVIDENCE_SECTION = ("evidence", "Evidence")
#: The folders of the store where `make run` puts a calibration and the batch over its points.
CALIBRATION_DIR, CALIBRATED_DIR = "calibration", "calibrated"

CAPTIONS = {
    "balance_by_state": "Balance (first power's alignment minus the second's) per state and "
    "for the region: the baseline's median with 50% and 90% bands across replicates, every "
    "other scenario's median.",
    "regional_map": "Schematic map: each state coloured by its median balance at the dates "
    "shown; positions approximate.",
    "effects_forest": "Paired differences from the baseline at the horizon with 95% bootstrap "
    "intervals of the mean.",
    "attribution": "Each event's contribution to the baseline's outcome (outcome with all "
    "events minus outcome without the event, paired), with 95% intervals.",
    "reputation_credibility": "Reputation of the powers and credibility of the institutions "
    "(baseline; median with 90% band).",
    "network": "The tie structure of the world: factions, powers and institutions; edge "
    "widths by tie strength.",
    "fan": "One measure in every scenario (median with 50% and 90% bands across replicates), "
    "the baseline faint behind each counterfactual; event marks show what each scenario "
    "changes (percentages: share of replicates in which an event fired).",
    "faction_shares": "Power shares of the state's factions over time (medians, rescaled to "
    "sum to 1).",
    "faction_leaders": "Share of replicates in which each faction holds the largest share.",
    "faction_quantiles": "Power share of each faction: median with 50% and 90% bands.",
    "economy": "Per state, trade turnover with each power (USD bn per year, top) and each "
    "power's share of the state's trade (solid), remittance inflows (dashed) and lending and "
    "investment stock (dotted) (bottom): medians with the central 90% band across replicates; "
    "dashed vertical lines mark the events that move flows. economy: the baseline; "
    "economy_<scenario>: a counterfactual whose flows differ from the baseline's, with the "
    "baseline's medians drawn faintly behind.",
}


def _esc(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _link(text: str) -> str:
    """Escape a source text and turn its http(s) addresses into links."""
    out, last = [], 0
    for m in re.finditer(r"https?://[^\s;,)]+", text):
        out.append(_esc(text[last : m.start()]))
        url = m.group(0).rstrip(".")
        out.append(f'<a href="{_esc(url)}">{_esc(url)}</a>')
        last = m.start() + len(url)
    out.append(_esc(text[last:]))
    return "".join(out)


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _condition(c: dict[str, Any]) -> str:
    """A `when` condition as text: ``share(KZ.tokayev) > 0.5``, ``all(...)``."""
    for key in ("all", "any"):
        if key in c:
            return f"{key}(" + ", ".join(_condition(x) for x in c[key]) + ")"
    target = c.get("actor", "") + (f", {c['power']}" if c.get("power") else "")
    return f"{c.get('measure')}({target}) {c.get('op', '>')} {c.get('value')}"


def _fields(ev: dict[str, Any]) -> str:
    skip = {"id", "kind", "date", "source", "note"}
    parts = []
    for k, v in ev.items():
        if k in skip:
            continue
        if k == "when" and isinstance(v, dict):
            v = _condition(v)
        elif isinstance(v, dict) and "dist" in v:
            args = ", ".join(f"{a}={b}" for a, b in v.items() if a != "dist")
            v = f"{v['dist']}({args})"
        elif isinstance(v, dict):
            v = ", ".join(f"{a}: {b}" for a, b in v.items())
        parts.append(f"{k} = {v}")
    return "; ".join(parts)


def _timeline(events: list[dict[str, Any]], marks: dict[str, str] | None = None) -> str:
    rows = []
    for ev in sorted(events, key=lambda e: (str(e["date"]), e["id"])):
        tag = ""
        if marks and ev["id"] in marks:
            tag = f' <span class="tag {marks[ev["id"]]}">{marks[ev["id"]]}</span>'
        note = f"<br><i>{_esc(ev['note'])}</i>" if ev.get("note") else ""
        rows.append(
            f"<tr><td>{_esc(ev['date'])}</td><td><b>{_esc(ev['id'])}</b>{tag}</td>"
            f"<td>{_esc(ev['kind'])}</td><td>{_esc(_fields(ev))}{note}</td>"
            f"<td class='src'>{_link(str(ev.get('source', '')))}</td></tr>"
        )
    return (
        "<table><tr><th>date</th><th>event</th><th>kind</th><th>fields</th>"
        "<th>source</th></tr>" + "".join(rows) + "</table>"
    )


def _diff(base: list[dict], other: list[dict]) -> tuple[list[dict], dict[str, str], list[str]]:
    """Events of ``other`` that differ from ``base``, with marks, and the removed ids."""
    b = {e["id"]: e for e in base}
    o = {e["id"]: e for e in other}
    marks, shown = {}, []
    for eid, ev in o.items():
        if eid not in b:
            marks[eid] = "added"
            shown.append(ev)
        elif ev != b[eid]:
            marks[eid] = "replaced"
            shown.append(ev)
    removed = [eid for eid in b if eid not in o]
    return shown, marks, removed


def _table(frame: pd.DataFrame, numeric: dict[str, str], main: str | None = None) -> str:
    """An HTML table; ``numeric`` formats columns, ``main``'s sign colours the rows."""
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    rows = []
    # column by column, so an integer column stays integer beside float ones (not iterrows)
    for values in zip(*(frame[c].tolist() for c in frame.columns), strict=True):
        r = dict(zip(frame.columns, values, strict=True))
        cls = ""
        if main is not None and isinstance(r[main], float) and not np.isnan(r[main]):
            cls = " class='pos'" if r[main] > 0 else " class='neg'" if r[main] < 0 else ""
        cells = []
        for c in frame.columns:
            v = r[c]
            if c in numeric and isinstance(v, int | float | np.floating) and not pd.isna(v):
                klass = "num main" if c == main else "num"
                cells.append(f"<td class='{klass}'>{format(v, numeric[c])}</td>")
            else:
                cells.append(f"<td>{_esc('' if pd.isna(v) else v)}</td>")
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


# ---------------------------------------------------------------------------------------
# sections: each returns its HTML; `build_report` joins them in this order


def _header(results: ResultSet) -> str:
    """Title and one paragraph of provenance: experiment file, design, seed, versions."""
    exp, ver = results.experiment, results.versions
    return (
        f"<h1>{_esc(exp['title'])}</h1>\n"
        f"<p class='meta'>Experiment <b>{_esc(exp['name'])}</b> "
        f"({_esc(os.path.normpath(exp['path']))}, sha256 {_esc(exp['sha256'][:16])}); "
        f"{len(results.scenarios)} scenarios x {len(results.points)} point(s) x "
        f"{results.n_replicates} paired replicates; seed {_esc(results.seed)}; "
        f"{len(results.done)} of {results.n_chunks} chunks done. "
        f"influence-sim {_esc(ver['influence_sim'])}, Python {_esc(ver['python'])}, "
        f"numpy {_esc(ver['numpy'])}, Mesa {_esc(ver['mesa'])}. Report written "
        f"{datetime.now(UTC).isoformat(timespec='seconds')}.</p>"
    )


def _intro(
    votes: bool = False, drivers: bool = False, scores: bool = False, evidence: bool = False
) -> str:
    """Navigation links and how to read the comparisons; the flags link optional sections."""
    sections = list(SECTIONS)
    if evidence:
        sections.insert([anchor for anchor, _ in sections].index("parameters"), EVIDENCE_SECTION)
    if votes:
        at = [anchor for anchor, _ in sections].index("effects") + 1
        sections.insert(at, VOTES_SECTION)
    if scores:
        at = [anchor for anchor, _ in sections].index("attribution")
        sections.insert(at, SCORES_SECTION)
    if drivers:
        at = [anchor for anchor, _ in sections].index("attribution") + 1
        sections.insert(at, DRIVERS_SECTION)
    links = "".join(f"<a href='#{anchor}'>{label}</a>" for anchor, label in sections)
    return (
        f"<nav>{links}</nav>\n"
        "<p>Every counterfactual is compared with the baseline replicate by replicate: "
        "replicate k of every scenario draws the same random numbers wherever the scenarios "
        "agree (common random numbers). Intervals are 95% percentile-bootstrap intervals of "
        "the mean paired difference; bands in figures are the spread across replicates "
        "(50% and 90%), not confidence intervals. Magnitudes of events and parameters are "
        "assumptions stated with their reasons in the scenario and world files.</p>"
    )


def _scenarios(results: ResultSet) -> str:
    """The scenario table, the baseline's timeline and each counterfactual's differences."""
    records = results.records()
    base = records[0]
    rows = [
        {
            "scenario": rec.name,
            "title": rec.title,
            "file": os.path.normpath(rec.path),
            "extends": " -> ".join(Path(c).name for c in rec.chain[1:]),
            "events": len(rec.events),
            "sha256": rec.sha256[:12],
        }
        for rec in records
    ]
    parts = [
        "<h2 id='scenarios'>Scenarios</h2>",
        _table(pd.DataFrame(rows), {}),
        f"<h3>Baseline: {_esc(base.name)}</h3>",
        _timeline(base.events),
    ]
    parts += [_counterfactual(base, rec) for rec in records[1:]]
    return "\n".join(parts)


def _counterfactual(base: ScenarioRecord, rec: ScenarioRecord) -> str:
    """What one counterfactual changes: removed events, parameters, added/replaced events."""
    shown, marks, removed = _diff(base.events, rec.events)
    base_params = base.resolved["params"]
    params = {k: v for k, v in rec.resolved["params"].items() if base_params.get(k) != v}
    parts = [f"<h3>{_esc(rec.name)}: {_esc(rec.title)}</h3>"]
    if removed:
        tags = ", ".join(f"<span class='tag removed'>{_esc(r)}</span>" for r in removed)
        parts.append(f"<p>Removes: {tags}</p>")
    if params:
        values = ", ".join(f"{_esc(k)} = {_esc(v)}" for k, v in params.items())
        parts.append(f"<p>Parameters: {values}</p>")
    if shown:
        parts.append(_timeline(shown, marks))
    elif not removed and not params:
        parts.append("<p>No difference from the baseline's events.</p>")
    return "\n".join(parts)


def _caption(name: str) -> str:
    """Caption of a figure: by its full name, else its family (``fan_KZ`` -> ``fan``)."""
    return (
        CAPTIONS.get(name)
        or CAPTIONS.get(name.rsplit("_", 1)[0])
        or CAPTIONS.get(name.split("_")[0], "")
    )


def _figures(figures: dict[str, Figure]) -> str:
    """Every figure embedded as a PNG, with its caption."""
    parts = ["<h2 id='figures'>Figures</h2>"]
    parts += [
        f"<figure><img alt='{_esc(name)}' src='data:image/png;base64,{_png(fig)}'>"
        f"<figcaption><b>{_esc(name)}</b>. {_esc(_caption(name))}</figcaption></figure>"
        for name, fig in figures.items()
    ]
    return "\n".join(parts)


def _effects(cmp: Comparison, top: int) -> str:
    """The ``top`` largest paired differences from the baseline."""
    parts = ["<h2 id='effects'>Effects against the baseline</h2>"]
    if not cmp.effects.empty:
        n = len(cmp.effects)
        parts.append(
            f"<p>The {min(top, n)} largest of {n} paired "
            "differences (scenario minus baseline), biggest first. <i>positive</i>: share "
            "of replicates with a positive difference; <i>effect_size</i>: mean / sd of the "
            "paired differences (large when the pairing removes most noise; read the mean and "
            "its interval for the size).</p>"
        )
        columns = [
            "scenario",
            "measure",
            "actor",
            "power",
            "date",
            "mean",
            "ci_low",
            "ci_high",
            "positive",
            "effect_size",
        ]
        numeric = {
            "mean": "+.4f",
            "ci_low": "+.4f",
            "ci_high": "+.4f",
            "positive": ".0%",
            "effect_size": "+.2f",
        }
        parts.append(_table(cmp.effects.head(top)[columns], numeric, main="mean"))
    return "\n".join(parts)


def _thresholds(cmp: Comparison) -> str:
    """Time-to-threshold outcomes (empty when none were computed)."""
    if cmp.thresholds.empty:
        return ""
    return "<h3>Time to threshold (balance)</h3>\n" + _table(
        cmp.thresholds, {"level": "+.3f", "crossed": ".0%"}
    )


def vote_shares(
    votes: pd.DataFrame,
    *,
    scenarios: list[str] | None = None,
    states: list[str] | None = None,
) -> pd.DataFrame:
    """Share of replicates voting yes, no, abstain or absent, per roll call and state.

    Parameters
    ----------
    votes : pandas.DataFrame
        The votes table (`ResultSet.votes` or `Result.votes`: one row per replicate, roll
        call and state; a ``point`` column is optional).
    scenarios, states : list of str, optional
        The order of the rows' scenarios and states (default: as they come).

    Returns
    -------
    pandas.DataFrame
        Columns scenario, point, event, motion, power, side, date, state, replicates (the
        replicates in which the state was called in that roll call) and one column per
        stance (``yes``, ``no``, ``abstain``, ``absent``) that sum to 1 in each row. ``date``
        is the roll call's date, or ``first to last`` where it differs between replicates.
        Rows are ordered by scenario, point, date, event and state.
    """
    from .core.events import STANCES
    from .experiment.run import VOTE_COLUMNS

    # a roll call's descriptive columns (event ... state), as in the per-replicate table
    call = [c for c in VOTE_COLUMNS if c not in ("scenario", "replicate", "stance")]
    columns = ["scenario", "point", *call, "replicates", *STANCES]
    if votes.empty:
        return pd.DataFrame(columns=columns)
    v = votes.copy()
    if "point" not in v:
        v["point"] = 0
    for c in ("scenario", "event", "motion", "power", "side", "state", "stance", "date"):
        v[c] = v[c].fillna("").astype(str)
    keys = ["scenario", "point", *(c for c in call if c != "date")]
    counts = (
        v.groupby([*keys, "stance"], sort=False, observed=True)
        .size()
        .unstack("stance", fill_value=0)
        .reindex(columns=list(STANCES), fill_value=0)
    )
    n = counts.sum(axis=1)
    out = counts.div(n, axis=0)
    out.insert(0, "replicates", n)
    out = out.reset_index()
    out.columns.name = None
    span = v.groupby(["scenario", "point", "event"], sort=False)["date"].agg(["min", "max"])
    when = {k: lo if lo == hi else f"{lo} to {hi}" for k, lo, hi in span.itertuples(name=None)}
    out["date"] = [when[k] for k in zip(out["scenario"], out["point"], out["event"], strict=True)]
    first = span["min"].to_dict()
    out["_first"] = [
        first[k] for k in zip(out["scenario"], out["point"], out["event"], strict=True)
    ]
    scen = scenarios or list(dict.fromkeys(out["scenario"]))
    sts = states or list(dict.fromkeys(out["state"]))
    out["_s"] = [scen.index(x) if x in scen else len(scen) for x in out["scenario"]]
    out["_t"] = [sts.index(x) if x in sts else len(sts) for x in out["state"]]
    out = out.sort_values(["_s", "point", "_first", "event", "_t"], kind="stable")
    return out[columns].reset_index(drop=True)


def _pct(share: float) -> str:
    """A share as a whole percentage; one decimal where rounding would show 0% or 100%."""
    text = f"{share:.0%}"
    if (text == "0%" and share > 0) or (text == "100%" and share < 1):
        text = f"{share:.1%}"
    return text


def _votes(results: ResultSet) -> str:
    """Per roll call, each state's share of replicates voting yes / no / abstain / absent.

    One table per roll call: a row per state, the scenarios that hold the roll call side by
    side (the baseline first). Empty when the scenarios hold no `vote` event.
    """
    votes = results.votes
    if votes.empty:
        return ""
    world = results.world()
    names = {s.id: s.name for s in world.states}
    shares = vote_shares(votes, scenarios=results.scenarios, states=list(world.state_ids))
    stances = list(shares.columns[9:])
    n_rep = results.n_replicates
    parts = [
        "<h2 id='votes'>Votes</h2>",
        "<p>Roll calls (<code>vote</code> events): per state, the share of replicates in "
        "which it voted yes, no, abstained or was absent. <b>The stances are drawn by the "
        "model</b> from each state's alignment toward the power and its hedging (the vote "
        "kind's response function): they are an output of the simulation, never an input. "
        "Shares are of the replicates in which the roll call took place, so each row sums "
        "to 100%; on a motion <i>against</i> a power, yes is a vote against it.</p>",
    ]
    by_point = shares["point"].nunique() > 1
    order = shares.drop_duplicates(["point", "event"])[["point", "event"]]
    order = order.sort_values("point", kind="stable")
    for point, event in order.itertuples(index=False):
        rc = shares[(shares["point"] == point) & (shares["event"] == event)]
        held = [s for s in results.scenarios if s in set(rc["scenario"])]
        first = rc.iloc[0]
        title = f"{event}" + (f": {first['motion']}" if first["motion"] else "")
        title += f" (point {point})" if by_point else ""
        parts.append(f"<h3>{_esc(title)}</h3>")
        notes = []
        for s in held:
            reps = votes[(votes["scenario"] == s) & (votes["event"] == event)]
            if "point" in votes:
                reps = reps[reps["point"] == point]
            took = reps["replicate"].nunique() / n_rep if n_rep else 0.0
            date = rc.loc[rc["scenario"] == s, "date"].iloc[0]
            notes.append(f"{_esc(s)}: {_esc(date)}, held in {_pct(took)} of {n_rep} replicates")
        missing = [s for s in results.scenarios if s not in held]
        if missing:
            notes.append("not held in " + ", ".join(_esc(s) for s in missing))
        parts.append(
            f"<p class='meta'>A motion {_esc(first['side'])} {_esc(first['power'])}. "
            + "; ".join(notes)
            + ".</p>"
        )
        head1 = "<th rowspan='2'>state</th>" + "".join(
            f"<th colspan='{len(stances)}'>{_esc(s)}"
            + (" (baseline)" if s == results.baseline else "")
            + "</th>"
            for s in held
        )
        head2 = "".join(f"<th>{_esc(st)}</th>" for _ in held for st in stances)
        rows = []
        for state in dict.fromkeys(rc["state"]):
            cells = []
            for s in held:
                hit = rc[(rc["scenario"] == s) & (rc["state"] == state)]
                for st in stances:
                    if hit.empty:
                        cells.append("<td></td>")
                        continue
                    v = float(hit[st].iloc[0])
                    shade = f" style='background: rgba(70, 110, 160, {0.45 * v:.2f})'" if v else ""
                    cells.append(f"<td class='num'{shade}>{_pct(v)}</td>")
            label = f"{names.get(state, state)} ({state})"
            rows.append(f"<tr><td>{_esc(label)}</td>{''.join(cells)}</tr>")
        parts.append(
            f"<table class='votes'><tr>{head1}</tr><tr>{head2}</tr>{''.join(rows)}</table>"
        )
    return "\n".join(parts)


def _attribution(
    contributions: pd.DataFrame | None, partial: pd.DataFrame | None, explained: str
) -> str:
    """Each event's contribution to the baseline's outcome (from `explain`)."""
    parts = ["<h2 id='attribution'>Attribution to events</h2>"]
    if contributions is None:
        parts.append("<p>Not computed (run <code>influence-sim explain</code>).</p>")
        return "\n".join(parts)
    parts.append(
        f"<p>{_esc(explained)}: the outcome with all events minus the outcome without the "
        "event, paired by replicate. The gap between <i>(all events)</i> and <i>(sum of "
        "contributions)</i> is what the events do together rather than one by one.</p>"
    )
    columns = ["event", "kind", "date", "fired", "mean", "ci_low", "ci_high", "positive"]
    numeric = {
        "fired": ".0%",
        "mean": "+.4f",
        "ci_low": "+.4f",
        "ci_high": "+.4f",
        "positive": ".0%",
    }
    parts.append(_table(contributions[columns], numeric, main="mean"))
    if partial is not None and len(partial):
        fired = ", ".join(f"{_esc(e)} ({f:.0%})" for e, f in partial.itertuples(index=False))
        parts.append(f"<p>Events that fired in only some replicates: {fired}</p>")
    return "\n".join(parts)


def _scores(results: ResultSet) -> str:
    """Scores against held-out targets, when `influence-sim score` wrote them."""
    path = results.path / "analysis" / "scores.csv"
    if not path.is_file():
        return ""
    from .analysis.scoring import Scores

    table = pd.read_csv(path)
    alpha = float(table["alpha"].iloc[0]) if "alpha" in table and len(table) else 0.1
    shown = table.drop(columns=[c for c in ("alpha", "observable") if c in table])
    numeric = dict.fromkeys(
        ("observed", "forecast", "low", "high", "interval_score", "crps"), ".4g"
    )
    verdict = Scores(table, alpha).verdict()
    figure = ""
    if "obs_low" in table:  # scores written before the chart existed have no intervals
        from .plots.evidence import scores_chart

        fig = scores_chart(table).get_figure(root=True)
        assert fig is not None
        figure = (
            f"<figure><img alt='scores' src='data:image/png;base64,{_png(fig)}'><figcaption>"
            "Each held-out observation (its 95% interval in grey) against the model's "
            "predictive interval and median (blue) and the baselines' point forecasts, "
            "relative to the observation.</figcaption></figure>"
        )
    return (
        "<h2 id='scores'>Scores against held-out observations</h2>"
        "<p>Each held-out level target scored for the model (its central "
        f"{1 - alpha:.0%} predictive interval across replicates, the interval score and the "
        "CRPS) and for two naive point forecasts from the training targets: persistence of "
        "the last value and a linear trend. Lower scores are better. The model's intervals "
        "hold the replicates' spread only, not the uncertainty of its inputs.</p>"
        f"<pre>{_esc(verdict)}</pre>" + figure + _table(shown, numeric)
    )


def _evidence(results: ResultSet, comparison: Comparison, top: int = 12) -> str:
    """The calibration in ``<store>/calibration`` and the effects over its surviving points.

    Shown when `influence-sim calibrate --out <store>/calibration` has run; the effects table
    when the experiment was also run over the non-implausible points into
    ``<store>/calibrated`` (`batch --inputs`), beside the same effects at the defaults.
    """
    folder = results.path / CALIBRATION_DIR
    if not (folder / "history_match.json").is_file():
        return ""
    from .analysis.calibration import load_history_match
    from .plots.evidence import calibration_intervals

    hm = load_history_match(folder)
    fig = calibration_intervals(hm.intervals).get_figure(root=True)
    assert fig is not None
    import textwrap

    lines = [
        wrapped
        for ln in hm.describe().splitlines()
        if not ln.startswith("not read:")
        for wrapped in textwrap.wrap(ln, 110, subsequent_indent="    ") or [""]
    ]
    unread = len(hm.unused)
    html = (
        "<h2 id='evidence'>Evidence: what the pre-start observations allow</h2>"
        "<p>History matching (<code>influence-sim calibrate</code>) of the baseline to the "
        "targets file, over the uncertainty space of the calibration's experiment: waves of "
        "design points, each ruled out when a target's implausibility exceeds the cutoff. "
        f"{unread} target(s) could not be read (history_match.json says why).</p>"
        f"<pre>{_esc(chr(10).join(lines))}</pre>"
        f"<figure><img alt='calibration' src='data:image/png;base64,{_png(fig)}'><figcaption>"
        "Each target's observation (grey: its 95% interval; hatched: the side a pattern "
        "admits) against the model's 90% predictive interval over the whole space (wave 1, "
        "orange) and over the non-implausible points of the last wave (blue).</figcaption>"
        "</figure>"
    )
    calibrated = results.path / CALIBRATED_DIR
    if not (calibrated / "manifest.json").is_file():
        return html
    from .analysis.compare import compare
    from .experiment.store import load_results

    over = compare(load_results(calibrated))
    key = ["scenario", "measure", "actor", "power", "date"]
    if not comparison.effects["power"].fillna("").astype(bool).any():
        key.remove("power")
    cols = ["mean", "ci_low", "ci_high"]
    both = comparison.effects[key + cols].merge(
        over.effects[key + cols], on=key, suffixes=(" (defaults)", " (non-implausible)")
    )
    both = both.reindex(both["mean (defaults)"].abs().sort_values(ascending=False).index).head(top)
    numeric = {c: ".4f" for c in both.columns if c.split(" ")[0] in cols}
    return html + (
        "<h3>Effects over the inputs the evidence allows</h3>"
        "<p>The experiment run again with replicate r at the r mod P-th non-implausible "
        "point (<code>batch --inputs</code>), so each paired effect integrates over the "
        "inputs the evidence leaves open, not just the defaults; beside it the effect at "
        "the defaults. Wider intervals are the inputs' uncertainty.</p>" + _table(both, numeric)
    )


def _drivers(runs: Sequence[SensitivityRun]) -> str:
    """What drives each conclusion: the sensitivity runs and scenario discoveries of a store."""
    if not runs:
        return ""
    from .plots.sensitivity import morris_chart, sobol_chart

    parts = [
        "<h2 id='drivers'>What drives the conclusions</h2>",
        "<p>Global sensitivity analyses of the experiments' declared uncertainty: each input "
        "(a parameter, an event's magnitude or a world number) varies over its range, many "
        "design points run with paired replicates, and each outcome's variance is split "
        "among the inputs. The indices are computed on the replicate means; the model's own "
        "noise is reported beside them, not hidden in them. Conclusions are statements "
        "about the outcomes; the share of design points where each holds is shown, and a "
        "scenario discovery (PRIM) finds where in the inputs a conclusion fails.</p>",
    ]
    for res in runs:
        key = "ST" if res.method == "sobol" else "mu_star"
        parts.append(
            f"<h3>{_esc(res.run.experiment['title'])}: {_esc(res.method)}</h3>"
            f"<p class='meta'>{len(res.run.space.names)} inputs, {len(res.run.X):,} design "
            f"points x {res.run.replicates} replicates, seed {res.run.seed}; store "
            f"{_esc(os.path.normpath(res.path))}.</p>"
        )
        if len(res.conclusions):
            c = res.conclusions.rename(columns={"holds": "share of design where it holds"})
            parts.append(_table(c, {"share of design where it holds": ".0%"}))
        for o in res.run.outcomes:
            frame = res.of(o.name)
            cols = (
                ["ST", "ST_lo", "ST_hi", "S1"]
                if key == "ST"
                else ["mu_star", "mu_star_lo", "mu_star_hi", "sigma", "mu"]
            )
            top = frame[cols].head(8).reset_index()
            chart = sobol_chart if key == "ST" else morris_chart
            fig = chart(frame, title=f"{o.name}: {o.text}").get_figure(root=True)
            assert fig is not None
            noise = frame.attrs
            parts.append(
                f"<h4>{_esc(o.name)}: {_esc(o.text)}</h4>"
                f"<p>The model's own noise is {noise['noise_single']:.0%} of one replicate's "
                f"variance and {noise['noise_in_means']:.0%} of what is left in the "
                f"means of {res.run.replicates} replicates.</p>"
                + _table(top, dict.fromkeys(cols, ".4f"))
                + f"<figure><img alt='{_esc(o.name)}' src='data:image/png;base64,{_png(fig)}'>"
                f"</figure>"
            )
        for disc in sorted((res.path / "discovery").glob("*.json")):
            parts.append(_discovery(disc, res.run.space))
    return "\n".join(parts)


def _discovery(path: Path, space: Any) -> str:
    """One scenario discovery written by `influence_sim.analysis.discovery.discover`."""
    from .analysis.discovery import Discovery
    from .plots.discovery import discovery_panels

    d = json.loads(path.read_text("utf-8"))
    fig = discovery_panels(Discovery.from_dict(d), space)
    limits = pd.DataFrame(d.get("limits", []))
    return (
        f"<h4>Where {_esc(d['conclusion'])} {_esc(d['where'])}</h4>"
        f"<p>The conclusion holds at {d['share_holds']:.0%} of the design points.</p>"
        f"<pre>{_esc(d['text'])}</pre>"
        + (
            _table(limits, {c: ".4g" for c in limits.columns if c != "input"})
            if len(limits)
            else ""
        )
        + f"<figure><img alt='PRIM' src='data:image/png;base64,{_png(fig)}'><figcaption>Left: "
        "the peeling trajectory, coverage against density of the boxes, the chosen box "
        "ringed. Right: the chosen box's limits on each restricted input's full range, with "
        "its quasi-p-value (grey: 0.05 or more, possibly chance).</figcaption></figure>"
    )


def _parameters(results: ResultSet) -> str:
    """The baseline's parameters with their defaults, meanings and reasons; design points."""
    reg = parameters()
    rows = [
        {
            "name": k,
            "value": v,
            "default": reg[k].default,
            "meaning": reg[k].meaning,
            "reason": reg[k].reason,
        }
        for k, v in results.record().resolved["params"].items()
    ]
    parts = ["<h2 id='parameters'>Parameters</h2>", _table(pd.DataFrame(rows), {})]
    points = results.points
    if len(points) > 1:
        design = pd.DataFrame([{"point": j, **p} for j, p in enumerate(points)])
        parts += ["<h3>Design points</h3>", _table(design, {})]
    return "\n".join(parts)


def _manifest(results: ResultSet) -> str:
    """The manifest as JSON (without the per-chunk status) and the experiment file."""
    slim = {k: v for k, v in results.manifest.items() if k != "chunks"}
    return (
        "<h2 id='manifest'>Manifest</h2>\n"
        "<details><summary>manifest.json (without the per-chunk status)</summary><pre>"
        f"{_esc(json.dumps(slim, indent=1, default=str))}</pre></details>\n"
        "<details><summary>Experiment file</summary>"
        f"<pre>{_esc(results.experiment['text'])}</pre></details>"
    )


def build_report(
    results: ResultSet,
    *,
    comparison: Comparison | None = None,
    contributions: pd.DataFrame | None = None,
    partial: pd.DataFrame | None = None,
    explained: str = "",
    figures: dict[str, Figure] | None = None,
    out: str | Path | None = None,
    top: int = 40,
    sensitivity: Sequence[SensitivityRun] = (),
) -> Path:
    """Write the HTML report of a results store; return its path.

    Parameters
    ----------
    results : ResultSet
        The store (`load_results`).
    comparison : Comparison, optional
        From `compare` (computed here when None).
    contributions, partial : DataFrame, optional
        From `explain` (the attribution section is left out when None).
    explained : str
        What ``contributions`` explains, e.g. "balance KZ at the horizon".
    figures : dict of name to Figure, optional
        Figures to embed (default: `influence_sim.plots.figure_set`).
    out : path, optional
        The HTML file (default: ``<store>/report.html``).
    top : int
        Rows of the effects table.
    sensitivity : sequence of SensitivityRun
        Sensitivity runs (`influence_sim.analysis.sensitivity.find_sensitivity`), shown with
        their scenario discoveries in a "what drives the conclusions" section.
    """
    if comparison is None:
        from .analysis.compare import compare

        comparison = compare(results)
    if figures is None:
        from .plots import figure_set

        figures = figure_set(results, comparison=comparison, contributions=contributions)
    votes = _votes(results)
    scores = _scores(results)
    evidence = _evidence(results, comparison)
    sections = [
        _header(results),
        _intro(
            votes=bool(votes),
            drivers=bool(sensitivity),
            scores=bool(scores),
            evidence=bool(evidence),
        ),
        _scenarios(results),
        _figures(figures),
        _effects(comparison, top),
        _thresholds(comparison),
        votes,
        scores,
        _attribution(contributions, partial, explained),
        _drivers(sensitivity),
        evidence,
        _parameters(results),
        _manifest(results),
    ]
    doc = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_esc(results.experiment['title'])}</title><style>{CSS}</style></head>"
        "<body><main>" + "\n".join(s for s in sections if s) + "</main></body></html>\n"
    )
    path = Path(out) if out is not None else results.path / "report.html"
    with atomic_file(path) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    return path
