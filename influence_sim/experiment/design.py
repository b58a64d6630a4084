"""Experiments: scenarios x parameter points x replicates, run in chunks on any executor.

An experiment file (TOML) names the scenarios (one of them the baseline), the replicates and
root seed, an optional parameter design (a full grid or a Latin hypercube) and the output
selection. It is plain data; how it runs (in-process, a local process pool, a Dask cluster) is
an argument, not a different API.

Seeds follow SPEC 7: replicate k at design point j draws from the root seed's children keyed
``(j, k, 0)`` (dynamics noise) and ``(j, k, 1, crc32(event id))`` (each event). Every scenario at
a point therefore sees the same random numbers in replicate k (common random numbers), and the
results do not depend on the chunk size, the number of workers or the executor.
"""

from __future__ import annotations

import glob
import hashlib
import itertools
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._io import parse_toml, path_exists, read_input
from ..core.measures import RECORDED
from ..core.scenario import Scenario, load_scenario
from ..errors import ExperimentError, InputError, Where, bad_id, excerpt, one_of, suggest
from ..params import parameters
from ..seeds import design_seed
from .uncertainty import UNCERTAINTY_SECTIONS, InputSample, Uncertainty, read_uncertainty

__all__ = [
    "MAX_POINTS",
    "MAX_TASKS",
    "Experiment",
    "Output",
    "Task",
    "load_experiment",
    "with_params",
]

#: Most design points of an experiment (a grid's product of value counts, or an lhs's
#: ``points``). The grid's count is computed from the lengths of its value lists, so a huge
#: grid is refused without being built.
MAX_POINTS = 100_000
#: Most tasks (chunks) of an experiment: scenarios x points x ceil(replicates / chunk).
MAX_TASKS = 100_000

EXPERIMENT_KEYS = {
    "name",
    "title",
    "description",
    "baseline",
    "scenarios",
    "replicates",
    "seed",
    "chunk",
}
DESIGN_KEYS = {"kind", "points", "params"}
OUTPUT_KEYS = {"measures", "every", "factions"}
COMPARE_KEYS = {"thresholds", "at"}


@dataclass(frozen=True, kw_only=True)
class Output:
    """What each run records: measures, recording interval, faction-level scores."""

    measures: tuple[str, ...] = RECORDED
    every: int = 1
    factions: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The output selection as written to manifests."""
        return {"measures": list(self.measures), "every": self.every, "factions": self.factions}


@dataclass(frozen=True)
class Task:
    """One chunk of work: replicates [start, end) of one scenario at one design point."""

    scenario: int
    point: int
    start: int
    end: int

    @property
    def id(self) -> str:
        """Stable chunk id, used for file names and in the manifest."""
        return f"s{self.scenario:03d}-p{self.point:04d}-r{self.start:07d}-{self.end:07d}"


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """A validated experiment.

    Attributes
    ----------
    name, title, description, path : str
    baseline : str
        Name of the baseline scenario.
    scenarios : tuple of Scenario
        All scenarios, the baseline first.
    replicates : int
        Replicates per scenario and point.
    seed : int
        Root seed.
    chunk : int
        Replicates per chunk (a unit of work and a file).
    points : tuple of dict
        Parameter overrides per design point (one empty point without a design).
    design : dict
        The design as written (kind, params, points).
    output : Output
    thresholds : tuple of (actor, level)
        Levels for time-to-threshold outcomes (absolute balance levels).
    at : tuple of datetime.date
        Dates at which `compare` reports besides the horizon.
    uncertainty : Uncertainty or None
        The uncertain inputs, outcomes and conclusions of a sensitivity analysis
        (`influence_sim.experiment.uncertainty`); None without an ``[uncertainty]`` section.
    text : str
        The experiment file's text (stored in the manifest).
    sha256 : str
        Identity: hash of the experiment's content and its scenarios' hashes.
    inputs : InputSample or None
        Input points drawn per replicate (replicate r takes point r mod P), e.g. the
        non-implausible points of a calibration (``influence-sim batch --inputs``); part of
        the results' identity.
    """

    name: str
    title: str
    description: str
    path: str
    baseline: str
    scenarios: tuple[Scenario, ...]
    replicates: int
    seed: int
    chunk: int
    points: tuple[dict[str, float], ...]
    design: dict[str, Any]
    output: Output
    thresholds: tuple[tuple[str, float], ...] = ()
    at: tuple[Any, ...] = ()
    uncertainty: Uncertainty | None = None
    text: str = field(default="", repr=False)
    sha256: str = ""
    inputs: InputSample | None = None

    @property
    def names(self) -> list[str]:
        """Scenario names, the baseline first."""
        return [s.name for s in self.scenarios]

    def scenario(self, name: str) -> Scenario:
        """The scenario called ``name``."""
        for s in self.scenarios:
            if s.name == name:
                return s
        raise KeyError(name)

    def at_point(self, scenario: Scenario, point: int) -> Scenario:
        """The scenario with design point ``point``'s parameters applied."""
        return with_params(scenario, self.points[point])

    def with_inputs(self, inputs: InputSample | None) -> Experiment:
        """The experiment run over input points drawn per replicate (a new identity)."""
        exp = replace(self, inputs=inputs)
        return replace(exp, sha256=identity_sha256(exp.identity()))

    def tasks(self) -> list[Task]:
        """Every chunk of the experiment, in a fixed order."""
        return [
            Task(s, j, a, min(a + self.chunk, self.replicates))
            for j in range(len(self.points))
            for a in range(0, self.replicates, self.chunk)
            for s in range(len(self.scenarios))
        ]

    @property
    def runs(self) -> int:
        """Total number of runs (replicates x scenarios x points)."""
        return self.replicates * len(self.scenarios) * len(self.points)

    def identity(self) -> dict[str, Any]:
        """What defines the results (a store refuses to mix two identities)."""
        return {
            "replicates": self.replicates,
            "seed": self.seed,
            "chunk": self.chunk,
            "baseline": self.baseline,
            "points": list(self.points),
            "output": self.output.as_dict(),
            "scenarios": [{"name": s.name, "sha256": s.sha256} for s in self.scenarios],
            **({"inputs": self.inputs.as_dict()} if self.inputs is not None else {}),
        }


def identity_sha256(identity: Mapping[str, Any]) -> str:
    """The hash that identifies an experiment's results (of `Experiment.identity()`)."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def with_params(scenario: Scenario, overrides: Mapping[str, float]) -> Scenario:
    """A copy of ``scenario`` with global parameters overridden (values already validated)."""
    if not overrides:
        return scenario
    return replace(scenario, params={**scenario.params, **overrides})


def _fail(path: Path, item: str, fld: str | None, msg: str, sugg: str | None = None) -> InputError:
    return Where(ExperimentError, path, item).fail(msg, fld, sugg)


def load_experiment(path: str | Path) -> Experiment:
    """Load and validate an experiment file.

    Parameters
    ----------
    path : str or Path
        The experiment TOML file; scenario paths and globs in it are relative to it.

    Raises
    ------
    ExperimentError
        On bad input (and on any error in the scenarios it names).
    """
    path = Path(path)
    raw = read_input(path, ExperimentError)
    data = parse_toml(raw, path, ExperimentError)
    sections = {"experiment", "design", "output", "compare", *UNCERTAINTY_SECTIONS}
    for key in data:
        if key not in sections:
            raise _fail(
                path,
                f"[{key}]",
                None,
                "unknown section; an experiment has [experiment], [design], [output], "
                "[compare], [uncertainty], [[outcomes]] and [[conclusions]]",
                suggest(key, sections),
            )
    head = data.get("experiment")
    if not isinstance(head, dict):
        raise _fail(path, "[experiment]", None, "missing [experiment] section")
    _keys(head, EXPERIMENT_KEYS, path, "[experiment]")
    for req in ("name", "baseline", "replicates", "seed"):
        if req not in head:
            raise _fail(path, "[experiment]", req, "missing required field")
    name = head["name"]
    problem = bad_id(name, "a name")
    if problem:
        raise _fail(path, "[experiment]", "name", problem)
    name = str(name)
    replicates = _whole(head["replicates"], 1, 10_000_000, path, "[experiment]", "replicates")
    seed = _whole(head["seed"], 0, 2**63 - 1, path, "[experiment]", "seed")
    chunk = _whole(head.get("chunk", 100), 1, 100_000, path, "[experiment]", "chunk")
    for key in ("title", "description"):
        if key in head and not isinstance(head[key], str):
            raise _fail(path, "[experiment]", key, f"expected a string, got {excerpt(head[key])}")

    base_ref = head["baseline"]
    if not isinstance(base_ref, str):
        raise _fail(path, "[experiment]", "baseline", f"expected a path, got {excerpt(base_ref)}")
    refs = head.get("scenarios", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise _fail(
            path,
            "[experiment]",
            "scenarios",
            f"expected a list of paths or globs, got {excerpt(refs)}",
        )
    files = [_one_path(path, base_ref, "baseline")]
    for ref in refs:
        files += _glob(path, ref)
    seen: set[Path] = set()
    scenarios: list[Scenario] = []
    for f in files:
        if f.resolve() in seen:
            continue
        seen.add(f.resolve())
        scenarios.append(load_scenario(f))
    names = [s.name for s in scenarios]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise _fail(
            path,
            "[experiment]",
            "scenarios",
            f"two scenarios are named '{dup}'; names label results and must differ",
        )
    base = scenarios[0]
    for s in scenarios[1:]:
        if s.start != base.start or s.step_days != base.step_days or s.steps != base.steps:
            raise _fail(
                path,
                "[experiment]",
                "scenarios",
                f"scenario '{s.name}' has a different calendar (start, step, steps) "
                f"from the baseline '{base.name}'; paired comparison needs the same",
            )
        if s.world.sha256 != base.world.sha256:
            if s.world.name != base.world.name:
                what = f"runs on world '{s.world.name}', the baseline '{base.name}' on "
                what += f"'{base.world.name}'"
            else:
                what = f"runs on another version of world '{s.world.name}' ({s.world.path}) "
                what += f"than the baseline '{base.name}' ({base.world.path})"
            raise _fail(
                path,
                "[experiment]",
                "scenarios",
                f"scenario '{s.name}' {what}; they cannot be paired: a paired effect is the "
                "difference between runs of the same actors, ties and random numbers",
            )

    design, points = _design(data.get("design"), path, seed)
    _check_tasks(path, len(scenarios), len(points), replicates, chunk)
    output = _output(data.get("output", {}), path)
    thresholds, at = _compare_section(data.get("compare", {}), path, base, output.every)
    uncertainty = read_uncertainty(data, path, scenarios)
    exp = Experiment(
        name=name,
        title=head.get("title", name),
        description=head.get("description", ""),
        path=str(path),
        baseline=base.name,
        scenarios=tuple(scenarios),
        replicates=replicates,
        seed=seed,
        chunk=chunk,
        points=tuple(points),
        design=design,
        output=output,
        thresholds=tuple(thresholds),
        at=tuple(at),
        uncertainty=uncertainty,
        text=raw.decode("utf-8"),
    )
    digest = identity_sha256(exp.identity())
    return replace(exp, sha256=digest)


def _check_tasks(path: Path, scenarios: int, points: int, replicates: int, chunk: int) -> None:
    """Refuse an experiment of more than `MAX_TASKS` chunks, before any is built."""
    chunks = -(-replicates // chunk)
    tasks = scenarios * points * chunks
    if tasks > MAX_TASKS:
        raise _fail(
            path,
            "[experiment]",
            "chunk",
            f"{scenarios} scenario(s) x {points:,} point(s) x {chunks:,} chunk(s) of {chunk:,} "
            f"replicates = {tasks:,} tasks, more than the limit of {MAX_TASKS:,} (MAX_TASKS); "
            "use a larger chunk, fewer replicates, fewer design points or fewer scenarios",
        )


def _keys(table: dict, allowed: set[str], path: Path, item: str) -> None:
    for key in table:
        if key not in allowed:
            raise _fail(
                path,
                item,
                key,
                f"unknown field; allowed: {', '.join(sorted(allowed))}",
                suggest(key, allowed),
            )


def _whole(val: Any, lo: int, hi: int, path: Path, item: str, fld: str) -> int:
    if isinstance(val, bool) or not isinstance(val, int) or not lo <= val <= hi:
        raise _fail(path, item, fld, f"expected a whole number in [{lo}, {hi}], got {excerpt(val)}")
    return val


def _one_path(path: Path, ref: str, fld: str) -> Path:
    p = Path(ref) if Path(ref).is_absolute() else path.parent / ref
    if not path_exists(p):  # anything else there is refused by the scenario loader
        near = sorted(q.name for q in p.parent.glob("*.toml")) if os.path.isdir(p.parent) else []
        raise _fail(
            path, "[experiment]", fld, f"scenario file not found: {p}", suggest(p.name, near)
        )
    return p


def _glob(path: Path, ref: str) -> list[Path]:
    pattern = ref if Path(ref).is_absolute() else str(path.parent / ref)
    if not glob.has_magic(pattern):
        return [_one_path(path, ref, "scenarios")]
    hits = sorted(Path(p) for p in glob.glob(pattern) if p.endswith(".toml"))
    if not hits:
        raise _fail(path, "[experiment]", "scenarios", f"no scenario files match {excerpt(ref)}")
    return hits


def _design(raw: Any, path: Path, seed: int) -> tuple[dict[str, Any], list[dict[str, float]]]:
    if raw is None:
        return {"kind": "none"}, [{}]
    if not isinstance(raw, dict):
        raise _fail(path, "[design]", None, "expected a table")
    _keys(raw, DESIGN_KEYS, path, "[design]")
    kind = raw.get("kind")
    if kind not in ("grid", "lhs"):
        raise _fail(
            path,
            "[design]",
            "kind",
            f"expected 'grid' or 'lhs', got {excerpt(kind)}",
            suggest(kind, ["grid", "lhs"]),
        )
    params = raw.get("params")
    if not isinstance(params, dict) or not params:
        raise _fail(path, "[design]", "params", "expected a non-empty table of parameters")
    registry = parameters()
    for name in params:
        if name not in registry:
            raise _fail(
                path,
                "[design]",
                f"params.{name}",
                f"unknown parameter; {one_of(n for n, p in registry.items() if p.numeric)}",
                suggest(name, registry),
            )
        if not registry[name].numeric:
            raise _fail(
                path,
                "[design]",
                f"params.{name}",
                "a choice parameter cannot be swept; set it in the scenarios",
            )
    names = sorted(params)
    if kind == "grid":
        if "points" in raw:
            raise _fail(
                path,
                "[design]",
                "points",
                "a grid's points are the product of its values; 'points' is for kind = 'lhs'",
            )
        for n in names:
            vals = params[n]
            if not isinstance(vals, list) or not vals:
                raise _fail(
                    path,
                    "[design]",
                    f"params.{n}",
                    f"a grid needs a list of values, got {excerpt(vals)}",
                )
        counts = [len(params[n]) for n in names]
        n_points = math.prod(counts)
        if n_points > MAX_POINTS:
            raise _fail(
                path,
                "[design]",
                "params",
                f"a grid of {' x '.join(map(str, counts))} = {n_points:,} points, more than the "
                f"limit of {MAX_POINTS:,} (MAX_POINTS); use fewer values per parameter, or "
                "kind = 'lhs' with fewer points",
            )
        axes = []
        for n in names:
            vals = params[n]
            for v in vals:
                problem = registry[n].check(v)
                if problem:
                    raise _fail(path, "[design]", f"params.{n}", problem)
            axes.append([float(v) for v in vals])
        points = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]
        return {"kind": "grid", "params": {n: params[n] for n in names}}, points
    if "points" not in raw:
        raise _fail(
            path,
            "[design]",
            "points",
            "missing required field for kind = 'lhs' (the number of Latin hypercube points)",
        )
    n_points = _whole(raw["points"], 1, MAX_POINTS, path, "[design]", "points")
    lows, highs = [], []
    for n in names:
        rng_ = params[n]
        if not isinstance(rng_, dict) or set(rng_) != {"low", "high"}:
            raise _fail(
                path,
                "[design]",
                f"params.{n}",
                f"a Latin hypercube needs {{low = .., high = ..}}, got {excerpt(rng_)}",
            )
        for k in ("low", "high"):
            problem = registry[n].check(rng_[k])
            if problem:
                raise _fail(path, "[design]", f"params.{n}.{k}", problem)
        if rng_["low"] > rng_["high"]:
            raise _fail(path, "[design]", f"params.{n}", "low must not exceed high")
        lows.append(float(rng_["low"]))
        highs.append(float(rng_["high"]))
    from scipy.stats import qmc

    gen = np.random.default_rng(design_seed(seed))
    unit = qmc.LatinHypercube(d=len(names), rng=gen).random(n_points)
    vals = (
        qmc.scale(unit, lows, highs)
        if any(h > lo for lo, h in zip(lows, highs, strict=True))
        else np.tile(lows, (n_points, 1))
    )
    points = [dict(zip(names, map(float, row), strict=True)) for row in vals]
    return {"kind": "lhs", "points": n_points, "params": {n: params[n] for n in names}}, points


def _output(raw: Any, path: Path) -> Output:
    if not isinstance(raw, dict):
        raise _fail(path, "[output]", None, "expected a table")
    _keys(raw, OUTPUT_KEYS, path, "[output]")
    measures = raw.get("measures", list(RECORDED))
    if not isinstance(measures, list) or not measures:
        raise _fail(path, "[output]", "measures", "expected a non-empty list of measures")
    for m in measures:
        if m not in RECORDED:
            raise _fail(
                path,
                "[output]",
                "measures",
                f"unknown measure {excerpt(m)}; known: {', '.join(RECORDED)} "
                "(faction scores: factions = true)",
                suggest(m, RECORDED),
            )
    every = _whole(raw.get("every", 1), 1, 100_000, path, "[output]", "every")
    factions = raw.get("factions", False)
    if not isinstance(factions, bool):
        raise _fail(
            path, "[output]", "factions", f"expected true or false, got {excerpt(factions)}"
        )
    return Output(measures=tuple(dict.fromkeys(measures)), every=every, factions=factions)


def _compare_section(raw: Any, path: Path, base: Scenario, every: int):
    if not isinstance(raw, dict):
        raise _fail(path, "[compare]", None, "expected a table")
    _keys(raw, COMPARE_KEYS, path, "[compare]")
    actors = [*base.world.state_ids, "region"]
    thresholds = []
    raw_thresholds = raw.get("thresholds", [])
    if not isinstance(raw_thresholds, list):
        raise _fail(
            path,
            "[compare]",
            "thresholds",
            f"expected a list of {{actor = .., level = ..}} tables, got {excerpt(raw_thresholds)}",
        )
    for k, t in enumerate(raw_thresholds):
        item = f"[compare] threshold #{k + 1}"
        if not isinstance(t, dict) or set(t) != {"actor", "level"}:
            raise _fail(path, item, None, f"expected {{actor = .., level = ..}}, got {excerpt(t)}")
        if t["actor"] not in actors:
            raise _fail(
                path,
                item,
                "actor",
                f"unknown state {excerpt(t['actor'])}",
                suggest(t["actor"], actors),
            )
        lv = t["level"]
        if isinstance(lv, bool) or not isinstance(lv, int | float) or not -1 <= lv <= 1:
            raise _fail(
                path, item, "level", f"expected a balance level in [-1, 1], got {excerpt(lv)}"
            )
        thresholds.append((t["actor"], float(lv)))
    at = raw.get("at", [])
    if not isinstance(at, list):
        raise _fail(path, "[compare]", "at", "expected a list of dates")
    for d in at:
        if not hasattr(d, "isoformat") or hasattr(d, "hour"):
            raise _fail(path, "[compare]", "at", f"expected TOML dates, got {excerpt(d)}")
        if not base.start <= d <= base.end:
            raise _fail(
                path, "[compare]", "at", f"{d} is outside the horizon [{base.start}, {base.end}]"
            )
        stride = every * base.step_days
        if (d - base.start).days % stride and d != base.end:
            raise _fail(
                path,
                "[compare]",
                "at",
                f"{d} is not a recorded date (recording every "
                f"{stride} days from {base.start}; see [output] every)",
            )
    return thresholds, at
