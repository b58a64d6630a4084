"""Mesa agents: thin views onto the kernel's arrays (replicate 0 of the model's ensemble).

Reading an attribute reads the array; assigning to it writes the array, so a user's change
through an agent is what the next step sees. Agents hold no state of their own besides their
index, which keeps one source of truth and one implementation of the dynamics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._mesa import mesa

if TYPE_CHECKING:
    from ..core.kernel import Ensemble
    from .model import InfluenceModel

__all__ = ["FactionAgent", "InstitutionAgent", "PowerAgent", "StateAgent"]


class _View(mesa.Agent):
    """An agent that is a view onto position ``index`` of its kind's arrays."""

    kind: str = ""

    def __init__(self, model: InfluenceModel, actor_id: str, name: str) -> None:
        super().__init__(model)
        self.actor_id, self.name = actor_id, name
        self.index = model.world.index[actor_id]

    @property
    def ens(self) -> Ensemble:
        """The model's ensemble (R = 1)."""
        ensemble: Ensemble = self.model.ensemble
        return ensemble

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.actor_id!r})"


class PowerAgent(_View):
    """A great power: reputation ("face") in [0, 1]."""

    kind = "power"

    @property
    def reputation(self) -> float:
        """Current reputation across the region (the region-weighted mean of perceptions)."""
        return float(self.ens.region_reputation()[0, self.index])

    @reputation.setter
    def reputation(self, value: float) -> None:
        """Set the reputation as every state perceives it."""
        self.ens.rep[0, :, self.index] = float(np.clip(value, 0.0, 1.0))


class StateAgent(_View):
    """A state: derived alignment toward each power and its balance."""

    kind = "state"

    @property
    def alignment(self) -> dict[str, float]:
        """Power-weighted mean of its factions' scores, per power."""
        al = self.ens.alignment()[0, self.index]
        return dict(zip(self.model.world.power_ids, al.tolist(), strict=True))

    @property
    def balance(self) -> float:
        """Alignment difference between the world's two balance powers."""
        return float(self.ens.balance()[0, self.index])

    @property
    def unrest(self) -> float:
        """Current unrest intensity."""
        return float(self.ens.unrest[0, self.index])

    @property
    def factions(self) -> list[FactionAgent]:
        """Its factions' agents."""
        return [a for a in self.model.agents_by_type[FactionAgent] if a.state is self]


class FactionAgent(_View):
    """A faction: scores toward each power, power share, susceptibility, legitimacy."""

    kind = "faction"

    def __init__(self, model: InfluenceModel, actor_id: str, name: str, state: StateAgent):
        super().__init__(model, actor_id, name)
        self.state = state

    @property
    def scores(self) -> dict[str, float]:
        """Current score toward each power."""
        return dict(
            zip(self.model.world.power_ids, self.ens.x[0, self.index].tolist(), strict=True)
        )

    @property
    def share(self) -> float:
        """Power share inside its state."""
        return float(self.ens.share[0, self.index])

    @property
    def susceptibility(self) -> float:
        """λ: weight on others (vs. its anchor)."""
        return float(self.ens.lam[0, self.index])

    @susceptibility.setter
    def susceptibility(self, value: float) -> None:
        self.ens.lam[0, self.index] = float(np.clip(value, 0.0, 1.0))

    @property
    def legitimacy(self) -> float:
        """Standing in a contest for power."""
        return float(self.ens.legit[0, self.index])

    @legitimacy.setter
    def legitimacy(self, value: float) -> None:
        self.ens.legit[0, self.index] = float(np.clip(value, 0.0, 1.0))


class InstitutionAgent(_View):
    """A regional institution: leader, members and credibility."""

    kind = "institution"

    def __init__(
        self,
        model: InfluenceModel,
        actor_id: str,
        name: str,
        leader: PowerAgent,
        members: tuple[str, ...],
    ) -> None:
        super().__init__(model, actor_id, name)
        self.leader, self.members = leader, members

    @property
    def credibility(self) -> float:
        """Current credibility."""
        return float(self.ens.cred[0, self.index])

    @credibility.setter
    def credibility(self, value: float) -> None:
        self.ens.cred[0, self.index] = float(np.clip(value, 0.0, 1.0))
