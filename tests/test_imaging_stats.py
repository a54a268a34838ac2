"""Statistics of neuroadapt.imaging: TFCE, GLM, permutations — oracles and nilearn equality.

Tolerances: TFCE maps and null maxima agree with nilearn to 1e-9 relative
(both sum the same float64 terms in a different order); FWE p-values exactly
(same ranks). t-statistics agree with numpy lstsq to 1e-9.
"""

import warnings

import nibabel as nib
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter, generate_binary_structure

from neuroadapt.imaging.glm import PermutedGLM, fwe_p, nilearn_permutations
from neuroadapt.imaging.tfce import cluster_labels, max_cluster_mass, neighbours, tfce_map


def _box_mask(shape=(14, 16, 12), margin=2):
    mask = np.zeros(shape, bool)
    mask[margin:-margin, margin:-margin, margin:-margin] = True
    return mask


def test_tfce_of_flat_clusters_closed_form():
    # two flat clusters of heights c1 > c2 with sizes N1, N2 (not touching)
    mask = _box_mask((20, 12, 12))
    img = np.zeros(mask.shape)
    img[3:6, 3:6, 3:6] = 2.0  # N1 = 27
    img[10:12, 3:5, 3:5] = 1.0  # N2 = 8
    t = img[mask]
    out = tfce_map(t, neighbours(mask, 6), False)
    h = np.linspace(0, 2.0, 101)[1:]
    big = np.sqrt(27) * (h**2).sum()
    small = np.sqrt(8) * (h[h <= 1.0] ** 2).sum()
    assert np.allclose(out[img[mask] == 2.0], big)
    assert np.allclose(out[img[mask] == 1.0], small)
    assert np.all(out[img[mask] == 0] == 0)


def test_tfce_merging_clusters_closed_form():
    # a 1-voxel peak of 2 on a plateau of 1 (size 9): the peak sees size 1 above 1, size 10 below
    mask = _box_mask((9, 9, 9))
    img = np.zeros(mask.shape)
    img[3:6, 3:6, 4] = 1.0
    img[4, 4, 4] = 2.0
    out = tfce_map(img[mask], neighbours(mask, 6), True)
    h = np.linspace(0, 2.0, 101)[1:]
    peak = (np.sqrt(9) * h[h <= 1] ** 2).sum() + (h[h > 1] ** 2).sum()
    assert out[np.flatnonzero(img[mask] == 2.0)[0]] == pytest.approx(peak)


@pytest.mark.parametrize("connectivity,rank", [(6, 1), (26, 3)])
@pytest.mark.parametrize("two_sided", [True, False])
def test_tfce_equals_nilearn(connectivity, rank, two_sided):
    from nilearn.mass_univariate._utils import calculate_tfce

    rng = np.random.default_rng(connectivity)
    mask = _box_mask()
    img = gaussian_filter(rng.standard_normal(mask.shape), 1.3) * 6
    img[~mask] = 0
    ref = calculate_tfce(
        img[..., None], generate_binary_structure(3, rank), two_sided_test=two_sided
    )
    ours = tfce_map(img[mask], neighbours(mask, connectivity), two_sided)
    assert np.allclose(ours, ref[..., 0][mask], rtol=1e-9, atol=1e-9 * np.abs(ours).max())


def test_cluster_mass_equals_nilearn():
    from nilearn.mass_univariate._utils import calculate_cluster_measures

    rng = np.random.default_rng(3)
    mask = _box_mask()
    img = gaussian_filter(rng.standard_normal(mask.shape), 1.0) * 5
    img[~mask] = 0
    for two in (True, False):
        size, mass = calculate_cluster_measures(
            img[..., None], 1.5, generate_binary_structure(3, 1), two
        )
        m, s = max_cluster_mass(img[mask], neighbours(mask, 6), 1.5, two)
        assert m == pytest.approx(mass[0]) and s == size[0]
    labels, masses, sizes = cluster_labels(img[mask], neighbours(mask, 6), 1.5, True)
    assert sizes.sum() == (np.abs(img[mask]) > 1.5).sum() and labels.max() == masses.size


def _data(n=20, seed=1):
    rng = np.random.default_rng(seed)
    mask = _box_mask((14, 16, 12))
    imgs = np.stack([gaussian_filter(rng.standard_normal(mask.shape), 1.2) for _ in range(n)])
    g = np.r_[np.ones(n // 2), np.zeros(n - n // 2)]
    imgs[g == 1, 5:9, 5:9, 4:8] -= 0.2
    conf = np.c_[rng.normal(35, 8, n), (rng.random(n) < 0.4) * 1.0]
    return imgs[:, mask], -g, conf, mask


def test_t_equals_lstsq():
    Y, x, conf, mask = _data()
    m = PermutedGLM(n_permutations=0, tfce=False, cluster_p=None).fit(Y, x, conf, mask)
    X = np.c_[x, conf, np.ones(len(x))]
    beta = np.linalg.lstsq(X, Y, rcond=None)[0]
    r = Y - X @ beta
    df = len(x) - X.shape[1]
    se = np.sqrt((r**2).sum(0) / df * np.linalg.inv(X.T @ X)[0, 0])
    assert m.df_ == df
    assert np.allclose(m.t_, beta[0] / se, atol=1e-9)


@pytest.mark.parametrize("two_sided", [True, False])
def test_permutations_equal_nilearn(two_sided):
    from nilearn.maskers import NiftiMasker
    from nilearn.mass_univariate import permuted_ols

    Y, x, conf, mask = _data()
    masker = NiftiMasker(nib.Nifti1Image(mask.astype(np.uint8), np.diag([2, 2, 2, 1.0]))).fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = permuted_ols(x[:, None], Y, confounding_vars=conf, model_intercept=True, n_perm=40,
                           two_sided_test=two_sided, random_state=5, n_jobs=1, tfce=True,
                           threshold=0.01, masker=masker, verbose=0)  # fmt: skip
    perms = nilearn_permutations(len(x), 40, 5)
    m = PermutedGLM(n_permutations=40, two_sided=two_sided, cluster_p=0.01)
    m.fit(Y, x, conf, mask, permutations=perms)
    assert np.allclose(m.t_, ref["t"][0], atol=1e-10)
    assert np.allclose(m.tfce_, ref["tfce"][0], rtol=1e-9, atol=1e-9)
    assert np.allclose(m.h0_max_t_, ref["h0_max_t"][0], rtol=1e-9)
    assert np.allclose(m.h0_tfce_, ref["h0_max_tfce"][0], rtol=1e-9)
    assert np.allclose(m.h0_mass_, ref["h0_max_mass"][0], rtol=1e-9)
    assert np.allclose(m.p_max_t_, 10 ** -ref["logp_max_t"][0])
    assert np.allclose(m.p_tfce_, 10 ** -ref["logp_max_tfce"][0])
    assert m.p_tfce_.min() < 0.05  # the planted effect is found


def test_seed_reproducibility_and_batches():
    Y, x, conf, mask = _data()
    a = PermutedGLM(n_permutations=30, seed=4, batch_size=7).fit(Y, x, conf, mask)
    b = PermutedGLM(n_permutations=30, seed=4, batch_size=30).fit(Y, x, conf, mask)
    c = PermutedGLM(n_permutations=30, seed=5).fit(Y, x, conf, mask)
    assert np.array_equal(a.h0_tfce_, b.h0_tfce_) and np.array_equal(a.p_tfce_, b.p_tfce_)
    assert not np.array_equal(a.h0_tfce_, c.h0_tfce_)


def test_fwe_p_formula():
    null = np.array([1.0, 2.0, 3.0, 4.0])
    assert np.allclose(fwe_p(np.array([0.5, 2.0, 5.0]), null), [5 / 5, 4 / 5, 1 / 5])


def test_collinear_design_is_rejected():
    Y, x, conf, mask = _data()
    with pytest.raises(ValueError, match="collinear"):
        PermutedGLM(n_permutations=0).fit(Y, x, np.c_[conf, x], mask)


def test_years_of_use_contrast_needs_users_with_different_years():
    from neuroadapt.imaging.design import make_design
    from neuroadapt.imaging.load import ImagingInputError
    from neuroadapt.imaging.synth import make_participants

    p = make_participants(4, 4, seed=1, years_of_use=np.full(4, 9.5))
    with pytest.raises(ImagingInputError, match="'years_of_use' = 9.5 for every user"):
        make_design(p, "years_of_use")
    p = make_participants(4, 4, seed=1, years_of_use=np.array([1.0, 2.0, 3.0, 4.0]))
    assert np.ptp(make_design(p, "-years_of_use").tested) > 0
