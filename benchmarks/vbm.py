"""VBM benchmark: neuroadapt's PermutedGLM against nilearn's permuted_ols on the same data.

60 synthetic subjects (30 users with regional atrophy, 30 controls), the 2 mm
gray-matter mask (204,492 voxels), group contrast with age, sex and TIV, two-
sided. neuroadapt runs 1,000 Freedman-Lane permutations with TFCE; nilearn
(n_jobs=1) runs the first ``--nilearn-perms`` of the *same* permutations (its
own cumulative RandomState sequence, reproduced by ``nilearn_permutations``),
and its time per permutation is extrapolated to 1,000. Equality is checked
on the shared permutations: TFCE map of the data, null maxima of t and TFCE,
and FWE p-values from those nulls.

Run: ``.venv/bin/python benchmarks/vbm.py [--nilearn-perms 10]``.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import nibabel as nib
import numpy as np
import pandas as pd

from neuroadapt.imaging.atlases import gm_mask
from neuroadapt.imaging.design import make_design
from neuroadapt.imaging.glm import PermutedGLM, fwe_p, nilearn_permutations
from neuroadapt.imaging.synth import MapSynthesizer, make_participants
from neuroadapt.model.structure import REGIONS


def data():
    p = make_participants(30, 30, seed=7)
    change = pd.DataFrame(0.0, index=p["participant_id"], columns=list(REGIONS))
    users = p["participant_id"][p["group"] == "user"]
    change.loc[users, ["nucleus accumbens", "putamen", "insula"]] = -0.08
    mask_img = gm_mask()
    mask = np.asarray(mask_img.dataobj) > 0
    synth = MapSynthesizer(seed=7)
    Y = np.vstack([m[mask] for m in synth.maps(p, change)]).astype(np.float64)
    d = make_design(p, "users<controls")
    return Y, d, mask, mask_img


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--perms", type=int, default=1000)
    ap.add_argument("--nilearn-perms", type=int, default=10)
    ap.add_argument("--nilearn-maxt-perms", type=int, default=100)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from nilearn.maskers import NiftiMasker
    from nilearn.mass_univariate import permuted_ols

    Y, d, mask, mask_img = data()
    n = Y.shape[0]
    print(
        f"{n} subjects, {Y.shape[1]} voxels, "
        f"numba threads: {os.environ.get('NUMBA_NUM_THREADS', 'all')}"
    )
    perms = nilearn_permutations(n, args.perms, random_state=0)
    masker = NiftiMasker(nib.Nifti1Image(mask.astype(np.uint8), mask_img.affine)).fit()
    # compile outside the timing
    PermutedGLM(n_permutations=2, cluster_p=None).fit(Y[:, :500], d.tested, d.confounds,
                                                     _first(mask, 500))  # fmt: skip

    def ours(n_perm, tfce):
        t0 = time.perf_counter()
        g = PermutedGLM(n_permutations=n_perm, two_sided=True, tfce=tfce, cluster_p=None)
        g.fit(Y, d.tested, d.confounds, mask, permutations=perms[:n_perm])
        return g, time.perf_counter() - t0

    def theirs(n_perm, tfce):
        t0 = time.perf_counter()
        out = permuted_ols(d.tested[:, None], Y, confounding_vars=d.confounds,
                           model_intercept=True, n_perm=n_perm, two_sided_test=True,
                           random_state=0, n_jobs=1, tfce=tfce, masker=masker,
                           verbose=0, output_type="dict")  # fmt: skip
        return out, time.perf_counter() - t0

    g0, our0 = ours(0, True)
    g, our_t = ours(args.perms, True)
    _, nl0 = theirs(0, True)
    k = args.nilearn_perms
    nl, nl_t = theirs(k, True)
    nl_per = (nl_t - nl0) / k
    nl_extrap = nl0 + args.perms * nl_per
    our_per = (our_t - our0) / args.perms
    print(f"TFCE: neuroadapt {args.perms} perms {our_t:.1f} s ({1e3 * our_per:.1f} ms/perm)")
    print(f"TFCE: nilearn {k} perms {nl_t:.1f} s ({nl_per:.2f} s/perm), "
          f"extrapolated to {args.perms}: {nl_extrap:.0f} s")  # fmt: skip
    print(f"TFCE speed-up: {nl_extrap / our_t:.0f}x total, {nl_per / our_per:.0f}x per permutation")
    gk, _ = ours(k, True)
    tf_err = np.abs(nl["tfce"][0] - g.tfce_).max() / np.abs(g.tfce_).max()
    h0t_err = np.abs(nl["h0_max_t"][0] - gk.h0_max_t_).max()
    h0f_err = np.abs(nl["h0_max_tfce"][0] - gk.h0_tfce_).max() / gk.h0_tfce_.max()
    p_nl = 10 ** -nl["logp_max_tfce"][0]
    p_err = np.abs(p_nl - fwe_p(np.abs(gk.tfce_), gk.h0_tfce_)).max()
    pt_err = np.abs(10 ** -nl["logp_max_t"][0] - gk.p_max_t_).max()
    print(f"equality on the {k} shared permutations: max rel. TFCE map {tf_err:.1e}, "
          f"null max-T {h0t_err:.1e}, null max-TFCE rel. {h0f_err:.1e}, "
          f"FWE p TFCE {p_err:.1e}, FWE p max-T {pt_err:.1e}")  # fmt: skip
    km = args.nilearn_maxt_perms
    _, our_m = ours(args.perms, False)
    _, nl_m0 = theirs(0, False)
    _, nl_m = theirs(km, False)
    nl_m_per = (nl_m - nl_m0) / km
    nl_m_extrap = nl_m0 + args.perms * nl_m_per
    print(f"max-T: neuroadapt {args.perms} perms {our_m:.1f} s; nilearn {km} perms {nl_m:.1f} s, "
          f"extrapolated {nl_m_extrap:.0f} s; speed-up {nl_m_extrap / our_m:.1f}x")  # fmt: skip


def _first(mask, k):
    out = np.zeros_like(mask)
    idx = np.argwhere(mask)[:k]
    out[tuple(idx.T)] = True
    return out


if __name__ == "__main__":
    main()
