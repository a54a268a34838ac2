"""The long-term checks' quantities on small tables with known answers (no life course is run)."""

import csv
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neuroadapt.engine.lifecourse import LifeCourseResult, LifePlan
from neuroadapt.evidence import longterm_probe as LP
from neuroadapt.evidence import longterm_quantities as L
from neuroadapt.evidence import probes as P
from neuroadapt.evidence.calibration import all_checks, evaluate_checks, group_checks
from neuroadapt.evidence.checks import holds
from neuroadapt.evidence.targets import load_targets

Y = L.DAYS_PER_YEAR
PREFIXES = ("cli_", "od_", "tol_", "trt_")


def _subjects(death, cause, arm=None, lapse=None, relapse=None) -> pd.DataFrame:
    n = len(death)
    return pd.DataFrame(
        {
            "subject": np.arange(n),
            "arm": arm or ["continued use"] * n,
            "death_time_d": np.asarray(death, dtype=float),
            "death_cause": cause,
            "first_lapse_d": np.asarray(lapse if lapse is not None else [np.nan] * n, float),
            "relapse_d": np.asarray(relapse if relapse is not None else [np.nan] * n, float),
        }
    )


def _episodes(subject, day, outcome) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "subject": np.asarray(subject, dtype=np.int64),
            "start_h": 24.0 * np.asarray(day, dtype=float),
            "outcome": outcome,
        }
    )


def _dataset(times, **variables) -> xr.Dataset:
    ds = xr.Dataset(coords={"time": np.asarray(times, float)})
    for k, v in variables.items():
        v = np.asarray(v, dtype=float)
        ds[k] = (("subject", "time") if v.ndim == 2 else ("subject",)), v
    return ds


# two users for 2 years: one dies of overdose at 1 year, one lives (3 person-years)
TWO = _subjects([Y, np.nan], ["overdose", "none"])


def test_person_years_and_crude_mortality():
    assert L.person_years(TWO, 0.0, 2 * Y) == pytest.approx(3.0)
    assert L.person_years(TWO, Y, 2 * Y) == pytest.approx(1.0)  # the dead leave at death
    rate, lo, hi = L.crude_mortality(TWO, 0.0, 2 * Y)
    assert rate == pytest.approx(100.0 / 3.0)
    assert lo < rate < hi
    assert L.crude_mortality(TWO, 0.0, 2 * Y, causes=("medical",))[0] == 0.0
    assert L.crude_mortality(TWO, 0.0, 2 * Y, 1000.0, ("overdose",))[0] == pytest.approx(1000 / 3)


def test_controls_are_not_users():
    subj = pd.concat([TWO, _subjects([10.0], ["background"], arm=["control"])])
    assert L.crude_mortality(subj, 0.0, 2 * Y)[0] == pytest.approx(100.0 / 3.0)


def test_overdose_rate_case_fatality_and_years_per_overdose():
    ep = _episodes([0, 1, 1, 0], [10.0, 100.0, 400.0, Y], ["survived"] * 3 + ["fatal"])
    assert L.overdose_rate(ep, TWO, 0.0, 2 * Y)[0] == pytest.approx(100.0)  # 3 in 3 PY
    assert L.overdose_rate(ep, TWO, 0.0, 2 * Y, outcome=None)[0] == pytest.approx(400 / 3)
    assert L.case_fatality(ep, 0.0, 2 * Y)[0] == pytest.approx(25.0)
    assert L.case_fatality(ep, 0.0, 50.0)[0] == 0.0
    assert L.years_per_overdose(ep, TWO, 0.0, 2 * Y) == pytest.approx(1.0)


def test_past_year_and_lifetime_nonfatal_overdose():
    # year 1: both alive at its end (death exactly at Y counts as alive at Y), one with an NFOD;
    # year 2: only subject 1 alive at its end, with an NFOD
    subj = _subjects([Y + 1.0, np.nan], ["overdose", "none"])
    ep = _episodes([0, 1], [100.0, Y + 50.0], ["survived", "survived"])
    share, lo, hi = L.past_year_nfod(ep, subj, 2)
    assert share == pytest.approx(100.0 * 2 / 3)
    assert lo < share < hi
    assert L.ever_nfod(ep, subj, 2 * Y)[0] == pytest.approx(100.0)  # subject 1 only, alive
    assert L.ever_nfod(ep, subj, Y)[0] == pytest.approx(50.0)


def test_recent_nonfatal_overdose_rate_ratio():
    # subject 0: NFOD at day 100, dies of overdose at day 150 (recent: 50 d recent, 100 d other)
    # subject 1: NFOD at day 0 (recent 0-200), dies of overdose at day 500 (other time 300 d)
    # subject 2: no NFOD, alive to 1000 d
    subj = _subjects([150.0, 500.0, np.nan], ["overdose", "overdose", "none"])
    ep = _episodes([0, 1], [100.0, 0.0], ["survived", "survived"])
    rr, lo, hi = L.recent_nfod_fatal_rate_ratio(ep, subj, 0.0, 1000.0, 200.0)
    t_recent, t_other = 50.0 + 200.0, 100.0 + 300.0 + 1000.0
    assert rr == pytest.approx((1 / t_recent) / (1 / t_other))
    assert lo < rr < hi
    # overlapping windows are counted once
    ep2 = _episodes([2, 2], [0.0, 100.0], ["survived", "survived"])
    none_dead = _subjects([np.nan], ["none"])
    assert math.isnan(L.recent_nfod_fatal_rate_ratio(ep2, none_dead, 0.0, 1000.0, 200.0)[0])


def test_dead_after_years_is_constant_hazard():
    h = 1.0 / 3.0  # one death in 3 person-years
    share = L.dead_after_years(TWO, 2 * Y, 33.0)
    assert share[0] == pytest.approx(100.0 * (1.0 - math.exp(-h * 33.0)))
    assert share[1] < share[0] < share[2]


def test_incidence_after_discharge_kaplan_meier():
    d = 100.0
    subj = _subjects(
        [np.nan, np.nan, np.nan, 105.0, 50.0],
        ["none", "none", "none", "overdose", "overdose"],
        arm=["abstinence"] * 4 + ["abstinence"],
        lapse=[103.0, 120.0, np.nan, np.nan, np.nan],
    )
    # subject 4 died before discharge (not at risk); subject 3 censored at day 5;
    # at day 3 one of 4 lapses (S = 3/4), at day 20 one of 2 at risk (S = 3/8)
    assert L.incidence_after_discharge(subj, "first_lapse_d", d, 200.0, 10.0) == pytest.approx(25.0)
    assert L.incidence_after_discharge(subj, "first_lapse_d", d, 200.0, 30.0) == pytest.approx(62.5)
    # a lapse after the end of follow-up does not count
    assert L.incidence_after_discharge(subj, "first_lapse_d", d, 110.0, 30.0) == pytest.approx(25.0)


TIMES = [0.0, 30.0, 60.0, 90.0]
DOSE = [[10, 10, 20, 20], [10, 30, 30, 30]]
USES = [[0, 90, 90, 30], [0, 60, 90, 0]]
MODE = [[0, 0, 0, 0], [0, 0, 0, 1]]
ALIVE = [[1, 1, 1, 1], [1, 1, 1, 1]]


def _ds(**extra) -> xr.Dataset:
    return _dataset(TIMES, dose_mg=DOSE, uses=USES, mode=MODE, alive=ALIVE, **extra)


def test_daily_doses():
    ds = _ds()
    dd = L.daily_dose(ds)
    assert np.isnan(dd[0, 0])
    np.testing.assert_allclose(dd[:, 1:], [[30.0, 60.0, 20.0], [60.0, 90.0, 0.0]])
    # subject 0: (30 + 60 + 20) / 3; subject 1 in regular use at 30 and 60 only: (60 + 90) / 2
    assert L.median_daily_dose(ds, 0.0, 90.0) == pytest.approx((110 / 3 + 75.0) / 2)
    assert L.max_daily_dose(ds, 0.0, 90.0) == pytest.approx(90.0)
    assert L.max_daily_dose(ds, 60.0, 90.0) == pytest.approx(20.0)


def test_recent_intake_and_ratio_living_to_dead():
    ds = _ds()
    np.testing.assert_allclose(L.recent_intake(ds, 3), [110 / 3, 50.0])
    np.testing.assert_allclose(L.recent_intake(ds, 2, records=1), [60.0, 90.0])
    # subject 1 died of overdose at day 75 (last record before: day 60, intake (60 + 90) / 2
    # over the 2 periods hair measures); subject 0 is the living regular user at day 90
    # (intake (60 + 20) / 2)
    subj = _subjects([np.nan, 75.0], ["none", "overdose"])
    alive = [[1, 1, 1, 1], [1, 1, 1, 0]]
    ds2 = _dataset(TIMES, dose_mg=DOSE, uses=USES, mode=MODE, alive=alive)
    assert L.HAIR_RECORDS == 2
    assert L.intake_ratio_living_to_overdose_dead(ds2, subj, 90.0) == pytest.approx(40.0 / 75.0)


def test_abstinent_at_end_and_uses_per_day():
    subj = _subjects([np.nan, np.nan], ["none", "none"], arm=["abstinence", "abstinence"])
    ds = _ds()
    assert L.abstinent_at_end(ds, subj)[0] == pytest.approx(50.0)  # subject 1: mode 1, no use
    assert L.uses_per_day(ds, subj, 0.0, 90.0, "abstinence") == pytest.approx(360 / 180)
    assert L.uses_per_day(ds, subj, 60.0, 90.0, "abstinence") == pytest.approx(30 / 60)
    assert math.isnan(L.uses_per_day(ds, subj, 0.0, 90.0, "continued use"))


def test_use_settles_after_treatment():
    plan = LifePlan(use_days=365, detox_days=0, follow_up_days=730, abstinent_fraction=1.0)
    times = np.arange(0.0, 1095.0 + 1, 5.0)
    n_t = len(times)
    subj = _subjects([np.nan], ["none"], arm=["abstinence"])
    # 3 uses a day in the year of use, 0.5 a day in both later years: falls, then plateaus
    per_day = np.where(times <= 365.0, 3.0, 0.5)
    uses = (per_day * 5.0)[None, :]
    ds = _dataset(times, uses=uses, alive=np.ones((1, n_t)))
    assert L.use_settles_after_treatment(ds, subj, plan) == 1.0
    # back to full use: does not hold
    ds_back = _dataset(times, uses=np.full((1, n_t), 15.0), alive=np.ones((1, n_t)))
    assert L.use_settles_after_treatment(ds_back, subj, plan) == 0.0


def test_tolerance_direction_and_missing_variables():
    ds = _ds()
    with pytest.raises(KeyError):
        L.euphoric_tolerance_exceeds_respiratory(ds, 60.0)
    assert math.isnan(LP.needs(lambda: L.euphoric_tolerance_exceeds_respiratory(ds, 60.0))())
    eu = [[1, 2, 4, 8], [1, 3, 5, 9]]
    resp = [[1, 1.5, 2, 3], [1, 1.5, 2, 3]]
    assert L.euphoric_tolerance_exceeds_respiratory(
        _ds(tolerance_euphoric=eu, tolerance_respiratory=resp), 60.0
    )
    assert not L.euphoric_tolerance_exceeds_respiratory(
        _ds(tolerance_euphoric=resp, tolerance_respiratory=eu), 60.0
    )
    assert not holds(math.nan, None) and holds(1.0, None) and not holds(0.0, None)


def test_co_user_shares():
    ds = _dataset(TIMES, co_use=[1.0, 0.0, 1.0, 0.0])
    subj = _subjects([10.0, 20.0, 30.0, np.nan], ["overdose", "overdose", "injury", "none"])
    assert L.co_user_share_of_overdose_deaths(ds, subj) == pytest.approx(50.0)
    ep = _episodes(
        [0, 0, 1, 2, 3], [1.0] * 5, ["survived", "survived", "survived", "fatal", "survived"]
    )
    assert L.co_user_share_of_nonfatal(ds, ep) == pytest.approx(50.0)  # 2 of 4 survived
    with pytest.raises(KeyError):
        L.co_user_share_of_overdose_deaths(_ds(), subj)


def test_probe_cache_round_trip(tmp_path):
    ds = _ds(co_use=[1.0, 0.0]).assign_coords(subject=[0, 1])
    ds["unused"] = ds["uses"] * 2
    subj = _subjects([np.nan, 75.0], ["none", "overdose"])
    ep = _episodes([1], [75.0], ["fatal"])
    path = tmp_path / "probe.npz"
    LP._save(path, LifeCourseResult(ds, subj, ep))
    back = LP._load(path)
    assert "unused" not in back.dataset
    np.testing.assert_array_equal(back.dataset["uses"].values, ds["uses"].values)
    np.testing.assert_array_equal(back.dataset["co_use"].values, [1.0, 0.0])
    np.testing.assert_array_equal(back.dataset["subject"].values, [0, 1])
    pd.testing.assert_frame_equal(back.subjects, subj, check_dtype=False)
    assert back.episodes["outcome"].tolist() == ["fatal"]
    path.write_bytes(b"")
    with pytest.raises(ValueError):
        LP._load(path)


def test_probe_key_follows_the_settings(monkeypatch):
    key = LP._probe_key()
    monkeypatch.setattr(LP, "LONGTERM_SUBJECTS", LP.LONGTERM_SUBJECTS + 1)
    assert LP._probe_key() != key


def test_probe_plan_is_the_default_scenarios():
    b = LP.load_scenario("default").behaviour
    assert LP.LONGTERM_PLAN.abstinent_fraction == b.abstinent_fraction
    assert LP.LONGTERM_PLAN.start_dose_mg == b.start_dose_mg
    assert LP.LONGTERM_PLAN.route == b.route


def test_buprenorphine_occupancy_rises_with_dose_below_one():
    p = P.params()
    occ = [P.buprenorphine_occupancy(p, mg, days=7) for mg in (2.0, 16.0)]
    assert 0.0 < occ[0] < occ[1] < 100.0


def test_treatment_rows_have_no_value():
    checks = {c.target_id: c for c in group_checks("longterm")}
    results = evaluate_checks(tuple(checks[i] for i in ("trt_hat_retention_naomi",)))
    assert results[0].verdict == "explained miss" and math.isnan(results[0].value)
    assert "issue 13" in results[0].note


def test_every_shared_longterm_row_is_shipped_and_checked(shared_dir):
    with open(shared_dir / "literature" / "targets.csv", newline="", encoding="utf-8") as f:
        rows = {r["id"]: r for r in csv.DictReader(f) if r["id"].startswith(PREFIXES)}
    shipped = load_targets()
    assert set(rows) <= set(shipped)
    for tid, row in rows.items():
        assert (shipped[tid].source, shipped[tid].scale) == (row["source"], row["scale"]), tid
    checked = [c.target_id for c in all_checks()]
    assert len(checked) == len(set(checked))
    assert set(rows) <= set(checked)


def test_every_longterm_check_has_a_shipped_target():
    shipped = load_targets()
    for c in group_checks("longterm"):
        assert c.target_id in shipped, c.target_id
        if c.status == "not modelled" or not c.explained:
            continue
        assert len(c.note) > 40, c.target_id
