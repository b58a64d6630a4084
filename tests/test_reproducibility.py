"""Seeds, chunking, common random numbers, relabelling, and the Mesa front door."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import influence_sim as isim
from influence_sim.core.scenario import scenario_from_dict
from influence_sim.core.world import WORLD_SECTIONS

from .conftest import BASELINE, DATA, short
from .strategies import event_tables, scenario_dict

WORLD = isim.load_world("central_asia_2021")


def assert_same(a, b):
    assert a.data.keys() == b.data.keys()
    for k in a.data:
        np.testing.assert_array_equal(a.data[k], b.data[k], err_msg=k)


def test_same_seed_same_results_and_different_seed_differs(short_baseline):
    a = isim.simulate(short_baseline, replicates=4, rng=11)
    b = isim.simulate(short_baseline, replicates=4, rng=11)
    assert_same(a, b)
    c = isim.simulate(short_baseline, replicates=4, rng=12)
    assert not np.array_equal(a.data["share"], c.data["share"])


def test_replicate_alone_equals_replicate_in_chunk(short_baseline):
    chunk = isim.simulate(short_baseline, replicates=6, rng=5, factions=True)
    for k in (0, 3, 5):
        alone = isim.simulate(short_baseline, replicates=[k], rng=5, factions=True)
        for m in chunk.data:
            np.testing.assert_array_equal(alone.data[m][:, 0], chunk.data[m][:, k], err_msg=m)
    # a chunk of later ids
    tail = isim.simulate(short_baseline, replicates=[4, 5], rng=5)
    np.testing.assert_array_equal(tail.data["balance"], chunk.data["balance"][:, 4:])


def test_replicates_differ_from_each_other(short_baseline):
    res = isim.simulate(short_baseline, replicates=5, rng=1)
    final = res.final("share")
    assert len({row.tobytes() for row in final}) == 5


def test_generator_and_seedsequence_rng_are_accepted(short_baseline):
    ss = np.random.SeedSequence(99)
    a = isim.simulate(short_baseline, replicates=2, rng=ss)
    b = isim.simulate(short_baseline, replicates=2, rng=99)
    assert_same(a, b)
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    assert_same(
        isim.simulate(short_baseline, replicates=2, rng=g1),
        isim.simulate(short_baseline, replicates=2, rng=g2),
    )
    with pytest.raises(TypeError):
        isim.simulate(short_baseline, replicates=2, rng="seed")


def _with_event(base: Path, steps: int, event: dict):
    data = tomllib.loads(base.read_text())
    data["scenario"]["steps"] = steps
    data["events"].append(event)
    return scenario_from_dict(data, path=base)


@given(extra=event_tables(WORLD, steps=60, n_max=1), seed=st.integers(0, 2**31))
def test_event_with_probability_zero_changes_nothing(short_baseline, extra, seed):
    base = isim.simulate(short_baseline, replicates=3, rng=seed)
    for ev in extra:
        ev = {**ev, "id": "never", "probability": 0.0}
        with_never = _with_event(BASELINE, 60, ev)
        res = isim.simulate(with_never, replicates=3, rng=seed)
        assert_same(base, res)
        assert res.firing_rates()["never"] == 0.0


def test_removing_an_event_leaves_other_events_draws_alone():
    """Common random numbers: each event's draws are keyed by its id, not its position."""
    a = isim.simulate(short(BASELINE, 40), replicates=20, rng=3)
    b = isim.simulate(
        short(BASELINE.parent / "counterfactuals" / "no_csto.toml", 40), replicates=20, rng=3
    )
    plan_a = {p.event.id: p for p in a.plans}
    plan_b = {p.event.id: p for p in b.plans}
    for eid in ("protests_nationwide", "xi_message", "massimov_dismissed"):
        for field, vals in plan_a[eid].values.items():
            np.testing.assert_array_equal(vals, plan_b[eid].values[field], err_msg=eid)
        np.testing.assert_array_equal(plan_a[eid].step, plan_b[eid].step)


def _reordered_world(tmp_path: Path) -> Path:
    text = (Path(isim.__file__).parent / "data/worlds/central_asia_2021.toml").read_text()
    data = tomllib.loads(text)
    # reverse every list of actors; write back as TOML by hand (stdlib has no writer)
    lines = [f"[world]\n{_kv(data['world'])}"]
    for sec in sorted(WORLD_SECTIONS - {"world"}):
        for item in reversed(data.get(sec, [])):
            lines.append(f"[[{sec}]]\n{_kv(item)}")
    path = tmp_path / "reordered.toml"
    path.write_text("\n".join(lines))
    return path


def _toml(v):
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, dict):
        return "{" + ", ".join(f'"{k}" = {_toml(x)}' for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, date):
        return v.isoformat()
    return repr(v)


def _kv(table: dict) -> str:
    return "".join(f'"{k}" = {_toml(v)}\n' for k, v in table.items())


def test_reordering_actors_relabels_outputs_and_changes_nothing_else(tmp_path):
    w2 = _reordered_world(tmp_path)
    world2 = isim.load_world(w2)
    assert world2.faction_ids == tuple(reversed(WORLD.faction_ids))
    head = {"name": "x", "start": date(2022, 1, 1), "step": "1d", "steps": 45}
    events = tomllib.loads(BASELINE.read_text())["events"]
    a = isim.simulate(
        scenario_from_dict({"scenario": {**head, "world": "central_asia_2021"}, "events": events}),
        replicates=4,
        rng=8,
        factions=True,
    )
    b = isim.simulate(
        scenario_from_dict({"scenario": {**head, "world": str(w2)}, "events": events}),
        replicates=4,
        rng=8,
        factions=True,
    )
    fa, fb = a.frame(), b.frame()
    key = ["replicate", "step", "measure", "actor", "power"]
    fa, fb = (
        f.astype(dict.fromkeys(("actor", "power", "measure"), object))
        .fillna({"power": ""})
        .sort_values(key)
        for f in (fa, fb)
    )
    assert len(fa) == len(fb)
    np.testing.assert_array_equal(fa[key].to_numpy(), fb[key].to_numpy())
    np.testing.assert_allclose(fa["value"].to_numpy(), fb["value"].to_numpy(), atol=2e-6)
    assert a.events()["fired"].tolist() == b.events()["fired"].tolist()


def test_mesa_model_equals_replicate_of_simulate(short_baseline):
    res = isim.simulate(short_baseline, replicates=[2], rng=21)
    model = isim.InfluenceModel(short_baseline, rng=21, replicate=2).run()
    df = model.datacollector.get_model_vars_dataframe()
    assert len(df) == short_baseline.steps + 1
    np.testing.assert_allclose(df["balance.KZ"].to_numpy(), res.data["balance"][:, 0, 0], atol=1e-6)
    np.testing.assert_allclose(
        df["balance.region"].to_numpy(), res.data["balance"][:, 0, -1], atol=1e-6
    )
    assert not model.running
    assert set(model.fired_events()) == {p.event.id for p in res.plans if p.status[0] == 0}


def test_third_power_in_another_region_needs_only_a_world_file():
    world = isim.load_world(DATA / "tri_power.toml")
    assert world.power_ids == ("RU", "TR", "US")
    scen = scenario_from_dict(
        {
            "scenario": {
                "name": "tri",
                "world": str(DATA / "tri_power.toml"),
                "start": date(2024, 1, 1),
                "step": "1w",
                "steps": 52,
            },
            "events": [
                {
                    "id": "u",
                    "kind": "unrest",
                    "date": date(2024, 2, 1),
                    "state": "GE",
                    "intensity": 0.7,
                    "days": 21,
                    "source": "test",
                },
                {
                    "id": "i",
                    "kind": "intervention",
                    "date": date(2024, 2, 5),
                    "power": "US",
                    "state": "GE",
                    "backs": "GE.government",
                    "size": 0.5,
                    "days": 28,
                    "source": "test",
                },
            ],
        }
    )
    res = isim.simulate(scen, replicates=8, rng=0)
    assert res.data["alignment"].shape == (53, 8, 3, 3)
    frame = res.frame("alignment")
    assert set(frame["power"].astype(str)) == {"RU", "TR", "US"}
    # the US-backed intervention moves Georgia's balance (US minus RU) up
    bal = res.data["balance"]
    assert np.median(bal[-1, :, 2] - bal[0, :, 2]) > 0
    model = isim.InfluenceModel(scen, rng=0).run()
    assert {a.actor_id for a in model.agents} >= {"TR", "AZ.business", "CSTO"}


def test_agents_are_views_onto_the_arrays(short_baseline):
    from influence_sim.abm.agents import FactionAgent, PowerAgent, StateAgent

    model = isim.InfluenceModel(short_baseline, rng=0)
    ru = next(a for a in model.agents_by_type[PowerAgent] if a.actor_id == "RU")
    ru.reputation = 0.9
    assert (model.ensemble.rep[0, :, WORLD.index["RU"]] == 0.9).all()  # every state's view
    kz = next(a for a in model.agents_by_type[StateAgent] if a.actor_id == "KZ")
    assert {f.actor_id for f in kz.factions} == {f.id for f in WORLD.factions if f.state == "KZ"}
    shares = sum(f.share for f in kz.factions)
    assert shares == pytest.approx(1.0)
    expected = sum(f.share * f.scores["RU"] for f in kz.factions)
    assert kz.alignment["RU"] == pytest.approx(expected)
    tok = next(a for a in model.agents_by_type[FactionAgent] if a.actor_id == "KZ.tokayev")
    for _ in range(20):
        model.step()
    assert tok.share == model.ensemble.share[0, WORLD.index["KZ.tokayev"]]


def test_mesa_batch_run(short_baseline):
    import multiprocessing

    import mesa

    method = multiprocessing.get_start_method(allow_none=True)
    try:
        rows = mesa.batch_run(
            isim.InfluenceModel,
            parameters={"scenario": short_baseline},
            rng=[1, 2],
            max_steps=100,
            data_collection_period=-1,
            display_progress=False,
        )
    finally:  # mesa.batch_run forces the 'spawn' start method globally; undo that
        multiprocessing.set_start_method(method, force=True)
    assert len(rows) >= 2
    finals = {}
    for row in rows:
        assert row["Step"] == short_baseline.steps
        finals[row["iteration"]] = row["balance.KZ"]
    direct = isim.InfluenceModel(short_baseline, rng=1).run()
    assert finals[0] == pytest.approx(
        direct.datacollector.get_model_vars_dataframe()["balance.KZ"].iloc[-1]
    )
    assert finals[0] != finals[1]


@given(
    events=event_tables(WORLD, steps=30, n_max=6), seed=st.integers(0, 2**31), k=st.integers(0, 3)
)
def test_replicate_alone_equals_chunk_under_arbitrary_events(events, seed, k):
    """The kernel takes shortcuts when replicates share ties or peer weights; a replicate's
    numbers must not depend on whether its chunk-mates differ from it."""
    extra = [
        {
            "id": "pw",
            "kind": "set",
            "date": date(2022, 1, 3),
            "param": "peer_weight",
            "value": {"dist": "uniform", "low": 0.5, "high": 2.0},
            "source": "test",
        },
        {
            "id": "ps",
            "kind": "policy_shift",
            "date": date(2022, 1, 4),
            "state": "KZ",
            "channel": "economic",
            "toward": "CN",
            "amount": 0.3,
            "probability": 0.5,
            "source": "test",
        },
    ]
    scen = scenario_from_dict(scenario_dict(events + extra, 30))
    chunk = isim.simulate(scen, replicates=4, rng=seed, factions=True)
    alone = isim.simulate(scen, replicates=[k], rng=seed, factions=True)
    for m in chunk.data:
        np.testing.assert_array_equal(alone.data[m][:, 0], chunk.data[m][:, k], err_msg=m)
