"""One scenario's run: `simulate` (a vectorised ensemble), its `Result`, and `load_run`."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .._io import versions
from ..core.events import STANCES
from ..core.measures import MEASURES
from ..core.runner import STATUS, EventPlan, run_ensemble
from ..core.scenario import Scenario
from ..core.world import World
from ..errors import ArgumentError, StoreError
from ..seeds import SeedLike, root_seed
from .budget import ENV, format_bytes, memory_budget, run_bytes
from .source import ScenarioRecord, named_states
from .uncertainty import split_inputs

__all__ = ["VOTE_COLUMNS", "Result", "RunFiles", "load_run", "simulate"]

#: The columns of the votes table (one row per replicate, roll call and state called).
VOTE_COLUMNS = [
    "scenario",
    "replicate",
    "event",
    "motion",
    "power",
    "side",
    "date",
    "state",
    "stance",
]


def _dictionary(labels: Sequence[str | None], idx: np.ndarray) -> pa.DictionaryArray:
    """Dictionary-encode ``labels[idx]`` (None becomes null) without repeating strings."""
    known = sorted({x for x in labels if x is not None})
    codes = np.array([known.index(x) if x is not None else -1 for x in labels], np.int32)[idx]
    return pa.DictionaryArray.from_arrays(
        pa.array(codes, mask=codes < 0), pa.array(known, pa.string())
    )


@dataclass
class Result:
    """The outcome of `simulate`: recorded arrays plus event records.

    Attributes
    ----------
    scenario : Scenario
    replicates : ndarray of int
        Replicate ids, in array order.
    seed : numpy.random.SeedSequence
        The root seed; ``seed.entropy`` reproduces the run.
    steps : ndarray of int
        The recorded step indices.
    data : dict of str to ndarray
        Per measure, float32 arrays with leading axes (recorded step, replicate): alignment
        (T, R, S, P), balance (T, R, S+1; last column the region), share (T, R, F),
        reputation (T, R, P), credibility (T, R, I), corridor (T, R) and, when recorded,
        score (T, R, F, P).
    plans : list of EventPlan
        Per event, its schedule and outcome per replicate.
    every : int
        Recording interval in steps.
    stances : dict of str to ndarray
        Per `vote` event, each replicate's stance per state, (R, S) int8 codes into
        ``events.STANCES`` (-1: no vote). `Result.votes` is the tidy table.
    """

    scenario: Scenario
    replicates: np.ndarray
    seed: np.random.SeedSequence
    steps: np.ndarray
    data: dict[str, np.ndarray]
    plans: list[EventPlan]
    every: int = 1
    stances: dict[str, np.ndarray] = field(default_factory=dict)

    # ---- labels ------------------------------------------------------------------------
    @property
    def dates(self) -> np.ndarray:
        """Dates of the recorded steps (datetime64[D])."""
        return self.scenario.dates()[self.steps]

    def date_index(self, when: date) -> int:
        """Position of a calendar date among the recorded steps (ValueError if not recorded)."""
        hits = np.flatnonzero(self.dates == np.datetime64(when, "D"))
        if not len(hits):
            raise ValueError(
                f"{when} is not a recorded date of {self.scenario.name} "
                f"({self.dates[0]} to {self.dates[-1]}, every {self.every} step(s))"
            )
        return int(hits[0])

    def labels(self, measure: str) -> tuple[list[str], list[str | None]]:
        """Actor and power labels of a measure's trailing axes (flattened)."""
        return MEASURES[measure].labels(self.scenario.world)

    # ---- the ResultSource view (one scenario, one point) --------------------------------
    @property
    def is_experiment(self) -> bool:
        """False: one run of one scenario."""
        return False

    @property
    def scenarios(self) -> list[str]:
        """The run's one scenario name."""
        return [self.scenario.name]

    @property
    def baseline(self) -> str:
        """The run's own scenario (a run is its own baseline)."""
        return self.scenario.name

    @property
    def n_replicates(self) -> int:
        """Number of replicates."""
        return len(self.replicates)

    @property
    def points(self) -> list[dict[str, float]]:
        """One point, without overrides."""
        return [{}]

    @property
    def measures(self) -> list[str]:
        """The recorded measures."""
        return list(self.data)

    def _own(self, scenario: str | None) -> None:
        if scenario not in (None, self.scenario.name):
            raise KeyError(f"this run is of scenario '{self.scenario.name}', not '{scenario}'")

    def record(self, scenario: str | None = None) -> ScenarioRecord:
        """The scenario's record."""
        self._own(scenario)
        return ScenarioRecord.from_provenance(self.scenario.provenance())

    def world(self, scenario: str | None = None) -> World:
        """The scenario's world."""
        self._own(scenario)
        return self.scenario.world

    def block(
        self, measure: str, scenario: str | None = None, point: int = 0
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Dates (T,), values (T, R, K) as float and series labels ``actor[/power]``."""
        self._own(scenario)
        if measure not in self.data:
            raise KeyError(f"measure '{measure}' was not recorded (have {', '.join(self.data)})")
        arr = self.data[measure]
        actors, powers = self.labels(measure)
        labels = [a + (f"/{p}" if p else "") for a, p in zip(actors, powers, strict=True)]
        return self.dates, arr.reshape(arr.shape[0], arr.shape[1], -1).astype(float), labels

    def event_rates(self, scenario: str | None = None, point: int = 0) -> dict[str, float]:
        """Share of replicates in which each event fired."""
        self._own(scenario)
        return {p.event.id: float(np.mean(p.status == 0)) for p in self.plans}

    def focus_states(self) -> list[str]:
        """States that the scenario's events name."""
        return named_states([self.record()], self.scenario.world)

    # ---- tidy output -------------------------------------------------------------------
    def table(self, measure: str, rows: slice = slice(None)) -> pa.Table:
        """One measure as a tidy Arrow table with the columns of ``timeseries/``.

        ``rows`` selects recorded steps (positions along the first axis).
        """
        arr = self.data[measure][rows]
        T, R = arr.shape[:2]
        flat = arr.reshape(T, R, -1)
        A = flat.shape[2]
        actors, powers = self.labels(measure)
        step = np.repeat(self.steps[rows].astype(np.int32), R * A)
        rep = np.tile(np.repeat(self.replicates.astype(np.int32), A), T)
        idx = np.tile(np.arange(A, dtype=np.int32), T * R)
        n = len(step)
        return pa.table(
            {
                "scenario": pa.DictionaryArray.from_arrays(
                    np.zeros(n, np.int32), pa.array([self.scenario.name])
                ),
                "replicate": pa.array(rep),
                "step": pa.array(step),
                "date": pa.array(np.repeat(self.dates[rows], R * A).astype("datetime64[D]")),
                "measure": pa.DictionaryArray.from_arrays(
                    np.zeros(n, np.int32), pa.array([measure])
                ),
                "actor": _dictionary(actors, idx),
                "power": _dictionary(powers, idx),
                "value": pa.array(flat.reshape(-1)),
            }
        )

    def series_names(self, measure: str) -> list[str]:
        """Column names of a measure's series in wide tables: ``measure/actor[/power]``."""
        actors, powers = self.labels(measure)
        return [
            f"{measure}/{a}" + (f"/{p}" if p else "") for a, p in zip(actors, powers, strict=True)
        ]

    def wide_table(self, measures: list[str] | None = None) -> pa.Table:
        """All recorded measures as one wide table.

        Columns ``replicate``, ``step`` and one float32 column per series of ``measures``
        (default: every recorded measure); rows ordered by
        replicate, then step. This is the experiment store's chunk format;
        `influence_sim.store` turns it back into tidy frames.
        """
        T, R = len(self.steps), len(self.replicates)
        cols: dict[str, np.ndarray] = {
            "replicate": np.repeat(self.replicates.astype(np.int32), T),
            "step": np.tile(self.steps.astype(np.int32), R),
        }
        for m in measures or list(self.data):
            flat = self.data[m].reshape(T, R, -1)
            for a, name in enumerate(self.series_names(m)):
                cols[name] = np.ascontiguousarray(flat[:, :, a].T).reshape(-1)
        return pa.table(cols)

    def write_parquet(self, measure: str, path: Path, rows_per_group: int = 1 << 20) -> None:
        """Stream one measure to a Parquet file, a block of recorded steps at a time."""
        per_step = int(np.prod(self.data[measure].shape[1:]))
        block = max(1, rows_per_group // max(per_step, 1))
        schema = self.table(measure, slice(0, 1)).schema
        # statistics only where readers filter (replicate, step, date): ~20% faster writes
        with pq.ParquetWriter(
            path,
            schema,
            compression="zstd",
            write_statistics=["replicate", "step", "date"],
            write_page_checksum=True,
        ) as writer:
            for start in range(0, len(self.steps), block):
                writer.write_table(self.table(measure, slice(start, start + block)))

    def frame(self, measures: str | list[str] | None = None) -> pd.DataFrame:
        """Tidy frame: scenario, replicate, step, date, measure, actor, power, value."""
        names = [measures] if isinstance(measures, str) else (measures or list(self.data))
        tables = [self.table(m) for m in names]
        return pd.concat([t.to_pandas() for t in tables], ignore_index=True)

    def final(self, measure: str) -> np.ndarray:
        """A measure at the last recorded step, shape (R, ...)."""
        return self.data[measure][-1]

    def summary(self) -> pd.DataFrame:
        """One row per replicate: final values, peak swings, end-of-run side and leaders.

        Columns come from the recorded measures (a measure that was not recorded is left out).

        ``side.<state>`` is the sign of the final balance (+1: the first balance power leads);
        ``peak_swing.<state>`` the largest signed departure of the balance from step 0.
        """
        w = self.scenario.world
        cols: dict[str, Any] = {"scenario": self.scenario.name, "replicate": self.replicates}
        have = self.data.keys()
        if "alignment" in have:
            al = self.final("alignment")
            for j, s in enumerate(w.state_ids):
                for k, p in enumerate(w.power_ids):
                    cols[f"alignment.{s}.{p}"] = al[:, j, k]
        if "balance" in have:
            bal = self.data["balance"]
            for j, s in enumerate([*w.state_ids, "region"]):
                cols[f"balance.{s}"] = bal[-1, :, j]
                cols[f"side.{s}"] = np.sign(bal[-1, :, j]).astype(int)
                dev = bal[:, :, j] - bal[0, :, j]
                cols[f"peak_swing.{s}"] = dev[np.abs(dev).argmax(axis=0), np.arange(dev.shape[1])]
        if "reputation" in have:
            for k, p in enumerate(w.power_ids):
                cols[f"reputation.{p}"] = self.final("reputation")[:, k]
        if "credibility" in have:
            for k, i in enumerate(w.institution_ids):
                cols[f"credibility.{i}"] = self.final("credibility")[:, k]
        if "corridor" in have:
            cols["corridor"] = self.final("corridor")
        if "share" in have:
            share = self.final("share")
            fids = np.array(w.faction_ids)
            for j, s in enumerate(w.state_ids):
                members = np.flatnonzero(w.faction_state == j)
                cols[f"leader.{s}"] = fids[members[share[:, members].argmax(axis=1)]]
        return pd.DataFrame(cols)

    def events(self) -> pd.DataFrame:
        """Which events fired in which replicate, with the date they applied."""
        rows = []
        for plan in self.plans:
            e = plan.event
            day0 = np.datetime64(self.scenario.start, "D")
            applied = day0 + plan.step * self.scenario.step_days
            for j, k in enumerate(self.replicates):
                st = int(plan.status[j])
                rows.append(
                    (
                        self.scenario.name,
                        int(k),
                        e.id,
                        e.kind,
                        e.date.isoformat(),
                        st == 0,
                        STATUS[st],
                        str(applied[j]) if st == 0 else "",
                    )
                )
        return pd.DataFrame(
            rows,
            columns=[
                "scenario",
                "replicate",
                "event",
                "kind",
                "scheduled",
                "fired",
                "status",
                "applied",
            ],
        )

    def votes(self) -> pd.DataFrame:
        """Each state's stance in each roll call, per replicate (columns `VOTE_COLUMNS`).

        Stances are drawn by the model (`vote` events), never given: yes, no, abstain or
        absent. A replicate in which the vote did not take place has no rows for it.
        """
        rows = []
        states = self.scenario.world.state_ids
        day0 = np.datetime64(self.scenario.start, "D")
        for plan in self.plans:
            codes = self.stances.get(plan.event.id)
            if codes is None:
                continue
            e = plan.event
            applied = day0 + plan.step * self.scenario.step_days
            for j, k in enumerate(self.replicates):
                for s, code in enumerate(codes[j]):
                    if code >= 0:
                        rows.append(
                            (
                                self.scenario.name,
                                int(k),
                                e.id,
                                e.raw.get("motion", ""),
                                e.raw["power"],
                                e.raw["side"],
                                str(applied[j]),
                                states[s],
                                STANCES[code],
                            )
                        )
        return pd.DataFrame(rows, columns=VOTE_COLUMNS)

    def firing_rates(self) -> pd.Series:
        """Share of replicates in which each event fired."""
        return pd.Series(self.event_rates(), name="fired")

    def overview(self, q: float = 0.90) -> pd.DataFrame:
        """Final alignment and balance per state: median and central ``q`` interval."""
        w = self.scenario.world
        lo, hi = (1 - q) / 2, 1 - (1 - q) / 2
        rows = []
        al, bal = self.final("alignment"), self.final("balance")
        for j, s in enumerate([*w.state_ids, "region"]):
            row: dict[str, Any] = {"state": s}
            cols = (
                [(f"{p}", al[:, j, k]) for k, p in enumerate(w.power_ids)]
                if s != "region"
                else [(p, np.full(al.shape[0], np.nan)) for p in w.power_ids]
            )
            cols.append((f"balance {'-'.join(w.balance)}", bal[:, j]))
            for name, v in cols:
                if np.isnan(v).all():
                    row[name] = ""
                    continue
                a, m, b = np.quantile(v.astype(float), [lo, 0.5, hi])
                row[name] = (
                    f"{m:+.3f} [{a:+.3f}, {b:+.3f}]"
                    if name.startswith("balance")
                    else f"{m:.3f} [{a:.3f}, {b:.3f}]"
                )
            rows.append(row)
        return pd.DataFrame(rows).set_index("state")

    # ---- files -------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        """Provenance: versions, seed, scenario hash and resolved parameters."""
        s = self.scenario
        return {
            "kind": RUN_KIND,
            "format": RUN_FORMAT,
            "versions": versions(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "seed": {"entropy": str(self.seed.entropy), "spawn_key": list(self.seed.spawn_key)},
            "replicates": [int(self.replicates.min()), int(self.replicates.max()) + 1]
            if np.array_equal(
                self.replicates, np.arange(self.replicates.min(), self.replicates.max() + 1)
            )
            else self.replicates.tolist(),
            "record_every": self.every,
            "measures": list(self.data),
            "scenario": {k: v for k, v in s.provenance().items() if k != "resolved"},
            "resolved": s.resolved(),
        }

    def write(self, out: str | Path) -> Path:
        """Write manifest.json, timeseries/ (Parquet), summary.csv, events.csv and votes.csv.

        The files are written into a temporary sibling directory that then replaces ``out``,
        so a crash never leaves a half-written result set. An existing ``out`` is replaced
        only when it is empty or holds an earlier run and nothing else (its manifest says
        ``kind = "influence-sim run"``, and it holds only the files a run writes). Anything
        else (an experiment store, a foreign folder) is refused with `StoreError` and left
        untouched.
        """
        out = Path(out)
        check_output(out)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        except OSError as exc:
            raise StoreError(f"cannot write here: {exc.strerror}", path=out) from None
        try:
            ts = tmp / "timeseries"
            ts.mkdir()
            for m in self.data:
                self.write_parquet(m, ts / f"{m}.parquet")
            self.summary().to_csv(tmp / "summary.csv", index=False)
            self.events().to_csv(tmp / "events.csv", index=False)
            self.votes().to_csv(tmp / "votes.csv", index=False)
            (tmp / "manifest.json").write_text(json.dumps(self.manifest(), indent=2) + "\n")
            if out.exists():
                old = out.with_name(f".{out.name}.old-{os.getpid()}")
                out.rename(old)
                tmp.rename(out)
                shutil.rmtree(old)
            else:
                tmp.rename(out)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise StoreError(f"cannot write the run: {exc.strerror or exc}", path=out) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out


#: What a run's output folder holds; `Result.write` replaces nothing else.
RUN_KIND = "influence-sim run"
RUN_FORMAT = 1
RUN_ENTRIES = frozenset({"manifest.json", "timeseries", "summary.csv", "events.csv", "votes.csv"})


def _run_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest of a run folder, or None when it is not one (missing, damaged, other)."""
    try:
        manifest = json.loads((path / "manifest.json").read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(manifest, dict) or manifest.get("kind") != RUN_KIND:
        return None
    if manifest.get("format", RUN_FORMAT) != RUN_FORMAT:
        return None
    return manifest


def check_output(out: Path) -> None:
    """Refuse (`StoreError`) an output folder that `Result.write` may not replace or create.

    Checked before any work is done: a folder holding anything but an earlier run, or a path
    whose nearest existing parent is not a folder or cannot take a new folder (tried with an
    empty temporary folder, removed at once).
    """
    if not out.exists():
        parent = out.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise StoreError(f"cannot be created: {parent} is not a folder", path=out)
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".influence-sim-probe-", dir=parent))
        except OSError as exc:
            raise StoreError(
                f"cannot be created: {parent} takes no new folder ({exc.strerror})", path=out
            ) from None
        return
    if not out.is_dir():
        raise StoreError("exists and is not a folder; choose another output folder", path=out)
    entries = sorted(p.name for p in out.iterdir())
    if not entries:
        return
    if "manifest.json" not in entries or _run_manifest(out) is None:
        kind = "an experiment store" if (out / "chunks").is_dir() else "something else"
        raise StoreError(
            f"holds {kind}, not an earlier run; it was left untouched; choose another "
            "output folder",
            path=out,
        )
    extra = [e for e in entries if e not in RUN_ENTRIES]
    if extra:
        raise StoreError(
            f"holds an earlier run and also '{extra[0]}', which a run does not write; it was "
            "left untouched; choose another output folder",
            path=out,
        )


@dataclass
class RunFiles:
    """A run directory read back: manifest and frames."""

    manifest: dict[str, Any]
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    events: pd.DataFrame
    votes: pd.DataFrame


def load_run(path: str | Path) -> RunFiles:
    """Read a directory written by `Result.write` (or ``influence-sim run --out``)."""
    path = Path(path)
    manifest = _run_manifest(path)
    if manifest is None:
        raise StoreError("not a run folder (no readable manifest.json of a run)", path=path)
    try:
        ts = pq.read_table(path / "timeseries", page_checksum_verification=True).to_pandas()
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(f"timeseries/ cannot be read: {str(exc)[:160]}", path=path) from None
    return RunFiles(
        manifest=manifest,
        timeseries=ts,
        summary=pd.read_csv(path / "summary.csv"),
        events=pd.read_csv(path / "events.csv", keep_default_na=False),
        votes=pd.read_csv(path / "votes.csv", keep_default_na=False)
        if (path / "votes.csv").exists()
        else pd.DataFrame(columns=VOTE_COLUMNS),
    )


def simulate(
    scenario: Scenario,
    *,
    replicates: int | Sequence[int] = 100,
    rng: SeedLike = None,
    every: int = 1,
    factions: bool = False,
    progress: str | None = None,
    check_memory: bool = True,
    inputs: Mapping[str, np.ndarray] | None = None,
) -> Result:
    """Run replicates of a scenario as one vectorised ensemble.

    Parameters
    ----------
    scenario : Scenario
        A loaded scenario (`load_scenario`).
    replicates : int or sequence of int
        Number of replicates (ids 0..n-1), or the explicit replicate ids to run. Replicate k
        gives identical results whichever other replicates run beside it.
    rng : int, SeedSequence, Generator or None
        Root seed (SPEC 7). Record it to reproduce the run; None draws fresh entropy.
    every : int
        Record every ``every`` steps (the last step is always recorded).
    factions : bool
        Also record every faction's scores (measure ``score``).
    progress : str, optional
        Show a progress bar over steps with this label (None: no bar).
    check_memory : bool
        Refuse (`ArgumentError` on ``replicates``) a run whose estimated memory exceeds the
        budget (`influence_sim.experiment.budget`), before allocating anything. A batch
        checks its chunks once, up front, and runs them without this check.
    inputs : mapping of str to ndarray, optional
        Uncertain inputs per replicate, one value per replicate id: global parameters, event
        fields (``event.<id>.<field>``) and world numbers by path, as an experiment's
        ``[uncertainty]`` names them (`influence_sim.experiment.uncertainty.InputSample`).

    Returns
    -------
    Result
        Arrays, tidy frames and writers for the run.
    """
    ids = (
        np.arange(replicates)
        if isinstance(replicates, int | np.integer)
        else np.asarray(replicates, dtype=np.int64)
    )
    if ids.ndim != 1 or len(ids) == 0 or (ids < 0).any():
        raise ValueError("replicates must be a positive count or non-empty non-negative ids")
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be a positive whole number, got {every!r}")
    if check_memory:
        need, budget = (
            run_bytes(scenario, len(ids), every=every, factions=factions),
            memory_budget(),
        )
        if need > budget:
            raise ArgumentError(
                f"{len(ids):,} replicates of '{scenario.name}' need about {format_bytes(need)} "
                f"of memory, more than the budget of {format_bytes(budget)}; run fewer "
                f"replicates, record less often (every), or run them as an experiment in "
                f"chunks (budget: {ENV})",
                argument="replicates",
            )
    root = root_seed(rng)
    params, fields, world = split_inputs(inputs or {})
    data, steps, plans, ens = run_ensemble(
        scenario,
        ids,
        root,
        every=every,
        factions=factions,
        progress=progress,
        params=params,
        world_inputs=world,
        fields=fields,
    )
    return Result(
        scenario=scenario,
        replicates=ids,
        seed=root,
        steps=steps,
        data=data,
        plans=plans,
        every=every,
        stances=dict(ens.votes),
    )
