"""Calibration by history matching: waves of design points, cut by the targets' implausibility.

Over an experiment's uncertainty space (``[uncertainty]``), wave 1 is a Latin hypercube of the
whole space; each design point runs the baseline with replicates in one vectorised ensemble
(`influence_sim.experiment.sweep`, a resumable store per wave), every target of a targets
file is read (`influence_sim.analysis.evidence.readings`), and a point is **non-implausible**
when its largest (or ``rank``-th largest) implausibility is at most the cutoff (3 by
default). The next wave is a Latin hypercube of the box that bounds the survivors, so the
design refocuses on the region the evidence allows. The result is the survivors of the last
wave, with diagnostics: how many points each target rules out, the volume of the box wave by
wave, and the inputs the targets leave unconstrained (the survivors still span most of their
range).

This is the second layer of issue 12. Emulators, ABC rejection, scoring on held-out years,
crossover and stance targets, and running counterfactuals over the non-implausible set come
next.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import atomic_file
from ..core.targets import Targets
from ..errors import ArgumentError
from ..experiment.design import Experiment
from .evidence import implausibility, non_implausible, readings, unread

__all__ = ["HistoryMatch", "history_match"]

#: An input whose survivors still span at least this share of its range is unconstrained.
UNCONSTRAINED = 0.9


@dataclass(frozen=True)
class HistoryMatch:
    """The outcome of `history_match`.

    Attributes
    ----------
    path : Path
        The folder: ``wave-<k>/`` (one design-run store per wave), ``history_match.json``
        (the summary below), ``non_implausible.csv`` (the last wave's surviving points).
    waves : DataFrame
        One row per wave: points, survivors, the share surviving, and the volume of the
        wave's box as a share of the whole space.
    cuts : DataFrame
        Per wave and target: how many points the target alone rules out (its implausibility
        above the cutoff), and its largest and median implausibility.
    survivors : DataFrame
        The last wave's non-implausible points, one column per input.
    constraint : DataFrame
        Per input: the whole range, the survivors' range, and whether the targets leave the
        input unconstrained (the survivors still span at least 90% of its range).
    unused : dict of str to str
        The targets not read, with the reason (crossovers and stances, not read yet; targets
        dated more than a year before the scenario's start).
    """

    path: Path
    waves: pd.DataFrame
    cuts: pd.DataFrame
    survivors: pd.DataFrame
    constraint: pd.DataFrame
    unused: dict[str, str]

    def describe(self) -> str:
        """The waves, the targets that cut most, and what stays unconstrained, as text."""
        lines = []
        for _, w in self.waves.iterrows():
            lines.append(
                f"wave {int(w.wave)}: {int(w.survivors):,} of {int(w.points):,} points "
                f"non-implausible ({w.share:.0%}); box volume {w.volume:.3g} of the space"
            )
        last = self.cuts[self.cuts["wave"] == self.cuts["wave"].max()]
        top = last.sort_values("ruled_out", ascending=False).head(5)
        lines.append("targets that rule out most points in the last wave:")
        for _, c in top.iterrows():
            lines.append(
                f"  {c.target:<34} rules out {int(c.ruled_out):,}; implausibility median "
                f"{c['median']:.3g}, max {c['max']:.3g}"
            )
        if self.survivors.empty:
            lines.append(
                "no point survived: at this cutoff and discrepancy the targets rule out the "
                "whole space (check the targets that rule out every point, the discrepancy, "
                "and whether the space holds the values the evidence needs)"
            )
        else:
            free = self.constraint.index[self.constraint["unconstrained"]].tolist()
            lines.append(
                f"left unconstrained by the targets ({len(free)} of {len(self.constraint)} "
                "inputs: the survivors still span 90% of their range): "
                + (", ".join(free) if free else "none")
            )
        for tid, why in self.unused.items():
            lines.append(f"not read: {tid}: {why}")
        return "\n".join(lines)


def history_match(
    exp: Experiment,
    targets: Targets,
    out: str | Path,
    *,
    waves: int = 3,
    points: int | None = None,
    cutoff: float = 3.0,
    rank: int = 1,
    discrepancy: float = 0.0,
    executor: str = "process",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
) -> HistoryMatch:
    """History-match the experiment's baseline to ``targets`` over its ``[uncertainty]``.

    Parameters
    ----------
    exp : Experiment
        With an ``[uncertainty]`` section (its inputs and replicates per point; its outcomes
        and conclusions are not used here).
    targets : Targets
        From `load_targets`, on the baseline's world.
    out : str or Path
        The folder (created; reopened with ``resume``).
    waves : int
        The number of waves; stops early when no point survives.
    points : int, optional
        Points per wave (default 10 x the number of inputs).
    cutoff, rank
        A point survives when its ``rank``-th largest implausibility is <= ``cutoff``.
    discrepancy : float
        The model discrepancy's sd, on each observable's scale.
    executor, workers, scheduler, resume, progress
        As for `influence_sim.run_experiment`; the results do not depend on them.
    """
    from scipy.stats import qmc

    from ..experiment.sweep import run_design, uncertainty_of

    u = uncertainty_of(exp)
    if waves < 1:
        raise ArgumentError(f"need at least one wave, got {waves}", argument="waves")
    base = exp.scenario(exp.baseline)
    reads = readings(targets, base)
    if not reads:
        raise ArgumentError(
            "the targets file has no target the model can read yet", argument="targets"
        )
    if rank > len(reads):
        raise ArgumentError(f"rank {rank} exceeds the {len(reads)} targets read", argument="rank")
    d = len(u.space.names)
    n = points or 10 * d
    matched = replace(
        exp,
        uncertainty=replace(
            u, outcomes=tuple(o for r in reads for o in r.outcomes), conclusions=()
        ),
    )
    lows = np.array([b[0] for b in u.space.bounds])
    highs = np.array([b[1] for b in u.space.bounds])
    box = (lows.copy(), highs.copy())
    path = Path(out)
    wave_rows, cut_rows = [], []
    survivors = np.empty((0, d))
    for k in range(1, waves + 1):
        gen = np.random.default_rng([exp.seed, k])
        unit = qmc.LatinHypercube(d=d, rng=gen).random(n)
        X = box[0] + unit * (box[1] - box[0])
        run = run_design(
            matched,
            X,
            path / f"wave-{k}",
            method={
                "name": "history-match",
                "wave": k,
                "points": n,
                "box": [box[0].tolist(), box[1].tolist()],
                "targets": targets.sha256,
            },
            executor=executor,
            workers=workers,
            scheduler=scheduler,
            resume=resume,
            progress=progress,
        )
        values = {o.name: run.Y(o.name) for r in reads for o in r.outcomes}
        imp = np.array([implausibility(r, values, discrepancy=discrepancy) for r in reads])
        keep = non_implausible(imp, cutoff=cutoff, rank=rank)
        volume = float(np.prod((box[1] - box[0]) / (highs - lows)))
        wave_rows.append(
            {
                "wave": k,
                "points": n,
                "survivors": int(keep.sum()),
                "share": float(keep.mean()),
                "volume": volume,
            }
        )
        for r, row in zip(reads, imp, strict=True):
            finite = row[np.isfinite(row)]
            cut_rows.append(
                {
                    "wave": k,
                    "target": r.target.id,
                    "kind": r.target.kind,
                    "ruled_out": int((row > cutoff).sum()),
                    "median": float(np.median(row)),
                    "max": float(finite.max()) if finite.size else float("inf"),
                    "read_at_start": r.clipped,
                }
            )
        survivors = X[keep]
        if not keep.any():
            break
        box = (survivors.min(axis=0), survivors.max(axis=0))
        flat = box[1] <= box[0]  # one survivor, or an input all survivors share
        box = (box[0], np.where(flat, box[0] + 1e-9 * (highs - lows), box[1]))
    names = list(u.space.names)
    survivors_frame = pd.DataFrame(survivors, columns=names)
    span = (
        (survivors.max(axis=0) - survivors.min(axis=0)) / (highs - lows)
        if len(survivors)
        else np.zeros(d)
    )
    constraint = pd.DataFrame(
        {
            "low": lows,
            "high": highs,
            "survivors_low": survivors.min(axis=0) if len(survivors) else np.nan,
            "survivors_high": survivors.max(axis=0) if len(survivors) else np.nan,
            "span": span,
            "unconstrained": (span >= UNCONSTRAINED) & (len(survivors) > 0),
        },
        index=pd.Index(names, name="input"),
    )
    result = HistoryMatch(
        path=path,
        waves=pd.DataFrame(wave_rows),
        cuts=pd.DataFrame(cut_rows),
        survivors=survivors_frame,
        constraint=constraint,
        unused=unread(targets, base),
    )
    _write(result, exp, targets, cutoff=cutoff, rank=rank, discrepancy=discrepancy)
    return result


def _write(
    result: HistoryMatch,
    exp: Experiment,
    targets: Targets,
    *,
    cutoff: float,
    rank: int,
    discrepancy: float,
) -> None:
    summary: dict[str, Any] = {
        "experiment": {"name": exp.name, "sha256": exp.sha256, "path": exp.path},
        "targets": {"name": targets.name, "sha256": targets.sha256, "path": targets.path},
        "cutoff": cutoff,
        "rank": rank,
        "discrepancy": discrepancy,
        "waves": result.waves.to_dict(orient="records"),
        "cuts": result.cuts.replace([np.inf], None).to_dict(orient="records"),
        "constraint": result.constraint.reset_index().to_dict(orient="records"),
        "unused": result.unused,
    }
    with atomic_file(result.path / "history_match.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
    with atomic_file(result.path / "non_implausible.csv") as tmp:
        result.survivors.to_csv(tmp, index=False)
