"""Worlds: actors, channels, ties and indicators, loaded from a TOML world file.

A world file is data only: powers, states, factions, institutions, the tie strengths per
channel and the initial conditions, every number with its ``source`` or marked as an
``assumption`` with a line of reasoning. No actor name appears in the Python code, so a third
power or another region needs only a new world file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from .._io import parse_toml, path_exists, read_input
from ..errors import ID_PATTERN, InputError, Where, WorldError, bad_id, excerpt, suggest

__all__ = ["Faction", "Institution", "Power", "State", "World", "available_worlds", "load_world"]

#: Tolerance for "sums to 1" checks on shares and sensitivities.
SUM_TOL = 1e-6
#: The sections of a world file.
WORLD_SECTIONS = frozenset(
    {
        "world",
        "powers",
        "states",
        "factions",
        "institutions",
        "ties",
        "links",
        "economies",
        "flows",
        "exposures",
    }
)
#: The economic flows per state and power, in USD bn: trade turnover (per year), remittances
#: received (per year) and the lending or investment stock.
FLOW_KINDS = ("trade", "remittances", "lending")
#: Positions of the flows along the last axis of `World.flow_array` and `Ensemble.flows`.
TRADE, REMITTANCES, LENDING = (FLOW_KINDS.index(k) for k in FLOW_KINDS)
#: The state-wide totals of the flows (all partners), per state in ``[[economies]]``.
FLOW_TOTALS = {k: f"{k}_total" for k in FLOW_KINDS}


@dataclass(frozen=True, kw_only=True)
class Power:
    """A great power: a stubborn actor with value 1 on its own dimension."""

    id: str
    name: str
    reputation: float
    position: tuple[float, float] | None = None
    color: str | None = None


@dataclass(frozen=True, kw_only=True)
class State:
    """A state whose factions are the agents of influence."""

    id: str
    name: str
    population: float
    gdp: float
    corridor_km: float
    autonomy: float
    position: tuple[float, float] | None = None


@dataclass(frozen=True, kw_only=True)
class Faction:
    """A faction inside a state, with its power share and its orientation."""

    id: str
    name: str
    state: str
    share: float
    susceptibility: float
    legitimacy: float
    sensitivity: Mapping[str, float]
    anchor: Mapping[str, float]
    #: whether the faction is its state's public, the one whose opinion polls measure
    public: bool = False


@dataclass(frozen=True, kw_only=True)
class Institution:
    """A regional institution led by one power."""

    id: str
    name: str
    leader: str
    channel: str
    members: tuple[str, ...]
    credibility: float
    active: bool = True


@dataclass(frozen=True, kw_only=True)
class World:
    """A validated world: actor records plus the index arrays the kernel works on.

    The arrays follow the order of the world file; ``index`` maps any actor id to its
    position within its kind.
    """

    name: str
    title: str
    path: str
    sha256: str
    as_of: date | None
    channels: tuple[str, ...]
    balance: tuple[str, str]
    corridor_power: str
    powers: tuple[Power, ...]
    states: tuple[State, ...]
    factions: tuple[Faction, ...]
    institutions: tuple[Institution, ...]
    links: tuple[tuple[str, str, float], ...]
    ties: Mapping[tuple[str, str], Mapping[str, float]] = field(repr=False)
    #: the channel whose tie strength follows the flows (None: no channel does)
    economic_channel: str | None = None
    #: per state, the totals of each flow with all partners (``trade_total`` ...), USD bn
    economies: Mapping[str, Mapping[str, float]] = field(default_factory=dict, repr=False)
    #: per (state, power), the flows (``trade``, ``remittances``, ``lending``), USD bn
    flows: Mapping[tuple[str, str], Mapping[str, float]] = field(default_factory=dict, repr=False)
    #: per (state, power), the state's exposure to the power's use of force, in [0, 1]
    exposures: Mapping[tuple[str, str], float] = field(default_factory=dict, repr=False)

    # ---- ids and indices -------------------------------------------------------------
    @cached_property
    def power_ids(self) -> tuple[str, ...]:
        """Power ids in world order."""
        return tuple(p.id for p in self.powers)

    @cached_property
    def state_ids(self) -> tuple[str, ...]:
        """State ids in world order."""
        return tuple(s.id for s in self.states)

    @cached_property
    def faction_ids(self) -> tuple[str, ...]:
        """Faction ids in world order."""
        return tuple(f.id for f in self.factions)

    @cached_property
    def institution_ids(self) -> tuple[str, ...]:
        """Institution ids in world order."""
        return tuple(i.id for i in self.institutions)

    @cached_property
    def kinds(self) -> dict[str, tuple[str, ...]]:
        """Actor ids by kind: ``power``, ``state``, ``faction``, ``institution``."""
        return {
            "power": self.power_ids,
            "state": self.state_ids,
            "faction": self.faction_ids,
            "institution": self.institution_ids,
        }

    @cached_property
    def aliases(self) -> dict[str, str]:
        """Full names of powers, states and institutions -> their ids (for suggestions)."""
        out = {p.name: p.id for p in self.powers}
        out.update({s.name: s.id for s in self.states})
        out.update({i.name: i.id for i in self.institutions})
        return out

    @cached_property
    def index(self) -> dict[str, int]:
        """Position of every actor id within its kind."""
        out: dict[str, int] = {}
        for ids in self.kinds.values():
            out.update({a: k for k, a in enumerate(ids)})
        return out

    @cached_property
    def _kind_index(self) -> dict[str, str]:
        return {a: kind for kind, ids in self.kinds.items() for a in ids}

    def kind_of(self, actor: str) -> str | None:
        """Return the kind of an actor id, or None when it is unknown."""
        return self._kind_index.get(actor)

    # ---- arrays for the kernel ---------------------------------------------------------
    @cached_property
    def faction_state(self) -> np.ndarray:
        """State index of each faction, shape (F,)."""
        return np.array([self.index[f.state] for f in self.factions], dtype=np.intp)

    def faction_array(self, attr: str) -> np.ndarray:
        """A scalar faction attribute as an array of shape (F,)."""
        return np.array([getattr(f, attr) for f in self.factions], dtype=float)

    def state_array(self, attr: str) -> np.ndarray:
        """A scalar state attribute as an array of shape (S,)."""
        return np.array([getattr(s, attr) for s in self.states], dtype=float)

    @cached_property
    def sensitivity(self) -> np.ndarray:
        """Channel sensitivities, shape (F, C)."""
        return np.array([[f.sensitivity[c] for c in self.channels] for f in self.factions])

    @cached_property
    def anchor(self) -> np.ndarray:
        """Initial (prior) scores x0, shape (F, P)."""
        return np.array([[f.anchor.get(p, 0.0) for p in self.power_ids] for f in self.factions])

    @cached_property
    def tie_array(self) -> np.ndarray:
        """Tie strengths per state, power and channel, shape (S, P, C); absent pairs are 0."""
        out = np.zeros((len(self.states), len(self.powers), len(self.channels)))
        for (s, p), chans in self.ties.items():
            for c, v in chans.items():
                out[self.index[s], self.index[p], self.channels.index(c)] = v
        return out

    @cached_property
    def institution_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Leader one-hot (I, P), channel one-hot (I, C) and state membership (I, S)."""
        n_i = len(self.institutions)
        lead = np.zeros((n_i, len(self.powers)))
        chan = np.zeros((n_i, len(self.channels)))
        memb = np.zeros((n_i, len(self.states)))
        for k, inst in enumerate(self.institutions):
            lead[k, self.index[inst.leader]] = 1.0
            chan[k, self.channels.index(inst.channel)] = 1.0
            for m in inst.members:
                if self.kind_of(m) == "state":
                    memb[k, self.index[m]] = 1.0
        return lead, chan, memb

    @cached_property
    def public_faction(self) -> np.ndarray:
        """Each state's public faction (index into the factions), or -1 without one, (S,)."""
        out = np.full(len(self.states), -1, dtype=np.int64)
        for j, f in enumerate(self.factions):
            if f.public:
                out[self.index[f.state]] = j
        return out

    @cached_property
    def institution_active(self) -> np.ndarray:
        """Whether each institution is active at the start (I,): 0 until `establish`."""
        return np.array([1.0 if i.active else 0.0 for i in self.institutions])

    @property
    def has_economy(self) -> bool:
        """Whether the world declares economic flows (the economy measures need them)."""
        return bool(self.flows)

    @cached_property
    def flow_array(self) -> np.ndarray:
        """Flows per state, partner and kind, shape (S, P + 1, K), USD bn.

        Partners are the powers, then the rest of the world: a state's declared total less
        its flows with the powers (0 where no total is declared). K follows `FLOW_KINDS`.
        """
        S, P = len(self.states), len(self.powers)
        out = np.zeros((S, P + 1, len(FLOW_KINDS)))
        for (s, p), vals in self.flows.items():
            for k, kind in enumerate(FLOW_KINDS):
                out[self.index[s], self.index[p], k] = vals.get(kind, 0.0)
        for s, totals in self.economies.items():
            for k, kind in enumerate(FLOW_KINDS):
                if FLOW_TOTALS[kind] in totals:
                    j = self.index[s]
                    out[j, P, k] = max(totals[FLOW_TOTALS[kind]] - out[j, :P, k].sum(), 0.0)
        return out

    @cached_property
    def exposure_array(self) -> np.ndarray:
        """Exposure of each state to each power's use of force, shape (S, P); absent pairs 0."""
        out = np.zeros((len(self.states), len(self.powers)))
        for (s, p), v in self.exposures.items():
            out[self.index[s], self.index[p]] = v
        return out

    @cached_property
    def comembership(self) -> np.ndarray:
        """Institutional closeness of each pair of states, shape (S, S), 1 on the diagonal.

        For two states, the share of the institutions either belongs to that both belong to
        (the Jaccard index of their memberships of the institutions active at the start; 0
        when neither belongs to any).
        """
        memb = (self.institution_arrays[2] > 0) & (self.institution_active[:, None] > 0)
        both = (memb[:, :, None] & memb[:, None, :]).sum(axis=0)
        either = (memb[:, :, None] | memb[:, None, :]).sum(axis=0)
        out: np.ndarray = np.where(either > 0, both / np.maximum(either, 1), 0.0)
        np.fill_diagonal(out, 1.0)
        return out

    @cached_property
    def peer_matrices(self) -> tuple[sparse.csr_array, sparse.csr_array]:
        """Intra-state peer structure and cross-border links, both (F, F) sparse.

        The intra-state matrix has 1 for every ordered pair of distinct factions of one state
        (the kernel scales it by ``peer_weight``); the link matrix holds the explicit link
        weights (row listens to column).
        """
        n = len(self.factions)
        st = self.faction_state
        order = np.argsort(st, kind="stable")
        rows, cols = [], []
        bounds = np.searchsorted(st[order], np.arange(len(self.states) + 1))
        for s in range(len(self.states)):
            members = order[bounds[s] : bounds[s + 1]]
            if len(members) > 1:
                r, c = np.meshgrid(members, members, indexing="ij")
                keep = r != c
                rows.append(r[keep])
                cols.append(c[keep])
        r_all = np.concatenate(rows) if rows else np.zeros(0, np.intp)
        c_all = np.concatenate(cols) if cols else np.zeros(0, np.intp)
        intra = sparse.csr_array((np.ones(len(r_all)), (r_all, c_all)), shape=(n, n))
        lr = [self.index[a] for a, _, _ in self.links]
        lc = [self.index[b] for _, b, _ in self.links]
        lw = [w for _, _, w in self.links]
        links = sparse.csr_array((np.array(lw, dtype=float), (lr, lc)), shape=(n, n))
        return intra, links


# ---------------------------------------------------------------------------------------
# loading


def available_worlds() -> list[str]:
    """Names of the worlds shipped with the package."""
    root = resources.files("influence_sim") / "data" / "worlds"
    return sorted(p.name.removesuffix(".toml") for p in root.iterdir() if p.name.endswith(".toml"))


def resolve_world_path(ref: str | Path, *, relative_to: Path | None = None) -> Path:
    """Turn a world name or path into a file path.

    A bare name (no ``/`` and no ``.toml``) is looked up among the shipped worlds; anything
    else is a path, relative to ``relative_to`` when given.
    """
    ref_s = str(ref)
    if "/" not in ref_s and not ref_s.endswith(".toml"):
        root = resources.files("influence_sim") / "data" / "worlds"
        cand = Path(str(root / f"{ref_s}.toml"))
        if path_exists(cand):
            return cand
        raise WorldError(
            f"no shipped world named {excerpt(ref_s)}; shipped: {', '.join(available_worlds())}",
            suggestion=suggest(ref_s, available_worlds()),
        )
    path = Path(ref_s)
    if not path.is_absolute() and relative_to is not None:
        path = relative_to / path
    return path


class _Reader:
    """Field access on one TOML table with errors that name file, item and field."""

    def __init__(self, table: Any, *, file: Path, item: str, error: type = WorldError) -> None:
        self.file, self.item, self.error = file, item, error
        if not isinstance(table, dict):
            raise self.fail(f"expected a table, got {type(table).__name__}")
        self.table = table

    def fail(
        self, message: str, field: str | None = None, suggestion: str | None = None
    ) -> InputError:
        return Where(self.error, self.file, self.item).fail(message, field, suggestion)

    def check_keys(self, allowed: set[str]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.fail(
                    f"unknown field; allowed: {', '.join(sorted(allowed))}",
                    field=key,
                    suggestion=suggest(key, allowed),
                )

    def text(self, key: str, default: str | None = None) -> str:
        if key not in self.table:
            if default is not None:
                return default
            raise self.fail("missing required field", field=key)
        val = self.table[key]
        if not isinstance(val, str) or not val.strip():
            raise self.fail(f"expected a non-empty string, got {excerpt(val)}", field=key)
        return val

    def ident(self, key: str) -> str:
        """An id field (see `influence_sim.errors.ID_PATTERN`)."""
        val = self.text(key)
        problem = bad_id(val, "an id")
        if problem:
            raise self.fail(problem, field=key)
        return val

    def text_list(self, key: str) -> list[str]:
        val = self.table.get(key)
        if not isinstance(val, list) or not all(isinstance(v, str) for v in val):
            raise self.fail(f"expected a list of strings, got {excerpt(val)}", field=key)
        return val

    def number(
        self, key: str, *, lo: float = -np.inf, hi: float = np.inf, lo_open: bool = False
    ) -> float:
        """A sourced number: ``{value = X, source = "..."}`` or ``{..., assumption = "..."}``."""
        if key not in self.table:
            raise self.fail("missing required field", field=key)
        return self.sourced(self.table[key], key, lo=lo, hi=hi, lo_open=lo_open)

    def sourced(
        self,
        val: Any,
        key: str,
        *,
        lo: float = -np.inf,
        hi: float = np.inf,
        lo_open: bool = False,
        extra: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> float:
        hint = 'write it as {value = X, source = "..."} or {value = X, assumption = "why"}'
        if not isinstance(val, dict):
            raise self.fail(f"a bare number has no provenance; {hint}", field=key)
        bad = set(val) - {"value", "source", "assumption", "unit", *extra}
        if bad:
            raise self.fail(f"unknown keys {sorted(bad)} in sourced number", field=key)
        if "value" not in val:
            raise self.fail(f"sourced number without 'value'; {hint}", field=key)
        prov = [val.get(k) for k in ("source", "assumption") if k in val]
        if not prov or not all(isinstance(p, str) and p.strip() for p in prov):
            raise self.fail(f"number without a 'source' or an 'assumption'; {hint}", field=key)
        return self.check_range(val["value"], key, lo=lo, hi=hi, lo_open=lo_open)

    def check_range(
        self, v: Any, key: str, *, lo: float, hi: float, lo_open: bool = False
    ) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
            raise self.fail(f"expected a number, got {excerpt(v)}", field=key)
        if v < lo or v > hi or (lo_open and v == lo):
            left = "(" if lo_open else "["
            raise self.fail(f"value {v} out of range {left}{lo}, {hi}]", field=key)
        return float(v)


def _item(kind: str, table: Any, k: int) -> str:
    """Name an item by its id when it has a usable one, else by its position."""
    tid = table.get("id") if isinstance(table, dict) else None
    if isinstance(tid, str) and ID_PATTERN.fullmatch(tid):
        return f"{kind} '{tid}'"
    return f"{kind} #{k + 1}"


def _unique(ids: list[tuple[str, str]], file: Path) -> None:
    seen: dict[str, str] = {}
    for kind, a in ids:
        if a in seen:
            raise WorldError(
                f"duplicate id (already used by a {seen[a]})", file=file, item=f"{kind} '{a}'"
            )
        seen[a] = kind


def load_world(ref: str | Path, *, relative_to: Path | None = None) -> World:
    """Load and validate a world file.

    Parameters
    ----------
    ref : str or Path
        A shipped world's name (e.g. ``"central_asia_2021"``) or a path to a TOML file.
    relative_to : Path, optional
        Directory against which a relative path is resolved (a scenario's folder).

    Returns
    -------
    World

    Raises
    ------
    WorldError
        On unknown references, shares or sensitivities that do not sum to 1, values out of
        range, duplicate ids, unknown fields or numbers without a source.
    """
    path = resolve_world_path(ref, relative_to=relative_to)
    raw = read_input(path, WorldError)
    data = parse_toml(raw, path, WorldError)
    sha = hashlib.sha256(raw).hexdigest()
    top = _Reader(data, file=path, item="world file")
    top.check_keys(set(WORLD_SECTIONS))
    for sec in ("world", "powers", "states", "factions"):
        if sec not in data:
            raise WorldError(f"missing required section [{sec}]", file=path)
    head = _Reader(data["world"], file=path, item="[world]")
    head.check_keys(
        {
            "name",
            "title",
            "description",
            "as_of",
            "channels",
            "balance",
            "corridor_power",
            "economic_channel",
        }
    )
    name = head.text("name")
    channels = tuple(head.text_list("channels"))
    if not channels or len(set(channels)) != len(channels):
        raise head.fail("channels must be a non-empty list of distinct names", field="channels")
    as_of = head.table.get("as_of")
    if as_of is not None and not isinstance(as_of, date):
        raise head.fail(f"expected a TOML date (YYYY-MM-DD), got {excerpt(as_of)}", field="as_of")

    known = _Known(channels=list(channels))
    powers = [_read_power(r) for r in _tables(data, "powers", path)]
    if not powers:
        raise WorldError("a world needs at least one power", file=path, item="[[powers]]")
    known.add("power", powers)
    states = [_read_state(r) for r in _tables(data, "states", path)]
    known.add("state", states)
    factions = [_read_faction(r, known) for r in _tables(data, "factions", path)]
    known.add("faction", factions)
    institutions = [_read_institution(r, known) for r in _tables(data, "institutions", path)]
    _unique(
        [("power", p.id) for p in powers]
        + [("state", s.id) for s in states]
        + [("faction", f.id) for f in factions]
        + [("institution", i.id) for i in institutions],
        path,
    )
    _check_shares(states, factions, path)
    ties = _read_ties(_tables(data, "ties", path, "tie"), known)
    links = [_read_link(r, known) for r in _tables(data, "links", path, "link")]
    bal = head.text_list("balance") if "balance" in head.table else known.ids["power"][:2]
    if len(bal) != 2:
        raise head.fail("balance must name two powers of this world", field="balance")
    for b in bal:
        known.check(head, b, "power", "balance")
    corridor = head.text("corridor_power", default=known.ids["power"][-1])
    known.check(head, corridor, "power", "corridor_power")
    economies = _read_economies(_tables(data, "economies", path, "economy"), known)
    flows = _read_pairs(_tables(data, "flows", path, "flow"), known, FLOW_KINDS, lo=0.0)
    _check_totals(flows, economies, path)
    exposures = {
        k: v["exposure"]
        for k, v in _read_pairs(
            _tables(data, "exposures", path, "exposure"), known, ("exposure",), hi=1.0
        ).items()
        if "exposure" in v
    }
    econ: str | None = None
    if "economic_channel" in head.table:
        econ = known.check(head, head.text("economic_channel"), "channel", "economic_channel")
    elif flows and "economic" in channels:
        econ = "economic"
    return World(
        name=name,
        title=head.text("title", default=name),
        path=str(path),
        sha256=sha,
        as_of=as_of,
        channels=channels,
        balance=(bal[0], bal[1]),
        corridor_power=corridor,
        powers=tuple(powers),
        states=tuple(states),
        factions=tuple(factions),
        institutions=tuple(institutions),
        links=tuple(links),
        ties=ties,
        economic_channel=econ,
        economies=economies,
        flows=flows,
        exposures=exposures,
    )


class _Known:
    """Ids read so far, by kind, with full names as aliases, for reference checks."""

    def __init__(self, channels: list[str]) -> None:
        self.ids: dict[str, list[str]] = {"channel": channels}
        self.aliases: dict[str, str] = {}

    def add(self, kind: str, actors: list[Any]) -> None:
        self.ids[kind] = [a.id for a in actors]
        self.aliases.update({a.name: a.id for a in actors if hasattr(a, "name")})

    def check(self, r: _Reader, value: str, kind: str, field: str) -> str:
        """``value`` if it is a known id of ``kind``, else the error listing the choices."""
        ids = self.ids[kind]
        if value not in ids:
            listed = ", ".join(ids) if len(ids) <= 12 else f"{', '.join(ids[:12])}, ..."
            raise r.fail(
                f"unknown {kind} {excerpt(value)}; one of {listed}",
                field=field,
                suggestion=suggest(value, ids, self.aliases),
            )
        return value


def _tables(data: dict[str, Any], sec: str, path: Path, label: str = "") -> list[_Reader]:
    """Readers for the tables of an array section, each named by its id or position."""
    val = data.get(sec, [])
    if not isinstance(val, list):
        raise WorldError(f"[[{sec}]] must be an array of tables", file=path, item=sec)
    kind = label or sec.rstrip("s")
    out = []
    for k, t in enumerate(val):
        r = _Reader(t, file=path, item=f"{kind} #{k + 1}" if label else _item(kind, t, k))
        out.append(r)
    return out


def _read_power(r: _Reader) -> Power:
    r.check_keys({"id", "name", "reputation", "position", "color"})
    pid = r.ident("id")
    r.item = f"power '{pid}'"
    return Power(
        id=pid,
        name=r.text("name"),
        reputation=r.number("reputation", lo=0, hi=1),
        position=_position(r),
        color=_color(r),
    )


def _read_state(r: _Reader) -> State:
    r.check_keys({"id", "name", "population", "gdp", "corridor_km", "autonomy", "position"})
    sid = r.ident("id")
    r.item = f"state '{sid}'"
    return State(
        id=sid,
        name=r.text("name"),
        population=r.number("population", lo=0, lo_open=True),
        gdp=r.number("gdp", lo=0, lo_open=True),
        corridor_km=r.number("corridor_km", lo=0),
        autonomy=r.number("autonomy", lo=0, lo_open=True),
        position=_position(r),
    )


def _faction_state(r: _Reader, fid: str, known: _Known) -> str:
    """The faction's state: its ``state`` field, else the ``STATE.`` prefix of its id."""
    state_ids = known.ids["state"]
    prefix = fid.split(".", 1)[0] if "." in fid else None
    if "state" in r.table:
        st = known.check(r, r.text("state"), "state", "state")
    elif prefix is None:
        example = state_ids[0] if state_ids else "STATE"
        raise r.fail(
            f"faction ids are STATE.name, with the id of the faction's state first, "
            f"e.g. '{example}.{fid}'",
            field="id",
        )
    elif prefix not in state_ids:
        raise r.fail(
            f"unknown state '{prefix}' (faction ids are STATE.name)",
            field="id",
            suggestion=suggest(prefix, state_ids, known.aliases),
        )
    else:
        st = prefix
    if prefix != st:
        raise r.fail(
            f"faction ids are STATE.name: '{fid}' is in state '{st}', so its id "
            f"must start with '{st}.'",
            field="id",
        )
    return st


def _read_faction(r: _Reader, known: _Known) -> Faction:
    r.check_keys(
        {
            "id",
            "name",
            "state",
            "share",
            "susceptibility",
            "legitimacy",
            "sensitivity",
            "anchor",
            "public",
        }
    )
    fid = r.ident("id")
    r.item = f"faction '{fid}'"
    st = _faction_state(r, fid, known)
    sens = _channel_map(r, "sensitivity", known)
    if abs(sum(sens.values()) - 1.0) > SUM_TOL:
        raise r.fail(
            f"sensitivities must sum to 1, they sum to {sum(sens.values()):.6g}",
            field="sensitivity",
        )
    anchor = _power_map(r, "anchor", known)
    if sum(anchor.values()) > 1.0 + SUM_TOL:
        raise r.fail(
            f"anchor scores must sum to at most 1 (the rest is autonomy), "
            f"they sum to {sum(anchor.values()):.6g}",
            field="anchor",
        )
    return Faction(
        id=fid,
        name=r.text("name"),
        state=st,
        share=r.number("share", lo=0, hi=1),
        susceptibility=r.number("susceptibility", lo=0, hi=1),
        legitimacy=r.number("legitimacy", lo=0, hi=1),
        sensitivity=sens,
        anchor=anchor,
        public=_flag(r, "public"),
    )


def _flag(r: _Reader, key: str) -> bool:
    """An optional true/false field (default false)."""
    val = r.table.get(key, False)
    if not isinstance(val, bool):
        raise r.fail(f"expected true or false, got {excerpt(val)}", field=key)
    return val


def _read_institution(r: _Reader, known: _Known) -> Institution:
    r.check_keys(
        {
            "id",
            "name",
            "leader",
            "channel",
            "members",
            "other_members",
            "members_source",
            "credibility",
            "active",
        }
    )
    iid = r.ident("id")
    r.item = f"institution '{iid}'"
    leader = known.check(r, r.text("leader"), "power", "leader")
    chan = known.check(r, r.text("channel"), "channel", "channel")
    members = r.text_list("members")
    state_ids, power_ids = known.ids["state"], known.ids["power"]
    for m in members:
        if m not in state_ids and m not in power_ids:
            raise r.fail(
                f"unknown member {excerpt(m)} (members must be powers or states of this world; "
                "list others under other_members)",
                field="members",
                suggestion=suggest(m, state_ids + power_ids, known.aliases),
            )
    if len(set(members)) != len(members):
        raise r.fail("duplicate member", field="members")
    r.text("members_source")
    active = r.table.get("active", True)
    if not isinstance(active, bool):
        raise r.fail(
            f"expected true or false (false: declared but not yet established), got "
            f"{excerpt(active)}",
            field="active",
        )
    return Institution(
        id=iid,
        name=r.text("name"),
        leader=leader,
        channel=chan,
        members=tuple(members),
        credibility=r.number("credibility", lo=0, hi=1),
        active=active,
    )


def _read_economies(readers: list[_Reader], known: _Known) -> dict[str, dict[str, float]]:
    """``[[economies]]``: per state, the totals of its flows with all partners (USD bn)."""
    out: dict[str, dict[str, float]] = {}
    totals = set(FLOW_TOTALS.values())
    for r in readers:
        st = known.check(r, r.text("state"), "state", "state")
        r.item = f"economy {st}"
        r.check_keys({"state", *totals})
        if st in out:
            raise r.fail("duplicate economy for this state")
        out[st] = {k: r.number(k, lo=0.0) for k in sorted(totals) if k in r.table}
    return out


def _read_pairs(
    readers: list[_Reader],
    known: _Known,
    fields: tuple[str, ...],
    *,
    lo: float = 0.0,
    hi: float = np.inf,
) -> dict[tuple[str, str], dict[str, float]]:
    """Tables keyed by (state, power), e.g. ``[[flows]]`` or ``[[exposures]]``."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    for r in readers:
        st = known.check(r, r.text("state"), "state", "state")
        pw = known.check(r, r.text("power"), "power", "power")
        kind = r.item.split(" ", 1)[0]
        r.item = f"{kind} {st}-{pw}"
        r.check_keys({"state", "power", *fields})
        if (st, pw) in out:
            raise r.fail(f"duplicate {kind} for this state and power")
        out[(st, pw)] = {k: r.number(k, lo=lo, hi=hi) for k in fields if k in r.table}
        if not out[(st, pw)]:
            raise r.fail(f"needs at least one of {', '.join(fields)}", field=fields[0])
    return out


def _check_totals(
    flows: Mapping[tuple[str, str], Mapping[str, float]],
    economies: Mapping[str, Mapping[str, float]],
    path: Path,
) -> None:
    """A state's declared total of a flow is at least its flows with the powers."""
    for st, totals in economies.items():
        for kind, total_key in FLOW_TOTALS.items():
            if total_key not in totals:
                continue
            with_powers = sum(v.get(kind, 0.0) for (s, _), v in flows.items() if s == st)
            if with_powers > totals[total_key] + SUM_TOL:
                raise WorldError(
                    f"{total_key} {totals[total_key]:g} is less than the {kind} with the "
                    f"powers ({with_powers:g}); the total covers all partners",
                    file=path,
                    item=f"economy {st}",
                    field=total_key,
                )


def _check_shares(states: list[State], factions: list[Faction], path: Path) -> None:
    """Every state has factions, their power shares sum to 1, and at most one is public."""
    for s in states:
        public = [f.id for f in factions if f.state == s.id and f.public]
        if len(public) > 1:
            raise WorldError(
                f"factions {', '.join(public)} are all marked public; a state has at most one "
                "public (the faction opinion polls measure)",
                file=path,
                item=f"faction '{public[1]}'",
                field="public",
            )
        own = [f.share for f in factions if f.state == s.id]
        if not own:
            raise WorldError("state has no factions", file=path, item=f"state '{s.id}'")
        if abs(sum(own) - 1.0) > SUM_TOL:
            raise WorldError(
                f"power shares of its factions must sum to 1, they sum to {sum(own):.6g}",
                file=path,
                item=f"state '{s.id}'",
                field="share",
            )


def _read_ties(readers: list[_Reader], known: _Known) -> dict[tuple[str, str], dict[str, float]]:
    channels = known.ids["channel"]
    ties: dict[tuple[str, str], dict[str, float]] = {}
    for r in readers:
        r.check_keys({"state", "power", *channels})
        st = known.check(r, r.text("state"), "state", "state")
        pw = known.check(r, r.text("power"), "power", "power")
        r.item = f"tie {st}-{pw}"
        if (st, pw) in ties:
            raise r.fail("duplicate tie for this state and power")
        ties[(st, pw)] = {c: r.number(c, lo=0, hi=1) for c in channels if c in r.table}
    return ties


def _read_link(r: _Reader, known: _Known) -> tuple[str, str, float]:
    r.check_keys({"from", "to", "weight"})
    a = known.check(r, r.text("from"), "faction", "from")
    b = known.check(r, r.text("to"), "faction", "to")
    if a == b:
        raise r.fail("a faction cannot link to itself", field="to")
    return a, b, r.number("weight", lo=0)


_HEX_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


def _color(r: _Reader) -> str | None:
    """An optional figure colour ``"#RRGGBB"`` (presentation only: no source needed)."""
    if "color" not in r.table:
        return None
    val = r.table["color"]
    if not isinstance(val, str) or not _HEX_COLOR.fullmatch(val):
        raise r.fail(f'expected a colour like "#D55E00", got {excerpt(val)}', field="color")
    return val


def _position(r: _Reader) -> tuple[float, float] | None:
    """An optional map position ``{lon = .., lat = .., source|assumption = "..."}``."""
    if "position" not in r.table:
        return None
    p = r.table["position"]
    if (
        not isinstance(p, dict)
        or not {"lon", "lat"} <= set(p)
        or set(p) - {"lon", "lat", "source", "assumption"}
        or not any(isinstance(p.get(k), str) and p[k].strip() for k in ("source", "assumption"))
    ):
        raise r.fail(
            'expected {lon = .., lat = .., source = "..."} (or assumption = "why")',
            field="position",
        )
    return (
        r.check_range(p["lon"], "position.lon", lo=-180, hi=180),
        r.check_range(p["lat"], "position.lat", lo=-90, hi=90),
    )


def _channel_map(r: _Reader, key: str, known: _Known) -> dict[str, float]:
    channels = known.ids["channel"]
    val = r.table.get(key)
    if not isinstance(val, dict):
        raise r.fail(f"expected a table of channel weights {{{', '.join(channels)}}}", field=key)
    if not (isinstance(val.get("source"), str) or isinstance(val.get("assumption"), str)):
        raise r.fail("channel weights without a 'source' or an 'assumption'", field=key)
    out = {}
    for k, v in val.items():
        if k in ("source", "assumption"):
            continue
        known.check(r, k, "channel", f"{key}.{k}")
        out[k] = r.check_range(v, f"{key}.{k}", lo=0, hi=1)
    return {c: out.get(c, 0.0) for c in channels}


def _power_map(r: _Reader, key: str, known: _Known) -> dict[str, float]:
    val = r.table.get(key)
    if not isinstance(val, dict):
        raise r.fail("expected a table of scores per power", field=key)
    if not (isinstance(val.get("source"), str) or isinstance(val.get("assumption"), str)):
        raise r.fail("scores without a 'source' or an 'assumption'", field=key)
    out = {}
    for k, v in val.items():
        if k in ("source", "assumption"):
            continue
        known.check(r, k, "power", f"{key}.{k}")
        out[k] = r.check_range(v, f"{key}.{k}", lo=0, hi=1)
    return out
