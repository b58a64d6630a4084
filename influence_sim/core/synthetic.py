"""Generated worlds, for scaling studies and benchmarks.

`synthetic` builds a random but valid `World` of any size: states with factions, peer ties,
powers with channel ties and one institution per power. Its numbers are not data about anything;
its provenance says so. `as_scenario` wraps a world in a scenario with no events (or given
events) so it can be run by `simulate` or `InfluenceModel`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np

from ..seeds import SeedLike, root_seed
from .events import Event
from .kernel import default_params
from .scenario import STEPS, Scenario
from .world import Faction, Institution, Power, State, World

__all__ = ["as_scenario", "synthetic"]

CHANNELS = ("security", "economic", "political")


def synthetic(
    n_states: int,
    factions_per_state: int,
    ties_per_faction: int,
    n_powers: int,
    *,
    rng: SeedLike = None,
) -> World:
    """A random, valid world of ``n_states x factions_per_state`` factions.

    Parameters
    ----------
    n_states : int
        Number of states (>= 1).
    factions_per_state : int
        Factions in each state (>= 1); every faction is tied to every other faction of its
        state (``factions_per_state - 1`` peer ties).
    ties_per_faction : int
        Peer ties per faction in total (>= 0). Ties beyond the intra-state ones are distinct
        cross-border links to factions drawn at random in other states (at most all of them).
    n_powers : int
        Number of powers (>= 2); each leads one institution whose members are a random half
        of the states.
    rng : int, SeedSequence, Generator or None
        Seed (SPEC 7); the same seed gives the same world.

    Returns
    -------
    World
        Named ``synthetic-<states>x<factions>-<ties>-<powers>``; ``path`` is ``<synthetic>``.
    """
    for name, val, lo in (
        ("n_states", n_states, 1),
        ("factions_per_state", factions_per_state, 1),
        ("ties_per_faction", ties_per_faction, 0),
        ("n_powers", n_powers, 2),
    ):
        if isinstance(val, bool) or not isinstance(val, int | np.integer) or val < lo:
            raise ValueError(f"{name} must be a whole number >= {lo}, got {val!r}")
    seed = root_seed(rng)
    gen = np.random.default_rng(seed)
    S, K, P, C = n_states, factions_per_state, n_powers, len(CHANNELS)
    F = S * K
    power_ids = [f"P{p}" for p in range(P)]
    state_ids = [f"S{s:05d}" for s in range(S)]
    powers = tuple(
        Power(id=pid, name=f"Power {p}", reputation=float(gen.uniform(0.3, 0.7)))
        for p, pid in enumerate(power_ids)
    )
    states = tuple(
        State(
            id=sid,
            name=f"State {s}",
            population=float(gen.uniform(1, 50)),
            gdp=float(gen.uniform(5, 300)),
            corridor_km=float(gen.uniform(0, 1000)),
            autonomy=float(gen.uniform(0.2, 1.5)),
        )
        for s, sid in enumerate(state_ids)
    )
    shares = gen.dirichlet(np.ones(K), size=S).reshape(F)
    lam = gen.uniform(0.3, 0.9, F)
    legit = gen.uniform(0.2, 0.9, F)
    sens = gen.dirichlet(np.ones(C), size=F)
    anchor = gen.dirichlet(np.ones(P + 1), size=F)[:, :P]  # the rest is autonomy
    factions = tuple(
        Faction(
            id=f"{state_ids[f // K]}.f{f % K:03d}",
            name=f"Faction {f % K}",
            state=state_ids[f // K],
            share=float(shares[f]),
            susceptibility=float(lam[f]),
            legitimacy=float(legit[f]),
            sensitivity=dict(zip(CHANNELS, sens[f], strict=True)),
            anchor=dict(zip(power_ids, anchor[f], strict=True)),
        )
        for f in range(F)
    )
    ties = {
        (sid, pid): dict(zip(CHANNELS, map(float, gen.uniform(0, 1, C)), strict=True))
        for sid in state_ids
        for pid in power_ids
    }
    institutions = tuple(
        Institution(
            id=f"I{p}",
            name=f"Institution {p}",
            leader=pid,
            channel=CHANNELS[p % C],
            members=(
                pid,
                *sorted(gen.choice(state_ids, size=max(1, S // 2), replace=False).tolist()),
            ),
            credibility=float(gen.uniform(0.3, 0.7)),
        )
        for p, pid in enumerate(power_ids)
    )
    # cross-border links: as many as the tie budget leaves, distinct, at most all others
    extra = min(max(0, ties_per_faction - (K - 1)), F - K)
    links: list[tuple[str, str, float]] = []
    if extra and S > 1:
        src = np.repeat(np.arange(F), extra)
        dst = _foreign(gen, src, S, K)
        for _ in range(1000):  # redraw duplicate (source, target) pairs until none is left
            order = np.lexsort((dst, src))
            dup = np.zeros(src.size, bool)
            dup[order[1:]] = (src[order[1:]] == src[order[:-1]]) & (
                dst[order[1:]] == dst[order[:-1]]
            )
            if not dup.any():
                break
            dst[dup] = _foreign(gen, src[dup], S, K)
        weights = gen.uniform(0.05, 0.5, src.size)
        fids = [f.id for f in factions]
        links = [
            (fids[a], fids[b], w)
            for a, b, w in zip(src.tolist(), dst.tolist(), weights.tolist(), strict=True)
        ]
    spec = {
        "n_states": S,
        "factions_per_state": K,
        "ties_per_faction": ties_per_faction,
        "n_powers": P,
        "seed": str(seed.entropy),
        "spawn_key": list(seed.spawn_key),
    }
    return World(
        name=f"synthetic-{S}x{K}-{ties_per_faction}-{P}",
        title="Synthetic world (generated)",
        path="<synthetic>",
        sha256=hashlib.sha256(json.dumps(spec).encode()).hexdigest(),
        as_of=None,
        channels=CHANNELS,
        balance=(power_ids[0], power_ids[1]),
        corridor_power=power_ids[-1],
        powers=powers,
        states=states,
        factions=factions,
        institutions=institutions,
        links=tuple(links),
        ties=ties,
    )


def _foreign(gen: np.random.Generator, src: np.ndarray, S: int, K: int) -> np.ndarray:
    """A random faction of another state for each source faction."""
    state = (src // K + gen.integers(1, S, src.size)) % S
    return state * K + gen.integers(0, K, src.size)


def as_scenario(
    world: World,
    *,
    steps: int = 365,
    step: str = "1d",
    start: date = date(2022, 1, 1),
    params: Mapping[str, float | str] | None = None,
    events: Sequence[Event] = (),
    name: str | None = None,
) -> Scenario:
    """A scenario over ``world`` with the given events (none by default).

    ``params`` override the documented defaults (unchecked: use documented names and ranges).
    """
    resolved = {**default_params(), **(params or {})}
    sha = hashlib.sha256(
        json.dumps([world.sha256, steps, step, str(start), resolved], default=str).encode()
    ).hexdigest()
    return Scenario(
        name=name or world.name,
        title=world.title,
        description="",
        path="<generated>",
        world=world,
        start=start,
        step_days=STEPS[step],
        steps=steps,
        params=resolved,
        events=tuple(events),
        chain=("<generated>",),
        sha256=sha,
    )
