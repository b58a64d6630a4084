"""One self-contained HTML report of an experiment's results store.

The report embeds its figures (PNG, base64) and needs nothing else: no scripts, no fonts, no
network. It holds the experiment and its scenarios with their event timelines and sources, the
figures, the comparison, time-to-threshold and attribution tables, the parameters and the
manifest.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import atomic_file
from .analysis.compare import Comparison
from .params import parameters

__all__ = ["build_report"]

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
"""

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


def _png(fig) -> str:
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
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    rows = []
    for _, r in frame.iterrows():
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


def build_report(
    results,
    *,
    comparison: Comparison | None = None,
    contributions: pd.DataFrame | None = None,
    partial: pd.DataFrame | None = None,
    explained: str = "",
    figures: dict[str, Any] | None = None,
    out: str | Path | None = None,
    top: int = 40,
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
    """
    from .analysis.compare import compare

    m = results.manifest
    cmp = comparison if comparison is not None else compare(results)
    if figures is None:
        from .plots import figure_set

        figures = figure_set(results, comparison=cmp, contributions=contributions)
    out = Path(out) if out is not None else results.path / "report.html"
    exp = m["experiment"]
    scen = m["scenarios"]
    base_events = scen[0]["resolved"]["events"]
    parts: list[str] = []
    add = parts.append
    add(f"<h1>{_esc(exp['title'])}</h1>")
    add(
        f"<p class='meta'>Experiment <b>{_esc(exp['name'])}</b> "
        f"({_esc(os.path.normpath(exp['path']))}, sha256 "
        f"{_esc(exp['sha256'][:16])}); {len(scen)} scenarios x {len(m['points'])} point(s) x "
        f"{m['replicates']} paired replicates; seed {_esc(m['seed'])}; "
        f"{sum(c['status'] == 'done' for c in m['chunks'].values())} of {len(m['chunks'])} "
        f"chunks done. influence-sim {_esc(m['versions']['influence_sim'])}, Python "
        f"{_esc(m['versions']['python'])}, numpy {_esc(m['versions']['numpy'])}, Mesa "
        f"{_esc(m['versions']['mesa'])}. Report written "
        f"{datetime.now(UTC).isoformat(timespec='seconds')}.</p>"
    )
    add(
        "<nav><a href='#scenarios'>Scenarios</a><a href='#figures'>Figures</a>"
        "<a href='#effects'>Effects</a><a href='#attribution'>Attribution</a>"
        "<a href='#parameters'>Parameters</a><a href='#manifest'>Manifest</a></nav>"
    )
    add(
        "<p>Every counterfactual is compared with the baseline replicate by replicate: "
        "replicate k of every scenario draws the same random numbers wherever the scenarios "
        "agree (common random numbers). Intervals are 95% percentile-bootstrap intervals of "
        "the mean paired difference; bands in figures are the spread across replicates "
        "(50% and 90%), not confidence intervals. Magnitudes of events and parameters are "
        "assumptions stated with their reasons in the scenario and world files.</p>"
    )

    add("<h2 id='scenarios'>Scenarios</h2>")
    rows = [
        {
            "scenario": s["name"],
            "title": s["title"],
            "file": os.path.normpath(s["path"]),
            "extends": " -> ".join(Path(c).name for c in s["chain"][1:]),
            "events": len(s["resolved"]["events"]),
            "sha256": s["sha256"][:12],
        }
        for s in scen
    ]
    add(_table(pd.DataFrame(rows), {}))
    add(f"<h3>Baseline: {_esc(scen[0]['name'])}</h3>")
    add(_timeline(base_events))
    for s in scen[1:]:
        shown, marks, removed = _diff(base_events, s["resolved"]["events"])
        add(f"<h3>{_esc(s['name'])}: {_esc(s['title'])}</h3>")
        if removed:
            add(
                "<p>Removes: "
                + ", ".join(f"<span class='tag removed'>{_esc(r)}</span>" for r in removed)
                + "</p>"
            )
        params = {
            k: v
            for k, v in s["resolved"]["params"].items()
            if scen[0]["resolved"]["params"].get(k) != v
        }
        if params:
            add(
                "<p>Parameters: "
                + ", ".join(f"{_esc(k)} = {_esc(v)}" for k, v in params.items())
                + "</p>"
            )
        if shown:
            add(_timeline(shown, marks))
        elif not removed and not params:
            add("<p>No difference from the baseline's events.</p>")

    add("<h2 id='figures'>Figures</h2>")
    for name, fig in figures.items():
        cap = (
            CAPTIONS.get(name)
            or CAPTIONS.get(name.rsplit("_", 1)[0])
            or CAPTIONS.get(name.split("_")[0], "")
        )
        add(
            f"<figure><img alt='{_esc(name)}' src='data:image/png;base64,{_png(fig)}'>"
            f"<figcaption><b>{_esc(name)}</b>. {_esc(cap)}</figcaption></figure>"
        )

    add("<h2 id='effects'>Effects against the baseline</h2>")
    if not cmp.effects.empty:
        eff = cmp.effects.head(top)[
            [
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
        ]
        add(
            f"<p>The {min(top, len(cmp.effects))} largest of {len(cmp.effects)} paired "
            "differences (scenario minus baseline), biggest first. <i>positive</i>: share "
            "of replicates with a positive difference; <i>effect_size</i>: mean / sd of the "
            "paired differences (large when the pairing removes most noise; read the mean and "
            "its interval for the size).</p>"
        )
        add(
            _table(
                eff,
                {
                    "mean": "+.4f",
                    "ci_low": "+.4f",
                    "ci_high": "+.4f",
                    "positive": ".0%",
                    "effect_size": "+.2f",
                },
                main="mean",
            )
        )
    if not cmp.thresholds.empty:
        add("<h3>Time to threshold (balance)</h3>")
        add(_table(cmp.thresholds, {"level": "+.3f", "crossed": ".0%"}))

    add("<h2 id='attribution'>Attribution to events</h2>")
    if contributions is not None:
        add(
            f"<p>{_esc(explained)}: the outcome with all events minus the outcome without the "
            "event, paired by replicate. The gap between <i>(all events)</i> and <i>(sum of "
            "contributions)</i> is what the events do together rather than one by one.</p>"
        )
        add(
            _table(
                contributions[
                    ["event", "kind", "date", "fired", "mean", "ci_low", "ci_high", "positive"]
                ],
                {
                    "fired": ".0%",
                    "mean": "+.4f",
                    "ci_low": "+.4f",
                    "ci_high": "+.4f",
                    "positive": ".0%",
                },
                main="mean",
            )
        )
        if partial is not None and len(partial):
            add(
                "<p>Events that fired in only some replicates: "
                + ", ".join(f"{_esc(e)} ({f:.0%})" for e, f in partial.itertuples(index=False))
                + "</p>"
            )
    else:
        add("<p>Not computed (run <code>influence-sim explain</code>).</p>")

    add("<h2 id='parameters'>Parameters</h2>")
    reg = parameters()
    prow = [
        {
            "name": k,
            "value": v,
            "default": reg[k].default,
            "meaning": reg[k].meaning,
            "reason": reg[k].reason,
        }
        for k, v in scen[0]["resolved"]["params"].items()
    ]
    add(_table(pd.DataFrame(prow), {}))
    if len(m["points"]) > 1:
        add("<h3>Design points</h3>")
        add(_table(pd.DataFrame([{"point": p["index"], **p["params"]} for p in m["points"]]), {}))

    add("<h2 id='manifest'>Manifest</h2>")
    slim = {k: v for k, v in m.items() if k != "chunks"}
    add(
        "<details><summary>manifest.json (without the per-chunk status)</summary><pre>"
        f"{_esc(json.dumps(slim, indent=1, default=str))}</pre></details>"
    )
    add(f"<details><summary>Experiment file</summary><pre>{_esc(exp['text'])}</pre></details>")

    doc = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_esc(exp['title'])}</title><style>{CSS}</style></head><body><main>"
        + "\n".join(parts)
        + "</main></body></html>\n"
    )
    with atomic_file(out) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    return out
