"""Executors: run an experiment's chunks in-process, on a local process pool or on Dask.

`run_task` runs in worker processes, so it and its arguments must be importable and
picklable. How a batch runs is an argument, never a different API: every executor gives the
same numbers (seeds: `influence_sim.seeds`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from ..core.scenario import Scenario
from ..errors import ArgumentError
from ..seeds import point_seed
from .design import Output, Task
from .run import simulate
from .uncertainty import InputSample

__all__ = ["ChunkResult", "execute", "run_task"]


@dataclass
class ChunkResult:
    """What a task sends back: time series, per-replicate summary and event records.

    The time series is wide: one float32 column per series, rows by replicate then step.
    """

    task: Task
    timeseries: pa.Table
    summary: pd.DataFrame
    events: pd.DataFrame
    votes: pd.DataFrame


def run_task(
    scenario: Scenario,
    task: Task,
    seed: int,
    output: Output,
    inputs: InputSample | None = None,
) -> ChunkResult:
    """Run one chunk: replicates [task.start, task.end) of ``scenario`` (already at its point).

    Replicate k uses the streams keyed ``(point, k, ...)`` under the root ``seed``, and, with
    ``inputs``, the input point ``k mod P``.
    """
    ids = range(task.start, task.end)
    res = simulate(
        scenario,
        replicates=ids,
        inputs=inputs.columns(ids) if inputs is not None else None,
        rng=point_seed(seed, task.point),
        every=output.every,
        factions=output.factions,
        check_memory=False,  # the batch checked its chunks up front
    )
    # measures the world cannot produce (the economy without [[flows]]) are not recorded
    keep = [m for m in [*output.measures, *(["score"] if output.factions else [])] if m in res.data]
    ts = res.wide_table(keep)  # the selected measures; the summary uses them all
    summary = res.summary()
    summary.insert(1, "point", task.point)
    events = res.events()
    events.insert(1, "point", task.point)
    votes = res.votes()
    votes.insert(1, "point", task.point)
    votes = votes.astype({"replicate": "int64", "point": "int64"})
    return ChunkResult(task=task, timeseries=ts, summary=summary, events=events, votes=votes)


def execute(
    jobs: Iterable[tuple[Any, Callable[[], tuple]]],
    *,
    executor: str = "process",
    workers: int = 1,
    scheduler: str | None = None,
    fn: Callable[..., Any] = run_task,
) -> Iterator[Any]:
    """Run ``fn`` calls (`run_task` by default) and yield their results as they complete.

    ``jobs`` yields ``(task, args)`` where ``args()`` builds the arguments of ``fn`` lazily.
    At most ``2 x workers`` tasks are in flight, so memory stays bounded whatever the size of
    the experiment. ``fn`` must be importable by name (it runs in worker processes).
    """
    jobs = iter(jobs)
    if executor == "process" and workers == 1:
        for _task, args in jobs:
            yield fn(*args())
        return
    if executor == "process":
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        # a context, not set_start_method: never change the global multiprocessing setup
        ctx = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            pending = set()
            for _task, args in itertools.islice(jobs, 2 * workers):
                pending.add(pool.submit(fn, *args()))
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    for _task, args in itertools.islice(jobs, 1):
                        pending.add(pool.submit(fn, *args()))
                    yield fut.result()
        return
    if executor == "dask":
        yield from _execute_dask(jobs, workers=workers, scheduler=scheduler, fn=fn)
        return
    raise ValueError(f"unknown executor {executor!r}")


def _execute_dask(
    jobs, *, workers: int, scheduler: str | None, fn: Callable[..., Any]
) -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - the 'dask' extra is not installed
        raise ArgumentError(
            "the dask executor needs the 'dask' extra: pip install 'influence-sim[dask]'",
            argument="executor",
        ) from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
    client = Client(cluster if cluster is not None else scheduler)
    try:
        n_slots = 2 * max(workers, len(client.scheduler_info().get("workers", {})) or 1)
        queue = as_completed()
        for _task, args in itertools.islice(jobs, n_slots):
            queue.add(client.submit(fn, *args(), pure=False))
        for fut in queue:
            result = fut.result()
            fut.release()
            for _task, args in itertools.islice(jobs, 1):
                queue.add(client.submit(fn, *args(), pure=False))
            yield result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
