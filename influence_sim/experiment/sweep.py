"""Run a design of an experiment's uncertainty space into a store, resumably.

A design (rows of input values, `influence_sim.experiment.uncertainty`) is cut into chunks of
``[uncertainty] chunk`` rows. Each chunk runs every scenario its outcomes read as one
vectorised ensemble of rows x replicates, and writes one Parquet file of outcomes. Layout::

    manifest.json                 kind "influence-sim design": versions, the experiment (file
                                  text and hash), its scenarios' hashes, the seed, the method,
                                  the uncertainty space, outcomes and conclusions, the design's
                                  hash, every chunk's status, size and SHA-256
    design.parquet                the design, one column per input, rows in the design's order
    chunks/<id>.outcomes.parquet  rows [a, b): columns row, replicate and one per outcome

The writes are atomic and the manifest is the record, as for a batch's store
(`influence_sim.experiment.store`): a run killed at any moment leaves a consistent store,
``resume`` runs exactly the chunks that are not done (and any whose file is damaged), and a
second writer is refused. Replicate j of every design row draws the streams of replicate j
under the root seed, so the outcomes do not depend on the chunk size, the number of workers
or the executor.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .._io import atomic_file, versions
from ..core.scenario import Scenario
from ..errors import ArgumentError, StoreError, suggest
from .budget import check_design_memory
from .design import Experiment
from .executors import execute
from .integrity import ChunkFile, StoreLock, file_digest, read_manifest, seal_manifest
from .store import VerifyReport
from .uncertainty import (
    Conclusion,
    Outcome,
    Space,
    Uncertainty,
    evaluate_outcomes,
    parse_conclusion,
)

__all__ = [
    "DESIGN_KIND",
    "DesignRun",
    "is_design_run",
    "load_design_run",
    "run_design",
    "verify_design_run",
]

DESIGN_KIND = "influence-sim design"
#: 1: the first layout.
DESIGN_FORMAT = 1
_REQUIRED = ("experiment", "seed", "method", "uncertainty", "design_sha256", "chunks")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def design_sha256(X: np.ndarray) -> str:
    """The hash of a design's values (float64, C order) and shape."""
    x = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    return hashlib.sha256(repr(x.shape).encode() + x.tobytes()).hexdigest()


def chunk_id(a: int, b: int) -> str:
    """The id of the chunk of design rows [a, b)."""
    return f"rows-{a:07d}-{b:07d}"


def run_rows(
    scenarios: Mapping[str, Scenario],
    space: Space,
    rows: np.ndarray,
    first: int,
    outcomes: tuple[Outcome, ...],
    replicates: int,
    seed: int,
) -> tuple[int, pd.DataFrame]:
    """One chunk: every outcome at design rows ``rows`` (the first being row ``first``).

    Runs in worker processes, so it and its arguments are picklable. Returns the first row
    and a frame with columns row, replicate and one per outcome.
    """
    values = evaluate_outcomes(scenarios, space, rows, outcomes, replicates=replicates, rng=seed)
    n = len(rows)
    frame = pd.DataFrame(
        {
            "row": np.repeat(np.arange(first, first + n), replicates),
            "replicate": np.tile(np.arange(replicates), n),
        }
    )
    for o in outcomes:
        frame[o.name] = values[o.name].reshape(-1)
    return first, frame


@dataclass
class DesignRun:
    """A design run read back from its store: the design and its outcomes.

    Attributes
    ----------
    path : Path
    manifest : dict
    X : ndarray, shape (rows, inputs)
        The design, in its order.
    space : Space
    outcomes : tuple of Outcome
    """

    path: Path
    manifest: dict[str, Any]
    X: np.ndarray
    space: Space
    outcomes: tuple[Outcome, ...]

    @property
    def complete(self) -> bool:
        """Whether every chunk is done."""
        return all(c["status"] == "done" for c in self.manifest["chunks"].values())

    @property
    def method(self) -> dict[str, Any]:
        """The method and its settings (``name``, ``n``, ``levels``, ...)."""
        out: dict[str, Any] = self.manifest["method"]
        return out

    @property
    def replicates(self) -> int:
        """Replicates per design point."""
        return int(self.manifest["uncertainty"]["replicates"])

    @property
    def seed(self) -> int:
        """The experiment's root seed."""
        return int(self.manifest["seed"])

    @property
    def baseline(self) -> str:
        """The baseline scenario's name."""
        return str(self.manifest["baseline"])

    @property
    def experiment(self) -> dict[str, str]:
        """The experiment's name, title, path and hash."""
        return {k: self.manifest["experiment"][k] for k in ("name", "title", "path", "sha256")}

    @property
    def conclusions(self) -> list[tuple[str, str]]:
        """The declared conclusions as (name, statement)."""
        return [(c["name"], c["text"]) for c in self.manifest["uncertainty"]["conclusions"]]

    @property
    def design(self) -> pd.DataFrame:
        """The design as a frame, one column per input, rows in the design's order."""
        return pd.DataFrame(self.X, columns=list(self.space.names))

    def conclusion(self, text: str) -> tuple[Conclusion, dict[str, str]]:
        """A declared conclusion (by name) or a statement over the stored outcomes, parsed.

        Returns the conclusion and, for its function terms (``effect(...)``), the stored
        outcome each stands for. A term that is not a stored outcome is refused with the
        closest one as a suggestion: nothing is run here.
        """
        declared = dict(self.conclusions)
        name, statement = (text, declared[text]) if text in declared else ("", text)
        if not statement.strip():
            raise ArgumentError("the conclusion is empty", argument="conclusion")
        stored = [o.name for o in self.outcomes]
        parsed = parse_conclusion(statement, baseline=self.baseline, outcomes=stored, name=name)
        by_text = {o.text: o.name for o in self.outcomes}
        terms = {}
        for o in parsed.outcomes:
            if o.name not in by_text:
                raise ArgumentError(
                    f"'{o.text}' is not an outcome of this run ({', '.join(stored)}); "
                    "nothing is run to read it: add it to the experiment's [[outcomes]] and "
                    "run again",
                    argument="conclusion",
                    suggestion=suggest(o.text, by_text),
                )
            terms[o.name] = by_text[o.name]
        return parsed, terms

    def holds(self, conclusion: str) -> np.ndarray:
        """Where a conclusion (a declared name or a statement) holds, per design point.

        Read on the replicate means of the stored outcomes, as `conclusion_table` does.
        """
        parsed, terms = self.conclusion(conclusion)
        means = {o: self.Y(terms.get(o, o)).mean(axis=1) for o in parsed.reads}
        out: np.ndarray = parsed.holds(means)
        return out

    def outcome(self, name: str) -> Outcome:
        """The outcome called ``name``."""
        for o in self.outcomes:
            if o.name == name:
                return o
        raise KeyError(name)

    def Y(self, name: str) -> np.ndarray:
        """The outcome ``name`` at every design row, (rows, replicates), in design order.

        Reads only chunks the manifest marks done, each checked against its checksum;
        raises `StoreError` when some are not done yet.
        """
        if not self.complete:
            done = sum(c["status"] == "done" for c in self.manifest["chunks"].values())
            raise StoreError(
                f"the design run is incomplete ({done} of {len(self.manifest['chunks'])} "
                "chunks done); resume it to finish",
                path=self.path,
                remedy="resume",
            )
        if name not in {o.name for o in self.outcomes}:
            raise KeyError(name)
        k = self.replicates
        out = np.empty((len(self.X), k))
        for cid, info in self.manifest["chunks"].items():
            cf = ChunkFile(self.path, cid, "outcomes", info.get("file"))
            cf.verify()
            t = pq.read_table(cf.path, columns=["row", "replicate", name]).to_pandas()
            out[t["row"].to_numpy(), t["replicate"].to_numpy()] = t[name].to_numpy()
        return out


def _identity(exp: Experiment, method: Mapping[str, Any], X: np.ndarray) -> dict[str, Any]:
    assert exp.uncertainty is not None
    return {
        "experiment_sha256": exp.sha256,
        "seed": str(exp.seed),
        "method": dict(method),
        "design_sha256": design_sha256(X),
        "uncertainty": exp.uncertainty.as_dict(),
    }


def _new_manifest(exp: Experiment, method: Mapping[str, Any], X: np.ndarray) -> dict[str, Any]:
    u = exp.uncertainty
    assert u is not None
    return {
        "kind": DESIGN_KIND,
        "format": DESIGN_FORMAT,
        "versions": versions(),
        "created": _now(),
        "updated": _now(),
        "experiment": {
            "name": exp.name,
            "title": exp.title,
            "path": exp.path,
            "sha256": exp.sha256,
            "text": exp.text,
        },
        "baseline": exp.baseline,
        "scenarios": [s.provenance() for s in exp.scenarios],
        "seed": str(exp.seed),
        "method": dict(method),
        "uncertainty": u.as_dict(),
        "rows": len(X),
        "design_sha256": design_sha256(X),
        "chunks": {
            chunk_id(a, min(a + u.chunk, len(X))): {
                "status": "pending",
                "rows": [a, min(a + u.chunk, len(X))],
            }
            for a in range(0, len(X), u.chunk)
        },
    }


def _save(path: Path, manifest: dict[str, Any]) -> None:
    import json

    manifest["updated"] = _now()
    with atomic_file(path / "manifest.json") as tmp:
        tmp.write_text(json.dumps(seal_manifest(manifest), indent=1, default=str))


def _open(path: Path, exp: Experiment, method: Mapping[str, Any], X: np.ndarray, resume: bool):
    if path.exists() and not path.is_dir():
        raise StoreError("exists and is not a directory; choose another output folder", path=path)
    fresh = not (path / "manifest.json").exists()
    if fresh and path.is_dir() and any(p.name != ".lock" for p in path.iterdir()):
        raise StoreError(
            "exists, is not empty and holds no manifest.json; choose another output folder",
            path=path,
        )
    (path / "chunks").mkdir(parents=True, exist_ok=True)
    lock = StoreLock(path).acquire()
    try:
        if fresh:
            manifest = _new_manifest(exp, method, X)
            with atomic_file(path / "design.parquet") as tmp:
                names = list(uncertainty_of(exp).space.names)
                frame = pd.DataFrame(np.asarray(X, float), columns=names)
                pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
            _save(path, manifest)
            return manifest, lock
        manifest = _design_manifest(path, "choose another output folder")
        mine = _identity(exp, method, X)
        theirs = {k: manifest.get(k) for k in ("seed", "method", "design_sha256", "uncertainty")}
        theirs["experiment_sha256"] = manifest["experiment"]["sha256"]
        if theirs != mine:
            differ = sorted(k for k in mine if mine[k] != theirs.get(k))
            raise StoreError(
                f"holds another design run (it differs in {', '.join(differ)}); choose another "
                "output folder",
                path=path,
            )
        if not resume:
            done = sum(c["status"] == "done" for c in manifest["chunks"].values())
            raise StoreError(
                f"already holds this design run ({done} of {len(manifest['chunks'])} chunks "
                "done); resume to complete it, or choose another output folder",
                path=path,
                remedy="resume",
            )
        for cid, info in manifest["chunks"].items():  # damaged chunks run again
            if info["status"] == "done":
                cf = ChunkFile(path, cid, "outcomes", info.get("file"))
                if cf.problem() is not None:
                    info["status"] = "pending"
        for tmp in path.glob("**/.*.tmp"):
            tmp.unlink(missing_ok=True)
        return manifest, lock
    except BaseException:
        lock.release()
        raise


def run_design(
    exp: Experiment,
    X: np.ndarray,
    out: str | Path,
    *,
    method: Mapping[str, Any],
    executor: str = "process",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
) -> DesignRun:
    """Run every outcome of ``exp.uncertainty`` at the rows of design ``X`` into ``out``.

    Parameters
    ----------
    exp : Experiment
        With an ``[uncertainty]`` section.
    X : ndarray, shape (rows, inputs)
        The design over ``exp.uncertainty.space``, in its order (kept).
    out : str or Path
        The store directory (created, or reopened with ``resume``).
    method : mapping
        What made the design (``{"name": "sobol", "n": 1024, ...}``), part of the identity.
    executor, workers, scheduler, resume, progress
        As for `influence_sim.experiment.batch.run_experiment`.
    """
    u = exp.uncertainty
    if u is None:
        raise StoreError("the experiment declares no [uncertainty]", path=Path(exp.path))
    if executor not in ("process", "dask"):
        raise ValueError(f"unknown executor {executor!r}; use 'process' or 'dask'")
    path = Path(out)
    x = np.asarray(X, dtype=float)
    w = workers or os.cpu_count() or 1
    check_design_memory(exp, w)  # before anything is written
    manifest, lock = _open(path, exp, method, x, resume)
    try:
        from tqdm import tqdm

        scenarios = {s.name: s for s in exp.scenarios}
        needed = {s for o in u.outcomes for s in (o.scenario, o.against) if s}
        used = {n: s for n, s in scenarios.items() if n in needed}
        pending = [
            (cid, c["rows"]) for cid, c in manifest["chunks"].items() if c["status"] != "done"
        ]
        todo = sum(b - a for _, (a, b) in pending)
        jobs = (
            (
                cid,
                lambda a=a, b=b: (used, u.space, x[a:b], a, u.outcomes, u.replicates, exp.seed),
            )
            for cid, (a, b) in pending
        )
        with tqdm(
            total=len(x),
            initial=len(x) - todo,
            unit="point",
            disable=not progress,
            desc=f"{exp.name} ({method.get('name', 'design')})",
        ) as bar:
            for first, frame in execute(
                jobs, executor=executor, workers=w, scheduler=scheduler, fn=run_rows
            ):
                n = frame["row"].nunique()
                cid = chunk_id(first, first + n)
                cf = ChunkFile(path, cid, "outcomes", None)
                with atomic_file(cf.path) as tmp:
                    pq.write_table(
                        pa.Table.from_pandas(frame, preserve_index=False),
                        tmp,
                        write_page_checksum=True,
                    )
                size, digest = file_digest(cf.path)
                manifest["chunks"][cid].update(
                    status="done", file={"bytes": size, "sha256": digest}
                )
                _save(path, manifest)
                bar.update(n)
    finally:
        lock.release()
    return load_design_run(path)


def is_design_run(path: str | Path) -> bool:
    """Whether ``path`` holds a design run's store (its manifest is read and checked)."""
    return read_manifest(Path(path)).get("kind") == DESIGN_KIND


def verify_design_run(path: str | Path) -> VerifyReport:
    """Check a design run's store: the manifest, the design's hash and every chunk file."""
    path = Path(path)
    manifest = read_manifest(path)
    report = VerifyReport(
        path=path,
        format=int(manifest.get("format", 1)),
        chunks=len(manifest.get("chunks", {})),
        checked="size and SHA-256 of every chunk, the design's hash",
    )
    try:
        load_design_run(path)
    except StoreError as exc:
        report.problems.append(exc.message)
    for cid, info in sorted(manifest.get("chunks", {}).items()):
        if info.get("status") != "done":
            report.pending.append(cid)
            continue
        cf = ChunkFile(path, cid, "outcomes", info.get("file"))
        problem = cf.problem()
        if problem == "missing":
            report.missing.append((cid, cf.path.name))
        elif problem is not None:
            report.corrupt.append((cid, cf.path.name, problem))
        else:
            report.ok.append(cid)
    return report


def complete_design_run(path: str | Path) -> bool:
    """Whether ``path`` holds a design run whose chunks are all done."""
    manifest = read_manifest(Path(path))
    return manifest.get("kind") == DESIGN_KIND and all(
        c["status"] == "done" for c in manifest.get("chunks", {}).values()
    )


def _design_manifest(path: Path, remedy: str) -> dict[str, Any]:
    """The checked manifest of a design run's store; another kind of store is refused."""
    manifest = read_manifest(path)
    if manifest.get("kind") != DESIGN_KIND:
        raise StoreError(
            f"holds something other than a design run (a {manifest.get('kind')!r} store); "
            + remedy,
            path=path,
        )
    missing = [k for k in _REQUIRED if k not in manifest]
    if missing:
        raise StoreError(f"manifest.json is damaged: it lacks {', '.join(missing)}", path=path)
    return manifest


def load_design_run(path: str | Path) -> DesignRun:
    """Read a design run's store (its manifest checked, its design read)."""
    path = Path(path)
    manifest = _design_manifest(path, "`influence-sim sensitivity` writes one")
    u = manifest["uncertainty"]
    space = Space(
        tuple(u["space"]["names"]), tuple((float(a), float(b)) for a, b in u["space"]["bounds"])
    )
    try:
        X = pq.read_table(path / "design.parquet").to_pandas()[list(space.names)].to_numpy()
    except (OSError, KeyError, pa.ArrowException) as exc:
        raise StoreError(f"design.parquet is missing or damaged: {exc}", path=path) from None
    if design_sha256(X) != manifest["design_sha256"]:
        raise StoreError("design.parquet does not match the manifest's hash", path=path)
    outcomes = tuple(_outcome(o) for o in u["outcomes"])
    return DesignRun(path=path, manifest=manifest, X=X, space=space, outcomes=outcomes)


def _outcome(d: Mapping[str, Any]) -> Outcome:
    from datetime import date

    return Outcome(
        measure=d["measure"],
        actor=d["actor"],
        power=d["power"],
        date=date.fromisoformat(d["date"]),
        start=date.fromisoformat(d["start"]) if d["start"] else None,
        statistic=d["statistic"],
        level=d["level"],
        scenario=d["scenario"],
        against=d["against"],
        name=d["name"],
    )


def uncertainty_of(exp: Experiment) -> Uncertainty:
    """The experiment's uncertainty section, or a clear error without one."""
    from ..errors import ExperimentError

    if exp.uncertainty is None:
        raise ExperimentError(
            "declares no [uncertainty] section (the inputs, [[outcomes]] and [[conclusions]] of "
            "a sensitivity analysis); see docs/experiments.md",
            file=exp.path,
            item="[uncertainty]",
        )
    return exp.uncertainty
