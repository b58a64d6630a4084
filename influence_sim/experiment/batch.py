"""A whole batch: an experiment's pending chunks, run on an executor, into a store."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from ..core.scenario import Scenario
from .budget import check_memory
from .design import Experiment, Task
from .executors import execute
from .store import ResultSet, Store, load_results

__all__ = ["run_experiment"]


def run_experiment(
    exp: Experiment,
    out: str | Path,
    *,
    executor: str = "process",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
) -> ResultSet:
    """Run an experiment's pending chunks into the results store at ``out``.

    Parameters
    ----------
    exp : Experiment
        From `load_experiment`.
    out : str or Path
        The store directory (created; or reopened with ``resume``).
    executor : {"process", "dask"}
        A local process pool, or a Dask distributed cluster.
    workers : int, optional
        Worker processes (default: the number of cores). With ``executor="dask"`` and no
        ``scheduler``, the size of the LocalCluster started.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``).
    resume : bool
        Reopen an existing store of this experiment and compute only its missing chunks. Every
        chunk marked done is first checked against its recorded size and checksum; damaged
        ones are run again (listed in the returned `ResultSet.repaired`).
    progress : bool
        Show a progress bar (runs done, runs per second, ETA).

    Returns
    -------
    ResultSet

    Raises
    ------
    ExperimentError
        When the chunks would need more memory than the budget (`check_memory`); nothing is
        written.
    StoreError
        When ``out`` cannot be used: not a folder, not writable, holding something else or
        another experiment, or locked by another batch.

    The batch holds the store's lock (`influence_sim.experiment.integrity.StoreLock`) while it
    runs.
    """
    if executor not in ("process", "dask"):
        raise ValueError(f"unknown executor {executor!r}; use 'process' or 'dask'")
    workers = workers or os.cpu_count() or 1
    check_memory(exp, workers)
    store = Store.open(out, exp, resume=resume)
    try:
        return _run(exp, store, out, executor, workers, scheduler, progress)
    finally:
        store.close()


def _run(
    exp: Experiment,
    store: Store,
    out: str | Path,
    executor: str,
    workers: int,
    scheduler: str | None,
    progress: bool,
) -> ResultSet:
    from tqdm import tqdm

    tasks = store.pending(exp)
    cache: dict[tuple[int, int], Scenario] = {}

    def args(t: Task):
        key = (t.scenario, t.point)
        if key not in cache:
            cache[key] = exp.at_point(exp.scenarios[t.scenario], t.point)
        return cache[key], t, exp.seed, exp.output, exp.inputs

    todo = sum(t.end - t.start for t in tasks)
    with tqdm(
        total=exp.runs,
        initial=exp.runs - todo,
        unit="run",
        disable=not progress,
        desc=exp.name,
        smoothing=0.1,
    ) as bar:
        jobs = ((t, lambda t=t: args(t)) for t in tasks)
        for result in execute(jobs, executor=executor, workers=workers, scheduler=scheduler):
            store.record(result)
            bar.update(result.task.end - result.task.start)
    return replace(load_results(out), repaired=tuple(store.repaired))
