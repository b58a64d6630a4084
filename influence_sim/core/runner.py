"""Drive the kernel through a scenario: event plans, the step loop and the recorder.

Seeds follow SPEC 7. One root `numpy.random.SeedSequence`; replicate k's streams are its
children keyed ``(k, 0)`` for dynamics noise and ``(k, 1, crc32(event id))`` for each event's
draws. Replicate k therefore gives the same numbers alone or in a chunk, and removing or adding
an event leaves every other event's draws unchanged (common random numbers across a baseline
and its counterfactuals).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..seeds import EVENTS, NOISE, generator, replicate_seed
from .events import Event
from .kernel import Ensemble
from .measures import MEASURES, RECORDED
from .scenario import Scenario

__all__ = ["STATUS", "EventPlan", "Recorder", "Runner", "run_ensemble"]

#: Event outcome codes per replicate, as written to events.csv.
STATUS = ("fired", "not drawn", "condition false", "outside horizon", "no effect")


@dataclass
class EventPlan:
    """One event's per-replicate schedule and sampled values."""

    event: Event
    step: np.ndarray  # (R,) transition index at which it applies
    drawn: np.ndarray  # (R,) passed its probability draw
    values: dict[str, np.ndarray]  # field -> (R,)
    status: np.ndarray  # (R,) index into STATUS, final after the run

    @classmethod
    def sample(
        cls, event: Event, scenario: Scenario, ids: np.ndarray, root: np.random.SeedSequence
    ) -> EventPlan:
        """Draw the event's schedule and field values for replicates ``ids``.

        An id that appears more than once (a design's common random numbers: the same
        replicate streams at every point) is drawn once and copied.
        """
        unique, inverse = np.unique(ids, return_inverse=True)
        if len(unique) < len(ids):
            plan = cls.sample(event, scenario, unique, root)
            return cls(
                event=event,
                step=plan.step[inverse],
                drawn=plan.drawn[inverse],
                values={k: v[inverse] for k, v in plan.values.items()},
                status=plan.status[inverse],
            )
        R = len(ids)
        nominal = scenario.step_of(event.date)
        step = np.full(R, nominal, dtype=np.int64)
        drawn = np.ones(R, dtype=bool)
        values = {
            k: np.full(R, d.args[0]) if d.constant else np.empty(R)
            for k, d in event.numbers.items()
        }
        n_u = event.uniforms(scenario.world)
        if n_u:
            values["_uniforms"] = np.empty((R, n_u))
        if event.random:
            for j, k in enumerate(ids):
                gen = generator(replicate_seed(root, k, EVENTS, event.key))
                drawn[j] = gen.random() < event.probability
                if event.jitter:
                    shift = int(gen.integers(-event.jitter, event.jitter + 1))
                    day = (event.date - scenario.start).days + shift
                    step[j] = day // scenario.step_days if day >= 0 else -1
                for name, dist in event.numbers.items():
                    if not dist.constant:
                        values[name][j] = dist.draw(gen)
                if n_u:
                    values["_uniforms"][j] = gen.random(n_u)
        status = np.where(drawn, 0, 1)
        status = np.where((step < 0) | (step >= scenario.steps), 3, status)
        return cls(event=event, step=step, drawn=drawn, values=values, status=status)


class Recorder:
    """Collects the outcome measures (`MEASURES`) at recorded steps, as float32 (T, R, ...)."""

    def __init__(self, ens: Ensemble, steps: int, every: int, factions: bool) -> None:
        self.steps = np.unique(np.r_[np.arange(0, steps + 1, every), steps])
        T, R = len(self.steps), ens.R
        names = [*RECORDED, *(["score"] if factions else [])]
        self.measures = [MEASURES[n] for n in names if MEASURES[n].available(ens.world)]
        self.data = {
            m.name: np.empty((T, R, *m.shape(ens.world)), dtype=np.float32) for m in self.measures
        }
        self._next = 0

    def next_step(self, horizon: int) -> int:
        """The next step to record (the horizon once every step is recorded)."""
        return int(self.steps[self._next]) if self._next < len(self.steps) else horizon

    def maybe_record(self, ens: Ensemble) -> None:
        """Record the measures if the ensemble's current step is a recorded one."""
        if self._next < len(self.steps) and self.steps[self._next] == ens.t:
            al = ens.alignment()
            for m in self.measures:
                self.data[m.name][self._next] = m.compute(ens, al)
            self._next += 1


class Runner:
    """Drives an `Ensemble` through a scenario: applies each step's events, then steps.

    The experiment runner (R replicates) and `InfluenceModel` (R = 1) both advance through
    this one loop.
    """

    def __init__(
        self,
        scenario: Scenario,
        ids: np.ndarray,
        root: np.random.SeedSequence,
        params: Mapping[str, np.ndarray] | None = None,
        world_inputs: Mapping[str, np.ndarray] | None = None,
        fields: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Sample the events' plans and build the ensemble.

        ``params`` overrides global parameters, ``world_inputs`` world numbers by path
        (`influence_sim.core.inputs`), ``fields`` events' drawn fields by ``<event id>.<field>``
        (the value replaces the draw; a field of an event the scenario lacks does nothing),
        each with one value per replicate (R,).
        """
        self.scenario = scenario
        # one seed sequence per distinct id (a design repeats the same ids at every point)
        unique, inverse = np.unique(np.asarray(ids), return_inverse=True)
        seqs = [replicate_seed(root, k, NOISE) for k in unique]
        noise = [generator(seqs[i]) for i in inverse]
        resolved: dict[str, float | str | np.ndarray] = {**scenario.params, **(params or {})}
        self.ens = Ensemble(
            scenario.world, resolved, len(ids), scenario.step_days, noise, world_inputs
        )
        self.plans = [EventPlan.sample(e, scenario, ids, root) for e in scenario.events]
        for plan in self.plans:
            head = f"{plan.event.id}."
            for key, column in (fields or {}).items():
                if key.startswith(head) and key[len(head) :] in plan.values:
                    plan.values[key[len(head) :]] = np.array(column, dtype=float)
        self.by_step: dict[int, list[EventPlan]] = {}
        for plan in self.plans:
            for t in np.unique(plan.step[plan.status == 0]):
                self.by_step.setdefault(int(t), []).append(plan)
        self._event_steps = np.array(sorted(self.by_step), dtype=np.int64)

    @property
    def done(self) -> bool:
        """Whether the horizon is reached."""
        return self.ens.t >= self.scenario.steps

    def advance(self, n: int = 1) -> None:
        """Advance ``n`` steps (to the horizon at most): at each, apply its events, then step.

        Between two steps with events the compiled step runs the whole stretch in one call.
        """
        ens = self.ens
        stop = min(ens.t + n, self.scenario.steps)
        while ens.t < stop:
            self._apply_events()
            later = self._event_steps[np.searchsorted(self._event_steps, ens.t, side="right") :]
            ens.advance(min(stop, int(later[0]) if len(later) else stop) - ens.t)

    def _apply_events(self) -> None:
        """Apply the events due at the current step, per replicate."""
        ens = self.ens
        for plan in self.by_step.get(ens.t, ()):
            mask = (plan.step == ens.t) & (plan.status == 0)
            if plan.event.when is not None:
                ok = plan.event.when.evaluate(ens)
                plan.status[mask & ~ok] = 2
                mask &= ok
            if mask.any():
                effective = plan.event.apply(ens, mask, plan.values)
                if effective is not None:
                    plan.status[mask & ~effective] = 4


def run_ensemble(
    scenario: Scenario,
    ids: np.ndarray,
    root: np.random.SeedSequence,
    *,
    every: int = 1,
    factions: bool = False,
    progress: str | None = None,
    params: Mapping[str, np.ndarray] | None = None,
    world_inputs: Mapping[str, np.ndarray] | None = None,
    fields: Mapping[str, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray, list[EventPlan], Ensemble]:
    """Run replicates ``ids`` of ``scenario``; return recorded arrays, steps, plans, state.

    ``params``, ``world_inputs`` and ``fields`` give inputs per replicate (`Runner`).
    """
    from tqdm import tqdm

    runner = Runner(scenario, ids, root, params, world_inputs, fields)
    rec = Recorder(runner.ens, scenario.steps, every, factions)
    bar = tqdm(
        total=scenario.steps, desc=progress, unit="step", disable=progress is None, leave=False
    )
    while not runner.done:
        rec.maybe_record(runner.ens)
        t = runner.ens.t
        runner.advance(rec.next_step(scenario.steps) - t)
        bar.update(runner.ens.t - t)
    bar.close()
    rec.maybe_record(runner.ens)
    return rec.data, rec.steps, runner.plans, runner.ens
