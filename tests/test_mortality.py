"""Mortality from other causes: the life table, the hazards, the engine's draws and the tables."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neuroadapt.engine.brain import available_brain_modules
from neuroadapt.engine.lifecourse import LifePlan, simulate_lifecourse
from neuroadapt.engine.outcomes import deaths_by_year, mortality_table, poisson_ci
from neuroadapt.engine.simulate import RescueRule
from neuroadapt.io.netcdf import write_netcdf
from neuroadapt.model import mortality as M
from neuroadapt.parameters import ParameterError, load_parameters
from neuroadapt.parameters.life_table import (
    load_life_table,
    parse_life_table,
    read_life_table_rows,
)

P = load_parameters("human")
LT = load_life_table()


def _cov(n, age, female=0.0):
    return {
        "age_years": np.full(n, float(age)),
        "female": np.full(n, female),
        "smoked_fraction": np.zeros(n),
    }


def test_every_life_table_row_has_unit_and_a_source_to_spot_check():
    rows = read_life_table_rows()
    assert len(rows) == 2 * 100
    for r in rows:
        assert r["unit"] == "dimensionless"
        assert "NCHS" in r["source"] and "70(19)" in r["source"]
        assert "spot-check" in r["source"]  # a transcription from a code copy
    # values of the literature audit (docs/literature-audit.md, section 4)
    assert LT.qx[0, 40 - LT.ages[0]] == 0.002569 and LT.qx[1, 40 - LT.ages[0]] == 0.001414
    assert LT.qx[0, 85 - LT.ages[0]] == 0.093585


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [("source", "", "source"), ("unit", "1/year", "unit"), ("qx", "1.5", "qx")],
)
def test_a_bad_life_table_row_is_refused(field, value, match):
    rows = [dict(r) for r in read_life_table_rows()]
    rows[5][field] = value
    with pytest.raises(ParameterError, match=match):
        parse_life_table(rows)


def test_the_life_table_is_not_read_as_parameters():
    assert not any(n.startswith("qx") or n == "age" for n in P.names)


def test_mortality_parameters_are_declared_with_their_units():
    for name, unit in M.PARAMETERS.items():
        assert P.params[name].unit == unit, name


def test_annual_hazard_reproduces_the_probability_of_dying():
    q = LT.qx[:, :-1]
    np.testing.assert_allclose(1.0 - np.exp(-M.annual_hazard(q)), q, rtol=1e-12)
    h = M.background_hazard(LT, np.array([30.2, 30.9]), np.array([0.0, 1.0]))
    np.testing.assert_allclose(h * M.DAYS_PER_YEAR, -np.log1p(-LT.qx[[0, 1], 30 - LT.ages[0]]))


def test_cumulative_background_is_the_sum_of_yearly_hazards():
    got = M.cumulative_background(LT, np.array([30.0]), np.array([40.0]), np.array([0.0]))
    want = -np.log(np.prod(1.0 - LT.qx[0, 30 - LT.ages[0] : 40 - LT.ages[0]]))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_excess_follows_the_state_and_the_split():
    h = np.full(3, 1e-5)
    using, abst = np.array([True, False, False]), np.array([False, True, False])
    hz = M.cause_hazards(h, using, abst, P.values())
    x_u, x_a = P["mortality_excess_using"], P["mortality_excess_abstinent"]
    np.testing.assert_allclose(hz.sum(0), h * np.array([1 + x_u, 1 + x_a, 1.0]))
    np.testing.assert_allclose(hz[2, 0] / (hz[1, 0] + hz[2, 0]), P["mortality_injury_share"])
    assert x_a < x_u  # the abstinent keep less of the excess


def test_one_day_of_inversion_dies_at_the_crossing_with_the_cause_by_share():
    n = 20000
    rng = np.random.default_rng(3)
    hz = np.array([[0.2], [0.3], [0.5]]) * np.ones((3, n))
    thr, v = -np.log(rng.random(n)), rng.random(n)
    cum, dies, frac, cause = M.other_cause_step(np.zeros(n), thr, hz, v)
    # a day of total hazard 1: death with probability 1 - exp(-1)
    assert abs(dies.mean() - (1 - np.exp(-1))) < 4 * np.sqrt(0.25 / n)
    np.testing.assert_allclose(frac[dies], thr[dies])  # (E - 0) / 1
    share = [np.mean(cause[dies] == c) for c in M.OTHER_CAUSES]
    np.testing.assert_allclose(share, [0.2, 0.3, 0.5], atol=0.02)
    assert np.all(cause[~dies] == M.NONE) and np.all(np.isnan(frac[~dies]))


@pytest.fixture(scope="module")
def drug_free():
    """The drug switched off: 3000 men aged 60 followed for 10 years."""
    n = 3000
    plan = LifePlan(use_days=3000, detox_days=14, follow_up_days=652)
    res = simulate_lifecourse(
        P,
        plan,
        n,
        _cov(n, 60),
        available_brain_modules(),
        drug_free=np.ones(n, bool),
        seed=3,
        record_every_d=365,
    )
    return plan, res


def test_without_drug_survival_follows_the_life_table(drug_free):
    """Closed-form oracle: 10-year survival = prod(1 - q_x), x = 60..69, within binomial error."""
    plan, res = drug_free
    assert plan.days == 3652  # ten years of days
    s = LT.qx[0, 60 - LT.ages[0] : 70 - LT.ages[0]]
    expected = np.prod(1.0 - s)
    n = res.subjects.shape[0]
    alive = res.subjects["death_time_d"].isna().mean()
    assert abs(alive - expected) < 3.5 * np.sqrt(expected * (1 - expected) / n), (alive, expected)
    dead = res.subjects[res.subjects["death_time_d"].notna()]
    assert (dead["death_cause"] == "background").all()  # controls have no excess
    assert (res.subjects.loc[res.subjects["death_time_d"].isna(), "death_cause"] == "none").all()
    # the recorded alive flag drops at death
    ds = res.dataset
    t = ds.time.values
    died_by = ds.death_time.values[:, None] <= t[None, :]
    np.testing.assert_array_equal(ds.alive.values == 0, died_by)


def test_mortality_table_of_controls_matches_expected_deaths(drug_free):
    plan, res = drug_free
    m = mortality_table(res.subjects, plan).set_index("group")
    row = m.loc["controls during use"]
    lo, hi = poisson_ci(row["expected_deaths"])
    assert lo <= row["deaths"] <= hi  # observed within the Poisson range of the expectation
    assert row["smr_low"] < 1.0 < row["smr_high"]


def test_mortality_table_by_hand():
    plan = LifePlan(use_days=730, detox_days=0, follow_up_days=365)
    subj = pd.DataFrame(
        {
            "subject": [0, 1, 2, 3],
            "arm": ["continued use", "abstinence", "control", "continued use"],
            "death_time_d": [365.25, np.nan, np.nan, 800.0],
            "death_cause": ["medical", "none", "none", "overdose"],
            "age_years": [30.0, 30.0, 30.0, 40.0],
            "sex": ["male", "female", "male", "male"],
        }
    )
    m = mortality_table(subj, plan).set_index("group")
    use = m.loc["users during use"]
    assert use["subjects"] == 3 and use["deaths"] == 1 and use["deaths_medical"] == 1
    assert use["person_years"] == pytest.approx((365.25 + 730 + 730) / 365.25)
    mu = M.annual_hazard(LT.qx)
    f = 730 / 365.25 - 1.0  # the second year of use is one day short of a year of age
    e = mu[0, 30 - 1]  # the man who died at 1 year
    e += mu[1, 30 - 1] + f * mu[1, 31 - 1]  # the woman who survived
    e += mu[0, 40 - 1] + f * mu[0, 41 - 1]  # the man of 40, alive at the end of use
    assert use["expected_deaths"] == pytest.approx(e, rel=1e-6)
    cont = m.loc["continued use after discharge"]
    assert cont["subjects"] == 1 and cont["deaths_overdose"] == 1
    years = deaths_by_year(subj, plan)
    cu = years[years["arm"] == "continued use"].set_index("year")
    assert cu.loc[2, "deaths_medical"] == 1  # death at exactly 1 year falls in year 2
    assert cu.loc[3, "deaths_overdose"] == 1


def _old(chunk_size, workers=1):
    """Elderly users and controls, so that some die of other causes within 100 days."""
    n = 18
    cov = _cov(n, 97)
    return simulate_lifecourse(
        P,
        LifePlan(use_days=60, detox_days=7, follow_up_days=33),
        n,
        cov,
        available_brain_modules(),
        drug_free=np.arange(n) % 3 == 0,
        seed=4,
        rescue=RescueRule(probability=0.5),
        record_every_d=10,
        chunk_size=chunk_size,
        workers=workers,
    )


@pytest.fixture(scope="module")
def old():
    return _old(18)


def test_other_cause_deaths_do_not_depend_on_chunks_or_workers(old):
    s = old.subjects
    assert s["death_cause"].isin(["background", "medical", "injury"]).sum() >= 2
    for other in (_old(5), _old(3, workers=2)):
        xr.testing.assert_equal(old.dataset, other.dataset)
        pd.testing.assert_frame_equal(old.subjects, other.subjects)


def test_after_an_other_cause_death_nothing_happens(old):
    ds = old.dataset
    for i, t in enumerate(ds.death_time.values):
        if np.isnan(t):
            continue
        later = ds.time.values - 10 > t  # records of intervals that began after the death
        assert np.all(ds.uses.values[i, later] == 0)
        assert np.all(ds.hypoxia_minutes.values[i, later] == 0)
    ep = old.episodes
    died = dict(zip(old.subjects["subject"], old.subjects["death_time_d"], strict=True))
    assert all(not (h / 24.0 > died[s]) for s, h in zip(ep["subject"], ep["start_h"], strict=True))


def test_results_carry_traits_and_cause_of_death(old, tmp_path):
    ds = old.dataset
    assert set(ds.route.values) == {"iv", "none"}
    assert set(ds.sex.values) == {"male"} and np.all(ds.age_years.values == 97.0)
    weight = ds.trait.sel(parameter="body_weight")
    assert str(weight.parameter_units.values) == "kg"
    np.testing.assert_allclose(weight.values, P.sample(ds.subject.values, 4, 1.0)["body_weight"])
    varied = sorted(k for k, p in P.params.items() if p.cv > 0)
    assert sorted(ds.parameter.values.tolist()) == varied
    path = write_netcdf(ds, tmp_path / "r.nc", time_origin="2000-01-01 00:00:00")
    back = xr.open_dataset(path, engine="h5netcdf")
    assert list(back.death_cause.values) == list(ds.death_cause.values)
    back_weight = back.trait.sel(parameter="body_weight")
    assert str(back_weight.parameter_long_name.values).startswith("Body weight")
    np.testing.assert_array_equal(back_weight.values, weight.values)
    back.close()


def test_checkpoints_are_keyed_by_the_life_table(tmp_path, monkeypatch):
    """Another life table does not resume the chunks of the shipped one."""
    import dataclasses

    from neuroadapt.engine import lifecourse, lifecourse_mortality

    def run():
        return simulate_lifecourse(
            P,
            LifePlan(use_days=10, detox_days=2, follow_up_days=3),
            2,
            _cov(2, 99.99),  # 100 (the open age: qx = 1) on day 3
            available_brain_modules(),
            drug_free=np.array([False, True]),
            seed=1,
            record_every_d=5,
            checkpoint_dir=tmp_path,
        )

    shipped = run()
    assert list(shipped.dataset.death_cause.values) == ["background", "background"]  # at 100
    other = dataclasses.replace(LT, qx=np.where(LT.qx < 1.0, LT.qx * 0.0, 1.0))
    other = dataclasses.replace(other, ages=LT.ages + 5)  # the open age moves to 105
    monkeypatch.setattr(lifecourse, "load_life_table", lambda: other)
    monkeypatch.setattr(lifecourse_mortality, "load_life_table", lambda: other)
    again = run()
    assert len(list(tmp_path.glob("life-*.npz"))) == 2  # a new chunk, not the old one
    assert list(again.dataset.death_cause.values) == ["none", "none"]
