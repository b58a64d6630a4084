"""The results store of an experiment: Parquet chunks plus a manifest, written atomically.

Layout of a store directory::

    manifest.json                 versions, seed, experiment file and hash, scenarios (hashes,
                                  resolved parameters), design points, status of every chunk
    chunks/<id>.ts.parquet        tidy time series (float32 values)
    chunks/<id>.summary.parquet   one row per replicate
    chunks/<id>.events.parquet    which events fired in which replicate

Only the process that runs the batch writes. A chunk's files are each written to a temporary
name and renamed; the chunk is then marked done in the manifest, itself replaced atomically.
Readers use only chunks the manifest marks done, so a batch killed at any moment leaves a
consistent store, and ``--resume`` computes exactly the chunks that are not done.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .._io import atomic_file, versions
from ..core.world import World
from ..errors import StoreError
from .design import Experiment, Task, identity_sha256
from .executors import ChunkResult
from .integrity import (
    FORMAT,
    KIND,
    ChunkFile,
    StoreLock,
    chunk_files,
    file_digest,
    read_manifest,
    seal_manifest,
)
from .run import VOTE_COLUMNS
from .source import ScenarioRecord, named_states

__all__ = ["Repair", "ResultSet", "Store", "VerifyReport", "load_results", "verify_store"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Repair:
    """A chunk that a resume found damaged and ran again."""

    chunk: str
    file: str
    problem: str


class Store:
    """A store directory opened for writing by one batch, which holds its lock until `close`."""

    def __init__(self, path: Path, manifest: dict[str, Any], lock: StoreLock) -> None:
        self.path, self.manifest, self.lock = path, manifest, lock
        self.repaired: list[Repair] = []

    @property
    def chunks_dir(self) -> Path:
        """Folder of the chunk files."""
        return self.path / "chunks"

    @property
    def files(self) -> tuple[str, ...]:
        """The chunk files this store's format holds."""
        return chunk_files(int(self.manifest.get("format", 1)))

    @classmethod
    def open(cls, path: str | Path, exp: Experiment, *, resume: bool) -> Store:
        """Create a store for ``exp`` at ``path``, or reopen it to resume.

        Refuses (`StoreError`) a path that is not a directory or cannot be written, a
        directory that holds anything else, another experiment's results, this experiment's
        results without ``resume``, and a store another batch is writing. On resume, every
        chunk the manifest marks done is checked against its recorded size and checksum; a
        missing, truncated or corrupt one is marked pending again (`Store.repaired`), so the
        batch runs it again.
        """
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise StoreError(
                "exists and is not a directory; choose another output folder", path=path
            )
        fresh = not (path / "manifest.json").exists()
        if fresh and path.is_dir():
            # a sensitivity run may already sit in its sensitivity/ folder
            foreign = sorted(
                p.name for p in path.iterdir() if p.name not in (".lock", "sensitivity")
            )
            if foreign:
                raise StoreError(
                    f"exists, is not empty (it holds '{foreign[0]}') and holds no "
                    "manifest.json; choose another output folder",
                    path=path,
                )
        if not fresh:  # check what the folder holds before writing anything into it
            _check_reopen(path, read_manifest(path), exp, resume=resume)
        _make_dir(path)
        lock = StoreLock(path).acquire()
        try:
            if fresh:
                if (path / "manifest.json").exists():
                    raise StoreError(
                        "another batch created a store here meanwhile; resume it instead",
                        path=path,
                        remedy="resume",
                    )
                _make_dir(path / "chunks")
                store = cls(path, _new_manifest(exp), lock)
                store.save()
                return store
            manifest = read_manifest(path)  # again, now that this process holds the lock
            _check_reopen(path, manifest, exp, resume=resume)
            store = cls(path, manifest, lock)
            store._clean_temporaries()
            store._repair()
            return store
        except BaseException:
            lock.release()
            raise

    def close(self) -> None:
        """Release the store's lock."""
        self.lock.release()

    def _clean_temporaries(self) -> None:
        """Remove temporary files left by a killed batch, and files of unrecorded chunks."""
        _make_dir(self.chunks_dir)
        for p in self.chunks_dir.iterdir():
            cid = p.name.split(".", 1)[0]
            if (
                p.name.startswith(".")
                or self.manifest["chunks"].get(cid, {}).get("status") != "done"
            ):
                p.unlink()

    def _repair(self) -> None:
        """Mark every done chunk whose files do not match the manifest pending again."""
        for cid, entry in self.manifest["chunks"].items():
            if entry.get("status") != "done":
                continue
            for kind in self.files:
                cf = ChunkFile(self.path, cid, kind, entry.get("files", {}).get(kind))
                problem = cf.problem()
                if problem is not None:
                    self.repaired.append(Repair(cid, cf.path.name, problem))
                    entry.update(status="pending")
                    for k in self.files:
                        ChunkFile(self.path, cid, k, None).path.unlink(missing_ok=True)
                    break
        if self.repaired:
            self.manifest.setdefault("repairs", []).extend(
                {"chunk": r.chunk, "file": r.file, "problem": r.problem, "found": _now()}
                for r in self.repaired
            )
            self.save()

    def pending(self, exp: Experiment) -> list[Task]:
        """Tasks whose chunks are not done."""
        status = self.manifest["chunks"]
        return [t for t in exp.tasks() if status.get(t.id, {}).get("status") != "done"]

    def record(self, result: ChunkResult) -> None:
        """Write one chunk's files, then mark it done with their checksums (in that order)."""
        cid = result.task.id
        tables = {
            "ts": (result.timeseries, ["replicate", "step"]),
            "summary": (pa.Table.from_pandas(result.summary, preserve_index=False), True),
            "events": (pa.Table.from_pandas(result.events, preserve_index=False), True),
            "votes": (pa.Table.from_pandas(result.votes, preserve_index=False), True),
        }
        files = {}
        for kind, (table, stats) in tables.items():
            if kind not in self.files:
                continue
            with atomic_file(self.chunks_dir / f"{cid}.{kind}.parquet") as tmp:
                pq.write_table(
                    table,
                    tmp,
                    compression="zstd",
                    write_statistics=stats,
                    write_page_checksum=True,
                )
                size, digest = file_digest(tmp)
            files[kind] = {"bytes": size, "sha256": digest}
        _fault("chunk-files")
        entry = self.manifest["chunks"][cid]
        entry.update(status="done", rows=result.timeseries.num_rows, finished=_now(), files=files)
        self.manifest["updated"] = _now()
        self.save()

    def save(self) -> None:
        """Replace manifest.json atomically, sealed with its own checksum."""
        text = json.dumps(seal_manifest(self.manifest), indent=1, default=str) + "\n"
        try:
            with atomic_file(self.path / "manifest.json") as tmp:
                tmp.write_text(text)
        except OSError as exc:
            raise StoreError(
                f"cannot write manifest.json: {exc.strerror}", path=self.path
            ) from None


def _make_dir(path: Path) -> None:
    """Create a folder (and its parents), or say in one line why it cannot be created."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create this folder: {exc.strerror}", path=path) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise StoreError("cannot write into this folder: permission denied", path=path)


def _check_reopen(path: Path, manifest: dict[str, Any], exp: Experiment, *, resume: bool) -> None:
    """Refuse to reopen a store of another kind, of another experiment, or without resume."""
    if manifest.get("kind") != KIND:
        raise StoreError(
            "holds something other than experiment results "
            f"({manifest.get('kind')!r}); choose another output folder",
            path=path,
        )
    if manifest["experiment"]["sha256"] != exp.sha256:
        raise StoreError(
            f"holds the results of another experiment ('{manifest['experiment']['name']}'"
            f", hash {manifest['experiment']['sha256'][:12]}; this one is "
            f"{exp.sha256[:12]}); choose another output folder",
            path=path,
        )
    if not resume:
        done = sum(c["status"] == "done" for c in manifest["chunks"].values())
        raise StoreError(
            f"already holds this experiment's results ({done} of "
            f"{len(manifest['chunks'])} chunks done); resume to complete it, "
            "or choose another output folder",
            path=path,
            remedy="resume",
        )


_FAULT_COUNT: dict[str, int] = {}


def _fault(point: str) -> None:
    """Fault injection for the resume tests.

    ``INFLUENCE_SIM_FAULT=chunk-files:N`` makes the process kill itself (SIGKILL) after
    writing the N-th chunk's files and before the manifest records it: the worst moment for a
    crash.
    """
    spec = os.environ.get("INFLUENCE_SIM_FAULT", "")
    if not spec.startswith(point + ":"):
        return
    _FAULT_COUNT[point] = _FAULT_COUNT.get(point, 0) + 1
    if _FAULT_COUNT[point] >= int(spec.split(":", 1)[1]):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _new_manifest(exp: Experiment) -> dict[str, Any]:
    return {
        "kind": KIND,
        "format": FORMAT,
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
        "seed": str(exp.seed),
        "replicates": exp.replicates,
        "chunk": exp.chunk,
        "baseline": exp.baseline,
        "design": exp.design,
        "points": [{"index": j, "params": p} for j, p in enumerate(exp.points)],
        "output": exp.output.as_dict(),
        "compare": {
            "thresholds": [list(t) for t in exp.thresholds],
            "at": [d.isoformat() for d in exp.at],
        },
        "scenarios": [{"index": k, **s.provenance()} for k, s in enumerate(exp.scenarios)],
        **({"inputs": exp.inputs.as_dict()} if exp.inputs is not None else {}),
        "chunks": {
            t.id: {
                "status": "pending",
                "scenario": exp.scenarios[t.scenario].name,
                "point": t.point,
                "replicates": [t.start, t.end],
            }
            for t in exp.tasks()
        },
    }


# ---------------------------------------------------------------------------------------
# reading


@dataclass
class ResultSet:
    """An experiment's results read back from a store (only chunks marked done).

    Frames are read lazily; `timeseries` takes filters so a large batch need not be loaded
    whole.
    """

    path: Path
    manifest: dict[str, Any]
    #: Chunks that the `run_experiment` call which returned this found damaged and re-ran.
    repaired: tuple[Repair, ...] = ()
    _verified: set[tuple[str, str]] = field(default_factory=set, repr=False, compare=False)

    # ---- what the manifest says (the only reader of its keys) ----------------------------
    @property
    def is_experiment(self) -> bool:
        """True: an experiment store."""
        return True

    @property
    def done(self) -> list[str]:
        """Ids of the completed chunks."""
        return sorted(c for c, e in self.manifest["chunks"].items() if e["status"] == "done")

    @property
    def n_chunks(self) -> int:
        """Number of chunks of the experiment, done or not."""
        return len(self.manifest["chunks"])

    @property
    def complete(self) -> bool:
        """Whether every chunk is done."""
        return len(self.done) == self.n_chunks

    @property
    def scenarios(self) -> list[str]:
        """Scenario names, the baseline first."""
        return [s["name"] for s in self.manifest["scenarios"]]

    @property
    def baseline(self) -> str:
        """Name of the baseline scenario."""
        return str(self.manifest["baseline"])

    @property
    def n_replicates(self) -> int:
        """Replicates per scenario and point."""
        return int(self.manifest["replicates"])

    @property
    def seed(self) -> int:
        """The experiment's root seed."""
        return int(self.manifest["seed"])

    @property
    def points(self) -> list[dict[str, float]]:
        """Parameter overrides per design point."""
        return [dict(p["params"]) for p in self.manifest["points"]]

    @property
    def measures(self) -> list[str]:
        """The recorded measures (without ``score``)."""
        return list(self.manifest["output"]["measures"])

    @property
    def every(self) -> int:
        """Recording interval in steps."""
        return int(self.manifest["output"]["every"])

    @property
    def compare_at(self) -> list[date]:
        """The experiment's ``[compare] at`` dates."""
        return [date.fromisoformat(d) for d in self.manifest["compare"]["at"]]

    @property
    def compare_thresholds(self) -> list[tuple[str, float]]:
        """The experiment's ``[compare] thresholds`` as (actor, level)."""
        return [(str(a), float(v)) for a, v in self.manifest["compare"]["thresholds"]]

    @property
    def experiment(self) -> dict[str, str]:
        """The experiment's name, title, path, sha256 and text."""
        return dict(self.manifest["experiment"])

    @property
    def versions(self) -> dict[str, str]:
        """Versions of the package and libraries that wrote the store."""
        return dict(self.manifest["versions"])

    @property
    def design(self) -> dict[str, Any]:
        """The design as written in the experiment file."""
        return dict(self.manifest["design"])

    @property
    def end_date(self) -> date:
        """The horizon: the baseline's last date."""
        base = self.record()
        return base.start + timedelta(days=base.step_days * int(base.resolved["steps"]))

    def record(self, scenario: str | None = None) -> ScenarioRecord:
        """The record of a scenario (default: the baseline)."""
        name = self._name(scenario)
        entry = next(s for s in self.manifest["scenarios"] if s["name"] == name)
        return ScenarioRecord.from_provenance(entry)

    def records(self) -> list[ScenarioRecord]:
        """Every scenario's record, the baseline first."""
        return [ScenarioRecord.from_provenance(e) for e in self.manifest["scenarios"]]

    def world(self, scenario: str | None = None) -> World:
        """The world of a scenario (default: the baseline's), from its file."""
        return self.record(scenario).world()

    def focus_states(self) -> list[str]:
        """States that any scenario's events name."""
        return named_states(self.records(), self.world())

    def _name(self, scenario: str | None) -> str:
        name = scenario or self.baseline
        if name not in self.scenarios:
            raise KeyError(f"no scenario '{name}' in these results ({', '.join(self.scenarios)})")
        return name

    def block(
        self, measure: str, scenario: str | None = None, point: int = 0
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Dates (T,), values (T, R, K) as float and series labels ``actor[/power]``."""
        vals, steps, labels = self.array(measure, self._name(scenario), point=point)
        return self.dates(steps), np.swapaxes(vals, 0, 1), labels

    def event_rates(self, scenario: str | None = None, point: int = 0) -> dict[str, float]:
        """Share of replicates in which each event fired, from the stored event records."""
        name = self._name(scenario)
        ev = self.events
        if not len(ev):
            return {}
        sel = ev[(ev["scenario"] == name) & (ev["point"] == point)]
        return {str(k): float(v) for k, v in sel.groupby("event")["fired"].mean().items()}

    def _chunks(
        self, scenarios: Sequence[str] | None = None, points: Sequence[int] | None = None
    ) -> list[tuple[str, dict]]:
        """Done chunks (id, manifest entry), optionally filtered, by replicate start."""
        out = []
        for cid in self.done:
            e = self.manifest["chunks"][cid]
            if (scenarios is None or e["scenario"] in scenarios) and (
                points is None or e["point"] in points
            ):
                out.append((cid, e))
        return sorted(
            out, key=lambda ce: (ce[1]["scenario"], ce[1]["point"], ce[1]["replicates"][0])
        )

    def _file(self, cid: str, kind: str) -> Path:
        return self.path / "chunks" / f"{cid}.{kind}.parquet"

    def _checked(self, cid: str, kind: str) -> Path:
        """The chunk file, checked against the manifest once per reader (`StoreError`)."""
        key = (cid, kind)
        if key not in self._verified:
            entry = self.manifest["chunks"][cid]
            ChunkFile(self.path, cid, kind, entry.get("files", {}).get(kind)).verify()
            self._verified.add(key)
        return self._file(cid, kind)

    def _table(self, cid: str, kind: str, columns: list[str] | None = None) -> pa.Table:
        """One chunk file as an Arrow table, its file and its page checksums verified."""
        path = self._checked(cid, kind)
        try:
            return pq.read_table(path, columns=columns, page_checksum_verification=True)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(
                f"chunk file chunks/{path.name} cannot be read: {str(exc)[:160]}. "
                "`influence-sim verify` lists all damage; resuming the batch re-runs "
                "damaged chunks",
                path=self.path,
            ) from None

    def columns(self, measure: str | None = None) -> list[str]:
        """Series columns of the stored time series (``measure/actor[/power]``)."""
        chunks = self._chunks()
        if not chunks:
            return []
        path = self._checked(chunks[0][0], "ts")
        try:
            names = pq.read_schema(path).names[2:]
        except (OSError, pa.ArrowException):
            names = self._table(chunks[0][0], "ts").column_names[2:]  # raises StoreError
        return [n for n in names if measure is None or n.split("/", 1)[0] == measure]

    def timeseries(
        self,
        *,
        measures: Sequence[str] | None = None,
        scenarios: Sequence[str] | None = None,
        actors: Sequence[str] | None = None,
        steps: Sequence[int] | None = None,
        points: Sequence[int] | None = None,
    ) -> pd.DataFrame:
        """Tidy time series, sorted and optionally filtered.

        Columns: scenario, point, replicate, step, date, measure, actor, power, value
        (float32). Sorted by scenario, point, measure, actor, power, replicate, step.
        """
        cols = [
            c
            for c in self.columns()
            if (measures is None or c.split("/")[0] in measures)
            and (actors is None or c.split("/")[1] in actors)
        ]
        parts = []
        for cid, entry in self._chunks(scenarios, points):
            table = self._table(cid, "ts", ["replicate", "step", *cols])
            if steps is not None:
                table = table.filter(pc.is_in(table["step"], pa.array(list(steps), pa.int32())))
            frame = table.to_pandas().melt(
                id_vars=["replicate", "step"], var_name="series", value_name="value"
            )
            frame.insert(0, "scenario", entry["scenario"])
            frame.insert(1, "point", np.int32(entry["point"]))
            parts.append(frame)
        if not parts:
            return pd.DataFrame(
                columns=[
                    "scenario",
                    "point",
                    "replicate",
                    "step",
                    "date",
                    "measure",
                    "actor",
                    "power",
                    "value",
                ]
            )
        frame = pd.concat(parts, ignore_index=True)
        split = frame["series"].str.split("/", expand=True).reindex(columns=[0, 1, 2])
        frame["measure"], frame["actor"], frame["power"] = split[0], split[1], split[2]
        frame["date"] = self.dates(frame["step"].to_numpy())
        frame = frame[
            ["scenario", "point", "replicate", "step", "date", "measure", "actor", "power", "value"]
        ]
        frame = frame.sort_values(
            ["scenario", "point", "measure", "actor", "power", "replicate", "step"],
            kind="stable",
            na_position="first",
        )
        for name in ("scenario", "measure", "actor", "power"):
            frame[name] = frame[name].astype("category")
        return frame.reset_index(drop=True)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """One row per scenario, point and replicate."""
        return self._concat("summary", ["scenario", "point", "replicate"])

    @cached_property
    def events(self) -> pd.DataFrame:
        """Which events fired in which replicate."""
        return self._concat("events", ["scenario", "point", "event", "replicate"])

    @cached_property
    def votes(self) -> pd.DataFrame:
        """Each state's stance in each roll call (`vote` events), per replicate.

        Empty for stores written before votes were recorded (format < 3).
        """
        if "votes" not in chunk_files(int(self.manifest.get("format", 1))):
            return pd.DataFrame(columns=VOTE_COLUMNS)
        return self._concat("votes", ["scenario", "point", "event", "replicate", "state"])

    def _concat(self, kind: str, order: list[str]) -> pd.DataFrame:
        chunks = self._chunks()
        if not chunks:
            return pd.DataFrame()
        frame = pd.concat(
            [self._table(cid, kind).to_pandas() for cid, _ in chunks], ignore_index=True
        )
        return frame.sort_values(order, kind="stable").reset_index(drop=True)

    def array(
        self, measure: str, scenario: str, *, point: int = 0, steps: Sequence[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """One measure of one scenario as an array (replicate, step, series).

        Returns the values (float64), the recorded steps and the series labels
        (``actor`` or ``actor/power``), replicates in id order. Reads only that measure's
        columns of that scenario's chunks.
        """
        cols = self.columns(measure)
        chunks = self._chunks([scenario], [point])
        if not cols or not chunks:
            raise KeyError(f"no {measure} recorded for {scenario} at point {point}")
        blocks, reps = [], []
        stp: np.ndarray | None = None
        for cid, _entry in chunks:
            table = self._table(cid, "ts", ["replicate", "step", *cols])
            rep = table["replicate"].to_numpy()
            step = table["step"].to_numpy()
            n_steps = int(np.flatnonzero(rep == rep[0]).size)
            stp = step[:n_steps] if stp is None else stp
            vals = np.column_stack([table[c].to_numpy() for c in cols]).astype(float)
            blocks.append(vals.reshape(-1, n_steps, len(cols)))
            reps.append(rep[::n_steps])
        out = np.concatenate(blocks)
        order = np.argsort(np.concatenate(reps), kind="stable")
        out = out[order]
        assert stp is not None  # at least one chunk was read
        if steps is not None:
            keep = np.isin(stp, np.asarray(steps))
            out, stp = out[:, keep], stp[keep]
        labels = [c.split("/", 1)[1] for c in cols]
        return out, np.asarray(stp), labels

    def dates(self, steps: np.ndarray) -> np.ndarray:
        """Calendar dates of recorded steps."""
        res = self.manifest["scenarios"][0]["resolved"]
        return np.datetime64(res["start"], "D") + steps * res["step_days"]


def load_results(path: str | Path) -> ResultSet:
    """Open an experiment's results store (written by ``influence-sim batch``).

    The manifest is checked (`StoreError` if it is damaged); each chunk file is checked
    against its recorded size and SHA-256 when it is first read.

    Parameters
    ----------
    path : str or Path
        The store directory.

    Returns
    -------
    ResultSet
        With ``manifest``, ``summary`` and ``events`` frames and ``timeseries(...)``.
    """
    path = Path(path)
    manifest = read_manifest(path)
    if manifest.get("kind") != KIND:
        raise StoreError(
            f"not an experiment results store (kind {manifest.get('kind')!r})", path=path
        )
    return ResultSet(path=path, manifest=manifest)


# ---------------------------------------------------------------------------------------
# verification


@dataclass
class VerifyReport:
    """What `verify_store` found: the manifest's and design's problems, and every chunk's state.

    ``healthy`` is True only when the manifest and design are sound and every chunk is done
    and matches its checksum.
    """

    path: Path
    format: int
    chunks: int
    ok: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    corrupt: list[tuple[str, str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: what was checked, when not the store format's rule (a design run's chunks)
    checked: str | None = None

    @property
    def healthy(self) -> bool:
        """Whether all is well."""
        return not (self.pending or self.missing or self.corrupt or self.problems)

    def lines(self) -> list[str]:
        """A readable summary: one line of counts, then one line per problem."""
        checks = self.checked or (
            "size and SHA-256" if self.format >= 2 else "Parquet decoding only (format 1)"
        )
        out = [
            f"{self.path}: {self.chunks} chunks: {len(self.ok)} ok, {len(self.pending)} "
            f"pending, {len(self.missing)} missing, {len(self.corrupt)} corrupt "
            f"(checked: {checks})"
        ]
        out += [f"  problem: {p}" for p in self.problems]
        out += [f"  missing: chunks/{f}" for _, f in self.missing]
        out += [f"  corrupt: chunks/{f}: {why}" for _, f, why in self.corrupt]
        if self.pending:
            out.append(
                f"  pending: {len(self.pending)} chunk(s) not yet run; resuming the batch "
                "completes the store"
            )
        if self.missing or self.corrupt:
            out.append("  resuming the batch re-runs the missing and corrupt chunks")
        return out


def _identity_sha256(manifest: dict[str, Any]) -> str:
    """The experiment's identity hash, recomputed from the manifest (as `load_experiment`)."""
    identity = {
        "replicates": manifest["replicates"],
        "seed": int(manifest["seed"]),
        "chunk": manifest["chunk"],
        "baseline": manifest["baseline"],
        "points": [p["params"] for p in manifest["points"]],
        "output": manifest["output"],
        "scenarios": [{"name": s["name"], "sha256": s["sha256"]} for s in manifest["scenarios"]],
        **({"inputs": manifest["inputs"]} if "inputs" in manifest else {}),
    }
    return identity_sha256(identity)


def _design_problems(manifest: dict[str, Any]) -> list[str]:
    """Where the manifest's chunk list or identity disagrees with its own design."""
    try:
        if _identity_sha256(manifest) != manifest["experiment"]["sha256"]:
            return ["the design in the manifest does not match the experiment's hash"]
        n_scen, n_points = len(manifest["scenarios"]), len(manifest["points"])
        reps, chunk = int(manifest["replicates"]), int(manifest["chunk"])
        expected = {
            Task(k, j, a, min(a + chunk, reps)).id
            for j in range(n_points)
            for a in range(0, reps, chunk)
            for k in range(n_scen)
        }
    except (KeyError, TypeError, ValueError) as exc:
        return [f"the manifest lacks or garbles a design field ({exc})"]
    listed = set(manifest["chunks"])
    out = []
    if expected - listed:
        out.append(f"{len(expected - listed)} chunk(s) of the design are not in the manifest")
    if listed - expected:
        out.append(f"{len(listed - expected)} chunk(s) in the manifest are not in the design")
    return out


def verify_store(path: str | Path) -> VerifyReport:
    """Check a whole results store: the manifest, the design and every chunk file.

    Raises `StoreError` only when the manifest cannot be read at all; everything else is
    reported.
    """
    path = Path(path)
    manifest = read_manifest(path)
    if manifest.get("kind") != KIND:
        raise StoreError(
            f"not an experiment results store (kind {manifest.get('kind')!r})", path=path
        )
    fmt = int(manifest.get("format", 1))
    report = VerifyReport(path=path, format=fmt, chunks=len(manifest.get("chunks", {})))
    report.problems += _design_problems(manifest)
    for cid, entry in sorted(manifest.get("chunks", {}).items()):
        if entry.get("status") != "done":
            report.pending.append(cid)
            continue
        bad = False
        for kind in chunk_files(fmt):
            cf = ChunkFile(path, cid, kind, entry.get("files", {}).get(kind))
            problem = cf.problem()
            if problem is None and fmt < 2:
                problem = _decode_problem(cf.path)
            if problem == "missing":
                report.missing.append((cid, cf.path.name))
                bad = True
            elif problem is not None:
                report.corrupt.append((cid, cf.path.name, problem))
                bad = True
        if not bad:
            report.ok.append(cid)
    return report


def _decode_problem(path: Path) -> str | None:
    """For stores without checksums: whether the file decodes as Parquet."""
    try:
        pq.read_table(path, page_checksum_verification=True)
    except (OSError, pa.ArrowException) as exc:
        return f"does not decode ({str(exc)[:120]})"
    return None
