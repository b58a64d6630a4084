"""What the figures read from results: series, events and quantiles, through `ResultSource`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..experiment.source import ResultSource

#: Quantiles drawn: 90% band, 50% band, median.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _name(source: ResultSource, scenario: str | None) -> str:
    """The scenario drawn: ``scenario``, default the baseline (KeyError when absent)."""
    return source.record(scenario).name


def _column(labels: list[str], measure: str, actor: str, power: str | None) -> int:
    """Position of the series ``actor[/power]`` among a block's labels."""
    key = actor + (f"/{power}" if power else "")
    if key in labels:
        return labels.index(key)
    if power is None:  # a per-power series with one power (corridor: region/<power>)
        hits = [k for k, lb in enumerate(labels) if lb.split("/", 1)[0] == actor]
        if len(hits) == 1:
            return hits[0]
    raise KeyError(f"no {measure} series '{key}' (have {', '.join(labels)})")


def series(
    source: ResultSource,
    measure: str,
    actor: str,
    power: str | None = None,
    *,
    scenario: str | None = None,
    point: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Dates (T,) and values (T, R) of one series, from a `Result` or a results store.

    Parameters
    ----------
    source : ResultSource
        An in-memory run (`simulate`) or an experiment store (`load_results`).
    measure, actor, power : str
        The series (power only for per-power measures such as ``alignment``).
    scenario : str, optional
        For a store: which scenario (default: the baseline). For a Result: its own name or
        None.
    point : int
        For a store: the design point.
    """
    x, vals, labels = source.block(measure, scenario, point)
    return x, vals[:, :, _column(labels, measure, actor, power)]


def _quantiles(y: np.ndarray) -> np.ndarray:
    """Quantiles `QUANTILES` over replicates of (T, R) values: shape (5, T)."""
    return np.quantile(y, QUANTILES, axis=1)


def _varies(q: np.ndarray) -> bool:
    """Whether the replicates differ anywhere (the 90% band has width)."""
    return bool(np.any(q[4] - q[0] > 1e-9 * np.maximum(1.0, np.abs(q[2]))))


def scenario_events(
    source: ResultSource, scenario: str | None = None, *, point: int = 0
) -> list[tuple[str, np.datetime64, float | None]]:
    """Events of a scenario: (id, scheduled date, share of replicates in which it fired).

    The events are the scenario's resolved events, in file order; the firing rates come from
    the run's event plans or the store's event records (None when not available).
    """
    rec = source.record(scenario)
    rates = source.event_rates(rec.name, point)
    return [(e["id"], np.datetime64(e["date"], "D"), rates.get(e["id"])) for e in rec.events]


def _rate_text(rate: float | None) -> str:
    """`` (40%)`` for an event that fired in only some replicates, else nothing."""
    return "" if rate is None or rate >= 1 else f" ({rate:.0%})"


def _labelled_events(
    source: ResultSource, scenario: str, point: int
) -> list[tuple[str, np.datetime64]]:
    """A scenario's events as (label, date); the label says a partial firing rate."""
    return [(e + _rate_text(r), d) for e, d, r in scenario_events(source, scenario, point=point)]


def _changed_events(
    source: ResultSource, name: str, point: int
) -> list[tuple[str, np.datetime64, str]]:
    """Events of a counterfactual that differ from the baseline: (label, date, kind).

    kind is ``added`` (not in the baseline), ``changed`` (same id, other fields) or
    ``removed`` (in the baseline only; labelled with a leading minus sign).
    """
    mine = {e["id"]: e for e in source.record(name).events}
    base = {e["id"]: e for e in source.record(source.baseline).events}
    rates = {e: r for e, _, r in scenario_events(source, name, point=point)}
    out = []
    for eid, e in mine.items():
        if eid not in base or base[eid] != e:
            label = eid + ("" if eid not in base else " (changed)") + _rate_text(rates.get(eid))
            out.append(
                (label, np.datetime64(e["date"], "D"), "added" if eid not in base else "changed")
            )
    for eid, e in base.items():
        if eid not in mine:
            out.append(("\u2212" + eid, np.datetime64(e["date"], "D"), "removed"))
    return sorted(out, key=lambda t: (t[1], t[0]))
