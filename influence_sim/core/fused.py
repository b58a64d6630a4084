"""The compiled step: every per-step update of the model, fused, replicate by replicate.

This module is the one implementation of the model's dynamics (docs/ODD.md, sections 3 and
7). `Ensemble.advance` hands it the ensemble's arrays; it runs ``n`` steps of every replicate,
each replicate on its own (a replicate's numbers never depend on the others of its chunk), in
this order per step (`_replicate`):

1. whether the replicate is in unrest; if so it reads its next block of dynamics noise
   (pre-drawn by the caller, one (F, P + 2) block of standard normals per step in unrest,
   read in canonical id order);
2. a pass over the factions: each state's total voice (share x score, for the peer terms) and
   each faction's log gain in the share contest (replicator drift from legitimacy under
   unrest, force and patronage, plus contest noise);
3. a pass over the factions: each faction's row of the influence matrix (`_pull`: channels,
   institutions, reputation, patronage, hedging under threat; the noise multipliers; `_peer`:
   the state's total voice less its own, plus its links) and the Friedkin–Johnsen update;
4. the share contest's exponentials, in the states where some faction's log gain is not 0;
5. a pass over the factions: the new scores and shares, patronage decay, anchor learning;
6. relaxation of reputation and credibility, threat decay;
7. the economy: flows grow (by their rates and, with ``trade_alignment_elasticity``, the
   change in alignment), and the economic ties follow the flows;
8. time passes: unrest ends where its end is due.

Compiled with numba (``cache=True``: the machine code is written beside this file, or to
numba's user cache if that is not writable, and loaded on later runs). The serial kernel is
the default; `set_threads` (or ``INFLUENCE_SIM_THREADS``) runs replicates on several threads
with ``prange``, which changes no number (replicates are independent), and is meant for one
process on a machine, not for process pools or Dask workers, which keep one thread each.

Parameters are passed as one (R, len(PARAMS)) array, in the order of `PARAMS`.
"""

from __future__ import annotations

import math
import os

import numba
import numpy as np
from numba import njit, prange

from ..errors import ArgumentError

__all__ = [
    "PARAMS",
    "advance",
    "alignment",
    "econ_ties",
    "exposure",
    "noise_counts",
    "peers",
    "rows",
    "set_threads",
    "threads",
]

#: The global parameters the step reads, in the column order of the packed array.
PARAMS = (
    "peer_weight",
    "pull_scale",
    "institution_gain",
    "patronage_decay",
    "reputation_relaxation",
    "credibility_relaxation",
    "anchor_learning",
    "threat_decay",
    "hedging",
    "hedge_turn",
    "flow_tie_elasticity",
    "trade_alignment_elasticity",
    "legitimacy_weight",
    "force_weight",
    "patronage_drift",
    "contest_noise",
    "pull_noise",
)
(
    PW,
    PULL_SCALE,
    GAIN,
    PAT_DECAY,
    REP_RELAX,
    CRED_RELAX,
    LEARN,
    THREAT_DECAY,
    HEDGING,
    HEDGE_TURN,
    ETA,
    EPS,
    LEGIT_W,
    FORCE_W,
    PAT_DRIFT,
    CONTEST,
    PULL_NOISE,
) = range(len(PARAMS))

#: Threads the step runs on; None until first asked (then from ``INFLUENCE_SIM_THREADS``).
_threads: int | None = None

#: What the step reads of the world's structure, in the order of its tuple.
STRUCTURE = ("state_of", "sens", "inst_p", "inst_c", "ptr", "idx", "links", "canon_f", "canon_c")
#: The ensemble's arrays the step reads and writes, in the order of its tuple (gfac, lgrowth,
#: growing: the per-step growth factor, log growth rates and which replicates' flows grow;
#: tie0, expo0, align0: the flow rule's base ties, base exposure and the start's alignment).
STATE = (
    "x", "share", "lam", "legit", "anchor", "autonomy", "ties", "rep", "rep_base", "threat",
    "cred", "cred_base", "patronage", "force", "unrest", "unrest_end", "membership", "active",
    "flows", "gfac", "lgrowth", "growing", "tie0", "expo0", "align0",
)  # fmt: skip


def set_threads(n: int) -> None:
    """Run the step on ``n`` threads (``prange`` over replicates); 1, the default, is serial.

    The results do not depend on it. Leave it at 1 in process pools and Dask workers. More
    threads than numba has (``NUMBA_NUM_THREADS``, the machine's cores) are capped there.
    """
    global _threads
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ArgumentError(f"threads must be a whole number >= 1, got {n!r}", argument="threads")
    _threads = min(int(n), numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]


def threads() -> int:
    """The number of threads the step runs on (``INFLUENCE_SIM_THREADS`` sets the default)."""
    if _threads is None:
        text = os.environ.get("INFLUENCE_SIM_THREADS", "").strip() or "1"
        if not text.isdigit() or int(text) < 1:
            raise ArgumentError(
                f"the environment variable must be a whole number >= 1 (or unset), got {text!r}",
                argument="INFLUENCE_SIM_THREADS",
            )
        set_threads(int(text))
    assert _threads is not None
    return _threads


@njit(cache=True, error_model="numpy")
def _per_step(rate: float, dt: int) -> float:
    return 1.0 - (1.0 - rate) ** dt


@njit(cache=True, error_model="numpy")
def _channels(r, state_of, sens, inst_p, inst_c, ties, membership, active, base, via):
    """Replicate r's channel strengths, which change only with ties and memberships.

    base_fp = Σ_c sens_fc tie_s(f)pc (F, P); via_if = member_i(s(f)) · sens_f,c(i) ·
    tie_s(f),p(i),c(i) for institution i led by p(i) on channel c(i) (I, F).
    """
    F, P = base.shape
    C = sens.shape[1]
    for f in range(F):
        s = state_of[f]
        for p in range(P):
            b = 0.0
            for c in range(C):
                b += ties[r, s, p, c] * sens[f, c]
            base[f, p] = b
        for i in range(inst_p.shape[0]):
            member = membership[r, i, s] * active[r, i]
            via[i, f] = member * sens[f, inst_c[i]] * ties[r, s, inst_p[i], inst_c[i]]


@njit(cache=True, error_model="numpy", inline="always")
def _state_terms(r, prm, rep, threat, autonomy, cred, hedged, scale_sp, turn_sp, auto_s, inst_w):
    """Replicate r's per-state factors of the rows, and each institution's weight.

    scale_sp = pull_scale · rep_sp (S, P); with ``hedged``, turn_sp = 1 + hedge_turn (T_s −
    threat_sp) and auto_s = autonomy_s (1 + hedging T_s), T_s being the state's total threat
    (else 1 and autonomy_s); inst_w_i = institution_gain · cred_i (I,).
    """
    S, P = scale_sp.shape
    for s in range(S):
        total = 0.0
        for p in range(P):
            total += threat[r, s, p]
        auto_s[s] = autonomy[r, s] * (1.0 + prm[r, HEDGING] * total) if hedged else autonomy[r, s]
        for p in range(P):
            scale_sp[s, p] = prm[r, PULL_SCALE] * rep[r, s, p]
            turn_sp[s, p] = 1.0 + prm[r, HEDGE_TURN] * (total - threat[r, s, p]) if hedged else 1.0
    for i in range(inst_w.shape[0]):
        inst_w[i] = prm[r, GAIN] * cred[r, i]


@njit(cache=True, error_model="numpy", inline="always")
def _pull(r, f, s, inst_p, base, via, patronage, scale_sp, turn_sp, inst_w, out):
    """Pull of each power on faction f of state s (P,) into ``out``.

    pull_fp = (pull_scale · rep_sp · (base_fp + Σ_i gain cred_i via_if [i led by p]) +
    patronage_fp) · turn_sp.
    """
    P = out.shape[0]
    for p in range(P):
        out[p] = base[f, p]
    for i in range(inst_p.shape[0]):
        out[inst_p[i]] += inst_w[i] * via[i, f]
    for p in range(P):
        out[p] = (out[p] * scale_sp[s, p] + patronage[r, f, p]) * turn_sp[s, p]


@njit(cache=True, error_model="numpy", inline="always")
def _voices(r, f, s, share, x, voiced, state_x, state_mass):
    """Add faction f's voice share_f x_fp to its state's totals (``voiced`` keeps it)."""
    state_mass[s] += share[r, f]
    for p in range(voiced.shape[1]):
        voiced[f, p] = share[r, f] * x[r, f, p]
        state_x[s, p] += voiced[f, p]


@njit(cache=True, error_model="numpy", inline="always")
def _peer(r, f, s, pw, ptr, idx, links, share, voiced, state_x, state_mass, out):
    """Peer terms of faction f: Σ_g w_fg share_g x_gp (P,) into ``out``; returns Σ_g w_fg share_g.

    w = peer_weight · intra + links. The intra-state part is every other faction of f's state
    with weight 1 (`World.peer_matrices`), so it is the state's total (`_voices`) less f's own
    term; the links are a CSR matrix (``ptr``, ``idx``, ``links``).
    """
    mass = pw * (state_mass[s] - share[r, f])
    for p in range(out.shape[0]):
        out[p] = pw * (state_x[s, p] - voiced[f, p])
    for jj in range(ptr[f], ptr[f + 1]):
        g = idx[jj]
        w = links[jj]
        mass += w * share[r, g]
        for p in range(out.shape[0]):
            out[p] += w * voiced[g, p]
    return mass


@njit(cache=True, error_model="numpy")
def _alignment(r, state_of, share, x, out):
    """Replicate r's alignment (S, P): each state's power-share-weighted sum of scores."""
    P = out.shape[1]
    out[:] = 0.0
    for f in range(state_of.shape[0]):
        s = state_of[f]
        for p in range(P):
            out[s, p] += share[r, f] * x[r, f, p]


@njit(cache=True, error_model="numpy")
def _exposure(r, flows, out):
    """Replicate r's exposure shares (S, P): each power's share of the state's flows."""
    S, P = out.shape
    Q, K = flows.shape[2], flows.shape[3]
    for s in range(S):
        total = 0.0
        for q in range(Q):
            for k in range(K):
                total += flows[r, s, q, k]
        for p in range(P):
            if total > 0:
                mine = 0.0
                for k in range(K):
                    mine += flows[r, s, p, k]
                out[s, p] = mine / total
            else:
                out[s, p] = 0.0


@njit(cache=True, error_model="numpy")
def _econ_ties(r, econ, prm, flows, tie0, expo0, ties, scratch):
    """Set replicate r's economic ties from its flows: min(tie0 (X / X0) ^ η, 1)."""
    _exposure(r, flows, scratch)
    S, P = scratch.shape
    eta = prm[r, ETA]
    for s in range(S):
        for p in range(P):
            x0 = expo0[r, s, p]
            ratio = scratch[s, p] / x0 if x0 > 0 else 1.0
            ties[r, s, p, econ] = min(tie0[r, s, p] * ratio**eta, 1.0)


@njit(cache=True, error_model="numpy")
def _scratch(state_of, F, P, S, n_inst):
    """Work arrays of `_replicate`, allocated once per call of the serial kernel."""
    flags = np.zeros((2, S), np.bool_)
    for f in range(F):
        flags[1, state_of[f]] = True  # the states that have factions
    return (
        np.empty((3, F, P)),
        np.empty((5, S, P)),
        np.empty((4, S)),
        np.empty((n_inst, F)),
        np.empty(n_inst),
        np.empty((2, P)),
        np.empty(F),
        flags,
    )


@njit(cache=True, error_model="numpy")
def _replicate(r, n, t0, dt, econ, remit, structure, prm, state, z, z_off, scratch):
    """Run replicate r for n steps from step t0; return the noise blocks it used.

    ``structure`` and ``state`` are the tuples `STRUCTURE` and `STATE` name; ``scratch`` is
    `_scratch`'s work arrays.
    """
    state_of, sens, inst_p, inst_c, ptr, idx, links, canon_f, canon_c = structure
    (x, share, lam, legit, anchor, autonomy, ties, rep, rep_base, threat, cred, cred_base,
     patronage, force, unrest, unrest_end, membership, active, flows, gfac, lgrowth, growing,
     tie0, expo0, align0) = state  # fmt: skip
    F, P = x.shape[1], x.shape[2]
    S = unrest.shape[1]
    Q, K = flows.shape[2], flows.shape[3]
    fp, sp, s1, via, inst_w, p2, log_gain, flags = scratch
    base, voiced, x_new = fp[0], fp[1], fp[2]
    scale_sp, turn_sp, state_x, al, expo = sp[0], sp[1], sp[2], sp[3], sp[4]
    auto_s, state_mass, shift, mass = s1[0], s1[1], s1[2], s1[3]
    pull, peer_x = p2[0], p2[1]
    moves, has_faction = flags[0], flags[1]
    _channels(r, state_of, sens, inst_p, inst_c, ties, membership, active, base, via)
    sqrt_dt = math.sqrt(dt)
    rep_rate = _per_step(prm[r, REP_RELAX], dt)
    cred_rate = _per_step(prm[r, CRED_RELAX], dt)
    pat_keep = 1.0 - _per_step(prm[r, PAT_DECAY], dt)
    learn = _per_step(prm[r, LEARN], dt)
    threat_keep = 1.0 - _per_step(prm[r, THREAT_DECAY], dt)
    eps = prm[r, EPS]
    pw = prm[r, PW]
    used = 0
    for j in range(n):
        t = t0 + j
        # 1. noise: a replicate is in unrest while any state with factions is
        in_unrest = False
        for s in range(S):
            if has_faction[s] and unrest[r, s] > 0:
                in_unrest = True
        zb = z_off[r] + used
        if in_unrest:
            used += 1
        _state_terms(r, prm, rep, threat, autonomy, cred, True, scale_sp, turn_sp, auto_s, inst_w)
        # 2. the states' voices, and each faction's log gain in the share
        # contest (replicator drift from legitimacy under unrest, force and patronage, and
        # contest noise); a state's shares move where some faction's log gain is not 0
        for s in range(S):
            state_x[s, :] = 0.0
            state_mass[s] = 0.0
            moves[s] = False
            shift[s] = -np.inf
            mass[s] = 0.0
        for f in range(F):
            s = state_of[f]
            _voices(r, f, s, share, x, voiced, state_x, state_mass)
            u = unrest[r, s]
            pat = 0.0
            for p in range(P):
                pat += patronage[r, f, p]
            fit = (
                prm[r, LEGIT_W] * u * legit[r, f]
                + prm[r, FORCE_W] * force[r, f]
                + prm[r, PAT_DRIFT] * pat
            )
            g = fit * dt
            if in_unrest:
                g += (prm[r, CONTEST] * u * sqrt_dt) * z[zb, canon_f[f], canon_c[P + 1]]
            log_gain[f] = g
            shift[s] = max(shift[s], g)
            if g != 0.0:
                moves[s] = True
        # 3. the Friedkin–Johnsen update: each faction's row (pulls, autonomy, noise, peers)
        for f in range(F):
            s = state_of[f]
            _pull(r, f, s, inst_p, base, via, patronage, scale_sp, turn_sp, inst_w, pull)
            a = auto_s[s]
            if in_unrest:
                sd = prm[r, PULL_NOISE] * unrest[r, s]
                zf = canon_f[f]
                for p in range(P):
                    pull[p] *= math.exp(sd * z[zb, zf, canon_c[p]] - 0.5 * sd * sd)
                a *= math.exp(sd * z[zb, zf, canon_c[P]] - 0.5 * sd * sd)
            total = _peer(r, f, s, pw, ptr, idx, links, share, voiced, state_x, state_mass, peer_x)
            sum_pull = 0.0
            for p in range(P):
                sum_pull += pull[p]
            total = total + sum_pull + a
            lam_f = lam[r, f]
            weight = lam_f / total
            for p in range(P):
                x_new[f, p] = weight * (peer_x[p] + pull[p]) + (1.0 - lam_f) * anchor[r, f, p]
        # 4. power shares, in the states that move
        for f in range(F):
            s = state_of[f]
            if moves[s]:
                d = log_gain[f] - shift[s]
                log_gain[f] = share[r, f] * (math.exp(d) if d != 0.0 else 1.0)
                mass[s] += log_gain[f]
        # 5. new scores and shares; patronage decays; priors learn
        for f in range(F):
            s = state_of[f]
            if moves[s]:
                share[r, f] = log_gain[f] / mass[s]
            for p in range(P):
                x[r, f, p] = x_new[f, p]
                patronage[r, f, p] *= pat_keep
                if learn != 0.0:
                    anchor[r, f, p] += learn * (x_new[f, p] - anchor[r, f, p])
        # 6. reputation and credibility relax; threat fades
        for s in range(S):
            for p in range(P):
                rep[r, s, p] += rep_rate * (rep_base[r, s, p] - rep[r, s, p])
                threat[r, s, p] *= threat_keep
        for i in range(cred.shape[1]):
            cred[r, i] += cred_rate * (cred_base[r, i] - cred[r, i])
        # 7. the economy
        grown = False
        if eps != 0.0:
            nonzero = False
            for s in range(S):
                for q in range(Q):
                    for k in range(K):
                        if flows[r, s, q, k] != 0.0:
                            nonzero = True
            if nonzero:
                _alignment(r, state_of, share, x, al)
                for s in range(S):
                    for q in range(Q):
                        for k in range(K):
                            rate = lgrowth[r, s, q, k]
                            if q < P and k != remit:
                                rate += eps * (al[s, q] - align0[r, s, q])
                            flows[r, s, q, k] *= math.exp(rate * (dt / 365.0))
                grown = True
        if not grown and growing[r]:
            for s in range(S):
                for q in range(Q):
                    for k in range(K):
                        flows[r, s, q, k] *= gfac[r, s, q, k]
            grown = True
        if grown and econ >= 0 and prm[r, ETA] > 0:
            _econ_ties(r, econ, prm, flows, tie0, expo0, ties, expo)
            _channels(r, state_of, sens, inst_p, inst_c, ties, membership, active, base, via)
        # 8. time passes: unrest ends
        for s in range(S):
            if unrest_end[r, s] <= t + 1:
                unrest[r, s] = 0.0
    return used


@njit(cache=True, error_model="numpy")
def _advance_serial(n, t0, dt, econ, remit, structure, prm, state, z, z_off, used):
    x, unrest = state[0], state[14]
    scratch = _scratch(structure[0], x.shape[1], x.shape[2], unrest.shape[1], len(structure[2]))
    for r in range(x.shape[0]):
        used[r] = _replicate(r, n, t0, dt, econ, remit, structure, prm, state, z, z_off, scratch)


@njit(cache=True, parallel=True, error_model="numpy")
def _advance_parallel(n, t0, dt, econ, remit, structure, prm, state, z, z_off, used):
    x, unrest = state[0], state[14]
    F, P, S, n_inst = x.shape[1], x.shape[2], unrest.shape[1], len(structure[2])
    for r in prange(x.shape[0]):
        scratch = _scratch(structure[0], F, P, S, n_inst)  # one set per replicate
        used[r] = _replicate(r, n, t0, dt, econ, remit, structure, prm, state, z, z_off, scratch)


def advance(*args: object) -> None:
    """Run the step kernel on `threads` threads.

    Arguments: n, t0, dt, econ (the economic channel, -1 for none), remit (the remittances'
    flow kind), the `STRUCTURE` tuple, the packed parameters, the `STATE` tuple, the noise
    blocks z, each replicate's first block z_off, and ``used`` (R,), where each replicate's
    count of blocks read is written.
    """
    n = threads()
    if n > 1:
        numba.set_num_threads(n)
        _advance_parallel(*args)
    else:
        _advance_serial(*args)


@njit(cache=True, error_model="numpy")
def noise_counts(n, t0, state_of, unrest, unrest_end, out):
    """Steps in [t0, t0 + n) during which each replicate is in unrest, (R,) into ``out``.

    A replicate is in unrest at t0 if any faction's state has unrest, and after that while
    such a state's unrest has not ended (it ends after the step before ``unrest_end``).
    """
    R, S = unrest.shape
    has_faction = np.zeros(S, np.bool_)
    for f in range(state_of.shape[0]):
        has_faction[state_of[f]] = True
    for r in range(R):
        on = False
        last = t0
        for s in range(S):
            if has_faction[s] and unrest[r, s] > 0:
                on = True
                last = max(last, unrest_end[r, s])
        out[r] = min(n, max(1, last - t0)) if on else 0


@njit(cache=True, error_model="numpy")
def rows(
    state_of,
    sens,
    inst_p,
    inst_c,
    prm,
    ties,
    rep,
    threat,
    cred,
    patronage,
    membership,
    active,
    autonomy,
    hedged,
    pull,
    auto,
):
    """Every replicate's pulls (R, F, P) and autonomy weights (R, F) into ``pull``, ``auto``."""
    F, P = pull.shape[1], pull.shape[2]
    S, n_inst = autonomy.shape[1], inst_p.shape[0]
    base = np.empty((F, P))
    via = np.empty((n_inst, F))
    scale_sp = np.empty((S, P))
    turn_sp = np.empty((S, P))
    auto_s = np.empty(S)
    inst_w = np.empty(n_inst)
    for r in range(pull.shape[0]):
        _channels(r, state_of, sens, inst_p, inst_c, ties, membership, active, base, via)
        _state_terms(r, prm, rep, threat, autonomy, cred, hedged, scale_sp, turn_sp, auto_s, inst_w)
        for f in range(F):
            s = state_of[f]
            _pull(r, f, s, inst_p, base, via, patronage, scale_sp, turn_sp, inst_w, pull[r, f])
            auto[r, f] = auto_s[s]


@njit(cache=True, error_model="numpy")
def peers(state_of, n_states, ptr, idx, links, prm, share, x, peer_x, peer_mass):
    """Every replicate's peer terms (R, F, P) and peer mass (R, F)."""
    F, P = x.shape[1], x.shape[2]
    voiced = np.empty((F, P))
    state_x = np.empty((n_states, P))
    state_mass = np.empty(n_states)
    for r in range(x.shape[0]):
        state_x[:] = 0.0
        state_mass[:] = 0.0
        for f in range(F):
            _voices(r, f, state_of[f], share, x, voiced, state_x, state_mass)
        for f in range(F):
            peer_mass[r, f] = _peer(
                r,
                f,
                state_of[f],
                prm[r, PW],
                ptr,
                idx,
                links,
                share,
                voiced,
                state_x,
                state_mass,
                peer_x[r, f],
            )


@njit(cache=True, error_model="numpy")
def alignment(state_of, share, x, out):
    """Every replicate's alignment (R, S, P) into ``out``."""
    for r in range(x.shape[0]):
        _alignment(r, state_of, share, x, out[r])


@njit(cache=True, error_model="numpy")
def exposure(flows, out):
    """Every replicate's exposure shares (R, S, P) into ``out``."""
    for r in range(flows.shape[0]):
        _exposure(r, flows, out[r])


@njit(cache=True, error_model="numpy")
def econ_ties(econ, prm, flows, tie0, expo0, ties):
    """Set the economic ties from the flows in every replicate whose η is positive."""
    scratch = np.empty(tie0.shape[1:])
    for r in range(flows.shape[0]):
        if prm[r, ETA] > 0:
            _econ_ties(r, econ, prm, flows, tie0, expo0, ties, scratch)
