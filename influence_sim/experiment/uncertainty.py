"""Uncertain inputs, outcomes and conclusions, and their evaluation on the model.

An **uncertainty space** names the inputs a user declares uncertain, each uniform on
``(low, high)``:

- a global parameter by its name (``pull_scale``), by default over its ``params.toml`` range;
- an event field as ``event.<event id>.<field>`` (``event.csto_deploy.size``), by default over
  its distribution's support (uniform, triangular, beta; a normal's mean ± 2 sd);
- a world number by its path (``factions.KZ.tokayev.anchor.RU``, `influence_sim.core.inputs`),
  by default ± 10% if it is sourced and ± 30% if it is an assumption.

Every input varies **along the replicate axis of one ensemble**: a design of n points with k
replicates each runs as one `Runner` of n x k replicates, in which replicate j of every point
draws the same random numbers (common random numbers across the design and across scenarios).

An **outcome** is a measure of one actor (and power) at a date, or its mean over a window, or
the days until it reaches a level; of one scenario, or the paired **effect** of a scenario
against the baseline (scenario minus baseline, replicate by replicate).

A **conclusion** is a statement about outcomes, written as data and parsed (never evaluated as
code)::

    effect(no_csto, balance, KG, 2022-03-05) < 0
    csto_KZ < 0 and csto_KG < 0 or region_mean <= -0.01

Terms are declared outcome names or ``effect(scenario, measure, actor[/power], date)`` /
``value(scenario, measure, actor[/power], date)`` (a window ``2022-01-05..2022-03-05`` gives
the mean over it); comparisons are ``<``, ``<=``, ``>``, ``>=``; ``and`` binds tighter than
``or``. A conclusion holds at a design point when it holds for the replicate means there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from ..core.inputs import WORLD_PATHS, WorldNumber, world_number
from ..core.measures import measure
from ..core.scenario import Scenario
from ..errors import ArgumentError, suggest
from ..params import parameters
from ..seeds import SeedLike, root_seed

__all__ = [
    "EVENT_INPUT",
    "STATISTICS",
    "Conclusion",
    "InputSample",
    "Outcome",
    "Space",
    "check_space",
    "default_bounds",
    "describe_inputs",
    "evaluate",
    "evaluate_outcomes",
    "input_kind",
    "load_input_sample",
    "parse_conclusion",
    "split_inputs",
]

#: The prefix of an event field's input name: ``event.<event id>.<field>``.
EVENT_INPUT = "event."
#: The first part of a world number's path.
WORLD_SECTIONS = ("powers", "states", "factions", "ties", "institutions", "flows")
#: What an outcome takes of its measure: the value at the date, the mean over a window, or
#: the days from the window's start until the measure first reaches ``level``.
STATISTICS = ("value", "mean", "time_to")

_Date = date  # the type, where a field called ``date`` hides it

#: ``fail(message, suggestion)`` builds the error to raise for one input.
Fail = Callable[[str, str | None], Exception]
#: ``fail(message, suggestion, field)`` builds the error to raise for one outcome.
OutcomeFail = Callable[[str, str | None, str | None], Exception]
#: ``fail(message, suggestion)`` builds the error to raise for a conclusion.
ConclusionFail = Callable[..., Exception]


# ---------------------------------------------------------------------------------------
# the space


@dataclass(frozen=True)
class Space:
    """Named uncertain inputs, each uniform on its bounds ``(low, high)``, low < high."""

    names: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if not self.names:
            raise ArgumentError("an uncertainty space needs at least one input", argument="names")
        if len(self.names) != len(self.bounds):
            raise ArgumentError(
                f"{len(self.names)} names but {len(self.bounds)} bounds", argument="bounds"
            )
        if len(set(self.names)) != len(self.names):
            dup = next(n for n in self.names if self.names.count(n) > 1)
            raise ArgumentError(f"input '{dup}' is named twice", argument="names")
        for name, (lo, hi) in zip(self.names, self.bounds, strict=True):
            if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                raise ArgumentError(
                    f"input '{name}' needs finite bounds with low < high, got [{lo}, {hi}]",
                    argument="bounds",
                )

    @classmethod
    def of(cls, inputs: Mapping[str, tuple[float, float]]) -> Space:
        """A space from ``{name: (low, high)}``, in the mapping's order."""
        return cls(tuple(inputs), tuple((float(a), float(b)) for a, b in inputs.values()))

    @property
    def problem(self) -> dict[str, Any]:
        """The space as SALib's ``problem`` dictionary."""
        return {
            "num_vars": len(self.names),
            "names": list(self.names),
            "bounds": [list(b) for b in self.bounds],
        }

    def as_dict(self) -> dict[str, Any]:
        """The space as written to manifests: names, bounds and kinds, in order."""
        return {
            "names": list(self.names),
            "bounds": [list(b) for b in self.bounds],
            "kinds": [input_kind(n) for n in self.names],
        }


def input_kind(name: str) -> str:
    """``"event"``, ``"world"`` or ``"param"``: what an input's name refers to."""
    if name.startswith(EVENT_INPUT):
        return "event"
    if name.split(".", 1)[0] in WORLD_SECTIONS and "." in name:
        return "world"
    return "param"


def _api_fail(name: str) -> Fail:
    def fail(message: str, suggestion: str | None) -> Exception:
        return ArgumentError(f"input '{name}': {message}", argument="space", suggestion=suggestion)

    return fail


def _event_field(name: str, scenarios: Sequence[Scenario], fail: Fail) -> Any:
    """The `Distribution` of the event field ``event.<id>.<field>`` in ``scenarios``.

    Event ids may hold dots, so the field is the part after the last dot, or after the last
    two for a per-power table (``anchor.RU``) when the id is then found.
    """
    events = {e.id: e for sc in scenarios for e in sc.events}
    rest = name[len(EVENT_INPUT) :]
    eid, fld = rest.rsplit(".", 1) if "." in rest else (rest, "")
    event = events.get(eid)
    if event is None and "." in eid:
        head, tail = eid.rsplit(".", 1)
        if head in events:
            event, eid, fld = events[head], head, f"{tail}.{fld}"
    if event is None:
        hint = suggest(eid, events)
        raise fail(
            f"no event '{eid}' in the scenarios", f"{EVENT_INPUT}{hint}.{fld}" if hint else None
        )
    if fld not in event.numbers:
        numeric = list(event.numbers)
        raise fail(
            f"'{fld}' is not a numeric field of {event.kind} event '{eid}' "
            f"(one of {', '.join(numeric) or 'none'})",
            suggest(fld, numeric),
        )
    return event.numbers[fld]


def _world_input(name: str, scenarios: Sequence[Scenario], fail: Fail) -> WorldNumber:
    world = scenarios[0].world
    try:
        return world_number(world, name)
    except ArgumentError as exc:
        raise fail(exc.message.split(": ", 1)[-1], exc.suggestion) from None


def default_bounds(
    name: str,
    scenarios: Sequence[Scenario],
    *,
    sourced_width: float = 0.1,
    assumption_width: float = 0.3,
    fail: Fail | None = None,
) -> tuple[float, float]:
    """An input's default range (see the module docstring)."""
    fail = fail or _api_fail(name)
    kind = input_kind(name)
    if kind == "event":
        d = _event_field(name, scenarios, fail)
        a = d.args
        support = {
            "uniform": lambda: (a[0], a[1]),
            "triangular": lambda: (a[0], a[2]),
            "beta": lambda: (a[2], a[3]),
            "normal": lambda: (max(d.lo, a[0] - 2 * a[1]), min(d.hi, a[0] + 2 * a[1])),
        }
        if d.dist not in support:
            raise fail(
                f"the field is the constant {a[0]:g}: give its range as {{low = .., high = ..}}",
                None,
            )
        lo, hi = support[d.dist]()
        return float(lo), float(hi)
    if kind == "world":
        return _world_input(name, scenarios, fail).default_bounds(sourced_width, assumption_width)
    prm = parameters().get(name)
    if prm is None or not prm.numeric:
        raise fail(*_not_an_input(name))
    assert prm.low is not None and prm.high is not None
    return float(prm.low), float(prm.high)


def describe_inputs(
    space: Space, scenario: Scenario, *, sourced_width: float = 0.1, assumption_width: float = 0.3
) -> Any:
    """Each input's kind, range, the value the scenario gives it and where that comes from.

    Returns a DataFrame indexed by input: ``kind``, ``low``, ``high``, ``value`` (the
    parameter's value in the scenario, the event field's constant or its distribution's mean,
    the world number), ``position`` (of the value in the range, 0-1), ``default_range`` (the
    range the input would get from `default_bounds`; equal to low-high unless the experiment
    gave another) and ``provenance`` (a world number's source or assumption, a parameter's
    reasoning in params.toml, an event's note).
    """
    import pandas as pd

    params = parameters()
    rows = []
    for name, (low, high) in zip(space.names, space.bounds, strict=True):
        kind = input_kind(name)
        fail = _api_fail(name)
        if kind == "param":
            value = float(scenario.params[name])
            provenance = f"params.toml: {params[name].reason}"
        elif kind == "event":
            dist = _event_field(name, [scenario], fail)
            value = float(dist.mean)
            eid = name[len(EVENT_INPUT) :].split(".", 1)[0]
            event = next((e for e in scenario.events if e.id == eid), None)
            note = event.raw.get("note") if event is not None else None
            provenance = f"event: {note}" if note else "event: no note"
        else:
            wn = _world_input(name, [scenario], fail)
            value = wn.value
            provenance = ("source: " if wn.sourced else "assumption: ") + wn.note
        try:
            default = default_bounds(
                name,
                [scenario],
                sourced_width=sourced_width,
                assumption_width=assumption_width,
                fail=fail,
            )
        except ArgumentError:  # a constant event field has no default range
            default = None
        rows.append(
            {
                "input": name,
                "kind": kind,
                "low": low,
                "high": high,
                "value": value,
                "position": (value - low) / (high - low),
                "default_range": default,
                "provenance": provenance,
            }
        )
    return pd.DataFrame(rows).set_index("input")


def _not_an_input(name: str) -> tuple[str, str | None]:
    numeric = [n for n, p in parameters().items() if p.numeric]
    return (
        "neither a numeric global parameter, an event field (event.<event id>.<field>) nor a "
        f"world number ({', '.join(WORLD_PATHS[:2])}, ...)",
        suggest(name, numeric),
    )


def check_space(
    space: Space,
    scenarios: Sequence[Scenario],
    *,
    fail: Callable[[str], Fail] = _api_fail,
) -> None:
    """Check every input of ``space`` against ``scenarios`` (the baseline first).

    A parameter must be numeric and its bounds inside its range; an event field must belong
    to an event of one of the scenarios, within the field's range; a world number must be one
    the kernel holds per replicate, within its valid range. A faction's anchor scores must
    still sum to at most 1 at the top of its range, and a faction whose share varies must
    share its state with others. ``fail(name)`` builds the error for an input.
    """
    params = parameters()
    for name, (lo, hi) in zip(space.names, space.bounds, strict=True):
        f = fail(name)
        kind = input_kind(name)
        if kind == "event":
            dist = _event_field(name, scenarios, f)
            valid = (dist.lo, dist.hi)
        elif kind == "world":
            num = _world_input(name, scenarios, f)
            valid = (num.low, num.high)
            _check_world_bounds(name, hi, scenarios[0], f)
        else:
            prm = params.get(name)
            if prm is None or not prm.numeric:
                raise f(*_not_an_input(name))
            assert prm.low is not None and prm.high is not None
            valid = (prm.low, prm.high)
        if lo < valid[0] or hi > valid[1]:
            raise f(
                f"bounds [{lo:g}, {hi:g}] leave the valid range [{valid[0]:g}, {valid[1]:g}]", None
            )


def _check_world_bounds(name: str, hi: float, scenario: Scenario, fail: Fail) -> None:
    world = scenario.world
    parts = name.split(".")
    if parts[0] != "factions":
        return
    if parts[-2] == "anchor":
        fid = ".".join(parts[1:-2])
        fac = next(f for f in world.factions if f.id == fid)
        others = sum(v for p, v in fac.anchor.items() if p != parts[-1])
        if hi + others > 1.0 + 1e-9:
            raise fail(
                f"at {hi:g} the faction's anchor scores would sum to {hi + others:g}, more than 1 "
                f"(the other powers' anchors sum to {others:g})",
                None,
            )
    elif parts[-1] == "share":
        fid = ".".join(parts[1:-1])
        st = next(f.state for f in world.factions if f.id == fid)
        if sum(f.state == st for f in world.factions) < 2:
            raise fail(f"'{fid}' is the only faction of {st}: its share is 1", None)
        if hi >= 1.0:
            raise fail(
                "a share of 1 leaves the state's other factions nothing; keep it below 1", None
            )


# ---------------------------------------------------------------------------------------
# outcomes


@dataclass(frozen=True)
class Outcome:
    """What a design point is scored on.

    Attributes
    ----------
    measure, actor, power : str
        The series (``power`` for per-power measures such as alignment).
    date : datetime.date
        The date of a ``value``, or the end of the window of ``mean`` and ``time_to``.
    start : datetime.date, optional
        The window's start (``mean``, ``time_to``).
    statistic : {"value", "mean", "time_to", "stance"}
        ``stance`` (used by the stance targets of `influence_sim.analysis.evidence`) reads
        the state ``actor``'s stance in the roll call ``vote`` (``measure = "vote"``, at the
        vote's ``date``) as its code in `STANCES` (0 yes, 1 no, 2 abstain, 3 absent; -1 when
        the roll call was not held in the replicate).
    level : float, optional
        The level of ``time_to``: days from ``start`` until the measure first reaches it
        (censored at the window's length plus one step when it never does).
    scenario : str, optional
        The scenario scored (default: the one evaluated, or the experiment's baseline).
    against : str, optional
        A baseline: the outcome is the paired effect, scenario minus ``against``.
    name : str
        Its label in tables and conclusions.
    """

    measure: str
    actor: str | None
    date: _Date
    power: str | None = None
    start: _Date | None = None
    statistic: str = "value"
    level: float | None = None
    scenario: str | None = None
    against: str | None = None
    name: str = ""
    vote: str | None = None

    @property
    def series(self) -> tuple[Any, ...]:
        """What is read from one scenario's run (everything but the scenarios and the name)."""
        return (
            self.measure,
            self.actor,
            self.power,
            self.start,
            self.date,
            self.statistic,
            self.level if self.statistic != "stance" else self.vote,
        )

    @property
    def text(self) -> str:
        """The outcome in the conclusion syntax, e.g. ``effect(no_csto, balance, KG, ...)``."""
        who = f"{self.actor}/{self.power}" if self.power else str(self.actor)
        when = f"{self.start}..{self.date}" if self.start else str(self.date)
        fn = "effect" if self.against else "value"
        if self.statistic == "stance":
            return f"stance({self.scenario}, {self.vote}, {self.actor})"
        tail = f", level={self.level:g}" if self.statistic == "time_to" else ""
        stat = "" if self.statistic in ("value", "mean") else f"{self.statistic}:"
        return f"{stat}{fn}({self.scenario}, {self.measure}, {who}, {when}{tail})"

    def as_dict(self) -> dict[str, Any]:
        """The outcome as written to manifests."""
        return {
            "name": self.name,
            "text": self.text,
            "measure": self.measure,
            "actor": self.actor,
            "power": self.power,
            "date": str(self.date),
            "start": str(self.start) if self.start else None,
            "statistic": self.statistic,
            "level": self.level,
            "scenario": self.scenario,
            "against": self.against,
            **({"vote": self.vote} if self.vote is not None else {}),
        }


def check_outcome(outcome: Outcome, scenario: Scenario, fail: OutcomeFail) -> None:
    """Check an outcome's measure, actor, power, dates and statistic against a scenario.

    ``fail(message, suggestion, field)`` builds the error; ``field`` is the outcome's field
    at fault (``measure``, ``actor``, ``power``, ``date``, ``window``, ``statistic``,
    ``level``).
    """
    if outcome.statistic == "stance":
        votes = {e.id for e in scenario.events if e.kind == "vote"}
        if outcome.vote not in votes:
            raise fail(
                f"'{scenario.name}' has no roll call '{outcome.vote}' (its vote events: "
                f"{', '.join(sorted(votes)) or 'none'})",
                suggest(str(outcome.vote), sorted(votes)),
                "vote",
            )
        if outcome.actor not in scenario.world.state_ids:
            raise fail(f"a stance is a state's, not '{outcome.actor}'", None, "actor")
        return
    try:
        spec = measure(outcome.measure)
    except ArgumentError as exc:
        raise fail(exc.message, exc.suggestion, "measure") from None
    if not spec.available(scenario.world):
        raise fail(
            f"{outcome.measure} needs a world with [[flows]]; '{scenario.world.name}' has none",
            None,
            "measure",
        )
    try:
        spec.column(scenario.world, outcome.actor, outcome.power)
    except ArgumentError as exc:
        raise fail(exc.message, exc.suggestion, exc.argument) from None
    if outcome.statistic not in STATISTICS:
        raise fail(
            f"unknown statistic '{outcome.statistic}'; one of {', '.join(STATISTICS)}",
            suggest(outcome.statistic, STATISTICS),
            "statistic",
        )
    last = scenario.dates()[-1].astype(date)
    where = "window" if outcome.start is not None else "date"
    for d in (outcome.start, outcome.date):
        if d is None:
            continue
        if not scenario.start <= d <= last:
            raise fail(f"{d} is outside the scenario's run [{scenario.start}, {last}]", None, where)
        if (d - scenario.start).days % scenario.step_days:
            raise fail(
                f"{d} is not a step of the scenario ({scenario.step_days}-day steps)", None, where
            )
    if outcome.statistic != "value" and outcome.start is None:
        raise fail(
            f"statistic '{outcome.statistic}' needs a window = [start, end]", None, "statistic"
        )
    if outcome.start is not None and outcome.start >= outcome.date:
        raise fail(
            f"the window's start {outcome.start} is not before its end {outcome.date}",
            None,
            "window",
        )
    if outcome.statistic == "time_to" and outcome.level is None:
        raise fail("statistic 'time_to' needs a level", None, "level")


# ---------------------------------------------------------------------------------------
# conclusions


@dataclass(frozen=True)
class Clause:
    """``outcome op value``: one comparison of a conclusion."""

    outcome: str  # the name of the outcome it reads
    op: str
    value: float

    def holds(self, y: np.ndarray) -> np.ndarray:
        """Where the comparison holds, for outcome values ``y``."""
        ops = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}
        out: np.ndarray = ops[self.op](y, self.value)
        return out


@dataclass(frozen=True)
class Conclusion:
    """A statement about outcomes: an ``or`` of ``and`` groups of clauses.

    ``outcomes`` are the outcomes its function terms (``effect(...)``, ``value(...)``) stand
    for, named by their text; named terms refer to declared outcomes.
    """

    text: str
    groups: tuple[tuple[Clause, ...], ...]
    outcomes: tuple[Outcome, ...] = ()
    name: str = ""
    description: str = ""

    @property
    def reads(self) -> list[str]:
        """The names of the outcomes it reads, in order of first use."""
        return list(dict.fromkeys(c.outcome for g in self.groups for c in g))

    def holds(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Where the conclusion holds, given each outcome's values (rows,) by name."""
        out = None
        for group in self.groups:
            part = None
            for c in group:
                h = c.holds(np.asarray(values[c.outcome], float))
                part = h if part is None else part & h
            out = part if out is None else out | part
        assert out is not None
        return out

    def as_dict(self) -> dict[str, Any]:
        """The conclusion as written to manifests."""
        return {
            "name": self.name,
            "text": self.text,
            "description": self.description,
            "reads": self.reads,
        }


_TOKEN = re.compile(
    r"\s*(?:(?P<op><=|>=|<|>)|(?P<lp>\()|(?P<rp>\))|(?P<comma>,)|"
    r"(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.-]))|"
    r"(?P<word>[A-Za-z_][\w.:/=+-]*|\d{4}-\d{2}-\d{2}(?:\.\.\d{4}-\d{2}-\d{2})?))"
)


#: What the parser expects, by token kind, in its messages.
_EXPECTED = {
    "word": "an outcome name or effect(...)",
    "op": "a comparison such as '< 0'",
    "lp": "'('",
    "num": "a number",
}
_FUNCTIONS = ("effect", "value")


def _tokens(text: str, fail: ConclusionFail) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            # a call of something other than effect/value: name it, whatever follows
            if len(out) >= 2 and out[-1][0] == "lp" and out[-2][0] == "word":
                fn = out[-2][1].rsplit(":", 1)[-1]
                if fn not in _FUNCTIONS:
                    raise fail(f"unknown function '{fn}'; use effect(...) or value(...)")
            raise fail(f"cannot read {text[pos : pos + 20]!r} (at character {pos + 1})")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _date(text: str, fail: ConclusionFail) -> tuple[date | None, date]:
    try:
        if ".." in text:
            a, b = text.split("..", 1)
            return date.fromisoformat(a), date.fromisoformat(b)
        return None, date.fromisoformat(text)
    except ValueError:
        raise fail(
            f"expected a date YYYY-MM-DD or a window YYYY-MM-DD..YYYY-MM-DD, got {text!r}"
        ) from None


def parse_conclusion(
    text: str,
    *,
    baseline: str,
    outcomes: Sequence[str] = (),
    name: str = "",
    fail: ConclusionFail | None = None,
) -> Conclusion:
    """Parse a conclusion (see the module docstring); never evaluated as code.

    ``outcomes`` are the names of declared outcomes a term may refer to; ``baseline`` is what
    ``effect(...)`` terms are paired against.
    """
    if fail is None:

        def fail(message: str, suggestion: str | None = None) -> Exception:
            return ArgumentError(
                f"conclusion {text!r}: {message}", argument="conclusion", suggestion=suggestion
            )

    if not isinstance(text, str) or not text.strip():
        raise fail("expected a statement such as 'effect(no_csto, balance, KG, 2022-03-05) < 0'")
    toks = _tokens(text, fail)
    pos = 0
    implicit: dict[str, Outcome] = {}

    def take(kind: str | None = None) -> tuple[str, str]:
        nonlocal pos
        what = _EXPECTED.get(kind or "", "more")
        if pos >= len(toks):
            after = f" after {toks[-1][1]!r}" if toks else ""
            raise fail(f"the statement ends too early; expected {what}{after}")
        tok = toks[pos]
        if kind is not None and tok[0] != kind:
            raise fail(f"expected {what} at {tok[1]!r}")
        pos += 1
        return tok

    def term() -> str:
        _, word = take("word")
        if pos < len(toks) and toks[pos][0] == "lp":
            stat, fn = word.split(":", 1) if ":" in word else ("", word)
            if fn not in _FUNCTIONS:
                raise fail(f"unknown function '{fn}'; use effect(...) or value(...)")
            take("lp")
            args: list[str] = []
            while True:
                k, v = take()
                if k not in ("word", "num"):
                    raise fail(f"expected an argument at {v!r}")
                args.append(v)
                k, v = take()
                if k == "rp":
                    break
                if k != "comma":
                    raise fail(f"expected ',' or ')' at {v!r}")
            level = None
            if args and args[-1].startswith("level="):
                level = float(args.pop()[len("level=") :])
            if len(args) != 4:
                raise fail(
                    f"{fn}(...) takes scenario, measure, actor[/power], date (or window); "
                    f"got {len(args)} argument(s)"
                )
            scen, meas, who, when = args
            actor, _, power = who.partition("/")
            start, end = _date(when, fail)
            statistic = stat or ("mean" if start else "value")
            out = Outcome(
                measure=meas,
                actor=actor,
                power=power or None,
                date=end,
                start=start,
                statistic=statistic,
                level=level,
                scenario=scen,
                against=baseline if fn == "effect" else None,
            )
            out = replace(out, name=out.text)
            implicit[out.name] = out
            return out.name
        if word not in outcomes:
            raise fail(
                f"unknown outcome '{word}'"
                + (f"; declared: {', '.join(outcomes)}" if outcomes else "")
                + " (or write effect(scenario, measure, actor, date))",
                suggest(word, outcomes),
            )
        return word

    groups: list[tuple[Clause, ...]] = []
    current: list[Clause] = []
    while True:
        ref = term()
        _, op = take("op")
        k, v = take()
        if k != "num":
            raise fail(f"expected a number after '{op}', got {v!r}")
        current.append(Clause(ref, op, float(v)))
        if pos == len(toks):
            break
        k, v = take("word")
        if v == "or":
            groups.append(tuple(current))
            current = []
        elif v != "and":
            raise fail(f"expected 'and' or 'or', got {v!r}")
    groups.append(tuple(current))
    return Conclusion(text.strip(), tuple(groups), tuple(implicit.values()), name)


# ---------------------------------------------------------------------------------------
# evaluation on the model


def split_inputs(
    columns: Mapping[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-replicate input columns by kind, as `influence_sim.core.runner.Runner` takes them.

    Parameters, event fields (keyed ``<event id>.<field>``) and world numbers.
    """
    params, fields, world = {}, {}, {}
    for name, column in columns.items():
        kind = input_kind(name)
        if kind == "event":
            fields[name[len(EVENT_INPUT) :]] = column
        elif kind == "world":
            world[name] = column
        else:
            params[name] = column
    return params, fields, world


#: Bookkeeping columns an inputs file may carry besides the inputs (``abc_accepted.csv``).
BOOKKEEPING = ("point", "replicate", "distance")


@dataclass(frozen=True)
class InputSample:
    """Input points drawn per replicate: replicate r of every scenario takes row r mod P.

    Read by `load_input_sample` from a CSV with one column per input (``non_implausible.csv``
    of `influence-sim calibrate`). With it an experiment runs its scenarios over the points
    the evidence allows, replicate by replicate, so a counterfactual's paired effect
    integrates over them (the baseline and the counterfactual share each replicate's point).
    """

    names: tuple[str, ...]
    X: np.ndarray
    path: str
    sha256: str

    def columns(self, ids: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
        """Each input's value for replicates ``ids``."""
        rows = self.X[np.asarray(ids, dtype=np.int64) % len(self.X)]
        return {name: rows[:, j].copy() for j, name in enumerate(self.names)}

    def as_dict(self) -> dict[str, Any]:
        """As recorded in a store's manifest and identity."""
        return {
            "path": self.path,
            "sha256": self.sha256,
            "names": list(self.names),
            "points": len(self.X),
        }


def load_input_sample(path: str | Path, scenarios: Sequence[Scenario]) -> InputSample:
    """Read an inputs CSV and check its columns against ``scenarios`` (the baseline first).

    Raises `InputError` naming the file, the column (and row) on bad input.
    """
    import hashlib

    import pandas as pd

    from ..errors import InputError

    file = Path(path)

    def fail(
        message: str, item: str | None = None, fld: str | None = None, sugg: str | None = None
    ) -> InputError:
        return InputError(message, file=file, item=item, field=fld, suggestion=sugg)

    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read the inputs file: {exc.strerror or exc}") from None
    try:
        frame = pd.read_csv(file)
    except (ValueError, pd.errors.ParserError) as exc:
        raise fail(f"not a CSV of input points: {str(exc)[:120]}") from None
    names = [c for c in frame.columns if c not in BOOKKEEPING]
    if not names:
        raise fail("no input columns (one column per input, e.g. non_implausible.csv)")
    if frame.empty:
        raise fail(
            "no points: the file has a header only (did the calibration rule out every "
            "point? read its history_match.json)"
        )
    X = np.empty((len(frame), len(names)))
    for j, name in enumerate(names):
        col = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(col))
        if bad.size:
            raise fail(
                f"not a finite number: {frame[name].iloc[bad[0]]!r}",
                f"row {int(bad[0]) + 2}",
                name,
            )
        X[:, j] = col
    for j, name in enumerate(names):
        lo, hi = float(X[:, j].min()), float(X[:, j].max())
        if hi <= lo:
            hi = float(np.nextafter(lo, np.inf))
        space = Space(names=(name,), bounds=((lo, hi),))

        def column_fail(_name: str, name: str = name) -> Fail:
            def f(message: str, suggestion: str | None) -> Exception:
                return fail(message, "the header", name, suggestion)

            return f

        check_space(space, scenarios, fail=column_fail)
    return InputSample(tuple(names), X, str(file), hashlib.sha256(raw).hexdigest())


def _series(
    scenario: Scenario,
    space: Space,
    X: np.ndarray,
    series: Sequence[tuple],
    k: int,
    root: np.random.SeedSequence,
) -> list[np.ndarray]:
    """Each series' statistic at design rows ``X`` with k replicates each, [(rows, k)]."""
    from ..core.runner import Runner

    n = len(X)
    ids = np.tile(np.arange(k), n)  # the same k replicate streams at every point
    params, fields, world = split_inputs(
        {name: np.repeat(X[:, j], k) for j, name in enumerate(space.names)}
    )
    runner = Runner(scenario, ids, root, params=params, world_inputs=world, fields=fields)
    step_of = scenario.step_of
    plans: list[tuple[Any, ...]] = []
    for meas, actor, power, start, end, stat, level in series:
        if stat == "stance":  # read once the roll call's step has been applied
            col = scenario.world.index[actor]
            at = min(step_of(end) + 1, scenario.steps)
            plans.append((None, col, at + 1, at, stat, level))  # never due: read at the end
            continue
        spec = measure(meas)
        col = spec.column(scenario.world, actor, power)
        first = step_of(start) if start else step_of(end)
        plans.append((spec, col, first, step_of(end), stat, level))
    last = max(p[3] for p in plans)
    acc = [np.zeros(n * k) for _ in plans]
    start_v: list[np.ndarray | None] = [None] * len(plans)
    hit = [np.full(n * k, np.nan) for _ in plans]
    while True:
        t = runner.ens.t
        due = [j for j, p in enumerate(plans) if p[2] <= t <= p[3]]
        if due:
            al = runner.ens.alignment()
            cache: dict[str, np.ndarray] = {}
            for j in due:
                spec, col, first, stop, stat, level = plans[j]
                if spec.name not in cache:
                    cache[spec.name] = spec.compute(runner.ens, al).reshape(n * k, -1)
                v = cache[spec.name][:, col].astype(float)
                if stat == "value":
                    acc[j] = v
                elif stat == "mean":
                    acc[j] = acc[j] + v
                else:  # time_to: first step at or past the level, from either side
                    if start_v[j] is None:
                        start_v[j] = np.sign(v - level)
                    reached = np.isnan(hit[j]) & ((np.sign(v - level) != start_v[j]) | (v == level))
                    hit[j][reached] = (t - first) * scenario.step_days
        if t >= last:
            break
        # on to the next step at which something is read
        ahead = (max(p[2], t + 1) for p in plans if max(p[2], t + 1) <= p[3])
        runner.advance(min(min(ahead, default=last), last) - t)
    out = []
    for j, (_spec, col, first, stop, stat, level) in enumerate(plans):
        if stat == "stance":
            record = runner.ens.votes.get(str(level))
            v = np.full(n * k, -1.0) if record is None else record[:, col].astype(float)
        elif stat == "mean":
            v = acc[j] / (stop - first + 1)
        elif stat == "time_to":
            censored = (stop - first + 1) * scenario.step_days
            v = np.where(np.isnan(hit[j]), censored, hit[j])
        else:
            v = acc[j]
        out.append(v.reshape(n, k))
    return out


def evaluate_outcomes(
    scenarios: Mapping[str, Scenario],
    space: Space,
    X: np.ndarray,
    outcomes: Sequence[Outcome],
    *,
    replicates: int,
    rng: SeedLike = None,
) -> dict[str, np.ndarray]:
    """Every outcome at every design row, {name: (rows, replicates)}.

    Each scenario that an outcome reads runs once over the design (all of its outcomes are
    read in that run); an effect is the difference of two runs, replicate by replicate.
    ``scenarios`` maps names to scenarios; every outcome names its ``scenario``.
    """
    x = np.asarray(X, dtype=float)
    root = root_seed(rng)
    need: dict[str, list[tuple]] = {}
    for o in outcomes:
        for sc in (o.scenario, o.against):
            if sc is not None and o.series not in need.setdefault(sc, []):
                need[sc].append(o.series)
    values: dict[tuple[str, tuple], np.ndarray] = {}
    for sc, series in need.items():
        for s, v in zip(
            series, _series(scenarios[sc], space, x, series, replicates, root), strict=True
        ):
            values[(sc, s)] = v
    out = {}
    for o in outcomes:
        v = values[(str(o.scenario), o.series)]
        out[o.name] = v - values[(o.against, o.series)] if o.against else v
    return out


def evaluate(
    scenario: Scenario,
    space: Space,
    X: np.ndarray,
    outcome: Outcome,
    *,
    replicates: int = 8,
    against: Scenario | None = None,
    rng: SeedLike = None,
    chunk: int | None = None,
) -> np.ndarray:
    """Score every row of a design on the model, (rows, replicates).

    Parameters
    ----------
    scenario : Scenario
    space : Space
        Numeric global parameters, event fields (``event.<event id>.<field>``) and world
        numbers (``factions.KZ.tokayev.anchor.RU``), within their valid ranges. An event
        field's design value replaces the value the event would draw; an input on an event a
        scenario lacks (one a counterfactual removes) does nothing there.
    X : ndarray, shape (rows, inputs)
        The design (`sobol_design`, `morris_design`), kept in its order.
    outcome : Outcome
        The measure, actor, power and date (or window and statistic) scored.
    replicates : int
        Replicates per design point; replicate j uses the same random streams at every point.
    against : Scenario, optional
        A baseline: the result is the paired effect, scenario minus baseline, replicate by
        replicate (common random numbers).
    rng : the root seed of the replicates' streams.
    chunk : int, optional
        Design rows per vectorised ensemble (default: all at once); the result does not
        depend on it.
    """
    check_space(space, [scenario] if against is None else [scenario, against])
    x = np.asarray(X, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(space.names):
        raise ArgumentError(
            f"the design must have one column per input ({len(space.names)}), got {x.shape}",
            argument="X",
        )
    if replicates < 1:
        raise ArgumentError(f"need at least one replicate, got {replicates}", argument="replicates")

    def fail(message: str, suggestion: str | None, _field: str | None) -> Exception:
        return ArgumentError(message, argument="outcome", suggestion=suggestion)

    check_outcome(outcome, scenario, fail)
    names = {"scenario": scenario, "against": against} if against else {"scenario": scenario}
    spec = replace(outcome, scenario="scenario", against="against" if against else None, name="y")
    root = root_seed(rng)
    size = chunk or len(x)
    parts = [
        evaluate_outcomes(names, space, x[a : a + size], [spec], replicates=replicates, rng=root)[
            "y"
        ]
        for a in range(0, len(x), size)
    ]
    out: np.ndarray = np.concatenate(parts, axis=0)
    return out


@dataclass(frozen=True)
class Uncertainty:
    """An experiment's ``[uncertainty]``, ``[[outcomes]]`` and ``[[conclusions]]``."""

    space: Space
    replicates: int
    chunk: int
    outcomes: tuple[Outcome, ...]
    conclusions: tuple[Conclusion, ...] = ()
    widths: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """As written to manifests."""
        return {
            "space": self.space.as_dict(),
            "replicates": self.replicates,
            "chunk": self.chunk,
            "outcomes": [o.as_dict() for o in self.outcomes],
            "conclusions": [c.as_dict() for c in self.conclusions],
            "widths": self.widths,
        }


# ---------------------------------------------------------------------------------------
# the experiment file's sections

#: The experiment-file sections read here.
UNCERTAINTY_SECTIONS = ("uncertainty", "outcomes", "conclusions")
UNCERTAINTY_KEYS = {"replicates", "chunk", "params", "inputs", "sourced_width", "assumption_width"}
OUTCOME_KEYS = {
    "name",
    "measure",
    "actor",
    "power",
    "date",
    "window",
    "statistic",
    "level",
    "scenario",
    "effect",
}
CONCLUSION_KEYS = {"name", "statement", "description"}


def read_uncertainty(
    data: Mapping[str, Any], path: Any, scenarios: Sequence[Scenario]
) -> Uncertainty | None:
    """Read ``[uncertainty]``, ``[[outcomes]]`` and ``[[conclusions]]`` of an experiment file.

    Returns None when the file has none of them. Errors are `ExperimentError` naming the file,
    the item and the field.
    """
    from ..errors import ExperimentError, Where, excerpt

    raw = data.get("uncertainty")
    outs_raw = data.get("outcomes")
    concl_raw = data.get("conclusions")
    if raw is None and outs_raw is None and concl_raw is None:
        return None

    def where(item: str) -> Where:
        return Where(ExperimentError, path, item)

    if raw is None:
        raise where("[uncertainty]").fail(
            "outcomes and conclusions need an [uncertainty] section declaring the inputs"
        )
    if not isinstance(raw, dict):
        raise where("[uncertainty]").fail("expected a table")
    _check_keys(raw, UNCERTAINTY_KEYS, where("[uncertainty]"))

    def whole(key: str, default: int, lo: int, hi: int) -> int:
        v = raw.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise where("[uncertainty]").fail(
                f"expected a whole number in [{lo}, {hi}], got {excerpt(v)}", key
            )
        return v

    def width(key: str, default: float) -> float:
        v = raw.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 10:
            raise where("[uncertainty]").fail(
                f"expected a relative half-width in (0, 10], got {excerpt(v)}", key
            )
        return float(v)

    replicates = whole("replicates", 8, 1, 10_000)
    chunk = whole("chunk", 64, 1, 1_000_000)
    widths = {
        "sourced": width("sourced_width", 0.1),
        "assumption": width("assumption_width", 0.3),
    }
    bounds: dict[str, tuple[float, float]] = {}
    sel = raw.get("params", [])
    registry = parameters()
    numeric = [n for n, p in registry.items() if p.numeric]
    if sel == "all":
        sel = numeric
    if not isinstance(sel, list) or not all(isinstance(n, str) for n in sel):
        raise where("[uncertainty]").fail(
            f'expected "all" or a list of parameter names, got {excerpt(sel)}', "params"
        )
    for name in sel:
        if name in registry and name not in numeric:
            raise where("[uncertainty]").fail(
                f"'{name}' is a choice parameter, not a number; it cannot vary (set it in the "
                "scenarios)",
                "params",
            )
        if name not in numeric:
            raise where("[uncertainty]").fail(
                f"unknown parameter '{name}'; {len(numeric)} numeric parameters can vary "
                "(`influence-sim params` lists them)",
                "params",
                suggest(name, numeric),
            )
        bounds[name] = default_bounds(name, scenarios)
    inputs = raw.get("inputs", {})
    if not isinstance(inputs, dict):
        raise where("[uncertainty.inputs]").fail("expected a table of inputs")

    def fail_for(name: str) -> Fail:
        def fail(message: str, suggestion: str | None) -> Exception:
            return where("[uncertainty.inputs]").fail(message, name, suggestion)

        return fail

    for name, spec in inputs.items():
        f = fail_for(name)
        if not isinstance(spec, dict) or set(spec) - {"low", "high"}:
            raise f(
                "expected {} (the default range) or {low = .., high = ..}, got " + excerpt(spec),
                None,
            )
        lo, hi = (
            (spec.get("low"), spec.get("high"))
            if spec
            else default_bounds(
                name,
                scenarios,
                sourced_width=widths["sourced"],
                assumption_width=widths["assumption"],
                fail=f,
            )
        )
        if spec and set(spec) != {"low", "high"}:
            raise f("give both low and high, or neither (the default range)", None)
        for v in (lo, hi):
            if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
                raise f(f"expected numbers for low and high, got {excerpt(v)}", None)
        lo_f, hi_f = float(lo), float(hi)  # type: ignore[arg-type]
        if not lo_f < hi_f:
            raise f(f"low ({lo}) must be below high ({hi})", None)
        bounds[name] = (lo_f, hi_f)
    if not bounds:
        raise where("[uncertainty]").fail(
            'declares no inputs: list params (or "all") or add [uncertainty.inputs]', "inputs"
        )
    space = Space.of(bounds)
    check_space(space, scenarios, fail=fail_for)

    outcomes = _read_outcomes(outs_raw, where, scenarios)
    conclusions = _read_conclusions(concl_raw, where, scenarios, outcomes)
    return Uncertainty(
        space=space,
        replicates=replicates,
        chunk=chunk,
        outcomes=tuple(outcomes),
        conclusions=tuple(conclusions),
        widths=widths,
    )


def _named_tables(
    raw: Any, section: str, kind: str, keys: set[str], required: tuple[str, ...], where: Any
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Each table of an array ``[[section]]``, with its error builder.

    Every table is checked for unknown keys, its required fields and an id-like ``name``.
    """
    from ..errors import bad_id, excerpt

    if raw is None:
        return
    if not isinstance(raw, list):
        raise where(f"[[{section}]]").fail(f"expected an array of tables [[{section}]]")
    for k, table in enumerate(raw):
        label = table.get("name") if isinstance(table, dict) else None
        w = where(f"{kind} '{label}'" if isinstance(label, str) else f"{kind} #{k + 1}")
        if not isinstance(table, dict):
            raise w.fail(f"expected a table, got {excerpt(table)}")
        _check_keys(table, keys, w)
        for req in required:
            if req not in table:
                raise w.fail("missing required field", req)
        problem = bad_id(table["name"], "a name")
        if problem:
            raise w.fail(problem, "name")
        yield w, table


def _read_outcomes(raw: Any, where: Any, scenarios: Sequence[Scenario]) -> list[Outcome]:
    """``[[outcomes]]``, each checked against the scenario it reads."""
    from ..errors import excerpt

    by_name = {s.name: s for s in scenarios}
    baseline = scenarios[0].name
    outcomes: list[Outcome] = []
    for w, o in _named_tables(raw, "outcomes", "outcome", OUTCOME_KEYS, ("name", "measure"), where):
        if o["name"] in {x.name for x in outcomes}:
            raise w.fail("two outcomes have this name", "name")
        if "effect" in o and "scenario" in o:
            raise w.fail(
                "give 'effect' (that scenario minus the baseline) or 'scenario' (its value), "
                "not both",
                "effect",
            )
        which = "effect" if "effect" in o else "scenario"
        scen = o.get(which, baseline)
        if scen not in by_name:
            raise w.fail(
                f"unknown scenario {excerpt(scen)}; the experiment has {', '.join(by_name)}",
                which,
                suggest(scen, by_name),
            )
        if which == "effect" and scen == baseline:
            raise w.fail("the effect of the baseline against itself is 0", which)
        if ("date" in o) == ("window" in o):
            raise w.fail("give a 'date' or a 'window' = [start, end]", "date")
        start, end = None, o.get("date")
        if "window" in o:
            win = o["window"]
            if not isinstance(win, list) or len(win) != 2:
                raise w.fail(f"expected [start, end], got {excerpt(win)}", "window")
            start, end = win
        for d in (start, end):
            if d is not None and (not isinstance(d, date) or hasattr(d, "hour")):
                raise w.fail(
                    f"expected a TOML date, got {excerpt(d)}", "window" if start else "date"
                )
        statistic = o.get("statistic", "mean" if start else "value")
        level = o.get("level")
        if level is not None and (isinstance(level, bool) or not isinstance(level, int | float)):
            raise w.fail(f"expected a number, got {excerpt(level)}", "level")
        for key in ("actor", "power"):
            if key in o and not isinstance(o[key], str):
                raise w.fail(f"expected an id, got {excerpt(o[key])}", key)
        out = Outcome(
            measure=str(o["measure"]),
            actor=o.get("actor"),
            power=o.get("power"),
            date=end,  # type: ignore[arg-type]  # checked above: a date
            start=start,
            statistic=str(statistic),
            level=None if level is None else float(level),
            scenario=scen,
            against=baseline if which == "effect" else None,
            name=o["name"],
        )

        def fail_o(
            message: str, suggestion: str | None, field_: str | None, w: Any = w
        ) -> Exception:
            return w.fail(message, field_, suggestion)

        check_outcome(out, by_name[scen], fail_o)
        outcomes.append(out)
    return outcomes


def _read_conclusions(
    raw: Any, where: Any, scenarios: Sequence[Scenario], outcomes: list[Outcome]
) -> list[Conclusion]:
    """``[[conclusions]]``; the outcomes their function terms stand for join ``outcomes``."""
    by_name = {s.name: s for s in scenarios}
    conclusions: list[Conclusion] = []
    for w, c in _named_tables(
        raw, "conclusions", "conclusion", CONCLUSION_KEYS, ("name", "statement"), where
    ):

        def fail_c(message: str, suggestion: str | None = None, w: Any = w) -> Exception:
            return w.fail(message, "statement", suggestion)

        if not isinstance(c.get("description", ""), str):
            raise w.fail("expected a string", "description")
        concl = replace(
            parse_conclusion(
                c["statement"],
                baseline=scenarios[0].name,
                outcomes=[o.name for o in outcomes],
                name=c["name"],
                fail=fail_c,
            ),
            description=c.get("description", ""),
        )
        for o in concl.outcomes:
            if o.scenario not in by_name:
                raise fail_c(
                    f"unknown scenario '{o.scenario}'; the experiment has {', '.join(by_name)}",
                    suggest(str(o.scenario), by_name),
                )

            def fail_t(
                message: str, suggestion: str | None, _field: str | None, w: Any = w
            ) -> Exception:
                return w.fail(message, "statement", suggestion)

            check_outcome(o, by_name[str(o.scenario)], fail_t)
            if o.name not in {x.name for x in outcomes}:
                outcomes.append(o)
        conclusions.append(concl)
    return conclusions


def _check_keys(table: Mapping[str, Any], allowed: set[str], w: Any) -> None:
    for key in table:
        if key not in allowed:
            raise w.fail(
                f"unknown field; allowed: {', '.join(sorted(allowed))}", key, suggest(key, allowed)
            )
