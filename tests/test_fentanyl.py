"""Fentanyl: the published three-compartment PK, its potency, overdose, and every engine path.

- PK: the engine's fentanyl plasma and effect-site concentrations equal a tight
  ``solve_ivp`` solution of the published model (Algera 2021 as tabulated in Mann
  2022 Supplement 1 Table S1, written here from the paper's own per-second
  constants), and the kernel's modal propagator equals ``scipy.linalg.expm`` of the
  subject's (no longer triangular) matrix.
- Slow states: the kernel's AC superactivation under heroin adulterated with
  fentanyl equals the LSODA reference (``engine.reference``).
- Potency: the fentanyl dose giving the same peak agonist occupancy (hence the
  same peak ventilatory depression) as IV heroin and IV morphine, against the
  cited ratios (fentanyl about 50 times heroin, 50-100 times morphine).
- Overdose: a clinical dose depresses breathing in naive subjects without killing
  most of them; a few mg kills most of them.
- Intranasal: bioavailability and time to peak against Foster 2008.
- SBML export and regimen text with microgram doses.
"""

from __future__ import annotations

import math

import libsbml
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from neuroadapt.engine.reference import lsoda_slow_states
from neuroadapt.engine.sbml import pk_id, to_sbml
from neuroadapt.engine.simulate import EngineOptions, simulate, trajectory
from neuroadapt.model import receptor
from neuroadapt.model.dose import Dose
from neuroadapt.model.pk import build_pk
from neuroadapt.parameters import load_parameters
from neuroadapt.scenarios import Regimen

HUMAN = load_parameters("human")
LN2 = math.log(2.0)

#: Mann J et al. 2022 Clin Pharmacol Ther 112:1020, Supplement 1 Table S1 (fentanyl IV,
#: from Algera MH et al. 2021 Clin Pharmacol Ther 109:637), in the paper's units: L/s, L, 1/s.
TABLE_S1 = {"CL": 0.021, "V1": 10.5, "V2": 14.4, "V3": 166.0, "Q2": 0.034, "Q3": 0.038, "k1": 0.003}
MW_FENTANYL = 336.5  # g/mol, PubChem CID 3345


def published_fentanyl(mg: float, times_h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plasma and effect-site fentanyl (nM) of the published model for a 70 kg adult."""
    p = TABLE_S1

    def rhs(_t, y):  # amounts in ug, effect site in ug/L; time in s
        a1, a2, a3, ce = y
        c1 = a1 / p["V1"]
        return [
            -(p["CL"] + p["Q2"] + p["Q3"]) * c1 + p["Q2"] * a2 / p["V2"] + p["Q3"] * a3 / p["V3"],
            p["Q2"] * (c1 - a2 / p["V2"]),
            p["Q3"] * (c1 - a3 / p["V3"]),
            p["k1"] * (c1 - ce),
        ]

    sol = solve_ivp(
        rhs,
        (0.0, float(times_h.max()) * 3600.0),
        [mg * 1000.0, 0.0, 0.0, 0.0],
        method="LSODA",
        rtol=1e-11,
        atol=1e-14,
        t_eval=times_h * 3600.0,
    )
    nm_per_ug_per_l = 1000.0 / MW_FENTANYL
    return sol.y[0] / p["V1"] * nm_per_ug_per_l, sol.y[3] * nm_per_ug_per_l


def test_table_rows_are_the_published_constants():
    s = HUMAN.values()
    per_s = 1.0 / 3600.0  # internal rates are per hour
    assert s["cl_fentanyl"] * per_s == pytest.approx(TABLE_S1["CL"], rel=0.01)
    assert s["q2_fentanyl"] * per_s == pytest.approx(TABLE_S1["Q2"], rel=0.01)
    assert s["q3_fentanyl"] * per_s == pytest.approx(TABLE_S1["Q3"], rel=0.01)
    for v in ("V1", "V2", "V3"):
        assert s[f"{v.lower()}_fentanyl"] == pytest.approx(TABLE_S1[v], rel=1e-9)
    k1_per_s = LN2 / (s["t_half_ke0_fentanyl"] * 3600.0)
    assert k1_per_s == pytest.approx(TABLE_S1["k1"], rel=0.005)
    assert s["mw_fentanyl"] == MW_FENTANYL
    assert s["body_weight"] == s["wt_ref_fentanyl"] == 70.0  # reference subject, no scaling


def test_plasma_and_effect_site_equal_the_published_three_compartment_model():
    mg = 0.1
    times = np.array([1, 2, 4, 6, 10, 20, 40, 60, 120, 240, 480, 1440]) / 60.0
    ds = trajectory(HUMAN, [Dose(0.0, "fentanyl", "iv", mg)], times).dataset.isel(subject=0)
    ds = ds.sel(time=times / 24.0, method="nearest")
    cp, ce = published_fentanyl(mg, times)
    # the table's rates are the paper's rounded to 3 digits in L/min (CL 1.26 = 0.021 L/s
    # exactly; Q2 2.04 and Q3 2.28 likewise) and k1 through a 3-digit half-time
    np.testing.assert_allclose(ds.conc_fentanyl.values, cp, rtol=2e-3)
    np.testing.assert_allclose(ds.pk_fentanyl_brain.values, ce, rtol=2e-3)
    # multi-exponential: redistribution takes plasma below 5% of its 1-min level within
    # the first hour, then a long terminal phase
    assert cp[7] < 0.05 * cp[0]
    assert 0.0 < cp[-1] < cp[-2] < cp[-3]


def test_intranasal_fentanyl_bioavailability_and_time_to_peak():
    """Foster 2008: F 89%, plasma Tmax 13 min after the nasal spray vs 6 min IV (venous).

    The model omits Foster's 5 min absorption lag and its plasma is central (arterial),
    while Foster sampled venous blood (IV Tmax 6 min rather than at the injection), so
    the model's Tmax is held within 13 min minus the lag, minus up to the 6 min venous
    delay: 2 to 8 min (the model gives about 4.75).
    """
    times = np.concatenate([np.arange(0.25, 60.0, 0.25), np.arange(60.0, 48 * 60.0 + 1, 10.0)])
    times = times / 60.0
    iv = trajectory(HUMAN, [Dose(0.0, "fentanyl", "iv", 0.1)], times).dataset.isel(subject=0)
    nasal = trajectory(HUMAN, [Dose(0.0, "fentanyl", "intranasal", 0.1)], times).dataset
    nasal = nasal.isel(subject=0)
    t = iv.time.values * 24.0
    auc_ratio = np.trapezoid(nasal.conc_fentanyl.values, t) / np.trapezoid(
        iv.conc_fentanyl.values, t
    )
    assert auc_ratio == pytest.approx(HUMAN.values()["f_fentanyl_intranasal"], rel=0.02)
    assert auc_ratio == pytest.approx(0.89, rel=0.03)
    tmax_min = float(t[int(np.argmax(nasal.conc_fentanyl.values))]) * 60.0
    assert 2.0 <= tmax_min <= 8.0, tmax_min


@pytest.mark.parametrize(("subject", "variability"), [(0, 0.0), (7, 1.0)])
def test_kernel_propagator_equals_matrix_exponential_of_the_mammillary_system(subject, variability):
    doses = [Dose(0.0, "heroin", "iv", 10.0), Dose(0.0, "fentanyl", "iv", 0.05)]
    samples = HUMAN.sample(np.array([subject]), 2, variability)
    pk = build_pk(samples, sorted({(d.drug, d.route) for d in doses}), 1)
    a = pk.matrix[0]
    assert np.abs(np.triu(a, 1)).max() > 0  # fentanyl's redistribution: not triangular
    x0 = np.zeros(pk.n)
    for d in doses:
        x0[pk.dose_state[(d.drug, d.route)]] += d.amount * pk.dose_factor[(d.drug, d.route)][0]
    times = np.array([0.01, 0.05, 0.1, 0.3, 1.0, 3.0, 8.0, 24.0, 48.0])
    ds = trajectory(HUMAN, doses, times, np.array([subject]), seed=2, variability=variability)
    ds = ds.dataset.isel(subject=0).sel(time=times / 24.0, method="nearest")
    ref = np.array([expm(a * t) @ x0 for t in times])
    for m, st in enumerate(pk.states):
        np.testing.assert_allclose(
            ds[f"pk_{st}"].values,
            ref[:, m],
            rtol=1e-8,
            atol=1e-11 * np.abs(ref[:, m]).max(),
            err_msg=st,
        )


def test_slow_states_under_adulterated_heroin_match_the_stiff_reference():
    """Four days of 10 mg heroin + 20 ug fentanyl q8h, then a day off."""
    doses = [
        Dose(8.0 * k, drug, "iv", mg)
        for k in range(12)
        for drug, mg in (("heroin", 10.0), ("fentanyl", 0.02))
    ]
    extra = (3.3, 30.1, 95.99, 101.5)
    opts = EngineOptions(record_every_h=24, extra_record_times_h=extra)
    res = simulate(HUMAN, doses, 5 * 24.0, np.array([3]), seed=4, variability=1.0, options=opts)
    ds = res.dataset.isel(subject=0)
    assert np.all(ds.alive.values == 1)
    t = ds.time.values * 24.0
    ref = lsoda_slow_states(HUMAN, doses, t, 3, 4, 1.0)
    for k, name in enumerate(("u_fast", "u_slow")):
        assert ref[:, k].max() > 0.01
        np.testing.assert_allclose(ds[name].values, ref[:, k], rtol=1e-3, atol=1e-6, err_msg=name)


# --- potency -----------------------------------------------------------------------------


def peak_agonist_odds(drug: str, mg: float) -> float:
    """Peak over 12 h of sum_i e_i C_i/K_i after an IV bolus (typical subject).

    The respiratory network reads agonist occupancy CAR = sum e_i odds_i / (1 + sum odds),
    a monotone function of the summed odds when only full agonists are present, so equal
    peak odds is equal peak ventilatory depression.
    """
    s = HUMAN.values()
    samples = {k: np.array([v]) for k, v in s.items()}
    pk = build_pk(samples, [(drug, "iv")], 1)
    w, v = np.linalg.eig(pk.matrix[0])
    x0 = np.zeros(pk.n)
    x0[pk.dose_state[(drug, "iv")]] = mg * pk.dose_factor[(drug, "iv")][0]
    z0 = np.linalg.solve(v, x0)
    t = np.concatenate([np.linspace(0, 1, 3601), np.linspace(1, 12, 2201)[1:]])
    x = (v @ (np.exp(np.outer(w, t)) * z0[:, None])).real
    odds = np.zeros_like(t)
    for lig, row in pk.effect_state.items():
        kd = s["kd_morphine"] * (1.0 if lig == "morphine" else s[f"affinity_ratio_{lig}"])
        odds += s[f"intrinsic_activity_{lig}"] * receptor.occupancy_odds(x[row], kd)
    return float(odds.max())


def equipotent_fentanyl_mg(drug: str, mg: float) -> float:
    """Fentanyl IV dose (mg) with the peak agonist odds of ``mg`` of ``drug`` IV (linear PK)."""
    return peak_agonist_odds(drug, mg) / peak_agonist_odds("fentanyl", 1.0)


def test_fentanyl_potency_against_heroin_and_morphine():
    """DEA Drug Fact Sheet (Fentanyl): about 50 times heroin, 100 times morphine.

    Against heroin the model gives about 50 (accepted: 25-100). Against morphine the
    cited analgesic range is 50-100 (100 ug fentanyl = 10 mg morphine IV); the model's
    ratio for *peak* depression after a bolus is higher (about 190, reported in
    docs/model.md) because morphine's effect site equilibrates over hours (Dahan 2004):
    only the lower bound is held.
    """
    vs_heroin = 10.0 / equipotent_fentanyl_mg("heroin", 10.0)
    vs_morphine = 10.0 / equipotent_fentanyl_mg("morphine", 10.0)
    assert 25.0 <= vs_heroin <= 100.0, vs_heroin
    assert vs_morphine >= 50.0, vs_morphine


# --- overdose ------------------------------------------------------------------------------


def naive_cohort(mg: float, n: int = 100):
    times = np.arange(0.5, 90.5, 0.5) / 60.0
    res = trajectory(HUMAN, [Dose(0.0, "fentanyl", "iv", mg)], times, n, seed=11, variability=1.0)
    ds = res.dataset
    nadir = ds.ventilation.min("time").values
    died = ds.death_time.notnull().values
    return nadir, died


def test_clinical_dose_depresses_breathing_and_a_few_mg_kills_most_naive_subjects():
    """150 ug is a clinical dose that naive volunteers received in Algera 2021 (apnoea only
    after a cumulative 225 ug in 3 of 14 under monitoring); in the Mann 2022 model 1.63 mg
    IV killed 52% of *chronic* users (Laffont 2024), so 3 mg must kill most naive people.
    """
    nadir, died = naive_cohort(0.15)
    assert np.median(nadir) < 0.85  # depressed breathing
    assert died.mean() <= 0.1  # not universally lethal
    _, died_3mg = naive_cohort(3.0)
    assert died_3mg.mean() >= 0.5


# --- export and regimen text ----------------------------------------------------------


def test_sbml_export_of_adulterated_heroin_validates():
    doses = [Dose(0.0, "heroin", "iv", 10.0), Dose(0.0, "fentanyl", "iv", 0.05)]
    doc = libsbml.readSBMLFromString(to_sbml(HUMAN, doses))
    doc.checkConsistency()
    bad = [
        doc.getError(i).getMessage()
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    assert bad == []
    model = doc.getModel()
    for st in ("fentanyl", "fentanyl_rapid_peripheral", "fentanyl_slow_peripheral"):
        assert model.getSpecies(pk_id(st)) is not None
        assert model.getReaction(f"r_fentanyl__{st}" if st != "fentanyl" else "r_fentanyl__out")
    assert model.getReaction("r_fentanyl_slow_peripheral__fentanyl") is not None
    assert model.getAssignmentRuleByVariable("agonist_occupancy") is not None


def test_sbml_export_simulates_like_the_engine():
    rr = pytest.importorskip("roadrunner")
    doses = [Dose(0.0, "heroin", "iv", 10.0), Dose(1.0, "fentanyl", "iv", 0.05)]
    times = np.array([0.0, 0.5, 1.02, 1.05, 1.1, 1.5, 3.0, 6.0])
    runner = rr.RoadRunner(to_sbml(HUMAN, doses))
    runner.integrator.relative_tolerance = 1e-10
    runner.integrator.absolute_tolerance = 1e-14
    names = [pk_id("fentanyl_brain"), pk_id("fentanyl_slow_peripheral"), "agonist_occupancy"]
    out = np.array(runner.simulate(times=times.tolist(), selections=["time", *names]))
    ds = trajectory(HUMAN, doses, times[1:]).dataset.isel(subject=0)
    ds = ds.sel(time=times[1:] / 24.0, method="nearest")
    np.testing.assert_allclose(ds.pk_fentanyl_brain.values, out[1:, 1], rtol=1e-6)
    np.testing.assert_allclose(ds.pk_fentanyl_slow_peripheral.values, out[1:, 2], rtol=1e-6)
    np.testing.assert_allclose(ds.agonist_occupancy.values, out[1:, 3], rtol=1e-5)


def test_regimen_text_takes_microgram_fentanyl_doses():
    events = Regimen.parse("fentanyl 100 ug iv at 0 then heroin 10 mg iv at 1h").events()
    assert [(e.drug, e.route, e.amount, e.unit) for e in events] == [
        ("fentanyl", "iv", pytest.approx(0.1), "mg"),
        ("heroin", "iv", 10.0, "mg"),
    ]
    nasal = Regimen.parse("fentanyl 50 mcg intranasal at 0").events()
    assert (nasal[0].route, nasal[0].amount) == ("intranasal", pytest.approx(0.05))
    with pytest.raises(ValueError, match="route"):
        Regimen.parse("fentanyl 100 ug smoked at 0")
