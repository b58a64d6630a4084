"""The tie structure of a world: layout, tie strength, and the network view layer by layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D

from .style import _bare, _new_axes, faction_color, power_color

if TYPE_CHECKING:
    from ..core.world import Faction, World

#: White outline behind network labels.
HALO = [patheffects.withStroke(linewidth=2.2, foreground="white")]


# ---------------------------------------------------------------------------------------
# layout


def _fallback_positions(ids: Sequence[str], radius: float, phase: float) -> dict[str, Any]:
    """Points on a circle, for actors without a world position."""
    n = max(len(ids), 1)
    return {
        a: (radius * np.cos(phase + 2 * np.pi * k / n), radius * np.sin(phase + 2 * np.pi * k / n))
        for k, a in enumerate(ids)
    }


def _unit(a: float) -> np.ndarray:
    """The unit vector at angle ``a``."""
    return np.array([np.cos(a), np.sin(a)])


def _geo_positions(world: World) -> dict[str, np.ndarray]:
    """States and powers at their world positions (on circles where a position is absent)."""
    pos: dict[str, np.ndarray] = {}
    fb_states = _fallback_positions(world.state_ids, 10.0, np.pi / 2)
    fb_powers = _fallback_positions(world.power_ids, 18.0, np.pi / 4)
    for s in world.states:
        pos[s.id] = np.array(s.position if s.position is not None else fb_states[s.id], float)
    for p in world.powers:
        pos[p.id] = np.array(p.position if p.position is not None else fb_powers[p.id], float)
    return pos


def _factions_by_state(world: World) -> dict[str, list[str]]:
    """Faction ids of each state, in world order."""
    return {s: [f.id for f in world.factions if f.state == s] for s in world.state_ids}


def _world_layout(world: World, pos: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Add factions on rings around their states and institutions near their leaders."""
    centres = np.array([pos[s] for s in world.state_ids])
    d = [
        np.hypot(*(centres[i] - centres[j]))
        for i in range(len(centres))
        for j in range(i + 1, len(centres))
    ]
    radius = min(1.2, 0.34 * min(d)) if d else 1.2
    for s, ids in _factions_by_state(world).items():
        for k, fid in enumerate(ids):
            pos[fid] = pos[s] + radius * _unit(np.pi / 2 - 2 * np.pi * k / len(ids))
    middle = centres.mean(axis=0)
    for p in world.powers:
        led = [i for i in world.institutions if i.leader == p.id]
        toward = middle - pos[p.id]
        base = np.arctan2(toward[1], toward[0])
        for k, inst in enumerate(led):
            pos[inst.id] = pos[p.id] + 2.6 * _unit(base + (k - (len(led) - 1) / 2) * 0.55)
    return pos


def _ego_layout(world: World, geo: dict[str, np.ndarray], state: str) -> dict[str, np.ndarray]:
    """Positions around one state, every other node in its geographic direction."""
    centre = geo[state]
    by_state = _factions_by_state(world)

    def angle(node: str) -> float:
        v = geo[node] - centre
        return float(np.arctan2(v[1], v[0])) if np.hypot(*v) > 0 else np.pi / 2

    out = {state: np.zeros(2)}
    for k, fid in enumerate(by_state[state]):
        out[fid] = _unit(np.pi / 2 - 2 * np.pi * k / len(by_state[state]))
    for p in world.powers:
        out[p.id] = 2.9 * _unit(angle(p.id))
        led = [i for i in world.institutions if i.leader == p.id]
        for k, inst in enumerate(led):
            out[inst.id] = 2.25 * _unit(angle(p.id) + (k - (len(led) - 1) / 2) * 0.3)
    # other states' factions around their state's direction, at least `gap` radians apart
    gap = 0.17
    far = []
    for s in world.state_ids:
        if s == state:
            continue
        out[s] = 1.75 * _unit(angle(s))
        ids = by_state[s]
        far += [(angle(s) + (k - (len(ids) - 1) / 2) * gap, fid) for k, fid in enumerate(ids)]
    far.sort()
    angles = _spread([a for a, _ in far], gap)
    for a, (_, fid) in zip(angles, far, strict=True):
        out[fid] = 1.75 * _unit(a)
    return out


def network_layout(world: World, *, state: str | None = None) -> dict[str, np.ndarray]:
    """Deterministic node positions for `network_view` (no random seeds).

    Whole world: states and powers at their world positions (lon, lat; on a circle when a
    position is absent); factions on a small circle around their state, the first at the
    top, clockwise; institutions near their leader, toward the states.

    One ``state``: an ego view centred on it. Its factions on a unit circle; every other
    node in the direction of its geographic position from the state: the far ends of
    cross-border links at radius 1.6 (around their state's direction), institutions at 2.25
    (around their leader's), powers at 2.9.
    """
    pos = _geo_positions(world)
    if state is None:
        return _world_layout(world, pos)
    return _ego_layout(world, pos, state)


def _spread(values: Sequence[float], gap: float) -> list[float]:
    """Move sorted values apart, as little as possible, until neighbours are ``gap`` apart.

    Values that would crowd form a run centred on their mean; runs merge when they touch.
    """
    runs: list[tuple[float, list[float]]] = []  # (first position, wanted values)
    for v in values:
        runs.append((v, [v]))
        while len(runs) > 1 and runs[-2][0] + len(runs[-2][1]) * gap > runs[-1][0] + 1e-12:
            members = runs[-2][1] + runs[-1][1]
            runs[-2:] = [(float(np.mean(members)) - (len(members) - 1) * gap / 2, members)]
    return [start + k * gap for start, members in runs for k in range(len(members))]


def tie_strength(world: World) -> np.ndarray:
    """Channel-weighted tie strength of each faction to each power, shape (F, P).

    For faction f of state s and power p: sum over channels c of sensitivity[f, c] times
    tie[s, p, c]; in [0, 1].
    """
    ties = world.tie_array[world.faction_state]  # (F, P, C)
    return np.einsum("fc,fpc->fp", world.sensitivity, ties)


# ---------------------------------------------------------------------------------------
# layers of the view, drawn in this order


def _draw_ties(
    ax: Axes,
    world: World,
    pos: dict[str, np.ndarray],
    shown: list[Faction],
    max_width: float,
) -> None:
    """Faction-to-power ties: power colour, width proportional to `tie_strength`."""
    strength = tie_strength(world)
    smax = float(strength.max()) or 1.0
    segs, widths, cols = [], [], []
    for f in shown:
        for k, p in enumerate(world.powers):
            s = float(strength[world.index[f.id], k])
            if s > 0:
                segs.append([pos[f.id], pos[p.id]])
                widths.append(max_width * s / smax)
                cols.append(power_color(p.id, world))
    ties = LineCollection(segs, linewidths=widths, colors=cols, alpha=0.4, zorder=1)
    ties.set_gid("ties")
    ax.add_collection(ties)


def _draw_peers(ax: Axes, world: World, pos: dict[str, np.ndarray], state: str | None) -> None:
    """Thin grey peer ties between the factions of each state drawn."""
    peers = []
    for s, own in _factions_by_state(world).items():
        if state is not None and s != state:
            continue
        peers += [[pos[a], pos[b]] for i, a in enumerate(own) for b in own[i + 1 :]]
    pc = LineCollection(peers, linewidths=0.5, colors="#9A9A9A", zorder=1.5, gid="peers")
    ax.add_collection(pc)


def _draw_links(
    ax: Axes, world: World, pos: dict[str, np.ndarray], shown_ids: set[str], whole: bool
) -> set[str]:
    """Cross-border links (dashed, width growing with weight); returns their far ends.

    In a one-state view (``whole`` False) only the links touching a shown faction.
    """
    lsegs, lwid, far = [], [], set()
    wmax = max((w for _, _, w in world.links), default=1.0) or 1.0
    for a, b, w in world.links:
        if not whole and a not in shown_ids and b not in shown_ids:
            continue
        lsegs.append([pos[a], pos[b]])
        lwid.append(0.6 + 1.4 * w / wmax)
        far |= {a, b} - shown_ids
    lc = LineCollection(
        lsegs, linewidths=lwid, colors="#333333", linestyles=(0, (4, 2)), zorder=1.6, gid="links"
    )
    ax.add_collection(lc)
    return far


def _draw_memberships(
    ax: Axes, world: World, pos: dict[str, np.ndarray], state: str | None
) -> None:
    """Institution memberships: dotted, leader colour (other states' left out of an ego view)."""
    msegs, mcols = [], []
    for inst in world.institutions:
        for m in inst.members:
            if state is not None and m in world.state_ids and m != state:
                continue
            msegs.append([pos[inst.id], pos[m]])
            mcols.append(power_color(inst.leader, world))
    mc = LineCollection(
        msegs,
        linewidths=1.0,
        colors=mcols,
        linestyles=(0, (1, 1.5)),
        alpha=0.8,
        zorder=1.4,
        gid="memberships",
    )
    ax.add_collection(mc)


def _draw_factions(
    ax: Axes,
    world: World,
    pos: dict[str, np.ndarray],
    shown: list[Faction],
    far: set[str],
    whole: bool,
) -> None:
    """Shown factions in their colours; far ends of links grey, with radial labels."""
    ax.scatter(
        [pos[f.id][0] for f in shown],
        [pos[f.id][1] for f in shown],
        s=28 if whole else 60,
        c=[faction_color(f.id, world) for f in shown],
        edgecolors="#222222",
        linewidths=0.5,
        zorder=3,
        gid="factions",
    )
    if not far:
        return
    farl = sorted(far)
    ax.scatter(
        [pos[f][0] for f in farl],
        [pos[f][1] for f in farl],
        s=22,
        c="#CCCCCC",
        edgecolors="#666666",
        linewidths=0.5,
        zorder=3,
        gid="far_factions",
    )
    for fid in farl:
        a = float(np.arctan2(pos[fid][1], pos[fid][0]))
        right = np.cos(a) >= 0
        ax.annotate(
            fid,
            (pos[fid][0], pos[fid][1]),
            xytext=(6 * np.cos(a), 6 * np.sin(a)),
            textcoords="offset points",
            rotation=np.degrees(a) if right else np.degrees(a) + 180,
            rotation_mode="anchor",
            ha="left" if right else "right",
            va="center",
            fontsize=6.5,
            color="#555555",
            path_effects=HALO,
            zorder=5,
        )


def _node(
    ax: Axes,
    xy: np.ndarray,
    *,
    marker: str,
    size: float,
    color: str,
    lw: float,
    gid: str,
    label: str,
    offset: tuple[float, float],
    text_color: str = "black",
    **text: Any,
) -> None:
    """One labelled network node (a power or an institution)."""
    ax.scatter(
        [xy[0]],
        [xy[1]],
        marker=marker,
        s=size,
        color=color,
        edgecolor="black",
        lw=lw,
        zorder=4,
        gid=gid,
    )
    ax.annotate(
        label,
        (xy[0], xy[1]),
        xytext=offset,
        textcoords="offset points",
        color=text_color,
        zorder=5,
        **text,
    )


def _draw_powers_and_institutions(ax: Axes, world: World, pos: dict[str, np.ndarray]) -> None:
    """Powers as labelled squares, institutions as diamonds, in the (leader's) colour."""
    for p in world.powers:
        _node(
            ax,
            pos[p.id],
            marker="s",
            size=150,
            color=power_color(p.id, world),
            lw=0.6,
            gid=f"power:{p.id}",
            label=f"{p.name} ({p.id})",
            offset=(9, 4),
            fontsize=8.5,
            fontweight="bold",
            text_color=power_color(p.id, world),
            path_effects=HALO,
        )
    for inst in world.institutions:
        _node(
            ax,
            pos[inst.id],
            marker="D",
            size=60,
            color=power_color(inst.leader, world),
            lw=0.5,
            gid=f"institution:{inst.id}",
            label=inst.id,
            offset=(0, -9),
            ha="center",
            va="top",
            fontsize=7.5,
            path_effects=HALO,
        )


def _draw_labels(
    ax: Axes,
    world: World,
    pos: dict[str, np.ndarray],
    shown: list[Faction],
    state: str | None,
    faction_labels: bool,
) -> None:
    """State ids at their centres; faction names (without the state) outside their ring."""
    for s in world.states:
        if state is not None and s.id != state:
            continue
        ax.text(
            pos[s.id][0],
            pos[s.id][1],
            s.id,
            ha="center",
            va="center",
            fontsize=9,
            fontweight="bold",
            path_effects=HALO,
            zorder=5,
        )
    if not faction_labels:
        return
    for f in shown:
        d = pos[f.id] - pos[f.state]
        d = d / (np.hypot(*d) or 1.0)
        ax.annotate(
            f.id.split(".", 1)[-1],
            (pos[f.id][0], pos[f.id][1]),
            xytext=(9 * d[0], 9 * d[1]),
            textcoords="offset points",
            ha="left" if d[0] > 0.2 else ("right" if d[0] < -0.2 else "center"),
            va="bottom" if d[1] > 0.2 else ("top" if d[1] < -0.2 else "center"),
            fontsize=7.5,
            path_effects=HALO,
            zorder=5,
        )


def _network_legend(ax: Axes, max_width: float) -> None:
    """What the edge styles mean, below the axes."""
    handles = [
        Line2D(
            [],
            [],
            color="#777777",
            lw=max_width,
            alpha=0.45,
            label="tie to a power (width: strength)",
        ),
        Line2D([], [], color="#9A9A9A", lw=0.5, label="peers within a state"),
        Line2D([], [], color="#333333", lw=1.0, ls=(0, (4, 2)), label="cross-border link"),
        Line2D([], [], color="#777777", lw=1.0, ls=(0, (1, 1.5)), label="institution membership"),
    ]
    ax.legend(
        handles=handles,
        fontsize=7.5,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncols=2,
        frameon=False,
    )


def network_view(
    world: World,
    *,
    ax: Axes | None = None,
    state: str | None = None,
    labels: bool | None = None,
    max_width: float = 3.5,
) -> Axes:
    """The tie structure of a world, drawn on a schematic map.

    Nodes: factions (small circles in their faction colour, on a circle around their state's
    position), powers (squares in their colour), institutions (diamonds near their leader,
    in the leader's colour). Edges: faction-to-power ties (power colour, width proportional
    to the channel-weighted tie strength, `tie_strength`), intra-state peer ties (thin
    grey), cross-border links (dashed dark grey, width growing with the link weight) and
    institution memberships (dotted, leader colour; to the member state's centre or power).

    Parameters
    ----------
    world : World
    ax : matplotlib Axes, optional
    state : str, optional
        Draw only this state's factions (and the far ends of their links, in grey).
    labels : bool, optional
        Label the factions (default: when ``state`` is given).
    max_width : float
        Line width, in points, of the strongest tie.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax, created = _new_axes(ax, size=(8.0, 6.6) if state is None else (6.5, 6.0))
    if state is not None and state not in world.state_ids:
        raise KeyError(f"no state '{state}' (have {', '.join(world.state_ids)})")
    pos = network_layout(world, state=state)
    shown = [f for f in world.factions if state is None or f.state == state]
    _draw_ties(ax, world, pos, shown, max_width)
    _draw_peers(ax, world, pos, state)
    far = _draw_links(ax, world, pos, {f.id for f in shown}, whole=state is None)
    _draw_memberships(ax, world, pos, state)
    _draw_factions(ax, world, pos, shown, far, whole=state is None)
    _draw_powers_and_institutions(ax, world, pos)
    _draw_labels(ax, world, pos, shown, state, state is not None if labels is None else labels)
    ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale_view()
    ax.margins(0.08)
    _bare(ax)
    _network_legend(ax, max_width)
    if created:
        ax.set_title(
            f"Ties of {world.name}"
            + (f": {state}" if state else "")
            + " (schematic; positions approximate)",
            fontsize=10,
        )
    return ax
