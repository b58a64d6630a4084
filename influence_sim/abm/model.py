"""`InfluenceModel`: one replicate of a scenario as a plain Mesa model.

The model drives the same kernel as the ensemble runner, with R = 1, so its trajectory equals
replicate ``replicate`` of `simulate` with the same ``rng``. Its agents are views onto the
kernel's arrays; a `mesa.DataCollector` records the outcome measures every step, and the model
works under `mesa.batch_run` (it stops itself at the scenario's horizon).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.kernel import InfluenceSystem
from ..core.measures import MEASURES, RECORDED
from ..core.runner import Runner
from ..core.scenario import Scenario, load_scenario
from ..seeds import SeedLike, copy_seed, root_seed
from ._mesa import mesa
from .agents import FactionAgent, InstitutionAgent, PowerAgent, StateAgent

__all__ = ["InfluenceModel"]


class InfluenceModel(mesa.Model):
    """One replicate of a scenario, as a Mesa model.

    Parameters
    ----------
    scenario : Scenario, str or Path
        A loaded scenario or the path of a scenario file.
    rng : int, SeedSequence, Generator or None
        Root seed (SPEC 7); the same as `simulate`'s ``rng``.
    replicate : int
        Which replicate's random streams to use (default 0).

    Attributes
    ----------
    spec : Scenario
        The scenario (Mesa reserves ``Model.scenario`` for its own use).
    world : World
        The scenario's world.
    ensemble : Ensemble
        The kernel state (R = 1) that the agents view.
    datacollector : mesa.DataCollector
        Model reporters ``alignment.<state>.<power>``, ``balance.<state>``, ``balance.region``,
        ``corridor``, ``reputation.<power>``, ``credibility.<institution>``; agent-type reporters
        for factions (``share``, ``score.<power>``).
    """

    def __init__(
        self, scenario: Scenario | str | Path, *, rng: SeedLike = None, replicate: int = 0
    ) -> None:
        root = root_seed(rng)
        super().__init__(rng=copy_seed(root))
        self.spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.world = self.spec.world
        self.seed_sequence = root
        self._runner = Runner(self.spec, np.array([replicate]), root)
        self.ensemble = self._runner.ens
        w = self.world
        powers = {p.id: PowerAgent(self, p.id, p.name) for p in w.powers}
        states = {s.id: StateAgent(self, s.id, s.name) for s in w.states}
        for f in w.factions:
            FactionAgent(self, f.id, f.name, states[f.state])
        for i in w.institutions:
            InstitutionAgent(self, i.id, i.name, powers[i.leader], i.members)
        reporters: dict[str, Callable[[InfluenceModel], float]] = {}
        for spec in (MEASURES[n] for n in RECORDED):
            # faction-level measures are agent reporters; the economy needs a world with flows
            if spec.kind == "faction" or not spec.available(w):
                continue
            for actor, power in zip(*spec.labels(w), strict=True):
                name = spec.name if spec.kind is None else f"{spec.name}.{actor}"
                if spec.per_power:
                    name += f".{power}"
                reporters[name] = self._reporter(
                    spec.name, actor, power if spec.per_power else None
                )
        faction_reporters: dict[str, Any] = {"share": "share"}
        for p in w.power_ids:
            faction_reporters[f"score.{p}"] = lambda a, p=p: a.scores[p]
        self.datacollector = mesa.DataCollector(
            model_reporters=reporters, agenttype_reporters={FactionAgent: faction_reporters}
        )
        self.datacollector.collect(self)

    @staticmethod
    def _reporter(
        measure: str, actor: str, power: str | None = None
    ) -> Callable[[InfluenceModel], float]:
        spec = MEASURES[measure]
        return lambda m: float(spec.value(m.ensemble, actor, power)[0])

    @property
    def date(self) -> np.datetime64:
        """Calendar date of the current state."""
        return self.spec.dates()[self.ensemble.t]

    def step(self) -> None:
        """Apply today's events, advance the dynamics one step and record."""
        if self._runner.done:
            self.running = False
            return
        self._runner.advance()
        self.datacollector.collect(self)
        if self._runner.done:
            self.running = False

    def run(self) -> InfluenceModel:
        """Step to the scenario's horizon; return the model."""
        while self.running:
            self.step()
        return self

    def influence_system(self) -> InfluenceSystem:
        """The current noise-free Friedkin–Johnsen system: W, fixed, lam, x0."""
        return self.ensemble.influence_system(0)

    def faction_scores(self) -> np.ndarray:
        """Current scores, shape (factions, powers), in world order."""
        return self.ensemble.x[0].copy()

    def fired_events(self) -> list[str]:
        """Ids of the events that have fired so far."""
        return [
            p.event.id
            for p in self._runner.plans
            if p.status[0] == 0 and p.step[0] < self.ensemble.t
        ]
