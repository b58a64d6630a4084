"""Evidence: what each target asks of the model, and how implausible a design point makes it.

The first layer of calibration by history matching (Vernon, Goldstein and Bower 2010;
Andrianakis et al. 2015), as pure functions on arrays:

- `readings(targets, scenario)` turns each target of a targets file (`load_targets`) into the
  model outcomes it reads (`Outcome`: a measure of one actor and power at a date, or its mean
  over a window), ready for `evaluate_outcomes` over a design. A target dated in the year
  before the scenario's start is read at the start: the world file describes the state on
  the eve of the scenario, and it is that state those observations constrain. Older targets
  describe an earlier state and are left out (`unread` says why).
- `implausibility(reading, values, discrepancy)` is, per design point, the distance between
  the model's ensemble mean and the observation over the square root of the sum of the
  observation variance, the ensemble variance and a declared model discrepancy:
  ``I = |E[y] - z| / sqrt(var_obs + var_ens + disc^2)``, the observation variance being the
  target's own plus the observable's observation noise (`OBSERVATION_NOISE`: a poll's house
  effects and wording, which one poll's sd does not carry). For a pattern the distance is how far
  the mean falls on the wrong side: a threshold ``above = a`` gives ``max(0, a - E[y])`` over
  ``sqrt(var_ens + disc^2)``; an order gives the largest such shortfall over its consecutive
  pairs, on the replicate-by-replicate differences.
- `non_implausible(I, cutoff=3)` keeps the design points whose largest implausibility (or, with
  ``rank=2``, second largest, the usual guard against one bad target) is at most the cutoff.

Crossovers and vote stances read whole trajectories and roll calls; they come with the
calibration runner.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from ..core.scenario import Scenario
from ..core.targets import Target, Targets
from ..errors import ArgumentError
from ..experiment.uncertainty import Outcome
from ..params import parameters

__all__ = ["Reading", "implausibility", "non_implausible", "readings", "unread"]

#: The kinds `implausibility` reads (crossover and stance come with the calibration runner).
READ_KINDS = ("level", "change", "order", "threshold")
#: Observables with an observation-noise parameter (params.toml): the part of a figure's
#: uncertainty a target's own sd does not carry (a poll's house effects and wording).
OBSERVATION_NOISE = {"approval": "approval_noise"}


@dataclass(frozen=True)
class Reading:
    """A target and the outcomes the model must produce for it (named ``<target id>.<k>``).

    ``clipped`` says that a date before the scenario's start was read at the start.
    """

    target: Target
    outcomes: tuple[Outcome, ...]
    clipped: bool = False


def _at(scenario: Scenario, when: date) -> tuple[date, bool]:
    return (scenario.start, True) if when < scenario.start else (when, False)


#: How long before the scenario's start a target may be dated and still be read at the start:
#: a year, the world file's own year of data (`World.as_of`).
STALE_DAYS = 366


def unread(targets: Targets, scenario: Scenario) -> dict[str, str]:
    """The targets `readings` leaves out, with the reason, by id."""
    out = {}
    for t in targets.targets:
        if t.kind not in READ_KINDS:
            out[t.id] = f"{t.kind} targets are not read yet"
        elif _latest(t) < _earliest(scenario):
            out[t.id] = (
                f"dated {_latest(t)}, more than a year before the scenario's start "
                f"({scenario.start}): the world describes the state on its eve, not then"
            )
    return out


def _latest(t: Target) -> date:
    """The last date a target observes."""
    if t.kind == "change":
        assert t.to is not None
        return t.to
    if t.window is not None:
        return t.window[1]
    assert t.date is not None
    return t.date


def _earliest(scenario: Scenario) -> date:
    from datetime import timedelta

    return scenario.start - timedelta(days=STALE_DAYS)


def readings(targets: Targets, scenario: Scenario) -> list[Reading]:
    """The outcomes each target of ``targets`` reads on ``scenario`` (see the module docs).

    Left out (`unread` says why): the kinds `implausibility` does not read yet, and targets
    dated more than a year before the scenario's start (`STALE_DAYS`), which describe an
    earlier state than the world's.
    """
    if targets.world.sha256 != scenario.world.sha256:
        raise ArgumentError(
            f"the targets name world '{targets.world.name}' ({targets.world.path}), the "
            f"scenario runs on '{scenario.world.name}' ({scenario.world.path})",
            argument="targets",
        )
    skip = unread(targets, scenario)
    return [_reading(t, scenario) for t in targets.targets if t.id not in skip]


def _reading(t: Target, scenario: Scenario) -> Reading:
    """One target's outcomes on ``scenario``; dates before its start are read at the start."""
    clipped = False

    def outcome(actor: str | None, power: str | None, when: date | None = None) -> Outcome:
        nonlocal clipped
        if when is None and t.window is not None:
            a, ca = _at(scenario, t.window[0])
            b, cb = _at(scenario, t.window[1])
            clipped |= ca or cb
            if a < b:
                return Outcome(
                    t.observable,
                    actor,
                    b,
                    power=power,
                    start=a,
                    statistic="mean",
                    scenario=scenario.name,
                )
            when = a  # a window wholly before the start: the start state
        d, c = _at(scenario, when if when is not None else t.date)  # type: ignore[arg-type]
        clipped |= c
        return Outcome(t.observable, actor, d, power=power, scenario=scenario.name)

    if t.kind == "change":
        outs = [outcome(t.actor, t.power, t.since), outcome(t.actor, t.power, t.to)]
    elif t.kind == "order" and t.actor is not None:  # an order over powers
        outs = [outcome(t.actor, p) for p in t.order]
    elif t.kind == "order":  # an order over actors
        outs = [outcome(a, t.power) for a in t.order]
    else:
        outs = [outcome(t.actor, t.power)]
    named = tuple(replace(o, name=f"{t.id}.{k}") for k, o in enumerate(outs))
    return Reading(t, named, clipped)


def implausibility(
    reading: Reading,
    values: Mapping[str, np.ndarray],
    *,
    discrepancy: float = 0.0,
    noise: float | None = None,
) -> np.ndarray:
    """The target's implausibility at each design point, (rows,).

    ``values`` maps each outcome name of the reading to its values, (rows, replicates).
    ``discrepancy`` is the model discrepancy's sd, on the observable's scale. ``noise`` is
    the observable's own observation noise, added to the target's variance for levels and
    changes (default: its parameter's documented value, `OBSERVATION_NOISE`; 0 for the
    observables without one).
    """
    t = reading.target
    ys = [np.asarray(values[o.name], dtype=float) for o in reading.outcomes]
    for y in ys:
        if y.ndim != 2:
            raise ArgumentError(
                f"values of {t.id} must be (rows, replicates), got {y.shape}", argument="values"
            )
    if discrepancy < 0:
        raise ArgumentError("the discrepancy is an sd: >= 0", argument="discrepancy")
    d2 = discrepancy**2

    def var(y: np.ndarray) -> np.ndarray:
        out: np.ndarray = y.var(axis=1, ddof=1) if y.shape[1] > 1 else np.zeros(len(y))
        return out

    if t.kind in ("level", "change"):
        y = ys[0] if t.kind == "level" else ys[1] - ys[0]
        assert t.value is not None and t.sigma is not None
        if noise is None:
            name = OBSERVATION_NOISE.get(t.observable)
            noise = float(parameters()[name].default) if name else 0.0
        obs = t.sigma**2 + noise**2 * (2 if t.kind == "change" else 1)
        out: np.ndarray = np.abs(y.mean(axis=1) - t.value) / np.sqrt(obs + var(y) + d2)
        return out
    if t.kind == "threshold":
        y = ys[0]
        if t.above is not None:
            gap = t.above - y.mean(axis=1)
        else:
            assert t.below is not None
            gap = y.mean(axis=1) - t.below
        return _shortfall(gap, var(y) + d2)
    if t.kind == "order":
        worst = np.zeros(len(ys[0]))
        for hi, lo in itertools.pairwise(ys):
            diff = hi - lo  # replicate by replicate: must be > 0
            worst = np.maximum(worst, _shortfall(-diff.mean(axis=1), var(diff) + d2))
        return worst
    raise ArgumentError(f"{t.kind} targets are not read yet", argument="reading")


def _shortfall(gap: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """max(0, gap) / sd; a positive gap with no spread at all is infinitely implausible."""
    sd = np.sqrt(variance)
    pos = np.maximum(gap, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = np.where(pos > 0, pos / np.where(sd > 0, sd, 0.0), 0.0)
    return out


def non_implausible(
    implausibilities: np.ndarray | Sequence[np.ndarray], *, cutoff: float = 3.0, rank: int = 1
) -> np.ndarray:
    """Which design points survive: the ``rank``-th largest implausibility is <= ``cutoff``.

    ``implausibilities`` is (targets, rows). ``rank = 1`` uses the largest; 2 the second
    largest (one target may be wrong without ruling a point out), and so on.
    """
    imp = np.asarray(implausibilities, dtype=float)
    if imp.ndim != 2:
        raise ArgumentError(
            "expected (targets, rows) implausibilities", argument="implausibilities"
        )
    if not 1 <= rank <= imp.shape[0]:
        raise ArgumentError(
            f"rank must be between 1 and the number of targets ({imp.shape[0]})", argument="rank"
        )
    if cutoff <= 0:
        raise ArgumentError("the cutoff must be positive", argument="cutoff")
    ranked = -np.sort(-imp, axis=0)[rank - 1]
    out: np.ndarray = ranked <= cutoff
    return out
