"""The bare limit: a plain Friedkin–Johnsen update with scipy.sparse on the model's own matrices.

`influence_matrix` builds the sparse row-stochastic influence matrix W, shape (F, F + P + 1)
(factions, then powers, then the autonomy pole), from an `Ensemble` without densifying:

    peer part  = (peer_weight * intra + links) @ diag(share)
    pull part  = ens.pulls()[r]                     (F, P)
    autonomy   = ens.autonomy[r, ens.state_of]      (F,)
    W          = diag(1 / row sums) @ [peer | pull | autonomy]

`BareFJ` then iterates ``x = lam * (W_ff @ x + W_fo @ Y) + (1 - lam) * x0`` on R stacked
replicates (x as (F, R * P)): nothing but two sparse products and two element-wise updates per
step, which is the floor any implementation of these dynamics has to pay.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def influence_matrix(ens, r: int = 0):
    """The noise-free system of replicate ``r`` of an Ensemble, with W sparse.

    Returns ``(W, fixed, lam, x0)``: W a CSR array (F, F + P + 1), row-stochastic; ``fixed``
    (P + 1, P) the fixed actors' values (identity for the powers, zeros for autonomy); ``lam``
    (F,); ``x0`` (F, P).
    """
    P = ens.P
    peer = (ens.intra * ens.params["peer_weight"][r] + ens.links) @ sparse.diags_array(ens.share[r])
    pull = ens.pulls()[r]
    auto = ens.autonomy[r, ens.state_of]
    raw = sparse.hstack(
        [sparse.csr_array(peer), sparse.csr_array(pull), sparse.csr_array(auto[:, None])],
        format="csr",
    )
    rowsum = np.asarray(raw.sum(axis=1)).ravel()
    W = sparse.csr_array(sparse.diags_array(1.0 / rowsum) @ raw)
    W.sort_indices()
    fixed = np.vstack([np.eye(P), np.zeros((1, P))])
    return W, fixed, ens.lam[r].copy(), ens.anchor[r].copy()


class BareFJ:
    """R stacked replicates of ``x(t+1) = Λ (W_ff x + W_fo Y) + (I − Λ) x0`` with sparse W."""

    def __init__(self, W, fixed: np.ndarray, lam: np.ndarray, x0: np.ndarray, R: int = 1):
        W = sparse.csr_array(W)
        F = W.shape[0]
        self.F, self.P, self.R = F, x0.shape[1], R
        self.W_ff = sparse.csr_array(W[:, :F])
        self.W_fo = sparse.csr_array(W[:, F:])
        self.Y = np.tile(fixed, (1, R))  # (P + 1, R * P)
        self.x0 = np.tile(x0, (1, R))  # (F, R * P)
        self.lam = np.asarray(lam, float)[:, None]
        self.one_minus_lam = 1.0 - self.lam
        self.x = self.x0.copy()

    def step(self) -> None:
        self.x = self.lam * (self.W_ff @ self.x + self.W_fo @ self.Y) + self.one_minus_lam * self.x0

    def replicate(self, r: int = 0) -> np.ndarray:
        """Scores of replicate ``r``, (F, P)."""
        return self.x[:, r * self.P : (r + 1) * self.P]
