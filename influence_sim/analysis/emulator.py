"""Emulators: a Gaussian process that stands in for the simulator between design points.

In the later waves of history matching (Vernon, Goldstein and Bower 2010; Andrianakis et al.
2015) the simulator is too slow to run at every candidate point, so a statistical emulator,
fitted to the points already run, predicts each quantity (for instance the ensemble mean of an
outcome at a target's date) with an uncertainty, and its predictive variance joins the
denominator of the implausibility. Pure functions on arrays:

- `fit_emulator(X, Y, lows, highs)` fits one Gaussian process per quantity (Rasmussen and
  Williams 2006) to the design ``X`` (rows are points, inside the box ``[lows, highs]``) and
  the values ``Y[name]`` (one per row). `Emulator.predict` gives, at new rows, each
  quantity's predictive mean and variance on the quantity's own scale.
- `check_emulator(X, Y, lows, highs)` holds back a random share of the points, fits on the
  rest and reports how often the held-back values fall in the emulator's central predictive
  interval (`EmulatorCheck`): the validation an emulator needs before it replaces the
  simulator (Bastos and O'Hagan 2009).

The model, per quantity: the inputs are scaled to the unit cube by the box, the values are
standardised (mean 0, sd 1), and the process has a constant mean and the covariance
``s^2 exp(-sum_j (x_j - x'_j)^2 / (2 l_j^2)) + n^2 1{x = x'}``: a squared-exponential term
with one length scale per input (automatic relevance determination: an input that does not
matter gets a long length scale, see `Emulator.length_scales`) and a white-noise term, the
*nugget*. The nugget is there because the training values are ensemble means of a stochastic
model: they carry Monte Carlo noise, which a process without it would interpolate. The
hyperparameters ``s``, ``l_j`` and ``n`` maximise the marginal likelihood (scikit-learn's
`GaussianProcessRegressor`, from a few random starts).

**The predictive variance includes the nugget.** The emulator predicts what the simulator's
ensemble mean would be at a new point, and that value carries the same Monte Carlo noise as
the training values; a variance without the nugget would be that of the smooth underlying
mean only, too small for comparing with a new run. With k replicates per point the nugget
estimates the variance of an ensemble mean, about the ensemble variance over k; where the
implausibility also adds the ensemble variance, that part is counted twice (a share 1/k of
it). The nugget is reported per quantity (`Emulator.nugget`) so that a caller can take it out.

The nugget sees Monte Carlo noise only where it differs from point to point. With common
random numbers across the design (`evaluate_outcomes` runs replicate j of every point on the
same stream) the noise of the ensemble means is shared by all points and mostly smooth in the
inputs: the emulator learns it as part of the surface, the nugget comes out far below the
ensemble variance over k, and held-back points (on the same streams) cannot reveal it. With a
seed per point (`point_seed`, as experiments run) the nugget estimates it.

A quantity whose training values are all equal is predicted as that constant with variance 0.

The Gaussian processes are scikit-learn's (install the ``explore`` extra:
``pip install 'influence-sim[explore]'``), imported only when an emulator is fitted or used.
The random starts of the optimiser and the held-back points draw from the ``rng`` argument
only (SPEC 7), and each quantity's starts from its own stream keyed by its name: the same
``rng`` seed gives the same emulator, whatever the order of the quantities.

A design of about ten points per input is the usual advice for fitting an emulator (Loeppky,
Sacks and Welch 2009); `fit_emulator` refuses fewer than `min_points` (two per input plus two,
and five at least), below which the hyperparameters cannot be told apart.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ArgumentError
from ..seeds import point_seed

__all__ = ["Emulator", "EmulatorCheck", "check_emulator", "fit_emulator", "min_points"]

#: What to install when scikit-learn is missing.
INSTALL_HINT = "pip install 'influence-sim[explore]'"
#: The columns of `EmulatorCheck.table`, in order.
CHECK_COLUMNS = ("n_train", "n_heldout", "coverage", "nominal", "rmse", "heldout_sd", "pred_sd")
#: The random restarts of the marginal-likelihood optimiser (after the first start at the
#: kernel's initial values).
RESTARTS = 2
#: The bounds of the hyperparameters, on the standardised values and the unit cube: the
#: signal variance ``s^2``, each length scale ``l_j`` (a hundredth to a hundred box widths;
#: at the upper bound the input is as good as irrelevant) and the nugget variance ``n^2``
#: (from numerical jitter to ten times the values' variance).
SIGNAL_BOUNDS = (1e-3, 1e3)
LENGTH_BOUNDS = (1e-2, 1e2)
NUGGET_BOUNDS = (1e-6, 1e1)
#: Rows predicted at a time (bounds the memory of the cross-covariance matrix).
CHUNK = 4096

RngLike = int | np.random.Generator | np.random.SeedSequence | None


def min_points(d: int) -> int:
    """The fewest design points `fit_emulator` accepts for ``d`` inputs: max(5, 2 d + 2)."""
    return max(5, 2 * d + 2)


@dataclass(frozen=True, eq=False)
class Emulator:
    """Gaussian-process emulators of named quantities over a box (see the module docs).

    Attributes
    ----------
    names : tuple of str
        The quantities emulated, in the order of ``Y``.
    lows, highs : ndarray
        The box, one bound per input: the inputs are scaled to the unit cube by it.
    n_train : int
        The design points the emulators were fitted on.
    inputs : tuple of str
        The inputs' names (``x0``, ``x1``, ... unless given to `fit_emulator`).
    means, sds : ndarray
        Each quantity's mean and sd over the training values (its standardisation).
    models : tuple
        Each quantity's fitted scikit-learn `GaussianProcessRegressor` on the standardised
        values, or None for a constant quantity.
    """

    names: tuple[str, ...]
    lows: np.ndarray
    highs: np.ndarray
    n_train: int
    inputs: tuple[str, ...]
    means: np.ndarray
    sds: np.ndarray
    models: tuple[Any, ...]

    @property
    def length_scales(self) -> pd.DataFrame:
        """The fitted length scales, in box widths: a row per quantity, a column per input.

        A short length scale means the quantity changes quickly along the input; one at the
        upper bound (100 box widths) that the input does not matter to it. NaN for a constant
        quantity.
        """
        rows = [
            _hyper(m)["length"] if m is not None else np.full(len(self.inputs), np.nan)
            for m in self.models
        ]
        frame = pd.DataFrame(
            np.array(rows, dtype=float).reshape(len(self.names), len(self.inputs)),
            index=pd.Index(self.names, name="quantity"),
            columns=pd.Index(self.inputs, name="input"),
        )
        return frame

    @property
    def nugget(self) -> dict[str, float]:
        """Each quantity's fitted white-noise variance, on the quantity's own scale (0 if constant).

        It is the part of the predictive variance that does not shrink at a training point:
        the emulator's estimate of the Monte Carlo variance of the training values.
        """
        return {
            name: float(_hyper(m)["nugget"] * sd**2) if m is not None else 0.0
            for name, m, sd in zip(self.names, self.models, self.sds, strict=True)
        }

    def predict(self, X: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Predictive mean and variance of every quantity at the rows of ``X``.

        Parameters
        ----------
        X : array_like, shape (rows, inputs)
            Points in the original units. Points outside the box are allowed: the emulator
            then extrapolates, and its variance grows toward the prior's.

        Returns
        -------
        mean, variance : dict of str to ndarray
            Per quantity, arrays of shape (rows,). The variance is the emulator's only (it
            includes the nugget, see the module docs), on the quantity's own scale; it is
            never negative.

        Raises
        ------
        ArgumentError
            If ``X`` is not (rows, inputs) or holds NaN or infinity.
        """
        d = len(self.lows)
        x = _matrix(X, "X", d, rows=0)
        unit = (x - self.lows) / (self.highs - self.lows)
        means: dict[str, np.ndarray] = {}
        variances: dict[str, np.ndarray] = {}
        for name, model, mu, sd in zip(self.names, self.models, self.means, self.sds, strict=True):
            if model is None:
                means[name] = np.full(len(unit), float(mu))
                variances[name] = np.zeros(len(unit))
                continue
            m = np.empty(len(unit))
            v = np.empty(len(unit))
            with warnings.catch_warnings():
                # rounding can make a variance a hair below 0; it is clipped just below
                warnings.filterwarnings("ignore", message="Predicted variances smaller than 0")
                for start in range(0, len(unit), CHUNK):
                    part = unit[start : start + CHUNK]
                    mean, std = model.predict(part, return_std=True)
                    m[start : start + len(part)] = mean
                    v[start : start + len(part)] = np.square(std)
            means[name] = mu + sd * m
            variances[name] = np.maximum(v, 0.0) * sd**2
        return means, variances


def fit_emulator(
    X: np.ndarray,
    Y: Mapping[str, np.ndarray],
    lows: Sequence[float] | np.ndarray,
    highs: Sequence[float] | np.ndarray,
    *,
    inputs: Sequence[str] | None = None,
    rng: RngLike = None,
) -> Emulator:
    """Fit a Gaussian-process emulator of each quantity of ``Y`` on the design ``X``.

    Parameters
    ----------
    X : array_like, shape (n, d)
        The design points, in the original units (normally inside the box).
    Y : mapping of str to array_like
        Each quantity's value at every design point, shape (n,), finite.
    lows, highs : array_like, shape (d,)
        The box that scales the inputs to the unit cube; finite, highs > lows.
    inputs : sequence of str, optional
        The inputs' names, for `Emulator.length_scales` (default ``x0``, ``x1``, ...).
    rng : int, Generator, SeedSequence or None
        The source of the optimiser's random restarts (SPEC 7): the same seed gives the same
        emulator. Each quantity draws from its own stream keyed by its name, so the order of
        ``Y`` changes nothing but the order of `Emulator.names`.

    Returns
    -------
    Emulator

    Raises
    ------
    ArgumentError
        On a bad argument (named in the error): shapes that disagree, NaN or infinity, fewer
        than `min_points` design points, an empty box side; or when scikit-learn is missing.
    """
    lo, hi = _box(lows, highs)
    d = len(lo)
    x = _matrix(X, "X", d, rows=min_points(d))
    values = _values(Y, len(x))
    labels = _inputs(inputs, d)
    gpr, kernels, convergence = _sklearn()
    base = int(np.random.default_rng(rng).integers(2**63))
    unit = (x - lo) / (hi - lo)
    means: list[float] = []
    sds: list[float] = []
    models: list[Any] = []
    for name, y in values.items():
        mu, sd = float(np.mean(y)), float(np.std(y))
        means.append(mu)
        sds.append(sd)
        if sd <= 1e-12 * max(1.0, abs(mu)):
            models.append(None)
            continue
        kernel = kernels.ConstantKernel(1.0, constant_value_bounds=SIGNAL_BOUNDS) * kernels.RBF(
            length_scale=np.ones(d), length_scale_bounds=LENGTH_BOUNDS
        ) + (kernels.WhiteKernel(noise_level=0.1, noise_level_bounds=NUGGET_BOUNDS))
        model = gpr(
            kernel=kernel,
            normalize_y=False,
            n_restarts_optimizer=RESTARTS,
            random_state=_stream(base, name),
        )
        with warnings.catch_warnings():
            # a hyperparameter at its bound (an irrelevant input's length scale, a nugget
            # at its floor for a nearly noiseless quantity) is an answer, not a failure;
            # and a line search that stops early in one start of the optimiser is not either:
            # the best of the starts is kept
            for message in (r".*close to the\s+specified (upper|lower) bound", "lbfgs failed"):
                warnings.filterwarnings("ignore", message=message, category=convergence)
            model.fit(unit, (y - mu) / sd)
        models.append(model)
    return Emulator(
        names=tuple(values),
        lows=lo,
        highs=hi,
        n_train=len(x),
        inputs=labels,
        means=np.array(means),
        sds=np.array(sds),
        models=tuple(models),
    )


@dataclass(frozen=True, eq=False)
class EmulatorCheck:
    """How well an emulator predicts points it was not fitted on (`check_emulator`).

    Attributes
    ----------
    table : DataFrame
        A row per quantity (index ``quantity``), columns ``n_train``, ``n_heldout``,
        ``coverage`` (the share of the held-back values inside the emulator's central
        ``level`` predictive interval), ``nominal`` (the level), ``rmse`` (of the predictive
        mean), ``heldout_sd`` (the sd of the held-back values: an rmse well below it is a
        useful emulator) and ``pred_sd`` (the mean predictive sd).
    level : float
        The nominal coverage of the intervals.
    heldout : DataFrame
        A row per quantity and held-back point: ``quantity``, ``row`` (the row of ``X``),
        ``value``, ``mean``, ``sd`` (predictive), ``z`` (the standardised error
        ``(value - mean) / sd``, NaN where sd is 0) and ``covered``.
    """

    table: pd.DataFrame
    level: float
    heldout: pd.DataFrame

    @property
    def coverage(self) -> float:
        """The share of all held-back values, over every quantity, inside their interval."""
        return float(self.heldout["covered"].mean())

    def describe(self) -> str:
        """A line per quantity and an overall line, in plain words."""
        nominal = _percent(self.level)
        lines = []
        for name, row in self.table.iterrows():
            lines.append(
                f"{name}: {nominal} intervals cover {_percent(row['coverage'])} of "
                f"{int(row['n_heldout'])} held-back values; rmse {row['rmse']:.3g} against "
                f"their sd {row['heldout_sd']:.3g}, mean predictive sd {row['pred_sd']:.3g}"
            )
        lines.append(
            f"emulator {nominal} intervals cover {_percent(self.coverage)} of "
            f"{len(self.heldout)} held-back values (nominal {nominal})"
        )
        return "\n".join(lines)


def check_emulator(
    X: np.ndarray,
    Y: Mapping[str, np.ndarray],
    lows: Sequence[float] | np.ndarray,
    highs: Sequence[float] | np.ndarray,
    *,
    holdout: float = 0.25,
    level: float = 0.95,
    rng: RngLike = None,
) -> EmulatorCheck:
    """Fit on a random ``1 - holdout`` share of the points, predict the rest, report coverage.

    Parameters
    ----------
    X, Y, lows, highs
        As for `fit_emulator`.
    holdout : float
        The share of the points held back, in (0, 1): rounded to a whole number of points,
        at least one, leaving at least `min_points` to fit on.
    level : float
        The nominal coverage of the central predictive intervals, in (0, 1): a held-back
        value is covered when ``|value - mean| <= z sd``, ``z`` the normal quantile of
        ``(1 + level) / 2``.
    rng : int, Generator, SeedSequence or None
        The source of the split and of the fit's random restarts (SPEC 7).

    Returns
    -------
    EmulatorCheck

    Raises
    ------
    ArgumentError
        As `fit_emulator`, and for a ``holdout`` or ``level`` out of range.
    """
    lo, hi = _box(lows, highs)
    d = len(lo)
    x = _matrix(X, "X", d, rows=min_points(d))
    values = _values(Y, len(x))
    n = len(x)
    if not _number(holdout) or not 0.0 < holdout < 1.0:
        raise ArgumentError(
            f"holdout must be a number in (0, 1), got {holdout!r}", argument="holdout"
        )
    if not _number(level) or not 0.0 < level < 1.0:
        raise ArgumentError(f"level must be a number in (0, 1), got {level!r}", argument="level")
    n_held = math.floor(holdout * n + 0.5)
    if n_held < 1 or n - n_held < min_points(d):
        raise ArgumentError(
            f"holdout {holdout:g} of {n} points holds back {n_held}: it must hold back at least "
            f"1 and leave at least {min_points(d)} to fit on",
            argument="holdout",
        )
    gen = np.random.default_rng(rng)
    order = gen.permutation(n)
    held, train = np.sort(order[:n_held]), np.sort(order[n_held:])
    emulator = fit_emulator(x[train], {k: v[train] for k, v in values.items()}, lo, hi, rng=gen)
    means, variances = emulator.predict(x[held])
    z = float(stats.norm.ppf((1 + level) / 2))
    rows, parts = [], []
    for name, y in values.items():
        truth, mean, sd = y[held], means[name], np.sqrt(variances[name])
        covered = np.abs(truth - mean) <= z * sd
        with np.errstate(divide="ignore", invalid="ignore"):
            standard = np.where(sd > 0, (truth - mean) / np.where(sd > 0, sd, 1.0), np.nan)
        parts.append(
            pd.DataFrame(
                {
                    "quantity": name,
                    "row": held,
                    "value": truth,
                    "mean": mean,
                    "sd": sd,
                    "z": standard,
                    "covered": covered,
                }
            )
        )
        rows.append(
            {
                "quantity": name,
                "n_train": len(train),
                "n_heldout": n_held,
                "coverage": float(covered.mean()),
                "nominal": float(level),
                "rmse": float(np.sqrt(np.mean(np.square(truth - mean)))),
                "heldout_sd": float(np.std(truth)),
                "pred_sd": float(np.mean(sd)),
            }
        )
    table = pd.DataFrame(rows).set_index("quantity")[list(CHECK_COLUMNS)]
    return EmulatorCheck(
        table=table, level=float(level), heldout=pd.concat(parts, ignore_index=True)
    )


# ---------------------------------------------------------------------------------------
# scikit-learn


def _sklearn() -> tuple[Any, Any, Any]:
    """scikit-learn's regressor class, its kernels module and its ConvergenceWarning."""
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor, kernels
    except ImportError as exc:
        raise ArgumentError(
            f"emulators need scikit-learn, the 'explore' extra: {INSTALL_HINT}",
            argument="emulator",
        ) from exc
    return GaussianProcessRegressor, kernels, ConvergenceWarning


def _hyper(model: Any) -> dict[str, Any]:
    """A fitted model's hyperparameters: ``signal`` and ``nugget`` variances, ``length``."""
    params = model.kernel_.get_params()
    return {
        "signal": float(params["k1__k1__constant_value"]),
        "length": np.atleast_1d(np.asarray(params["k1__k2__length_scale"], dtype=float)),
        "nugget": float(params["k2__noise_level"]),
    }


def _stream(base: int, name: str) -> int:
    """The optimiser's seed for quantity ``name``: a stream of ``base`` keyed by the name."""
    seq = point_seed(base, zlib.crc32(name.encode()))  # the package's one keyed-stream rule
    return int(seq.generate_state(1)[0])


# ---------------------------------------------------------------------------------------
# checks


def _number(value: object) -> bool:
    return isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool)


def _box(lows: Any, highs: Any) -> tuple[np.ndarray, np.ndarray]:
    """``lows`` and ``highs`` as float vectors of one length, finite, highs > lows."""
    out = []
    for name, raw in (("lows", lows), ("highs", highs)):
        try:
            v = np.asarray(raw, dtype=float)
        except (TypeError, ValueError):
            raise ArgumentError(f"{name} must hold numbers", argument=name) from None
        if v.ndim != 1 or len(v) == 0:
            raise ArgumentError(
                f"{name} must be a vector, one bound per input, got shape {v.shape}", argument=name
            )
        if not np.isfinite(v).all():
            raise ArgumentError(f"{name} holds NaN or infinity", argument=name)
        out.append(v)
    lo, hi = out
    if len(lo) != len(hi):
        raise ArgumentError(
            f"highs must have one bound per input like lows ({len(lo)}), got {len(hi)}",
            argument="highs",
        )
    if not (hi > lo).all():
        j = int(np.argmin(hi > lo))
        raise ArgumentError(
            f"highs must exceed lows at every input; input {j} has [{lo[j]:g}, {hi[j]:g}]",
            argument="highs",
        )
    return lo, hi


def _matrix(X: Any, name: str, d: int, rows: int) -> np.ndarray:
    """``X`` as (rows, d) finite floats with at least ``rows`` rows."""
    try:
        x = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentError(f"{name} must hold numbers", argument=name) from None
    if x.ndim != 2 or x.shape[1] != d:
        raise ArgumentError(
            f"{name} must be (rows, inputs) with one column per bound ({d}), "
            f"got shape {np.shape(X)}",
            argument=name,
        )
    if len(x) < rows:
        raise ArgumentError(
            f"{name} has {len(x)} rows; an emulator of {d} input(s) needs at least {rows} "
            "design points (about 10 per input is the usual advice)",
            argument=name,
        )
    if not np.isfinite(x).all():
        raise ArgumentError(f"{name} holds NaN or infinity", argument=name)
    return x


def _values(Y: Any, n: int) -> dict[str, np.ndarray]:
    """``Y`` as {name: (n,) finite floats}, at least one quantity."""
    if not isinstance(Y, Mapping) or not Y:
        raise ArgumentError(
            "Y must be a mapping of quantity names to values, with at least one quantity",
            argument="Y",
        )
    out = {}
    for key, raw in Y.items():
        if not isinstance(key, str):
            raise ArgumentError(f"Y's keys must be names (str), got {key!r}", argument="Y")
        try:
            v = np.asarray(raw, dtype=float)
        except (TypeError, ValueError):
            raise ArgumentError(f"Y['{key}'] must hold numbers", argument="Y") from None
        if v.shape != (n,):
            raise ArgumentError(
                f"Y['{key}'] must have one value per row of X ({n},), got shape {v.shape}",
                argument="Y",
            )
        if not np.isfinite(v).all():
            raise ArgumentError(f"Y['{key}'] holds NaN or infinity", argument="Y")
        out[key] = v
    return out


def _inputs(inputs: Sequence[str] | None, d: int) -> tuple[str, ...]:
    """The inputs' names: ``inputs`` checked, or ``x0``, ``x1``, ..."""
    if inputs is None:
        return tuple(f"x{j}" for j in range(d))
    labels = tuple(inputs) if not isinstance(inputs, str) else ()
    if len(labels) != d or not all(isinstance(n, str) for n in labels):
        raise ArgumentError(
            f"inputs must be a sequence of {d} names, one per column of X", argument="inputs"
        )
    if len(set(labels)) != d:
        dup = next(n for n in labels if labels.count(n) > 1)
        raise ArgumentError(f"input '{dup}' is named twice", argument="inputs")
    return labels


def _percent(share: float) -> str:
    """A share as a percentage, with enough digits that only 0 and 1 print as 0% and 100%."""
    for digits in range(6):
        text = f"{share:.{digits}%}"
        if (share <= 0 or float(text[:-1]) > 0) and (share >= 1 or float(text[:-1]) < 100):
            return text
    return f"{share:.6%}"
