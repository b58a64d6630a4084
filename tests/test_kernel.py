"""The dynamics: Friedkin–Johnsen closed form, invariants under arbitrary events, flat baseline."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import influence_sim as isim
from influence_sim.core.kernel import Ensemble, default_params, per_step
from influence_sim.core.scenario import scenario_from_dict

from .strategies import event_tables, scenario_dict

WORLD = isim.load_world("central_asia_2021")


def quiet_scenario(steps: int = 30, **params):
    return scenario_from_dict(scenario_dict([], steps, **params))


def test_influence_system_is_row_stochastic():
    model = isim.InfluenceModel(quiet_scenario(), rng=1)
    sys_ = model.influence_system()
    F, P = len(WORLD.factions), len(WORLD.powers)
    assert sys_.W.shape == (F, F + P + 1)
    assert np.all(sys_.W >= 0)
    np.testing.assert_allclose(sys_.W.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(np.diag(sys_.W[:, :F]) == 0)  # no self-ties
    np.testing.assert_array_equal(sys_.fixed, np.vstack([np.eye(P), np.zeros((1, P))]))
    assert sys_.lam.shape == (F,) and sys_.x0.shape == (F, P)


def test_friedkin_johnsen_closed_form_is_the_long_run_state():
    """Start away from equilibrium (at x0); with no events and no noise, iterate to the limit."""
    model = isim.InfluenceModel(quiet_scenario(steps=3000), rng=1)
    system = model.influence_system()
    n = len(WORLD.factions)
    wff, wfo = system.W[:, :n], system.W[:, n:]
    lam = system.lam[:, None]
    expected = np.linalg.solve(
        np.eye(n) - lam * wff, lam * (wfo @ system.fixed) + (1 - lam) * system.x0
    )
    model.ensemble.x[:] = model.ensemble.anchor  # perturb: restart from the priors
    model.run()
    np.testing.assert_allclose(model.faction_scores(), expected, atol=1e-9, rtol=0)
    # and the model's own starting state is that fixed point
    fresh = isim.InfluenceModel(quiet_scenario(), rng=1)
    np.testing.assert_allclose(fresh.faction_scores(), expected, atol=1e-12, rtol=0)


def test_scenario_without_events_is_flat(world):
    res = isim.simulate(quiet_scenario(steps=90), replicates=2, rng=0)
    for name, arr in res.data.items():
        np.testing.assert_allclose(
            arr, np.broadcast_to(arr[:1], arr.shape), atol=1e-6, err_msg=name
        )


def test_steady_state_solver_matches_dense_closed_form_after_events(baseline):
    """The sparse solver (used for initialisation) agrees with the dense closed form in a
    perturbed state: shares, patronage and reputations moved by the baseline's events."""
    from influence_sim.core.runner import run_ensemble
    from influence_sim.seeds import root_seed

    _, _, _, ens = run_ensemble(baseline, np.arange(2), root_seed(4))
    for r in range(2):
        system = ens.influence_system(r)
        np.testing.assert_allclose(ens.steady_state()[r], system.steady_state(), atol=1e-10)


@given(events=event_tables(WORLD, steps=40), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_under_arbitrary_valid_events(events, seed):
    scen = scenario_from_dict(scenario_dict(events, 40))
    res = isim.simulate(scen, replicates=3, rng=seed, factions=True)
    score = res.data["score"]
    assert np.isfinite(score).all()
    assert score.min() >= 0 and score.max() <= 1 + 1e-6
    assert score.sum(axis=-1).max() <= 1 + 1e-5  # the rest is autonomy
    share = res.data["share"].astype(float)
    assert share.min() >= 0
    per_state = np.stack(
        [share[..., WORLD.faction_state == s].sum(-1) for s in range(len(WORLD.states))], -1
    )
    np.testing.assert_allclose(per_state, 1.0, atol=1e-5)
    for m in ("reputation", "credibility"):
        assert res.data[m].min() >= 0 and res.data[m].max() <= 1
    al = res.data["alignment"]
    assert al.min() >= 0 and al.max() <= 1 + 1e-6
    assert np.abs(res.data["balance"]).max() <= 1 + 1e-6


def test_per_step_rates_compose():
    r = 0.01
    assert per_step(r, 1) == pytest.approx(r)
    # seven daily steps of relaxation equal one weekly step
    assert (1 - per_step(r, 7)) == pytest.approx((1 - r) ** 7)


def test_weekly_and_daily_steps_agree_on_calm_relaxation():
    """Reputation relaxation per step is exact for either step length."""
    noise = [np.random.default_rng(0)]
    ens_d = Ensemble(WORLD, default_params(), 1, 1, noise)
    ens_w = Ensemble(WORLD, default_params(), 1, 7, noise)
    for ens in (ens_d, ens_w):
        ens.rep[:, :, 0] = 0.9
    for _ in range(70):
        ens_d.step()
    for _ in range(10):
        ens_w.step()
    np.testing.assert_allclose(ens_d.rep, ens_w.rep, atol=1e-12)
