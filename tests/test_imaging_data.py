"""Atlases, synthetic maps, loading errors, ROI statistics, PET/fMRI read-outs, validation."""

import socket

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from neuroadapt.imaging.atlases import aal3, gm_mask, harvard_oxford
from neuroadapt.imaging.load import ImagingInputError, load_maps
from neuroadapt.imaging.readouts import fmri_cue_contrast, pet_bpnd, srtm_bfm, srtm_tac
from neuroadapt.imaging.roi import compare_groups
from neuroadapt.imaging.synth import MapSynthesizer, make_participants
from neuroadapt.model.structure import REGIONS


def test_atlases_cover_every_region_without_network(monkeypatch):
    def no_net(*a, **k):
        raise AssertionError("network access at run time")

    monkeypatch.setattr(socket.socket, "connect", no_net)
    assert int((np.asarray(gm_mask().dataobj) > 0).sum()) == 204492
    for atlas in (harvard_oxford(), aal3()):
        for region in REGIONS:
            assert atlas.region_mask(region).sum() > 100, (atlas.name, region)


def test_synthetic_maps_reproducible_per_subject_and_atrophy_lowers_region():
    p = make_participants(2, 1, seed=3)
    change = pd.DataFrame(0.0, index=p["participant_id"], columns=list(REGIONS))
    change.loc["sub-001", "putamen"] = -0.3
    s = MapSynthesizer(seed=3)
    full = list(s.maps(p, change))
    alone = s.subject_map(p.iloc[1], change.loc["sub-002"].to_numpy())
    assert np.array_equal(full[1], alone)
    same = s.subject_map(p.iloc[0], np.zeros(len(REGIONS)))
    put = s.regions == REGIONS.index("putamen") + 1
    other = s.regions == REGIONS.index("precuneus") + 1
    assert full[0][put].mean() < 0.85 * same[put].mean()
    assert full[0][other].mean() == pytest.approx(same[other].mean(), rel=0.02)


@pytest.fixture
def tiny(tmp_path):
    """Four small maps (4 mm grid) and a participants table."""
    aff = np.diag([4.0, 4.0, 4.0, 1.0])
    aff[:3, 3] = [-90, -126, -72]
    rng = np.random.default_rng(0)
    for i in range(4):
        data = 0.5 + 0.05 * rng.standard_normal((12, 12, 10))
        nib.save(nib.Nifti1Image(data.astype(np.float32), aff), tmp_path / f"sub-{i}_gm.nii.gz")
    pt = pd.DataFrame({"participant_id": [f"sub-{i}" for i in range(4)],
                       "group": ["user", "user", "control", "control"]})  # fmt: skip
    pt.to_csv(tmp_path / "participants.tsv", sep="\t", index=False)
    return tmp_path, aff


def _err(*args, **kw):
    with pytest.raises(ImagingInputError) as exc:
        load_maps(*args, **kw)
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_loader_accepts_good_input(tiny):
    d, _ = tiny
    ms = load_maps(d, d / "participants.tsv")
    assert (
        ms.data.shape == (4, 1440)
        and list(ms.participants["group"]) == ["user"] * 2 + ["control"] * 2
    )


def test_loader_errors_name_the_file(tiny):
    d, aff = tiny
    nib.save(nib.Nifti1Image(np.ones((12, 12, 9), np.float32), aff), d / "sub-3_gm.nii.gz")
    assert "sub-3_gm.nii.gz" in _err(d, d / "participants.tsv") and "shape" in _err(
        d, d / "participants.tsv"
    )
    nib.save(nib.Nifti1Image(np.ones((12, 12, 10), np.float32), aff * 2), d / "sub-3_gm.nii.gz")
    assert "affine" in _err(d, d / "participants.tsv")
    bad = np.ones((12, 12, 10), np.float32)
    bad[0, 0, 0] = np.nan
    nib.save(nib.Nifti1Image(bad, aff), d / "sub-3_gm.nii.gz")
    assert "NaN" in _err(d, d / "participants.tsv")
    nib.save(nib.Nifti1Image(np.zeros((12, 12, 10), np.float32), aff), d / "sub-3_gm.nii.gz")
    assert "sub-3_gm.nii.gz: every voxel is 0" in _err(d, d / "participants.tsv")


def test_loader_errors_on_table_and_mask(tiny):
    d, aff = tiny
    pt = pd.read_csv(d / "participants.tsv", sep="\t")
    pt.assign(group=["user", "patient", "control", "control"]).to_csv(
        d / "p2.tsv", sep="\t", index=False
    )
    assert "p2.tsv: column 'group' has value 'patient'" in _err(d, d / "p2.tsv")
    pt.drop(columns="group").to_csv(d / "p3.tsv", sep="\t", index=False)
    assert "no 'group' column" in _err(d, d / "p3.tsv")
    pt.iloc[:3].to_csv(d / "p4.tsv", sep="\t", index=False)
    assert "sub-3 has no row" in _err(d, d / "p4.tsv")
    assert "mask is empty" in _err(d, d / "participants.tsv", mask=np.zeros((12, 12, 10), bool))


def test_roi_comparison_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    p = make_participants(15, 15, seed=1)
    rng = np.random.default_rng(1)
    vals = pd.DataFrame({"a": rng.normal(10, 1, 30) - 0.8 * (p["group"] == "user").to_numpy()},
                        index=p["participant_id"])  # fmt: skip
    res = compare_groups(vals, p).iloc[0]
    X = np.c_[np.ones(30), (p["group"] == "user"), p["age"], p["sex"] == "F", p["tiv"]].astype(
        float
    )
    fit = sm.OLS(vals["a"].to_numpy(), X).fit()
    assert res["t"] == pytest.approx(fit.tvalues[1]) and res["p"] == pytest.approx(fit.pvalues[1])
    u, c = vals["a"][p["group"].values == "user"], vals["a"][p["group"].values == "control"]
    pooled = np.sqrt((u.var() + c.var()) / 2)
    assert res["cohens_d"] == pytest.approx((u.mean() - c.mean()) / pooled)


def test_pet_recovers_bpnd_and_fmri_scales_with_craving():
    _, _, ct = srtm_tac(np.array([1.0, 2.0, 3.5]))
    assert np.allclose(srtm_bfm(ct), [1.0, 2.0, 3.5], rtol=0.03)
    p = make_participants(20, 20, seed=2)
    meas, true = pet_bpnd(p, np.r_[np.full(20, 0.8), np.ones(20)], seed=2)
    assert (meas - true).abs().to_numpy().mean() / true.to_numpy().mean() < 0.05
    assert compare_groups(meas, p)["diff_pct"].lt(-10).all()
    f = fmri_cue_contrast(p, np.r_[np.full(20, 1.0), np.zeros(20)], seed=2)
    assert compare_groups(f, p).set_index("region").loc["nucleus accumbens", "p"] < 0.01
    with pytest.raises(ValueError):
        pet_bpnd(p, np.ones(3))


def test_pet_test_retest_variability_matches_raclopride_studies():
    from neuroadapt.imaging.readouts import pet_test_retest

    # [11C]raclopride, SRTM: 3.6-5.8 % (Alakurtti et al. 2011); MRTM 6.5 % (Yoder et al. 2011)
    trv = pet_test_retest(n=150, seed=3)
    assert trv.between(3.0, 7.0).all(), trv


def _box_mask(box):
    mask = np.zeros(gm_mask().shape, bool)
    mask[box] = True
    return mask & (np.asarray(gm_mask().dataobj) > 0)


def test_validation_small():
    from neuroadapt.imaging.validation import validate

    mask = _box_mask(np.s_[55:75, 60:80, 25:45])  # right putamen / insula neighbourhood
    r = validate({"putamen": -0.2}, n_users=12, n_controls=12, n_cohorts=1, n_null=2,
                 n_permutations=50, mask=mask)  # fmt: skip
    sens = r.sensitivity.set_index("region")
    assert sens.loc["putamen", "detected_TFCE"] == 1.0
    assert sens.loc["putamen", "true_change_pct"] == pytest.approx(-20.0)
    assert sens.loc["putamen", "voxel_fraction_TFCE"] > 0.2
    assert set(r.fwe["inference"]) == {"max-T", "cluster mass", "TFCE"}
    assert (r.fwe["null_cohorts"] == 2).all() and 0 <= r.fwe_tfce <= 1
    assert r.n_voxels == int(mask.sum())
    assert (r.fwe["ci95_low"] <= r.fwe["rate"]).all()
    assert (r.fwe["rate"] <= r.fwe["ci95_high"]).all()


def test_validation_draws_users_from_a_pool_of_model_changes():
    from neuroadapt.imaging.validation import validate

    mask = _box_mask(np.s_[55:65, 62:72, 30:38])
    pool = pd.DataFrame(0.0, index=range(3), columns=list(REGIONS))
    pool["putamen"] = [-0.1, -0.2, -0.3]
    r = validate(n_users=6, n_controls=6, n_cohorts=1, n_null=0, n_permutations=10,
                 mask=mask, user_changes=pool)  # fmt: skip
    change = r.sensitivity.set_index("region").loc["putamen", "true_change_pct"]
    assert -30 <= change <= -10 and change not in (-10.0, -20.0, -30.0)


def test_truth_comparison_separates_loss_regions_spillover_and_false_positives():
    from neuroadapt.imaging.atlases import harvard_oxford
    from neuroadapt.imaging.truth import compare_with_truth

    mask = np.asarray(gm_mask().dataobj) > 0
    ho = harvard_oxford()
    put = ho.region_mask("putamen")
    occipital = np.isin(ho.labels, [v for v, n in ho.names.items() if "Occipital_Pole" in n])
    sig3d = put | occipital
    change = pd.Series(0.0, index=list(REGIONS))
    change["putamen"], change["insula"] = -0.15, -0.005  # insula below the 1 % loss threshold
    c = compare_with_truth({"TFCE": sig3d[mask], "max-T": put[mask]}, mask, gm_mask().affine,
                           change)  # fmt: skip
    regions = c.regions.set_index("region")
    assert regions.loc["putamen", "model_loss"] and regions.loc["putamen", "detected_TFCE"]
    assert not regions.loc["insula", "model_loss"]
    assert c.summary["loss_regions"] == ["putamen"]
    tfce, maxt = c.summary["by_inference"]["TFCE"], c.summary["by_inference"]["max-T"]
    assert tfce["inside"] == maxt["inside"] == int((put & mask).sum())
    assert tfce["far"] == int((occipital & mask).sum()) > 0 and maxt["far"] == 0
    assert c.elsewhere["atlas_label"].str.contains("Occipital_Pole").all()
    assert set(c.elsewhere["inference"]) == {"TFCE"}
    assert "TFCE: detected 1 of them" in c.text()


@pytest.mark.slow
def test_fwe_over_null_cohorts_is_at_most_alpha():
    """FWE <= 5 % within binomial uncertainty over 100 null cohorts (about 2 min)."""
    from neuroadapt.imaging.validation import validate

    mask = _box_mask(np.s_[:, :, 33:40])  # MNI z -6 to +6 mm
    r = validate(n_users=12, n_controls=12, n_cohorts=0, n_null=100, n_permutations=100,
                 mask=mask, seed=1)  # fmt: skip
    for row in r.fwe.itertuples():
        assert row.ci95_low <= 0.05, row  # not significantly above alpha (k <= 10 of 100)


def test_readout_report_has_figures_and_contrasts_in_their_own_units(tmp_path):
    from neuroadapt.report.imaging import Readout, build_imaging_report

    p = make_participants(8, 8, seed=5)
    pet, _ = pet_bpnd(p, np.r_[np.full(8, 0.8), np.ones(8)], seed=5)
    fmri = fmri_cue_contrast(p, np.r_[np.full(8, 0.8), np.zeros(8)], seed=5)
    fmri_table = compare_groups(fmri, p, relative=False)
    assert "diff_pct" not in fmri_table and "adjusted_diff_pct" not in fmri_table
    u, c = (fmri[p["group"].to_numpy() == g]["insula"] for g in ("user", "control"))
    assert fmri_table.set_index("region").loc["insula", "diff"] == pytest.approx(
        u.mean() - c.mean()
    )
    groups = p.set_index("participant_id")["group"]
    change = pd.DataFrame(-0.1 * (groups == "user").to_numpy()[:, None] * np.ones(len(REGIONS)),
                          index=p["participant_id"], columns=list(REGIONS))  # fmt: skip
    path = build_imaging_report(
        tmp_path / "r.html",
        title="t",
        readouts=[
            Readout("PET", pet, groups, compare_groups(pet, p), "pet.", "BP_ND"),
            Readout("fMRI", fmri, groups, fmri_table, "fmri.", "contrast (% signal change)"),
        ],
        extra=[("Ground truth", change.groupby(groups).mean().T.reset_index(), "truth.")],
        truth_change=(change, p),
    )
    html = path.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 3  # PET, fMRI, ground truth
    fmri_section = html[html.index("<h2>fMRI") :]
    assert "diff_pct" not in fmri_section[: fmri_section.index("<h2>", 4)]


def test_vbm_figure_is_not_empty_when_nothing_survives():
    import base64
    import io

    import matplotlib.image as mpimg

    from neuroadapt.imaging.load import MapSet
    from neuroadapt.imaging.pipeline import run_vbm
    from neuroadapt.report.imaging import vbm_figures

    p = make_participants(6, 6, seed=3)
    mask = np.ones((12, 12, 12), bool)
    data = 0.5 + 0.05 * np.random.default_rng(3).standard_normal((12, mask.sum()))
    aff = np.diag([4.0, 4.0, 4.0, 1.0])
    aff[:3, 3] = [-24, -24, -24]
    maps = MapSet(data, mask, aff, p, [], 4)
    result = run_vbm(maps, "users<controls", n_permutations=19, tfce=False, cluster_p=None)
    assert not (result.p_map() < 0.05).any()
    glass = vbm_figures(result)[0]
    assert glass["caption"].startswith("Glass brain: no voxel at FWE p < 0.05")
    rgb = mpimg.imread(io.BytesIO(base64.b64decode(glass["uri"].split(",", 1)[1])), format="png")
    panels = rgb[:, : int(0.85 * rgb.shape[1]), :3]  # the three views, not the colour bar
    coloured = panels.max(axis=2) - panels.min(axis=2) > 0.3  # the yellow-red of positive t
    assert coloured.sum() > 10  # the map is drawn
