"""The outcome measures, written once: name, actors, shape, how the kernel computes them, label.

Everything that names a measure reads this table: the recorder (what `simulate` and batches
store), ``when`` conditions in scenario files, the Mesa model's reporters, `Result`'s series
labels, `compare` and `explain`, and the figures.

A measure's value for R replicates has shape ``(R, *shape)``; its trailing axes are the actors
of one kind (plus ``region`` for the balance) and, for per-power measures, the powers. Series
are named ``actor`` or ``actor/power`` in that flattened order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ArgumentError, suggest
from .world import TRADE

if TYPE_CHECKING:
    from .kernel import Ensemble
    from .world import World

__all__ = ["CONDITION_MEASURES", "MEASURES", "RECORDED", "Measure", "measure"]

#: The actor label of region-wide series.
REGION = "region"

Compute = Callable[["Ensemble", np.ndarray], np.ndarray]


@dataclass(frozen=True, kw_only=True)
class Measure:
    """One outcome measure.

    Attributes
    ----------
    name : str
        Its name in files, frames and conditions.
    kind : str or None
        The kind of actor it is per (``state``, ``faction``, ``power``, ``institution``);
        None for a single regional series.
    per_power : bool
        Whether it has a trailing power axis.
    region : bool
        Whether a ``region`` column follows the states (the population-weighted aggregate).
    recorded : bool
        Recorded as an outcome by default (``score`` is recorded on request; ``unrest`` only
        serves conditions).
    needs_economy : bool
        Only for worlds that declare flows (`World.has_economy`); not recorded elsewhere.
    label : str
        What it means, for axes and tables.
    compute : callable
        ``compute(ensemble, alignment) -> (R, *shape)``; ``alignment`` is the ensemble's
        current alignment, computed once per recorded step and shared by the measures.
    """

    name: str
    kind: str | None
    per_power: bool
    region: bool = False
    recorded: bool = True
    needs_economy: bool = False
    label: str
    compute: Compute

    def available(self, world: World) -> bool:
        """Whether the world has what this measure needs (the economy measures need flows)."""
        return world.has_economy or not self.needs_economy

    def actors(self, world: World) -> list[str]:
        """Valid actor ids of this measure (``region`` included where it applies)."""
        if self.kind is None:
            return [REGION]
        return [*world.kinds[self.kind], *([REGION] if self.region else [])]

    def powers(self, world: World) -> list[str | None]:
        """The power of each entry of the power axis (``[None]`` without one)."""
        if self.kind is None:  # a regional series of the corridor power
            return [world.corridor_power]
        return list(world.power_ids) if self.per_power else [None]

    def shape(self, world: World) -> tuple[int, ...]:
        """Trailing shape of the recorded array."""
        if self.kind is None:
            return ()
        n = len(self.actors(world))
        return (n, len(world.powers)) if self.per_power else (n,)

    def labels(self, world: World) -> tuple[list[str], list[str | None]]:
        """Actor and power of every series, in flattened order."""
        actors, powers = self.actors(world), self.powers(world)
        return [a for a in actors for _ in powers], [p for _ in actors for p in powers]

    def series_names(self, world: World) -> list[str]:
        """``actor`` or ``actor/power`` per series."""
        return [a + (f"/{p}" if p else "") for a, p in zip(*self.labels(world), strict=True)]

    def column(self, world: World, actor: str | None, power: str | None = None) -> int:
        """Position of one series in the flattened trailing axes.

        Raises `ArgumentError` (naming ``actor`` or ``power``) for an id that does not fit.
        """
        actors = self.actors(world)
        if self.kind is None:
            if actor not in (None, REGION):
                raise ArgumentError(
                    f"{self.name} is region-wide; it takes no actor", argument="actor"
                )
            return 0
        if actor not in actors:
            raise ArgumentError(
                f"unknown {self.kind} {actor!r} for {self.name}; one of {', '.join(actors)}",
                argument="actor",
                suggestion=suggest(actor, actors, world.aliases),
            )
        a = actors.index(actor)
        if not self.per_power:
            if power is not None:
                raise ArgumentError(f"{self.name} takes no power", argument="power")
            return a
        if power not in world.power_ids:
            raise ArgumentError(
                f"{self.name} needs a power, one of {', '.join(world.power_ids)}"
                + (f"; got {power!r}" if power is not None else ""),
                argument="power",
                suggestion=suggest(power, world.power_ids, world.aliases),
            )
        return a * len(world.powers) + world.power_ids.index(power)

    def value(self, ens: Ensemble, actor: str | None, power: str | None = None) -> np.ndarray:
        """One series across the ensemble's replicates, (R,)."""
        full = self.compute(ens, ens.alignment())
        return full.reshape(ens.R, -1)[:, self.column(ens.world, actor, power)]


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure(
            name="alignment",
            kind="state",
            per_power=True,
            label="alignment (power-weighted mean of faction scores)",
            compute=lambda ens, al: al,
        ),
        Measure(
            name="balance",
            kind="state",
            per_power=False,
            region=True,
            label="balance (alignment with the first balance power minus the second)",
            compute=lambda ens, al: ens.balance(al),
        ),
        Measure(
            name="share",
            kind="faction",
            per_power=False,
            label="power share of the faction within its state",
            compute=lambda ens, al: ens.share,
        ),
        Measure(
            name="reputation",
            kind="power",
            per_power=False,
            label="reputation across the region (region-weighted mean of the perceptions)",
            compute=lambda ens, al: ens.region_reputation(),
        ),
        Measure(
            name="perception",
            kind="state",
            per_power=True,
            label="reputation of each power as each state perceives it",
            compute=lambda ens, al: ens.rep,
        ),
        Measure(
            name="threat",
            kind="state",
            per_power=True,
            label="threat perception of each power",
            compute=lambda ens, al: ens.threat,
        ),
        Measure(
            name="hedging",
            kind="state",
            per_power=False,
            label="hedging (the autonomy weight after threat)",
            compute=lambda ens, al: ens.hedging_weight(),
        ),
        Measure(
            name="approval",
            kind="state",
            per_power=True,
            label="poll approval of each power's leadership (observable; share of the public)",
            compute=lambda ens, al: ens.approval(al),
        ),
        Measure(
            name="elite_alignment",
            kind="state",
            per_power=True,
            label="alignment of the elite (the factions other than the public) (observable)",
            compute=lambda ens, al: ens.elite_alignment(al),
        ),
        Measure(
            name="trade",
            kind="state",
            per_power=True,
            needs_economy=True,
            label="trade turnover with each power (USD bn per year)",
            compute=lambda ens, al: ens.flows[:, :, : ens.P, TRADE],
        ),
        Measure(
            name="trade_share",
            kind="state",
            per_power=True,
            needs_economy=True,
            label="each power's share of the state's trade",
            compute=lambda ens, al: ens.share_of("trade"),
        ),
        Measure(
            name="remittance_share",
            kind="state",
            per_power=True,
            needs_economy=True,
            label="each power's share of the state's remittance inflows",
            compute=lambda ens, al: ens.share_of("remittances"),
        ),
        Measure(
            name="debt_share",
            kind="state",
            per_power=True,
            needs_economy=True,
            label="each power's share of the state's lending and investment stock",
            compute=lambda ens, al: ens.share_of("lending"),
        ),
        Measure(
            name="credibility",
            kind="institution",
            per_power=False,
            label="institutional credibility",
            compute=lambda ens, al: ens.cred,
        ),
        Measure(
            name="corridor",
            kind=None,
            per_power=False,
            label="corridor index (the corridor power's alignment along its transit states)",
            compute=lambda ens, al: ens.corridor(al),
        ),
        Measure(
            name="score",
            kind="faction",
            per_power=True,
            recorded=False,
            label="faction score toward each power",
            compute=lambda ens, al: ens.x,
        ),
        Measure(
            name="unrest",
            kind="state",
            per_power=False,
            recorded=False,
            label="unrest intensity",
            compute=lambda ens, al: ens.unrest,
        ),
    )
}

#: Measures recorded by default (``score`` is added with ``factions = true``).
RECORDED: tuple[str, ...] = tuple(n for n, m in MEASURES.items() if m.recorded)
#: Measures a ``when`` condition may test (everything but the regional corridor).
CONDITION_MEASURES: tuple[str, ...] = tuple(n for n, m in MEASURES.items() if m.kind is not None)


def measure(name: str) -> Measure:
    """The measure called ``name`` (`ArgumentError` with a suggestion otherwise)."""
    if name not in MEASURES:
        raise ArgumentError(
            f"unknown measure {name!r}; one of {', '.join(MEASURES)}",
            argument="measure",
            suggestion=suggest(name, MEASURES),
        )
    return MEASURES[name]
