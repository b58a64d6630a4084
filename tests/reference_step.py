"""The numpy reference of one model step: the oracle the compiled `Ensemble.step` is held to.

`reference_step` advances an `Ensemble` by one step in place, in plain numpy, from the
ensemble's public data attributes alone (no other `Ensemble` method is called: those wrap the
compiled code, and the oracle must not share it). It is the committed pure-numpy step of
influence_sim/core/kernel.py written out once more, with every decision taken per replicate,
so that a replicate's numbers never depend on the other replicates of its chunk:

* noise is drawn only in the replicates in unrest (some faction's state has unrest > 0), in
  increasing replicate order and in the canonical (sorted-id) layout of factions and powers;
* a state's shares move only where some faction of the state has a non-zero log gain
  (fitness x dt plus contest noise);
* anchors learn only in the replicates whose ``anchor_learning`` is non-zero;
* the flows grow in a replicate by its own alignment drift or growth rates, and its economic
  ties follow its flows only when they changed and its ``flow_tie_elasticity`` is positive.

Sums over a short axis (the powers, the channels, the flow kinds, a state's factions, a row of
the peer matrix) are taken left to right, in the order the committed step takes them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from influence_sim.core.interventions import end_planned
from influence_sim.core.world import FLOW_KINDS, REMITTANCES

__all__ = ["reference_step"]


def per_step(rate_per_day: np.ndarray | float, dt: int) -> np.ndarray:
    """A per-day relaxation or decay rate as a per-step rate for a step of ``dt`` days."""
    return 1.0 - (1.0 - np.asarray(rate_per_day, dtype=float)) ** dt


def _sum_last(a: np.ndarray) -> np.ndarray:
    """Sum over the last axis, left to right."""
    out = a[..., 0].copy()
    for k in range(1, a.shape[-1]):
        out += a[..., k]
    return out


def _state_sum(a: np.ndarray, state_of: np.ndarray, n_states: int) -> np.ndarray:
    """Sum a per-faction array (R, F, ...) over each state's factions in faction order."""
    out = np.zeros((a.shape[0], n_states, *a.shape[2:]))
    for f, s in enumerate(state_of):
        out[:, s] += a[:, f]
    return out


def _state_max(a: np.ndarray, state_of: np.ndarray, n_states: int) -> np.ndarray:
    """The maximum of a per-faction array (R, F) over each state's factions, (R, S)."""
    out = np.full((a.shape[0], n_states), -np.inf)
    for f, s in enumerate(state_of):
        out[:, s] = np.maximum(out[:, s], a[:, f])
    return out


def _noise(ens: Any, in_unrest: np.ndarray) -> np.ndarray:
    """Standard normal draws (R, F, P + 2), drawn only in the replicates in unrest.

    Each replicate draws from its own generator, (F, P + 2) numbers in the canonical layout:
    the rows by the rank of the faction's id, the first P columns by the rank of the power's
    id (then the autonomy pole and the contest), relabelled to the world's order.
    """
    F, P = ens.F, ens.P
    canon_f = np.argsort(np.argsort(np.asarray(ens.world.faction_ids)))
    canon_c = np.r_[np.argsort(np.argsort(np.asarray(ens.world.power_ids))), P, P + 1]
    z = np.zeros((ens.R, F, P + 2))
    for r in range(ens.R):
        if in_unrest[r]:
            z[r] = ens.noise[r].standard_normal((F, P + 2))[canon_f][:, canon_c]
    return z


def _pulls(ens: Any, so: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pulls (R, F, P) and autonomy weights (R, F), hedging included, before the noise."""
    prm = ens.params
    sens = np.asarray(ens.sens, dtype=float)  # (F, C)
    inst_power = np.asarray(ens.inst_lead).argmax(axis=1)
    inst_channel = np.asarray(ens.inst_chan).argmax(axis=1)
    ties_f = ens.ties[:, so]  # (R, F, P, C)
    # channel base: Σ_c sensitivity_fc · tie_s(f)pc
    pull = (ties_f * sens[None, :, None, :]).sum(axis=-1)
    gain = prm["institution_gain"][:, None]
    for i, (p, c) in enumerate(zip(inst_power, inst_channel, strict=True)):  # world order
        member = ens.membership[:, i][:, so] * ens.active[:, i, None]  # (R, F)
        via = member * sens[:, c] * ties_f[:, :, p, c]
        pull[:, :, p] += gain * (ens.cred[:, i, None] * via)
    pull *= prm["pull_scale"][:, None, None] * ens.rep[:, so]
    pull = pull + ens.patronage
    # hedging, always applied (exactly the identity where a state perceives no threat)
    auto = ens.autonomy[:, so]
    total = _sum_last(ens.threat)  # (R, S)
    auto = auto * (1.0 + prm["hedging"][:, None] * total)[:, so]
    turn = 1.0 + prm["hedge_turn"][:, None, None] * (total[:, :, None] - ens.threat)
    return pull * turn[:, so], auto


def _peer_terms(ens: Any) -> tuple[np.ndarray, np.ndarray]:
    """Peer scores (R, F, P) and peer mass (R, F) with each replicate's own peer weight.

    w = peer_weight · intra + links; peer_x_fp = Σ_j w_fj share_j x_jp and peer_mass_f =
    Σ_j w_fj share_j, summed over j in increasing order.
    """
    P = ens.P
    intra = ens.intra.toarray()
    links = ens.links.toarray()
    w = intra[None] * ens.params["peer_weight"][:, None, None] + links[None]  # (R, F, F)
    voiced = np.concatenate([ens.share[:, :, None] * ens.x, ens.share[:, :, None]], axis=2)
    total = np.zeros((ens.R, ens.F, P + 1))
    for j in range(ens.F):
        total += w[:, :, j, None] * voiced[:, j, None, :]
    return total[:, :, :P], total[:, :, P]


def _exposure_share(flows: np.ndarray, n_powers: int) -> np.ndarray:
    """Each power's share of one replicate's flows (S, P + 1, K) with all partners, (S, P)."""
    per_partner = flows.sum(axis=-1)  # (S, P + 1)
    total = per_partner.sum(axis=-1, keepdims=True)
    out: np.ndarray = np.where(
        total > 0, per_partner[:, :n_powers] / np.maximum(total, 1e-300), 0.0
    )
    return out


def _grow_flows(ens: Any, so: np.ndarray) -> None:
    """Grow each replicate's flows by its own rates; its economic ties follow its flows."""
    P, dt = ens.P, ens.dt
    eps = ens.params["trade_alignment_elasticity"]
    eta = ens.params["flow_tie_elasticity"]
    alignment = None
    for r in range(ens.R):
        flows = ens.flows[r]  # a view: written in place
        growth = ens.growth[r]
        if eps[r] != 0 and flows.any():
            if alignment is None:  # per state, share-weighted scores, new shares and scores
                alignment = _state_sum(ens.share[:, :, None] * ens.x, so, ens.S)
            log_rate = np.log1p(growth)  # (S, P + 1, K)
            drift = eps[r] * (alignment[r] - ens.alignment0[r])  # (S, P)
            for k in range(len(FLOW_KINDS)):
                if k != REMITTANCES:  # remittances follow labour, not politics
                    log_rate[:, :P, k] += drift
            flows *= np.exp(log_rate * (dt / 365.0))
        elif growth.any():
            flows *= np.exp(np.log1p(growth) * (dt / 365.0))
        else:
            continue
        if ens.econ is None or ens.tie0 is None or not eta[r] > 0:
            continue
        x0 = ens.exposure_share0[r]
        x_now = _exposure_share(flows, P)
        ratio = np.where(x0 > 0, x_now / np.where(x0 > 0, x0, 1.0), 1.0)
        ratio = np.power(ratio, np.full(ratio.shape, eta[r]))
        ens.ties[r, :, :, ens.econ] = np.minimum(ens.tie0[r] * ratio, 1.0)


def reference_step(ens: Any) -> None:
    """Advance ``ens`` (an `influence_sim.core.kernel.Ensemble`) by one step, in place.

    The events of the step are already applied. Reads and writes only the ensemble's public
    data attributes, then calls `influence_sim.core.interventions.end_planned`.
    """
    P, S, dt = ens.P, ens.S, ens.dt
    prm = ens.params
    so = np.asarray(ens.state_of)

    # 1. noise, in the replicates in unrest only
    u_f = ens.unrest[:, so]  # (R, F)
    in_unrest = (u_f > 0).any(axis=1)
    z = _noise(ens, in_unrest)
    sd = prm["pull_noise"][:, None, None] * u_f[:, :, None]
    mult = np.exp(sd * z[:, :, : P + 1] - 0.5 * sd * sd)  # exactly 1 outside unrest
    contest = (prm["contest_noise"][:, None] * u_f * np.sqrt(dt)) * z[:, :, P + 1]

    # 2. influence: Friedkin–Johnsen with this step's row weights
    peer_x, peer_mass = _peer_terms(ens)
    pull, auto = _pulls(ens, so)
    pull = pull * mult[:, :, :P]
    auto = auto * mult[:, :, P]
    total = peer_mass + _sum_last(pull) + auto
    lam = ens.lam[:, :, None]
    x_new = lam * (peer_x + pull) / total[:, :, None] + (1 - lam) * ens.anchor

    # 3. power shares: the contest, in the states where some faction's log gain is not 0
    fitness = (
        prm["legitimacy_weight"][:, None] * u_f * ens.legit
        + prm["force_weight"][:, None] * ens.force
        + prm["patronage_drift"][:, None] * _sum_last(ens.patronage)
    )
    log_gain = fitness * dt + contest
    moving = _state_sum((log_gain != 0).astype(float), so, S)[:, so] > 0  # (R, F)
    if moving.any():
        shift = _state_max(log_gain, so, S)
        grown = ens.share * np.exp(log_gain - shift[:, so])
        new_share = grown / _state_sum(grown, so, S)[:, so]
        ens.share[moving] = new_share[moving]
    ens.x[...] = x_new

    # 4. reputation and credibility relax, patronage fades, anchors learn, threat fades
    ens.rep += per_step(prm["reputation_relaxation"], dt)[:, None, None] * (ens.rep_base - ens.rep)
    ens.cred += per_step(prm["credibility_relaxation"], dt)[:, None] * (ens.cred_base - ens.cred)
    ens.patronage *= (1.0 - per_step(prm["patronage_decay"], dt))[:, None, None]
    learning = prm["anchor_learning"]
    rate = per_step(learning, dt)
    for r in np.flatnonzero(learning != 0):
        ens.anchor[r] += rate[r] * (ens.x[r] - ens.anchor[r])
    ens.threat *= (1.0 - per_step(prm["threat_decay"], dt))[:, None, None]

    # 5. the economy
    _grow_flows(ens, so)

    # 6. time passes; unrest and planned interventions end
    ens.t += 1
    ended = ens.unrest_end <= ens.t
    ens.unrest[ended] = 0.0
    end_planned(ens)
