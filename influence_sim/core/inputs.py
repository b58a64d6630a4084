"""World numbers as uncertain inputs: their paths, provenance and per-replicate values.

A world number is named by its path in the world file: the section, the actor id (or the
state and power of a pair), the field and, for a per-power or per-channel table, its key::

    powers.RU.reputation            states.KZ.autonomy
    factions.KZ.tokayev.share       factions.KZ.tokayev.anchor.RU
    factions.KZ.tokayev.susceptibility / .legitimacy
    ties.KZ.RU.security             institutions.CSTO.credibility
    flows.KZ.CN.trade

These are the numbers the kernel holds per replicate, so a design can vary them along the
replicate axis of one ensemble (`apply_world_inputs`). A faction's ``share`` is set and the
other factions of its state are rescaled in proportion, so the shares still sum to 1; a flow
changes the state's flow with the rest of the world so the declared total is kept (where the
state declares one). Channel sensitivities, link weights, exposures and the state totals are
world-level structure and cannot vary per replicate (yet).

Each number's provenance decides its default width as an uncertain input: a number with a
``source`` varies by ``SOURCED_WIDTH`` of its value either side, a marked ``assumption`` by
``ASSUMPTION_WIDTH``, both clipped to the field's valid range.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._io import parse_toml, read_input
from ..errors import ArgumentError, WorldError, suggest
from .world import FLOW_KINDS, FLOW_TOTALS, World

if TYPE_CHECKING:
    from .kernel import Ensemble

__all__ = [
    "ASSUMPTION_WIDTH",
    "SOURCED_WIDTH",
    "WORLD_PATHS",
    "WorldNumber",
    "apply_world_inputs",
    "world_number",
    "world_numbers",
]

#: Default half-width of a sourced number's range, relative to its value.
SOURCED_WIDTH = 0.1
#: Default half-width of an assumption's range, relative to its value.
ASSUMPTION_WIDTH = 0.3

#: The path patterns of the world numbers that can vary per replicate.
WORLD_PATHS = (
    "powers.<power>.reputation",
    "states.<state>.autonomy",
    "factions.<faction>.share",
    "factions.<faction>.susceptibility",
    "factions.<faction>.legitimacy",
    "factions.<faction>.anchor.<power>",
    "ties.<state>.<power>.<channel>",
    "institutions.<institution>.credibility",
    "flows.<state>.<power>.<trade|remittances|lending>",
)


@dataclass(frozen=True)
class WorldNumber:
    """One world number that can be an uncertain input.

    Attributes
    ----------
    path : str
        Its path, e.g. ``factions.KZ.tokayev.anchor.RU``.
    value : float
        Its value in the world file.
    low, high : float
        The field's valid range.
    sourced : bool
        Whether it carries a ``source`` (else it is a marked ``assumption``).
    note : str
        The source or the assumption's reasoning.
    """

    path: str
    value: float
    low: float
    high: float
    sourced: bool
    note: str

    def default_bounds(
        self, sourced_width: float = SOURCED_WIDTH, assumption_width: float = ASSUMPTION_WIDTH
    ) -> tuple[float, float]:
        """Its range as an uncertain input: value ± width x |value|, within the valid range.

        A number of 0 gets the absolute width instead, so it can still vary.
        """
        w = sourced_width if self.sourced else assumption_width
        half = w * abs(self.value) if self.value else w
        return max(self.low, self.value - half), min(self.high, self.value + half)


# section -> (fields with their valid ranges); a per-power or per-channel table is marked
_UNIT = (0.0, 1.0)
_FIELDS: dict[str, dict[str, tuple[float, float]]] = {
    "powers": {"reputation": _UNIT},
    "states": {"autonomy": (0.0, np.inf)},
    "factions": {
        "share": _UNIT,
        "susceptibility": _UNIT,
        "legitimacy": _UNIT,
        "anchor": _UNIT,
    },
    "institutions": {"credibility": _UNIT},
}


def _provenance(table: Mapping[str, Any]) -> tuple[bool, str]:
    if "source" in table:
        return True, str(table["source"])
    return False, str(table.get("assumption", ""))


#: `world_numbers` by world-file hash: a world's numbers are read from its file once.
_READ: dict[str, dict[str, WorldNumber]] = {}


def world_numbers(world: World) -> dict[str, WorldNumber]:
    """Every world number that can vary per replicate, by path, in world-file order.

    The provenance is read from the world's file (once per file version); a file that changed
    since the world was loaded is refused.
    """
    if world.sha256 in _READ:
        return _READ[world.sha256]
    path = Path(world.path)
    raw = read_input(path, WorldError)
    if hashlib.sha256(raw).hexdigest() != world.sha256:
        raise WorldError("the file changed since the world was loaded; load it again", file=path)
    data = parse_toml(raw, path, WorldError)
    out: dict[str, WorldNumber] = {}

    def add(p: str, table: Mapping[str, Any], value: Any, rng: tuple[float, float]) -> None:
        sourced, note = _provenance(table)
        out[p] = WorldNumber(p, float(value), rng[0], rng[1], sourced, note)

    for section, fields in _FIELDS.items():
        for item in data.get(section, []):
            aid = item["id"]
            for fld, rng in fields.items():
                table = item.get(fld)
                if not isinstance(table, dict):
                    continue
                if fld == "anchor":
                    for p in world.power_ids:
                        if p in table:
                            add(f"{section}.{aid}.anchor.{p}", table, table[p], rng)
                    continue
                add(f"{section}.{aid}.{fld}", table, table["value"], rng)
    for item in data.get("ties", []):
        for c in world.channels:
            if isinstance(item.get(c), dict):
                add(f"ties.{item['state']}.{item['power']}.{c}", item[c], item[c]["value"], _UNIT)
    for item in data.get("flows", []):
        for k in FLOW_KINDS:
            if isinstance(item.get(k), dict):
                p = f"flows.{item['state']}.{item['power']}.{k}"
                add(p, item[k], item[k]["value"], (0.0, np.inf))
    _READ[world.sha256] = out
    return out


def world_number(
    world: World, path: str, numbers: Mapping[str, WorldNumber] | None = None
) -> WorldNumber:
    """The world number at ``path``; an unknown path is refused with a suggestion."""
    numbers = world_numbers(world) if numbers is None else numbers
    if path in numbers:
        return numbers[path]
    if "sensitivity" in path.split(".")[1:]:
        raise ArgumentError(
            f"input '{path}': channel sensitivities are world structure and cannot vary per "
            "replicate",
            argument="space",
        )
    raise ArgumentError(
        f"input '{path}': world '{world.name}' has no number there (the paths that can vary "
        "are listed in docs/experiments.md)",
        argument="space",
        suggestion=suggest(path, numbers),
    )


def apply_world_inputs(ens: Ensemble, inputs: Mapping[str, np.ndarray]) -> None:
    """Write per-replicate values (R,) of world numbers into a fresh ensemble's arrays.

    Called before the ensemble derives anything from them (initial scores, economic ties).
    Paths are checked by `world_number` first; here they are only resolved to positions.
    """
    w = ens.world
    idx = w.index
    for path, values in inputs.items():
        v = np.asarray(values, dtype=float)
        section, rest = path.split(".", 1)
        if section == "powers":
            pid, _ = rest.rsplit(".", 1)
            ens.rep_base[:, :, idx[pid]] = v[:, None]
            ens.rep[:, :, idx[pid]] = v[:, None]
        elif section == "states":
            sid, _ = rest.rsplit(".", 1)
            ens.autonomy[:, idx[sid]] = v
        elif section == "institutions":
            iid, _ = rest.rsplit(".", 1)
            ens.cred_base[:, idx[iid]] = v
            ens.cred[:, idx[iid]] = v
        elif section == "factions":
            head, last = rest.rsplit(".", 1)
            if head.endswith(".anchor"):
                f = idx[head.removesuffix(".anchor")]
                ens.anchor[:, f, idx[last]] = v
            else:
                f = idx[head]
                if last == "share":
                    _set_share(ens, f, v)
                elif last == "susceptibility":
                    ens.lam[:, f] = v
                else:
                    ens.legit[:, f] = v
        elif section == "ties":
            st, pw, ch = rest.split(".")
            ens.ties[:, idx[st], idx[pw], w.channels.index(ch)] = v
        elif section == "flows":
            st, pw, kind = rest.split(".")
            s, k = idx[st], FLOW_KINDS.index(kind)
            ens.flows[:, s, idx[pw], k] = v
            if FLOW_TOTALS[kind] in w.economies.get(st, {}):
                total = w.economies[st][FLOW_TOTALS[kind]]
                ens.flows[:, s, ens.P, k] = np.maximum(
                    total - ens.flows[:, s, : ens.P, k].sum(1), 0
                )
        else:  # pragma: no cover - paths are checked before
            raise ValueError(path)


def _set_share(ens: Ensemble, f: int, v: np.ndarray) -> None:
    """Set faction f's power share, rescaling its state's other factions to keep the sum."""
    same = ens.state_of == ens.state_of[f]
    same[f] = False
    others = ens.share[:, same]
    rest = others.sum(axis=1)
    scale = np.where(rest > 0, (1.0 - v) / np.where(rest > 0, rest, 1.0), 0.0)
    ens.share[:, same] = others * scale[:, None]
    ens.share[:, f] = v
