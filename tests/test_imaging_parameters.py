"""Imaging numbers that live in the parameter table: defaults reproduce the former
inline formulas exactly, and a changed table value changes the result."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import gamma

import neuroadapt.imaging.parameters as imaging_params
from neuroadapt.imaging.parameters import imaging_parameters
from neuroadapt.imaging.readouts import (
    bfm_thetas,
    block_design,
    canonical_hrf,
    srtm_bfm,
    srtm_tac,
)
from neuroadapt.imaging.synth import make_participants, subject_rng
from neuroadapt.parameters import load_parameters

#: The rows that replaced inline numbers, with their table values (working units).
MOVED = {
    "years_use_ref_age": 20.0,
    "years_use_at_ref_age": 5.0,
    "years_use_slope": 0.25,
    "years_use_min": 1.0,
    "pet_bfm_theta_min": 0.006,
    "pet_bfm_theta_max": 0.6,
    "pet_bfm_n": 100.0,
    "hrf_delay": 6.0,
    "hrf_undershoot_delay": 16.0,
    "hrf_dispersion": 1.0,
    "hrf_undershoot_dispersion": 1.0,
    "hrf_ratio": 6.0,
    "hrf_length": 32.0,
    "participant_age_mean": 35.0,
    "participant_age_sd": 8.0,
    "participant_age_min": 18.0,
    "participant_age_max": 80.0,
    "participant_female_fraction": 0.3,
}


@pytest.fixture
def table_with(monkeypatch):
    """Replace table values (internal units, ``img_`` names) for imaging_parameters."""

    def use(**values):
        ps = load_parameters("human").with_values(**values)
        monkeypatch.setattr(imaging_params, "load_parameters", lambda species="human": ps)

    return use


def _old_hrf(dt, length=32.0):
    """The inline SPM HRF before the constants moved to the table."""
    t = np.arange(0.0, length, dt)
    h = gamma.pdf(t, 6.0) - gamma.pdf(t, 16.0) / 6.0
    return h / h.sum()


def _old_demographics(n, seed, age_mean=35.0, age_sd=8.0, female_fraction=0.3):
    """Ages and sexes as drawn with the inline numbers before they moved to the table."""
    ages, sexes = [], []
    for i in range(n):
        rng = subject_rng(seed, f"sub-{i + 1:03d}", "demographics")
        age = float(np.clip(age_mean + age_sd * rng.standard_normal(), 18, 80))
        ages.append(round(age, 2))
        sexes.append("F" if rng.random() < female_fraction else "M")
    return np.array(ages), np.array(sexes)


def test_moved_rows_are_in_the_table_with_unit_bounds_and_source():
    ps = load_parameters("human")
    p = imaging_parameters()
    for name, value in MOVED.items():
        row = ps.params[f"img_{name}"]
        assert p[name] == value, name
        assert row.unit.strip() and row.lower <= row.value <= row.upper, name
        src = row.source.lower()
        assert src.startswith(("assumption", "standard")), name
    # the years-of-use fallback is labelled an assumption, the SPM HRF a standard
    assert all(ps.params[f"img_{k}"].is_assumption for k in MOVED if k.startswith("years_use"))
    assert all("spm_hrf" in ps.params[f"img_{k}"].source for k in MOVED if k.startswith("hrf"))
    assert all("10.1006/nimg.1997.0303" in ps.params[f"img_pet_bfm_{k}"].source
               for k in ("theta_min", "theta_max", "n"))  # fmt: skip


def test_years_of_use_fallback_defaults_equal_former_formula():
    p = make_participants(25, 5, seed=4, age_mean=25.0, age_sd=10.0)
    users = p["group"] == "user"
    old = np.round(np.maximum(1.0, 5.0 + 0.25 * (p["age"].to_numpy() - 20.0)), 2)
    np.testing.assert_array_equal(p.loc[users, "years_of_use"], old[users])
    assert (p.loc[~users, "years_of_use"] == 0.0).all()


def test_years_of_use_fallback_is_read_from_the_table(table_with):
    base = make_participants(10, 0, seed=4)
    steeper = make_participants(10, 0, seed=4, overrides={"years_use_slope": 0.5})
    expected = np.round(np.maximum(1.0, 5.0 + 0.5 * (base["age"].to_numpy() - 20.0)), 2)
    np.testing.assert_array_equal(steeper["years_of_use"], expected)
    short = make_participants(10, 0, seed=4, overrides={"years_use_at_ref_age": 0.5})
    expected = np.round(np.maximum(1.0, 0.5 + 0.25 * (base["age"].to_numpy() - 20.0)), 2)
    np.testing.assert_array_equal(short["years_of_use"], expected)
    assert (short["years_of_use"] == 1.0).any()  # the minimum is reached
    table_with(img_years_use_at_ref_age=8.0 * 8766.0, img_years_use_min=2.0 * 8766.0)
    longer = make_participants(10, 0, seed=4)
    expected = np.round(np.maximum(2.0, 8.0 + 0.25 * (base["age"].to_numpy() - 20.0)), 2)
    np.testing.assert_array_equal(longer["years_of_use"], expected)
    # years given by the caller bypass the fallback
    given = make_participants(10, 0, seed=4, years_of_use=np.arange(10.0))
    np.testing.assert_array_equal(given["years_of_use"], np.arange(10.0))


def test_bfm_thetas_defaults_equal_former_range_and_follow_the_table(table_with):
    np.testing.assert_array_equal(bfm_thetas(), np.geomspace(0.006, 0.6, 100))
    _, _, ct = srtm_tac(np.array([0.5, 2.0, 4.0]))
    default = srtm_bfm(ct)
    narrow = imaging_parameters({"pet_bfm_theta_max": 0.1})
    assert bfm_thetas(narrow)[-1] == pytest.approx(0.1)
    # k2a of BP_ND 0.5 is 0.35/1.5 = 0.23 /min: outside a range ending at 0.1 /min
    assert abs(srtm_bfm(ct, narrow)[0] - default[0]) > 0.02
    table_with(img_pet_bfm_n=20.0)
    assert bfm_thetas().size == 20
    assert not np.array_equal(srtm_bfm(ct), default)
    with pytest.raises(ValueError, match="theta_min"):
        bfm_thetas(imaging_parameters({"pet_bfm_theta_min": 0.7}))


def test_canonical_hrf_defaults_equal_former_constants():
    for dt in (0.1, 0.5, 2.0):
        np.testing.assert_array_equal(canonical_hrf(dt), _old_hrf(dt))
    np.testing.assert_array_equal(canonical_hrf(2.0, 30.0), _old_hrf(2.0, 30.0))  # positional
    assert float(np.argmax(canonical_hrf(0.1))) * 0.1 == pytest.approx(5.0)  # mode of Γ(6, 1)


def test_canonical_hrf_is_read_from_the_table(table_with):
    earlier = canonical_hrf(0.1, p=imaging_parameters({"hrf_delay": 5.0}))
    assert float(np.argmax(earlier)) * 0.1 == pytest.approx(4.0)
    assert canonical_hrf(0.1, p=imaging_parameters({"hrf_length": 24.0})).size == 240
    _, regs = block_design()
    table_with(img_hrf_ratio=3.0, img_hrf_length=20.0 / 3600.0)
    assert canonical_hrf(0.1).size == 200
    ratio3 = canonical_hrf(0.1, length=32.0)
    t = np.arange(0.0, 32.0, 0.1)
    h = gamma.pdf(t, 6.0) - gamma.pdf(t, 16.0) / 3.0
    np.testing.assert_allclose(ratio3, h / h.sum(), rtol=0, atol=1e-15)
    _, regs3 = block_design()
    assert not np.allclose(regs, regs3)


PARTICIPANT_ROWS = {
    "participant_age_mean": "year",
    "participant_age_sd": "year",
    "participant_age_min": "year",
    "participant_age_max": "year",
    "participant_female_fraction": "dimensionless",
}


def test_participant_rows_are_sourced_assumptions():
    ps = load_parameters("human")
    for name, unit in PARTICIPANT_ROWS.items():
        row = ps.params[f"img_{name}"]
        assert row.unit.strip() == unit, name
        assert row.lower < row.value < row.upper, name
        assert row.is_assumption and "make_participants" in row.description, name
    # the cohort-typical values cite treatment-entrant statistics
    for name in ("participant_age_mean", "participant_female_fraction"):
        assert "EMCDDA" in ps.params[f"img_{name}"].source, name
    assert "SAMHSA" in ps.params["img_participant_female_fraction"].source
    assert "adults only" in ps.params["img_participant_age_min"].source
    assert ps.params["img_participant_female_fraction"].upper <= 1.0


def test_participant_defaults_equal_former_inline_values():
    for n_users, n_controls, seed in ((25, 5, 4), (6, 6, 1), (40, 40, 2)):
        new = make_participants(n_users, n_controls, seed=seed)
        old = make_participants(
            n_users, n_controls, seed=seed, age_mean=35.0, age_sd=8.0, female_fraction=0.3
        )
        pd.testing.assert_frame_equal(new, old, check_exact=True)
        ages, sexes = _old_demographics(n_users + n_controls, seed)
        np.testing.assert_array_equal(new["age"].to_numpy(), ages)
        np.testing.assert_array_equal(new["sex"].to_numpy(), sexes)
    # a wide spread reaches both ends of the clip, as the inline 18 and 80 did
    wide = make_participants(60, 0, seed=3, age_mean=45.0, age_sd=30.0)
    ages, sexes = _old_demographics(60, 3, age_mean=45.0, age_sd=30.0)
    np.testing.assert_array_equal(wide["age"].to_numpy(), ages)
    np.testing.assert_array_equal(wide["sex"].to_numpy(), sexes)
    assert wide["age"].min() == 18.0 and wide["age"].max() == 80.0
    # positional arguments keep their places
    positional = make_participants(5, 5, 1, 40.0, 5.0, 0.5)
    np.testing.assert_array_equal(positional["age"], _old_demographics(10, 1, 40.0, 5.0, 0.5)[0])


def test_participant_demographics_are_read_from_the_table(table_with):
    base = make_participants(40, 40, seed=2)
    women = make_participants(40, 40, seed=2, overrides={"participant_female_fraction": 0.9})
    np.testing.assert_array_equal(women["sex"], _old_demographics(80, 2, female_fraction=0.9)[1])
    assert (women["sex"] == "F").sum() > (base["sex"] == "F").sum()
    assert not np.array_equal(women["tiv"], base["tiv"])  # TIV follows sex
    older = make_participants(40, 40, seed=2, overrides={"participant_age_mean": 50.0})
    np.testing.assert_array_equal(older["age"], _old_demographics(80, 2, age_mean=50.0)[0])
    spread = make_participants(40, 40, seed=2, overrides={"participant_age_sd": 4.0})
    np.testing.assert_array_equal(spread["age"], _old_demographics(80, 2, age_sd=4.0)[0])
    clipped = make_participants(
        40, 40, seed=2, overrides={"participant_age_min": 30.0, "participant_age_max": 40.0}
    )
    expected = np.round(np.clip(base["age"].to_numpy(), 30.0, 40.0), 2)
    np.testing.assert_array_equal(clipped["age"], expected)
    assert clipped["age"].min() == 30.0 and clipped["age"].max() == 40.0
    # an explicit argument wins over the table
    explicit = make_participants(
        40, 40, seed=2, female_fraction=0.3, overrides={"participant_female_fraction": 0.9}
    )
    np.testing.assert_array_equal(explicit["sex"], base["sex"])
    with pytest.raises(ValueError, match="age_min"):
        make_participants(
            2, 2, overrides={"participant_age_min": 50.0, "participant_age_max": 40.0}
        )
    # the table itself (internal unit of years: hours) changes the defaults
    table_with(img_participant_age_mean=50.0 * 8766.0, img_participant_female_fraction=0.9)
    from_table = make_participants(40, 40, seed=2)
    pd.testing.assert_frame_equal(from_table[["age", "sex"]], make_participants(
        40, 40, seed=2, age_mean=50.0, female_fraction=0.9)[["age", "sex"]])  # fmt: skip
    np.testing.assert_array_equal(
        from_table["age"], _old_demographics(80, 2, age_mean=50.0, female_fraction=0.9)[0]
    )
    assert (from_table["sex"] == "F").sum() > (base["sex"] == "F").sum()
