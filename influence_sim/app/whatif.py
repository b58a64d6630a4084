"""A what-if: edits of a scenario, and the counterfactual TOML file that reproduces them.

Plain Python (no Solara): the app holds one `WhatIf` per explored scenario and turns it into
a scenario with `WhatIf.scenario`, and into a file with `WhatIf.toml`. The file is an ordinary
counterfactual (docs/scenario-format.md): it ``extends`` the explored scenario, ``remove``s
the events switched off, replaces by id the events moved or rescaled (their full table, with
the new ``date`` and magnitude), and has a ``[params]`` section for the parameters changed.
The app runs exactly the scenario this file describes (`WhatIf.scenario` builds it from the
same document), so ``influence-sim run FILE --seed S --replicates R`` reproduces the app's
numbers replicate for replicate.

An event's *magnitude* is its first required numeric field (``intensity`` of an unrest,
``size`` of an intervention, ``share`` of a purge, ``face`` of a statement, ...; see
`magnitude_field`); rescaling multiplies the constant, or every location parameter of a
distribution, by a factor (`scale_value`), within the field's range (`max_scale`).
Switching off an intervention also switches off the events that name it (its withdrawal):
they cannot exist without it (`WhatIf.forced_off`).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ..core.events import Event, Number, Ref
from ..core.scenario import Scenario, scenario_from_dict
from ..errors import bad_id
from ..params import parameters

__all__ = [
    "MAX_SCALE",
    "EventEdit",
    "WhatIf",
    "magnitude_field",
    "max_scale",
    "scale_value",
    "to_toml",
]

#: The largest magnitude factor offered (an event at most doubled).
MAX_SCALE = 2.0
#: Factors move in steps of this size (and `max_scale` rounds down to it).
SCALE_STEP = 0.05


# ---------------------------------------------------------------------------------------
# magnitudes


def magnitude_field(event: Event) -> str | None:
    """The field that measures an event's size: its first required number, else first number.

    None for kinds without a numeric field (a withdrawal).
    """
    specs = {k: s for k, s in type(event).fields.items() if isinstance(s, Number)}
    required = [k for k, s in specs.items() if s.required]
    first = required or list(specs)
    return first[0] if first else None


def _support(event: Event, fld: str) -> tuple[float, float]:
    """The smallest and largest value the field's constant or distribution can take."""
    d = event.numbers[fld]
    a = d.args
    match d.dist:
        case "uniform":
            return a[0], a[1]
        case "triangular":
            return a[0], a[2]
        case "beta":
            return a[2], a[3]
        case _:  # a constant; a normal is clipped to the range, its mean must lie inside
            return a[0], a[0]


def max_scale(event: Event) -> float:
    """The largest factor (at most `MAX_SCALE`, a multiple of `SCALE_STEP`) the field allows.

    0 for an event without a magnitude.
    """
    fld = magnitude_field(event)
    if fld is None:
        return 0.0
    lo, hi = event.numbers[fld].lo, event.numbers[fld].hi
    k = MAX_SCALE
    for s in _support(event, fld):
        if s > 0:
            k = min(k, hi / s)
        elif s < 0:
            k = min(k, lo / s)
    return math.floor(k / SCALE_STEP + 1e-9) * SCALE_STEP


def _times(v: Any, k: float) -> float:
    """``v * k`` without float noise in the written file (12 significant digits)."""
    return float(f"{float(v) * k:.12g}")


def scale_value(raw: Any, k: float) -> Any:
    """A field's value (a number or a distribution table) with its magnitude times ``k``.

    Constants are multiplied; distributions have their location parameters multiplied
    (``normal``: mean and sd; ``uniform``: low and high; ``triangular``: low, mode and high;
    ``beta``: low and high, its shape a and b unchanged). ``k`` must be >= 0.
    """
    if k < 0:
        raise ValueError(f"a magnitude factor must be >= 0, got {k}")
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return _times(raw, k)
    if isinstance(raw, Mapping):
        keep = {"dist", "a", "b"}
        return {key: v if key in keep else _times(v, k) for key, v in raw.items()}
    raise TypeError(f"not a number or a distribution table: {raw!r}")


def _beta_bounds(event: Event, fld: str, raw: Any) -> Any:
    """A beta table with its (possibly implicit) low and high written out, before scaling."""
    if isinstance(raw, Mapping) and raw.get("dist") == "beta":
        a = event.numbers[fld].args
        return {**raw, "low": a[2], "high": a[3]}
    return raw


# ---------------------------------------------------------------------------------------
# the edit


@dataclass(frozen=True)
class EventEdit:
    """What is changed about one event: switched off, moved to a date, magnitude times scale."""

    off: bool = False
    date: date | None = None
    scale: float = 1.0

    def changes(self, event: Event) -> bool:
        """Whether this edit changes the event at all."""
        return (
            self.off
            or (self.date is not None and self.date != event.date)
            or (magnitude_field(event) is not None and not math.isclose(self.scale, 1.0))
        )


@dataclass
class WhatIf:
    """Edits of a scenario: parameter values and event edits, by event id.

    Parameters
    ----------
    base : Scenario
        The scenario explored (a loaded file: ``base.path`` is what the what-if extends).
    params : dict
        Parameter values; only those that differ from the base's are written.
    events : dict of str to EventEdit
        Edits by event id (ids not in the base are refused by `check`).
    name, title : str, optional
        Of the counterfactual (default ``<base>_whatif`` and a title naming the base).
    """

    base: Scenario
    params: dict[str, float | str] = field(default_factory=dict)
    events: dict[str, EventEdit] = field(default_factory=dict)
    name: str | None = None
    title: str | None = None

    # ---- what changes -------------------------------------------------------------------
    @property
    def scenario_name(self) -> str:
        """The counterfactual's name (never the base's own)."""
        name = self.name or f"{self.base.name}_whatif"
        return name if name != self.base.name else f"{name}_whatif"

    @property
    def scenario_title(self) -> str:
        """The counterfactual's title."""
        return self.title or f"What-if of {self.base.title}"

    def changed_params(self) -> dict[str, float | str]:
        """The parameters whose value differs from the base's, in registry order."""
        out: dict[str, float | str] = {}
        for k in parameters():
            if k in self.params and self.params[k] != self.base.params[k]:
                v = self.params[k]
                out[k] = v if isinstance(v, str) else float(v)
        return out

    def edit(self, event_id: str) -> EventEdit:
        """The edit of an event (an empty edit when it is not edited)."""
        return self.events.get(event_id, EventEdit())

    def forced_off(self) -> dict[str, str]:
        """Events switched off because an event they name is off: id -> the id it names.

        An event names another through a field that refers to an intervention event (a
        withdrawal's ``intervention``); it cannot stay without it.
        """
        off = {eid for eid, e in self.events.items() if e.off}
        out: dict[str, str] = {}
        grew = True
        while grew:
            grew = False
            for ev in self.base.events:
                if ev.id in off or ev.id in out:
                    continue
                for fld, spec in type(ev).fields.items():
                    target = ev.raw.get(fld)
                    names = isinstance(spec, Ref) and spec.kind == "intervention"
                    if names and (target in off or target in out):
                        out[ev.id] = str(target)
                        grew = True
                        break
        return out

    def removed(self) -> list[str]:
        """Ids of the events removed (switched off, or forced off), in file order."""
        off = {eid for eid, e in self.events.items() if e.off} | set(self.forced_off())
        return [e.id for e in self.base.events if e.id in off]

    def replaced(self) -> list[dict[str, Any]]:
        """The tables of the events moved or rescaled (and not removed), in file order."""
        gone = set(self.removed())
        out = []
        for ev in self.base.events:
            e = self.edit(ev.id)
            if ev.id in gone or not e.changes(ev):
                continue
            raw = dict(ev.raw)
            notes = []
            if e.date is not None and e.date != ev.date:
                raw["date"] = e.date
                notes.append(f"moved from {ev.date.isoformat()} to {e.date.isoformat()}")
            fld = magnitude_field(ev)
            if fld is not None and not math.isclose(e.scale, 1.0) and fld in raw:
                raw[fld] = scale_value(_beta_bounds(ev, fld, raw[fld]), e.scale)
                notes.append(f"{fld} x {e.scale:g}")
            elif fld is not None and not math.isclose(e.scale, 1.0):
                # the field took its default: write the default, scaled
                raw[fld] = scale_value(ev.numbers[fld].args[0], e.scale)
                notes.append(f"{fld} x {e.scale:g} (of its default)")
            was = f" (was: {ev.raw['note']})" if isinstance(ev.raw.get("note"), str) else ""
            raw["note"] = "what-if edit: " + "; ".join(notes) + was
            out.append(raw)
        return out

    @property
    def empty(self) -> bool:
        """Whether nothing is changed."""
        return not (self.changed_params() or self.removed() or self.replaced())

    def describe(self) -> list[str]:
        """One line per change, for people."""
        lines = [
            f"parameter {k} = {v} (was {self.base.params[k]})"
            for k, v in self.changed_params().items()
        ]
        forced = self.forced_off()
        for eid in self.removed():
            why = f" (it names {forced[eid]}, which is off)" if eid in forced else ""
            lines.append(f"event {eid} removed{why}")
        for raw in self.replaced():
            lines.append(f"event {raw['id']}: {raw['note'].split(': ', 1)[1].split(' (was')[0]}")
        return lines

    # ---- the file -----------------------------------------------------------------------
    def document(self, path: str | Path | None = None) -> dict[str, Any]:
        """The counterfactual as a TOML document (a dict as `tomllib` would read it).

        ``extends`` is the base's file relative to ``path``'s folder (the file to be written),
        or its absolute path when no ``path`` is given.
        """
        base_file = Path(self.base.path).resolve()
        if path is None:
            extends = base_file.as_posix()
        else:
            extends = Path(os.path.relpath(base_file, Path(path).resolve().parent)).as_posix()
        head: dict[str, Any] = {
            "extends": extends,
            "name": self.scenario_name,
            "title": self.scenario_title,
        }
        removed = self.removed()
        if removed:
            head["remove"] = removed
        doc: dict[str, Any] = {"scenario": head}
        params = self.changed_params()
        if params:
            doc["params"] = params
        events = self.replaced()
        if events:
            doc["events"] = events
        return doc

    def toml(self, path: str | Path | None = None, *, header: str = "") -> str:
        """The counterfactual file's text (see `document`); ``header`` becomes comments."""
        return to_toml(self.document(path), header=header or self.header())

    def header(self) -> str:
        """The file's opening comment: what it is and what it changes."""
        lines = [
            f"What-if of '{self.base.name}' ({self.base.title}), saved by influence-sim app.",
            *(f"  - {line}" for line in self.describe() or ["(no changes)"]),
        ]
        return "\n".join(lines)

    def scenario(self, path: str | Path | None = None) -> Scenario:
        """The edited scenario, built from exactly the document `toml` writes.

        Raises
        ------
        ScenarioError
            When the edits make an invalid scenario (an event moved outside the horizon, a
            withdrawal before its intervention, ...), naming the event and the field.
        """
        where = path if path is not None else Path(self.base.path).resolve().parent / "whatif.toml"
        return scenario_from_dict(self.document(where), path=where)

    def check(self) -> None:
        """Refuse edits of unknown events or parameters and bad names (ValueError)."""
        ids = {e.id for e in self.base.events}
        for eid in self.events:
            if eid not in ids:
                raise ValueError(f"no event '{eid}' in scenario '{self.base.name}'")
        for k in self.params:
            if k not in parameters():
                raise ValueError(f"no parameter '{k}'")
        problem = bad_id(self.scenario_name, "a name")
        if problem:
            raise ValueError(problem)

    def with_event(self, event_id: str, **changes: Any) -> WhatIf:
        """A copy with one event's edit changed (``off``, ``date`` or ``scale``)."""
        events = {**self.events, event_id: replace(self.edit(event_id), **changes)}
        return replace(self, events=events)

    def with_param(self, name: str, value: float | str) -> WhatIf:
        """A copy with one parameter set."""
        return replace(self, params={**self.params, name: value})


def horizon(scenario: Scenario) -> tuple[date, date]:
    """The first and last dates an event of the scenario may have."""
    return scenario.start, scenario.end - timedelta(days=1)


# ---------------------------------------------------------------------------------------
# writing TOML (the standard library reads it, but does not write it)

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(k: str) -> str:
    return k if _BARE_KEY.fullmatch(k) else _string(k)


def _string(s: str) -> str:
    # JSON escapes are TOML basic-string escapes; DEL must be escaped in TOML as well
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"TOML files here hold finite numbers only, got {v}")
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v).__name__} to TOML: {v!r}")


def to_toml(doc: Mapping[str, Any], *, header: str = "") -> str:
    """Write a scenario document: ``[scenario]``, ``[params]`` and ``[[events]]`` tables.

    Top-level values that are tables become ``[section]``s, lists of tables become
    ``[[section]]``s, and everything inside them is written inline. ``tomllib.loads`` of
    the result gives ``doc`` back.
    """
    out = [f"# {line}".rstrip() for line in header.splitlines()]
    for name, section in doc.items():
        items = section if isinstance(section, list) else [section]
        for table in items:
            if out:
                out.append("")
            out.append(f"[[{_key(name)}]]" if isinstance(section, list) else f"[{_key(name)}]")
            out += [f"{_key(k)} = {_value(v)}" for k, v in table.items()]
    return "\n".join(out) + "\n"
