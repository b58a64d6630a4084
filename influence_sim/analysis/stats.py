"""Statistics of paired replicates: bootstrap resamples, paired effects, threshold crossings."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["bootstrap_counts", "crossings", "paired_stats"]


def bootstrap_counts(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Resampling counts (n_boot, n): row b says how often each replicate is drawn.

    One matrix serves every series of a comparison (the same resamples of the same paired
    replicates), which keeps the bootstrap cheap: a mean over a resample is a matrix product.
    """
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)


def paired_stats(diff: np.ndarray, counts: np.ndarray, level: float = 0.95) -> pd.DataFrame:
    """Statistics of paired differences, one row per column of ``diff``.

    Parameters
    ----------
    diff : ndarray, shape (R,) or (R, K)
        Per-replicate differences (scenario minus baseline) of K series.
    counts : ndarray, shape (B, R)
        Bootstrap resampling counts from `bootstrap_counts`.
    level : float
        Confidence level of the percentile interval (default 0.95).

    Returns
    -------
    pandas.DataFrame
        ``n``, ``mean``, ``ci_low``, ``ci_high`` (percentile bootstrap of the mean),
        ``positive`` (share of replicates with a difference > 0), ``sd`` and ``effect_size``
        (mean / sd; NaN where sd is 0, i.e. the difference is the same in every replicate).
    """
    d = np.asarray(diff, dtype=float)
    d = d[:, None] if d.ndim == 1 else d
    n = d.shape[0]
    if counts.shape[1] != n:
        raise ValueError(f"counts are for {counts.shape[1]} replicates, diff has {n}")
    mean = d.mean(axis=0)
    boot = counts @ d / n  # (B, K)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boot, [alpha, 1 - alpha], axis=0)
    sd = d.std(axis=0, ddof=1) if n > 1 else np.zeros(d.shape[1])
    # differences that are equal in every replicate (up to float32 storage) have no spread
    flat = sd <= 1e-12 * np.maximum(1.0, np.abs(mean))
    with np.errstate(divide="ignore", invalid="ignore"):
        effect = np.where(flat, np.nan, mean / np.where(flat, 1.0, sd))
    return pd.DataFrame(
        {
            "n": n,
            "mean": mean,
            "ci_low": np.minimum(lo, mean),
            "ci_high": np.maximum(hi, mean),
            "positive": (d > 0).mean(axis=0),
            "sd": sd,
            "effect_size": effect,
        }
    )


def crossings(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """First crossing of ``level`` by each replicate's series.

    Parameters
    ----------
    values : ndarray, shape (R, T)
        One series per replicate (e.g. a state's balance at the recorded steps).
    level : float
        The threshold. A series crosses when it reaches the other side of the level from
        where it started (reaching the level counts).

    Returns
    -------
    crossed : ndarray of bool, shape (R,)
    first : ndarray of int, shape (R,)
        Index of the first recorded step on the other side (-1 where it never crosses).
    """
    start = values[:, :1]
    above = start < level
    other = np.where(above, values >= level, values <= level)
    other[:, 0] = False
    crossed = other.any(axis=1)
    first = np.where(crossed, other.argmax(axis=1), -1)
    return crossed, first
