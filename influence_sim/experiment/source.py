"""One typed view of results, whether from one run (`Result`) or an experiment store.

Plots, `compare`, `explain` and the report read results only through `ResultSource`, never
through raw manifest keys or ``hasattr`` checks, so a type checker sees what they depend on
and the store's file format can change in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..core.world import World, load_world

__all__ = ["ResultSource", "ScenarioRecord", "named_states"]


@dataclass(frozen=True)
class ScenarioRecord:
    """What identifies one scenario of a result: its files, hashes and resolved content.

    ``chain`` lists the files of its ``extends`` chain, this one first. ``resolved`` is
    `Scenario.resolved()`: name, title, world, start, step_days, steps, params
    and events (each event as its resolved TOML table).
    """

    name: str
    title: str
    path: str
    sha256: str
    world_path: str
    resolved: dict[str, Any]
    chain: tuple[str, ...] = ()

    @classmethod
    def from_provenance(cls, entry: dict[str, Any]) -> ScenarioRecord:
        """Build from `Scenario.provenance()` (as stored in manifests)."""
        return cls(
            name=entry["name"],
            title=entry.get("title", entry["name"]),
            path=entry["path"],
            sha256=entry["sha256"],
            world_path=entry["world_path"],
            resolved=entry["resolved"],
            chain=tuple(entry.get("chain", (entry["path"],))),
        )

    @property
    def events(self) -> list[dict[str, Any]]:
        """The scenario's events, resolved, in file order."""
        return list(self.resolved["events"])

    @property
    def start(self) -> date:
        """First date of the calendar."""
        return date.fromisoformat(self.resolved["start"])

    @property
    def step_days(self) -> int:
        """Days per step."""
        return int(self.resolved["step_days"])

    def world(self) -> World:
        """The scenario's world (read from its file)."""
        return load_world(self.world_path)


def named_states(records: Sequence[ScenarioRecord], world: World) -> list[str]:
    """States that any scenario's events name (directly or through a faction), world order.

    Falls back to the first state when no event names one. This is the default focus of
    figures and of attribution: no actor id is written into the code.
    """
    named = set()
    for rec in records:
        for ev in rec.events:
            for key in ("state", "faction", "from", "to", "backs"):
                v = ev.get(key)
                if isinstance(v, str):
                    named.add(v.split(".", 1)[0])
    return [s for s in world.state_ids if s in named] or list(world.state_ids[:1])


@runtime_checkable
class ResultSource(Protocol):
    """What plots, comparison and reports need from results.

    A `Result` (one scenario, ``is_experiment`` False) and a `ResultSet` (an experiment
    store) both satisfy it. Scenario names default to the baseline (a `Result`'s own
    scenario); ``point`` is the design point (always 0 for a `Result`).
    """

    @property
    def is_experiment(self) -> bool:
        """True for an experiment store, False for one run."""
        ...

    @property
    def scenarios(self) -> list[str]:
        """Scenario names, the baseline first."""
        ...

    @property
    def baseline(self) -> str:
        """The baseline's name."""
        ...

    @property
    def n_replicates(self) -> int:
        """Replicates per scenario and point."""
        ...

    @property
    def points(self) -> list[dict[str, float]]:
        """Parameter overrides per design point ([{}] without a design)."""
        ...

    @property
    def measures(self) -> list[str]:
        """The recorded measures."""
        ...

    @property
    def every(self) -> int:
        """Recording interval in steps."""
        ...

    def record(self, scenario: str | None = None) -> ScenarioRecord:
        """The record of a scenario (default: the baseline)."""
        ...

    def world(self, scenario: str | None = None) -> World:
        """The world of a scenario (default: the baseline's)."""
        ...

    def block(
        self, measure: str, scenario: str | None = None, point: int = 0
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Dates (T,), values (T, R, K) as float and series labels ``actor[/power]`` (K)."""
        ...

    def event_rates(self, scenario: str | None = None, point: int = 0) -> dict[str, float]:
        """Share of replicates in which each event fired (empty when not recorded)."""
        ...

    def focus_states(self) -> list[str]:
        """States that the scenarios' events name (the default focus of figures)."""
        ...
