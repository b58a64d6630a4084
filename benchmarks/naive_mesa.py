"""Naive reference: the Friedkin–Johnsen update written as an ordinary per-agent Mesa model.

One `mesa.Agent` per faction holds its scores as a Python list and, each step, loops in Python
over its neighbours (its nonzero entries of W, held as Python lists: neighbour agents and
weights), fixed actors included; the powers and the autonomy pole are agents with constant
scores. The update is synchronous: ``model.agents.do("step")`` computes every faction's next
scores from the current ones, then ``model.agents.do("advance")`` commits them.

    x_f(t+1) = lam_f * sum_j W_fj x~_j(t) + (1 - lam_f) * x0_f

This is how the dynamics would look written the usual agent-by-agent way; the benchmark
(benchmarks/run.py, section e) checks it against the bare sparse update on the same W before
timing it, and tests/test_naive_reference.py checks it against the package's `Ensemble.step`.
"""

from __future__ import annotations

from collections.abc import Sequence

import mesa
import numpy as np
from scipy import sparse


class FixedActor(mesa.Agent):
    """A power or the autonomy pole: constant scores, nothing to do."""

    def __init__(self, model: mesa.Model, scores: Sequence[float]) -> None:
        super().__init__(model)
        self.scores = [float(v) for v in scores]

    def step(self) -> None:
        pass

    def advance(self) -> None:
        pass


class Faction(mesa.Agent):
    """A faction: scores toward each power, updated from its neighbours' scores."""

    def __init__(self, model: mesa.Model, lam: float, x0: Sequence[float], n_powers: int) -> None:
        super().__init__(model)
        self.lam = float(lam)
        self.x0 = [float(v) for v in x0]
        self.scores = list(self.x0)
        self.next_scores = self.scores
        self.n_powers = n_powers
        self.neighbours: list[mesa.Agent] = []
        self.weights: list[float] = []

    def step(self) -> None:
        acc = [0.0] * self.n_powers
        for other, w in zip(self.neighbours, self.weights, strict=True):
            s = other.scores
            for p in range(self.n_powers):
                acc[p] += w * s[p]
        lam = self.lam
        self.next_scores = [lam * a + (1.0 - lam) * b for a, b in zip(acc, self.x0, strict=True)]

    def advance(self) -> None:
        self.scores = self.next_scores


class NaiveFJModel(mesa.Model):
    """F faction agents and P + 1 fixed actors, with W given as Python lists.

    Parameters
    ----------
    columns, weights : list of list
        For each faction, the column indices (0..F-1 factions, F..F+P fixed actors) and weights
        of its nonzero W entries.
    lam : sequence of float
        Susceptibility per faction.
    x0 : sequence of sequence of float
        Anchor scores per faction (F x P); also the starting scores.
    fixed : sequence of sequence of float
        Scores of the P + 1 fixed actors ((P + 1) x P).
    """

    def __init__(self, columns, weights, lam, x0, fixed, *, rng: int = 0) -> None:
        super().__init__(rng=rng)
        P = len(fixed[0])
        self.factions = [Faction(self, lam[f], x0[f], P) for f in range(len(lam))]
        self.fixed = [FixedActor(self, y) for y in fixed]
        everyone = self.factions + self.fixed
        for agent, cols, ws in zip(self.factions, columns, weights, strict=True):
            agent.neighbours = [everyone[j] for j in cols]
            agent.weights = [float(w) for w in ws]

    def step(self) -> None:
        self.agents.do("step")
        self.agents.do("advance")

    def scores(self) -> np.ndarray:
        """Current faction scores as an (F, P) array."""
        return np.array([a.scores for a in self.factions])


def as_lists(W) -> tuple[list[list[int]], list[list[float]]]:
    """The nonzero entries of each row of W (dense or sparse) as Python lists."""
    W = sparse.csr_array(W)
    W.sort_indices()
    cols, ws = [], []
    for f in range(W.shape[0]):
        lo, hi = W.indptr[f], W.indptr[f + 1]
        cols.append(W.indices[lo:hi].tolist())
        ws.append(W.data[lo:hi].tolist())
    return cols, ws


def from_system(W, fixed, lam, x0, *, rng: int = 0) -> NaiveFJModel:
    """A `NaiveFJModel` for the system (W, fixed, lam, x0), e.g. `InfluenceSystem`'s fields."""
    cols, ws = as_lists(W)
    return NaiveFJModel(
        cols,
        ws,
        np.asarray(lam).tolist(),
        np.asarray(x0).tolist(),
        np.asarray(fixed).tolist(),
        rng=rng,
    )
