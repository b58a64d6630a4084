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
  A crossover reads both series at every step of a window around its interval and finds,
  replicate by replicate, the first day the first of the pair is above the second (censored
  one step after the window when it never is); the distance is how far the mean crossing day
  falls outside the interval, over the crossing day's ensemble sd (in days: the discrepancy,
  on the observables' scale, does not apply). A stance reads the state's stance in the roll
  call; its implausibility is the standard normal quantile of the model's probability of the
  observed stance, ``I = max(0, Phi^-1(1 - p))``: 0 from p = 0.5 up, 3 at p = 0.00135, infinite
  when no replicate votes so (the discrepancy does not apply either).
- `summarise(reading, values)` gives the ensemble mean and variance of each quantity a
  target's implausibility is computed from (the level, the change, each ordered pair's
  difference, the crossing day, the indicator of the observed stance), and
  `implausibility_of` the implausibility from them, so an emulator of the means
  (`influence_sim.analysis.emulator`) can stand in for the model, its variance added.
- `non_implausible(I, cutoff=3)` keeps the design points whose largest implausibility (or, with
  ``rank=2``, second largest, the usual guard against one bad target) is at most the cutoff.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
from scipy.stats import norm

from ..core.events import STANCES
from ..core.scenario import Scenario
from ..core.targets import Target, Targets
from ..errors import ArgumentError
from ..experiment.uncertainty import Outcome
from ..params import parameters

__all__ = [
    "Reading",
    "implausibility",
    "implausibility_of",
    "non_implausible",
    "observation_variance",
    "readings",
    "replicate_quantities",
    "summarise",
    "unread",
]

#: Observables with an observation-noise parameter (params.toml): the part of a figure's
#: uncertainty a target's own sd does not carry (a poll's house effects and wording).
OBSERVATION_NOISE = {"approval": "approval_noise"}


@dataclass(frozen=True)
class Reading:
    """A target and the outcomes the model must produce for it (named ``<target id>.<k>``).

    ``clipped`` says that a date before the scenario's start was read at the start. A
    crossover's outcomes are its pair's values at each of ``days`` (days from the scenario's
    start; the first of the pair at every day, then the second), and ``interval`` is its
    admissible interval in the same days.
    """

    target: Target
    outcomes: tuple[Outcome, ...]
    clipped: bool = False
    days: tuple[int, ...] = field(default=())
    interval: tuple[int, int] | None = None

    @property
    def quantities(self) -> tuple[str, ...]:
        """The names of the quantities `summarise` gives (``<target id>`` or ``.<pair>``)."""
        t = self.target
        if t.kind == "order":
            return tuple(f"{t.id}.{k}" for k in range(len(self.outcomes) - 1))
        return (t.id,)


def _at(scenario: Scenario, when: date) -> tuple[date, bool]:
    return (scenario.start, True) if when < scenario.start else (when, False)


#: At most this many days of a crossover's window are read (evenly spaced steps): the
#: crossing day is known to within the spacing.
CROSSING_READS = 120

#: How long before the scenario's start a target may be dated and still be read at the start:
#: a year, the world file's own year of data (`World.as_of`).
STALE_DAYS = 366


def unread(targets: Targets, scenario: Scenario) -> dict[str, str]:
    """The targets `readings` leaves out, with the reason, by id."""
    out = {}
    votes = {e.id: e for e in scenario.events if e.kind == "vote"}
    for t in targets.targets:
        if t.kind == "stance":
            if t.vote not in votes:
                out[t.id] = f"the scenario '{scenario.name}' holds no roll call '{t.vote}'"
        elif _span(t)[0] > scenario.dates()[-1].astype(date):
            out[t.id] = (
                f"dated {_span(t)[0]}, after the scenario's last day "
                f"({scenario.dates()[-1].astype(date)})"
            )
        elif _span(t)[1] < _earliest(scenario):
            out[t.id] = (
                f"dated {_span(t)[1]}, more than a year before the scenario's start "
                f"({scenario.start}): the world describes the state on its eve, not then"
            )
    return out


def _span(t: Target) -> tuple[date, date]:
    """The first and the last date a target observes."""
    if t.kind == "change":
        assert t.since is not None and t.to is not None
        return t.since, t.to
    if t.kind == "crossover":
        assert t.dates is not None
        return t.dates
    if t.window is not None:
        return t.window
    assert t.date is not None
    return t.date, t.date


def _earliest(scenario: Scenario) -> date:
    from datetime import timedelta

    return scenario.start - timedelta(days=STALE_DAYS)


def readings(targets: Targets, scenario: Scenario) -> list[Reading]:
    """The outcomes each target of ``targets`` reads on ``scenario`` (see the module docs).

    Left out (`unread` says why): stances on a roll call the scenario does not hold, targets
    dated after its last day, and targets dated more than a year before its start
    (`STALE_DAYS`), which describe an earlier state than the world's.
    """
    if targets.world.sha256 != scenario.world.sha256:
        raise ArgumentError(
            f"the targets name world '{targets.world.name}' ({targets.world.path}), the "
            f"scenario runs on '{scenario.world.name}' ({scenario.world.path})",
            argument="targets",
        )
    skip = unread(targets, scenario)
    out = []
    for t in targets.targets:
        if t.id in skip:
            continue
        if t.kind == "crossover":
            out.append(_crossing(t, scenario))
        elif t.kind == "stance":
            out.append(_stance(t, scenario))
        else:
            out.append(_reading(t, scenario))
    return out


def _crossing(t: Target, scenario: Scenario) -> Reading:
    """A crossover's pair read over its interval widened by its length (7 to 90 days).

    A crossing before the window reads as its first day, one after it as the day after its
    last: either way the distance to the interval is a lower bound, so the target is still
    ruled out where it should be. A run that ends inside the interval without crossing is
    consistent with it (censored).
    """
    assert t.dates is not None and t.between is not None
    lo, hi = t.dates
    pad = min(max((hi - lo).days, 7), 90)
    last = scenario.dates()[-1].astype(date)
    first = max(scenario.start, lo - timedelta(days=pad))
    end = min(last, hi + timedelta(days=pad))
    a, b = scenario.step_of(first), scenario.step_of(end)
    stride = -(-(b - a + 1) // CROSSING_READS)  # at most CROSSING_READS days read
    days = tuple(k * scenario.step_days for k in range(a, b + 1, stride))
    over_powers = t.actor is not None
    outs = []
    for j, who in enumerate(t.between):
        for d in days:
            when = scenario.start + timedelta(days=d)
            actor, power = (t.actor, who) if over_powers else (who, t.power)
            outs.append(
                Outcome(
                    t.observable,
                    actor,
                    when,
                    power=power,
                    scenario=scenario.name,
                    name=f"{t.id}.{j}@{d}",
                )
            )
    interval = ((lo - scenario.start).days, (hi - scenario.start).days)
    return Reading(t, tuple(outs), lo < scenario.start, days, interval)


def _stance(t: Target, scenario: Scenario) -> Reading:
    """A stance target's outcome: the state's stance code in the roll call."""
    event = next(e for e in scenario.events if e.id == t.vote)
    when = min(event.date + timedelta(days=event.jitter), scenario.dates()[-1].astype(date))
    out = Outcome(
        "vote",
        t.actor,
        when,
        statistic="stance",
        scenario=scenario.name,
        vote=t.vote,
        name=f"{t.id}.0",
    )
    return Reading(t, (out,))


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


def replicate_quantities(
    reading: Reading, values: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Each of the reading's quantities per design point and replicate, (rows, replicates).

    ``values`` maps each outcome name of the reading to its values, (rows, replicates). The
    quantities (`Reading.quantities`): a level's value, a change's difference, a threshold's
    value, each ordered pair's difference replicate by replicate, a crossover's crossing day,
    the indicator that the replicate's stance is the observed one.
    """
    t = reading.target
    ys = [np.asarray(values[o.name], dtype=float) for o in reading.outcomes]
    for y in ys:
        if y.ndim != 2:
            raise ArgumentError(
                f"values of {t.id} must be (rows, replicates), got {y.shape}", argument="values"
            )
    if t.kind == "change":
        qs = [ys[1] - ys[0]]
    elif t.kind == "order":
        qs = [hi - lo for hi, lo in itertools.pairwise(ys)]
    elif t.kind == "crossover":
        n = len(reading.days)
        a, b = np.stack(ys[:n], axis=-1), np.stack(ys[n:], axis=-1)  # (rows, reps, days)
        above = a > b
        first = np.where(above.any(axis=-1), above.argmax(axis=-1), n)
        days = np.array([*reading.days, reading.days[-1] + 1], dtype=float)
        qs = [days[first]]
    elif t.kind == "stance":
        qs = [(ys[0] == STANCES.index(str(t.stance))).astype(float)]
    else:
        qs = [ys[0]]
    return dict(zip(reading.quantities, qs, strict=True))


def summarise(
    reading: Reading, values: Mapping[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The ensemble mean and variance of each of the reading's quantities, each (rows,).

    The quantities are `replicate_quantities`'; the variance is across replicates (ddof 1).
    """
    qs = replicate_quantities(reading, values)
    means = {name: q.mean(axis=1) for name, q in qs.items()}
    variances = {
        name: q.var(axis=1, ddof=1) if q.shape[1] > 1 else np.zeros(len(q))
        for name, q in qs.items()
    }
    return means, variances


def observation_variance(t: Target, noise: float | None = None) -> float:
    """A level's or change's observation variance.

    Its own sd squared plus the observable's observation noise squared (`OBSERVATION_NOISE`;
    ``noise`` overrides it), twice for a change.
    """
    assert t.sigma is not None
    if noise is None:
        name = OBSERVATION_NOISE.get(t.observable)
        noise = float(parameters()[name].default) if name else 0.0
    return float(t.sigma**2 + noise**2 * (2 if t.kind == "change" else 1))


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
    means, variances = summarise(reading, values)
    return implausibility_of(reading, means, variances, discrepancy=discrepancy, noise=noise)


def implausibility_of(
    reading: Reading,
    means: Mapping[str, np.ndarray],
    variances: Mapping[str, np.ndarray],
    *,
    discrepancy: float = 0.0,
    noise: float | None = None,
) -> np.ndarray:
    """The implausibility from the quantities' means and variances (`summarise`), (rows,).

    The variances may carry more than the ensemble's: an emulator's variance is added to
    them when it stands in for the model.
    """
    t = reading.target
    if discrepancy < 0:
        raise ArgumentError("the discrepancy is an sd: >= 0", argument="discrepancy")
    d2 = discrepancy**2
    q = reading.quantities
    m = {k: np.asarray(means[k], dtype=float) for k in q}
    v = {k: np.maximum(np.asarray(variances[k], dtype=float), 0.0) for k in q}
    if t.kind in ("level", "change"):
        assert t.value is not None
        obs = observation_variance(t, noise)
        out: np.ndarray = np.abs(m[t.id] - t.value) / np.sqrt(obs + v[t.id] + d2)
        return out
    if t.kind == "threshold":
        if t.above is not None:
            gap = t.above - m[t.id]
        else:
            assert t.below is not None
            gap = m[t.id] - t.below
        return _shortfall(gap, v[t.id] + d2)
    if t.kind == "order":
        worst = np.zeros(len(m[q[0]]))
        for k in q:  # each pair's difference must be > 0
            worst = np.maximum(worst, _shortfall(-m[k], v[k] + d2))
        return worst
    if t.kind == "crossover":
        assert reading.interval is not None
        lo, hi = reading.interval
        gap = np.maximum(lo - m[t.id], m[t.id] - hi)
        return _shortfall(gap, v[t.id])
    if t.kind == "stance":
        p = np.clip(m[t.id], 0.0, 1.0)
        with np.errstate(divide="ignore"):
            stance: np.ndarray = np.maximum(0.0, norm.isf(p))
        return stance
    raise ArgumentError(f"unknown kind of target '{t.kind}'", argument="reading")


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
