"""The compiled step against its numpy oracle (tests/reference_step.py).

An ensemble is built, deep-copied (the copy carries its own copies of the noise generators),
and the two are driven side by side: at every step the same events are applied to both, then
`Ensemble.step` advances one and `reference_step` the other, and every state array, the
parameters, the interventions, the roll calls and the generators' drawn states are compared to
1e-12. The cases: the two shipped scenarios run for hundreds of steps with parameters varied
per replicate; one event of every kind on the shipped world; and hypothesis over random worlds
(interleaved factions, ids out of sorted order, with and without an economy), random events of
every kind and random per-replicate parameters.

The oracle is the numpy step the compiled one replaced, with its decisions taken per
replicate (and the share contest per state) as the compiled step takes them. That running
many steps in one compiled call (`Ensemble.advance(n)`) gives the same numbers as one step at
a time is tested in tests/test_fused.py.
"""

from __future__ import annotations

import copy
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

import influence_sim as isim
from influence_sim.core.events import EVENT_KINDS
from influence_sim.core.runner import Runner
from influence_sim.core.scenario import STEPS, scenario_from_dict
from influence_sim.params import parameters
from influence_sim.seeds import root_seed

from .conftest import SCENARIOS
from .reference_step import reference_step
from .strategies import NEEDS_ECONOMY, START, event_of, event_tables

TOL = 1e-12
R = 3
#: The ensemble's state arrays compared after every step.
STATE = (
    "x",
    "share",
    "lam",
    "legit",
    "anchor",
    "autonomy",
    "ties",
    "rep",
    "rep_base",
    "threat",
    "cred",
    "cred_base",
    "patronage",
    "force",
    "unrest",
    "unrest_end",
    "membership",
    "active",
    "flows",
    "growth",
    "tie0",
    "exposure_share0",
    "alignment0",
)
INTERVENTION_FIELDS = ("active", "size", "share0", "reputation", "credibility", "end")


# ---------------------------------------------------------------------------------------------
# the twin: one ensemble on the compiled step, its copy on the oracle


def _close(name: str, got: Any, want: Any) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
    if want.dtype == bool:
        np.testing.assert_array_equal(got, want, err_msg=name)
        return
    # assert_allclose's own criterion, checked cheaply first (it is slow on small arrays)
    with np.errstate(invalid="ignore"):
        if np.all(np.abs(got - want) <= TOL + TOL * np.abs(want)):
            return
    np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL, err_msg=name)


def assert_same(a: Any, b: Any) -> None:
    """Ensemble ``a`` (compiled step) equals ``b`` (oracle) in every piece of state."""
    where = f"after step {b.t}"
    assert a.t == b.t
    for name in STATE:
        got, want = getattr(a, name), getattr(b, name)
        if want is None:
            assert got is None, f"{name} {where}"
        else:
            _close(f"{name} {where}", got, want)
    assert a.params.keys() == b.params.keys()
    for name, want in b.params.items():
        _close(f"params[{name}] {where}", a.params[name], want)
    for r, (ga, gb) in enumerate(zip(a.noise, b.noise, strict=True)):
        assert ga.bit_generator.state == gb.bit_generator.state, f"noise[{r}] {where}"
    assert a.interventions.keys() == b.interventions.keys()
    for name, iv in b.interventions.items():
        other = a.interventions[name]
        for field in INTERVENTION_FIELDS:
            _close(
                f"intervention {name}.{field} {where}", getattr(other, field), getattr(iv, field)
            )
        assert (other.backs, other.power, other.institution) == (iv.backs, iv.power, iv.institution)
    assert a.votes.keys() == b.votes.keys()
    for name, stances in b.votes.items():
        np.testing.assert_array_equal(a.votes[name], stances, err_msg=f"vote {name} {where}")


class Twin:
    """A scenario's ensemble on `Ensemble.step` and its deep copy on `reference_step`."""

    def __init__(
        self,
        scenario: Any,
        seed: int,
        params: dict[str, np.ndarray] | None = None,
        fields: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.runner = Runner(scenario, np.arange(R), root_seed(seed), params, fields=fields)
        self.a = self.runner.ens
        self.b = copy.deepcopy(self.a)
        #: kinds of the events applied in at least one replicate
        self.fired: set[str] = set()
        assert_same(self.a, self.b)

    def _apply_events(self) -> None:
        a, b = self.a, self.b
        for plan in self.runner.by_step.get(a.t, ()):
            mask = (plan.step == a.t) & (plan.status == 0)
            if plan.event.when is not None:
                # read on the compiled side and applied to both, so that a condition sitting on
                # its threshold cannot split the twins (the conditions are not under test)
                mask = mask & plan.event.when.evaluate(a)
            if mask.any():
                plan.event.apply(a, mask, plan.values)
                plan.event.apply(b, mask, plan.values)
                self.fired.add(plan.event.kind)

    def step(self) -> None:
        """Apply this step's events to both, step both, compare."""
        self._apply_events()
        self.a.step()
        reference_step(self.b)
        assert_same(self.a, self.b)

    def run(self, steps: int) -> None:
        for _ in range(steps):
            self.step()


def per_replicate(**values: list[float]) -> dict[str, np.ndarray]:
    return {k: np.array(v, dtype=float) for k, v in values.items()}


# ---------------------------------------------------------------------------------------------
# (a) the shipped scenarios


def test_kazakhstan_baseline_matches_the_oracle():
    scenario = isim.load_scenario(SCENARIOS / "kazakhstan_2022.toml")
    assert len(scenario.events) == 13
    params = per_replicate(
        peer_weight=[1.0, 0.6, 1.7],
        anchor_learning=[0.0, 0.0004, 0.004],
        trade_alignment_elasticity=[0.0, 0.3, 1.0],
        flow_tie_elasticity=[1.0, 2.0, 0.0],
        pull_noise=[0.3, 0.8, 0.1],
        contest_noise=[0.1, 0.4, 0.0],
        legitimacy_weight=[0.05, 0.2, 0.0],
        perception_locality=[0.0, 0.5, 1.0],
    )
    # no regional protest in replicate 1: for two days the others are in unrest (and draw
    # noise) while it is not
    fields = {"protests_mangystau.intensity": np.array([0.3, 0.0, 0.5])}
    twin = Twin(scenario, seed=11, params=params, fields=fields)
    start = [copy.deepcopy(g.bit_generator.state) for g in twin.a.noise]
    twin.run(300)
    assert twin.fired == {e.kind for e in scenario.events}
    # unrest drew noise, the shares and scores moved, the flows followed the alignment
    assert all(g.bit_generator.state != s for g, s in zip(twin.a.noise, start, strict=True))
    world = scenario.world
    assert not np.allclose(twin.b.share, world.faction_array("share"))
    flows0 = world.flow_array
    assert np.array_equal(twin.b.flows[0], flows0)
    assert not np.allclose(twin.b.flows[2], flows0)


def test_ukraine_war_economy_matches_the_oracle():
    """Flows growing (not at all in replicate 1), sanctions, war threat, roll calls."""
    scenario = isim.load_scenario(SCENARIOS / "ukraine_war_2022.toml")
    params = per_replicate(
        peer_weight=[1.0, 1.4, 0.8],
        anchor_learning=[0.0004, 0.0, 0.001],
        trade_alignment_elasticity=[0.4, 0.0, 1.0],
        flow_tie_elasticity=[1.0, 2.5, 0.0],
        perception_locality=[0.0, 0.5, 1.0],
        hedging=[1.0, 3.0, 0.0],
        hedge_turn=[0.5, 0.0, 2.0],
        threat_decay=[0.0019, 0.0, 0.05],
    )
    # the trends grow nothing in replicate 1, which neither drifts with its alignment: its
    # flows stay where the events put them while the others' grow
    fields = {
        "protests_nationwide.intensity": np.array([0.8, 0.9, 0.0]),
        "trend_trade_russia.growth": np.array([0.07, 0.0, 0.11]),
        "trend_trade_china.growth": np.array([0.077, 0.0, 0.04]),
        "trend_trade_rest.growth": np.array([0.04, 0.0, 0.0]),
    }
    twin = Twin(scenario, seed=5, params=params, fields=fields)
    flows = twin.a.flows.copy()
    twin.run(520)  # to the Xi'an summit, 19 May 2023
    assert {"trend", "war", "sanction", "vote", "summit", "establish", "election"} <= twin.fired
    assert twin.b.threat.any()
    assert len(twin.b.votes) == 4
    grown = ~np.isclose(twin.b.flows, flows)
    assert grown[0].any() and grown[2].any()


# ---------------------------------------------------------------------------------------------
# one event of every kind on the shipped world


def _ev(kind: str, eid: str, day: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": eid,
        "kind": kind,
        "date": START + timedelta(days=day),
        "source": "test",
        **fields,
    }


#: Every event kind at least once on central_asia_2021, over the first 50 days; some fire only
#: in some replicates (probability, jitter, distributions, `when`).
KIND_CASES = [
    _ev("trend", "trend_ru", 0, flow="trade", partner="RU", growth=0.07, probability=0.6),
    _ev("trend", "trend_rest", 10, flow="lending", partner="rest", growth=-0.2, state="KZ"),
    _ev("unrest", "unrest_kz", 2, state="KZ", intensity=0.8, days=10),
    _ev(
        "unrest",
        "unrest_kg",
        20,
        state="KG",
        intensity={"dist": "uniform", "low": 0.2, "high": 0.6},
        days=5,
        probability=0.7,
    ),
    _ev("set", "set_noise", 3, param="pull_noise", value=0.6, probability=0.5),
    _ev(
        "intervention",
        "csto",
        4,
        power="RU",
        state="KZ",
        backs="KZ.tokayev",
        institution="CSTO",
        size=0.6,
        days=12,
        bypassed=["SCO"],
    ),
    _ev(
        "intervention",
        "guard",
        6,
        power="CN",
        state="KG",
        backs="KG.presidency",
        size={"dist": "triangular", "low": 0.1, "mode": 0.3, "high": 0.5},
    ),
    _ev("purge", "purge", 8, **{"from": "KZ.nazarbayev", "to": "KZ.tokayev", "share": 0.4}),
    _ev(
        "leadership_change",
        "knb",
        9,
        faction="KZ.knb",
        to="KZ.tokayev",
        share=0.05,
        legitimacy=0.1,
        anchor={"RU": 0.3, "CN": 0.3},
    ),
    _ev("reorient", "turn", 12, faction="KG.presidency", anchor={"RU": -0.1, "CN": 0.05}),
    _ev("election", "vote_uz", 14, state="UZ", swing=1.5),
    _ev("join", "join", 15, state="UZ", institution="EAEU"),
    _ev("leave", "leave", 16, state="KG", institution="SCO", jitter=3),
    _ev("suspend", "suspend", 17, state="TJ", institution="CSTO"),
    _ev("establish", "cacn", 18, institution="CACN"),
    _ev(
        "statement",
        "speech",
        19,
        power="CN",
        face=0.1,
        state="KZ",
        institution="SCO",
        credibility=0.05,
    ),
    _ev("policy_shift", "pivot", 21, state="KZ", channel="economic", toward="CN", amount=0.2),
    _ev("set", "set_autonomy", 22, param="autonomy", actor="TM", value=2.0),
    _ev("shift", "shift_peers", 23, param="peer_weight", value=0.5, probability=0.5),
    _ev("shift", "shift_eta", 24, param="flow_tie_elasticity", value=0.5),
    _ev("war", "war", 25, power="RU", target="UA", intensity=1.0),
    _ev("war", "war_kg", 40, power="CN", target="KG", intensity=0.3, threat=2.0),
    _ev(
        "sanction",
        "sanctions",
        27,
        power="RU",
        volume=300,
        lost=0.57,
        neighbours=0.03,
        other=0.4,
        secondary=0.05,
    ),
    _ev("vote", "unga", 28, power="RU", side="against", motion="A/ES-11/1"),
    _ev("vote", "unga_cn", 45, power="CN", side="for", states=["KZ", "UZ"]),
    _ev("withdrawal", "guard_out", 30, intervention="guard"),
    _ev(
        "summit",
        "summit",
        31,
        power="CN",
        states=["KZ"],
        lending=5.0,
        trade_growth=0.05,
        channel="economic",
        tie=0.05,
        face=0.05,
        institution="SCO",
        credibility=0.05,
    ),
    _ev(
        "treaty",
        "treaty",
        35,
        power="RU",
        channel="security",
        tie=0.05,
        face=0.03,
        when={"measure": "threat", "actor": "KZ", "power": "RU", "op": ">", "value": 0.1},
    ),
]


def test_every_event_kind_on_the_shipped_world_matches_the_oracle():
    head = {"name": "kinds", "world": "central_asia_2021", "start": START, "step": "1d"}
    scenario = scenario_from_dict(
        {"scenario": {**head, "steps": 60}, "params": {}, "events": KIND_CASES}
    )
    params = per_replicate(
        peer_weight=[1.0, 0.5, 2.0],
        anchor_learning=[0.0, 0.001, 0.004],
        trade_alignment_elasticity=[0.0, 0.5, 1.0],
        flow_tie_elasticity=[1.0, 0.0, 2.0],
        perception_locality=[0.0, 0.4, 1.0],
        patronage_drift=[0.002, 0.0, 0.05],
    )
    twin = Twin(scenario, seed=2024, params=params)
    twin.run(60)
    assert twin.fired == set(EVENT_KINDS)


# ---------------------------------------------------------------------------------------------
# (b) hypothesis: random worlds, events of every kind, per-replicate parameters

CHANNEL_SETS = (
    ("security", "economic", "political"),
    ("economic", "security"),
    ("political", "security"),  # no economic channel: the flows move no ties
)


def _num(value: float, what: str = "test") -> str:
    return f'{{value = {float(value)!r}, assumption = "{what}"}}'


@st.composite
def world_texts(draw: st.DrawFn) -> str:
    """A random valid world file: sizes and structure drawn, numbers from a drawn seed.

    Powers, states and factions are listed out of sorted-id order (so the canonical noise
    layout is a real permutation) and factions of different states are interleaved.
    """
    n_states = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 4), min_size=n_states, max_size=n_states))
    sizes[0] = max(sizes[0], 2)  # a purge needs two factions of one state
    n_powers = draw(st.integers(2, 3))
    channels = draw(st.sampled_from(CHANNEL_SETS))
    economy = draw(st.booleans())
    gen = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    powers = [f"P{c}" for c in "QMZ"[:n_powers]]
    states = [f"S{c}" for c in "TBK"[:n_states]]
    gen.shuffle(powers)
    gen.shuffle(states)
    lines = ["[world]", 'name = "random_world"', f"channels = {list(channels)!r}"]
    if economy and draw(st.booleans()):
        lines.append(f'economic_channel = "{draw(st.sampled_from(channels))}"')
    for p in powers:
        lines += ["", "[[powers]]", f'id = "{p}"', f'name = "Power {p}"']
        lines.append(f"reputation = {_num(gen.uniform(0.2, 0.8))}")
    for s in states:
        lines += ["", "[[states]]", f'id = "{s}"', f'name = "State {s}"']
        for key, lo, hi in (("population", 1, 50), ("gdp", 5, 300), ("corridor_km", 0, 900)):
            lines.append(f"{key} = {_num(gen.uniform(lo, hi))}")
        lines.append(f"autonomy = {_num(gen.uniform(0.1, 1.5))}")
    factions = []
    for s, k in zip(states, sizes, strict=True):
        shares = gen.dirichlet(np.ones(k))
        shares[-1] = 1.0 - shares[:-1].sum()  # exactly 1 in floating point, near enough
        public = gen.integers(-1, k)  # -1: no public faction
        for j in range(k):
            factions.append((f"{s}.f{'wca'[j % 3]}{j}", shares[j], j == public))
    for i in gen.permutation(len(factions)):
        fid, share, public = factions[i]
        sens = gen.dirichlet(np.ones(len(channels)))
        anchor = gen.dirichlet(np.ones(n_powers + 1))[:n_powers]
        lines += ["", "[[factions]]", f'id = "{fid}"', f'name = "Faction {fid}"']
        lines.append(f"share = {_num(share)}")
        lines.append(f"susceptibility = {_num(gen.uniform(0.05, 0.95))}")
        lines.append(f"legitimacy = {_num(gen.uniform(0.0, 1.0))}")
        sens_items = ", ".join(f"{c} = {float(v)!r}" for c, v in zip(channels, sens, strict=True))
        lines.append(f'sensitivity = {{{sens_items}, assumption = "test"}}')
        anchor_items = ", ".join(f"{p} = {float(v)!r}" for p, v in zip(powers, anchor, strict=True))
        lines.append(f'anchor = {{{anchor_items}, assumption = "test"}}')
        if public:
            lines.append("public = true")
    for s in states:
        for p in powers:
            if gen.random() < 0.85:
                lines += ["", "[[ties]]", f'state = "{s}"', f'power = "{p}"']
                lines += [f"{c} = {_num(gen.uniform())}" for c in channels if gen.random() < 0.85]
    fids = [f for f, _, _ in factions]
    pairs = [(a, b) for a in fids for b in fids if a != b]
    for j in gen.permutation(len(pairs))[: draw(st.integers(0, 3))]:
        a, b = pairs[j]
        lines += ["", "[[links]]", f'from = "{a}"', f'to = "{b}"']
        lines.append(f"weight = {_num(gen.uniform(0.05, 0.6))}")
    for k in range(draw(st.integers(1, 3))):
        members = [str(gen.choice(powers)), *(s for s in states if gen.random() < 0.6)]
        lines += ["", "[[institutions]]", f'id = "I{"NAE"[k]}"', f'name = "Institution {k}"']
        lines.append(f'leader = "{gen.choice(powers)}"')
        lines.append(f'channel = "{gen.choice(channels)}"')
        lines.append(f"members = {sorted(set(members))!r}")
        lines.append('members_source = "test"')
        lines.append(f"credibility = {_num(gen.uniform(0.2, 0.8))}")
        if gen.random() < 0.3:
            lines.append("active = false")
    if economy:
        kinds = ("trade", "remittances", "lending")
        for n, s in enumerate(states):
            with_powers = dict.fromkeys(kinds, 0.0)
            for p in powers:
                if (n == 0 and p == powers[0]) or gen.random() < 0.8:
                    vals = {c: gen.uniform(0.0, 20.0) for c in kinds if gen.random() < 0.8}
                    vals = vals or {"trade": gen.uniform(0.1, 20.0)}
                    lines += ["", "[[flows]]", f'state = "{s}"', f'power = "{p}"']
                    lines += [f"{c} = {_num(v)}" for c, v in vals.items()]
                    for c, v in vals.items():
                        with_powers[c] += v
            if gen.random() < 0.8:
                lines += ["", "[[economies]]", f'state = "{s}"']
                for c in kinds:
                    if gen.random() < 0.8:
                        lines.append(f"{c}_total = {_num(with_powers[c] + gen.uniform(0, 30))}")
    for s in states:
        for p in powers:
            if gen.random() < 0.6:
                lines += ["", "[[exposures]]", f'state = "{s}"', f'power = "{p}"']
                lines.append(f"exposure = {_num(gen.uniform())}")
    return "\n".join(lines) + "\n"


@st.composite
def every_kind(draw: st.DrawFn, world: Any, days: int) -> list[dict[str, Any]]:
    """One event of every kind the world admits (the flow kinds need [[flows]])."""
    events = []
    for kind in EVENT_KINDS:
        if kind == "withdrawal" or (kind in NEEDS_ECONOMY and not world.has_economy):
            continue
        ev = draw(event_of(world, kind, f"k_{kind}", days, min_probability=0.5))
        assert ev is not None  # world_texts gives a state two factions
        events.append(ev)
        if kind == "intervention":
            withdrawal = draw(event_of(world, "withdrawal", "k_withdrawal", days, 0.5))
            assert withdrawal is not None
            withdrawal["intervention"] = ev["id"]
            withdrawal["date"] = max(withdrawal["date"], ev["date"])
            events.append(withdrawal)
    return events


@st.composite
def replicate_params(draw: st.DrawFn) -> dict[str, np.ndarray]:
    """Some numeric parameters with one value per replicate, often 0 in some replicates."""
    numeric = sorted(p for p, v in parameters().items() if v.numeric)
    chosen = draw(st.lists(st.sampled_from(numeric), unique=True, max_size=8))
    # the per-replicate branches of the step: always varied
    chosen = sorted({*chosen, "peer_weight", "anchor_learning", "trade_alignment_elasticity"})
    out = {}
    for name in chosen:
        prm = parameters()[name]
        value = st.floats(float(prm.low), float(prm.high))
        zero = st.just(0.0) if prm.low <= 0.0 else value
        out[name] = np.array(draw(st.lists(st.one_of(zero, value), min_size=R, max_size=R)))
    return out


HYPOTHESIS = settings(
    max_examples=min(25, settings.default.max_examples),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@HYPOTHESIS
@given(text=world_texts(), data=st.data())
def test_random_worlds_and_events_match_the_oracle(text, data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "world.toml"
        path.write_text(text, "utf-8")
        world = isim.load_world(path)
        step = data.draw(st.sampled_from(sorted(STEPS)), label="step")
        steps = data.draw(st.integers(8, 25), label="steps")
        days = steps * STEPS[step]
        events = data.draw(every_kind(world, days), label="every kind")
        events += data.draw(event_tables(world, days, n_max=5), label="more events")
        head = {"name": "hyp", "world": str(path), "start": START, "step": step, "steps": steps}
        scenario = scenario_from_dict({"scenario": head, "params": {}, "events": events})
    drawn = {e["kind"] for e in events}
    assert drawn >= set(EVENT_KINDS) - (set() if world.has_economy else NEEDS_ECONOMY)
    params = data.draw(replicate_params(), label="params")
    twin = Twin(scenario, data.draw(st.integers(0, 2**32 - 1), label="seed"), params)
    twin.run(steps)


# ---------------------------------------------------------------------------------------------
# (c) coverage of the kinds


def test_every_event_kind_is_covered():
    """A kind added to the registry fails here until the cases above include it."""
    kinds = set(EVENT_KINDS)
    assert {e["kind"] for e in KIND_CASES} == kinds
    # the hypothesis strategy draws every kind too (a kind it cannot build raises here)
    world = isim.load_world("central_asia_2021")
    assert world.has_economy
    once = settings(max_examples=1, phases=[Phase.generate], database=None)
    example = find(every_kind(world, 30), lambda events: True, settings=once)
    assert {e["kind"] for e in example} == kinds
