"""Event kinds: typed, declarative shocks that apply themselves to the kernel's arrays.

Each kind is one small class: a ``kind`` name, a table of ``fields`` (what the scenario file
may say, with types and ranges) and an ``apply`` method that changes the ensemble's arrays for
the replicates in a boolean mask. Numeric fields are constants or distributions, sampled once
per replicate. Adding a kind means adding one class here; the loader, the validation, the
docs' field tables and the tests' event generator all read ``fields``.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .._io import MAX_NESTING
from ..errors import Fail, excerpt, one_of, suggest
from ..params import parameters
from . import interventions
from .measures import CONDITION_MEASURES, MEASURES
from .world import FLOW_KINDS, LENDING, TRADE

if TYPE_CHECKING:
    from .kernel import Ensemble
    from .world import World

__all__ = ["EVENT_KINDS", "Condition", "Distribution", "Event"]

# ---------------------------------------------------------------------------------------
# field specifications


@dataclass(frozen=True)
class Number:
    """A numeric field: a constant or a distribution, sampled per replicate."""

    lo: float
    hi: float
    default: float | None = None
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class Ref:
    """A reference to an actor, a channel or another event.

    ``kind`` is ``power``, ``state``, ``faction``, ``institution``, ``channel`` or
    ``intervention`` (the id of an intervention event).
    """

    kind: str
    required: bool = True
    doc: str = ""


@dataclass(frozen=True)
class RefList:
    """A list of actor references of one kind (may be empty)."""

    kind: str
    doc: str = ""


@dataclass(frozen=True)
class Scores:
    """A table of numbers per power, e.g. ``{RU = 0.5, CN = 0.2}``."""

    lo: float
    hi: float
    doc: str = ""


@dataclass(frozen=True)
class Text:
    """A string field: free (e.g. a parameter name) or one of ``choices``."""

    required: bool = True
    doc: str = ""
    choices: tuple[str, ...] | None = None


Spec = Number | Ref | RefList | Scores | Text

# ---------------------------------------------------------------------------------------
# distributions

DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "normal": ("mean", "sd"),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "beta": ("a", "b", "low", "high"),
}


@dataclass(frozen=True)
class Distribution:
    """A constant or a distribution over a numeric field, clipped to the field's range.

    ``normal`` draws are clipped to the field's range; the other distributions must lie
    inside it. ``beta`` lives on [low, high] (default [0, 1]).
    """

    dist: str
    args: tuple[float, ...]
    lo: float
    hi: float

    @property
    def constant(self) -> bool:
        """Whether this is a constant (no draw)."""
        return self.dist == "const"

    def draw(self, gen: np.random.Generator) -> float:
        """One draw (the kernel calls this once per replicate, in field order)."""
        a = self.args
        match self.dist:
            case "const":
                return a[0]
            case "normal":
                v = gen.normal(a[0], a[1])
            case "uniform":
                v = gen.uniform(a[0], a[1])
            case "triangular":
                v = gen.triangular(a[0], a[1], a[2]) if a[0] < a[2] else a[0]
            case "beta":
                v = a[2] + (a[3] - a[2]) * gen.beta(a[0], a[1])
            case _:  # pragma: no cover - parse() admits only the kinds above
                raise AssertionError(self.dist)
        return float(min(max(v, self.lo), self.hi))

    @property
    def mean(self) -> float:
        """The distribution's mean (before clipping), used for reporting."""
        a = self.args
        return {
            "const": lambda: a[0],
            "normal": lambda: a[0],
            "uniform": lambda: (a[0] + a[1]) / 2,
            "triangular": lambda: sum(a) / 3,
            "beta": lambda: a[2] + (a[3] - a[2]) * a[0] / (a[0] + a[1]),
        }[self.dist]()


def finite(val: Any) -> bool:
    """Whether ``val`` is a finite real number.

    Not a bool; an int too large for a float is not finite.
    """
    if isinstance(val, bool) or not isinstance(val, int | float):
        return False
    try:
        return math.isfinite(val)
    except OverflowError:
        return False


def parse_number(val: Any, spec: Number, fail: Fail) -> Distribution:
    """Parse a constant or ``{dist = ..., ...}`` table against a field's range."""
    lo, hi = spec.lo, spec.hi
    if isinstance(val, bool):
        raise fail(f"expected a number or a distribution table, got {excerpt(val)}")
    if isinstance(val, int | float):
        if not (finite(val) and lo <= val <= hi):
            raise fail(f"value {val} out of range [{lo}, {hi}]")
        return Distribution("const", (float(val),), lo, hi)
    if not isinstance(val, dict):
        raise fail(f"expected a number or a distribution table, got {excerpt(val)}")
    kind = val.get("dist")
    if kind is None:
        raise fail(
            "distribution table without 'dist' (e.g. {dist = \"normal\", mean = 0.1, sd = 0.02})"
        )
    if not isinstance(kind, str) or kind not in DISTRIBUTIONS:
        hint = suggest(kind, DISTRIBUTIONS)
        raise fail(
            f"unknown distribution {excerpt(kind)}; known: {', '.join(DISTRIBUTIONS)}"
            + (f" (did you mean '{hint}'?)" if hint else "")
        )
    names = DISTRIBUTIONS[kind]
    given = {k: v for k, v in val.items() if k != "dist"}
    optional = {"low", "high"} if kind == "beta" else set()
    unknown = set(given) - set(names)
    if unknown:
        k = sorted(unknown)[0]
        raise fail(
            f"unknown parameter '{k}' for a {kind} distribution (takes {', '.join(names)})"
            + (f" (did you mean '{suggest(k, names)}'?)" if suggest(k, names) else "")
        )
    missing = [n for n in names if n not in given and n not in optional]
    if missing:
        raise fail(f"{kind} distribution needs {', '.join(missing)}")
    for k, v in given.items():
        if not finite(v):
            raise fail(f"distribution parameter '{k}' must be a number, got {excerpt(v)}")
    args: tuple[float, ...]
    if kind == "normal":
        args = (float(given["mean"]), float(given["sd"]))
        if args[1] < 0:
            raise fail(f"normal sd must be >= 0, got {args[1]}")
        if not lo <= args[0] <= hi:
            raise fail(f"normal mean {args[0]} outside the field's range [{lo}, {hi}]")
    elif kind == "uniform":
        # + 0.0 makes a written -0.0 a 0.0: numpy refuses a uniform whose high - low is -0.0
        args = (float(given["low"]) + 0.0, float(given["high"]) + 0.0)
        if args[0] > args[1]:
            raise fail(f"uniform needs low <= high, got {args[0]} > {args[1]}")
    elif kind == "triangular":
        args = (float(given["low"]), float(given["mode"]), float(given["high"]))
        if not args[0] <= args[1] <= args[2]:
            raise fail(f"triangular needs low <= mode <= high, got {args}")
    else:
        args = (
            float(given["a"]),
            float(given["b"]),
            float(given.get("low", max(lo, 0.0))),
            float(given.get("high", min(hi, 1.0))),
        )
        if args[0] <= 0 or args[1] <= 0:
            raise fail(f"beta needs a > 0 and b > 0, got a={args[0]}, b={args[1]}")
        if args[2] > args[3]:
            raise fail(f"beta needs low <= high, got {args[2]} > {args[3]}")
    if kind != "normal":
        # the support's ends: uniform (low, high); triangular (low, _, high); beta (_, _, low, high)
        ends = {"uniform": (0, 1), "triangular": (0, 2)}.get(kind, (2, 3))
        support = (args[ends[0]], args[ends[1]])
        if support[0] < lo or support[1] > hi:
            raise fail(
                f"{kind} support [{support[0]}, {support[1]}] leaves the field's range [{lo}, {hi}]"
            )
    return Distribution(kind, args, lo, hi)


# ---------------------------------------------------------------------------------------
# when-conditions

OPS = {
    ">": np.greater,
    ">=": np.greater_equal,
    "<": np.less,
    "<=": np.less_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


@dataclass(frozen=True)
class Condition:
    """A ``when`` condition: a comparison on a measure, or ``all``/``any`` of conditions.

    Written as data, never code: ``{measure = "share", actor = "KZ.tokayev", op = ">",
    value = 0.5}``, combinable as ``{all = [...]}`` or ``{any = [...]}``.
    """

    combine: str | None = None
    parts: tuple[Condition, ...] = ()
    measure: str = ""
    actor: str = ""
    power: str | None = None
    op: str = ">"
    value: float = 0.0

    @classmethod
    def parse(cls, raw: Any, world: World, fail: Fail, *, level: int = 1) -> Condition:
        """Validate a ``when`` table against the world; ``fail(msg)`` builds the error.

        ``all``/``any`` tables nest at most `MAX_NESTING` levels (``level`` counts them; the
        top table is level 1), so a crafted condition cannot exhaust the stack. In a file the
        nesting limit of the whole file (`influence_sim._io.MAX_NESTING`) applies first.
        """
        if not isinstance(raw, dict):
            raise fail(f"expected a table, got {excerpt(raw)}")
        if set(raw) & {"all", "any"}:
            if level > MAX_NESTING:
                raise fail(
                    f"'all' and 'any' nested more than {MAX_NESTING} levels deep "
                    "(the limit, MAX_NESTING)"
                )
            if len(raw) != 1:
                raise fail("a table with 'all' or 'any' must have that key only")
            key = next(iter(raw))
            items = raw[key]
            if not isinstance(items, list) or not items:
                raise fail(f"'{key}' needs a non-empty list of conditions")
            parts = tuple(cls.parse(c, world, fail, level=level + 1) for c in items)
            return cls(combine=key, parts=parts)
        allowed = {"measure", "actor", "power", "op", "value"}
        extra = set(raw) - allowed
        if extra:
            k = sorted(extra)[0]
            raise (
                fail(
                    f"unknown key '{k}' in condition",
                )
                if not suggest(k, allowed)
                else fail(f"unknown key '{k}' in condition (did you mean '{suggest(k, allowed)}'?)")
            )
        measure = raw.get("measure")
        if not isinstance(measure, str) or measure not in CONDITION_MEASURES:
            hint = suggest(measure, CONDITION_MEASURES)
            raise fail(
                f"unknown measure {excerpt(measure)}; known: {', '.join(CONDITION_MEASURES)}"
                + (f" (did you mean '{hint}'?)" if hint else "")
            )
        spec = MEASURES[measure]
        if not spec.available(world):
            raise fail(f"measure '{measure}' needs a world with [[flows]]; this world has none")
        kind = spec.kind
        actor = raw.get("actor")
        ids = spec.actors(world)
        if actor not in ids:
            hint = suggest(actor, ids)
            raise fail(
                f"condition on {measure} needs a {kind} actor, got {excerpt(actor)}"
                + (f" (did you mean '{hint}'?)" if hint else "")
            )
        power = raw.get("power")
        if spec.per_power:
            if power not in world.power_ids:
                raise fail(
                    f"condition on {measure} needs a `power`, one of {', '.join(world.power_ids)}"
                    + (f"; got {excerpt(power)}" if power is not None else "")
                )
        elif power is not None:
            raise fail(f"condition on {measure} takes no power")
        op = raw.get("op", ">")
        if not isinstance(op, str) or op not in OPS:
            raise fail(f"unknown op {excerpt(op)}; use one of {' '.join(OPS)}")
        val = raw.get("value")
        if isinstance(val, bool) or not isinstance(val, int | float):
            raise fail(f"condition needs a numeric 'value', got {excerpt(val)}")
        if not finite(val):
            raise fail(f"condition needs a finite 'value' (no NaN or infinity), got {excerpt(val)}")
        return cls(measure=measure, actor=actor, power=power, op=op, value=float(val))

    def evaluate(self, ens: Ensemble) -> np.ndarray:
        """Boolean per replicate, shape (R,)."""
        out: np.ndarray
        if self.combine == "all":
            out = np.logical_and.reduce([p.evaluate(ens) for p in self.parts])
        elif self.combine == "any":
            out = np.logical_or.reduce([p.evaluate(ens) for p in self.parts])
        else:
            value = MEASURES[self.measure].value(ens, self.actor, self.power)
            out = OPS[self.op](value, self.value)
        return out


# ---------------------------------------------------------------------------------------
# events

EVENT_KINDS: dict[str, type[Event]] = {}
COMMON_FIELDS = {"id", "kind", "date", "source", "probability", "jitter", "when", "note"}


class Event:
    """Base class of event kinds. Subclasses set ``kind``, ``fields`` and ``apply``.

    After validation an event holds ``refs`` (actor ids resolved to indices) and ``numbers``
    (field name to `Distribution`; a `Scores` field ``anchor`` appears as ``anchor.RU`` ...).
    """

    kind: ClassVar[str]
    fields: ClassVar[dict[str, Spec]]
    summary: ClassVar[str]

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        EVENT_KINDS[cls.kind] = cls

    def __init__(
        self,
        *,
        id: str,
        date: date,
        source: str,
        probability: float,
        jitter: int,
        when: Condition | None,
        refs: dict[str, Any],
        numbers: dict[str, Distribution],
        raw: Mapping[str, Any],
        file: str,
    ) -> None:
        self.id, self.date, self.source = id, date, source
        self.probability, self.jitter, self.when = probability, jitter, when
        self.refs, self.numbers, self.raw, self.file = refs, numbers, raw, file

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, date={self.date})"

    @property
    def key(self) -> int:
        """Stable 32-bit key of the event id, which keys its random stream.

        Removing or adding other events never changes this event's draws (common random
        numbers across a baseline and its counterfactuals).
        """
        return zlib.crc32(self.id.encode("utf-8"))

    @property
    def random(self) -> bool:
        """Whether the event draws random numbers (probability, jitter or distributions)."""
        return (
            self.probability < 1.0
            or self.jitter > 0
            or any(not d.constant for d in self.numbers.values())
        )

    def check(self, world: World, events: Mapping[str, Event], fail: Fail) -> None:
        """Cross-field checks against the world and the scenario's other events."""

    def uniforms(self, world: World) -> int:
        """Uniform numbers the event draws per replicate beyond its fields (``_uniforms``)."""
        return 0

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        """Change the ensemble's arrays for the replicates where ``m`` is True.

        Return None, or the subset of ``m`` where the event had an effect (the others are
        recorded as "no effect", e.g. a withdrawal of a force that never deployed).
        """
        raise NotImplementedError


def _clip01(a: np.ndarray) -> np.ndarray:
    return np.clip(a, 0.0, 1.0, out=a)


def transfer_share(ens: Ensemble, m: np.ndarray, src: int, dst: int, amount: np.ndarray) -> None:
    """Move ``amount`` (R,) of power share from faction ``src`` to ``dst`` where ``m``."""
    amt = np.where(m, np.minimum(amount, ens.share[:, src]), 0.0)
    ens.share[:, src] -= amt
    ens.share[:, dst] += amt


class Unrest(Event):
    """Mass unrest in a state: a noisy power contest and volatile orientations."""

    kind = "unrest"
    summary = (
        "Sets the state's unrest intensity for `days`; while it lasts, power shares "
        "follow a noisy contest driven by legitimacy and force, and pulls are noisy."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "state": Ref("state", doc="the state in unrest"),
        "intensity": Number(0.0, 1.0, doc="unrest intensity, 0 (calm) to 1 (insurrection)"),
        "days": Number(1.0, 3650.0, doc="duration in days"),
    }

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        s = self.refs["state"]
        ens.unrest[:, s] = np.where(
            m, np.maximum(ens.unrest[:, s], v["intensity"]), ens.unrest[:, s]
        )
        end = ens.t + np.ceil(v["days"] / ens.dt).astype(np.int64)
        ens.unrest_end[:, s] = np.where(
            m, np.maximum(ens.unrest_end[:, s], end), ens.unrest_end[:, s]
        )
        return None


class Intervention(Event):
    """A power (optionally through an institution) deploys a force backing a faction."""

    kind = "intervention"
    summary = (
        "Deploys a force of `size` backing faction `backs`: the faction gains power share "
        "while the force stays, and a patronage tie to the power is created. Bypassed "
        "institutions lose credibility at once. At withdrawal the intervention succeeds "
        "if the backed faction has not lost power share since deployment."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "power": Ref("power", doc="the intervening power"),
        "state": Ref("state", doc="the host state"),
        "backs": Ref("faction", doc="the faction the force backs (in the host state)"),
        "institution": Ref("institution", required=False, doc="the institution it acts through"),
        "size": Number(0.0, 1.0, doc="size of the force, 0 to 1 (relative)"),
        "days": Number(
            0.0, 3650.0, default=0.0, doc="planned duration in days; 0 = until a `withdrawal` event"
        ),
        "reputation": Number(
            0.0,
            1.0,
            default=0.05,
            doc="reputation gained by the power on success (lost on failure)",
        ),
        "credibility": Number(
            0.0,
            1.0,
            default=0.05,
            doc="credibility gained by the institution on success (lost on failure)",
        ),
        "bypassed": RefList("institution", doc="institutions bypassed by acting this way"),
        "bypass_cost": Number(
            0.0, 1.0, default=0.05, doc="credibility each bypassed institution loses at deployment"
        ),
    }

    def check(self, world: World, events: Mapping[str, Event], fail: Fail) -> None:
        backs, state = self.raw["backs"], self.raw["state"]
        if world.factions[self.refs["backs"]].state != state:
            raise fail(f"faction '{backs}' is not in state '{state}'", "backs")

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        b, p = self.refs["backs"], self.refs["power"]
        iv = interventions.state(ens, self.id)
        fresh = m & ~iv.active
        iv.active |= fresh
        iv.size = np.where(fresh, v["size"], iv.size)
        iv.share0 = np.where(fresh, ens.share[:, b], iv.share0)
        iv.reputation = np.where(fresh, v["reputation"], iv.reputation)
        iv.credibility = np.where(fresh, v["credibility"], iv.credibility)
        planned = v["days"] > 0
        end = ens.t + np.ceil(v["days"] / ens.dt).astype(np.int64)
        iv.end = np.where(fresh & planned, end, np.where(fresh, -1, iv.end))
        iv.backs, iv.power, iv.institution = b, p, self.refs.get("institution")
        ens.force[:, b] += np.where(fresh, v["size"], 0.0)
        ens.patronage[:, b, p] += np.where(fresh, ens.params["patronage_gain"] * v["size"], 0.0)
        for i in self.refs["bypassed"]:
            ens.cred[:, i] -= np.where(fresh, v["bypass_cost"], 0.0)
            _clip01(ens.cred[:, i])
        return None


class Withdrawal(Event):
    """Ends an intervention and settles its reputation and credibility by its success."""

    kind = "withdrawal"
    summary = (
        "Ends the named intervention where it is deployed; success (the backed faction "
        "kept its share) raises the power's reputation and the institution's "
        "credibility by the intervention's amounts, failure lowers them."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "intervention": Ref("intervention", doc="id of the intervention event it ends"),
    }

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        return interventions.withdraw(ens, self.raw["intervention"], m)


class Purge(Event):
    """One faction purges another: a fraction of the purged faction's share changes hands."""

    kind = "purge"
    summary = "Moves the fraction `share` of faction `from`'s power share to faction `to`."
    fields: ClassVar[dict[str, Spec]] = {
        "from": Ref("faction", doc="the purged faction"),
        "to": Ref("faction", doc="the faction that gains (same state)"),
        "share": Number(0.0, 1.0, doc="fraction of the purged faction's share transferred"),
    }

    def check(self, world: World, events: Mapping[str, Event], fail: Fail) -> None:
        a, b = self.raw["from"], self.raw["to"]
        if world.factions[self.refs["from"]].state != world.factions[self.refs["to"]].state:
            raise fail(f"'{a}' and '{b}' are not in the same state", "to")
        if a == b:
            raise fail("a faction cannot purge itself", "to")

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        src = self.refs["from"]
        transfer_share(ens, m, src, self.refs["to"], v["share"] * ens.share[:, src])
        return None


def update_anchor(
    ens: Ensemble,
    m: np.ndarray,
    f: int,
    v: Mapping[str, np.ndarray],
    rule: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> None:
    """Write faction ``f``'s prior scores in the replicates where ``m`` is True.

    Each power in the event's ``anchor.<power>`` values gets ``rule(old, value)``; a row that
    then sums to more than 1 is rescaled.
    """
    new = ens.anchor[:, f, :].copy()
    for k in (k for k in v if k.startswith("anchor.")):
        p = ens.world.index[k.split(".", 1)[1]]
        new[:, p] = rule(new[:, p], v[k])
    total = new.sum(axis=1, keepdims=True)
    new = np.where(total > 1.0, new / np.maximum(total, 1e-300), new)
    ens.anchor[:, f, :] = np.where(m[:, None], new, ens.anchor[:, f, :])


class LeadershipChange(Event):
    """A faction loses a post: share moves, legitimacy moves, its orientation may change."""

    kind = "leadership_change"
    summary = (
        "Faction `faction` loses the post: `share` (absolute, capped at what it has) "
        "moves to `to`, whose legitimacy changes by `legitimacy`; with `anchor`, the "
        "faction's new head brings new prior scores."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "faction": Ref("faction", doc="the faction whose head or post changes"),
        "to": Ref("faction", required=False, doc="the faction that takes the post (same state)"),
        "share": Number(0.0, 1.0, default=0.0, doc="absolute power share moved to `to`"),
        "legitimacy": Number(-1.0, 1.0, default=0.0, doc="legitimacy change of `to`"),
        "anchor": Scores(0.0, 1.0, doc="new prior scores of `faction` per power"),
    }

    def check(self, world: World, events: Mapping[str, Event], fail: Fail) -> None:
        if "to" in self.refs:
            f, t = self.refs["faction"], self.refs["to"]
            if world.factions[f].state != world.factions[t].state:
                raise fail(
                    f"'{self.raw['to']}' is not in the state of '{self.raw['faction']}'", "to"
                )
            if f == t:
                raise fail("`to` must differ from `faction`", "to")
        elif self.numbers["share"].args != (0.0,) or self.numbers["legitimacy"].args != (0.0,):
            raise fail("`share` and `legitimacy` need a `to` faction", "to")
        anchors = [d.mean for k, d in self.numbers.items() if k.startswith("anchor.")]
        if sum(anchors) > 1 + 1e-9:
            raise fail(
                f"anchor scores must sum to at most 1, they sum to {sum(anchors):.4g}", "anchor"
            )

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        f = self.refs["faction"]
        if "to" in self.refs:
            t = self.refs["to"]
            transfer_share(ens, m, f, t, v["share"])
            ens.legit[:, t] = np.where(
                m, np.clip(ens.legit[:, t] + v["legitimacy"], 0, 1), ens.legit[:, t]
            )
        if any(k.startswith("anchor.") for k in v):
            update_anchor(ens, m, f, v, lambda old, val: val)
        return None


class Reorient(Event):
    """A faction changes course without a change of head (a president turning)."""

    kind = "reorient"
    summary = (
        "Faction `faction` changes course without a change of head: its prior (anchor) "
        "score toward each power listed in `anchor` changes by that amount (each score "
        "clipped to [0, 1]; the scores rescaled if they then sum to more than 1)."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "faction": Ref("faction", doc="the faction that changes course"),
        "anchor": Scores(-1.0, 1.0, doc="change of the prior score per power (at least one)"),
    }

    def check(self, world: World, events: Mapping[str, Event], fail: Fail) -> None:
        if not any(k.startswith("anchor.") for k in self.numbers):
            example = ", ".join(f"{p} = 0.1" for p in world.power_ids[:1])
            raise fail(f"a reorient needs `anchor` changes, e.g. {{{example}}}", "anchor")

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        update_anchor(
            ens, m, self.refs["faction"], v, lambda old, val: np.clip(old + val, 0.0, 1.0)
        )
        return None


class Election(Event):
    """A contest for power outside unrest, decided by legitimacy."""

    kind = "election"
    summary = (
        "A contest for power in `state` outside unrest: each faction's power share is "
        "multiplied by exp(`swing` x its legitimacy) and the state's shares are rescaled to "
        "sum to 1, so factions with more legitimacy gain share. (Legitimacy moves shares "
        "only during unrest or at an election.)"
    )
    fields: ClassVar[dict[str, Spec]] = {
        "state": Ref("state", doc="the state that votes"),
        "swing": Number(
            0.0,
            10.0,
            default=1.0,
            doc="log-share gain per unit of legitimacy (default 1: a legitimacy gap of 0.3 "
            "moves the log share ratio of two factions by 0.3)",
        ),
    }

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        members = np.flatnonzero(ens.state_of == self.refs["state"])
        log_gain = v["swing"][:, None] * ens.legit[:, members]
        grown = ens.share[:, members] * np.exp(log_gain - log_gain.max(axis=1, keepdims=True))
        new = grown / grown.sum(axis=1, keepdims=True)
        ens.share[:, members] = np.where(m[:, None], new, ens.share[:, members])
        return None


class Join(Event):
    """A state joins an institution."""

    kind = "join"
    summary = (
        "State `state` becomes a member of institution `institution`: from then on the pull "
        "of the institution's leader on the institution's channel, on the state's factions, "
        "carries the institutional multiplier (1 + institution_gain x credibility). "
        "Recorded as having no effect where the state is already a member."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "state": Ref("state", doc="the state that joins"),
        "institution": Ref("institution", doc="the institution it joins"),
    }
    member: ClassVar[float] = 1.0

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        i, s = self.refs["institution"], self.refs["state"]
        before = ens.membership[:, i, s].copy()
        ens.membership[:, i, s] = np.where(m, self.member, before)
        changed: np.ndarray = m & (before != self.member)
        return changed


class Leave(Join):
    """A state leaves an institution."""

    kind = "leave"
    summary = (
        "State `state` leaves institution `institution`: the institutional multiplier no "
        "longer applies to its factions. Recorded as having no effect where the state is not "
        "a member."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "state": Ref("state", doc="the state that leaves"),
        "institution": Ref("institution", doc="the institution it leaves"),
    }
    member: ClassVar[float] = 0.0


class Statement(Event):
    """A diplomatic statement with its face cost or gain."""

    kind = "statement"
    summary = (
        "A power's statement: its reputation changes by `face` (a cost if negative) in "
        "every state's eyes, weighted by `perception_locality` (by closeness to `state`, "
        "or without a state by each state's exposure to the speaker); optionally an "
        "institution's credibility changes by `credibility`."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "power": Ref("power", doc="the speaker"),
        "face": Number(-1.0, 1.0, doc="reputation change of the speaker"),
        "state": Ref(
            "state",
            required=False,
            doc="where it is said or done; without it the statement is region-wide",
        ),
        "institution": Ref("institution", required=False, doc="an institution affected"),
        "credibility": Number(-1.0, 1.0, default=0.0, doc="credibility change of `institution`"),
    }

    def check(self, world: World, events: Mapping[str, Event], fail: Fail) -> None:
        if "institution" not in self.refs and self.numbers["credibility"].args != (0.0,):
            raise fail("`credibility` needs an `institution`", "institution")

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        p = self.refs["power"]
        reach = ens.reach(self.refs.get("state"), p)  # (R, S); all 1 at locality 0
        ens.rep[:, :, p] = _clip01(ens.rep[:, :, p] + np.where(m, v["face"], 0.0)[:, None] * reach)
        if "institution" in self.refs:
            i = self.refs["institution"]
            ens.cred[:, i] = _clip01(ens.cred[:, i] + np.where(m, v["credibility"], 0.0))
        return None


class PolicyShift(Event):
    """A state re-orients one channel toward a power (e.g. prioritising EAEU integration)."""

    kind = "policy_shift"
    summary = (
        "Moves the fraction `amount` of the other powers' tie strength on `channel` in "
        "`state` to power `toward` (capped at 1)."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "state": Ref("state", doc="the state that shifts"),
        "channel": Ref("channel", doc="the channel that moves"),
        "toward": Ref("power", doc="the power it moves toward"),
        "amount": Number(0.0, 1.0, doc="fraction of the other powers' ties moved"),
    }

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        s, c, p = self.refs["state"], self.refs["channel"], self.refs["toward"]
        others = [q for q in range(len(ens.world.powers)) if q != p]
        moved = ens.ties[:, s, others, c] * np.where(m, v["amount"], 0.0)[:, None]
        ens.ties[:, s, others, c] -= moved
        ens.ties[:, s, p, c] = np.minimum(ens.ties[:, s, p, c] + moved.sum(axis=1), 1.0)
        if c == ens.econ:
            ens.rebase_econ(s, m)
        return None


#: Actor quantities a `set`/`shift` event may write: (actor kind, low, high, the
#: `Ensemble` array it writes, with one column per actor of that kind).
QUANTITIES: dict[str, tuple[str, float, float, str]] = {
    "reputation": ("power", 0.0, 1.0, "rep"),
    "reputation_baseline": ("power", 0.0, 1.0, "rep_base"),
    "credibility": ("institution", 0.0, 1.0, "cred"),
    "credibility_baseline": ("institution", 0.0, 1.0, "cred_base"),
    "legitimacy": ("faction", 0.0, 1.0, "legit"),
    "susceptibility": ("faction", 0.0, 1.0, "lam"),
    "autonomy": ("state", 1e-9, 100.0, "autonomy"),
}


class SetValue(Event):
    """Set a documented parameter, or an actor quantity, to a value."""

    kind = "set"
    summary = (
        "Sets a global parameter (`param`, no `actor`) or an actor quantity (`param` in "
        f"{', '.join(QUANTITIES)}, with `actor`) to `value`."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "param": Text(doc="a documented parameter or an actor quantity"),
        "actor": Text(required=False, doc="the actor, for actor quantities"),
        "value": Number(-1e9, 1e9, doc="the new value (or the change, for `shift`)"),
    }
    shift: ClassVar[bool] = False

    def target(self) -> tuple[str, str | None, float, float]:
        return self._target

    def check(self, world: World, events: Mapping[str, Event], fail: Fail) -> None:
        name, actor = self.raw["param"], self.raw.get("actor")
        params = parameters()
        if name in QUANTITIES:
            kind, lo, hi, _ = QUANTITIES[name]
            ids = world.kinds[kind]
            if actor not in ids:
                raise fail(
                    f"{name} needs a {kind} `actor`, got {excerpt(actor)}",
                    "actor",
                    suggest(actor, ids),
                )
        elif name in params:
            prm = params[name]
            if not prm.numeric:
                raise fail(f"'{name}' is a choice; set it in [params], not by an event", "param")
            if actor is not None:
                raise fail(f"'{name}' is a global parameter and takes no `actor`", "actor")
            lo, hi = float(prm.low), float(prm.high)  # type: ignore[arg-type]
        else:
            names = [*params, *QUANTITIES]
            raise fail(
                f"unknown parameter '{name}'; {one_of(names)}", "param", suggest(name, names)
            )
        span = hi - lo
        rng = (-span, span) if self.shift else (lo, hi)
        # re-check the value (constant or distribution) against this target's own range
        self.numbers["value"] = parse_number(
            self.raw["value"],
            Number(*rng),
            lambda msg: fail(
                f"{msg} (the range of '{name}'{' changes' if self.shift else ''})", "value"
            ),
        )
        self._target = (name, actor, lo, hi)

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        name, actor, lo, hi = self._target
        if actor is None:
            arr, col = ens.params[name], None
        else:
            arr, col = getattr(ens, QUANTITIES[name][3]), ens.world.index[actor]
        # a power's reputation is held per perceiving state, (R, S, P): write every state
        cur = arr[..., col] if col is not None else arr
        extra = (slice(None), *([None] * (cur.ndim - 1)))
        value, mask = v["value"][extra], m[extra]
        new = np.clip(cur + value if self.shift else value, lo, hi)
        if col is not None:
            arr[..., col] = np.where(mask, new, cur)
        else:
            arr[:] = np.where(mask, new, cur)
        if name == "flow_tie_elasticity":  # the economic ties follow the new elasticity now
            ens.flows_changed()
        return None


class ShiftValue(SetValue):
    """Change a documented parameter, or an actor quantity, by an amount."""

    kind = "shift"
    summary = "Like `set`, but adds `value` to the current value (clipped to the range)."
    shift = True


# ---------------------------------------------------------------------------------------
# what came after: force, sanctions, the economy, institutions, votes and commitments


def _states(ens: Ensemble, refs: list[int] | None) -> np.ndarray:
    """The states an event names (all states for an empty list)."""
    return np.asarray(refs) if refs else np.arange(ens.S)


class War(Event):
    """A power uses force against a state, in the world or outside it."""

    kind = "war"
    summary = (
        "Power `power` uses force against `target` (a state of the world, or a label for "
        'one outside it, e.g. "UA"). Each state\'s threat perception of the power rises by '
        "`threat` x `intensity` x its exposure to the power (the world's [[exposures]]; 1 for "
        "the target itself), and the power's reputation in its eyes falls by `reputation` x "
        "`intensity` x the same exposure, the fraction `lasting` of it for good (the rest "
        "fades at reputation_relaxation). Sanctions that follow are separate `sanction` events."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "power": Ref("power", doc="the power that uses force"),
        "target": Text(doc="the state attacked: a state id of the world or a label (e.g. UA)"),
        "intensity": Number(0.0, 1.0, doc="scale of the use of force, 0 to 1 (a full invasion)"),
        "threat": Number(
            0.0, 5.0, default=0.5, doc="threat perception added per unit intensity x exposure"
        ),
        "reputation": Number(
            0.0, 1.0, default=0.1, doc="reputation lost per unit intensity x exposure"
        ),
        "lasting": Number(
            0.0, 1.0, default=0.5, doc="fraction of the reputation loss that does not fade"
        ),
    }

    def check(self, world: World, events: Mapping[str, Event], fail: Fail) -> None:
        target = self.raw["target"]
        if not target.strip() or len(target) > 64:
            raise fail('`target` needs a short label (a state id or e.g. "UA")', "target")
        if target in world.power_ids:
            raise fail(
                "a war between the world's powers is outside this model; name a state", "target"
            )
        if world.kind_of(target) in ("faction", "institution"):
            kind = world.kind_of(target)
            article = "an" if kind == "institution" else "a"
            raise fail(f"'{target}' is {article} {kind}; name a state", "target")
        if target in world.aliases:
            actor = world.aliases[target]
            raise fail(
                f"'{target}' is the name of '{actor}'; write the id"
                + ("" if world.kind_of(actor) == "state" else " of a state"),
                "target",
                actor if world.kind_of(actor) == "state" else None,
            )

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        p = self.refs["power"]
        exposure = ens.exposure[:, p].copy()
        target = self.raw["target"]
        if ens.world.kind_of(target) == "state":
            exposure[ens.world.index[target]] = 1.0
        scale = np.where(m, v["intensity"], 0.0)[:, None] * exposure[None, :]  # (R, S)
        ens.threat[:, :, p] += v["threat"][:, None] * scale
        loss = v["reputation"][:, None] * scale
        ens.rep[:, :, p] = _clip01(ens.rep[:, :, p] - loss)
        ens.rep_base[:, :, p] = _clip01(ens.rep_base[:, :, p] - v["lasting"][:, None] * loss)
        return None


class Sanction(Event):
    """Third parties sanction a power; its trade is lost or rerouted."""

    kind = "sanction"
    summary = (
        "Parties outside the world sanction power `power`. Of `volume` (USD bn a year of the "
        "power's trade with them), the share `lost` disappears, the share `neighbours` is "
        "rerouted through the world's states (added to each state's trade with the power in "
        "proportion to that trade) and the share `other` goes to the other powers (outside "
        "the world's flows, so it moves no state's books). With `secondary`, each state also "
        "loses that fraction of its own trade and lending with the power (secondary-sanction "
        "risk). The shares' means must sum to 1."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "power": Ref("power", doc="the sanctioned power"),
        "volume": Number(0.0, 10000.0, doc="the power's trade affected, USD bn per year"),
        "lost": Number(0.0, 1.0, doc="share of `volume` lost"),
        "neighbours": Number(0.0, 1.0, doc="share rerouted through the world's states"),
        "other": Number(0.0, 1.0, default=0.0, doc="share rerouted to the other powers"),
        "secondary": Number(
            0.0, 1.0, default=0.0, doc="fraction of the states' own trade and lending lost"
        ),
    }

    def check(self, world: World, events: Mapping[str, Event], fail: Fail) -> None:
        total = sum(self.numbers[k].mean for k in ("lost", "neighbours", "other"))
        if abs(total - 1.0) > 1e-6:
            raise fail(
                f"`lost`, `neighbours` and `other` must sum to 1 (their means sum to {total:.4g})",
                "lost",
            )
        if not world.has_economy:
            raise fail("a sanction moves flows; this world declares no [[flows]]", "power")

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        p = self.refs["power"]
        trade = ens.flows[:, :, p, TRADE]  # (R, S)
        total = trade.sum(axis=1, keepdims=True)
        weight = np.where(total > 0, trade / np.maximum(total, 1e-300), 0.0)
        keep = 1.0 - np.where(m, v["secondary"], 0.0)[:, None]
        rerouted = np.where(m, v["neighbours"] * v["volume"], 0.0)[:, None] * weight
        ens.flows[:, :, p, TRADE] = trade * keep + rerouted
        ens.flows[:, :, p, LENDING] *= keep
        ens.flows_changed()
        return None


#: The lowest growth rate a flow can have (per year): a flow can shrink, not vanish in a year.
GROWTH_FLOOR = -0.9


class Trend(Event):
    """A flow's growth rate changes from a date."""

    kind = "trend"
    summary = (
        "From its date, the flow `flow` of `state` (every state without one) with `partner` "
        "(a power, or `rest` for the rest of the world) grows at `growth` a year. The flows "
        "then move the economic ties (flow_tie_elasticity)."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "flow": Text(doc="which flow", choices=FLOW_KINDS),
        "partner": Text(doc="a power id, or `rest` (the rest of the world)"),
        "growth": Number(GROWTH_FLOOR, 2.0, doc="growth rate per year (0.05 = 5% a year)"),
        "state": Ref("state", required=False, doc="the state (default: every state)"),
    }

    def check(self, world: World, events: Mapping[str, Event], fail: Fail) -> None:
        partner = self.raw["partner"]
        options = [*world.power_ids, "rest"]
        if partner not in options:
            raise fail(
                f"unknown partner {excerpt(partner)}; {one_of(options)}",
                "partner",
                suggest(partner, options, world.aliases),
            )
        if not world.has_economy:
            raise fail("a trend moves flows; this world declares no [[flows]]", "flow")

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        partner = self.raw["partner"]
        q = ens.P if partner == "rest" else ens.world.index[partner]
        k = FLOW_KINDS.index(self.raw["flow"])
        states = [self.refs["state"]] if "state" in self.refs else list(range(ens.S))
        for s in states:
            ens.growth[:, s, q, k] = np.where(m, v["growth"], ens.growth[:, s, q, k])
        ens.growth_changed()
        return None


class Suspend(Leave):
    """A state's membership in an institution is suspended."""

    kind = "suspend"
    summary = (
        "State `state`'s membership of `institution` is suspended (frozen participation): "
        "like `leave`, the institutional multiplier no longer applies to its factions, "
        "until a `join` restores it. Recorded as having no effect where it is not a member."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "state": Ref("state", doc="the state whose membership is suspended"),
        "institution": Ref("institution", doc="the institution"),
    }


class Establish(Event):
    """An institution declared in the world as not yet active is established."""

    kind = "establish"
    summary = (
        "Institution `institution` (declared in the world with `active = false`) starts "
        "working: from then on its members' factions feel its multiplier. Recorded as "
        "having no effect where it is already active."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "institution": Ref("institution", doc="the institution established"),
    }

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        i = self.refs["institution"]
        before = ens.active[:, i].copy()
        ens.active[:, i] = np.where(m, 1.0, before)
        changed: np.ndarray = m & (before != 1.0)
        return changed


#: A state's stance in a roll call, as recorded in the votes table.
STANCES = ("yes", "no", "abstain", "absent")


class Vote(Event):
    """A roll call on a motion for or against a power; each state's stance is drawn."""

    kind = "vote"
    summary = (
        "A roll call (e.g. at the UN General Assembly) on a motion aimed `against` power "
        "`power` or sponsored by it (`for`). Each state in `states` (every state without the "
        "list) is absent with probability `absent`; otherwise its stance is drawn from an "
        "ordered logit on its alignment a toward the power: with L = `slope` x (a − "
        "`threshold`) and c = `abstain` + `hedge_width` x h, where h is the state's autonomy "
        "share (the weight its factions give to no power, hedging included), it sides with "
        "the power with probability σ(L − c), against it with σ(−L − c), and abstains "
        "otherwise. The stances are an output: the votes table beside events.csv."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "power": Ref("power", doc="the power the motion is about"),
        "side": Text(
            doc="the motion is `against` the power or sponsored `for` it",
            choices=("against", "for"),
        ),
        "motion": Text(required=False, doc='a label for the motion (e.g. "A/ES-11/1")'),
        "states": RefList("state", doc="the states that vote (default: every state)"),
        "slope": Number(0.0, 100.0, default=10.0, doc="steepness of the response to alignment"),
        "threshold": Number(
            0.0, 1.0, default=0.3, doc="alignment toward the power at which a state is torn"
        ),
        "abstain": Number(
            0.0, 10.0, default=0.5, doc="half-width of the abstention band without hedging"
        ),
        "hedge_width": Number(
            0.0, 50.0, default=4.0, doc="added half-width per unit of autonomy share"
        ),
        "absent": Number(0.0, 1.0, default=0.02, doc="probability that a state does not vote"),
    }

    @property
    def random(self) -> bool:
        """Always random: each state's stance is drawn."""
        return True

    def uniforms(self, world: World) -> int:
        """Uniform draws per replicate: two per state (absence, then stance)."""
        return 2 * len(world.states)

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        p = self.refs["power"]
        states = _states(ens, self.refs["states"])
        al = ens.alignment()[:, states, p]  # (R, n)
        h = ens.autonomy_share()[:, states]
        L = v["slope"][:, None] * (al - v["threshold"][:, None])
        c = v["abstain"][:, None] + v["hedge_width"][:, None] * h
        p_with = 1.0 / (1.0 + np.exp(-(L - c)))
        p_against = 1.0 / (1.0 + np.exp(-(-L - c)))
        # drawn in canonical (sorted-id) order of the states, so reordering a world file's
        # states relabels the draws with them instead of reshuffling them
        canon = np.argsort(np.argsort(ens.world.state_ids))
        u = v["_uniforms"].reshape(ens.R, -1, 2)[:, canon][:, states]  # (R, n, 2)
        with_power, against = (1, 0) if self.raw["side"] == "against" else (0, 1)
        stance = np.where(
            u[..., 1] < p_with,
            with_power,
            np.where(u[..., 1] < p_with + p_against, against, 2),
        )
        stance = np.where(u[..., 0] < v["absent"][:, None], 3, stance)
        record = ens.votes.setdefault(self.id, np.full((ens.R, ens.S), -1, dtype=np.int8))
        record[np.ix_(m, states)] = stance[m].astype(np.int8)
        return None


class Summit(Event):
    """A power's commitment to a state or group, made at a summit."""

    kind = "summit"
    summary = (
        "Power `power` commits to `states` (every state without the list): each state's "
        "lending stock from the power grows by `lending` (USD bn), its trade with the power "
        "gains `trade_growth` a year of growth, its tie to the power on `channel` changes by "
        "`tie`, and the power's standing in its eyes changes by `face` (fading at "
        "reputation_relaxation); optionally `institution`'s credibility changes by "
        "`credibility`. A `treaty` is the same commitment made binding: its `face` lasts."
    )
    fields: ClassVar[dict[str, Spec]] = {
        "power": Ref("power", doc="the power that commits"),
        "states": RefList("state", doc="the states it commits to (default: every state)"),
        "lending": Number(0.0, 1000.0, default=0.0, doc="lending or investment pledged, USD bn"),
        "trade_growth": Number(
            -0.5, 1.0, default=0.0, doc="added growth of trade with the power, per year"
        ),
        "channel": Ref("channel", required=False, doc="a channel whose tie changes"),
        "tie": Number(-1.0, 1.0, default=0.0, doc="tie change on `channel` (capped to [0, 1])"),
        "face": Number(-1.0, 1.0, default=0.0, doc="reputation change in the states' eyes"),
        "institution": Ref("institution", required=False, doc="an institution affected"),
        "credibility": Number(-1.0, 1.0, default=0.0, doc="credibility change of `institution`"),
    }
    lasting: ClassVar[bool] = False

    def check(self, world: World, events: Mapping[str, Event], fail: Fail) -> None:
        if "channel" not in self.refs and self.numbers["tie"].args != (0.0,):
            raise fail("`tie` needs a `channel`", "channel")
        if "institution" not in self.refs and self.numbers["credibility"].args != (0.0,):
            raise fail("`credibility` needs an `institution`", "institution")
        moves_flows = any(self.numbers[k].args != (0.0,) for k in ("lending", "trade_growth"))
        if moves_flows and not world.has_economy:
            raise fail(
                "`lending` and `trade_growth` move flows; this world has no [[flows]]", "lending"
            )

    def apply(self, ens: Ensemble, m: np.ndarray, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        p = self.refs["power"]
        states = _states(ens, self.refs["states"])
        mm = m[:, None]
        lend = np.where(m, v["lending"], 0.0)[:, None]
        if lend.any():
            ens.flows[:, states, p, LENDING] += lend
            ens.flows_changed()
        grown = ens.growth[:, states, p, TRADE] + np.where(m, v["trade_growth"], 0.0)[:, None]
        ens.growth[:, states, p, TRADE] = np.maximum(grown, GROWTH_FLOOR)
        ens.growth_changed()
        if "channel" in self.refs:
            ens.shift_tie(states, p, self.refs["channel"], v["tie"], m)
        face = np.where(mm, v["face"][:, None], 0.0)
        ens.rep[:, states, p] = _clip01(ens.rep[:, states, p] + face)
        if self.lasting:
            ens.rep_base[:, states, p] = _clip01(ens.rep_base[:, states, p] + face)
        if "institution" in self.refs:
            i = self.refs["institution"]
            ens.cred[:, i] = _clip01(ens.cred[:, i] + np.where(m, v["credibility"], 0.0))
        return None


class Treaty(Summit):
    """A binding commitment: a summit whose standing gain lasts."""

    kind = "treaty"
    summary = (
        "Like `summit`, but binding: the change of standing (`face`) also moves the "
        "reputation baseline, so it does not fade."
    )
    lasting: ClassVar[bool] = True
