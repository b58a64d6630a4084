"""The synthetic world generator, and the large-world (iterative) steady-state solver."""

from __future__ import annotations

import numpy as np
import pytest

import influence_sim as isim
from influence_sim.core import kernel
from influence_sim.core.synthetic import as_scenario, synthetic


def test_synthetic_world_is_valid_and_reproducible():
    w = synthetic(6, 4, 5, 3, rng=11)
    assert len(w.factions) == 24 and len(w.powers) == 3 and len(w.institutions) == 3
    shares = np.array([f.share for f in w.factions]).reshape(6, 4)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert all(abs(sum(f.sensitivity.values()) - 1) < 1e-9 for f in w.factions)
    assert all(sum(f.anchor.values()) <= 1 for f in w.factions)
    # 3 intra-state peers + 2 cross-border links per faction
    intra, links = w.peer_matrices
    assert intra.nnz == 24 * 3 and links.nnz == 24 * 2
    assert all(a.split(".")[0] != b.split(".")[0] for a, b, _ in w.links)
    again = synthetic(6, 4, 5, 3, rng=11)
    assert again.sha256 == w.sha256 and again.links == w.links
    assert synthetic(6, 4, 5, 3, rng=12).links != w.links


@pytest.mark.parametrize("bad", [{"n_states": 0}, {"n_powers": 1}, {"ties_per_faction": -1}])
def test_synthetic_rejects_bad_sizes(bad):
    args = {"n_states": 2, "factions_per_state": 2, "ties_per_faction": 1, "n_powers": 2} | bad
    with pytest.raises(ValueError, match=next(iter(bad))):
        synthetic(**args, rng=0)


def test_synthetic_world_runs_and_keeps_invariants():
    res = isim.simulate(
        as_scenario(synthetic(20, 5, 6, 2, rng=3), steps=30), replicates=2, rng=0, factions=True
    )
    assert res.data["score"].min() >= 0 and res.data["score"].sum(-1).max() <= 1 + 1e-6
    # no events: flat
    np.testing.assert_allclose(res.data["score"], res.data["score"][:1].repeat(31, 0), atol=1e-6)


def test_iterative_steady_state_matches_direct(monkeypatch):
    """Large worlds use BiCGSTAB; force it on a small world and compare with SuperLU."""
    scen = as_scenario(synthetic(40, 6, 8, 2, rng=5), steps=1)
    direct = isim.InfluenceModel(scen, rng=0).faction_scores()
    monkeypatch.setattr(kernel, "DIRECT_SOLVE_MAX", 10)
    iterative = isim.InfluenceModel(scen, rng=0)
    np.testing.assert_allclose(iterative.faction_scores(), direct, atol=1e-11)
    # and it is the fixed point of the dynamics
    system = iterative.influence_system()
    np.testing.assert_allclose(system.steady_state(), direct, atol=1e-10)
