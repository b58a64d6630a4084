"""Paired comparison of counterfactuals with their baseline.

Replicate k of every scenario run with the same root seed shares its random streams (common
random numbers: each event's draws are keyed by the event id, the dynamics noise by k), so the
difference between scenario and baseline is taken replicate by replicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

__all__ = ["paired_differences"]


def paired_differences(
    base, others: Sequence, *, measure: str = "balance", at: Sequence[date] = (), q: float = 0.90
) -> pd.DataFrame:
    """Paired differences (counterfactual minus baseline) per actor and date.

    Differences are taken at the horizon and at the requested dates.

    Parameters
    ----------
    base : Result
        The baseline run.
    others : sequence of Result
        Counterfactual runs with the same replicate ids and root seed.
    measure : str
        ``balance`` (per state and region) or ``corridor``.
    at : sequence of datetime.date
        Dates to compare at besides the horizon (each must be a recorded date).
    q : float
        Central interval of the paired differences to report (default 0.90).

    Returns
    -------
    pandas.DataFrame
        One row per scenario, date and actor: ``mean``, ``lo``, ``hi`` (the central ``q``
        interval of the per-replicate differences, i.e. their spread, not a confidence
        interval of the mean), ``positive`` (share of replicates with a positive difference)
        and ``text``.
    """
    rows = []
    actors, _ = base.labels(measure)
    positions = [base.date_index(d) for d in at] + [len(base.steps) - 1]
    for other in others:
        if (
            not np.array_equal(other.replicates, base.replicates)
            or (other.seed.entropy != base.seed.entropy)
            or not np.array_equal(other.dates, base.dates)
        ):
            raise ValueError(
                f"{other.scenario.name}: not paired with the baseline "
                "(different replicate ids, seed or calendar)"
            )
        for pos in positions:
            rows += _rows(base, other, measure, actors, pos, q)
    return pd.DataFrame(rows)


def _rows(base, other, measure, actors, pos, q):
    rows = []
    diff = other.data[measure][pos].astype(float) - base.data[measure][pos].astype(float)
    diff = diff.reshape(len(base.replicates), -1)
    when = str(base.dates[pos])
    for j, actor in enumerate(actors):
        d = diff[:, j]
        lo, hi = np.quantile(d, [(1 - q) / 2, 1 - (1 - q) / 2])
        mean = float(d.mean())
        rows.append(
            {
                "scenario": other.scenario.name,
                "date": when,
                "measure": measure,
                "actor": actor,
                "mean": mean,
                "lo": float(lo),
                "hi": float(hi),
                "positive": float((d > 0).mean()),
                "text": f"{mean:+.3f} [{lo:+.3f}, {hi:+.3f}]",
            }
        )
    return rows
