"""Scenario files (TOML): a world, a calendar, parameter overrides and events.

A counterfactual ``extends`` another scenario, ``remove``s events by id, replaces an event by
giving one with the same id, adds new ones and overrides parameters. Everything is validated
here, at the boundary; errors name the file, the item (``[scenario]``, ``[params]`` or an event
id) and the field, with a suggestion for near-miss names.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from .._io import check_values, path_exists, read_toml
from ..errors import (
    Fail,
    InputError,
    ScenarioError,
    Where,
    WorldError,
    bad_id,
    excerpt,
    one_of,
    suggest,
)
from ..params import parameters
from .events import (
    COMMON_FIELDS,
    EVENT_KINDS,
    Condition,
    Distribution,
    Event,
    Number,
    Ref,
    RefList,
    Scores,
    Text,
    parse_number,
)
from .world import World, load_world, resolve_world_path

__all__ = ["STEPS", "Scenario", "load_scenario", "scenario_from_dict"]

#: Admissible step lengths and their size in days.
STEPS = {"1d": 1, "1w": 7}
SCENARIO_KEYS = {
    "name",
    "title",
    "description",
    "world",
    "start",
    "step",
    "steps",
    "extends",
    "remove",
}


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A validated scenario, with its inheritance resolved.

    Attributes
    ----------
    name, title, description : str
        Identification; ``name`` labels results.
    path : str
        The file it was loaded from.
    world : World
        The validated world.
    start : datetime.date
        Date of step 0 (the pre-event steady state).
    step_days : int
        Days per step (1 or 7).
    steps : int
        Horizon in steps; the run records steps 0..steps.
    params : Mapping[str, float | str]
        Every global parameter, resolved (defaults overridden by ``[params]``).
    events : tuple[Event, ...]
        The events, in file order (inherited first).
    chain : tuple[str, ...]
        The files of the ``extends`` chain, this one first.
    sha256 : str
        Hash of the resolved scenario (parameters, events, world file).
    """

    name: str
    title: str
    description: str
    path: str
    world: World
    start: date
    step_days: int
    steps: int
    params: Mapping[str, float | str]
    events: tuple[Event, ...]
    chain: tuple[str, ...]
    sha256: str = field(repr=False)

    @property
    def end(self) -> date:
        """First date after the horizon."""
        return self.start + timedelta(days=self.step_days * self.steps)

    def dates(self) -> np.ndarray:
        """Dates of steps 0..steps as ``datetime64[D]``."""
        return np.datetime64(self.start, "D") + np.arange(self.steps + 1) * self.step_days

    def step_of(self, when: date) -> int:
        """Index k of the transition k -> k+1 during which an event dated ``when`` applies."""
        return (when - self.start).days // self.step_days

    def provenance(self) -> dict[str, Any]:
        """What identifies this scenario in a manifest: files, hashes and resolved content."""
        return {
            "name": self.name,
            "title": self.title,
            "path": self.path,
            "sha256": self.sha256,
            "chain": list(self.chain),
            "world": self.world.name,
            "world_path": self.world.path,
            "world_sha256": self.world.sha256,
            "resolved": self.resolved(),
        }

    def resolved(self) -> dict[str, Any]:
        """A JSON-able description of the resolved scenario (for manifests and hashing)."""
        return {
            "name": self.name,
            "title": self.title,
            "world": self.world.name,
            "world_sha256": self.world.sha256,
            "start": self.start.isoformat(),
            "step_days": self.step_days,
            "steps": self.steps,
            "params": dict(self.params),
            "events": [_event_json(e) for e in self.events],
        }


def _event_json(e: Event) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in e.raw.items()}


def load_scenario(path: str | Path) -> Scenario:
    """Load, resolve and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        A scenario TOML file. ``extends`` and ``world`` paths inside it are relative to it.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        On any bad input, with the file, the item and the field named.
    """
    merged = _resolve(Path(path), ())
    return _build(merged)


def scenario_from_dict(data: Mapping[str, Any], *, path: str | Path = "<memory>") -> Scenario:
    """Build a scenario from a dict shaped like a scenario file (as `tomllib` would give).

    Parameters
    ----------
    data : Mapping
        ``{"scenario": {...}, "params": {...}, "events": [{...}, ...]}``; dates as
        `datetime.date`.
    path : str or Path
        Name used in error messages; relative ``world`` and ``extends`` paths are resolved
        against its folder.

    Raises
    ------
    ScenarioError
        On any bad input, including the values every input file is checked for
        (`influence_sim._io.check_values`: nesting, dates, non-finite numbers, control
        characters).
    """
    check_values(data, path, ScenarioError)
    return _build(_merge(dict(data), Path(path), ()))


def _resolve(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    """Read a file and merge it over its ``extends`` parent (recursively)."""
    real = path.resolve()
    if real in seen:
        cycle = " -> ".join(str(p) for p in (*seen, real))
        raise ScenarioError(
            f"extends cycle: {cycle}", file=path, item="[scenario]", field="extends"
        )
    return _merge(read_toml(path, ScenarioError), path, (*seen, real))


def _merge(data: dict[str, Any], path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    """Validate one file's sections and merge them over its ``extends`` parent."""
    for key in data:
        if key not in ("scenario", "params", "events"):
            raise ScenarioError(
                "unknown section; a scenario has [scenario], [params] and [[events]]",
                file=path,
                item=f"[{key}]",
                suggestion=suggest(key, ["scenario", "params", "events"]),
            )
    head = data.get("scenario")
    if not isinstance(head, dict):
        raise ScenarioError("missing [scenario] section", file=path, item="[scenario]")
    for key in head:
        if key not in SCENARIO_KEYS:
            raise ScenarioError(
                f"unknown field; allowed: {', '.join(sorted(SCENARIO_KEYS))}",
                file=path,
                item="[scenario]",
                field=key,
                suggestion=suggest(key, SCENARIO_KEYS),
            )
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise ScenarioError("[params] must be a table", file=path, item="[params]")
    events = data.get("events", [])
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise ScenarioError(
            "events must be written as [[events]] tables", file=path, item="[[events]]"
        )
    own: list[tuple[dict[str, Any], Path]] = []
    ids: set[str] = set()
    for k, ev in enumerate(events):
        eid = ev.get("id")
        if not isinstance(eid, str) or not eid.strip():
            raise ScenarioError(
                f"event without a string 'id' (got {excerpt(eid)})",
                file=path,
                item=f"event #{k + 1}",
                field="id",
            )
        problem = bad_id(eid, "an event id")
        if problem:
            raise ScenarioError(problem, file=path, item=f"event #{k + 1}", field="id")
        if eid in ids:
            raise ScenarioError(
                "duplicate event id in this file", file=path, item=f"event '{eid}'", field="id"
            )
        ids.add(eid)
        own.append((ev, path))

    parent_ref = head.get("extends")
    if parent_ref is None:
        if "remove" in head:
            raise ScenarioError(
                "'remove' needs 'extends'", file=path, item="[scenario]", field="remove"
            )
        return {
            "head": dict(head),
            "head_files": dict.fromkeys(head, path),
            "params": params,
            "params_file": dict.fromkeys(params, path),
            "events": own,
            "chain": [str(path)],
            "file": path,
        }
    if not isinstance(parent_ref, str):
        raise ScenarioError(
            f"expected a path string, got {excerpt(parent_ref)}",
            file=path,
            item="[scenario]",
            field="extends",
        )
    parent_path = (
        (path.parent / parent_ref) if not Path(parent_ref).is_absolute() else Path(parent_ref)
    )
    if not path_exists(parent_path):
        folder = parent_path.parent
        near = sorted(q.name for q in folder.glob("*.toml")) if os.path.isdir(folder) else []
        raise ScenarioError(
            f"extended file not found: {parent_path}",
            file=path,
            item="[scenario]",
            field="extends",
            suggestion=suggest(parent_path.name, near),
        )
    base = _resolve(parent_path, seen)
    # merge [scenario]: the child's fields win (world paths stay relative to their own file)
    merged_head = {k: v for k, v in base["head"].items() if k not in ("extends", "remove")}
    head_files = dict(base["head_files"])
    for k, v in head.items():
        merged_head[k] = v
        head_files[k] = path
    merged_params = {**base["params"], **params}
    params_file = {**base["params_file"], **dict.fromkeys(params, path)}
    inherited = list(base["events"])
    removes = head.get("remove", [])
    if not isinstance(removes, list) or not all(isinstance(r, str) for r in removes):
        raise ScenarioError(
            f"expected a list of event ids, got {excerpt(removes)}",
            file=path,
            item="[scenario]",
            field="remove",
        )
    known = [e["id"] for e, _ in inherited]
    for rid in removes:
        if rid not in known:
            raise ScenarioError(
                f"cannot remove unknown event {excerpt(rid)}",
                file=path,
                item="[scenario]",
                field="remove",
                suggestion=suggest(rid, known),
            )
        if rid in ids:
            raise ScenarioError(
                f"event {excerpt(rid)} is both removed and redefined",
                file=path,
                item="[scenario]",
                field="remove",
            )
    inherited = [(e, f) for e, f in inherited if e["id"] not in removes]
    replaced = {e["id"]: (e, f) for e, f in own}
    merged_events = [replaced.pop(e["id"], (e, f)) for e, f in inherited]
    merged_events += [ef for ef in own if ef[0]["id"] in replaced]
    return {
        "head": merged_head,
        "head_files": head_files,
        "params": merged_params,
        "params_file": params_file,
        "events": merged_events,
        "chain": [str(path), *base["chain"]],
        "file": path,
    }


def _build(m: dict[str, Any]) -> Scenario:
    head, files = m["head"], m["head_files"]
    path: Path = m["file"]

    def fail(msg: str, fld: str, suggestion: str | None = None) -> InputError:
        # a [scenario] field may come from a file it extends: name that file
        return Where(ScenarioError, files.get(fld, path), "[scenario]").fail(msg, fld, suggestion)

    for req in ("name", "world", "start", "step", "steps"):
        if req not in head:
            raise fail("missing required field", req)
    name = head["name"]
    problem = bad_id(name, "a name")
    if problem:
        raise fail(problem, "name")
    start = head["start"]
    if not isinstance(start, date) or hasattr(start, "hour"):
        raise fail(
            f"expected a TOML date like 2022-01-01 (no quotes), got {excerpt(start)}", "start"
        )
    step = head["step"]
    if not isinstance(step, str) or step not in STEPS:
        raise fail(
            f"expected one of {', '.join(map(repr, STEPS))}, got {excerpt(step)}",
            "step",
            suggest(str(step), STEPS),
        )
    steps = head["steps"]
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 100_000:
        raise fail(
            f"expected a whole number of steps in [1, 100000], got {excerpt(steps)}", "steps"
        )
    world_ref = head["world"]
    if not isinstance(world_ref, str):
        raise fail(f"expected a world name or path, got {excerpt(world_ref)}", "world")
    try:
        world_path = resolve_world_path(world_ref, relative_to=Path(files["world"]).parent)
        if not path_exists(world_path):
            raise ScenarioError(
                f"world file not found: {world_path}",
                file=files["world"],
                item="[scenario]",
                field="world",
            )
        world = load_world(world_path)
    except WorldError as exc:
        if exc.file is None:  # an unknown shipped name: point at the scenario field
            raise ScenarioError(
                exc.message,
                file=files["world"],
                item="[scenario]",
                field="world",
                suggestion=exc.suggestion,
            ) from None
        raise

    params = _params(m["params"], m["params_file"])
    scen_head = {"start": start, "step_days": STEPS[step], "steps": steps}
    events: list[Event] = []
    by_id: dict[str, Event] = {}
    for raw, efile in m["events"]:
        ev = _event(raw, efile, world, scen_head)
        events.append(ev)
        by_id[ev.id] = ev
    for ev in events:
        efail = Where(ScenarioError, ev.file, f"event '{ev.id}'").fail

        for fld, spec in type(ev).fields.items():
            if isinstance(spec, Ref) and spec.kind == "intervention" and fld in ev.raw:
                target = ev.raw[fld]
                if not isinstance(by_id.get(target), EVENT_KINDS["intervention"]):
                    ivs = [e.id for e in events if e.kind == "intervention"]
                    raise efail(
                        f"no intervention event with id {excerpt(target)}",
                        fld,
                        suggest(target, ivs),
                    )
                if by_id[target].date > ev.date:
                    raise efail(f"dated before the intervention '{target}' it ends", "date")
        ev.check(world, by_id, efail)
    for key in ("title", "description"):
        if key in head and not isinstance(head[key], str):
            raise fail(f"expected a string, got {excerpt(head[key])}", key)
    resolved_params = {k: params[k] for k in parameters()}
    scen = Scenario(
        name=name,
        title=head.get("title", name),
        description=head.get("description", ""),
        path=str(path),
        world=world,
        start=start,
        step_days=STEPS[step],
        steps=steps,
        params=resolved_params,
        events=tuple(events),
        chain=tuple(m["chain"]),
        sha256="",
    )
    digest = hashlib.sha256(
        json.dumps(scen.resolved(), sort_keys=True, default=str).encode()
    ).hexdigest()
    return Scenario(**{**scen.__dict__, "sha256": digest})


def _params(over: Mapping[str, Any], files: Mapping[str, Path]) -> dict[str, float | str]:
    registry = parameters()
    out: dict[str, float | str] = {k: p.default for k, p in registry.items()}
    for k, v in over.items():
        if k not in registry:
            raise ScenarioError(
                f"unknown parameter; {one_of(registry)}",
                file=files[k],
                item="[params]",
                field=k,
                suggestion=suggest(k, registry),
            )
        problem = registry[k].check(v)
        if problem:
            raise ScenarioError(problem, file=files[k], item="[params]", field=k)
        out[k] = v if isinstance(v, str) else float(v)
    return out


def _event(raw: dict[str, Any], file: Path, world: World, head: dict[str, Any]) -> Event:
    eid = raw["id"]

    fail = Where(ScenarioError, file, f"event '{eid}'").fail

    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in EVENT_KINDS:
        raise fail(
            f"unknown kind {excerpt(kind)}; known: {', '.join(EVENT_KINDS)}"
            if kind is not None
            else f"missing required field; known kinds: {', '.join(EVENT_KINDS)}",
            "kind",
            suggest(kind, EVENT_KINDS),
        )
    cls = EVENT_KINDS[kind]
    allowed = COMMON_FIELDS | set(cls.fields)
    for key in raw:
        if key not in allowed:
            raise fail(
                f"unknown field for {'an' if kind[0] in 'aeiou' else 'a'} {kind} event; "
                f"allowed: {', '.join(sorted(allowed))}",
                key,
                suggest(key, allowed),
            )
    when_date = raw.get("date")
    if when_date is None:
        raise fail("missing required field", "date")
    if not isinstance(when_date, date) or hasattr(when_date, "hour"):
        raise fail(
            f"expected a TOML date like 2022-01-05 (no quotes), got {excerpt(when_date)}", "date"
        )
    start, end = head["start"], head["start"] + timedelta(days=head["step_days"] * head["steps"])
    if not start <= when_date < end:
        raise fail(f"date {when_date} is outside the scenario's horizon [{start}, {end})", "date")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise fail("every event needs a 'source' (a citation, or 'assumption: why')", "source")
    if "note" in raw and not isinstance(raw["note"], str):
        raise fail(f"expected a string, got {excerpt(raw['note'])}", "note")
    prob = raw.get("probability", 1.0)
    if isinstance(prob, bool) or not isinstance(prob, int | float) or not 0 <= prob <= 1:
        raise fail(f"expected a probability in [0, 1], got {excerpt(prob)}", "probability")
    jitter = raw.get("jitter", 0)
    if isinstance(jitter, bool) or not isinstance(jitter, int) or not 0 <= jitter <= 365:
        raise fail(f"expected a whole number of days in [0, 365], got {excerpt(jitter)}", "jitter")
    when = None
    if "when" in raw:
        when = Condition.parse(raw["when"], world, lambda msg: fail(msg, "when"))

    refs: dict[str, Any] = {}
    numbers: dict[str, Distribution] = {}
    for fld, spec in cls.fields.items():
        present = fld in raw
        val = raw.get(fld)
        if isinstance(spec, Number):
            if not present and spec.required:
                raise fail("missing required field", fld)
            numbers[fld] = parse_number(
                val if present else spec.default, spec, lambda msg, f=fld: fail(msg, f)
            )
        elif isinstance(spec, Ref):
            if not present:
                if spec.required:
                    raise fail("missing required field", fld)
                continue
            refs[fld] = _ref(val, spec.kind, world, lambda msg, s=None, f=fld: fail(msg, f, s))
        elif isinstance(spec, RefList):
            val = [] if val is None else val
            if not isinstance(val, list):
                raise fail(f"expected a list of {spec.kind} ids, got {excerpt(val)}", fld)
            refs[fld] = [
                _ref(v, spec.kind, world, lambda msg, s=None, f=fld: fail(msg, f, s)) for v in val
            ]
            if len(set(refs[fld])) != len(refs[fld]):
                dup = next(v for v in val if val.count(v) > 1)
                raise fail(f"'{dup}' is listed twice", fld)
        elif isinstance(spec, Scores):
            if not present:
                continue
            if not isinstance(val, dict) or not val:
                example = ", ".join(f"{p} = 0.5" for p in world.power_ids[:2])
                raise fail(f"expected a table of numbers per power, e.g. {{{example}}}", fld)
            for p, pv in val.items():
                if p not in world.power_ids:
                    raise fail(
                        f"unknown power {excerpt(p)}; {one_of(world.power_ids)}",
                        f"{fld}.{p}",
                        suggest(p, world.power_ids, world.aliases),
                    )
                numbers[f"{fld}.{p}"] = parse_number(
                    pv, Number(spec.lo, spec.hi), lambda msg, f=f"{fld}.{p}": fail(msg, f)
                )
        elif isinstance(spec, Text):
            if not present:
                if spec.required:
                    raise fail("missing required field", fld)
                continue
            if not isinstance(val, str):
                raise fail(f"expected a string, got {excerpt(val)}", fld)
            if spec.choices is not None and val not in spec.choices:
                raise fail(
                    f"unknown value {excerpt(val)}; {one_of(spec.choices)}",
                    fld,
                    suggest(val, spec.choices),
                )
    return cls(
        id=eid,
        date=when_date,
        source=source,
        probability=float(prob),
        jitter=jitter,
        when=when,
        refs=refs,
        numbers=numbers,
        raw=raw,
        file=str(file),
    )


def _ref(val: Any, kind: str, world: World, fail: Fail) -> Any:
    if kind == "intervention":  # checked once all events are known
        if not isinstance(val, str):
            raise fail(f"expected an event id, got {excerpt(val)}")
        return val
    ids = list(world.channels) if kind == "channel" else list(world.kinds[kind])
    if not isinstance(val, str):
        raise fail(f"expected a {kind} id, got {excerpt(val)}")
    if val not in ids:
        other = world.kind_of(val)
        article = "an" if other and other[0] in "aeiou" else "a"
        extra = f" ('{val}' is {article} {other})" if other else ""
        raise fail(
            f"unknown {kind} {excerpt(val)}{extra}; {one_of(ids)}",
            suggest(val, ids, world.aliases),
        )
    return ids.index(val) if kind == "channel" else world.index[val]
