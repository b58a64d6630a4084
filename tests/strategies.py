"""Hypothesis strategies: valid event sequences built from the event kinds' field specs.

Every kind in `EVENT_KINDS` is drawn (the kinds that move flows only for worlds with
[[flows]]); fields follow their specs, plus the cross-field rules the specs cannot state
(sanction shares summing to 1, a summit's `tie` only with a `channel` ...).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from influence_sim.core.events import EVENT_KINDS, QUANTITIES, Number, Ref, RefList, Scores, Text
from influence_sim.core.world import World
from influence_sim.params import parameters

START = date(2022, 1, 1)
#: Labels of states outside the world that a `war` may target.
OUTSIDE_LABELS = ("UA", "GE", "MD")
#: Kinds that move flows, drawn only for worlds with [[flows]].
NEEDS_ECONOMY = frozenset({"sanction", "trend"})


@st.composite
def numbers(draw: st.DrawFn, spec: Number | Scores) -> Any:
    """A constant or a distribution inside the field's range."""
    lo, hi = max(spec.lo, -1.0), min(spec.hi, 30.0)
    kind = draw(st.sampled_from(["const", "const", "uniform", "normal", "triangular", "beta"]))
    val = st.floats(lo, hi, allow_nan=False)
    if kind == "const":
        return draw(val)
    if kind == "uniform":
        a, b = sorted((draw(val), draw(val)))
        return {"dist": "uniform", "low": a, "high": b}
    if kind == "normal":
        return {"dist": "normal", "mean": draw(val), "sd": draw(st.floats(0, hi - lo))}
    if kind == "triangular":
        a, m, b = sorted((draw(val), draw(val), draw(val)))
        return {"dist": "triangular", "low": a, "mode": m, "high": b}
    if lo < 0 or hi > 1:
        return draw(val)
    return {"dist": "beta", "a": draw(st.floats(0.5, 5)), "b": draw(st.floats(0.5, 5))}


def _faction_in(draw: st.DrawFn, world: World, state: str | None = None) -> str:
    ids = [f.id for f in world.factions if state is None or f.state == state]
    return draw(st.sampled_from(ids))


def _text(draw: st.DrawFn, world: World, kind: str, name: str, spec: Text) -> str | None:
    """A valid value of a `Text` field (None: leave the optional field out)."""
    if not spec.required and not draw(st.booleans()):
        return None
    if spec.choices is not None:
        return draw(st.sampled_from(spec.choices))
    if (kind, name) == ("war", "target"):
        return draw(st.sampled_from([*world.state_ids, *OUTSIDE_LABELS]))
    if (kind, name) == ("trend", "partner"):
        return draw(st.sampled_from([*world.power_ids, "rest"]))
    if (kind, name) == ("vote", "motion"):
        return draw(st.sampled_from(["A/ES-11/1", "A/RES/68/262", "motion"]))
    raise AssertionError(f"no strategy for the text field {kind}.{name}: add one")


@st.composite
def sanction_shares(draw: st.DrawFn) -> dict[str, Any]:
    """`lost`, `neighbours` and `other` whose means sum to 1 (constants, or one uniform)."""
    lost = draw(st.floats(0, 1))
    neighbours = draw(st.floats(0, 1 - lost))
    other = max(0.0, (1.0 - lost) - neighbours)
    out: dict[str, Any] = {"lost": lost, "neighbours": neighbours}
    if other > 0 or draw(st.booleans()):
        out["other"] = other
    if draw(st.booleans()):
        # a uniform draw around `lost`, symmetric so its mean stays `lost`
        half = draw(st.floats(0, min(lost, 1 - lost)))
        if half > 0:
            low, high = max(lost - half, 0.0), min(lost + half, 1.0)
            out["lost"] = {"dist": "uniform", "low": low, "high": high}
    return out


@st.composite
def conditions(draw: st.DrawFn, world: World) -> dict[str, Any]:
    """A `when` condition on a faction's share, or on one of the per-state measures."""
    measures = ["share", "share", "perception", "threat", "hedging"]
    if world.has_economy:
        measures += ["trade_share", "debt_share"]
    measure = draw(st.sampled_from(measures))
    cond: dict[str, Any] = {"measure": measure, "op": draw(st.sampled_from([">", "<"]))}
    if measure == "share":
        cond["actor"] = _faction_in(draw, world)
    else:
        cond["actor"] = draw(st.sampled_from(world.state_ids))
    if measure in ("perception", "threat", "trade_share", "debt_share"):
        cond["power"] = draw(st.sampled_from(world.power_ids))
    hi = 2.0 if measure in ("threat", "hedging") else 1.0
    cond["value"] = draw(st.floats(0, hi))
    return cond


@st.composite
def event_of(
    draw: st.DrawFn, world: World, kind: str, eid: str, days: int, min_probability: float = 0.0
) -> dict[str, Any] | None:
    """One valid event of ``kind`` dated in the first ``days`` days, built from its field specs.

    None where the world cannot hold it (a purge or leadership change needs a state with two
    factions). A `withdrawal` comes without its `intervention`: the caller names one.
    """
    ev: dict[str, Any] = {
        "id": eid,
        "kind": kind,
        "date": START + timedelta(days=draw(st.integers(0, days - 1))),
        "source": "hypothesis",
    }
    if draw(st.booleans()):
        ev["probability"] = draw(st.floats(min_probability, 1))
    if draw(st.booleans()):
        ev["jitter"] = draw(st.integers(0, 5))
    crowded = [s for s in world.state_ids if list(world.faction_state).count(world.index[s]) > 1]
    if kind in ("purge", "leadership_change") and not crowded:
        return None
    state = draw(
        st.sampled_from(crowded if kind in ("purge", "leadership_change") else world.state_ids)
    )
    if kind in ("set", "shift"):
        names = [p for p, v in parameters().items() if v.numeric] + list(QUANTITIES)
        name = draw(st.sampled_from(names))
        ev["param"] = name
        if name in QUANTITIES:
            qkind, lo, hi, _ = QUANTITIES[name]
            ev["actor"] = draw(st.sampled_from(world.kinds[qkind]))
        else:
            lo, hi = parameters()[name].low, min(parameters()[name].high, 2.0)
        span = hi - lo
        ev["value"] = draw(st.floats(-span, span) if kind == "shift" else st.floats(lo, hi))
    elif kind != "withdrawal":
        if kind == "sanction":
            ev.update(draw(sanction_shares()))
        for name, spec in EVENT_KINDS[kind].fields.items():
            if kind == "sanction" and name in ("lost", "neighbours", "other"):
                continue
            if isinstance(spec, Number):
                if spec.required or draw(st.booleans()):
                    ev[name] = draw(numbers(spec))
            elif isinstance(spec, Ref) and (spec.required or draw(st.booleans())):
                if spec.kind == "faction":
                    ev[name] = _faction_in(draw, world, state)
                elif spec.kind == "state":
                    ev[name] = state
                elif spec.kind == "channel":
                    ev[name] = draw(st.sampled_from(world.channels))
                else:
                    ev[name] = draw(st.sampled_from(world.kinds[spec.kind]))
            elif isinstance(spec, RefList):
                ids = world.kinds[spec.kind]
                ev[name] = draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))
            elif isinstance(spec, Scores) and draw(st.booleans()):
                ev[name] = {p: draw(st.floats(0, 1 / len(world.powers))) for p in world.power_ids}
            elif isinstance(spec, Text):
                text = _text(draw, world, kind, name, spec)
                if text is not None:
                    ev[name] = text
        if kind == "intervention":
            ev["state"] = world.factions[world.index[ev["backs"]]].state
        if kind == "purge":
            mates = [f for f in world.faction_ids if f.startswith(f"{state}.")]
            ev["from"], ev["to"] = draw(st.permutations(mates))[:2]
        if kind == "leadership_change":
            if ev.get("to") == ev["faction"]:
                ev.pop("to")
            if "to" not in ev:
                ev.pop("share", None)
                ev.pop("legitimacy", None)
        if kind == "reorient" and "anchor" not in ev:
            ev["anchor"] = {world.power_ids[0]: draw(st.floats(-1, 1))}
        if kind in ("statement", "summit", "treaty") and "institution" not in ev:
            ev.pop("credibility", None)
        if kind in ("summit", "treaty"):
            if "channel" not in ev:
                ev.pop("tie", None)
            if not world.has_economy:
                ev.pop("lending", None)
                ev.pop("trade_growth", None)
    if draw(st.booleans()):
        ev["when"] = draw(conditions(world))
    return ev


@st.composite
def event_tables(draw: st.DrawFn, world: World, steps: int, n_max: int = 8) -> list[dict]:
    """A list of valid [[events]] tables for ``world`` over ``steps`` days from START."""
    events: list[dict] = []
    kinds = sorted(name for name in EVENT_KINDS if world.has_economy or name not in NEEDS_ECONOMY)
    n = draw(st.integers(0, n_max))
    for k in range(n):
        ev = draw(event_of(world, draw(st.sampled_from(kinds)), f"e{k}", steps))
        if ev is not None and ev["kind"] == "withdrawal":
            ivs = [
                e["id"] for e in events if e["kind"] == "intervention" and e["date"] <= ev["date"]
            ]
            ev = {**ev, "intervention": draw(st.sampled_from(ivs))} if ivs else None
        if ev is not None:
            events.append(ev)
    return events


def scenario_dict(
    events: list[dict], steps: int, world: str = "central_asia_2021", **params: Any
) -> dict:
    return {
        "scenario": {"name": "hyp", "world": world, "start": START, "step": "1d", "steps": steps},
        "params": params,
        "events": events,
    }
