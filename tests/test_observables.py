"""The observables: poll approval of each power's leadership, and the elite's alignment.

Each is a documented function of the model state (docs/ODD.md, 7.6), recorded like every
measure; the faction that polls measure is marked ``public = true`` in the world file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

import influence_sim as isim
from influence_sim.core.runner import Runner
from influence_sim.errors import WorldError
from influence_sim.experiment.uncertainty import Outcome, Space, evaluate
from influence_sim.seeds import root_seed

ROOT = Path(__file__).resolve().parent.parent
WORLD = ROOT / "influence_sim" / "data" / "worlds" / "central_asia_2021.toml"


def _state(scenario, replicates: int = 3, steps: int = 10):
    runner = Runner(scenario, np.arange(replicates), root_seed(5))
    for _ in range(steps):
        runner.advance()
    return runner.ens


def test_approval_is_the_documented_logistic_of_the_public_and_the_perception(baseline):
    ens = _state(baseline)
    w = baseline.world
    got = ens.approval()
    assert got.shape == (3, len(w.states), len(w.powers))
    assert ((got > 0) & (got < 1)).all()
    slope, mid = 10.0, 0.15  # the documented defaults
    for s, st in enumerate(w.state_ids):
        pub = w.index[f"{st}.public"]
        assert w.public_faction[s] == pub
        want = 1 / (1 + np.exp(-slope * (ens.x[:, pub, :] * ens.rep[:, s, :] - mid)))
        np.testing.assert_allclose(got[:, s, :], want, rtol=1e-12)


def test_the_elite_is_every_faction_but_the_public(baseline):
    ens = _state(baseline)
    w = baseline.world
    got = ens.elite_alignment()
    for s, st in enumerate(w.state_ids):
        elite = [j for j, f in enumerate(w.factions) if f.state == st and not f.public]
        sh = ens.share[:, elite]
        want = (sh[:, :, None] * ens.x[:, elite, :]).sum(axis=1) / sh.sum(axis=1)[:, None]
        np.testing.assert_allclose(got[:, s, :], want, rtol=1e-12)
    # the public weighs in the alignment but not in the elite's
    assert not np.allclose(got, ens.alignment())


def test_approval_rises_with_the_publics_prior_and_with_the_perception(baseline):
    out = Outcome("approval", "KG", date(2022, 1, 1), power="RU")
    space = Space.of(
        {"factions.KG.public.anchor.RU": (0.3, 0.7), "powers.RU.reputation": (0.3, 0.9)}
    )
    x = np.array([[0.4, 0.6], [0.6, 0.6], [0.5, 0.4], [0.5, 0.8]])
    y = evaluate(baseline, space, x, out, replicates=1, rng=1)[:, 0]
    assert y[1] > y[0] and y[3] > y[2]
    # the observation parameters move it as documented: a higher midpoint lowers approval
    mid = Space.of({"approval_midpoint": (0.0, 1.0)})
    y = evaluate(baseline, mid, np.array([[0.1], [0.3]]), out, replicates=1, rng=1)[:, 0]
    assert y[0] > y[1]


def test_a_world_without_public_factions_uses_the_alignment(tmp_path):
    path = tmp_path / "tri.toml"
    path.write_text(
        "[scenario]\n"
        'name = "tri"\n'
        f'world = "{ROOT / "tests" / "data" / "tri_power.toml"}"\n'
        "start = 2022-01-01\n"
        'step = "1d"\n'
        "steps = 5\n"
    )
    scen = isim.load_scenario(path)
    assert (scen.world.public_faction == -1).all()
    ens = _state(scen, steps=1)
    al = ens.alignment()
    want = 1 / (1 + np.exp(-10.0 * (al * ens.rep - 0.15)))
    np.testing.assert_allclose(ens.approval(), want, rtol=1e-12)
    np.testing.assert_allclose(ens.elite_alignment(), al, rtol=1e-12)


def test_both_are_recorded_like_every_measure(baseline):
    res = isim.simulate(baseline, replicates=2, rng=3, every=365)
    assert res.data["approval"].shape[1:] == (2, len(baseline.world.states), 2)
    frame = res.frame("elite_alignment")
    assert set(frame["actor"].astype(str)) == set(baseline.world.state_ids)


@pytest.mark.parametrize("defect", ["not a bool", "two publics"])
def test_public_flags_are_checked(tmp_path, defect):
    text = WORLD.read_text("utf-8")
    flag = "public = true  # the faction opinion polls measure (observable `approval`)\n"
    assert text.count(flag) == 5
    if defect == "not a bool":
        text = text.replace(flag, 'public = "yes"\n', 1)
        expect = "expected true or false"
    else:  # a second public faction in Kazakhstan
        text = text.replace('id = "KZ.army"\n', 'id = "KZ.army"\npublic = true\n', 1)
        expect = "all marked public"
    path = tmp_path / "w.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(WorldError, match=expect) as err:
        isim.load_world(path)
    assert "field 'public'" in str(err.value)
