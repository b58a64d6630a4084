"""Calibration by history matching: waves of design points, cut by the targets' implausibility.

Over an experiment's uncertainty space (``[uncertainty]``), wave 1 is a Latin hypercube of the
whole space; each design point runs the baseline with replicates in one vectorised ensemble
(`influence_sim.experiment.sweep`, a resumable store per wave), every target of a targets
file is read (`influence_sim.analysis.evidence.readings`), and a point is **non-implausible**
when its largest (or ``rank``-th largest) implausibility is at most the cutoff (3 by
default). The next wave is a Latin hypercube of the box that bounds the survivors, widened on
each side by their spacing (the bare hull of a sample falls short of the region it samples),
so the design refocuses on the region the evidence allows. The result is the survivors of the last
wave, with diagnostics: how many points each target rules out, the volume of the box wave by
wave, and the inputs the targets leave unconstrained (the survivors' widened box still spans
most of their range).

With ``emulator=True``, a Gaussian-process emulator (`influence_sim.analysis.emulator`, the
``[explore]`` extra) fitted to the previous wave's ensemble means stands in for the model in
screening: each later wave draws ``candidates`` times as many Latin-hypercube points in the
box, keeps those the emulator does not rule out (its variance added to the implausibility's
denominator), and runs the real model on the first ``points`` of them, which then face the real
cut (if the emulator rules out every candidate, the real model runs on the first ``points``
candidates and decides). Each emulator is checked against the real model at the points it
screened in: the share of their ensemble means inside its 95% predictive intervals is reported
(`HistoryMatch.emulator`).

`abc_rejection` is a check on history matching with the same runs: ABC rejection (Pritchard et
al. 1999; Beaumont et al. 2002) over wave 1's Latin hypercube (the prior, uniform over the
space), accepting the points whose largest standardised distance to a target (on the
replicates' means) is within the ``accept`` quantile. Its posterior should sit inside the
non-implausible region.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import atomic_file
from ..core.targets import Z95, Targets
from ..errors import ArgumentError
from ..experiment.design import Experiment
from .evidence import (
    Reading,
    implausibility_of,
    non_implausible,
    observation_variance,
    readings,
    replicate_quantities,
    summarise,
    unread,
)

__all__ = ["ABC", "HistoryMatch", "abc_rejection", "history_match", "load_history_match"]

#: An input whose survivors' widened box (`_refocus`) still spans at least this share of its
#: range is unconstrained.
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
        Per input: the whole range, the survivors' range, the share of the range their region
        spans (their box widened by their spacing, `_refocus`), and whether the targets leave
        the input unconstrained (that region still spans at least 90% of its range).
    unused : dict of str to str
        The targets not read, with the reason (a roll call the scenario does not hold;
        targets dated after its end or more than a year before its start).
    implausibility : DataFrame
        Long: wave, point, target, implausibility (every real run).
    intervals : DataFrame
        Per target and stage ("before": wave 1, the whole space; "after": the last wave's
        survivors): the observation (or the admissible side of a pattern) and the model's
        central 90% predictive interval over the stage's points and replicates.
    prior : DataFrame
        Wave 1's points (the whole space), one column per input.
    emulator : DataFrame
        With ``emulator=True``, per later wave and quantity: the emulator's coverage of the
        real model's ensemble means at the points it screened in (nominal 95%), their number,
        the RMSE and the held-out values' sd. Empty otherwise.
    """

    path: Path
    waves: pd.DataFrame
    cuts: pd.DataFrame
    survivors: pd.DataFrame
    constraint: pd.DataFrame
    unused: dict[str, str]
    implausibility: pd.DataFrame
    intervals: pd.DataFrame
    prior: pd.DataFrame
    emulator: pd.DataFrame

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
                "inputs: the survivors' widened box still spans 90% of their range): "
                + (", ".join(free) if free else "none")
            )
        if not self.emulator.empty:
            inside = (self.emulator["coverage"] * self.emulator["points"]).sum()
            total = self.emulator["points"].sum()
            lines.append(
                f"emulator check: its 95% intervals cover {inside / total:.0%} of the real "
                f"model's {int(total):,} ensemble means at the points it screened in"
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
    emulator: bool = False,
    candidates: int = 20,
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
        Points per wave run on the model (default 10 x the number of inputs).
    cutoff, rank
        A point survives when its ``rank``-th largest implausibility is <= ``cutoff``.
    discrepancy : float
        The model discrepancy's sd, on each observable's scale.
    emulator : bool
        Screen each later wave's candidates with a Gaussian-process emulator of the previous
        wave (needs the ``[explore]`` extra).
    candidates : int
        With ``emulator``: candidates screened per point run (``candidates x points``).
    executor, workers, scheduler, resume, progress
        As for `influence_sim.run_experiment`; the results do not depend on them.
    """
    from scipy.stats import qmc

    from ..experiment.sweep import run_design, uncertainty_of

    u = uncertainty_of(exp)
    if waves < 1:
        raise ArgumentError(f"need at least one wave, got {waves}", argument="waves")
    if candidates < 1:
        raise ArgumentError(
            f"need at least one candidate per point, got {candidates}", argument="candidates"
        )
    base = exp.scenario(exp.baseline)
    reads = readings(targets, base)
    if not reads:
        raise ArgumentError("the targets file has no target the model can read", argument="targets")
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
    wave_rows, cut_rows, imp_rows, emu_rows = [], [], [], []
    survivors = np.empty((0, d))
    first_values: dict[str, np.ndarray] = {}
    trained: Any = None  # the previous wave's emulator, its pooled ensemble variances
    X1 = np.empty((0, d))
    for k in range(1, waves + 1):
        gen = np.random.default_rng([exp.seed, k])
        screened = kept = None
        if trained is None:
            unit = qmc.LatinHypercube(d=d, rng=gen).random(n)
            X = box[0] + unit * (box[1] - box[0])
        else:
            emu, pooled = trained
            unit = qmc.LatinHypercube(d=d, rng=gen).random(n * candidates)
            cand = box[0] + unit * (box[1] - box[0])
            means, evar = emu.predict(cand)
            imp_e = np.array(
                [
                    implausibility_of(
                        r,
                        means,
                        {q: pooled[q] + evar[q] for q in r.quantities},
                        discrepancy=discrepancy,
                    )
                    for r in reads
                ]
            )
            ok = non_implausible(imp_e, cutoff=cutoff, rank=rank)
            screened, kept = len(cand), int(ok.sum())
            # an emulator that rules out every candidate is not trusted to end the match:
            # the real model runs on the wave's first points and decides
            X = cand[ok][:n] if ok.any() else cand[:n]
        run = run_design(
            matched,
            X,
            path / f"wave-{k}",
            method={
                "name": "history-match",
                "wave": k,
                "points": len(X),
                "box": [box[0].tolist(), box[1].tolist()],
                "targets": targets.sha256,
                "emulator": bool(trained is not None),
            },
            executor=executor,
            workers=workers,
            scheduler=scheduler,
            resume=resume,
            progress=progress,
        )
        values = {o.name: run.Y(o.name) for r in reads for o in r.outcomes}
        summaries = [summarise(r, values) for r in reads]
        if trained is not None:
            emu_rows += _emulator_check(k, trained[0], X, summaries)
        imp = np.array(
            [
                implausibility_of(r, m, v, discrepancy=discrepancy)
                for r, (m, v) in zip(reads, summaries, strict=True)
            ]
        )
        keep = non_implausible(imp, cutoff=cutoff, rank=rank)
        if k == 1:
            first_values, X1 = values, X
        wave_rows.append(_wave_row(k, len(X), int(keep.sum()), box, lows, highs, screened, kept))
        for r, row in zip(reads, imp, strict=True):
            cut_rows.append(
                {
                    "wave": k,
                    "target": r.target.id,
                    "kind": r.target.kind,
                    "ruled_out": int((row > cutoff).sum()),
                    "median": float(np.median(row)),
                    "max": float(row.max()),  # inf: on the wrong side with no spread at all
                    "read_at_start": r.clipped,
                }
            )
            imp_rows.append(
                pd.DataFrame(
                    {
                        "wave": k,
                        "point": np.arange(len(X)),
                        "target": r.target.id,
                        "implausibility": row,
                    }
                )
            )
        survivors = X[keep]
        last_values = {name: v[keep] for name, v in values.items()}
        if not keep.any():
            break
        box = _refocus(survivors, box, lows, highs)
        if emulator and k < waves:
            trained = _train(X, summaries, reads, lows, highs, [exp.seed, k, 7])
    names = list(u.space.names)
    # the share of each range the survivors' region spans: their box widened by their spacing
    span = (box[1] - box[0]) / (highs - lows) if len(survivors) else np.zeros(d)
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
    after = last_values if len(survivors) else None
    result = HistoryMatch(
        path=path,
        waves=pd.DataFrame(wave_rows),
        cuts=pd.DataFrame(cut_rows),
        survivors=pd.DataFrame(survivors, columns=names),
        constraint=constraint,
        unused=unread(targets, base),
        implausibility=pd.concat(imp_rows, ignore_index=True)
        if imp_rows
        else pd.DataFrame(columns=["wave", "point", "target", "implausibility"]),
        intervals=_intervals(reads, base, first_values, len(X1), after, len(survivors)),
        prior=pd.DataFrame(X1, columns=names),
        emulator=pd.DataFrame(
            emu_rows,
            columns=["wave", "quantity", "points", "coverage", "rmse", "sd", "mean_sd"],
        ),
    )
    _write(result, exp, targets, cutoff=cutoff, rank=rank, discrepancy=discrepancy)
    return result


def _refocus(
    survivors: np.ndarray,
    box: tuple[np.ndarray, np.ndarray],
    lows: np.ndarray,
    highs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The next wave's box: the survivors' bounds widened by their spacing, within the space.

    k points drawn in a region fall short of its edges by about its width / (k + 1) on each
    side, so the bare hull of the survivors cuts off the region's edges, wave after wave (an
    input the targets cannot see would shrink too). Each side is widened by twice the larger
    of the survivors' mean spacing, (max - min) / (k - 1), and the wave's box width / (k + 1):
    a cautious margin, since a region's edge is not where its sample ends.
    """
    k = len(survivors)
    lo, hi = survivors.min(axis=0), survivors.max(axis=0)
    spacing = (hi - lo) / (k - 1) if k > 1 else np.zeros_like(lo)
    margin = 2 * np.maximum(spacing, (box[1] - box[0]) / (k + 1))
    return np.maximum(lows, lo - margin), np.minimum(highs, hi + margin)


def _wave_row(
    k: int,
    points: int,
    survivors: int,
    box: tuple[np.ndarray, np.ndarray],
    lows: np.ndarray,
    highs: np.ndarray,
    screened: int | None,
    kept: int | None,
) -> dict[str, Any]:
    return {
        "wave": k,
        "points": points,
        "survivors": survivors,
        "share": survivors / points if points else 0.0,
        "volume": float(np.prod((box[1] - box[0]) / (highs - lows))),
        "screened": screened,
        "emulator_kept": kept,
    }


def _train(
    X: np.ndarray,
    summaries: list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]],
    reads: list[Reading],
    lows: np.ndarray,
    highs: np.ndarray,
    seed: list[int],
) -> tuple[Any, dict[str, np.ndarray]]:
    """An emulator of every quantity's ensemble mean, and its pooled ensemble variance."""
    from .emulator import fit_emulator

    means = {q: m[q] for (m, _v), r in zip(summaries, reads, strict=True) for q in r.quantities}
    pooled = {
        q: np.asarray(np.median(v[q]))
        for (_m, v), r in zip(summaries, reads, strict=True)
        for q in r.quantities
    }
    emu = fit_emulator(X, means, lows, highs, rng=np.random.default_rng(seed))
    return emu, pooled


def _emulator_check(
    k: int,
    emu: Any,
    X: np.ndarray,
    summaries: list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]],
) -> list[dict[str, Any]]:
    """The emulator against the real model's ensemble means at the points it let through.

    These points are new to the emulator (drawn after it was fitted), so this is a held-out
    check: the share of the real ensemble means inside its central 95% predictive interval.
    """
    pred, var = emu.predict(X)
    rows = []
    for m, _v in summaries:
        for q, real in m.items():
            sd = np.sqrt(np.maximum(var[q], 0.0))
            inside = np.abs(real - pred[q]) <= Z95 * sd
            rows.append(
                {
                    "wave": k,
                    "quantity": q,
                    "points": len(real),
                    "coverage": float(inside.mean()),
                    "rmse": float(np.sqrt(np.mean((real - pred[q]) ** 2))),
                    "sd": float(real.std(ddof=1)) if len(real) > 1 else 0.0,
                    "mean_sd": float(sd.mean()),
                }
            )
    return rows


#: The central predictive interval drawn before and after calibration.
INTERVAL = (0.05, 0.5, 0.95)


def _intervals(
    reads: list[Reading],
    scenario: Any,
    before: dict[str, np.ndarray],
    n_before: int,
    after: dict[str, np.ndarray] | None,
    n_after: int,
) -> pd.DataFrame:
    """Each target's observation against the model's 90% interval before and after."""
    rows = []
    for r in reads:
        t = r.target
        observed, lo, hi, units = _observed(r)
        label = _label(r, scenario)
        for stage, values, count in (("before", before, n_before), ("after", after, n_after)):
            row: dict[str, Any] = {
                "target": t.id,
                "kind": t.kind,
                "label": label,
                "units": units,
                "observed": observed,
                "obs_low": lo,
                "obs_high": hi,
                "stage": stage,
                "points": count if values is not None else 0,
            }
            if values is None or not count:
                row |= {"low": np.nan, "median": np.nan, "high": np.nan}
            else:
                qs = replicate_quantities(r, values)
                if t.kind == "order":  # the smallest ordered pair's difference
                    y = np.min(np.stack(list(qs.values())), axis=0)
                elif t.kind == "stance":  # the probability of the observed stance per point
                    y = qs[t.id].mean(axis=1)
                else:
                    y = qs[t.id]
                low, median, high = np.quantile(np.ravel(y), INTERVAL)
                row |= {"low": low, "median": median, "high": high}
            rows.append(row)
    return pd.DataFrame(rows)


def _observed(r: Reading) -> tuple[float, float, float, str]:
    """The observation, its 95% interval (or a pattern's admissible side) and units."""
    t = r.target
    nan = float("nan")
    if t.kind in ("level", "change"):
        assert t.value is not None
        half = Z95 * np.sqrt(observation_variance(t))
        return t.value, t.value - half, t.value + half, t.observable
    if t.kind == "threshold":
        if t.above is not None:
            return nan, t.above, nan, t.observable
        assert t.below is not None
        return nan, nan, t.below, t.observable
    if t.kind == "order":
        return nan, 0.0, nan, f"{t.observable} difference"
    if t.kind == "crossover":
        assert r.interval is not None
        return nan, float(r.interval[0]), float(r.interval[1]), "days from start"
    return 1.0, nan, nan, "P(observed stance)"


def _label(r: Reading, scenario: Any) -> str:
    """A short text of what a target's row shows."""
    t = r.target
    if t.kind == "order":
        listed = " > ".join(t.order)
        who = f"{t.actor}: " if t.actor else (f"{t.power}: " if t.power else "")
        return f"{t.observable} {who}{listed} (smallest gap)"
    if t.kind == "crossover":
        assert t.between is not None
        return f"{t.observable}: {t.between[0]} overtakes {t.between[1]}"
    if t.kind == "stance":
        return f"{t.actor} {t.stance} on {t.vote}"
    who = f"{t.actor}/{t.power}" if t.power else str(t.actor)
    if t.kind == "change":
        when = f"{t.since}..{t.to}"
    elif t.window is not None:
        when = f"{t.window[0]}..{t.window[1]}"
    else:
        when = str(t.date)
    return f"{t.observable} {who} {when}"


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
        "emulator": result.emulator.to_dict(orient="records"),
    }
    with atomic_file(result.path / "history_match.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=1, default=_plain), encoding="utf-8")
    for name, frame in (
        ("non_implausible.csv", result.survivors),
        ("wave1_points.csv", result.prior),
        ("implausibility.csv", result.implausibility),
        ("intervals.csv", result.intervals),
    ):
        with atomic_file(result.path / name) as tmp:
            frame.to_csv(tmp, index=False)


def _plain(v: Any) -> Any:
    """Numbers (numpy scalars, NaN) as JSON values."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v if isinstance(v, int | float | str | bool) or v is None else str(v)


def load_history_match(path: str | Path) -> HistoryMatch:
    """Reload what `history_match` wrote to ``path`` (without the per-wave stores)."""
    folder = Path(path)
    summary_file = folder / "history_match.json"
    if not summary_file.is_file():
        raise ArgumentError(
            f"{folder} holds no history_match.json: not the output of `influence-sim calibrate`",
            argument="path",
        )
    try:
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        frames = {
            name: pd.read_csv(folder / f"{name}.csv")
            for name in ("non_implausible", "wave1_points", "implausibility", "intervals")
        }
    except (OSError, ValueError) as exc:
        raise ArgumentError(
            f"{folder}: the calibration's files cannot be read ({str(exc)[:120]}); run "
            "`influence-sim calibrate` again with --resume",
            argument="path",
        ) from None
    constraint = pd.DataFrame(summary["constraint"]).set_index("input")
    cuts = pd.DataFrame(summary["cuts"]).fillna({"max": float("inf")})
    return HistoryMatch(
        path=folder,
        waves=pd.DataFrame(summary["waves"]),
        cuts=cuts,
        survivors=frames["non_implausible"],
        constraint=constraint,
        unused=dict(summary["unused"]),
        implausibility=frames["implausibility"],
        intervals=frames["intervals"],
        prior=frames["wave1_points"],
        emulator=pd.DataFrame(
            summary.get("emulator", []),
            columns=["wave", "quantity", "points", "coverage", "rmse", "sd", "mean_sd"],
        ),
    )


@dataclass(frozen=True)
class ABC:
    """The outcome of `abc_rejection`.

    Attributes
    ----------
    accepted : DataFrame
        The accepted draws: one column per input, the design ``point`` and the
        ``distance``.
    summary : DataFrame
        Per input: the whole range, the accepted draws' 5%, 50% and 95% quantiles, the
        history match's survivors' range, and the share of accepted draws inside it.
    accept : float
        The share of draws accepted (the tolerance is that quantile of the distances).
    tolerance : float
    draws : int
        Draws from the prior (wave 1's points).
    agreement : float
        The share of accepted draws whose design point is non-implausible in wave 1.
    """

    accepted: pd.DataFrame
    summary: pd.DataFrame
    accept: float
    tolerance: float
    draws: int
    agreement: float

    def describe(self) -> str:
        """The check in plain words."""
        inside = self.summary["inside"].min()
        lines = [
            f"ABC rejection over wave 1 ({self.draws:,} draws from the uniform prior): "
            f"accepted the {len(self.accepted):,} closest ({self.accept:.0%}; distance <= "
            f"{self.tolerance:.3g})",
            f"{self.agreement:.0%} of them are at points history matching found "
            "non-implausible in wave 1"
            + (
                "; the two methods agree"
                if self.agreement >= 0.9
                else "; the methods disagree (ABC scales a pattern's shortfall by the "
                "prior's spread and a level's miss by the observation alone; history "
                "matching adds the replicates' variance): read the targets that cut most"
            ),
            f"every input: at least {inside:.0%} of the accepted draws lie inside the "
            "survivors' range of the last wave",
        ]
        return "\n".join(lines)


#: A stance's residual when a replicate's stance is not the observed one (an assumption: a
#: miss counts as one standard deviation, a match as none).
STANCE_MISS = 1.0


def abc_rejection(
    match: HistoryMatch,
    exp: Experiment,
    targets: Targets,
    *,
    accept: float = 0.05,
    discrepancy: float = 0.0,
    cutoff: float = 3.0,
    rank: int = 1,
) -> ABC:
    """ABC rejection on a history match's first wave, as a check on it.

    Each wave-1 point is one draw from the prior (uniform over the space); its simulated
    summaries are each target's quantities averaged over the point's replicates (so the
    model's own noise is averaged as history matching averages it). Its distance to the
    targets is the largest of their standardised residuals (as history matching cuts on the
    largest implausibility; a mean over targets would let one badly missed target hide among
    well-met ones): a level's or change's ``(y - z) / sqrt(obs var + disc^2)``; a
    pattern's shortfall on the wrong side (a threshold, each ordered pair, a crossing day
    outside its interval) over the summary's sd across the prior's draws; a stance, the
    probability of another stance times `STANCE_MISS`. The ``accept`` share of draws closest
    to the targets is accepted. Writes ``abc.json`` and ``abc_accepted.csv`` beside the
    history match.
    """
    from ..experiment.sweep import load_design_run

    if not 0 < accept < 1:
        raise ArgumentError(f"accept is a share in (0, 1), got {accept}", argument="accept")
    run = load_design_run(match.path / "wave-1")
    reads = readings(targets, exp.scenario(exp.baseline))
    values = {o.name: run.Y(o.name) for r in reads for o in r.outcomes}
    X = run.X
    res = []
    d2 = discrepancy**2

    def scale(q: np.ndarray) -> float:
        return float(np.sqrt(np.var(q) + d2))

    for r in reads:
        t = r.target
        qs = {q: m[:, None] for q, m in summarise(r, values)[0].items()}  # (points, 1)

        if t.kind in ("level", "change"):
            assert t.value is not None
            q = qs[t.id]
            res.append((q - t.value) / np.sqrt(observation_variance(t) + d2))
        elif t.kind == "threshold":
            q = qs[t.id]
            gap = (t.above - q) if t.above is not None else (q - float(t.below or 0.0))
            res.append(_standardised(gap, scale(q)))
        elif t.kind == "order":
            res.append(np.max([_standardised(-q, scale(q)) for q in qs.values()], axis=0))
        elif t.kind == "crossover":
            assert r.interval is not None
            q = qs[t.id]
            gap = np.maximum(r.interval[0] - q, q - r.interval[1])
            res.append(_standardised(gap, float(np.std(q))))
        else:  # stance
            res.append((1.0 - qs[t.id]) * STANCE_MISS)
    distance = np.max(np.abs(np.stack(res)), axis=0)[:, 0]  # (points,)
    flat = distance
    tolerance = float(np.quantile(flat, accept))
    pts = np.flatnonzero(distance <= tolerance)
    names = list(match.constraint.index)
    accepted = pd.DataFrame(X[pts], columns=names).assign(point=pts, distance=distance[pts])
    wave1 = match.implausibility[match.implausibility["wave"] == 1]
    imp = wave1.pivot(index="target", columns="point", values="implausibility").to_numpy()
    ok = non_implausible(imp, cutoff=cutoff, rank=rank) if imp.size else np.zeros(0, bool)
    agreement = float(ok[pts].mean()) if len(pts) and ok.size else 0.0
    c = match.constraint
    rows = []
    for name in names:
        v = accepted[name].to_numpy()
        lo, hi = c.loc[name, "survivors_low"], c.loc[name, "survivors_high"]
        rows.append(
            {
                "input": name,
                "low": c.loc[name, "low"],
                "high": c.loc[name, "high"],
                "abc_q05": float(np.quantile(v, 0.05)),
                "abc_median": float(np.median(v)),
                "abc_q95": float(np.quantile(v, 0.95)),
                "survivors_low": lo,
                "survivors_high": hi,
                "inside": float(((v >= lo) & (v <= hi)).mean()) if np.isfinite(lo) else 0.0,
            }
        )
    out = ABC(
        accepted=accepted,
        summary=pd.DataFrame(rows).set_index("input"),
        accept=accept,
        tolerance=tolerance,
        draws=flat.size,
        agreement=agreement,
    )
    with atomic_file(match.path / "abc_accepted.csv") as tmp:
        out.accepted.to_csv(tmp, index=False)
    body = {
        "accept": accept,
        "tolerance": tolerance,
        "draws": out.draws,
        "agreement": agreement,
        "stance_miss": STANCE_MISS,
        "discrepancy": discrepancy,
        "summary": out.summary.reset_index().to_dict(orient="records"),
    }
    with atomic_file(match.path / "abc.json") as tmp:
        tmp.write_text(json.dumps(body, indent=1, default=_plain), encoding="utf-8")
    return out


def _standardised(gap: np.ndarray, sd: float) -> np.ndarray:
    """A pattern's shortfall over its scale (a shortfall with no scale at all: infinite)."""
    pos = np.maximum(gap, 0.0)
    if sd > 0:
        out: np.ndarray = pos / sd
        return out
    return np.where(pos > 0, np.inf, 0.0)
