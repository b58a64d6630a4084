"""Targets: what was observed, as data the model can be checked against (docs/targets-format.md).

A targets file names a world and lists `Target` s: levels, changes, orderings, thresholds,
crossovers and vote stances of the model's observables, each with its uncertainty, its source
and a note on its reliability. `load_targets` reads and validates one; nothing in it is
evaluated as code. Calibration and scoring (issue 12) read the result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .._io import parse_toml, read_input
from ..errors import TargetsError, Where, bad_id, excerpt, suggest
from .events import STANCES
from .measures import MEASURES
from .world import World, load_world

__all__ = ["TARGET_KINDS", "Target", "Targets", "load_targets"]

#: The kinds of target, and the fields each takes besides the common ones.
TARGET_KINDS: dict[str, tuple[str, ...]] = {
    "level": ("date", "window", "value", "sd", "interval"),
    "change": ("from", "to", "value", "sd", "interval"),
    "order": ("date", "window", "order"),
    "threshold": ("date", "window", "above", "below"),
    "crossover": ("between", "interval"),
    "stance": ("vote", "stance"),
}
COMMON = ("id", "observable", "kind", "actor", "power", "source", "reliability", "note")
#: The observable of a vote stance (not a measure).
VOTE = "vote"
_Date = date  # the type, where a field called ``date`` hides it
#: A 95% interval is read as mean ± this many standard deviations.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Target:
    """One observation. Fields a kind does not use are None (see docs/targets-format.md)."""

    id: str
    observable: str
    kind: str
    source: str
    reliability: str
    actor: str | None = None
    power: str | None = None
    date: date | None = None
    window: tuple[_Date, _Date] | None = None
    value: float | None = None
    sd: float | None = None
    interval: tuple[float, float] | None = None
    since: _Date | None = None  # `from` of a change
    to: _Date | None = None
    order: tuple[str, ...] = ()
    above: float | None = None
    below: float | None = None
    between: tuple[str, str] | None = None
    dates: tuple[_Date, _Date] | None = None  # `interval` of a crossover
    vote: str | None = None
    stance: str | None = None
    note: str = ""

    @property
    def sigma(self) -> float | None:
        """The observation's sd: ``sd``, or the 95% interval's half-width / 1.96."""
        if self.sd is not None:
            return self.sd
        if self.interval is not None:
            return (self.interval[1] - self.interval[0]) / (2 * Z95)
        return None


@dataclass(frozen=True)
class Targets:
    """A validated targets file."""

    name: str
    title: str
    world: World
    path: str
    sha256: str
    targets: tuple[Target, ...]
    description: str = ""

    def __getitem__(self, tid: str) -> Target:
        for t in self.targets:
            if t.id == tid:
                return t
        raise KeyError(tid)


def load_targets(path: str | Path, *, world: World | None = None) -> Targets:
    """Read and validate a targets file.

    Parameters
    ----------
    path : str or Path
    world : World, optional
        The world the targets are checked against (default: the file's ``world``, a shipped
        world's name or a path relative to the file).

    Raises
    ------
    TargetsError
        On bad input: one message naming the file, the target and the field.
    """
    path = Path(path)
    raw = read_input(path, TargetsError)
    data = parse_toml(raw, path, TargetsError)
    for key in data:
        if key not in ("targets", "target"):
            raise Where(TargetsError, path, f"[{key}]").fail(
                "unknown section; a targets file has [targets] and [[target]]",
                suggestion=suggest(key, ["targets", "target"]),
            )
    head = data.get("targets")
    w = Where(TargetsError, path, "[targets]")
    if not isinstance(head, dict):
        raise w.fail("missing [targets] section (name, title, world)")
    for key in head:
        if key not in ("name", "title", "world", "description"):
            raise w.fail(
                "unknown field; allowed: description, name, title, world",
                key,
                suggest(key, ["name", "title", "world", "description"]),
            )
    for key in ("name", "world"):
        if not isinstance(head.get(key), str) or not head[key].strip():
            raise w.fail("missing required field (a string)", key)
    problem = bad_id(head["name"], "a name")
    if problem:
        raise w.fail(problem, "name")
    if world is None:
        world = load_world(head["world"], relative_to=path.parent)
    items = data.get("target", [])
    if not isinstance(items, list) or not items:
        raise Where(TargetsError, path, "[[target]]").fail("expected at least one [[target]]")
    targets: list[Target] = []
    for k, item in enumerate(items):
        t = _target(item, k, path, world)
        if t.id in {x.id for x in targets}:
            raise Where(TargetsError, path, f"target '{t.id}'").fail(
                "two targets have this id", "id"
            )
        targets.append(t)
    return Targets(
        name=head["name"],
        title=str(head.get("title", head["name"])),
        world=world,
        path=str(path),
        sha256=hashlib.sha256(raw).hexdigest(),
        targets=tuple(targets),
        description=str(head.get("description", "")),
    )


def _target(item: Any, k: int, path: Path, world: World) -> Target:
    label = item.get("id") if isinstance(item, dict) else None
    w = Where(
        TargetsError, path, f"target '{label}'" if isinstance(label, str) else f"target #{k + 1}"
    )
    if not isinstance(item, dict):
        raise w.fail(f"expected a table, got {excerpt(item)}")
    for req in ("id", "observable", "kind", "source", "reliability"):
        if not isinstance(item.get(req), str) or not item[req].strip():
            raise w.fail("missing required field (a non-empty string)", req)
    problem = bad_id(item["id"], "an id")
    if problem:
        raise w.fail(problem, "id")
    kind = item["kind"]
    if kind not in TARGET_KINDS:
        raise w.fail(
            f"unknown kind {excerpt(kind)}; one of {', '.join(TARGET_KINDS)}",
            "kind",
            suggest(kind, TARGET_KINDS),
        )
    allowed = {*COMMON, *TARGET_KINDS[kind]}
    for key in item:
        if key not in allowed:
            raise w.fail(
                f"not a field of a {kind} target; allowed: {', '.join(sorted(allowed))}",
                key,
                suggest(key, allowed),
            )
    obs = item["observable"]
    if kind == "stance":
        if obs != VOTE:
            raise w.fail(f"a stance target's observable is '{VOTE}'", "observable")
        return _stance(item, w, world)
    if obs not in MEASURES or not MEASURES[obs].kind:
        known = [n for n, m in MEASURES.items() if m.kind]
        raise w.fail(
            f"unknown observable {excerpt(obs)}; one of {', '.join(known)} (or '{VOTE}' for "
            "a stance)",
            "observable",
            suggest(obs, known),
        )
    spec = MEASURES[obs]
    if not spec.available(world):
        raise w.fail(f"{obs} needs a world with [[flows]]", "observable")
    fields: dict[str, Any] = {}
    actors, powers = spec.actors(world), list(world.power_ids)
    if kind in ("order", "crossover"):
        key = "order" if kind == "order" else "between"
        listed, over_powers = _compared(item, key, spec, world, w)
        if kind == "order":
            fields["order"] = listed
        else:
            fields["between"] = listed
            fields["dates"] = _dates(item, "interval", w)
        need_actor, need_power = over_powers, spec.per_power and not over_powers
    else:
        need_actor, need_power = True, spec.per_power
    if need_actor:
        actor = item.get("actor")
        if actor not in actors:
            raise w.fail(
                f"unknown {spec.kind} {excerpt(actor)} for {obs}; one of {', '.join(actors)}",
                "actor",
                suggest(str(actor), actors, world.aliases),
            )
        fields["actor"] = actor
    elif "actor" in item:
        raise w.fail("the order (or pair) lists the actors; give no actor", "actor")
    if need_power:
        power = item.get("power")
        if power not in powers:
            raise w.fail(
                f"{obs} needs a power, one of {', '.join(powers)}",
                "power",
                suggest(str(power), powers, world.aliases),
            )
        fields["power"] = power
    elif "power" in item:
        raise w.fail(f"{obs} takes no power here", "power")
    if kind in ("level", "order", "threshold"):
        fields.update(_when(item, w))
    if kind == "change":
        fields["since"] = _date(item, "from", w)
        fields["to"] = _date(item, "to", w)
        if fields["since"] >= fields["to"]:
            raise w.fail(f"'from' ({fields['since']}) must be before 'to' ({fields['to']})", "to")
    if kind in ("level", "change"):
        fields.update(_value(item, w))
    if kind == "threshold":
        sides = [s for s in ("above", "below") if s in item]
        if len(sides) != 1:
            raise w.fail("give 'above' or 'below' (one of them)", "above")
        fields[sides[0]] = _number(item, sides[0], w)
    return Target(
        id=item["id"],
        observable=obs,
        kind=kind,
        source=item["source"],
        reliability=item["reliability"],
        note=_note(item, w),
        **fields,
    )


def _compared(
    item: dict[str, Any], key: str, spec: Any, world: World, w: Where
) -> tuple[tuple[str, ...], bool]:
    """The actors or powers an order or a crossover compares, and whether they are powers.

    An order (``key = "order"``) lists two or more, from the highest; a crossover
    (``"between"``) exactly two.
    """
    listed = item.get(key)
    pair = key == "between"
    if (
        not isinstance(listed, list)
        or not all(isinstance(o, str) for o in listed)
        or len(listed) < 2
        or (pair and len(listed) != 2)
    ):
        what = "two different" if pair else "a list of at least two"
        raise w.fail(f"expected {what} actors or powers, got {excerpt(listed)}", key)
    if len(set(listed)) != len(listed):
        raise w.fail(
            "expected two different actors or powers"
            if pair
            else "an actor or power is listed twice",
            key,
        )
    powers, actors = list(world.power_ids), spec.actors(world)
    over_powers = all(o in powers for o in listed) and spec.per_power
    pool = powers if over_powers else actors
    for o in listed:
        if o not in pool:
            raise w.fail(
                f"unknown {'power' if over_powers else spec.kind} {excerpt(o)}",
                key,
                suggest(o, pool, world.aliases),
            )
    return tuple(listed), bool(over_powers)


def _stance(item: dict[str, Any], w: Where, world: World) -> Target:
    for req in ("vote", "stance", "actor"):
        if not isinstance(item.get(req), str):
            raise w.fail("missing required field", req)
    if item["actor"] not in world.state_ids:
        raise w.fail(
            f"unknown state {excerpt(item['actor'])}",
            "actor",
            suggest(item["actor"], world.state_ids, world.aliases),
        )
    if item["stance"] not in STANCES:
        raise w.fail(
            f"unknown stance {excerpt(item['stance'])}; one of {', '.join(STANCES)}",
            "stance",
            suggest(item["stance"], STANCES),
        )
    if "power" in item:
        raise w.fail("a stance takes no power", "power")
    return Target(
        id=item["id"],
        observable=VOTE,
        kind="stance",
        source=item["source"],
        reliability=item["reliability"],
        actor=item["actor"],
        vote=item["vote"],
        stance=item["stance"],
        note=_note(item, w),
    )


def _note(item: dict[str, Any], w: Where) -> str:
    note = item.get("note", "")
    if not isinstance(note, str):
        raise w.fail(f"expected a string, got {excerpt(note)}", "note")
    return note


def _date(item: dict[str, Any], key: str, w: Where) -> date:
    d = item.get(key)
    if not isinstance(d, date) or hasattr(d, "hour"):
        raise w.fail(f"expected a TOML date (YYYY-MM-DD), got {excerpt(d)}", key)
    return d


def _dates(item: dict[str, Any], key: str, w: Where) -> tuple[date, date]:
    pair = item.get(key)
    if (
        not isinstance(pair, list)
        or len(pair) != 2
        or not all(isinstance(d, date) and not hasattr(d, "hour") for d in pair)
    ):
        raise w.fail(f"expected [start, end] as TOML dates, got {excerpt(pair)}", key)
    if pair[0] > pair[1]:
        raise w.fail(f"the start {pair[0]} is after the end {pair[1]}", key)
    return pair[0], pair[1]


def _when(item: dict[str, Any], w: Where) -> dict[str, Any]:
    if ("date" in item) == ("window" in item):
        raise w.fail("give a 'date' or a 'window' = [start, end]", "date")
    if "date" in item:
        return {"date": _date(item, "date", w)}
    return {"window": _dates(item, "window", w)}


def _number(item: dict[str, Any], key: str, w: Where) -> float:
    v = item.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float) or v != v or abs(v) == float("inf"):
        raise w.fail(f"expected a number, got {excerpt(v)}", key)
    return float(v)


def _value(item: dict[str, Any], w: Where) -> dict[str, Any]:
    out: dict[str, Any] = {"value": _number(item, "value", w)}
    if ("sd" in item) == ("interval" in item):
        raise w.fail("give its uncertainty as 'sd' or as 'interval' = [low, high]", "sd")
    if "sd" in item:
        sd = _number(item, "sd", w)
        if sd <= 0:
            raise w.fail(f"an sd must be positive, got {sd:g}", "sd")
        out["sd"] = sd
        return out
    pair = item["interval"]
    if not isinstance(pair, list) or len(pair) != 2:
        raise w.fail(f"expected [low, high], got {excerpt(pair)}", "interval")
    lo, hi = (_number({"interval": v}, "interval", w) for v in pair)
    if not lo < hi:
        raise w.fail(f"low ({lo:g}) must be below high ({hi:g})", "interval")
    if not lo <= out["value"] <= hi:
        raise w.fail(f"the value {out['value']:g} lies outside [{lo:g}, {hi:g}]", "interval")
    out["interval"] = (lo, hi)
    return out
