"""Voxel-wise GLM with Freedman–Lane permutation inference: max-T, TFCE and cluster mass.

Model, for each voxel (``Y``: subjects × voxels)::

    Y = x β + Z γ + ε

with ``x`` the tested regressor (group, or years of use) and ``Z`` the
nuisance regressors (intercept, age, sex, TIV, ...). The statistic is the OLS
t of β with ``n − rank(Z) − 1`` degrees of freedom.

Freedman–Lane (1983; Winkler et al. 2014, NeuroImage 92:381-397): residuals
of the reduced model ``e = R_Z Y`` are permuted, ``Y* = P e + H_Z Y``, and the
full model is refitted. Because ``H_Z Y`` lies in the span of ``Z``, the t of
``x`` on ``Y*`` equals the t of ``x`` on ``P e``; and regressing ``P e`` on
``[x, Z]`` is the same as regressing ``e`` on ``[Pᵀx, PᵀZ]``. This module
therefore permutes the rows of the (orthonormalised, ``x`` residualised
against ``Z``) design, as nilearn's ``permuted_ols`` does, and the two give
identical statistics on identical permutations. With ``x̂`` and the columns
of ``Q`` (orthonormal basis of ``Z``) and each column of ``e`` of unit norm::

    b = x̂[π]ᵀ e,   a² = ‖Q[π]ᵀ e‖²,   t = b · sqrt((n − k − 1) / (1 − a² − b²))

For a batch of permutations all ``b`` and ``Q[π]ᵀe`` come from one matrix
product ``D · e`` (``D`` stacks the permuted design rows), and the per-
permutation maps, their maxima, TFCE and cluster masses are computed in
parallel by numba. Family-wise error p-values are ``(1 + #{h0 ≥ obs}) / (1 +
n_perm)`` against the permutation distribution of the map maximum (max-T,
max-TFCE, max cluster mass); as in nilearn the unpermuted data are not part of
the null sample.
"""

from __future__ import annotations

from collections.abc import Callable

import numba as nb
import numpy as np
from scipy import stats

from neuroadapt.imaging.tfce import (
    TFCE_E,
    TFCE_H,
    cluster_labels,
    max_cluster_mass,
    neighbours,
    tfce_map,
)


def orthonormal_basis(z: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """Orthonormal basis of the column space of ``z`` (SVD; rank-deficient columns dropped)."""
    u, s, _ = np.linalg.svd(np.asarray(z, dtype=np.float64), full_matrices=False)
    return np.ascontiguousarray(u[:, s > tol * max(s.max(), 1.0)])


def _unit_columns(a: np.ndarray) -> np.ndarray:
    norm = np.sqrt((a * a).sum(axis=0))
    norm[norm == 0] = 1.0
    return a / norm


def nilearn_permutations(n_samples: int, n_perm: int, random_state: int) -> np.ndarray:
    """The design-row permutations nilearn's ``permuted_ols(n_jobs=1)`` draws.

    nilearn seeds one chunk from ``RandomState(random_state)`` and shuffles the
    design cumulatively; feeding these indices to :class:`PermutedGLM` gives
    the same null distributions (used by the tests and the benchmark).
    """
    rng = np.random.RandomState(random_state)
    chunk = np.random.RandomState(rng.randint(1, np.iinfo(np.int32).max - 1))
    out = np.empty((n_perm, n_samples), dtype=np.int64)
    idx = np.arange(n_samples)
    for i in range(n_perm):
        idx = idx[chunk.permutation(n_samples)]
        out[i] = idx
    return out


@nb.njit(cache=True)
def _t_from_products(m, row, k1, dof, t):
    # dof = n - k (nilearn's convention): t = b sqrt((dof - 1) / rss)
    for v in range(t.shape[0]):
        b = m[row, v]
        a2 = 0.0
        for j in range(1, k1):
            c = m[row + j, v]
            a2 += c * c
        rss = 1.0 - a2 - b * b
        t[v] = b * np.sqrt((dof - 1.0) / rss) if rss > 1e-14 else 0.0


@nb.njit(parallel=True, cache=True)
def _batch_nulls(m, k1, dof, nbr, two_sided, do_tfce, n_steps, E, H, thr, out):
    """Null maxima of one batch: out[b] = (max T, max |TFCE|, max cluster mass)."""
    n_b = m.shape[0] // k1
    V = m.shape[1]
    for b in nb.prange(n_b):
        t = np.empty(V)
        _t_from_products(m, b * k1, k1, dof, t)
        out[b, 0] = np.max(np.abs(t)) if two_sided else np.max(t)
        if do_tfce:
            out[b, 1] = np.max(np.abs(tfce_map(t, nbr, two_sided, n_steps, E, H)))
        if thr > 0:
            out[b, 2] = max_cluster_mass(t, nbr, thr, two_sided)[0]


def fwe_p(observed: np.ndarray, null_max: np.ndarray) -> np.ndarray:
    """Family-wise error p-values: ``(1 + #{null ≥ obs}) / (1 + n_perm)`` (as nilearn)."""
    ranks = np.searchsorted(np.sort(null_max), observed, side="left")
    n = null_max.size
    return (n + 1 - ranks) / (n + 1.0)


class PermutedGLM:
    """Mass-univariate GLM with Freedman–Lane permutations (estimator shape).

    Parameters
    ----------
    n_permutations
        Number of permutations (0: statistics only).
    two_sided
        Two-sided test on ``|t|`` (else one-sided, ``t > 0``).
    tfce
        Compute TFCE (E = 0.5, H = 2, ``tfce_steps`` thresholds) and its FWE p-values.
    cluster_p
        Uncorrected one- or two-sided p of the cluster-forming threshold for
        cluster-mass inference; ``None`` to skip.
    connectivity
        6 (nilearn's choice) or 26.
    seed
        Seed of the permutations (``numpy.random.default_rng``).
    tfce_steps
        Number of TFCE thresholds (100 as fslmaths and nilearn).
    batch_size
        Permutations per matrix product (default: fits about 256 MB).

    Attributes
    ----------
    t_, tfce_ : numpy.ndarray
        Statistic and TFCE per voxel.
    p_max_t_, p_tfce_ : numpy.ndarray
        FWE-corrected p-values per voxel.
    h0_max_t_, h0_tfce_, h0_mass_ : numpy.ndarray
        Null distributions of the maxima.
    cluster_threshold_ : float
        Cluster-forming t threshold.
    clusters_ : numpy.ndarray
        Cluster label per voxel (0: none); ``cluster_mass_`` and
        ``p_cluster_mass_`` per label − 1.
    df_ : int
        Residual degrees of freedom.
    """

    def __init__(
        self,
        n_permutations: int = 1000,
        two_sided: bool = True,
        tfce: bool = True,
        cluster_p: float | None = 0.001,
        connectivity: int = 6,
        seed: int = 0,
        tfce_steps: int = 100,
        batch_size: int | None = None,
    ):
        self.n_permutations = n_permutations
        self.two_sided = two_sided
        self.tfce = tfce
        self.cluster_p = cluster_p
        self.connectivity = connectivity
        self.seed = seed
        self.tfce_steps = tfce_steps
        self.batch_size = batch_size

    def fit(
        self,
        Y: np.ndarray,
        tested: np.ndarray,
        confounds: np.ndarray | None,
        mask: np.ndarray,
        permutations: np.ndarray | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> PermutedGLM:
        """Fit the model and run the permutations.

        Parameters
        ----------
        Y
            Data, subjects × mask voxels (mask voxels in C order of ``mask``).
        tested
            Tested regressor (its sign sets the direction of one-sided tests).
        confounds
            Nuisance regressors without intercept (an intercept is added), or None.
        mask
            3-D boolean mask of the voxels of ``Y`` (for cluster connectivity).
        permutations
            Optional explicit design-row permutations (n_perm × subjects).
        progress
            Called as ``progress(done, n_perm)`` after each batch of permutations.
        """
        Y = np.asarray(Y, dtype=np.float64)
        n, V = Y.shape
        if int(np.sum(mask)) != V:
            raise ValueError(f"mask has {int(np.sum(mask))} voxels but Y has {V} columns")
        z = np.ones((n, 1)) if confounds is None else np.column_stack([confounds, np.ones(n)])
        q = orthonormal_basis(z)
        k = q.shape[1]
        x = np.asarray(tested, dtype=np.float64).reshape(n, 1)
        xr = x - q @ (q.T @ x)
        if np.linalg.norm(xr) < 1e-10 * max(np.linalg.norm(x), 1.0):
            raise ValueError("the tested regressor is collinear with the confounds")
        xhat = _unit_columns(xr)[:, 0]
        e = Y - q @ (q.T @ Y)
        norms = np.sqrt((e * e).sum(axis=0))
        if np.any(norms == 0):
            raise ValueError(f"{int(np.sum(norms == 0))} voxels have no residual variance")
        e = np.ascontiguousarray(e / norms)
        self.df_ = n - k - 1
        self.nbr_ = neighbours(mask, self.connectivity)
        thr = 0.0
        if self.cluster_p is not None:
            q_tail = self.cluster_p / 2 if self.two_sided else self.cluster_p
            thr = float(stats.t.isf(q_tail, df=self.df_))
        self.cluster_threshold_ = thr if self.cluster_p is not None else None
        k1 = k + 1

        def design_rows(perms: np.ndarray) -> np.ndarray:
            d = np.empty((perms.shape[0] * k1, n))
            for i, p in enumerate(perms):
                d[i * k1] = xhat[p]
                d[i * k1 + 1 : (i + 1) * k1] = q[p].T
            return d

        ident = np.arange(n)[None, :]
        m = design_rows(ident) @ e
        t = np.empty(V)
        _t_from_products(m, 0, k1, float(n - k), t)
        self.t_ = t
        self.tfce_ = tfce_map(t, self.nbr_, self.two_sided, self.tfce_steps) if self.tfce else None
        if self.cluster_threshold_ is not None:
            labels, mass, size = cluster_labels(t, self.nbr_, thr, self.two_sided)
            self.clusters_, self.cluster_mass_, self.cluster_size_ = labels, mass, size
        if permutations is None:
            rng = np.random.default_rng(self.seed)
            permutations = np.array([rng.permutation(n) for _ in range(self.n_permutations)])
        permutations = np.asarray(permutations, dtype=np.int64).reshape(-1, n)
        n_perm = permutations.shape[0]
        self.n_permutations_ = n_perm
        batch = self.batch_size or max(1, min(64, int(2**28 // (8 * k1 * V))))
        null = np.zeros((n_perm, 3))
        for start in range(0, n_perm, batch):
            perms = permutations[start : start + batch]
            m = design_rows(perms) @ e
            _batch_nulls(
                m,
                k1,
                float(n - k),
                self.nbr_,
                self.two_sided,
                self.tfce,
                self.tfce_steps,
                TFCE_E,
                TFCE_H,
                thr,
                null[start : start + perms.shape[0]],
            )
            if progress is not None:
                progress(start + perms.shape[0], n_perm)
        self.h0_max_t_ = null[:, 0]
        obs = np.abs(t) if self.two_sided else t
        self.p_max_t_ = fwe_p(obs, self.h0_max_t_) if n_perm else np.ones(V)
        if self.tfce:
            self.h0_tfce_ = null[:, 1]
            self.p_tfce_ = fwe_p(np.abs(self.tfce_), self.h0_tfce_) if n_perm else np.ones(V)
        if self.cluster_threshold_ is not None:
            self.h0_mass_ = null[:, 2]
            self.p_cluster_mass_ = (
                fwe_p(self.cluster_mass_, self.h0_mass_)
                if n_perm
                else np.ones(self.cluster_mass_.size)
            )
        return self

    def p_cluster_map(self) -> np.ndarray:
        """Cluster-mass FWE p-value of each voxel's cluster (1 outside clusters)."""
        out = np.ones(self.t_.size)
        inside = self.clusters_ > 0
        out[inside] = self.p_cluster_mass_[self.clusters_[inside] - 1]
        return out
