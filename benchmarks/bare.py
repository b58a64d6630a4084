"""The bare limit: a plain Friedkin–Johnsen update on the model's own matrices, three ways.

`influence_matrix` builds the sparse row-stochastic influence matrix W, shape (F, F + P + 1)
(factions, then powers, then the autonomy pole), from an `Ensemble` without densifying:

    peer part  = (peer_weight * intra + links) @ diag(share)
    pull part  = ens.pulls()[r]                     (F, P)
    autonomy   = ens.autonomy[r, ens.state_of]      (F,)
    W          = diag(1 / row sums) @ [peer | pull | autonomy]

Each bare variant then iterates ``x = lam * (W_ff @ x + W_fo @ Y) + (1 - lam) * x0`` on R
replicates of the same system, and computes every term of it every step (the fixed actors'
term W_fo @ Y and (1 - lam) * x0 are constant, but none of the variants precomputes them, so
they stay comparable with each other and with the model, which forms its pulls every step):

* `BareFJ`: scipy.sparse CSR, replicates stacked as x (F, R * P): two sparse products and two
  element-wise updates per step.
* `DenseFJ`: plain numpy, W dense (F, F + P + 1) and the state stacked under the fixed actors
  as z = [x; Y] (F + P + 1, R * P), so one matmul gives both products; preallocated buffers
  (``out=``), two of them swapped each step, no allocation in the loop.
* `NumbaFJ`: a compiled loop (``@njit``, not cached; compiled by the first call) over the
  steps, factions, CSR entries and the R * P stacked columns, x as (F, R * P), all n steps in
  one call (as the model's compiled step runs a window of steps in one call).

Together they are "the bare update in its best layout": `benchmarks/run.py` (section d) times
all three at each R and compares the model with the fastest. `make_bare` builds one by name.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy import sparse

#: The bare variants, by name: scipy sparse, dense numpy, compiled CSR loop.
VARIANTS = ("sparse", "dense", "numba")


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

    name = "sparse"

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

    def advance(self, n: int) -> None:
        for _ in range(n):
            self.step()

    def reset(self) -> None:
        """Back to the anchors."""
        self.x = self.x0.copy()

    def replicate(self, r: int = 0) -> np.ndarray:
        """Scores of replicate ``r``, (F, P)."""
        return self.x[:, r * self.P : (r + 1) * self.P]


class DenseFJ:
    """The same update with dense W (F, F + P + 1) and z = [x; Y] stacked, (F + P + 1, R * P).

    One ``np.matmul(W, z)`` per step computes W_ff @ x + W_fo @ Y (the fixed actors' rows of z
    are multiplied every step, not folded into a constant); the result goes straight into the
    other of two preallocated z buffers, then ``*= lam`` and ``+= (1 - lam) * x0`` in place.
    """

    name = "dense"

    def __init__(self, W, fixed: np.ndarray, lam: np.ndarray, x0: np.ndarray, R: int = 1):
        W = W.toarray() if sparse.issparse(W) else np.asarray(W, float)
        self.W = np.ascontiguousarray(W)
        F = W.shape[0]
        self.F, self.P, self.R = F, x0.shape[1], R
        self.x0 = np.tile(x0, (1, R))  # (F, R * P)
        self.lam = np.asarray(lam, float)[:, None].copy()
        self.one_minus_lam = 1.0 - self.lam
        self._z = np.empty((F + self.P + 1, R * self.P))
        self._z[F:] = np.tile(fixed, (1, R))
        self._next = self._z.copy()
        self._buf = np.empty((F, R * self.P))
        self.reset()

    def reset(self) -> None:
        """Back to the anchors."""
        self._z[: self.F] = self.x0

    @property
    def x(self) -> np.ndarray:
        return self._z[: self.F]

    def step(self) -> None:
        nxt = self._next[: self.F]
        np.matmul(self.W, self._z, out=nxt)
        nxt *= self.lam
        np.multiply(self.one_minus_lam, self.x0, out=self._buf)
        nxt += self._buf
        self._z, self._next = self._next, self._z

    def advance(self, n: int) -> None:
        for _ in range(n):
            self.step()

    def replicate(self, r: int = 0) -> np.ndarray:
        """Scores of replicate ``r``, (F, P)."""
        return self.x[:, r * self.P : (r + 1) * self.P]


@njit(cache=False)
def _fj_csr(n, indptr, indices, data, Y, lam, x0, x, nxt):  # pragma: no cover - compiled
    """n steps of x (F, R * P) with W in CSR (F, F + P + 1): the result is in x for even n,
    in nxt for odd n.

    Per step, per faction, per CSR entry: one pass over the R * P stacked columns (contiguous,
    so the compiler vectorises it); the entry's source row is a faction's row of x or a fixed
    actor's row of Y. The two buffers x and nxt swap each step.
    """
    F, C = x.shape
    for _ in range(n):
        for f in range(F):
            row = nxt[f]
            for c in range(C):
                row[c] = 0.0
            for jj in range(indptr[f], indptr[f + 1]):
                j = indices[jj]
                w = data[jj]
                src = x[j] if j < F else Y[j - F]
                for c in range(C):
                    row[c] += w * src[c]
            lf = lam[f]
            x0f = x0[f]
            for c in range(C):
                row[c] = lf * row[c] + (1.0 - lf) * x0f[c]
        x, nxt = nxt, x


class NumbaFJ:
    """The same update as a compiled loop over steps, factions, CSR entries and replicates.

    x is (F, R * P), as for the other two; `advance(n)` is one compiled call for n steps (as
    the model's compiled step runs a window of steps in one call), reading W's CSR arrays and
    the fixed actors' values Y every step. Not cached on disk: call it once before timing (the
    first call compiles). A replicate-major loop, x as (R, F, P) (the layout of the model's
    state), ran 6-12x slower at R = 100 and 1,000 (no vectorisation over 2 powers), so the
    stacked layout is the one kept.
    """

    name = "numba"

    def __init__(self, W, fixed: np.ndarray, lam: np.ndarray, x0: np.ndarray, R: int = 1):
        W = sparse.csr_array(W)
        W.sort_indices()
        self.F, self.P, self.R = W.shape[0], x0.shape[1], R
        self.indptr = W.indptr.astype(np.int64)
        self.indices = W.indices.astype(np.int64)
        self.data = W.data.astype(float)
        self.Y = np.tile(np.asarray(fixed, float), (1, R))  # (P + 1, R * P)
        self.lam = np.ascontiguousarray(lam, dtype=float)
        self.x0 = np.tile(np.asarray(x0, float), (1, R))  # (F, R * P)
        self.x = self.x0.copy()
        self._nxt = np.empty_like(self.x)

    def reset(self) -> None:
        """Back to the anchors."""
        self.x[:] = self.x0

    def advance(self, n: int) -> None:
        _fj_csr(
            n, self.indptr, self.indices, self.data, self.Y, self.lam, self.x0, self.x, self._nxt
        )
        if n % 2:
            self.x, self._nxt = self._nxt, self.x

    def step(self) -> None:
        self.advance(1)

    def replicate(self, r: int = 0) -> np.ndarray:
        """Scores of replicate ``r``, (F, P)."""
        return self.x[:, r * self.P : (r + 1) * self.P]


def make_bare(name: str, W, fixed, lam, x0, R: int = 1):
    """The bare variant ``name`` (one of `VARIANTS`) for the system (W, fixed, lam, x0)."""
    cls = {"sparse": BareFJ, "dense": DenseFJ, "numba": NumbaFJ}[name]
    return cls(W, fixed, lam, x0, R=R)
