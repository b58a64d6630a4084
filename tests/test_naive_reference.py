"""The naive per-agent Mesa reference (benchmarks/naive_mesa.py) computes the package's dynamics.

The benchmark compares the package's speed against that reference (docs/performance.md), which
is only fair if both compute the same thing: here, on a small synthetic world with no events
and no noise, N steps of the naive agent-by-agent update equal N steps of `Ensemble.step`.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from influence_sim.core.kernel import Ensemble, default_params
from influence_sim.core.synthetic import synthetic

from .conftest import ROOT


def _load(name: str):
    spec = importlib.util.spec_from_file_location(
        f"_bench_{name}", ROOT / "benchmarks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


naive_mesa = _load("naive_mesa")


@pytest.mark.parametrize(
    ("shape", "seed"), [((3, 4, 5, 2), 1), ((4, 3, 4, 3), 7), ((1, 5, 4, 2), 3)]
)
def test_naive_mesa_matches_ensemble_step(shape, seed):
    world = synthetic(*shape, rng=seed)
    ens = Ensemble(world, default_params(), 1, 1, [np.random.default_rng(0)])
    ens.x[:] = ens.anchor  # start both from the anchors, away from the fixed point
    system = ens.influence_system(0)
    naive = naive_mesa.from_system(system.W, system.fixed, system.lam, system.x0)
    np.testing.assert_array_equal(naive.scores(), ens.x[0])
    moved = 0.0
    for _ in range(25):
        ens.step()
        naive.step()
        np.testing.assert_allclose(naive.scores(), ens.x[0], rtol=0, atol=1e-12)
        moved = max(moved, float(np.abs(ens.x[0] - ens.anchor[0]).max()))
    assert moved > 1e-3  # the comparison is not between two frozen states
    assert ens.t == 25
    assert len(naive.factions) == len(world.factions)
