"""Global sensitivity analysis: Sobol' indices and Morris screening (SALib), noise included.

Pure functions on arrays, in the style of SALib: a `Space` of named uncertain inputs with
bounds, a design (rows are points, in a fixed order), the model's outcomes at those points,
and the indices. The model is stochastic, so an outcome may have several replicates per point,
``Y`` of shape (points, replicates): the indices are computed on the replicate means, and the
part of the variance that is the model's own noise is reported beside them (`noise_share`),
not hidden in them.

Randomness follows SPEC 7: every function that draws takes an explicit ``rng`` (an int, a
`numpy.random.SeedSequence`, a `numpy.random.Generator` or None); the same ``rng`` gives the
same design and the same bootstrap intervals.

`evaluate` runs a design on the influence model: the design's global parameters and event
fields vary along the replicate axis of one vectorised ensemble (points x replicates), every
point sees the same replicate streams (common random numbers), and the outcome is a measure at
a date, or the paired effect of a scenario against a baseline.

This is the first layer of the sensitivity work (issue 11): global parameters and event
fields. World numbers as uncertain inputs, the experiment-file syntax and the commands come
next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError, suggest
from ..params import parameters
from ..seeds import SeedLike, generator, root_seed

if TYPE_CHECKING:
    from ..core.scenario import Scenario

__all__ = [
    "Outcome",
    "Space",
    "evaluate",
    "morris_design",
    "morris_indices",
    "noise_share",
    "sobol_design",
    "sobol_indices",
]


@dataclass(frozen=True)
class Space:
    """Named uncertain inputs, each uniform on its bounds ``(low, high)``, low < high."""

    names: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if not self.names:
            raise ArgumentError("an uncertainty space needs at least one input", argument="names")
        if len(self.names) != len(self.bounds):
            raise ArgumentError(
                f"{len(self.names)} names but {len(self.bounds)} bounds", argument="bounds"
            )
        if len(set(self.names)) != len(self.names):
            dup = next(n for n in self.names if self.names.count(n) > 1)
            raise ArgumentError(f"input '{dup}' is named twice", argument="names")
        for name, (lo, hi) in zip(self.names, self.bounds, strict=True):
            if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                raise ArgumentError(
                    f"input '{name}' needs finite bounds with low < high, got [{lo}, {hi}]",
                    argument="bounds",
                )

    @classmethod
    def of(cls, inputs: dict[str, tuple[float, float]]) -> Space:
        """A space from ``{name: (low, high)}``, in the mapping's order."""
        return cls(tuple(inputs), tuple((float(a), float(b)) for a, b in inputs.values()))

    @property
    def problem(self) -> dict[str, Any]:
        """The space as SALib's ``problem`` dictionary."""
        return {
            "num_vars": len(self.names),
            "names": list(self.names),
            "bounds": [list(b) for b in self.bounds],
        }


def _int_seed(rng: SeedLike) -> int:
    """One integer seed for SALib, drawn from the root of ``rng``."""
    return int(generator(root_seed(rng)).integers(2**31 - 1))


def _outcomes(Y: np.ndarray, rows: int) -> np.ndarray:
    """``Y`` as (points, replicates) floats, checked against the design's rows."""
    y = np.asarray(Y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] != rows:
        raise ArgumentError(
            f"outcomes must have one row per design point ({rows}), got shape {np.shape(Y)}",
            argument="Y",
        )
    if not np.isfinite(y).all():
        raise ArgumentError("outcomes hold NaN or infinity", argument="Y")
    return y


def noise_share(Y: np.ndarray) -> tuple[float, float]:
    """The model's own noise in the outcomes, (points, replicates).

    Returns the share of a single replicate's variance that is noise,
    E[Var(Y | x)] / Var(Y), and the share left in the replicate means that the indices are
    computed on, (E[Var(Y | x)] / k) / Var(mean Y | x) with k replicates. Both are 0 without
    replicates (k = 1), where the noise cannot be told apart from the inputs' effects.
    """
    y = np.asarray(Y, dtype=float)
    if y.ndim == 1 or y.shape[1] < 2:
        return 0.0, 0.0
    within = float(y.var(axis=1, ddof=1).mean())
    total = float(y.var(ddof=1))
    means = float(y.mean(axis=1).var(ddof=1))
    single = within / total if total > 0 else 0.0
    in_means = min(within / y.shape[1] / means, 1.0) if means > 0 else 0.0
    return single, in_means


def sobol_design(
    space: Space, n: int, *, rng: SeedLike = None, second_order: bool = False
) -> np.ndarray:
    """Saltelli's design for Sobol' indices: n x (D + 2) rows (n x (2D + 2) with second order).

    ``n`` must be a power of 2 (Sobol' sequences balance only then). Rows are in SALib's
    order; keep it: `sobol_indices` reads the outcomes in the same order.
    """
    if n < 2 or n & (n - 1):
        raise ArgumentError(f"n must be a power of 2 (e.g. 1024), got {n}", argument="n")
    from SALib.sample import sobol as sobol_sample

    out: np.ndarray = sobol_sample.sample(
        space.problem, n, calc_second_order=second_order, seed=_int_seed(rng)
    )
    return out


def sobol_indices(
    space: Space,
    Y: np.ndarray,
    *,
    rng: SeedLike = None,
    second_order: bool = False,
    resamples: int = 1000,
    conf: float = 0.95,
) -> pd.DataFrame:
    """First-order and total Sobol' indices with bootstrap confidence intervals.

    Parameters
    ----------
    space : Space
    Y : ndarray, shape (rows,) or (rows, replicates)
        The outcome at each row of `sobol_design` (same space, same ``second_order``), in
        the design's order; with replicates, the indices use their means.
    rng : seed for the bootstrap.
    resamples, conf : the bootstrap's size and confidence level.

    Returns
    -------
    DataFrame indexed by input, columns ``S1``, ``S1_lo``, ``S1_hi``, ``ST``, ``ST_lo``,
    ``ST_hi`` (the interval is the estimate ± SALib's half-width), sorted by ``ST``
    (largest first). ``attrs`` holds ``noise_single`` and ``noise_in_means`` (`noise_share`),
    ``replicates`` and ``n``.
    """
    d = len(space.names)
    per = 2 * d + 2 if second_order else d + 2
    y = np.asarray(Y, dtype=float)
    if y.shape[0] % per:
        raise ArgumentError(
            f"a Sobol' design of {d} inputs has a multiple of {per} rows; got {y.shape[0]}",
            argument="Y",
        )
    y = _outcomes(y, y.shape[0])
    from SALib.analyze import sobol as sobol_analyze

    res = sobol_analyze.analyze(
        space.problem,
        y.mean(axis=1),
        calc_second_order=second_order,
        num_resamples=resamples,
        conf_level=conf,
        seed=_int_seed(rng),
    )
    frame = _indices(space, res, ("S1", "ST"), ("S1", "ST"), y, sort_by="ST")
    frame.attrs["n"] = y.shape[0] // per
    return frame


def morris_design(space: Space, r: int, *, levels: int = 4, rng: SeedLike = None) -> np.ndarray:
    """Morris's elementary-effects design: r trajectories of D + 1 rows, in SALib's order."""
    if r < 2:
        raise ArgumentError(f"Morris needs at least 2 trajectories, got {r}", argument="r")
    from SALib.sample import morris as morris_sample

    out: np.ndarray = morris_sample.sample(space.problem, r, num_levels=levels, seed=_int_seed(rng))
    return out


def morris_indices(
    space: Space,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    levels: int = 4,
    rng: SeedLike = None,
    resamples: int = 1000,
    conf: float = 0.95,
) -> pd.DataFrame:
    """Morris screening: μ, μ* (with its bootstrap interval) and σ per input, by μ*.

    ``X`` is the `morris_design` and ``Y`` the outcomes at its rows (replicate means are
    used; `noise_share` goes to ``attrs`` as for `sobol_indices`).
    """
    x = np.asarray(X, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(space.names):
        raise ArgumentError(
            f"the design must have one column per input ({len(space.names)}), got {x.shape}",
            argument="X",
        )
    y = _outcomes(Y, x.shape[0])
    from SALib.analyze import morris as morris_analyze

    res = morris_analyze.analyze(
        space.problem,
        x,
        y.mean(axis=1),
        num_resamples=resamples,
        conf_level=conf,
        num_levels=levels,
        seed=_int_seed(rng),
    )
    return _indices(space, res, ("mu", "mu_star", "sigma"), ("mu_star",), y, sort_by="mu_star")


def _indices(
    space: Space,
    res: dict[str, Any],
    names: Sequence[str],
    intervals: Sequence[str],
    y: np.ndarray,
    *,
    sort_by: str,
) -> pd.DataFrame:
    """SALib's indices as a frame indexed by input, largest ``sort_by`` first.

    Each index in ``intervals`` gets ``<name>_conf`` (SALib's half-width) and the interval
    ``<name>_lo`` / ``<name>_hi``; ``attrs`` get the noise shares of ``y`` and its replicates.
    """
    cols: dict[str, np.ndarray] = {}
    for name in names:
        cols[name] = np.asarray(res[name], float)
        if name in intervals:
            cols[f"{name}_conf"] = np.asarray(res[f"{name}_conf"], float)
    frame = pd.DataFrame(cols, index=pd.Index(space.names, name="input"))
    for name in intervals:
        frame[f"{name}_lo"] = frame[name] - frame[f"{name}_conf"]
        frame[f"{name}_hi"] = frame[name] + frame[f"{name}_conf"]
    frame = frame.sort_values(sort_by, ascending=False, kind="stable")
    single, in_means = noise_share(y)
    frame.attrs.update(noise_single=single, noise_in_means=in_means, replicates=y.shape[1])
    return frame


@dataclass(frozen=True)
class Outcome:
    """A measure of one actor (and power) at a date: what a design point is scored on."""

    measure: str
    actor: str | None
    date: date
    power: str | None = None


#: The prefix of an event field's input name: ``event.<event id>.<field>``.
EVENT_INPUT = "event."


def _event_input(name: str) -> tuple[str, str] | None:
    """``(event id, field)`` of an input named ``event.<id>.<field>``, else None.

    Event ids may hold dots, so the field is the part after the last dot, or after the
    last two for a per-power table (``anchor.RU``) when the id is then found.
    """
    if not name.startswith(EVENT_INPUT):
        return None
    rest = name[len(EVENT_INPUT) :]
    if "." not in rest:
        return rest, ""
    eid, field = rest.rsplit(".", 1)
    return eid, field


def _check_space(space: Space, scenarios: Sequence[Scenario]) -> None:
    """Check that every input is a numeric parameter or event field, within its range.

    An event field is named ``event.<id>.<field>`` and must belong to an event of one of
    ``scenarios``.
    """
    params = parameters()
    events = {e.id: e for sc in scenarios for e in sc.events}
    for name, (lo, hi) in zip(space.names, space.bounds, strict=True):
        ev_input = _event_input(name)
        if ev_input is not None:
            eid, field = ev_input
            event = events.get(eid)
            if event is None and "." in eid:  # a per-power field: event.<id>.anchor.RU
                head, tail = eid.rsplit(".", 1)
                if head in events:
                    event, eid, field = events[head], head, f"{tail}.{field}"
            if event is None:
                raise ArgumentError(
                    f"input '{name}': no event '{eid}' in the scenarios",
                    argument="space",
                    suggestion=(f"{EVENT_INPUT}{hint}" if (hint := suggest(eid, events)) else None),
                )
            if field not in event.numbers:
                numeric = list(event.numbers)
                raise ArgumentError(
                    f"input '{name}': '{field}' is not a numeric field of {event.kind} event "
                    f"'{eid}' (one of {', '.join(numeric) or 'none'})",
                    argument="space",
                    suggestion=suggest(field, numeric),
                )
            dist = event.numbers[field]
            if lo < dist.lo or hi > dist.hi:
                raise ArgumentError(
                    f"bounds [{lo}, {hi}] of '{name}' leave the field's range "
                    f"[{dist.lo}, {dist.hi}]",
                    argument="space",
                )
            continue
        prm = params.get(name)
        if prm is None or not prm.numeric:
            numeric = [n for n, p in params.items() if p.numeric]
            raise ArgumentError(
                f"'{name}' is neither a numeric global parameter nor an event field "
                f"({EVENT_INPUT}<event id>.<field>)",
                argument="space",
                suggestion=suggest(name, numeric),
            )
        assert prm.low is not None and prm.high is not None
        if lo < prm.low or hi > prm.high:
            raise ArgumentError(
                f"bounds [{lo}, {hi}] of '{name}' leave its range [{prm.low}, {prm.high}]",
                argument="space",
            )


def _at(
    scenario: Scenario,
    space: Space,
    X: np.ndarray,
    outcome: Outcome,
    k: int,
    root: np.random.SeedSequence,
) -> np.ndarray:
    """The outcome of design rows ``X`` with k replicates each, (rows, k).

    Parameters are passed to the ensemble as one value per replicate; an event field's
    sampled values are replaced by the design's, for the events this scenario has (an
    input on an event it lacks, e.g. one a counterfactual removes, does nothing here).
    """
    from ..core.measures import measure
    from ..core.runner import Runner

    n = len(X)
    ids = np.tile(np.arange(k), n)  # the same k replicate streams at every point
    params, fields = {}, {}
    for j, name in enumerate(space.names):
        column = np.repeat(X[:, j], k)
        if name.startswith(EVENT_INPUT):
            fields[name[len(EVENT_INPUT) :]] = column
        else:
            params[name] = column
    runner = Runner(scenario, ids, root, params=params)
    for plan in runner.plans:
        for key, column in fields.items():
            if key.startswith(f"{plan.event.id}.") and key[len(plan.event.id) + 1 :] in (
                plan.values
            ):
                plan.values[key[len(plan.event.id) + 1 :]] = column.copy()
    step = (outcome.date - scenario.start).days // scenario.step_days
    while runner.ens.t < step:
        runner.advance()
    spec = measure(outcome.measure)
    return spec.value(runner.ens, outcome.actor, outcome.power).reshape(n, k)


def evaluate(
    scenario: Scenario,
    space: Space,
    X: np.ndarray,
    outcome: Outcome,
    *,
    replicates: int = 8,
    against: Scenario | None = None,
    rng: SeedLike = None,
    chunk: int | None = None,
) -> np.ndarray:
    """Score every row of a design on the model, (rows, replicates).

    Parameters
    ----------
    scenario : Scenario
    space : Space
        Numeric global parameters (`influence_sim.params.parameters`) and numeric event
        fields, named ``event.<event id>.<field>`` (e.g. ``event.csto_deploy.size``), within
        their ranges. An event field's design value replaces the value the event would draw.
    X : ndarray, shape (rows, inputs)
        The design (`sobol_design`, `morris_design`), kept in its order.
    outcome : Outcome
        The measure, actor, power and date scored.
    replicates : int
        Replicates per design point; replicate j uses the same random streams at every point.
    against : Scenario, optional
        A baseline: the result is the paired effect, scenario minus baseline, replicate by
        replicate (common random numbers).
    rng : the root seed of the replicates' streams.
    chunk : int, optional
        Design rows per vectorised ensemble (default: all at once); the result does not
        depend on it.
    """
    _check_space(space, [scenario] if against is None else [scenario, against])
    x = np.asarray(X, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(space.names):
        raise ArgumentError(
            f"the design must have one column per input ({len(space.names)}), got {x.shape}",
            argument="X",
        )
    if replicates < 1:
        raise ArgumentError(f"need at least one replicate, got {replicates}", argument="replicates")
    if not scenario.start <= outcome.date <= scenario.dates()[-1].astype(date):
        raise ArgumentError(
            f"{outcome.date} is outside the scenario's run ({scenario.start} on)",
            argument="outcome",
        )
    root = root_seed(rng)
    size = chunk or len(x)
    parts = []
    for start in range(0, len(x), size):
        rows = x[start : start + size]
        value = _at(scenario, space, rows, outcome, replicates, root)
        if against is not None:
            value = value - _at(against, space, rows, outcome, replicates, root)
        parts.append(value)
    out: np.ndarray = np.concatenate(parts, axis=0)
    return out
