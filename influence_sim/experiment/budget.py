"""Memory, estimated before anything is allocated or written.

A run's memory is dominated by its recorded arrays, float32 of shape (recorded steps,
replicates, series), and by the tables built from them. `run_bytes` estimates the peak for a
run. `batch_bytes` estimates it for a batch: each worker holds one chunk, and the parent holds
up to two finished chunks per worker. A run or batch whose estimate exceeds the budget is
refused with the estimate and the way out, before anything is allocated or written.

The budget is `DEFAULT_FRACTION` of the memory available when the check runs (MemAvailable
in /proc/meminfo). Set ``INFLUENCE_SIM_MEMORY_BUDGET`` to override it: a size such as
``8GiB`` or ``500MB``, or a fraction of available memory such as ``0.8``.

The estimates are calibrated on the shipped world, where the peak was measured with
``/usr/bin/time -f %M``. ``influence-sim run -n 1000`` recording every day, with its output
written, peaks at 0.38 GB including the imports; its recorded arrays are 0.13 GB and the
estimate is 0.50 GB. With ``-n 2000 --factions`` the peak is 0.74 GB and the estimate 1.3 GB.
The estimates err on the high side.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from ..core.measures import MEASURES, RECORDED
from ..core.scenario import Scenario
from ..errors import ExperimentError, InputError
from .design import Experiment

__all__ = [
    "DEFAULT_FRACTION",
    "ENV",
    "available_memory",
    "batch_bytes",
    "check_design_memory",
    "check_memory",
    "format_bytes",
    "memory_budget",
    "run_bytes",
]

ENV = "INFLUENCE_SIM_MEMORY_BUDGET"
#: Share of the available memory that one run or batch may plan to use.
DEFAULT_FRACTION = 0.5
#: Memory of an interpreter with the package, numpy, scipy, pandas and pyarrow imported.
BASE_BYTES = 200 * 2**20
#: Kernel arrays and temporaries per replicate, faction and power (incl. autonomy, share).
KERNEL_ARRAYS = 40
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def available_memory() -> int:
    """Bytes of memory available to new allocations (MemAvailable on Linux)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))


def memory_budget() -> int:
    """The budget in bytes: ``INFLUENCE_SIM_MEMORY_BUDGET``, else half the available memory."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return int(DEFAULT_FRACTION * available_memory())
    m = re.fullmatch(r"([0-9]*\.?[0-9]+(?:[eE][0-9]+)?)\s*([A-Za-z]*)", raw)
    unit = m.group(2).upper() if m else ""
    if m is None or unit not in _UNITS:
        raise InputError(
            f"expected a size such as 8GiB or 500MB, or a fraction of available memory "
            f"such as 0.8; got {raw[:40]!r}",
            item=f"environment variable {ENV}",
        )
    value = float(m.group(1))
    if not unit and value <= 1:
        return int(value * available_memory())
    return int(value * _UNITS[unit])


def format_bytes(n: float) -> str:
    """``1.2 GiB`` style."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover


def _recorded(scenario: Scenario, replicates: int, every: int, measures: list[str]) -> int:
    """Bytes of the recorded float32 arrays."""
    w = scenario.world
    steps = len(range(0, scenario.steps + 1, every)) + 1
    series = sum(math.prod(MEASURES[m].shape(w)) for m in measures)
    return steps * replicates * series * 4


def _kernel(scenario: Scenario, replicates: int) -> int:
    w = scenario.world
    return replicates * len(w.factions) * (len(w.powers) + 2) * 8 * KERNEL_ARRAYS


def run_bytes(
    scenario: Scenario, replicates: int, *, every: int = 1, factions: bool = False
) -> int:
    """Estimated peak bytes of `simulate` and writing its result (imports included)."""
    measures = [*RECORDED, *(["score"] if factions else [])]
    return (
        2 * _recorded(scenario, replicates, every, measures)
        + _kernel(scenario, replicates)
        + BASE_BYTES
    )


def batch_bytes(
    scenario: Scenario,
    chunk: int,
    *,
    every: int,
    factions: bool,
    kept: list[str],
    workers: int,
) -> int:
    """Estimated peak bytes of a batch: every worker's chunk and the results in flight."""
    per_worker = run_bytes(scenario, chunk, every=every, factions=factions)
    result = _recorded(scenario, chunk, every, [*kept, *(["score"] if factions else [])])
    return workers * per_worker + 2 * workers * result + BASE_BYTES


def check_memory(exp: Experiment, workers: int) -> None:
    """Refuse (`ExperimentError` on ``chunk``) a batch whose chunks would not fit in memory."""
    need = max(
        batch_bytes(
            s,
            exp.chunk,
            every=exp.output.every,
            factions=exp.output.factions,
            kept=list(exp.output.measures),
            workers=workers,
        )
        for s in exp.scenarios
    )
    budget = memory_budget()
    if need > budget:
        per = max(1, int(exp.chunk * budget / need))
        raise ExperimentError(
            f"chunks of {exp.chunk:,} replicates on {workers} worker(s) need about "
            f"{format_bytes(need)} of memory, more than the budget of {format_bytes(budget)}; "
            f"use a smaller chunk (about {per:,} fits) or fewer workers (budget: {ENV})",
            file=exp.path,
            item="[experiment]",
            field="chunk",
        )


def check_design_memory(exp: Experiment, workers: int) -> None:
    """Refuse (`ExperimentError` on ``[uncertainty] chunk``) a design run that would not fit.

    Each worker holds one ensemble of chunk x replicates-per-point replicates at a time (no
    time series is recorded: only the outcomes, a few numbers per replicate).
    """
    u = exp.uncertainty
    if u is None:
        return
    size = u.chunk * u.replicates
    need = max(workers * _kernel(s, size) for s in exp.scenarios) + BASE_BYTES
    budget = memory_budget()
    if need > budget:
        per = max(1, int(u.chunk * budget / need))
        raise ExperimentError(
            f"chunks of {u.chunk:,} design points x {u.replicates} replicates on {workers} "
            f"worker(s) need about {format_bytes(need)} of memory, more than the budget of "
            f"{format_bytes(budget)}; use a smaller chunk (about {per:,} fits) or fewer "
            f"workers (budget: {ENV})",
            file=exp.path,
            item="[uncertainty]",
            field="chunk",
        )
