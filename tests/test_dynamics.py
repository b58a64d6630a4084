"""New dynamics, each checked by hand: learning priors, `reorient`, `election` (issue 10, part)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import influence_sim as isim
from influence_sim.core.kernel import Ensemble, default_params, per_step
from influence_sim.core.runner import Runner
from influence_sim.core.scenario import scenario_from_dict
from influence_sim.seeds import root_seed

from .conftest import BASELINE


def ensemble(world, R=2, **params) -> Ensemble:
    gens = [np.random.default_rng(k) for k in range(R)]
    return Ensemble(world, {**default_params(), **params}, R, 1, gens)


# ---------------------------------------------------------------------------------------
# priors that learn


def test_priors_are_fixed_at_rate_zero_so_the_model_is_unchanged(baseline, monkeypatch):
    """At anchor_learning = 0 (the default) no step moves an anchor: the first model exactly.

    (Events such as `leadership_change` and `reorient` still set anchors; the dynamics don't.)
    """
    original = Ensemble.advance
    checked = []

    def advance(self, n):
        before = self.anchor.copy()
        original(self, n)
        np.testing.assert_array_equal(self.anchor, before)
        checked.append(n)

    monkeypatch.setattr(Ensemble, "advance", advance)
    runner = Runner(baseline, np.arange(3), root_seed(5))
    while not runner.done:
        runner.advance()
    assert sum(checked) == baseline.steps
    assert default_params()["anchor_learning"] == 0.0


def test_one_learning_step_is_the_documented_update(world):
    rate = 0.004
    ens = ensemble(world, anchor_learning=rate)
    ens.x[:] = 0.5 * ens.x  # off the steady state, so the scores move
    before = ens.anchor.copy()
    ens.step()
    expected = before + per_step(rate, 1) * (ens.x - before)
    np.testing.assert_array_equal(ens.anchor, expected)
    assert not np.array_equal(ens.anchor, before)


def test_weekly_steps_learn_at_the_per_step_rate(world):
    ens = Ensemble(
        world, {**default_params(), "anchor_learning": 0.01}, 1, 7, [np.random.default_rng(0)]
    )
    ens.x[:] = 0.0
    before = ens.anchor.copy()
    ens.step()
    q = 1 - (1 - 0.01) ** 7
    np.testing.assert_allclose(ens.anchor, before + q * (ens.x - before), rtol=0, atol=1e-15)


@given(rate=st.floats(0.0, 0.01), steps=st.integers(1, 30))
def test_learning_anchors_stay_in_the_simplex(world, rate, steps):
    ens = ensemble(world, R=1, anchor_learning=rate)
    ens.x[:] = np.random.default_rng(steps).dirichlet(
        np.ones(len(world.powers) + 1), ens.x.shape[:2]
    )[..., :-1]
    for _ in range(steps):
        ens.step()
    assert (ens.anchor >= -1e-15).all() and (ens.anchor.sum(axis=2) <= 1 + 1e-12).all()


def test_learning_makes_a_temporary_shock_leave_a_lasting_mark(baseline):
    """A reputation shock fades; with learning, part of its effect on balance stays."""
    shock = {
        "id": "war_news",
        "kind": "shift",
        "date": date(2022, 2, 24),
        "param": "reputation",
        "actor": "RU",
        "value": -0.3,
        "source": "assumption: test",
    }

    def kz_balance(rate: float, events: list) -> float:
        data = {
            "scenario": {
                "name": "learn",
                "world": "central_asia_2021",
                "start": date(2022, 1, 1),
                "step": "1d",
                "steps": 1500,
            },
            "params": {"anchor_learning": rate},
            "events": events,
        }
        res = isim.simulate(scenario_from_dict(data), replicates=1, rng=1, every=1500)
        return float(res.final("balance")[0, baseline.world.state_ids.index("KZ")])

    fixed = kz_balance(0.0, [shock]) - kz_balance(0.0, [])
    learning = kz_balance(0.001, [shock]) - kz_balance(0.001, [])
    assert fixed < 0 and learning < 0
    assert learning < 3 * fixed  # four years on, the shock's mark is several times larger


# ---------------------------------------------------------------------------------------
# reorient and election, on the shipped world, by hand


def _apply(world, kind: str, fields: dict, R: int = 2):
    data = {
        "scenario": {
            "name": "hand",
            "world": "central_asia_2021",
            "start": date(2022, 1, 1),
            "step": "1d",
            "steps": 5,
        },
        "events": [{"id": "e", "kind": kind, "date": date(2022, 1, 2), "source": "test", **fields}],
    }
    scen = scenario_from_dict(data)
    ev = scen.events[0]
    ens = ensemble(world, R=R)
    mask = np.array([True] + [False] * (R - 1))
    values = {k: np.full(R, d.args[0]) for k, d in ev.numbers.items()}
    before = {"anchor": ens.anchor.copy(), "share": ens.share.copy(), "legit": ens.legit.copy()}
    ev.apply(ens, mask, values)
    return ens, before


def test_reorient_shifts_the_prior_and_nothing_else(world):
    f = world.index["KZ.tokayev"]
    ru, cn = world.index["RU"], world.index["CN"]
    ens, before = _apply(
        world, "reorient", {"faction": "KZ.tokayev", "anchor": {"RU": -0.1, "CN": 0.05}}
    )
    expected = before["anchor"][0, f].copy()
    expected[ru] = max(expected[ru] - 0.1, 0.0)
    expected[cn] = min(expected[cn] + 0.05, 1.0)
    np.testing.assert_allclose(ens.anchor[0, f], expected, atol=1e-15)
    np.testing.assert_array_equal(ens.anchor[1], before["anchor"][1])  # masked out
    np.testing.assert_array_equal(ens.share, before["share"])
    np.testing.assert_array_equal(ens.legit, before["legit"])


def test_reorient_clips_and_rescales(world):
    f = world.index["KZ.tokayev"]
    ens, _ = _apply(world, "reorient", {"faction": "KZ.tokayev", "anchor": {"RU": 1.0, "CN": 1.0}})
    np.testing.assert_allclose(ens.anchor[0, f], [0.5, 0.5], atol=1e-15)  # both 1, rescaled
    ens, _ = _apply(world, "reorient", {"faction": "KZ.tokayev", "anchor": {"RU": -1.0}})
    assert ens.anchor[0, f, world.index["RU"]] == 0.0


def test_election_moves_shares_by_legitimacy(world):
    members = [k for k, fa in enumerate(world.factions) if fa.state == "KZ"]
    ens, before = _apply(world, "election", {"state": "KZ", "swing": 2.0})
    s0, ell = before["share"][0, members], before["legit"][0, members]
    expected = s0 * np.exp(2.0 * ell) / np.sum(s0 * np.exp(2.0 * ell))
    np.testing.assert_allclose(ens.share[0, members], expected, rtol=1e-12)
    assert ens.share[0, members].sum() == pytest.approx(1.0, abs=1e-12)
    # the most legitimate faction gains, the least legitimate loses
    assert ens.share[0, members][np.argmax(ell)] > s0[np.argmax(ell)]
    assert ens.share[0, members][np.argmin(ell)] < s0[np.argmin(ell)]
    others = [k for k in range(len(world.factions)) if k not in members]
    np.testing.assert_array_equal(ens.share[0, others], before["share"][0, others])
    np.testing.assert_array_equal(ens.share[1], before["share"][1])


def test_an_election_with_zero_swing_changes_nothing(world):
    ens, before = _apply(world, "election", {"state": "KG", "swing": 0.0})
    np.testing.assert_allclose(ens.share, before["share"], atol=1e-15)


def test_reorient_and_election_run_in_a_scenario(baseline):
    extra = replace(
        baseline,
        params={**baseline.params, "anchor_learning": 0.0004},
    )
    res = isim.simulate(extra, replicates=2, rng=3, every=365)
    base = isim.simulate(baseline, replicates=2, rng=3, every=365)
    assert not np.array_equal(res.data["balance"], base.data["balance"])
    assert np.allclose(
        res.data["share"].reshape(-1, len(baseline.world.factions)).sum(axis=1) / 5, 1
    )
    assert BASELINE.exists()


# ---------------------------------------------------------------------------------------
# join and leave


def test_joining_an_institution_adds_its_multiplier_to_the_leaders_pull(world):
    """UZ joins the EAEU (led by RU, on the economic channel): RU's pull on UZ's factions grows
    by pull_scale x reputation x institution_gain x credibility x sensitivity x tie."""
    ens, _ = _apply(world, "join", {"state": "UZ", "institution": "EAEU"})
    i, s, ru = world.index["EAEU"], world.index["UZ"], world.index["RU"]
    c = list(world.channels).index("economic")
    plain = ensemble(world)
    grown = ens.pulls() - plain.pulls()
    p = plain.params
    uz = np.flatnonzero(world.faction_state == s)
    expected = (
        p["pull_scale"][0]
        * plain.rep[0, s, ru]
        * p["institution_gain"][0]
        * plain.cred[0, i]
        * world.sensitivity[uz, c]
        * plain.ties[0, s, ru, c]
    )
    np.testing.assert_allclose(grown[0, uz, ru], expected, rtol=1e-12)
    assert (expected > 0).all()
    others = np.ones(grown.shape[1:], bool)
    others[uz, ru] = False
    np.testing.assert_array_equal(grown[0][others], 0.0)
    np.testing.assert_array_equal(grown[1], 0.0)  # the masked-out replicate


def test_leaving_and_rejoining_restores_the_pulls_exactly(world):
    ens = ensemble(world)
    before = ens.pulls().copy()
    scen = scenario_from_dict(
        {
            "scenario": {
                "name": "lj",
                "world": "central_asia_2021",
                "start": date(2022, 1, 1),
                "step": "1d",
                "steps": 5,
            },
            "events": [
                {
                    "id": "out",
                    "kind": "leave",
                    "date": date(2022, 1, 2),
                    "state": "KZ",
                    "institution": "CSTO",
                    "source": "test",
                },
                {
                    "id": "back",
                    "kind": "join",
                    "date": date(2022, 1, 3),
                    "state": "KZ",
                    "institution": "CSTO",
                    "source": "test",
                },
            ],
        }
    )
    out, back = scen.events
    everyone = np.ones(ens.R, bool)
    assert out.apply(ens, everyone, {}).all()
    kz = np.flatnonzero(world.faction_state == world.index["KZ"])
    assert (ens.pulls()[:, kz, world.index["RU"]] < before[:, kz, world.index["RU"]]).all()
    assert back.apply(ens, everyone, {}).all()
    np.testing.assert_array_equal(ens.pulls(), before)
    # joining where already a member has no effect, and is recorded so
    assert not back.apply(ens, everyone, {}).any()


def test_a_leave_changes_the_run_and_its_status_is_recorded(short_baseline):
    data = {
        "scenario": {
            "name": "kz_leaves",
            "extends": str(BASELINE),
            "steps": 60,
        },
        "events": [
            {
                "id": "exit",
                "kind": "leave",
                "date": date(2022, 1, 20),
                "state": "TM",
                "institution": "CSTO",
                "source": "test: TM is not a member",
            },
            {
                "id": "exit_kz",
                "kind": "leave",
                "date": date(2022, 1, 20),
                "state": "KZ",
                "institution": "EAEU",
                "source": "test",
            },
        ],
    }
    scen = scenario_from_dict(data, path=BASELINE)
    res = isim.simulate(scen, replicates=2, rng=1, every=60)
    status = res.events().set_index("event")["status"]
    assert set(status["exit"]) == {"no effect"} and set(status["exit_kz"]) == {"fired"}
    base = isim.simulate(short_baseline, replicates=2, rng=1, every=60)
    kz = short_baseline.world.state_ids.index("KZ")
    assert (res.final("balance")[:, kz] < base.final("balance")[:, kz]).all()
