"""Scenario discovery: where in the uncertainty space a case of interest happens (PRIM).

Pure functions on arrays, like `influence_sim.analysis.sensitivity`: a design ``X`` (rows are
points, columns the named inputs) and a boolean ``y`` marking the cases of interest (for
instance, the points where a conclusion fails). `prim` runs the Patient Rule Induction Method
(Friedman and Fisher 1999) as scenario discovery uses it (Bryant and Lempert 2010): it peels
thin slices off a box that starts as the whole data, each time the slice whose removal raises
the share of cases of interest in the box the most per row removed, then pastes back what
helps. Each step is a box on the *peeling trajectory*, which trades coverage against density:

- coverage: the share of all cases of interest that fall in the box;
- density: the share of the rows in the box that are cases of interest;
- mass: the share of all rows that fall in the box.

PRIM itself is the EMA Workbench's (install the ``explore`` extra:
``pip install 'influence-sim[explore]'``), imported only when `prim` runs. Its results are
copied into a `Discovery`, which holds only numbers, names and data frames, so nothing else in
the tool depends on the package's classes. The quasi-p-values are computed here, from the
data, by the definition of Bryant and Lempert (2010).

PRIM draws no random numbers: the same inputs give the same `Discovery`.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ArgumentError

if TYPE_CHECKING:
    from .sensitivity import Space

__all__ = ["Discovery", "StoredDiscovery", "discover", "prim"]

#: The columns of `Discovery.trajectory`, in order.
TRAJECTORY_COLUMNS = ("coverage", "density", "mass", "restricted", "cases", "n")
#: The columns of `Discovery.limits`, in order.
LIMIT_COLUMNS = ("low", "high", "qp", "qp_low", "qp_high")
#: What to install when the PRIM package is missing.
INSTALL_HINT = "pip install 'influence-sim[explore]'"
#: The logger of the PRIM module (its progress lines are silenced while `prim` runs).
_PRIM_LOGGER = "EMA.ema_workbench.analysis.prim"


@dataclass(frozen=True, eq=False)
class Discovery:
    """One PRIM box: the peeling trajectory, the box chosen on it and its limits.

    Attributes
    ----------
    names : tuple of str
        Every input, in the design's column order.
    trajectory : DataFrame
        One row per step of the peeling (and pasting) trajectory, indexed by step from 0 (the
        whole data), columns ``coverage``, ``density``, ``mass``, ``restricted`` (the number
        of inputs the box restricts), ``cases`` (cases of interest in the box) and ``n``
        (rows in the box).
    chosen : int
        The step of the chosen box in the trajectory (see `prim`).
    limits : DataFrame
        The chosen box's restrictions, indexed by input (restricted inputs only, most
        significant first): ``low`` and ``high`` (a row is in the box when low <= x <= high;
        an unrestricted side is the data's own minimum or maximum), ``qp`` (the quasi-p-value
        of the restriction, see `prim`), ``qp_low`` and ``qp_high`` (the same test for each
        bound alone; NaN for a bound left at the data's end).
    ranges : DataFrame
        The data's range of every input (columns ``low``, ``high``): the box PRIM starts
        from.
    coverage, density, mass : float
        The chosen box's (see the module's docstring).
    cases : int
        The number of cases of interest (rows where ``y`` is true).
    n : int
        The number of rows.
    threshold : float
        The density a box must reach to count as a scenario (`found`).
    min_coverage : float
        The least coverage of the box chosen by default.
    settings : Mapping
        PRIM's parameters (``peel_alpha``, ``paste_alpha``, ``mass_min``) and the package that
        ran it (``engine``), for a results manifest.
    """

    names: tuple[str, ...]
    trajectory: pd.DataFrame
    chosen: int
    limits: pd.DataFrame
    ranges: pd.DataFrame
    coverage: float
    density: float
    mass: float
    cases: int
    n: int
    threshold: float
    min_coverage: float
    settings: Mapping[str, Any]

    @property
    def found(self) -> bool:
        """Whether the chosen box is dense enough (density >= `threshold`) to be a scenario."""
        return self.density >= self.threshold

    @property
    def restricted(self) -> tuple[str, ...]:
        """The inputs the chosen box restricts, most significant first."""
        return tuple(str(name) for name in self.limits.index)

    def rule(self, name: str) -> str:
        """The chosen box's restriction on one input as text, e.g. ``0.21 <= x2 <= 0.59``."""
        if name not in self.limits.index:
            return f"{name}: any value"
        low, high = self.limits.loc[name, ["low", "high"]]
        at_low = low <= self.ranges.loc[name, "low"]
        at_high = high >= self.ranges.loc[name, "high"]
        if at_low:
            return f"{name} <= {_num(high)}"
        if at_high:
            return f"{name} >= {_num(low)}"
        return f"{_num(low)} <= {name} <= {_num(high)}"

    def describe(self) -> str:
        """A few lines of plain text: the data, the chosen box, its limits and the verdict."""
        lines = [
            f"PRIM: {self.cases:,} cases of interest in {self.n:,} rows "
            f"({self.cases / self.n:.1%}), {len(self.names)} inputs.",
            f"Box {self.chosen} of steps 0-{len(self.trajectory) - 1}: coverage "
            f"{self.coverage:.1%}, density {self.density:.1%}, mass {self.mass:.1%}; "
            f"restricts {len(self.limits)} of {len(self.names)} inputs.",
        ]
        width = max((len(self.rule(str(name))) for name in self.limits.index), default=0)
        for name, row in self.limits.iterrows():
            lines.append(f"  {self.rule(str(name)):<{width}}   quasi-p {_p(row['qp'])}")
        verdict = "reaches" if self.found else "is below"
        lines.append(
            f"Its density {verdict} the threshold {self.threshold:.0%}"
            + ("." if self.found else ": no sharp scenario at this threshold.")
        )
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """The discovery as plain JSON types (NaN as None), for a results manifest."""
        return {
            "method": "prim",
            "names": list(self.names),
            "n": self.n,
            "cases": self.cases,
            "threshold": self.threshold,
            "min_coverage": self.min_coverage,
            "settings": dict(self.settings),
            "chosen": self.chosen,
            "found": self.found,
            "coverage": self.coverage,
            "density": self.density,
            "mass": self.mass,
            "limits": [
                {"input": str(name), **{c: _json(row[c]) for c in LIMIT_COLUMNS}}
                for name, row in self.limits.iterrows()
            ],
            "ranges": {
                str(name): [float(row["low"]), float(row["high"])]
                for name, row in self.ranges.iterrows()
            },
            "trajectory": {
                c: [_json(v) for v in self.trajectory[c].tolist()] for c in TRAJECTORY_COLUMNS
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Discovery:
        """The discovery that `as_dict` wrote (read back from a manifest)."""
        trajectory = pd.DataFrame(
            {c: data["trajectory"][c] for c in TRAJECTORY_COLUMNS}, columns=TRAJECTORY_COLUMNS
        )
        trajectory = _typed_trajectory(trajectory)
        limits = pd.DataFrame(
            [[_nan(row[c]) for c in LIMIT_COLUMNS] for row in data["limits"]],
            index=pd.Index([row["input"] for row in data["limits"]], name="input", dtype=object),
            columns=LIMIT_COLUMNS,
            dtype=float,
        )
        ranges = pd.DataFrame(
            [data["ranges"][name] for name in data["names"]],
            index=pd.Index(list(data["names"]), name="input", dtype=object),
            columns=["low", "high"],
            dtype=float,
        )
        return cls(
            names=tuple(data["names"]),
            trajectory=trajectory,
            chosen=int(data["chosen"]),
            limits=limits,
            ranges=ranges,
            coverage=float(data["coverage"]),
            density=float(data["density"]),
            mass=float(data["mass"]),
            cases=int(data["cases"]),
            n=int(data["n"]),
            threshold=float(data["threshold"]),
            min_coverage=float(data["min_coverage"]),
            settings=dict(data["settings"]),
        )


def prim(
    X: np.ndarray,
    y: np.ndarray,
    names: Sequence[str] | Space,
    *,
    threshold: float = 0.8,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
    min_coverage: float = 0.5,
    box: int | None = None,
) -> Discovery:
    """Find the box of inputs where the cases of interest concentrate (PRIM).

    Parameters
    ----------
    X : array_like, shape (rows, inputs)
        The design: one row per point, one column per input, finite numbers.
    y : array_like of bool, shape (rows,)
        True where the point is a case of interest (e.g. where a conclusion fails).
    names : sequence of str, or Space
        The inputs' names, in the columns' order (a `Space` gives its names).
    threshold : float
        The density a box must reach to count as a scenario: `Discovery.found` and the
        verdict of `Discovery.describe` (the box is chosen whether or not it reaches it).
    peel_alpha, paste_alpha : float
        The share of the rows in the box peeled off (pasted back) in one step, in (0, 0.5).
    mass_min : float
        The least mass of a box: peeling stops before the box holds fewer rows.
    min_coverage : float
        The chosen box, unless ``box`` is given, is the densest box on the trajectory with
        coverage >= ``min_coverage`` (of equally dense boxes, the one with the most coverage,
        then the earliest). The first step, the whole data, has coverage 1, so there always
        is one.
    box : int, optional
        Choose this step of the trajectory instead (from 0; negative counts from the end).

    Returns
    -------
    Discovery
        The trajectory, the chosen box, its limits and their quasi-p-values.

    Raises
    ------
    ArgumentError
        For a bad argument, when ``y`` holds no case of interest (or only cases of interest),
        and when the PRIM package is not installed.

    Notes
    -----
    The quasi-p-value of a restriction (Bryant and Lempert 2010) is a one-sided binomial
    test: with the restriction on that input removed (the other restrictions kept), the box
    holds T' rows of which H' are cases; it is the probability that T rows (the chosen box's)
    drawn at that density H'/T' hold at least its H cases. A small value means the restriction
    adds density that chance would not; a value near 1 marks a restriction worth dropping.
    ``qp_low`` and ``qp_high`` relax one bound at a time, as the EMA Workbench reports them.

    With noisy cases the densest box is often reached by a few last peels that cut on inputs
    that do not matter: their restrictions have large quasi-p-values. Read them, and choose
    an earlier ``box`` on the trajectory where they appear.
    """
    names, x, cases = _checked(X, y, names)
    _check_settings(threshold, peel_alpha, paste_alpha, mass_min, min_coverage)
    if box is not None and (isinstance(box, bool) or not isinstance(box, int | np.integer)):
        raise ArgumentError(f"box must be a step number, got {box!r}", argument="box")
    trajectory, boxes, engine = _run_prim(x, cases, peel_alpha, paste_alpha, mass_min)
    lows, highs = x.min(axis=0), x.max(axis=0)
    trajectory["restricted"] = [
        int(np.count_nonzero((b[0] > lows) | (b[1] < highs))) for b in boxes
    ]
    trajectory = _typed_trajectory(trajectory[list(TRAJECTORY_COLUMNS)])
    chosen = _choose(trajectory, min_coverage, box)
    row = trajectory.loc[chosen]
    return Discovery(
        names=names,
        trajectory=trajectory,
        chosen=chosen,
        limits=_limits(x, cases, names, boxes[chosen], lows, highs),
        ranges=pd.DataFrame(
            {"low": lows, "high": highs}, index=pd.Index(list(names), name="input", dtype=object)
        ),
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        mass=float(row["mass"]),
        cases=int(cases.sum()),
        n=len(cases),
        threshold=float(threshold),
        min_coverage=float(min_coverage),
        settings={
            "peel_alpha": float(peel_alpha),
            "paste_alpha": float(paste_alpha),
            "mass_min": float(mass_min),
            "engine": engine,
        },
    )


# ---------------------------------------------------------------------------------------
# checks


def _checked(
    X: np.ndarray, y: np.ndarray, names: Sequence[str] | Space
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """The names, ``X`` as (rows, inputs) floats and ``y`` as booleans, checked."""
    raw: Any = getattr(names, "names", names)
    try:
        labels = tuple(raw) if not isinstance(raw, str) else ()
    except TypeError:
        labels = ()
    if not labels or not all(isinstance(n, str) for n in labels):
        raise ArgumentError("names must be a sequence of strings, one per input", argument="names")
    if len(set(labels)) != len(labels):
        dup = next(n for n in labels if labels.count(n) > 1)
        raise ArgumentError(f"input '{dup}' is named twice", argument="names")
    try:
        x = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentError("X must hold numbers", argument="X") from None
    if x.ndim != 2 or x.shape[1] != len(labels) or x.shape[0] < 2:
        raise ArgumentError(
            f"X must have one column per input ({len(labels)}) and at least 2 rows, "
            f"got shape {np.shape(X)}",
            argument="X",
        )
    if not np.isfinite(x).all():
        raise ArgumentError("X holds NaN or infinity", argument="X")
    cases = np.asarray(y)
    if cases.dtype != np.bool_:
        raise ArgumentError(
            f"y must be boolean (True where a point is a case of interest), got {cases.dtype}",
            argument="y",
            suggestion="y.astype(bool)" if cases.dtype.kind in "iu" else None,
        )
    if cases.ndim != 1 or cases.shape[0] != x.shape[0]:
        raise ArgumentError(
            f"y must have one value per row of X ({x.shape[0]}), got shape {cases.shape}",
            argument="y",
        )
    if not cases.any():
        raise ArgumentError(
            "y holds no case of interest (it is False at every row): nothing to discover",
            argument="y",
        )
    if cases.all():
        raise ArgumentError(
            "every row is a case of interest (y is True at every row): nothing to tell apart",
            argument="y",
        )
    return labels, x, cases


def _check_settings(
    threshold: float, peel_alpha: float, paste_alpha: float, mass_min: float, min_coverage: float
) -> None:
    """Each of PRIM's parameters in its range."""
    ranges = {
        "threshold": (threshold, 0.0, 1.0, "in (0, 1]"),
        "peel_alpha": (peel_alpha, 0.0, 0.5, "in (0, 0.5)"),
        "paste_alpha": (paste_alpha, 0.0, 0.5, "in (0, 0.5)"),
        "mass_min": (mass_min, 0.0, 1.0, "in (0, 1)"),
    }
    for name, (value, lo, hi, text) in ranges.items():
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not (lo < value < hi or (name == "threshold" and value == 1.0)):
            raise ArgumentError(f"{name} must be a number {text}, got {value!r}", argument=name)
    if not isinstance(min_coverage, int | float) or not 0.0 <= min_coverage <= 1.0:
        raise ArgumentError(
            f"min_coverage must be a number in [0, 1], got {min_coverage!r}",
            argument="min_coverage",
        )


def _choose(trajectory: pd.DataFrame, min_coverage: float, box: int | None) -> int:
    """The step chosen: ``box``, else the densest with coverage >= ``min_coverage``."""
    steps = len(trajectory)
    if box is not None:
        if not -steps <= box < steps:
            raise ArgumentError(
                f"box must be a step of the trajectory, 0 to {steps - 1}, got {box}",
                argument="box",
            )
        return int(box) % steps
    ok = trajectory[trajectory["coverage"] >= min_coverage - 1e-12]
    # densest, then most coverage, then earliest: a stable sort on the step order
    best = ok.sort_values(["density", "coverage"], ascending=False, kind="stable")
    return int(best.index[0])


# ---------------------------------------------------------------------------------------
# PRIM


def _run_prim(
    x: np.ndarray, y: np.ndarray, peel_alpha: float, paste_alpha: float, mass_min: float
) -> tuple[pd.DataFrame, list[np.ndarray], str]:
    """PRIM's trajectory (coverage, density, mass, cases, n), each box's limits, the engine.

    Each box is a (2, inputs) array: lower limits, then upper limits. The package sees the
    inputs as ``c0, c1, ...``, so no input name can clash with a column it treats specially.
    """
    # the package warns on import (optional parts it lacks) and about pandas deprecations
    # inside its own code, and logs its progress at INFO: none of that is the user's concern
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"ema_workbench(\.|$)")
        try:
            from ema_workbench.analysis import prim as ema_prim
        except ImportError as exc:
            raise ArgumentError(
                f"scenario discovery needs the EMA Workbench, the 'explore' extra: {INSTALL_HINT}",
                argument="prim",
            ) from exc
        columns = [f"c{j}" for j in range(x.shape[1])]
        logger = logging.getLogger(_PRIM_LOGGER)
        level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            found = ema_prim.Prim(
                pd.DataFrame(x, columns=columns),
                y.copy(),
                peel_alpha=peel_alpha,
                paste_alpha=paste_alpha,
                mass_min=mass_min,
            ).find_box()
        finally:
            logger.setLevel(level)
    if found is None:  # pragma: no cover - only when no rows remain, never on a first box
        raise ArgumentError("PRIM found no box", argument="X")
    raw = found.peeling_trajectory
    trajectory = pd.DataFrame(
        {
            "coverage": raw["coverage"].to_numpy(float),
            "density": raw["density"].to_numpy(float),
            "mass": raw["mass"].to_numpy(float),
            "cases": raw["k"].to_numpy(np.int64),
            "n": raw["n"].to_numpy(np.int64),
        }
    )
    boxes = [lims[columns].to_numpy(float) for lims in found.box_lims]
    return trajectory, boxes, f"ema_workbench {metadata.version('ema_workbench')}"


def _typed_trajectory(frame: pd.DataFrame) -> pd.DataFrame:
    """The trajectory with its dtypes and a ``step`` index."""
    out = frame.astype(
        {
            "coverage": float,
            "density": float,
            "mass": float,
            "restricted": np.int64,
            "cases": np.int64,
            "n": np.int64,
        }
    )
    out.index = pd.RangeIndex(len(out), name="step")
    return out


def _limits(
    x: np.ndarray,
    y: np.ndarray,
    names: tuple[str, ...],
    box: np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
) -> pd.DataFrame:
    """The restricted inputs' limits and quasi-p-values, most significant first."""
    low_cut, high_cut = box[0] > lows, box[1] < highs
    inside = (x >= box[0]) & (x <= box[1])
    in_box = inside.all(axis=1)
    t_box, h_box = int(in_box.sum()), int(y[in_box].sum())

    def qp(j: int, low: bool, high: bool) -> float:
        """The quasi-p-value with input j's lower and/or upper bound relaxed."""
        keep = np.delete(inside, j, axis=1).all(axis=1)
        if not low:
            keep &= x[:, j] >= box[0, j]
        if not high:
            keep &= x[:, j] <= box[1, j]
        t, h = int(keep.sum()), int(y[keep].sum())
        return float(stats.binom.sf(h_box - 1, t_box, h / t))

    rows = []
    for j in map(int, np.flatnonzero(low_cut | high_cut)):
        rows.append(
            (
                names[j],
                float(box[0, j]),
                float(box[1, j]),
                qp(j, True, True),
                qp(j, True, False) if low_cut[j] else math.nan,
                qp(j, False, True) if high_cut[j] else math.nan,
            )
        )
    # most significant first; names break ties so the order never depends on the columns'
    rows.sort(key=lambda r: (r[3], r[0]))
    return pd.DataFrame(
        [r[1:] for r in rows],
        index=pd.Index([r[0] for r in rows], name="input", dtype=object),
        columns=LIMIT_COLUMNS,
        dtype=float,
    )


# ---------------------------------------------------------------------------------------
# text


def _num(value: float) -> str:
    """A limit for text: three significant digits."""
    return f"{value:.3g}"


def _p(value: float) -> str:
    """A quasi-p-value for text."""
    return f"{value:.2g}" if value >= 1e-3 else f"{value:.1e}"


def _json(value: Any) -> Any:
    """A number as a JSON value: int, float, or None for NaN."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    value = float(value)
    return None if math.isnan(value) else value


def _nan(value: Any) -> float:
    """None (a NaN in JSON) back to NaN."""
    return math.nan if value is None else float(value)


# ---------------------------------------------------------------------------------------
# discovery on a stored sensitivity run


@dataclass(frozen=True, eq=False)
class StoredDiscovery:
    """Where a conclusion fails (or holds) in a stored design run, and where it was written.

    Attributes
    ----------
    discovery : Discovery
    conclusion : str
        The conclusion's name, or its statement when given as one.
    statement : str
    where : {"fails", "holds"}
    share : float
        The share of design points where the conclusion holds.
    path : Path
        The JSON file written.
    space : Space
        The run's uncertainty space (the inputs' full ranges, for figures).
    """

    discovery: Discovery
    conclusion: str
    statement: str
    where: str
    share: float
    path: Any
    space: Space

    def describe(self) -> str:
        """The conclusion, how often it holds, and the box where it fails (or holds)."""
        label = "" if self.conclusion == self.statement else f" {self.conclusion}"
        head = (
            f"Conclusion{label}: {self.statement}\n"
            f"It holds at {self.share:.1%} of the design points (replicate means); PRIM looks "
            f"for where it {self.where}.\n"
        )
        return head + self.discovery.describe()


def discover(
    results: Any,
    conclusion: str,
    *,
    where: str = "fails",
    min_coverage: float = 0.5,
    threshold: float = 0.8,
    box: int | None = None,
) -> StoredDiscovery:
    """Scenario discovery on a stored sensitivity run (`run_sensitivity`).

    Parameters
    ----------
    results : str or Path
        The run's store.
    conclusion : str
        A conclusion declared in the experiment (by name), or a statement over the run's
        outcomes: their names, or function terms such as
        ``effect(no_csto, balance, KG, 2022-03-05)`` that match a stored outcome.
    where : {"fails", "holds"}
        Find the region where the conclusion fails (default) or holds.
    min_coverage, threshold, box
        As for `prim`.

    Writes ``discovery/<name>-<where>.json`` (the conclusion and the `Discovery`) into the
    store, atomically; `influence_sim.plots.discovery_panels` draws it (the ``discover``
    command writes the PNG beside it).
    """
    import json
    import re
    from pathlib import Path

    from .._io import atomic_file
    from ..experiment.sweep import load_design_run

    if where not in ("fails", "holds"):
        raise ArgumentError(f"where is 'fails' or 'holds', got {where!r}", argument="where")
    run = load_design_run(results)
    parsed, _ = run.conclusion(conclusion)
    name, statement = parsed.name, parsed.text
    holds = run.holds(conclusion)
    y = ~holds if where == "fails" else holds
    if not y.any():
        raise ArgumentError(
            f"the conclusion never {where} at any of the {len(y):,} design "
            "points: there is no region to find",
            argument="conclusion",
        )
    d = prim(run.X, y, run.space, min_coverage=min_coverage, threshold=threshold, box=box)
    slug = name or "statement-" + re.sub(r"[^A-Za-z0-9]+", "_", statement).strip("_")[:60]
    folder = Path(run.path) / "discovery"
    folder.mkdir(exist_ok=True)
    path = folder / f"{slug}-{where}.json"
    record = {
        "conclusion": name or statement,
        "statement": statement,
        "where": where,
        "share_holds": float(holds.mean()),
        "text": d.describe(),
        **d.as_dict(),
    }
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return StoredDiscovery(
        discovery=d,
        conclusion=name or statement,
        statement=statement,
        where=where,
        share=float(holds.mean()),
        path=path,
        space=run.space,
    )
