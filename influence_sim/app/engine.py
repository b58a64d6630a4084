"""What the explore view computes: ensembles with progress, the what-if paired with its base.

Plain Python (no Solara). `run` is `influence_sim.simulate` with a progress callback: the same
`Runner` and `Recorder`, so replicate k is bit-identical to replicate k of ``simulate`` (and
of ``influence-sim run``) with the same seed. `Pair` puts the unedited scenario's run and the
what-if's run side by side as one `ResultSource` of two scenarios (the unedited one its
baseline), so every figure of `influence_sim.plots` draws the what-if with the unedited
scenario ghosted behind, and `paired_effects` compares them replicate by replicate: both runs
use the same seed, so replicate k of each shares its random streams (common random numbers).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.stats import bootstrap_counts, paired_stats
from ..core.runner import Recorder, Runner
from ..core.scenario import Scenario
from ..core.world import World
from ..experiment.run import Result
from ..experiment.source import ScenarioRecord
from ..seeds import root_seed

__all__ = ["DEFAULT_REPLICATES", "DEFAULT_SEED", "Pair", "firing_table", "paired_effects", "run"]

#: The explore view's ensemble: 200 replicates, a fixed seed (the command line's default).
DEFAULT_REPLICATES = 200
DEFAULT_SEED = 20220105
#: Progress is reported about this many times per run.
PROGRESS_UPDATES = 20

Progress = Callable[[float], None]


def run(
    scenario: Scenario,
    *,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    every: int = 1,
    on_progress: Progress | None = None,
) -> Result:
    """Run replicates 0..n-1 of a scenario as one ensemble, reporting progress in [0, 1].

    The numbers are those of ``simulate(scenario, replicates=replicates, rng=seed,
    every=every)``: the same runner and recorder, with a callback between steps.
    """
    ids = np.arange(replicates)
    root = root_seed(seed)
    runner = Runner(scenario, ids, root)
    rec = Recorder(runner.ens, scenario.steps, every, False)
    stride = max(1, scenario.steps // PROGRESS_UPDATES)
    while not runner.done:
        rec.maybe_record(runner.ens)
        runner.advance()
        if on_progress is not None and runner.ens.t % stride == 0:
            on_progress(runner.ens.t / scenario.steps)
    rec.maybe_record(runner.ens)
    if on_progress is not None:
        on_progress(1.0)
    return Result(
        scenario=scenario,
        replicates=ids,
        seed=root,
        steps=rec.steps,
        data=rec.data,
        plans=runner.plans,
        every=every,
    )


@dataclass
class Pair:
    """The unedited scenario's run (the baseline) and the what-if's run, as a ResultSource.

    Both runs have the same seed, replicates and recording interval. The scenario names are
    the two runs' own (`Pair.base_name`, `Pair.edit_name`); ``seconds`` is how long the
    what-if's run took.
    """

    base: Result
    edit: Result
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.base.scenario.name == self.edit.scenario.name:
            raise ValueError("the what-if needs a name of its own")
        if not np.array_equal(self.base.replicates, self.edit.replicates) or not np.array_equal(
            self.base.steps, self.edit.steps
        ):
            raise ValueError("the two runs are not paired (different replicates or steps)")

    @property
    def base_name(self) -> str:
        """The unedited scenario's name."""
        return self.base.scenario.name

    @property
    def edit_name(self) -> str:
        """The what-if's name."""
        return self.edit.scenario.name

    def _run(self, scenario: str | None) -> Result:
        if scenario in (None, self.base_name):
            return self.base
        if scenario == self.edit_name:
            return self.edit
        raise KeyError(f"no scenario '{scenario}' here ({self.base_name}, {self.edit_name})")

    # ---- ResultSource -------------------------------------------------------------------
    @property
    def is_experiment(self) -> bool:
        """False: two runs, not a store."""
        return False

    @property
    def scenarios(self) -> list[str]:
        """The unedited scenario, then the what-if."""
        return [self.base_name, self.edit_name]

    @property
    def baseline(self) -> str:
        """The unedited scenario."""
        return self.base_name

    @property
    def n_replicates(self) -> int:
        """Replicates of each run."""
        return self.base.n_replicates

    @property
    def points(self) -> list[dict[str, float]]:
        """One point."""
        return [{}]

    @property
    def measures(self) -> list[str]:
        """The recorded measures."""
        return self.base.measures

    @property
    def every(self) -> int:
        """Recording interval in steps."""
        return self.base.every

    def record(self, scenario: str | None = None) -> ScenarioRecord:
        """A scenario's record."""
        return self._run(scenario).record()

    def world(self, scenario: str | None = None) -> World:
        """A scenario's world."""
        return self._run(scenario).world()

    def block(
        self, measure: str, scenario: str | None = None, point: int = 0
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Dates, values (T, R, K) and labels of a measure of one of the two runs."""
        return self._run(scenario).block(measure)

    def event_rates(self, scenario: str | None = None, point: int = 0) -> dict[str, float]:
        """Share of replicates in which each event fired."""
        return self._run(scenario).event_rates()

    def focus_states(self) -> list[str]:
        """States that either scenario's events name (the unedited one's come first)."""
        return self.base.focus_states()

    # ---- the comparison -----------------------------------------------------------------
    @property
    def dates(self) -> np.ndarray:
        """The recorded dates."""
        return self.base.dates

    def date_index(self, when: date | str | None) -> int:
        """The last recorded date on or before ``when`` (default: the horizon)."""
        x = self.dates
        if when is None:
            return len(x) - 1
        k = int(np.searchsorted(x, np.datetime64(when, "D"), side="right")) - 1
        return min(max(k, 0), len(x) - 1)


def paired_effects(
    pair: Pair,
    measure: str = "balance",
    when: date | str | None = None,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """The what-if minus the unedited scenario, replicate by replicate, per series.

    Columns: ``actor``, ``power``, ``date``, ``n``, ``mean`` (of the paired differences),
    ``ci_low``, ``ci_high`` (percentile bootstrap of the mean at ``level``), ``positive``
    (share of replicates with a positive difference), ``sd``, ``effect_size``, and the two
    scenarios' means ``unedited`` and ``whatif``; from `influence_sim.analysis.stats`, as
    `influence_sim.compare` computes them for a store.
    """
    k = pair.date_index(when)
    _, b, labels = pair.block(measure, pair.base_name)
    _, e, _ = pair.block(measure, pair.edit_name)
    counts = bootstrap_counts(pair.n_replicates, n_boot, np.random.default_rng(seed))
    st = paired_stats(e[k] - b[k], counts, level)
    st.insert(0, "actor", [lb.split("/")[0] for lb in labels])
    st.insert(1, "power", [lb.split("/")[1] if "/" in lb else "" for lb in labels])
    st.insert(2, "date", str(pair.dates[k]))
    st["unedited"] = b[k].mean(axis=0)
    st["whatif"] = e[k].mean(axis=0)
    return st


def firing_table(pair: Pair, removed: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Each event of the unedited scenario and of the what-if: date and share that fired.

    Columns ``event``, ``kind``, ``date`` (the what-if's, or the unedited one's for a removed
    event), ``unedited`` and ``whatif`` (share of replicates in which it fired; NaN where
    the event is not in that scenario) and ``status`` (``removed``, ``changed`` or ``""``).
    """
    base = {e["id"]: e for e in pair.record(pair.base_name).events}
    edit = {e["id"]: e for e in pair.record(pair.edit_name).events}
    rb, re_ = pair.event_rates(pair.base_name), pair.event_rates(pair.edit_name)
    rows = []
    for eid, ev in base.items():
        mine = edit.get(eid)
        status = "removed" if mine is None else ("changed" if mine != ev else "")
        rows.append(
            {
                "event": eid,
                "kind": ev["kind"],
                "date": (mine or ev)["date"],
                "unedited": rb.get(eid, np.nan),
                "whatif": re_.get(eid, np.nan) if mine is not None else np.nan,
                "status": status,
            }
        )
    return pd.DataFrame(rows)


class BaseCache:
    """Runs of unedited scenarios, by (scenario hash, replicates, seed): computed once each."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._runs: dict[tuple[str, int, int], Result] = {}

    def get(
        self,
        scenario: Scenario,
        replicates: int,
        seed: int,
        on_progress: Progress | None = None,
    ) -> Result:
        """The run of ``scenario``; run it (with progress) the first time."""
        key = (scenario.sha256, replicates, seed)
        if key not in self._runs:
            if len(self._runs) >= self.size:
                self._runs.pop(next(iter(self._runs)))
            self._runs[key] = run(
                scenario, replicates=replicates, seed=seed, on_progress=on_progress
            )
        return self._runs[key]


def run_pair(
    base: Scenario,
    edit: Scenario,
    *,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    cache: BaseCache | None = None,
    on_progress: Progress | None = None,
) -> Pair:
    """Run the what-if (and, unless cached, the unedited scenario) and pair them.

    Progress goes from 0 to 1 over both runs (the what-if's alone when the unedited one is
    cached).
    """
    cache = cache if cache is not None else BaseCache()
    cached = (base.sha256, replicates, seed) in cache._runs

    def part(lo: float, hi: float) -> Progress | None:
        if on_progress is None:
            return None
        report = on_progress
        return lambda f: report(lo + (hi - lo) * f)

    b = cache.get(base, replicates, seed, part(0.0, 0.5))
    t0 = time.perf_counter()
    e = run(edit, replicates=replicates, seed=seed, on_progress=part(0.0 if cached else 0.5, 1.0))
    return Pair(base=b, edit=e, seconds=time.perf_counter() - t0)
