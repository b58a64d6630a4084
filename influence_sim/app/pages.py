"""The Solara pages: explore a scenario, step one replicate, browse a results store.

Served by ``influence-sim app`` (or ``solara run influence_sim.app.pages``); settings come
from `influence_sim.app.config`. Three routes:

- ``/``: explore a scenario live. Choose a scenario, move the global parameters (ranges and
  meanings from `influence_sim.params.parameters`), switch events off, move them or rescale
  them, run an ensemble, and read the what-if against the unedited scenario: fan chart with
  the unedited one ghosted, paired effects with bootstrap intervals, faction shares, the map,
  and which events fired. Save the what-if as a counterfactual TOML file (`whatif`).
- ``/step``: one replicate of the (edited) scenario as an `InfluenceModel`, stepped with
  Mesa's `SolaraViz` controls.
- ``/store``: browse a results store (`influence_sim.load_results`, `influence_sim.compare`):
  figures, the sortable effects table and saved attributions, nothing re-run.

Figures are `influence_sim.plots` figures, drawn with matplotlib (no pyplot) and sent as PNG.
"""

from __future__ import annotations

import html
import itertools
import math
import threading
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import solara
import solara.lab
from matplotlib.figure import Figure

from .. import plots
from ..abm.model import InfluenceModel
from ..analysis.compare import Comparison, compare
from ..core.scenario import Scenario, load_scenario
from ..errors import InputError, StoreError
from ..experiment.store import ResultSet, load_results
from ..params import Parameter, parameters
from . import engine
from .config import AppConfig, scenario_files
from .whatif import SCALE_STEP, WhatIf, horizon, magnitude_field, max_scale

CONFIG = AppConfig.from_env()
#: Runs of unedited scenarios, shared by every session (they depend on nothing else).
_CACHE = engine.BaseCache()
_CACHE_LOCK = threading.Lock()
#: Numbers the runs of this server, so a page (and a test) can tell one run from the next.
_RUNS = itertools.count(1)

# ---------------------------------------------------------------------------------------
# session state (solara.reactive values are kept per browser tab)

scenario_path: solara.Reactive[Path | None] = solara.reactive(None)
whatif: solara.Reactive[WhatIf | None] = solara.reactive(None)
load_error: solara.Reactive[str] = solara.reactive("")
run_error: solara.Reactive[str] = solara.reactive("")
replicates = solara.reactive(CONFIG.replicates)
seed = solara.reactive(CONFIG.seed)
view_actor: solara.Reactive[str | None] = solara.reactive(None)
view_date: solara.Reactive[date | None] = solara.reactive(None)
save_message: solara.Reactive[str] = solara.reactive("")
store_path = solara.reactive(str(CONFIG.store) if CONFIG.store else "")


def _choices() -> dict[str, Path]:
    return scenario_files(CONFIG.scenarios, CONFIG.scenario)


def _load(path: Path) -> None:
    """Load a scenario to explore: a fresh what-if, no result."""
    try:
        scen = load_scenario(path)
    except InputError as exc:
        load_error.set(str(exc))
        return
    load_error.set("")
    run_error.set("")
    save_message.set("")
    scenario_path.set(path)
    whatif.set(WhatIf(scen))
    view_actor.set(None)
    view_date.set(None)


# ---------------------------------------------------------------------------------------
# the run


@solara.lab.task(prefer_threaded=True)
def run_ensemble() -> tuple[engine.Pair, WhatIf]:
    """Run the what-if (and the unedited scenario, once) as paired ensembles."""
    w = whatif.value
    assert w is not None
    edited = w.scenario(CONFIG.save_dir / f"{w.scenario_name}.toml")

    def report(f: float) -> None:
        run_ensemble.progress = 100 * f

    with _CACHE_LOCK:
        pair = engine.run_pair(
            w.base,
            edited,
            replicates=replicates.value,
            seed=seed.value,
            cache=_CACHE,
            on_progress=report,
        )
    pair.info["run"] = next(_RUNS)
    return pair, w


def _start_run() -> None:
    w = whatif.value
    if w is None:
        return
    try:
        w.check()
        w.scenario(CONFIG.save_dir / f"{w.scenario_name}.toml")
    except (InputError, ValueError) as exc:
        run_error.set(str(exc))
        return
    run_error.set("")
    run_ensemble()


# ---------------------------------------------------------------------------------------
# small pieces


def _fmt(v: float, digits: int = 4) -> str:
    """A signed number with a typographic minus."""
    return f"{v:+.{digits}f}".replace("-", "\u2212")


def _html(
    content: str, style: dict[str, str] | None = None, classes: list[str] | None = None
) -> None:
    """Show trusted HTML (every value in it escaped with `_e`).

    Not Markdown: solara's Markdown loads KaTeX from a CDN, and the app fetches nothing.
    """
    solara.HTML(tag="div", unsafe_innerHTML=content, style=style or {}, classes=classes or [])


def _e(value: Any) -> str:
    """A value, escaped for HTML."""
    return html.escape(str(value))


TABLE_CSS = (
    "<style>.isim-table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}"
    ".isim-table th{text-align:left;border-bottom:1px solid #999;padding:3px 10px;"
    "font-weight:600}.isim-table td{padding:2px 10px;border-bottom:1px solid #EEE}"
    ".isim-table td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".isim-table td{white-space:nowrap}"
    ".isim-table tr.focus td{font-weight:600;background:#F2F7FD}</style>"
)


def _table(
    headers: list[str],
    rows: list[list[Any]],
    *,
    numeric: set[int] | None = None,
    focus: int | None = None,
    cls: str = "",
) -> str:
    """An HTML table of escaped cells; columns in ``numeric`` right-aligned."""
    numeric = numeric or set()
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        f"<tr{' class="focus"' if j == focus else ''}>"
        + "".join(
            f"<td{' class="num"' if i in numeric else ''}>{_e(c)}</td>" for i, c in enumerate(r)
        )
        + "</tr>"
        for j, r in enumerate(rows)
    )
    return f"{TABLE_CSS}<table class='isim-table {cls}'><tr>{head}</tr>{body}</table>"


def _figure(fig: Figure, deps: list[Any]) -> None:
    solara.FigureMatplotlib(fig, dependencies=deps, format="png", dpi=96, bbox_inches="tight")


def _decimals(v: float) -> int:
    """Decimal places of a number as written (0.0019: 4)."""
    text = f"{v:.10f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def _param_step(p: Parameter, *values: float) -> float:
    """A slider step: a thousandth of the range as a power of ten, fine enough for ``values``.

    The documented default (and the scenario's value) must be a slider position, or the
    slider would move them on its own.
    """
    assert p.low is not None and p.high is not None
    span = p.high - p.low
    step = float(10 ** math.floor(math.log10(span / 1000))) if span > 0 else 1.0
    for v in values:
        step = min(step, 10.0 ** -_decimals(v))
    return step


@solara.component
def ParameterControl(p: Parameter, w: WhatIf) -> None:
    """One parameter: a slider over its documented range (or a choice), with its meaning."""
    value = w.params.get(p.name, w.base.params[p.name])
    changed = value != w.base.params[p.name]

    def set_value(v: Any) -> None:
        cur = whatif.value
        if cur is None:
            return
        if p.numeric:
            v = round(float(v), 10)
            if math.isclose(v, float(cur.params.get(p.name, cur.base.params[p.name]))):
                return
        whatif.set(cur.with_param(p.name, v))

    with solara.Column(gap="0px", style={"margin-bottom": "6px"}):
        if p.numeric:
            assert p.low is not None and p.high is not None
            label = f"{p.name} = {float(value):g}" + ("  (edited)" if changed else "")
            solara.SliderFloat(
                label,
                value=float(value),
                min=p.low,
                max=p.high,
                step=_param_step(p, float(p.default), float(w.base.params[p.name])),
                on_value=set_value,
                thumb_label=False,
            )
        else:
            solara.Select(
                p.name + ("  (edited)" if changed else ""),
                value=str(value),
                values=list(p.choices or ()),
                on_value=set_value,
            )
        unit = f" [{p.unit}]" if p.unit else ""
        default = w.base.params[p.name]
        solara.Text(
            f"{p.meaning}{unit} Scenario's value: {default}.",
            style={"font-size": "11px", "color": "#666", "line-height": "1.25"},
        )


@solara.component
def ParameterPanel(w: WhatIf) -> None:
    """Every documented parameter (`influence_sim.params.parameters`)."""
    with solara.Card("Global parameters", margin=0, style={"margin-bottom": "12px"}):
        with solara.Row(justify="space-between", style={"align-items": "center"}):
            n = len(w.changed_params())
            solara.Text(f"{n} changed" if n else "as in the scenario", style={"color": "#666"})

            def reset() -> None:
                cur = whatif.value
                if cur is not None:
                    whatif.set(replace(cur, params={}))

            solara.Button("Reset parameters", on_click=reset, text=True, disabled=not n)
        for p in parameters().values():
            ParameterControl(p, w)


EVENT_GRID = {
    "display": "grid",
    "grid-template-columns": "52px 112px minmax(100px, 1fr)",
    "column-gap": "10px",
    "align-items": "center",
}


@solara.component
def EventRow(ev: Any, w: WhatIf) -> None:
    """One event: on/off, date, magnitude."""
    e = w.edit(ev.id)
    forced = w.forced_off().get(ev.id)
    first, last = horizon(w.base)
    fld = magnitude_field(ev)

    def set_on(on: bool) -> None:
        cur = whatif.value
        if cur is not None:
            whatif.set(cur.with_event(ev.id, off=not on))

    def set_date(d: date | None) -> None:
        cur = whatif.value
        if cur is not None and d is not None:
            whatif.set(cur.with_event(ev.id, date=None if d == ev.date else d))

    def set_scale(k: float) -> None:
        cur = whatif.value
        k = round(round(k / SCALE_STEP) * SCALE_STEP, 2)
        if cur is not None and not math.isclose(k, cur.edit(ev.id).scale):
            whatif.set(cur.with_event(ev.id, scale=k))

    off = e.off or forced is not None
    edited = e.changes(ev)
    with solara.Column(
        gap="0px",
        style={
            "border-left": f"3px solid {'#1976D2' if edited else '#E0E0E0'}",
            "padding": "2px 6px",
            "margin-bottom": "4px",
            "background": "#F2F7FD" if edited else "transparent",
        },
        classes=[f"event-{ev.id}"],
    ):
        note = f"off: it needs {forced}" if forced is not None else ev.kind.replace("_", " ")
        _html(
            f"<b>{_e(ev.id)}</b> <span style='color:{'#B00020' if forced else '#777'};"
            f"font-size:11px'>{_e(note)}</span>",
            style={"font-size": "13px", "opacity": "0.6" if off else "1"},
        )
        with solara.Div(style=EVENT_GRID):
            solara.Switch(
                value=not off,
                on_value=set_on,
                disabled=forced is not None,
                classes=[f"switch-{ev.id}"],
            )
            if off:
                solara.Text(f"{ev.date} (off)", style={"color": "#999", "font-size": "13px"})
                return
            with solara.Div(style={"width": "112px", "overflow": "hidden"}):
                solara.lab.InputDate(
                    e.date or ev.date,
                    on_value=set_date,
                    label="",
                    date_format="%Y-%m-%d",
                    min_date=first.isoformat(),
                    max_date=last.isoformat(),
                    dense=True,
                    style={"width": "112px", "font-size": "13px"},
                )
            if fld is not None and max_scale(ev) > 0:
                with solara.Column(gap="0px", style={"min-width": "0"}):
                    solara.Text(
                        f"{fld} \u00d7{e.scale:.2f}",
                        style={
                            "font-size": "11px",
                            "color": "#1976D2" if e.scale != 1 else "#666",
                            "margin-bottom": "-18px",
                        },
                    )
                    solara.SliderFloat(
                        "",
                        value=e.scale,
                        min=0.0,
                        max=max_scale(ev),
                        step=SCALE_STEP,
                        on_value=set_scale,
                        thumb_label=False,
                    )
            else:
                solara.Text("(no magnitude)", style={"font-size": "12px", "color": "#999"})


@solara.component
def EventPanel(w: WhatIf) -> None:
    """The scenario's events, each editable."""
    with solara.Card("Events", margin=0, style={"margin-bottom": "12px"}):
        solara.Text(
            "Switch an event off, click its date to move it, or scale its magnitude "
            "(\u00d71 = as written). "
            "Blue: edited.",
            style={"font-size": "12px", "color": "#666"},
        )
        for ev in w.base.events:
            EventRow(ev, w)

        def reset() -> None:
            cur = whatif.value
            if cur is not None:
                whatif.set(replace(cur, events={}))

        solara.Button("Reset events", on_click=reset, text=True, disabled=not w.events)


# ---------------------------------------------------------------------------------------
# results


def _state_label(world: Any, actor: str) -> str:
    names = {s.id: s.name for s in world.states}
    return f"{names[actor]} ({actor})" if actor in names else "Region (population-weighted)"


@solara.component
def EffectsTable(table: pd.DataFrame, world: Any, actor: str) -> None:
    """The paired effects of the edit on the balance, one row per state."""
    rows = [
        [
            _state_label(world, r.actor),
            _fmt(r.mean) + (" *" if r.ci_low > 0 or r.ci_high < 0 else ""),
            f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]",
            f"{r.positive:.0%}",
            _fmt(r.unedited, 3),
            _fmt(r.whatif, 3),
        ]
        for r in table.itertuples()
    ]
    focus = list(table["actor"]).index(actor) if actor in list(table["actor"]) else None
    headers = [f"balance on {table['date'].iloc[0]}", "mean paired difference", "95% CI"]
    headers += ["share > 0", "unedited mean", "what-if mean"]
    _html(
        _table(headers, rows, numeric={1, 2, 3, 4, 5}, focus=focus, cls="paired-effects")
        + "<div style='font-size:11px;color:#666'>what-if minus unedited, replicate by "
        "replicate (same seed); 95% percentile bootstrap interval of the mean; "
        "*: the interval excludes 0</div>"
    )


@solara.component
def Results(pair: engine.Pair, ran: WhatIf) -> None:
    """The what-if against the unedited scenario."""
    world = pair.world()
    states = world.state_ids
    actor = view_actor.value or pair.focus_states()[0]
    dates = pair.dates
    when = view_date.value
    k = pair.date_index(when)
    day = str(dates[k])
    table = solara.use_memo(
        lambda: engine.paired_effects(pair, "balance", day), dependencies=[id(pair), day]
    )
    fired = solara.use_memo(lambda: engine.firing_table(pair), dependencies=[id(pair)])
    row = table[table["actor"] == actor].iloc[0]
    deps = [id(pair), actor, day]

    changes = ran.describe()
    _html(
        f"<span class='run-id'>Run {pair.info.get('run', '')}</span>: "
        f"<b>{_e(pair.edit_name)}</b> against <b>{_e(pair.base_name)}</b>: "
        f"{pair.n_replicates} paired replicates, seed {_e(pair.edit.seed.entropy)}; the "
        f"what-if ran in {pair.seconds:.2f} s.<br>"
        + (
            "Changes: " + _e("; ".join(changes)) + "."
            if changes
            else "No changes: the what-if is the scenario itself (every difference is 0)."
        )
    )
    with solara.Row(gap="16px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Select(
            "state",
            value=_state_label(world, actor),
            values=[_state_label(world, s) for s in [*states, "region"]],
            on_value=lambda lb: view_actor.set(
                ([*states, "region"])[
                    [_state_label(world, s) for s in [*states, "region"]].index(lb)
                ]
            ),
            style={"max-width": "260px"},
        )
        with solara.Div(style={"width": "420px"}):
            solara.SliderInt(
                f"date: {day}",
                value=k,
                min=0,
                max=len(dates) - 1,
                on_value=lambda j: view_date.set(date.fromisoformat(str(dates[j]))),
                thumb_label=False,
            )
    _html(
        f"Paired effect of the edit on the balance of {_e(_state_label(world, actor))} on "
        f"{day}: <b class='effect-mean'>{_fmt(row['mean'])}</b> (95% CI "
        f"<span class='effect-ci'>{_fmt(row['ci_low'])} to {_fmt(row['ci_high'])}</span>; "
        f"positive in {row['positive']:.0%} of replicates). Median balance: what-if "
        f"<span class='median-whatif'>{_fmt(_median(pair, pair.edit_name, actor, k), 4)}</span>"
        f", unedited <span class='median-unedited'>"
        f"{_fmt(_median(pair, pair.base_name, actor, k), 4)}</span>.",
        style={"font-size": "15px", "margin": "8px 0"},
        classes=["effect-summary"],
    )

    def draw_fan() -> Figure:
        fan = Figure(figsize=(7.6, 4.0), layout="constrained")
        plots.fan_chart(
            pair,
            "balance",
            actor,
            scenario=pair.edit_name,
            events="changed",
            ax=fan.add_subplot(),
            legend=True,
            title=f"Balance of {_state_label(world, actor)}: the what-if, the unedited "
            "scenario grey behind",
        )
        return fan

    def draw_map() -> Figure:
        m = Figure(figsize=(5.0, 4.6), layout="constrained")
        plots.choropleth(pair, scenario=pair.edit_name, date=day, ax=m.add_subplot())
        return m

    def draw_factions() -> Figure | None:
        if actor not in states:
            return None
        fs = Figure(figsize=(7.6, 3.4), layout="constrained")
        plots.faction_shares(
            pair, actor, scenario=pair.edit_name, events="lines", ax=fs.add_subplot()
        )
        return fs

    fan = solara.use_memo(draw_fan, dependencies=deps)
    geo = solara.use_memo(draw_map, dependencies=deps)
    factions = solara.use_memo(draw_factions, dependencies=deps)
    with solara.Columns([3, 2]):
        with solara.Column():
            _figure(fan, deps)
        with solara.Column():
            _figure(geo, deps)
    EffectsTable(table, world, actor)
    with solara.Columns([3, 2]):
        with solara.Column():
            if factions is not None:
                _figure(factions, deps)
            else:
                solara.Text("Pick a state to see its factions.")
        with solara.Column():
            FiredTable(fired)


@solara.component
def FiredTable(fired: pd.DataFrame) -> None:
    """Which events fired, in what share of replicates, unedited and what-if."""

    def share(v: float) -> str:
        return "\u2013" if v != v else f"{v:.0%}"  # NaN: not in the scenario

    rows = [
        [r.event, r.date, share(r.unedited), share(r.whatif), r.status] for r in fired.itertuples()
    ]
    _html(
        "<b>Events that fired</b> (share of replicates)"
        + _table(["event", "date", "unedited", "what-if", ""], rows, numeric={2, 3}, cls="fired")
    )


def _median(pair: engine.Pair, scenario: str, actor: str, k: int) -> float:
    """Median across replicates of an actor's balance at recorded date k."""
    _, vals, labels = pair.block("balance", scenario)
    return float(np.median(vals[k][:, labels.index(actor)]))


# ---------------------------------------------------------------------------------------
# saving


@solara.component
def SavePanel(w: WhatIf) -> None:
    """Name the what-if and save it as a counterfactual TOML file."""
    name, set_name = solara.use_state(w.scenario_name)
    folder, set_folder = solara.use_state(str(CONFIG.save_dir))
    target = Path(folder) / f"{name}.toml"
    cur = replace(w, name=name)
    text = cur.toml(target)

    def save() -> None:
        try:
            cur.check()
            cur.scenario(target)  # refuse what would not validate
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, "utf-8")
        except (InputError, ValueError, OSError) as exc:
            save_message.set(f"Not saved: {exc}")
            return
        save_message.set(f"Saved {target.resolve()}")

    with solara.Card("Save the what-if", margin=0):
        solara.Text(
            "A counterfactual that extends the scenario: `influence-sim validate` accepts it, "
            f"and `influence-sim run FILE --seed {seed.value} --replicates {replicates.value}` "
            "reproduces these numbers.",
            style={"font-size": "12px", "color": "#666"},
        )
        with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.InputText("name", value=name, on_value=set_name, continuous_update=True)
            solara.InputText("folder", value=folder, on_value=set_folder)
            solara.Button("Save TOML", on_click=save, color="primary", icon_name="mdi-content-save")
            solara.FileDownload(
                w.toml(), filename=f"{name}.toml", label="Download", icon_name="mdi-download"
            )
        if save_message.value:
            (solara.Success if save_message.value.startswith("Saved") else solara.Error)(
                save_message.value
            )
        with solara.Details("Show the TOML"):
            solara.Preformatted(text)


# ---------------------------------------------------------------------------------------
# the explore page


@solara.component
def ScenarioPicker() -> None:
    """Choose a shipped scenario or counterfactual, or a file."""
    choices = _choices()
    current = scenario_path.value
    label = next((k for k, v in choices.items() if current and v == current.resolve()), None)
    typed, set_typed = solara.use_state("")
    with solara.Card("Scenario", margin=0, style={"margin-bottom": "12px"}):
        if choices:
            solara.Select(
                "scenario or counterfactual",
                value=label,
                values=list(choices),
                on_value=lambda lb: _load(choices[lb]),
            )
        with solara.Row(gap="8px", style={"align-items": "center"}):
            solara.InputText("or a scenario file", value=typed, on_value=set_typed)
            solara.Button("Load", on_click=lambda: _load(Path(typed)), disabled=not typed)
        if load_error.value:
            solara.Error(load_error.value)
        w = whatif.value
        if w is not None:
            solara.Text(
                f"{w.base.title}. {w.base.steps} steps of {w.base.step_days} day(s) from "
                f"{w.base.start}; {len(w.base.events)} events.",
                style={"font-size": "12px", "color": "#444"},
            )
        with solara.Row(gap="8px"):
            solara.InputInt("replicates", value=replicates, style={"max-width": "110px"})
            solara.InputInt("seed", value=seed, style={"max-width": "140px"})


@solara.component
def Explore() -> None:
    """Explore a scenario live."""
    if whatif.value is None and load_error.value == "":
        first = CONFIG.scenario or next(iter(_choices().values()), None)
        if first is not None:
            _load(first)
    solara.Title("influence-sim: explore a scenario")
    w = whatif.value
    with solara.Columns([4, 8], style={"padding": "0 8px"}):
        with solara.Column():
            ScenarioPicker()
            if w is not None:
                EventPanel(w)
                ParameterPanel(w)
        with solara.Column():
            if w is None:
                solara.Info("Choose a scenario to explore.")
                return
            RunBar(w)
            ResultsArea(w)
            SavePanel(w).key(f"save-{w.base.path}")  # a fresh name for another scenario


def _last_result() -> tuple[engine.Pair, WhatIf] | None:
    return run_ensemble.value if run_ensemble.finished else run_ensemble.latest


@solara.component
def RunBar(w: WhatIf) -> None:
    """The Run button, the progress of a run, and whether the results are stale."""
    result = _last_result()
    with solara.Card(margin=0, style={"margin-bottom": "12px"}):
        with solara.Row(gap="16px", style={"align-items": "center"}):
            solara.Button(
                f"Run {replicates.value} replicates",
                on_click=_start_run,
                color="primary",
                icon_name="mdi-play",
                disabled=run_ensemble.pending,
                classes=["run-button"],
            )
            if run_ensemble.pending:
                with solara.Column(style={"flex-grow": "1"}):
                    solara.ProgressLinear(run_ensemble.progress or True)
                    solara.Text("running the ensemble\u2026")
            elif result is not None and result[1] != w:
                solara.Warning("Edited since the last run: run again to update.")
            elif result is None:
                solara.Text(
                    "Runs the what-if and the unedited scenario with the same seed "
                    "(paired replicate by replicate).",
                    style={"color": "#666"},
                )
        if run_error.value:
            solara.Error(run_error.value)
        if run_ensemble.error:
            solara.Error(f"The run failed: {run_ensemble.exception}")


@solara.component
def ResultsArea(w: WhatIf) -> None:
    """The last run's results, when they are of the scenario explored."""
    result = _last_result()
    if result is not None and result[0].base_name == w.base.name:
        Results(*result)


# ---------------------------------------------------------------------------------------
# step mode: one replicate under Mesa's SolaraViz


class StepModel(InfluenceModel):
    """`InfluenceModel` with keyword arguments that SolaraViz's Reset can pass back.

    SolaraViz re-creates the model from its ``model_params`` and adds Mesa's own ``scenario``
    argument, which this model does not use (it has its own scenario, ``spec``).
    """

    def __init__(
        self, spec: Scenario | None = None, rng: int = 0, replicate: int = 0, scenario: Any = None
    ) -> None:
        assert spec is not None
        super().__init__(spec, rng=rng, replicate=replicate)


def _balance_post(model: StepModel) -> Any:
    def post(ax: Any) -> None:
        ax.axhline(0, color="black", lw=0.6)
        ax.set_ylabel("balance " + " \u2212 ".join(model.world.balance))
        ax.set_title(f"{model.spec.name}: one replicate, {model.date}", fontsize=10)

    return post


@solara.component
def StepMap(model: StepModel) -> None:
    """The map of the current balance of this replicate."""
    from mesa.visualization.utils import update_counter

    update_counter.get()
    ens = model.ensemble
    world = model.world
    from ..core.measures import MEASURES

    values = {s: float(MEASURES["balance"].value(ens, s, None)[0]) for s in world.state_ids}
    fig = Figure(figsize=(5.0, 4.4), layout="constrained")
    plots.choropleth_of(
        world, values, ax=fig.add_subplot(), title=f"balance on {model.date} (one replicate)"
    )
    _figure(fig, [update_counter.value])


@solara.component
def StepEvents(model: StepModel) -> None:
    """The events fired so far, and the factions of the focus state now."""
    from mesa.visualization.utils import update_counter

    update_counter.get()
    fired = model.fired_events()
    _html(
        f"<b>{_e(model.date)}</b> (step {model.ensemble.t} of {model.spec.steps})<br>"
        "<b>Fired so far:</b> " + (_e(", ".join(fired)) if fired else "none yet")
    )


@solara.component
def StepPage() -> None:
    """One replicate stepped with Mesa's SolaraViz play and step controls."""
    w = whatif.value
    if w is None:
        first = CONFIG.scenario or next(iter(_choices().values()), None)
        if first is not None:
            _load(first)
        w = whatif.value
    if w is None:
        solara.Info("Choose a scenario on the explore page first.")
        return
    try:
        scen = w.base if w.empty else w.scenario(CONFIG.save_dir / f"{w.scenario_name}.toml")
    except (InputError, ValueError) as exc:
        solara.Error(f"The edited scenario is not valid: {exc}")
        return
    StepView(scen, edited=not w.empty)


@solara.component
def StepView(scen: Scenario, edited: bool) -> None:
    """SolaraViz over one replicate of ``scen``."""
    from mesa.visualization import SolaraViz, make_plot_component

    model = solara.use_memo(
        lambda: StepModel(spec=scen, rng=seed.value, replicate=0),
        dependencies=[scen.sha256, seed.value],
    )
    states = [f"balance.{s}" for s in scen.world.state_ids] + ["balance.region"]
    SolaraViz(
        model,
        components=[
            make_plot_component(states, post_process=_balance_post(model)),
            StepMap,
            StepEvents,
        ],
        model_params={
            "spec": scen,
            "rng": seed.value,
            "replicate": {
                "type": "SliderInt",
                "value": 0,
                "min": 0,
                "max": max(replicates.value - 1, 0),
                "step": 1,
                "label": "replicate (Reset to apply)",
            },
        },
        name=f"Step one replicate of {scen.name}" + (" (edited)" if edited else ""),
    )


# ---------------------------------------------------------------------------------------
# the results store


_STORES: dict[str, tuple[ResultSet, Comparison]] = {}


def _open_store(path: str) -> tuple[ResultSet, Comparison]:
    """A store and its comparison, read once per store folder."""
    key = str(Path(path).resolve())
    if key not in _STORES:
        rs = load_results(path)
        _STORES[key] = (rs, compare(rs))
    return _STORES[key]


def _attributions(rs: ResultSet) -> dict[str, Path]:
    """Attribution tables saved by ``influence-sim explain`` or ``report``, by label."""
    folder = rs.path / "analysis"
    files = sorted(folder.glob("explain_*.csv")) if folder.is_dir() else []
    return {f.stem.removeprefix("explain_").replace("_", " "): f for f in files}


@solara.component
def EffectsDataTable(eff: pd.DataFrame) -> None:
    """The effects table, sortable by any column (click a header)."""
    cols = ["scenario", "measure", "actor", "power", "date", "mean", "ci_low", "ci_high"]
    cols += ["positive", "effect_size"]
    items = []
    for r in eff[cols].itertuples(index=False):
        d = r._asdict()
        for k in ("mean", "ci_low", "ci_high", "effect_size"):
            d[k] = None if d[k] != d[k] else round(float(d[k]), 4)
        d["positive"] = round(float(d["positive"]), 3)
        items.append(d)
    table: dict[str, Any] = {  # Vuetify's data table: a header click sorts by that column
        "headers": [{"text": c, "value": c} for c in cols],
        "items": items,
        "dense": True,
        "items_per_page": 15,
        "sort_by": ["mean"],
        "sort_desc": [True],
        "class_": "effects-table",
    }
    solara.v.DataTable(**table)


@solara.component
def StoreBrowser() -> None:
    """Browse a results store: figures, effects and attribution, without re-running."""
    solara.Title("influence-sim: browse a results store")
    typed, set_typed = solara.use_state(store_path.value)
    opened = None
    error = ""
    if store_path.value:
        try:
            opened = _open_store(store_path.value)
        except (StoreError, InputError, OSError) as exc:
            error = str(exc)
    with solara.Row(gap="8px", style={"align-items": "center", "padding": "0 8px"}):
        solara.InputText("results store folder", value=typed, on_value=set_typed)
        solara.Button("Open", on_click=lambda: store_path.set(typed), color="primary")
    if error:
        solara.Error(error)
    if opened is None:
        if not error:
            solara.Info("Give the folder of a results store (influence-sim batch --out DIR).")
        return
    StoreView(*opened)


@solara.component
def StoreView(rs: ResultSet, cmp: Comparison) -> None:
    """One store: pick scenario, measure, actor and date."""
    world = rs.world()
    others = [n for n in rs.scenarios if n != rs.baseline]
    scenario, set_scenario = solara.use_state(others[0] if others else rs.baseline)
    measures: list[str] = [m for m in ("balance", "alignment", "corridor") if m in rs.measures]
    measure, set_measure = solara.use_state(measures[0] if measures else rs.measures[0])
    eff = cmp.effects
    eff_m = eff[eff["measure"] == measure] if not eff.empty else eff
    actors: list[str] = (
        list(dict.fromkeys(eff_m["actor"])) if not eff_m.empty else list(world.state_ids)
    )
    actor, set_actor = solara.use_state(rs.focus_states()[0])
    actor = actor if actor in actors else actors[0]
    dates = sorted(set(eff_m["date"].astype(str))) if not eff_m.empty else []
    day, set_day = solara.use_state(dates[-1] if dates else None)
    day = day if day in dates else (dates[-1] if dates else None)

    title = rs.experiment.get("title") or rs.experiment.get("name", "")
    rows = [
        [rec.name + (" (baseline)" if rec.name == rs.baseline else ""), rec.title, len(rec.events)]
        for rec in rs.records()
    ]
    _html(
        f"<h3>{_e(title)}</h3><div>{len(rs.scenarios)} scenarios \u00d7 {rs.n_replicates} "
        f"paired replicates, seed {_e(rs.seed)}; baseline <b>{_e(rs.baseline)}</b>; store "
        f"<code>{_e(rs.path)}</code>. Nothing is re-run here: the figures and tables read "
        "the stored results.</div>"
        + _table(["scenario", "title", "events"], rows, numeric={2}, cls="store-scenarios"),
        style={"padding": "0 8px"},
    )
    with solara.Row(gap="12px", style={"flex-wrap": "wrap", "padding": "0 8px"}):
        solara.Select("scenario", value=scenario, values=rs.scenarios, on_value=set_scenario)
        solara.Select("measure", value=measure, values=measures, on_value=set_measure)
        solara.Select("actor", value=actor, values=actors, on_value=set_actor)
        if dates:
            solara.Select("date", value=day, values=dates, on_value=set_day)
    deps = [id(rs), scenario, measure, actor, day]
    power = world.balance[0] if measure == "alignment" else None
    with solara.Columns([3, 2]):
        with solara.Column():
            fig = Figure(figsize=(7.2, 3.9), layout="constrained")
            plots.fan_chart(
                rs,
                measure,
                actor if actor != "region" or measure != "alignment" else world.state_ids[0],
                power=power,
                scenario=scenario,
                events="changed" if scenario != rs.baseline else True,
                ax=fig.add_subplot(),
                legend=True,
                title=f"{measure} of {actor}: {scenario}"
                + (f" against {rs.baseline} (grey)" if scenario != rs.baseline else ""),
            )
            _figure(fig, deps)
        with solara.Column():
            m = Figure(figsize=(5.0, 4.6), layout="constrained")
            plots.choropleth(rs, scenario=scenario, date=day, ax=m.add_subplot())
            _figure(m, deps)
    if not eff_m.empty and day is not None:
        rows = eff_m[(eff_m["date"] == day) & (eff_m["actor"] == actor)]
        f = Figure(figsize=(7.5, 0.3 * len(rows) + 0.45 * len(others) + 1.4))
        f.set_layout_engine("constrained")
        ax = f.add_subplot()
        plots.effects_forest(
            cmp,
            measure=measure,
            date=day,
            actors=[actor],
            power=power,
            scenarios=rs.scenarios,
            ax=ax,
        )
        ax.set_title(
            f"Paired effect on {measure} of {actor} on {day}: each scenario against "
            f"{rs.baseline} (filled: the 95% interval excludes 0)",
            fontsize=9.5,
            loc="left",
        )
        _figure(f, deps)
    shown = eff_m[eff_m["date"] == day] if day is not None else eff_m
    _html(
        f"<b>Paired effects against the baseline</b>: {_e(measure)} on {_e(day)}, every "
        "scenario and actor (click a column header to sort; positive: share of replicates "
        "with a positive difference)"
    )
    EffectsDataTable(shown)
    atts = _attributions(rs)
    pick, set_pick = solara.use_state(next(iter(atts), ""))
    _html("<b>Attribution</b>: each event's contribution, as saved in the store")
    if not atts:
        solara.Info(
            "No attribution saved in this store: `influence-sim explain DIR` or "
            "`influence-sim report DIR` writes one (it re-runs the scenario without each event)."
        )
        return
    pick = pick if pick in atts else next(iter(atts))
    solara.Select("attribution table", value=pick, values=list(atts), on_value=set_pick)
    table = pd.read_csv(atts[pick], keep_default_na=True)
    a = Figure(figsize=(7.5, 0.3 * len(table) + 2.0), layout="constrained")
    plots.attribution_chart(table, ax=a.add_subplot())
    _figure(a, [pick])


# ---------------------------------------------------------------------------------------
# the app


@solara.component
def Layout(children: list[Any] | None = None) -> None:
    """The app bar with one tab per page, named for people (not by path)."""
    route, all_routes = solara.use_route()
    router = solara.use_router()
    paths = [solara.resolve_path(r, level=0) for r in all_routes]
    index = all_routes.index(route) if route in all_routes else 0
    with solara.AppLayout(title="influence-sim", navigation=True, color="#1F4E79"):
        with (
            solara.AppBar(),
            solara.lab.Tabs(value=index, on_value=lambda i: router.push(paths[i]), align="center"),
        ):
            for r in all_routes:
                solara.lab.Tab(r.label)
        for child in children or []:
            solara.display(child)


routes = [
    solara.Route(path="/", component=Explore, label="Explore a scenario", layout=Layout),
    solara.Route(path="step", component=StepPage, label="Step one replicate"),
    solara.Route(path="store", component=StoreBrowser, label="Browse a results store"),
]
