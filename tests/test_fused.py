"""The compiled step's own guarantees: windows, threads, noise blocks and the peer sums.

That it computes the model's dynamics is tested against the numpy oracle
(`tests/test_fused_oracle.py`); here, that the way it is driven changes no number.
"""

from __future__ import annotations

import tomllib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import influence_sim as isim
from influence_sim.cli import main
from influence_sim.core import fused, kernel
from influence_sim.core.kernel import default_params
from influence_sim.core.runner import Runner
from influence_sim.core.scenario import scenario_from_dict
from influence_sim.core.synthetic import synthetic
from influence_sim.errors import ArgumentError
from influence_sim.seeds import root_seed

from .conftest import BASELINE

STATE = ("x", "share", "anchor", "rep", "cred", "patronage", "force", "threat", "unrest", "ties")


def planned_end_scenario(steps: int = 40):
    """The baseline with the CSTO force's duration drawn per replicate and no withdrawal event,
    so each replicate's intervention ends at its own step, inside the dynamics' windows."""
    data = tomllib.loads(BASELINE.read_text())
    data["scenario"].update(steps=steps, world="central_asia_2021")
    events = [e for e in data["events"] if e["id"] != "csto_withdrawal"]
    for e in events:
        if e["id"] == "csto_deploy":
            e["days"] = {"dist": "uniform", "low": 3.0, "high": 12.0}
    data["events"] = events
    return scenario_from_dict(data, path=BASELINE)


def run_by(scen, ids, advance):
    runner = Runner(scen, np.asarray(ids), root_seed(7))
    advance(runner)
    return runner.ens


def assert_same_state(a, b):
    assert a.t == b.t
    for name in STATE:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def one_by_one(runner):
    while not runner.done:
        runner.advance()


def all_at_once(runner):
    runner.advance(runner.scenario.steps)


def test_planned_ends_fall_inside_the_run():
    scen = planned_end_scenario()
    ens = run_by(scen, range(6), all_at_once)
    iv = ens.interventions["csto_deploy"]
    assert not iv.active.any()
    assert len(np.unique(iv.end)) > 1  # the replicates' forces left on different steps


def test_one_step_at_a_time_equals_one_long_advance():
    scen = planned_end_scenario()
    assert_same_state(run_by(scen, range(6), one_by_one), run_by(scen, range(6), all_at_once))


def test_small_noise_blocks_change_nothing(monkeypatch):
    """Windows cut short to keep the pre-drawn noise small give the same numbers."""
    scen = planned_end_scenario()
    whole = run_by(scen, range(6), all_at_once)
    monkeypatch.setattr(kernel, "NOISE_BLOCK", 1)
    assert_same_state(run_by(scen, range(6), all_at_once), whole)


def test_threads_change_nothing():
    scen = planned_end_scenario()
    serial = run_by(scen, range(8), all_at_once)
    try:
        isim.set_threads(2)
        assert fused.threads() == min(2, fused.numba.config.NUMBA_NUM_THREADS)
        parallel = run_by(scen, range(8), all_at_once)
    finally:
        isim.set_threads(1)
    assert_same_state(parallel, serial)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_threads_must_be_a_positive_whole_number(bad):
    with pytest.raises(ArgumentError, match="whole number >= 1"):
        fused.set_threads(bad)


def test_a_bad_threads_environment_variable_is_one_clear_error(monkeypatch, capsys):
    monkeypatch.setattr(fused, "_threads", None)
    monkeypatch.setenv("INFLUENCE_SIM_THREADS", "many")
    with pytest.raises(ArgumentError, match=r"INFLUENCE_SIM_THREADS.*'many'"):
        fused.threads()
    assert main(["run", str(BASELINE), "-n", "1", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "INFLUENCE_SIM_THREADS" in err and "Traceback" not in err
    monkeypatch.setenv("INFLUENCE_SIM_THREADS", "1")
    assert fused.threads() == 1


def test_a_replicate_alone_equals_the_same_replicate_among_others():
    scen = planned_end_scenario()
    chunk = run_by(scen, range(5), all_at_once)
    for k in (0, 4):
        alone = run_by(scen, [k], all_at_once)
        for name in STATE:
            np.testing.assert_array_equal(
                getattr(alone, name)[0], getattr(chunk, name)[k], err_msg=name
            )


def test_a_block_of_draws_is_the_draws_one_step_at_a_time():
    """What the windows rely on: numpy's generator fills a block in order, with no carry."""
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    block = a.standard_normal((4, 3, 5))
    for k in range(4):
        np.testing.assert_array_equal(block[k], b.standard_normal((3, 5)))


@settings(max_examples=30, deadline=None)
@given(
    states=st.integers(1, 6),
    per_state=st.integers(1, 6),
    ties=st.integers(0, 8),
    weight=st.floats(0.0, 20.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_peer_terms_are_the_sparse_product(states, per_state, ties, weight, seed):
    """The step sums a state's other factions as the state's total less the faction's own
    term; that is the product with (peer_weight x intra + links), to rounding."""
    world = synthetic(states, per_state, ties, 2, rng=seed)
    rng = np.random.default_rng(seed)
    ens = kernel.Ensemble(world, {**default_params(), "peer_weight": weight}, 2, 1,
                          [np.random.default_rng(0), np.random.default_rng(1)])  # fmt: skip
    ens.x[:] = rng.dirichlet(np.ones(3), ens.x.shape[:2])[..., :2]
    ens.share[:] = rng.random(ens.share.shape)
    peer_x, peer_mass = ens.peer_terms()
    w = (weight * ens.intra + ens.links).toarray()
    for r in range(2):
        np.testing.assert_allclose(peer_mass[r], w @ ens.share[r], rtol=1e-12, atol=1e-12)
        voiced = ens.share[r][:, None] * ens.x[r]
        np.testing.assert_allclose(peer_x[r], w @ voiced, rtol=1e-12, atol=1e-12)
