"""Run a scenario's replicates as one vectorised ensemble.

Seeds follow SPEC 7. One root `numpy.random.SeedSequence`; replicate k's streams are its
children keyed ``(k, 0)`` for dynamics noise and ``(k, 1, crc32(event id))`` for each event's
draws. Replicate k therefore gives the same numbers alone or in a chunk, and removing or adding
an event leaves every other event's draws unchanged (common random numbers across a baseline
and its counterfactuals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .events import Event
from .kernel import Ensemble
from .scenario import Scenario

__all__ = ["EventPlan", "Recorder", "Runner", "replicate_seed", "root_seed", "simulate"]

SeedLike = int | np.random.SeedSequence | np.random.Generator | None

#: Event outcome codes per replicate, as written to events.csv.
STATUS = ("fired", "not drawn", "condition false", "outside horizon", "no effect")


def root_seed(rng: SeedLike) -> np.random.SeedSequence:
    """Normalise an ``rng`` argument (SPEC 7) to a root SeedSequence.

    An int or None becomes ``SeedSequence(rng)``; a Generator contributes fresh entropy drawn
    from itself.
    """
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(2**63)))
    if rng is not None and (isinstance(rng, bool) or not isinstance(rng, int | np.integer)):
        raise TypeError(f"rng must be an int, SeedSequence, Generator or None, got {rng!r}")
    return np.random.SeedSequence(None if rng is None else int(rng))


def replicate_seed(root: np.random.SeedSequence, k: int, *key: int) -> np.random.SeedSequence:
    """Child ``(k, *key)`` of ``root``, computable without spawning its siblings."""
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, int(k), *key))


def _generator(seq: np.random.SeedSequence) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seq))


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
        """Draw the event's schedule and field values for replicates ``ids``."""
        R = len(ids)
        nominal = scenario.step_of(event.date)
        step = np.full(R, nominal, dtype=np.int64)
        drawn = np.ones(R, dtype=bool)
        values = {
            k: np.full(R, d.args[0]) if d.constant else np.empty(R)
            for k, d in event.numbers.items()
        }
        if event.random:
            for j, k in enumerate(ids):
                gen = _generator(replicate_seed(root, k, 1, event.key))
                drawn[j] = gen.random() < event.probability
                if event.jitter:
                    shift = int(gen.integers(-event.jitter, event.jitter + 1))
                    day = (event.date - scenario.start).days + shift
                    step[j] = day // scenario.step_days if day >= 0 else -1
                for name, dist in event.numbers.items():
                    if not dist.constant:
                        values[name][j] = dist.draw(gen)
        status = np.where(drawn, 0, 1)
        status = np.where((step < 0) | (step >= scenario.steps), 3, status)
        return cls(event=event, step=step, drawn=drawn, values=values, status=status)


class Recorder:
    """Collects the outcome measures at recorded steps, as float32 arrays (T, R, ...)."""

    MEASURES = ("alignment", "balance", "share", "reputation", "credibility", "corridor")

    def __init__(self, ens: Ensemble, steps: int, every: int, factions: bool) -> None:
        self.steps = np.unique(np.r_[np.arange(0, steps + 1, every), steps])
        T, R = len(self.steps), ens.R
        S, P, F = ens.S, ens.P, ens.F
        n_i = ens.cred.shape[1]
        shapes = {
            "alignment": (S, P),
            "balance": (S + 1,),
            "share": (F,),
            "reputation": (P,),
            "credibility": (n_i,),
            "corridor": (),
        }
        if factions:
            shapes["score"] = (F, P)
        self.data = {m: np.empty((T, R, *shp), dtype=np.float32) for m, shp in shapes.items()}
        self._next = 0

    def maybe_record(self, ens: Ensemble) -> None:
        """Record the measures if the ensemble's current step is a recorded one."""
        if self._next < len(self.steps) and self.steps[self._next] == ens.t:
            j = self._next
            al = ens.alignment()
            self.data["alignment"][j] = al
            self.data["balance"][j] = ens.balance(al)
            self.data["share"][j] = ens.share
            self.data["reputation"][j] = ens.rep
            self.data["credibility"][j] = ens.cred
            self.data["corridor"][j] = ens.corridor(al)
            if "score" in self.data:
                self.data["score"][j] = ens.x
            self._next += 1


class Runner:
    """Drives an `Ensemble` through a scenario: applies each step's events, then steps.

    The experiment runner (R replicates) and `InfluenceModel` (R = 1) both advance through
    this one loop.
    """

    def __init__(self, scenario: Scenario, ids: np.ndarray, root: np.random.SeedSequence) -> None:
        self.scenario = scenario
        noise = [_generator(replicate_seed(root, k, 0)) for k in ids]
        self.ens = Ensemble(scenario.world, scenario.params, len(ids), scenario.step_days, noise)
        self.plans = [EventPlan.sample(e, scenario, ids, root) for e in scenario.events]
        self.by_step: dict[int, list[EventPlan]] = {}
        for plan in self.plans:
            for t in np.unique(plan.step[plan.status == 0]):
                self.by_step.setdefault(int(t), []).append(plan)

    @property
    def done(self) -> bool:
        """Whether the horizon is reached."""
        return self.ens.t >= self.scenario.steps

    def advance(self) -> None:
        """Apply the events due at the current step (per replicate), then step the dynamics."""
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
        ens.step()


def run_ensemble(
    scenario: Scenario,
    ids: np.ndarray,
    root: np.random.SeedSequence,
    *,
    every: int = 1,
    factions: bool = False,
    progress: str | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray, list[EventPlan], Ensemble]:
    """Run replicates ``ids`` of ``scenario``; return recorded arrays, steps, plans, state."""
    from tqdm import tqdm

    runner = Runner(scenario, ids, root)
    rec = Recorder(runner.ens, scenario.steps, every, factions)
    bar = tqdm(
        total=scenario.steps, desc=progress, unit="step", disable=progress is None, leave=False
    )
    while not runner.done:
        rec.maybe_record(runner.ens)
        runner.advance()
        bar.update()
    bar.close()
    rec.maybe_record(runner.ens)
    return rec.data, rec.steps, runner.plans, runner.ens


def simulate(
    scenario: Scenario,
    *,
    replicates: int | Sequence[int] = 100,
    rng: SeedLike = None,
    every: int = 1,
    factions: bool = False,
    progress: str | None = None,
):
    """Run replicates of a scenario as one vectorised ensemble.

    Parameters
    ----------
    scenario : Scenario
        A loaded scenario (`load_scenario`).
    replicates : int or sequence of int
        Number of replicates (ids 0..n-1), or the explicit replicate ids to run. Replicate k
        gives identical results whichever other replicates run beside it.
    rng : int, SeedSequence, Generator or None
        Root seed (SPEC 7). Record it to reproduce the run; None draws fresh entropy.
    every : int
        Record every ``every`` steps (the last step is always recorded).
    factions : bool
        Also record every faction's scores (measure ``score``).
    progress : str, optional
        Show a progress bar over steps with this label (None: no bar).

    Returns
    -------
    Result
        Arrays, tidy frames and writers for the run.
    """
    from .results import Result

    ids = (
        np.arange(replicates)
        if isinstance(replicates, int | np.integer)
        else np.asarray(replicates, dtype=np.int64)
    )
    if ids.ndim != 1 or len(ids) == 0 or (ids < 0).any():
        raise ValueError("replicates must be a positive count or non-empty non-negative ids")
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be a positive whole number, got {every!r}")
    root = root_seed(rng)
    data, steps, plans, _ = run_ensemble(
        scenario, ids, root, every=every, factions=factions, progress=progress
    )
    return Result(
        scenario=scenario,
        replicates=ids,
        seed=root,
        steps=steps,
        data=data,
        plans=plans,
        every=every,
    )
