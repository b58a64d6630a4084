"""The model's state for R replicates, and the door to its one compiled step.

Arrays carry a leading replicate axis ``(R, ...)``. The Mesa model drives an `Ensemble` with
R = 1; `influence_sim.simulate` drives it with R in the hundreds. Both go through
`Ensemble.advance`, which hands the arrays to the compiled step (`influence_sim.core.fused`):
every per-step update of the model, fused into one pass per replicate.

Notation (docs/ODD.md): F factions, P powers, S states, I institutions, C channels. Faction f's
row of the influence matrix W has weights on its peers (other factions of its state, each in
proportion to that faction's power share, plus explicit cross-border links), on each power p
(the pull: channel sensitivities x tie strengths x institutional multipliers x reputation, plus
patronage) and on the "autonomy" pole; the fixed actors' values are y_p = e_p and y_auto = 0.
The Friedkin–Johnsen update is ``x(t+1) = Λ W x~(t) + (I − Λ) x0`` where x~ stacks the factions'
scores on the fixed actors' values.

Randomness: each replicate has its own generator for dynamics noise, drawn only while that
replicate has unrest (one (F, P + 2) block of standard normals per step, in canonical id
order), so replicate k gives the same numbers alone or in a chunk of any size, in windows of
any length, and on any number of threads. Every decision in the step is taken per replicate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse import linalg as splinalg

from ..params import parameters
from . import fused
from .interventions import InterventionState, end_planned
from .world import FLOW_KINDS, REMITTANCES, World

__all__ = ["Ensemble", "InfluenceSystem", "per_step"]


def _sum_last(a: np.ndarray) -> np.ndarray:
    """Sum over a short last axis (the powers) by adding slices in order.

    numpy's reduction over a 2- or 3-wide axis costs ~20x more than adding the slices; the
    order of additions is the same (left to right).
    """
    out = a[..., 0].copy()
    for k in range(1, a.shape[-1]):
        out += a[..., k]
    return out


def per_step(rate_per_day: np.ndarray | float, dt: int) -> np.ndarray:
    """Convert a per-day relaxation or decay rate to a per-step rate for a step of dt days."""
    return 1.0 - (1.0 - np.asarray(rate_per_day, dtype=float)) ** dt


@dataclass(frozen=True)
class InfluenceSystem:
    """The Friedkin–Johnsen system of one replicate at one moment.

    Attributes
    ----------
    W : ndarray, shape (F, F + P + 1)
        Row-stochastic influence matrix; columns are the factions, then the powers, then the
        autonomy pole.
    fixed : ndarray, shape (P + 1, P)
        The fixed actors' values per power: the identity for the powers, zeros for autonomy.
    lam : ndarray, shape (F,)
        Susceptibility λ per faction.
    x0 : ndarray, shape (F, P)
        Prior (anchor) scores.
    """

    W: np.ndarray
    fixed: np.ndarray
    lam: np.ndarray
    x0: np.ndarray

    def steady_state(self) -> np.ndarray:
        """The closed form ``x* = (I − Λ W_ff)⁻¹ (Λ W_fo y_o + (I − Λ) x0)``."""
        n = len(self.lam)
        wff, wfo = self.W[:, :n], self.W[:, n:]
        lam = self.lam[:, None]
        rhs = lam * (wfo @ self.fixed) + (1 - lam) * self.x0
        return np.linalg.solve(np.eye(n) - lam * wff, rhs)


class Ensemble:
    """State arrays of R replicates of one world and the dynamics over them.

    Parameters
    ----------
    world : World
        The validated world.
    params : Mapping[str, float | str | ndarray]
        Resolved global parameters (defaults overridden by the scenario); a numeric one may
        be an array of R values, one per replicate.
    replicates : int
        R, the number of replicates.
    dt : int
        Step length in days (1 or 7).
    noise : Sequence[numpy.random.Generator]
        One generator per replicate for the dynamics noise.
    world_inputs : Mapping[str, ndarray], optional
        World numbers by path (`influence_sim.core.inputs`) with one value per replicate,
        written over the world's before anything is derived from them.
    """

    def __init__(
        self,
        world: World,
        params: Mapping[str, float | str | np.ndarray],
        replicates: int,
        dt: int,
        noise: Sequence[np.random.Generator],
        world_inputs: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        if len(noise) != replicates:
            raise ValueError("need one noise generator per replicate")
        self.world, self.R, self.dt, self.noise = world, replicates, dt, list(noise)
        self.t = 0
        R = replicates
        F, P, S = len(world.factions), len(world.powers), len(world.states)
        self.F, self.P, self.S = F, P, S
        self.state_of = world.faction_state
        # a parameter is one value for every replicate, or an array of one per replicate (a
        # design that varies it along the replicate axis)
        self.params: dict[str, np.ndarray] = {
            k: np.array(np.broadcast_to(np.asarray(v, dtype=float), (R,)))
            for k, v in params.items()
            if not isinstance(v, str)
        }
        self.choices = {k: v for k, v in params.items() if isinstance(v, str)}

        def rep1(a: Any) -> np.ndarray:
            return np.repeat(np.asarray(a, float)[None], R, axis=0)

        self.share = rep1(world.faction_array("share"))
        self.lam = rep1(world.faction_array("susceptibility"))
        self.legit = rep1(world.faction_array("legitimacy"))
        self.anchor = rep1(world.anchor)
        self.autonomy = rep1(world.state_array("autonomy"))
        self.ties = rep1(world.tie_array)
        #: reputation as each state perceives each power, (R, S, P)
        self.rep_base = rep1(np.tile([p.reputation for p in world.powers], (S, 1)))
        self.rep = self.rep_base.copy()
        #: threat perception of each state from each power, (R, S, P)
        self.threat = np.zeros((R, S, P))
        self.cred_base = rep1([i.credibility for i in world.institutions])
        self.cred = self.cred_base.copy()
        self.patronage = np.zeros((R, F, P))
        self.force = np.zeros((R, F))
        self.unrest = np.zeros((R, S))
        self.unrest_end = np.zeros((R, S), dtype=np.int64)
        self.interventions: dict[str, InterventionState] = {}
        self.intra, self.links = world.peer_matrices
        self.sens = world.sensitivity
        self.inst_lead, self.inst_chan, inst_memb = world.institution_arrays
        #: state membership of each institution per replicate (R, I, S); join/leave write it
        self.membership = rep1(inst_memb)
        #: whether each institution is established (R, I); `establish` sets it
        self.active = rep1(world.institution_active)
        # the economy: flows (R, S, P + 1, K) with the powers and the rest of the world, in
        # USD bn, their growth rates per year, and the economic ties they drive
        self.flows = rep1(world.flow_array)
        self.growth = np.zeros_like(self.flows)
        if world_inputs:
            from .inputs import apply_world_inputs

            apply_world_inputs(self, world_inputs)
        # the per-step growth factor and the replicates whose flows grow, recomputed when the
        # growth rates change (`growth_changed`)
        self._growth_factor = np.ones_like(self.flows)
        self._log_growth = np.zeros_like(self.flows)
        self._growing = np.zeros(R, dtype=np.bool_)
        self.econ = (
            world.channels.index(world.economic_channel)
            if world.economic_channel is not None
            else None
        )
        self.tie0 = self.ties[..., self.econ].copy() if self.econ is not None else None
        self.exposure_share0 = self.exposure_share()
        self.exposure = world.exposure_array
        self._inst_power = self.inst_lead.argmax(axis=1).astype(np.int64)
        self._inst_channel = self.inst_chan.argmax(axis=1).astype(np.int64)
        links = sparse.csr_array(self.links)
        links.sort_indices()
        self._links = (
            links.indptr.astype(np.int64),
            links.indices.astype(np.int64),
            links.data.astype(float),
        )
        self._state_of = np.ascontiguousarray(self.state_of, dtype=np.int64)
        # factions grouped by state, for segment sums over each state's factions
        self._by_state = np.argsort(self.state_of, kind="stable")
        self._state_starts = np.searchsorted(self.state_of[self._by_state], np.arange(S))
        # rank of each faction / power id in sorted order (canonical noise layout)
        self._canon_f = np.argsort(np.argsort(world.faction_ids)).astype(np.int64)
        self._canon_c = np.r_[np.argsort(np.argsort(world.power_ids)), P, P + 1].astype(np.int64)
        #: what the compiled step reads of the world's structure (`fused.STRUCTURE`)
        self._structure = (self._state_of, self.sens, self._inst_power, self._inst_channel,
                           *self._links, self._canon_f, self._canon_c)  # fmt: skip
        self.x = self.steady_state()
        self.alignment0 = self.alignment()
        #: roll calls recorded by `vote` events: event id -> stances (R, S), int8 codes into
        #: `events.STANCES`, -1 where the replicate did not vote or the state was not called
        self.votes: dict[str, np.ndarray] = {}

    # ---- structure ---------------------------------------------------------------------
    def _prm(self) -> np.ndarray:
        """The parameters the compiled step reads, packed as (R, len(fused.PARAMS))."""
        return np.ascontiguousarray(np.stack([self.params[k] for k in fused.PARAMS], axis=1))

    def _rows(self, hedged: bool) -> tuple[np.ndarray, np.ndarray]:
        pull = np.empty((self.R, self.F, self.P))
        auto = np.empty((self.R, self.F))
        fused.rows(
            self._state_of,
            self.sens,
            self._inst_power,
            self._inst_channel,
            self._prm(),
            self.ties,
            self.rep,
            self.threat,
            self.cred,
            self.patronage,
            self.membership,
            self.active,
            self.autonomy,
            hedged,
            pull,
            auto,
        )
        return pull, auto

    def pulls(self) -> np.ndarray:
        """Direct pull of each power on each faction before hedging, shape (R, F, P).

        pull_fp = pull_scale · rep_s(f)p · Σ_c sens_fc · tie_s(f)pc · (1 + gain · Σ_i cred_i
        [i led by p, on channel c, s(f) a member]) + patronage_fp.
        """
        return self._rows(hedged=False)[0]

    def peer_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """Peer influence on the scores (R, F, P) and total peer weight (R, F).

        Faction f hears faction g with weight (peer_weight · intra_fg + links_fg) · share_g,
        intra being 1 for every other faction of f's state (`World.peer_matrices`).
        """
        peer_x = np.empty((self.R, self.F, self.P))
        peer_mass = np.empty((self.R, self.F))
        ptr, idx, links = self._links
        fused.peers(
            self._state_of,
            self.S,
            ptr,
            idx,
            links,
            self._prm(),
            self.share,
            self.x,
            peer_x,
            peer_mass,
        )
        return peer_x, peer_mass

    def row_terms(self) -> tuple[np.ndarray, ...]:
        """Unnormalised row weights without noise: peer scores, peer mass, pulls, autonomy.

        Pulls and autonomy are after hedging: threatened states weight autonomy by (1 +
        hedging x T_s) and every power's pull by (1 + hedge_turn x (T_s − threat from that
        power)), T_s being the state's total threat.
        """
        peer_x, peer_mass = self.peer_terms()
        pull, auto = self._rows(hedged=True)
        return peer_x, peer_mass, pull, auto

    def influence_system(self, r: int = 0) -> InfluenceSystem:
        """The current (noise-free) Friedkin–Johnsen system of replicate ``r``."""
        P = self.P
        intra = self.intra.toarray() * self.params["peer_weight"][r]
        w_peer = (intra + self.links.toarray()) * self.share[r][None, :]
        pulls, autos = self._rows(hedged=True)
        pull, auto = pulls[r], autos[r]
        raw = np.concatenate([w_peer, pull, auto[:, None]], axis=1)
        W = raw / raw.sum(axis=1, keepdims=True)
        fixed = np.vstack([np.eye(P), np.zeros((1, P))])
        return InfluenceSystem(W=W, fixed=fixed, lam=self.lam[r].copy(), x0=self.anchor[r].copy())

    def steady_state(self) -> np.ndarray:
        """Fixed point of the current noise-free dynamics for every replicate, (R, F, P).

        Small worlds (up to `DENSE_SOLVE_MAX` factions) are solved as dense systems, many
        replicates per LAPACK call (each system is factorised on its own, so a replicate's
        numbers do not depend on the others); larger ones with a sparse solver per replicate,
        direct or BiCGSTAB (`_solve`). While all replicates share one state (at the start of
        an ordinary run), one solve serves them all.
        """
        pull, auto = self._rows(hedged=True)
        pw = self.params["peer_weight"]
        same = all(
            bool((a == a[:1]).all()) for a in (self.share, self.lam, self.anchor, pull, auto)
        ) and bool(np.all(pw == pw[0]))
        rows = np.arange(1) if same else np.arange(self.R)
        if self.F <= DENSE_SOLVE_MAX:
            solved = self._dense_steady(rows, pull, auto)
        else:
            solved = np.empty((len(rows), self.F, self.P))
            for j, r in enumerate(rows):
                peer = self.intra * pw[r] + self.links
                wpeer = (peer @ sparse.diags_array(self.share[r])).tocsr()
                total = wpeer.sum(axis=1) + pull[r].sum(axis=1) + auto[r]
                lam = self.lam[r]
                a_mat = sparse.eye_array(self.F) - sparse.diags_array(lam / total) @ wpeer
                rhs = (lam / total)[:, None] * pull[r] + (1 - lam)[:, None] * self.anchor[r]
                solved[j] = _solve(a_mat.tocsr(), rhs, guess=self.anchor[r])
        if same:
            return np.repeat(solved, self.R, axis=0)
        return solved

    def _dense_steady(self, rows: np.ndarray, pull: np.ndarray, auto: np.ndarray) -> np.ndarray:
        """The steady state of replicates ``rows`` as dense systems, in blocks, (n, F, P)."""
        F = self.F
        intra, links = self.intra.toarray(), self.links.toarray()
        pw = self.params["peer_weight"]
        out = np.empty((len(rows), F, self.P))
        block = max(1, DENSE_BLOCK // (F * F))
        for a in range(0, len(rows), block):
            r = rows[a : a + block]
            wpeer = (pw[r, None, None] * intra + links) * self.share[r][:, None, :]
            total = wpeer.sum(axis=2) + _sum_last(pull[r]) + auto[r]
            lam = self.lam[r]
            scale = lam / total
            a_mat = np.eye(F) - scale[:, :, None] * wpeer
            rhs = scale[:, :, None] * pull[r] + (1 - lam)[:, :, None] * self.anchor[r]
            out[a : a + block] = np.linalg.solve(a_mat, rhs)
        return out

    # ---- dynamics ----------------------------------------------------------------------
    def step(self) -> None:
        """Advance every replicate by one step (events for this step are already applied)."""
        self.advance(1)

    def advance(self, n: int) -> None:
        """Advance every replicate by ``n`` steps with no events in between.

        The compiled step (`influence_sim.core.fused`) runs windows of steps; a window ends
        where a planned intervention ends (`end_planned` runs between windows) and is cut so
        that its pre-drawn noise stays under `NOISE_BLOCK` numbers. The noise of a replicate
        in unrest is drawn from its own generator, one (F, P + 2) block of standard normals
        per step in unrest, so the numbers are the same whatever the window.
        """
        F, P = self.F, self.P
        counts = np.zeros(self.R, dtype=np.int64)
        prm = self._prm()
        tie0 = self.tie0 if self.tie0 is not None else np.zeros((self.R, self.S, P))
        econ = -1 if self.econ is None else self.econ
        state = (self.x, self.share, self.lam, self.legit, self.anchor, self.autonomy, self.ties,
                 self.rep, self.rep_base, self.threat, self.cred, self.cred_base, self.patronage,
                 self.force, self.unrest, self.unrest_end, self.membership, self.active,
                 self.flows, self._growth_factor, self._log_growth, self._growing, tie0,
                 self.exposure_share0, self.alignment0)  # fused.STATE  # fmt: skip
        left = n
        while left > 0:
            window = min(left, self._next_planned_end() - self.t)
            fused.noise_counts(window, self.t, self._state_of, self.unrest, self.unrest_end, counts)
            per_step = int(np.count_nonzero(counts)) * F * (P + 2)
            if per_step and window > 1 and int(counts.sum()) * F * (P + 2) > NOISE_BLOCK:
                window = max(1, NOISE_BLOCK // per_step)
                fused.noise_counts(
                    window, self.t, self._state_of, self.unrest, self.unrest_end, counts
                )
            z = np.empty((int(counts.sum()), F, P + 2))
            offsets = np.zeros(self.R, dtype=np.int64)
            np.cumsum(counts[:-1], out=offsets[1:])
            for r, at, k in zip(*np.nonzero(counts), offsets[counts > 0].tolist(),
                                counts[counts > 0].tolist(), strict=True):  # fmt: skip
                self.noise[r].standard_normal(out=z[at : at + k])
            used = np.zeros(self.R, dtype=np.int64)
            fused.advance(
                window,
                self.t,
                self.dt,
                econ,
                REMITTANCES,
                self._structure,
                prm,
                state,
                z,
                offsets,
                used,
            )
            if not np.array_equal(used, counts):  # pragma: no cover - a kernel bug
                raise RuntimeError("the step used other noise than was drawn for it")
            self.t += window
            left -= window
            end_planned(self)

    def _next_planned_end(self) -> int:
        """The next step at which an active intervention's planned duration ends."""
        ends = [
            int(iv.end[iv.active & (iv.end > self.t)].min())
            for iv in self.interventions.values()
            if (iv.active & (iv.end > self.t)).any()
        ]
        return min(ends, default=np.iinfo(np.int64).max)

    # ---- the economy -------------------------------------------------------------------
    def growth_changed(self) -> None:
        """Events call this after writing growth rates: the per-step factor is recomputed."""
        self._log_growth = np.log1p(self.growth)
        self._growth_factor = np.exp(self._log_growth * (self.dt / 365.0))
        self._growing = self.growth.reshape(self.R, -1).any(axis=1)

    def exposure_share(self) -> np.ndarray:
        """Each power's share of the state's external economic exposure, (R, S, P).

        X_sp = Σ_k flow_spk / Σ_q Σ_k flow_sqk over all partners q (the powers and the rest
        of the world); 0 where a state has no flows.
        """
        out = np.empty((self.R, self.S, self.P))
        fused.exposure(self.flows, out)
        return out

    def flows_changed(self) -> None:
        """Set the economic ties from the flows.

        tie = tie_2021 x (X / X_2021) ^ flow_tie_elasticity, capped at 1 (unchanged where
        X_2021 = 0, and left as they are in the replicates whose elasticity is 0); X is
        `exposure_share`. Each replicate's ties are a function of its own state only.
        """
        if self.econ is None or self.tie0 is None:
            return
        fused.econ_ties(
            self.econ, self._prm(), self.flows, self.tie0, self.exposure_share0, self.ties
        )

    def _econ_ratio(self) -> np.ndarray:
        """(X / X_2021) ^ flow_tie_elasticity per state and power, (R, S, P)."""
        eta = self.params["flow_tie_elasticity"]
        x0 = self.exposure_share0
        ratio = np.where(x0 > 0, self.exposure_share() / np.where(x0 > 0, x0, 1.0), 1.0)
        out: np.ndarray = ratio ** eta[:, None, None]
        return out

    def rebase_econ(self, state: int, m: np.ndarray) -> None:
        """Make state ``state``'s economic ties the new base of the flow rule where ``m``.

        Called after an event wrote them directly in the replicates ``m`` (R,), so later flow
        changes move them from there. The ties are then recomputed from the new base in those
        replicates, so they are exactly what the rule gives until their inputs change.
        """
        if self.econ is None or self.tie0 is None:
            return
        ratio = self._econ_ratio()[:, state]
        base = self.ties[:, state, :, self.econ] / np.where(ratio > 0, ratio, 1.0)
        self.tie0[:, state] = np.where(m[:, None], base, self.tie0[:, state])
        follow = (m & (self.params["flow_tie_elasticity"] > 0))[:, None]
        rule = np.minimum(self.tie0[:, state] * ratio, 1.0)
        self.ties[:, state, :, self.econ] = np.where(
            follow, rule, self.ties[:, state, :, self.econ]
        )

    def shift_tie(
        self, states: np.ndarray, power: int, channel: int, delta: np.ndarray, m: np.ndarray
    ) -> None:
        """Change the ties of ``states`` to ``power`` on ``channel`` by ``delta`` where ``m``.

        The ties stay in [0, 1]; a change of the economic channel rebases the flow rule in
        the replicates ``m`` (R,).
        """
        cur = self.ties[:, states, power, channel]
        step = np.where(m, delta, 0.0)[:, None]
        self.ties[:, states, power, channel] = np.where(
            m[:, None], np.clip(cur + step, 0.0, 1.0), cur
        )
        if channel == self.econ:
            for s in np.atleast_1d(states):
                self.rebase_econ(int(s), m)

    def autonomy_share(self) -> np.ndarray:
        """Weight the state's factions give to no power (the autonomy pole), (R, S).

        The power-share-weighted mean over its factions of autonomy / row total, hedging
        included and noise left out.
        """
        _, peer_mass, pull, auto = self.row_terms()
        total = peer_mass + _sum_last(pull) + auto
        return self.state_sum(self.share * (auto / total))

    def share_of(self, kind: str) -> np.ndarray:
        """Each power's share of the state's flow ``kind`` with all partners, (R, S, P)."""
        k = FLOW_KINDS.index(kind)
        flow = self.flows[..., k]
        total = flow.sum(axis=-1, keepdims=True)
        out: np.ndarray = np.where(total > 0, flow[:, :, : self.P] / np.maximum(total, 1e-300), 0.0)
        return out

    def hedging_weight(self) -> np.ndarray:
        """Each state's autonomy weight after hedging, (R, S)."""
        if not self.threat.any():
            return self.autonomy.copy()
        out: np.ndarray = self.autonomy * (
            1.0 + self.params["hedging"][:, None] * _sum_last(self.threat)
        )
        return out

    def reach(self, state: int | None, power: int) -> np.ndarray:
        """How strongly each state perceives an act, (R, S), by ``perception_locality``.

        An act in ``state`` reaches state t with weight 1 − locality · (1 − closeness), the
        closeness being the states' institutional co-membership (`World.comembership`); an
        act with no state (``state`` None) reaches t with 1 − locality · (1 − exposure of t
        to ``power``). At locality 0 every weight is exactly 1.
        """
        near = self.world.comembership[state] if state is not None else self.exposure[:, power]
        out: np.ndarray = 1.0 - self.params["perception_locality"][:, None] * (1.0 - near)
        return out

    def region_reputation(self) -> np.ndarray:
        """Each power's reputation across the region, (R, P).

        The region-weighted mean of the states' perceptions, written as the first state's
        value plus weighted departures from it, so it is exactly the common value while
        every state perceives alike.
        """
        first = self.rep[:, 0, :]
        dev = self.rep - first[:, None, :]
        if not dev.any():
            return first.copy()
        out: np.ndarray = first + np.einsum("rsp,s->rp", dev, self.region_weights())
        return out

    def per_faction(self, a: np.ndarray) -> np.ndarray:
        """Spread a per-state array (R, S, ...) to the factions, (R, F, ...).

        `numpy.take` along the state axis: the same values as ``a[:, state_of]``, at a small
        fraction of the cost of fancy indexing on the hot path.
        """
        return np.take(a, self.state_of, axis=1)

    def state_sum(self, a: np.ndarray) -> np.ndarray:
        """Sum a per-faction array (R, F) over each state's factions, giving (R, S)."""
        return np.add.reduceat(a[:, self._by_state], self._state_starts, axis=1)

    # ---- outcome measures ----------------------------------------------------------------
    def alignment(self) -> np.ndarray:
        """State alignment toward each power: power-weighted mean of scores, (R, S, P)."""
        out = np.empty((self.R, self.S, self.P))
        fused.alignment(self._state_of, self.share, self.x, out)
        return out

    def approval(self, alignment: np.ndarray | None = None) -> np.ndarray:
        """Poll approval of each power's leadership in each state, (R, S, P), in [0, 1].

        A logistic function of what the state's public thinks of the power and how the state
        perceives it: approval = 1 / (1 + exp(-slope x (x_public,p x r_sp - midpoint))),
        ``approval_slope`` and ``approval_midpoint`` being observation parameters. A state
        without a public faction (`World.public_faction`) uses its alignment instead of the
        public's score.
        """
        al = self.alignment() if alignment is None else alignment
        pub = self.world.public_faction
        score = np.where((pub >= 0)[None, :, None], self.x[:, np.maximum(pub, 0), :], al)
        z = score * self.rep - self.params["approval_midpoint"][:, None, None]
        out: np.ndarray = 1.0 / (1.0 + np.exp(-self.params["approval_slope"][:, None, None] * z))
        return out

    def elite_alignment(self, alignment: np.ndarray | None = None) -> np.ndarray:
        """Alignment of each state's elite toward each power, (R, S, P).

        The power-share-weighted mean score of the factions other than the public (the
        ruling coalition and its rivals); a state with no faction besides its public (or no
        elite share) uses its alignment.
        """
        al = self.alignment() if alignment is None else alignment
        elite = np.ones(self.F)
        pub = self.world.public_faction
        elite[pub[pub >= 0]] = 0.0
        w = self.share * elite
        mass = self.state_sum(w)  # (R, S)
        weighted = w[:, :, None] * self.x
        sums = np.stack([self.state_sum(weighted[:, :, p]) for p in range(self.P)], axis=2)
        out: np.ndarray = np.where(
            mass[:, :, None] > 0, sums / np.where(mass > 0, mass, 1.0)[:, :, None], al
        )
        return out

    def region_weights(self) -> np.ndarray:
        """Weights of the states in the regional aggregate, (S,), summing to 1."""
        w = self.world.state_array(self.choices.get("region_weight", "population"))
        out: np.ndarray = w / w.sum()
        return out

    def balance(self, alignment: np.ndarray | None = None) -> np.ndarray:
        """Balance per state and for the region (last column), (R, S + 1)."""
        al = self.alignment() if alignment is None else alignment
        a, b = (self.world.index[p] for p in self.world.balance)
        per_state = al[:, :, a] - al[:, :, b]
        region = per_state @ self.region_weights()
        return np.concatenate([per_state, region[:, None]], axis=1)

    def corridor(self, alignment: np.ndarray | None = None) -> np.ndarray:
        """Corridor index: the corridor power's alignment weighted by corridor length, (R,)."""
        al = self.alignment() if alignment is None else alignment
        km = self.world.state_array("corridor_km")
        if km.sum() == 0:
            return np.full(self.R, np.nan)
        out: np.ndarray = al[:, :, self.world.index[self.world.corridor_power]] @ (km / km.sum())
        return out


#: Most standard normals pre-drawn for one window of the compiled step (32 MiB).
NOISE_BLOCK = 1 << 22


#: Worlds up to this many factions solve the steady state as dense systems.
DENSE_SOLVE_MAX = 64
#: Elements of the dense matrices solved at once (replicates x F x F), bounding the memory.
DENSE_BLOCK = 1 << 20
#: Worlds up to this many factions use a direct sparse solve; larger ones an iterative one.
DIRECT_SOLVE_MAX = 4000


def _solve(a_mat: sparse.csr_array, rhs: np.ndarray, *, guess: np.ndarray) -> np.ndarray:
    """Solve ``a_mat @ x = rhs`` for (F, P) right-hand sides.

    ``a_mat = I - Λ W_ff`` is a strictly row-diagonally dominant M-matrix (every faction keeps
    a positive weight on fixed actors), so BiCGSTAB converges; small systems are solved
    directly (SuperLU), where fill-in is cheap. The iterative answer is checked against the
    residual and replaced by a direct solve if it falls short.
    """
    n = a_mat.shape[0]
    if n <= DIRECT_SOLVE_MAX:
        direct: np.ndarray = splinalg.spsolve(a_mat.tocsc(), rhs).reshape(n, -1)
        return direct
    out = np.empty_like(rhs)
    for j in range(rhs.shape[1]):
        x, info = splinalg.bicgstab(
            a_mat, rhs[:, j], x0=guess[:, j], rtol=1e-13, atol=0.0, maxiter=10 * n
        )
        resid = np.abs(a_mat @ x - rhs[:, j]).max()
        if info != 0 or resid > 1e-11:  # pragma: no cover - safety net
            x = splinalg.spsolve(a_mat.tocsc(), rhs[:, j])
        out[:, j] = x
    return out


def default_params() -> dict[str, float | str]:
    """The documented defaults of every global parameter."""
    return {k: p.default for k, p in parameters().items()}
