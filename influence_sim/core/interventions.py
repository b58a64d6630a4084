"""The lifecycle of an intervention: deployed, ended, and settled by its success.

An `intervention` event deploys it; a `withdrawal` event or its planned end ends it.

The state of each intervention (per replicate) is kept on the ensemble, in
``Ensemble.interventions``, keyed by the event id; this module owns what happens to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .kernel import Ensemble

__all__ = ["InterventionState", "end_planned", "state", "withdraw"]


@dataclass
class InterventionState:
    """Runtime state of one intervention event across replicates."""

    active: np.ndarray
    size: np.ndarray
    share0: np.ndarray
    reputation: np.ndarray
    credibility: np.ndarray
    end: np.ndarray
    backs: int = 0
    power: int = 0
    institution: int | None = None

    @classmethod
    def inactive(cls, replicates: int) -> InterventionState:
        """Not deployed in any of ``replicates`` replicates."""
        R = replicates
        return cls(
            active=np.zeros(R, bool),
            size=np.zeros(R),
            share0=np.zeros(R),
            reputation=np.zeros(R),
            credibility=np.zeros(R),
            end=np.full(R, -1, np.int64),
        )


def state(ens: Ensemble, name: str) -> InterventionState:
    """Runtime state of intervention ``name``, created inactive on first use."""
    if name not in ens.interventions:
        ens.interventions[name] = InterventionState.inactive(ens.R)
    return ens.interventions[name]


def withdraw(ens: Ensemble, name: str, m: np.ndarray) -> np.ndarray:
    """Withdraw intervention ``name`` where ``m`` and settle its success.

    Success means the backed faction kept its power share since deployment: the power's
    reputation (and the institution's credibility) rise by the intervention's amounts;
    failure lowers them. Returns the replicates where a deployed force was withdrawn.
    """
    iv = ens.interventions.get(name)
    if iv is None:
        return np.zeros_like(m)
    m = m & iv.active
    if not m.any():
        return m
    b = iv.backs
    ens.force[:, b] -= np.where(m, iv.size, 0.0)
    np.maximum(ens.force, 0.0, out=ens.force)
    iv.active &= ~m
    success = ens.share[:, b] >= iv.share0 - 1e-12
    sign = np.where(success, 1.0, -1.0)
    # seen most strongly in the host state, elsewhere by `perception_locality`
    host = int(ens.state_of[b])
    change = np.where(m, sign * iv.reputation, 0.0)[:, None] * ens.reach(host, iv.power)
    ens.rep[:, :, iv.power] = np.clip(ens.rep[:, :, iv.power] + change, 0, 1)
    if iv.institution is not None:
        i = iv.institution
        ens.cred[:, i] = np.clip(ens.cred[:, i] + np.where(m, sign * iv.credibility, 0.0), 0, 1)
    return m


def end_planned(ens: Ensemble) -> None:
    """End the interventions whose planned duration runs out at the current step."""
    for name, iv in ens.interventions.items():
        due = iv.active & (iv.end == ens.t)
        if due.any():
            withdraw(ens, name, due)
