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

`run_sensitivity` runs an experiment's declared ``[uncertainty]`` (Morris or Sobol') into a
store that resumes like a batch's (`influence_sim.experiment.sweep`), and `analyse` computes
every outcome's indices and every conclusion's share of the design where it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError, InputError, suggest
from ..experiment.design import Experiment
from ..experiment.sweep import DesignRun
from ..experiment.uncertainty import Conclusion, Outcome, Space, evaluate
from ..seeds import SeedLike, design_seed, generator, root_seed

__all__ = [
    "METHODS",
    "Outcome",
    "SensitivityRun",
    "Space",
    "analyse",
    "evaluate",
    "find_sensitivity",
    "load_sensitivity",
    "morris_design",
    "morris_indices",
    "noise_share",
    "run_sensitivity",
    "sobol_design",
    "sobol_indices",
]


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


# ---------------------------------------------------------------------------------------
# a sensitivity analysis of an experiment, in a store

#: The methods of `run_sensitivity`.
METHODS = ("morris", "sobol")


@dataclass
class SensitivityRun:
    """A sensitivity analysis read from its store: the design run and the indices.

    Attributes
    ----------
    run : DesignRun
        The design and the outcomes at its rows (`influence_sim.experiment.sweep`).
    indices : DataFrame
        One row per outcome and input (columns ``outcome``, ``input`` and the method's
        indices, see `sobol_indices` / `morris_indices`), each outcome's inputs in order of
        importance; ``attrs["noise"]`` maps each outcome to its noise shares.
    conclusions : DataFrame
        Per conclusion, the share of design points where it holds (replicate means).
    """

    run: DesignRun
    indices: pd.DataFrame
    conclusions: pd.DataFrame

    @property
    def path(self) -> Path:
        """The store."""
        return self.run.path

    @property
    def method(self) -> str:
        """``morris`` or ``sobol``."""
        return str(self.run.method["name"])

    def of(self, outcome: str) -> pd.DataFrame:
        """The indices of one outcome, indexed by input (as `sobol_indices` returns them)."""
        if outcome not in set(self.indices["outcome"]):
            names = list(dict.fromkeys(self.indices["outcome"]))
            raise ArgumentError(
                f"no outcome '{outcome}' in this analysis; one of {', '.join(names)}",
                argument="outcome",
                suggestion=suggest(outcome, names),
            )
        frame = self.indices[self.indices["outcome"] == outcome].drop(columns="outcome")
        frame = frame.set_index("input")
        frame.attrs = dict(self.indices.attrs["noise"][outcome])
        return frame

    def table(self, top: int = 5) -> str:
        """The most influential inputs of each outcome, as text."""
        key = "ST" if self.method == "sobol" else "mu_star"
        lines = []
        for name in dict.fromkeys(self.indices["outcome"]):
            f = self.of(name)
            noise = f.attrs
            lines.append(
                f"{name}: {self.run.outcome(name).text}  (noise: {noise['noise_single']:.0%} of "
                f"one replicate's variance, {noise['noise_in_means']:.0%} left in the means)"
            )
            for inp, r in f.head(top).iterrows():
                if key == "ST":
                    lines.append(
                        f"  {inp:<38} ST {r.ST:6.3f} [{r.ST_lo:6.3f}, {r.ST_hi:6.3f}]"
                        f"  S1 {r.S1:6.3f}"
                    )
                else:
                    lines.append(
                        f"  {inp:<38} mu* {r.mu_star:8.4f} [{r.mu_star_lo:8.4f}, "
                        f"{r.mu_star_hi:8.4f}]  sigma {r.sigma:8.4f}"
                    )
        for _, c in self.conclusions.iterrows():
            lines.append(
                f"conclusion {c['conclusion']}: holds at {c['holds']:.0%} of "
                f"{c['points']} design points ({c['statement']})"
            )
        return "\n".join(lines)


def run_sensitivity(
    exp: Experiment,
    out: str | Path,
    *,
    method: str = "morris",
    n: int = 20,
    levels: int = 4,
    executor: str = "process",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
) -> SensitivityRun:
    """Run a sensitivity analysis of an experiment's ``[uncertainty]`` into a store.

    Parameters
    ----------
    exp : Experiment
        An experiment with ``[uncertainty]`` and ``[[outcomes]]`` (`load_experiment`).
    out : str or Path
        The store (created, or reopened with ``resume``).
    method : {"morris", "sobol"}
    n : int
        Morris: the number of trajectories r (D + 1 rows each); Sobol': the base sample N, a
        power of 2 (N x (D + 2) rows).
    levels : int
        Morris's grid levels.
    executor, workers, scheduler, resume, progress
        As for `influence_sim.run_experiment`; the results do not depend on them.

    The design is drawn from the experiment's seed, so the same file gives the same design,
    outcomes and indices.
    """
    from ..experiment.sweep import run_design, uncertainty_of

    u = uncertainty_of(exp)
    if not u.outcomes:
        raise InputError(
            "a sensitivity analysis needs at least one outcome: add [[outcomes]] (or "
            "[[conclusions]]); `calibrate` does not need them",
            file=exp.path,
            item="[[outcomes]]",
        )
    if method not in METHODS:
        raise ArgumentError(
            f"unknown method {method!r}; one of {', '.join(METHODS)}",
            argument="method",
            suggestion=suggest(method, METHODS),
        )
    seed = design_seed(exp.seed)
    if method == "sobol":
        X = sobol_design(u.space, n, rng=seed)
        info: dict[str, Any] = {"name": "sobol", "n": n, "second_order": False}
    else:
        X = morris_design(u.space, n, levels=levels, rng=seed)
        info = {"name": "morris", "n": n, "levels": levels}
    run = run_design(
        exp,
        X,
        out,
        method=info,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        resume=resume,
        progress=progress,
    )
    return analyse(run, seed=exp.seed)


def analyse(
    run: DesignRun, *, seed: int | None = None, resamples: int = 1000, write: bool = True
) -> SensitivityRun:
    """The indices of every outcome of a complete design run.

    With ``write``, they go to ``indices.csv`` and ``conclusions.csv`` in the store
    (atomically). The bootstrap draws from ``seed`` (default: the experiment's), so
    reanalysing gives the same numbers.
    """
    from .._io import atomic_file

    seed = run.seed if seed is None else seed
    method = run.method
    frames, noise = [], {}
    values = {o.name: run.Y(o.name) for o in run.outcomes}
    for o in run.outcomes:
        y = values[o.name]
        if method["name"] == "sobol":
            f = sobol_indices(run.space, y, rng=seed, resamples=resamples)
        else:
            f = morris_indices(
                run.space, run.X, y, levels=int(method["levels"]), rng=seed, resamples=resamples
            )
        noise[o.name] = dict(f.attrs)
        frames.append(f.reset_index().assign(outcome=o.name))
    indices = pd.concat(frames, ignore_index=True)
    indices = indices[["outcome", *[c for c in indices.columns if c != "outcome"]]]
    indices.attrs["noise"] = noise
    conclusions = conclusion_table(run, values)
    if write:
        attrs = pd.DataFrame([{"outcome": k, **v} for k, v in noise.items()])
        with atomic_file(run.path / INDICES) as tmp:
            indices.merge(attrs, on="outcome").to_csv(tmp, index=False)
        with atomic_file(run.path / CONCLUSIONS) as tmp:
            conclusions.to_csv(tmp, index=False)
    return SensitivityRun(run=run, indices=indices, conclusions=conclusions)


#: The files `analyse` writes into a run's store.
INDICES, CONCLUSIONS = "indices.csv", "conclusions.csv"
#: The per-outcome attributes written beside the indices (`sobol_indices` / `morris_indices`).
NOISE_ATTRS = ("noise_single", "noise_in_means", "replicates", "n")


def _read_analysis(run: DesignRun) -> SensitivityRun | None:
    """The indices and conclusions `analyse` wrote, or None when they are missing or stale."""
    try:
        table = pd.read_csv(run.path / INDICES)
        conclusions = pd.read_csv(run.path / CONCLUSIONS)
    except (OSError, ValueError):
        return None
    names = [o.name for o in run.outcomes]
    declared = [n for n, _ in run.conclusions]
    if (
        list(dict.fromkeys(table.get("outcome", []))) != names
        or list(conclusions.get("conclusion", [])) != declared
    ):
        return None
    attrs = [c for c in NOISE_ATTRS if c in table.columns]
    noise = {
        name: {
            a: (int(v) if a in ("replicates", "n") else float(v))
            for a, v in group[attrs].iloc[0].items()
        }
        for name, group in table.groupby("outcome", sort=False)
    }
    indices = table.drop(columns=attrs)
    indices.attrs["noise"] = noise
    return SensitivityRun(run=run, indices=indices, conclusions=conclusions)


def conclusion_table(run: DesignRun, values: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Per declared conclusion, the share of design points where it holds."""
    values = values or {o.name: run.Y(o.name) for o in run.outcomes}
    means = {k: v.mean(axis=1) for k, v in values.items()}
    rows = []
    for c in conclusions_of(run):
        holds = c.holds(means)  # as run.holds(c.name), from the means already read
        rows.append(
            {
                "conclusion": c.name,
                "statement": c.text,
                "points": len(holds),
                "holds": float(holds.mean()),
            }
        )
    return pd.DataFrame(rows, columns=["conclusion", "statement", "points", "holds"])


def conclusions_of(run: DesignRun) -> list[Conclusion]:
    """The conclusions declared in the run's experiment, parsed again from the manifest.

    Their function terms stand for stored outcomes named by their text, so each reads the
    stored outcomes by name.
    """
    return [run.conclusion(name)[0] for name, _ in run.conclusions]


def load_sensitivity(path: str | Path) -> SensitivityRun:
    """Read a sensitivity analysis's store (`run_sensitivity`).

    The indices are those `analyse` wrote into it, or computed again (and not written: a
    reader does not write) when they are missing.
    """
    from ..experiment.sweep import load_design_run

    run = load_design_run(path)
    return _read_analysis(run) or analyse(run, write=False)


def find_sensitivity(results: str | Path) -> list[SensitivityRun]:
    """The complete sensitivity runs stored under ``<results>/sensitivity/`` (by name)."""
    from ..experiment.sweep import complete_design_run

    return [
        load_sensitivity(sub.parent)
        for sub in sorted(Path(results).glob("sensitivity/*/manifest.json"))
        if complete_design_run(sub.parent)
    ]
