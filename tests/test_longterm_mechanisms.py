"""The decade's mechanisms: multi-timescale tolerance, escalation, batch purity, fentanyl, co-use,
and leaving regular use."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroadapt.engine import lifecourse as LC
from neuroadapt.engine.brain import available_brain_modules
from neuroadapt.engine.simulate import RescueRule
from neuroadapt.model import behaviour as B
from neuroadapt.model import tolerance as T
from neuroadapt.parameters import load_parameters
from neuroadapt.scenarios import ScenarioError, load_scenario, validate_scenario

P = load_parameters("human")
V = {k: np.array([v]) for k, v in P.values().items()}


def _cov(n):
    return {"age_years": np.full(n, 30.0), "female": np.zeros(n), "smoked_fraction": np.zeros(n)}


def test_adaptation_relaxes_exactly_with_its_own_half_times():
    """Eq. (1): a constant exposure is approached with t_half_on, lost with t_half_off."""
    p = dict(V)
    a = np.array([0.5])
    e = 0.5 / (0.5 + p["tol_exposure_e50"][0])
    st0 = {"receptor": np.zeros(1), "circuit": np.zeros(1)}
    s = T.step(st0, {"activation_mean": a}, p, 30.0)
    for name, stem in (("receptor", "tol_receptor"), ("circuit", "tol_circuit")):
        k_on = math.log(2) / (p[f"t_half_{stem}_on"][0] / 24.0)
        assert s[name][0] == pytest.approx(e * (1 - math.exp(-k_on * 30.0)), rel=1e-9)
    off = T.step(s, {"activation_mean": np.zeros(1)}, p, 10.0)
    k_off = math.log(2) / (p["t_half_tol_receptor_off"][0] / 24.0)
    assert off["receptor"][0] == pytest.approx(s["receptor"][0] * math.exp(-k_off * 10.0))


@settings(max_examples=50, deadline=None)
@given(
    ac=st.floats(1.0, 3.3), r=st.floats(0.0, 1.0), c=st.floats(0.0, 1.0), rho=st.floats(0.5, 1.0)
)
def test_respiratory_tolerance_stays_below_euphoric_when_the_ac_shift_is_shared(ac, r, c, rho):
    """With a respiratory AC gain of at most 1, eq. (3) never exceeds eq. (2) (b_r < a_r)."""
    p = dict(V)
    p["resp_tolerance_gain"] = np.array([rho])
    out = T.observe(
        {"receptor": np.array([r]), "circuit": np.array([c])},
        {"tolerance_shift": np.array([ac])},
        p,
    )
    assert out["respiratory"][0] <= out["euphoric"][0] + 1e-12
    assert out["receptor_shift"][0] >= 1.0


def test_uses_per_day_rise_with_circuit_tolerance():
    p = {"uses_per_day_start": np.array([1.5, 1.5]), "uses_per_day": np.array([3.0, 3.0])}
    assert B.uses_per_day(np.array([0.0, 1.0]), p, 8).tolist() == [2, 3]


def test_cessation_probability_is_one_minus_exp_of_the_hazard():
    p = {"cessation_rate": np.array([1e-4])}
    assert B.cessation_probability(28, p)[0] == pytest.approx(1 - math.exp(-1e-4 * 24 * 28))


def test_batch_purity_is_constant_within_a_batch_and_varies_between():
    """Doses of one batch share its purity factor; with no within-batch spread they are equal."""
    n = 3
    p = {
        "first_use_hour": np.full(n, 8.0),
        "waking_hours": np.full(n, 16.0),
        "purity_cv": np.zeros(n),
        "purity_batch_cv": np.full(n, 0.3),
        "purity_batch_days": np.full(n, 7 * 24.0),
        "fentanyl_per_heroin": np.full(n, 0.02),
    }
    ids = np.arange(n, dtype=np.int64)
    start, end, t, amount, pair = LC._block_events(
        np.full(n, 2), np.full(n, 10.0), ids, 0, 28, 1, p
    )
    assert (pair == 0).all()
    first = amount[start[0] : end[0]].reshape(4, 14)  # 4 batches of 7 days x 2 doses
    assert np.allclose(first, first[:, :1])
    assert len(np.unique(first[:, 0].round(12))) == 4


def test_fentanyl_events_follow_their_heroin_dose_in_adulterated_batches():
    n = 4
    p = {
        "first_use_hour": np.full(n, 8.0),
        "waking_hours": np.full(n, 16.0),
        "purity_cv": np.full(n, 0.15),
        "purity_batch_cv": np.full(n, 0.3),
        "purity_batch_days": np.full(n, 7 * 24.0),
        "fentanyl_per_heroin": np.full(n, 0.02),
    }
    ids = np.arange(n, dtype=np.int64)
    plain = LC._block_events(np.full(n, 3), np.full(n, 20.0), ids, 14, 28, 2, p)
    start, end, t, amount, pair = LC._block_events(
        np.full(n, 3), np.full(n, 20.0), ids, 14, 28, 2, p, fentanyl_fraction=0.5
    )
    heroin = pair == 0
    assert np.array_equal(amount[heroin], plain[3]) and np.array_equal(t[heroin], plain[2])
    assert 0 < (pair == 1).sum() < heroin.sum()
    f = np.flatnonzero(pair == 1)
    assert np.array_equal(t[f], t[f - 1]) and np.allclose(amount[f], 0.02 * amount[f - 1])
    for i in range(n):  # every subject's events stay contiguous and in time order
        assert np.all(np.diff(t[start[i] : end[i]]) >= 0)
        assert (end[i] - start[i]) == 3 * 28 + (pair[start[i] : end[i]] == 1).sum()


def _course(n, plan, **kw):
    return LC.simulate_lifecourse(
        P,
        plan,
        n,
        _cov(n),
        available_brain_modules(),
        seed=3,
        rescue=RescueRule(probability=0.5),
        record_every_d=30,
        **kw,
    )


@pytest.fixture(scope="module")
def two_years():
    return _course(60, LC.LifePlan(use_days=730, detox_days=14, follow_up_days=200))


def test_tolerance_grows_for_years_and_respiratory_tolerance_lags(two_years):
    ds = two_years.dataset
    alive = ds.alive.values > 0
    t = ds.time.values
    m3, y2 = np.searchsorted(t, 90), np.searchsorted(t, 720)
    euph, resp = ds.tolerance_euphoric.values, ds.tolerance_respiratory.values
    assert np.median(euph[alive[:, y2], y2]) > 1.3 * np.median(euph[alive[:, m3], m3])
    using = alive & (ds["mode"].values == 0)
    for i in np.flatnonzero(t > 0):  # the typical user, at every record
        assert np.median(resp[using[:, i], i]) < np.median(euph[using[:, i], i])
    # people differ (resp_tolerance_gain and the receptor gains vary): most, not all
    assert (resp[using[:, y2], y2] < euph[using[:, y2], y2]).mean() > 0.8


def test_dose_escalates_and_uses_rise(two_years):
    ds = two_years.dataset
    t = ds.time.values
    alive = ds.alive.values > 0
    m1, y2 = np.searchsorted(t, 30), np.searchsorted(t, 720)
    dose = ds.dose_mg.values
    assert np.median(dose[alive[:, y2], y2]) > 1.5 * np.median(dose[alive[:, m1], m1])
    uses = ds.uses.values
    assert np.median(uses[alive[:, y2], y2]) > np.median(uses[alive[:, m1], m1])


def test_co_users_are_a_drawn_trait_with_a_weaker_chemoreflex(two_years):
    co = two_years.dataset.co_use.values.astype(bool)
    frac = P["couse_fraction"]
    assert abs(co.mean() - frac) < 3 * math.sqrt(frac * (1 - frac) / len(co))
    ph = LC._Pharmacology(P, LC.LifePlan(), np.arange(60), 3, 1.0, None)
    assert np.array_equal(ph.co_use, co)
    from neuroadapt.engine import kernel as K

    ratio = ph.pvec[:, K.I_S] / ph.prep.pvec[:, K.I_S]
    assert np.allclose(ratio[~co], 1.0) and np.all(ratio[co] < 1.0)


def test_people_leave_regular_use_again_after_relapse():
    res = _course(80, LC.LifePlan(use_days=120, detox_days=14, follow_up_days=720))
    s = res.subjects
    relapsed = s.relapse_d.notna()
    assert relapsed.sum() > 10
    again = s[relapsed & s.abstinent_again_d.notna()]
    assert len(again) > 0.15 * relapsed.sum()
    assert (again.abstinent_again_d > again.relapse_d).all()
    assert (again.stops >= 2).all()


def test_fentanyl_in_the_supply_raises_overdoses():
    plan = LC.LifePlan(use_days=365, detox_days=1, follow_up_days=1, abstinent_fraction=0.0)
    base = _course(60, plan)
    spiked = _course(60, LC.LifePlan(**{**plan.__dict__, "fentanyl_fraction": 0.6}))
    assert len(spiked.episodes) > 1.3 * len(base.episodes)


def test_fentanyl_needs_a_route_fentanyl_has():
    data = load_scenario("default").model_dump(exclude_none=True)
    data["behaviour"].update(route="smoked", fentanyl_fraction=0.5)
    with pytest.raises(ScenarioError, match="behaviour.fentanyl_fraction"):
        validate_scenario(data)
    data["behaviour"].update(route="iv")
    assert validate_scenario(data).behaviour.fentanyl_fraction == 0.5


def test_caution_scales_a_dose_and_wears_off():
    """Eq. (2b): the dose is scaled by f_od**k; k halves every t_caution."""
    f = P["overdose_dose_reduction"]
    t_half_h = P["t_half_overdose_caution"]
    rate = math.log(2) / t_half_h
    assert B.cautious_dose(100.0, 2.0, f) == pytest.approx(100.0 * f**2)
    assert B.cautious_dose(100.0, 0.0, f) == 100.0
    assert B.caution_decayed(2.0, rate, t_half_h) == pytest.approx(1.0)
    assert B.caution_decayed(2.0, rate, -5.0) == 2.0


def _pharm_day(caution, dose_mg, n=12, n_days=1, u_slow=0.0):
    """Run ``n`` regular users for ``n_days`` through the kernel with a caution triple."""
    ph = LC._Pharmacology(P, LC.LifePlan(), np.arange(n), 3, 1.0, None)
    ph.u[:, 1] = u_slow  # tolerance already acquired
    sub = ph.rows(np.arange(n), np.ones(n))
    triple = tuple(np.broadcast_to(np.asarray(c, float), (n,)).copy() for c in caution)
    return ph.run(sub, np.full(n, 4, dtype=np.int64), np.full(n, dose_mg), 0, n_days, triple)


def test_kernel_caution_makes_the_next_dose_smaller():
    """In the kernel a survived overdose lowers the very next dose (eq. 2b, dose by dose)."""
    from neuroadapt.engine import kernel as K

    rate = math.log(2) / P["t_half_overdose_caution"]
    # a caution of 2 at f = 0.5 is a quarter of the dose, exactly
    rec_c, *_ = _pharm_day((2.0, 0.5, 0.0), 40.0)
    rec_q, *_ = _pharm_day((0.0, 0.5, 0.0), 10.0)
    assert np.isfinite(rec_q[:, 0, K.R_APEAK]).all()
    assert np.allclose(rec_c[:, 0, K.R_APEAK], rec_q[:, 0, K.R_APEAK])
    # without an overdose the caution only decays
    *_, k_end = _pharm_day((1.0, 0.5, rate), 5.0)
    assert np.allclose(k_end, math.exp(-rate * 24.0))
    # a dose that overdoses a tolerant person: with caution the doses after an
    # episode are smaller, so there are fewer repeats
    _, _, eps_off, _ = _pharm_day((0.0, 1.0, rate), 80.0, n_days=3, u_slow=1.0)
    _, _, eps_on, k_on = _pharm_day((0.0, 0.5, rate), 80.0, n_days=3, u_slow=1.0)
    assert len(eps_off) >= 5
    assert len(eps_on) < 0.5 * len(eps_off)
    assert np.all(k_on[[e[0] for e in eps_on]] > 0.5)


def test_use_by_year_counts_what_the_records_say(two_years):
    """tables/use_by_year.csv: year 1 by hand from the dataset, subjects and episodes."""
    from neuroadapt.engine.outcomes import use_by_year

    res = two_years
    plan = LC.LifePlan(use_days=730, detox_days=14, follow_up_days=200)
    table = use_by_year(res.dataset, res.subjects, res.episodes, plan)
    assert list(table.group[:2]) == ["all users", "all users"]
    assert set(table.group[2:]) <= {"continued use", "abstinence"}
    y1 = table.iloc[0]
    ep = res.episodes
    first = ep[(ep.start_h < 365.25 * 24) & (ep.outcome == "survived")].subject.unique()
    assert y1.alive_at_start == len(res.subjects)
    assert y1.nonfatal_overdose_pct == pytest.approx(100 * len(first) / len(res.subjects))
    assert y1.overdose_episodes == int((ep.start_h < 365.25 * 24).sum())
    ds = res.dataset
    i = int(np.searchsorted(ds.time.values, 365.25, side="right")) - 1
    using = (ds.alive.values[:, i] > 0) & (ds["mode"].values[:, i] == 0)
    span = ds.time.values[i] - ds.time.values[i - 1]
    daily = ds.dose_mg.values[using, i] * ds.uses.values[using, i] / span
    assert y1.daily_dose_mg_median == pytest.approx(np.median(daily), rel=1e-6)
    assert y1.euphoric_tolerance_median == pytest.approx(
        np.median(ds.tolerance_euphoric.values[using, i]), rel=1e-6
    )
    assert (table.nonfatal_overdose_pct.between(0, 100)).all()
