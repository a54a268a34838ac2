"""Virtual experiments that measure the model the way the cited studies measured people and rats.

Each probe runs the engine on a typical subject (no inter-individual
variability) and returns one number. The calibration table
(:mod:`neuroadapt.evidence.calibration`) compares those numbers with the
literature.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from neuroadapt.engine.brain import available_brain_modules
from neuroadapt.engine.lifecourse import LifeCourseResult, LifePlan, simulate_lifecourse
from neuroadapt.engine.simulate import RescueRule, trajectory
from neuroadapt.model import receptor
from neuroadapt.model.dose import Dose
from neuroadapt.model.signalling import camp_level
from neuroadapt.parameters import ParameterSet, load_parameters


def params(species: str = "human", **overrides: float) -> ParameterSet:
    """Typical parameter set of a species, with optional overrides (internal units)."""
    p = load_parameters(species)
    return p.with_values(**overrides) if overrides else p


def run(p: ParameterSet, doses: list[Dose], t_h: np.ndarray):
    """Dense trajectory of the typical subject; returns the dataset of subject 0."""
    return trajectory(p, doses, np.asarray(t_h, dtype=float)).dataset.isel(subject=0)


def terminal_half_life(t_h: np.ndarray, conc: np.ndarray, t_from: float, t_to: float) -> float:
    """Half-life (h) from a log-linear fit of ``conc`` between two times."""
    sel = (t_h >= t_from) & (t_h <= t_to) & (conc > 0)
    slope = np.polyfit(t_h[sel], np.log(conc[sel]), 1)[0]
    return math.log(2.0) / -slope


def tmax(t_h: np.ndarray, x: np.ndarray) -> float:
    """Time (h) of the maximum."""
    return float(t_h[int(np.nanargmax(x))])


def auc(t_h: np.ndarray, x: np.ndarray) -> float:
    """Trapezoidal area under ``x``."""
    return float(np.trapezoid(x, t_h))


def minute_grid(hours: float, step_min: float = 0.25) -> np.ndarray:
    """Times (h) from 0 to ``hours`` every ``step_min`` minutes."""
    return np.arange(0.0, hours * 60.0 + 1e-9, step_min) / 60.0


def im_potency_ratio(p: ParameterSet, heroin_mg: float = 10.0, hours: float = 6.0) -> float:
    """Dose of IM morphine giving the same total agonist occupancy (0-`hours`) as IM heroin.

    Returned as morphine mg per heroin mg (Kaiko 1981's relative potency).
    """
    t = minute_grid(hours, 2.0)
    target = auc(t, run(p, [Dose(0.0, "heroin", "im", heroin_mg)], t).agonist_occupancy.values)

    def gap(mg: float) -> float:
        ds = run(p, [Dose(0.0, "morphine", "im", mg)], t)
        return auc(t, ds.agonist_occupancy.values) - target

    return brentq(gap, 0.1 * heroin_mg, 20.0 * heroin_mg, xtol=1e-3) / heroin_mg


def occupancy_at(p: ParameterSet, ligand: str, conc_nm: float) -> float:
    """Equilibrium occupancy of one ligand alone at an effect-site concentration (nM)."""
    kd = p["kd_morphine"] * (1.0 if ligand == "morphine" else p[f"affinity_ratio_{ligand}"])
    odds = conc_nm / kd
    return receptor.total_occupancy(odds)


def ventilation_hill(p: ParameterSet) -> float:
    """Hill coefficient of the morphine concentration - chemoreflex depression curve.

    The chemoreflex drive is scaled by ``1 - CAR^p_chemo`` (respiration eq. 7);
    the slope is fitted on log-odds between 10 % and 90 % depression.
    """
    kd = p["kd_morphine"]
    c = np.logspace(-2, 3, 400) * kd
    occ = c / (c + kd)
    effect = occ ** p["p_chemo"]
    sel = (effect > 0.1) & (effect < 0.9)
    return float(np.polyfit(np.log(c[sel]), np.log(effect[sel] / (1 - effect[sel])), 1)[0])


def c50_ventilation(p: ParameterSet) -> float:
    """Morphine effect-site concentration (nM) that halves the chemoreflex drive."""
    kd = p["kd_morphine"]
    r = 0.5 ** (1.0 / p["p_chemo"])
    return kd * r / (1.0 - r)


def ec50_shift_after(p: ParameterSet, hours: float, conc_nm: float = 500.0) -> float:
    """Fold shift of the morphine concentration giving half-maximal (naive) cAMP inhibition.

    The subject is exposed to a constant morphine infusion reaching about
    ``conc_nm`` in blood for ``hours``; the AC superactivation U reached then
    is read from the engine, and the concentrations at which
    ``(1+U)(1 - Imax A(c))`` equals the naive half-maximal level are compared.
    """
    cl = p["cl_morphine"]
    rate_umol_h = conc_nm / 1000.0 * cl
    mg_per_h = rate_umol_h * p["mw_morphine"] / 1000.0
    t = np.array([0.0, hours])
    ds = run(p, [Dose(0.0, "morphine", "iv", mg_per_h * hours, duration_h=hours)], t)
    u = float(ds.u_fast.values[-1] + ds.u_slow.values[-1])
    kd = p["kd_morphine"]
    tau = p["efficacy_morphine"]
    imax = p["ac_imax"]

    def a_of(c: float) -> float:
        odds = c / kd
        return receptor.activation(receptor.stimulus(tau * odds, odds))

    a_max = tau / (1.0 + tau)
    level = 1.0 - 0.5 * imax * a_max
    c_naive = brentq(lambda c: camp_level(a_of(c), 0.0, imax) - level, 1e-6, 1e9)
    if camp_level(a_max * 0.999999, u, imax) > level:
        return math.inf
    c_tol = brentq(lambda c: camp_level(a_of(c), u, imax) - level, 1e-6, 1e12)
    return c_tol / c_naive


def constant_infusion_rat(p: ParameterSet, umol_h: float, days: float, extra_days: float = 0.0):
    """Rat on a constant IV morphine infusion (umol/h) for ``days``, then ``extra_days`` off."""
    mg_h = umol_h * p["mw_morphine"] / 1000.0
    t = np.arange(0.0, (days + extra_days) * 24.0 + 1e-9, 0.25)
    return t, run(p, [Dose(0.0, "morphine", "iv", mg_h * days * 24.0, duration_h=days * 24.0)], t)


def recovery_days(
    p: ParameterSet, infusion_h: float, mg_kg_h: float, fraction: float = 0.05
) -> float:
    """Days after an infusion until AC superactivation falls below ``fraction`` of its end value."""
    bw = p["body_weight"]
    t = np.arange(0.0, infusion_h + 60 * 24.0, 2.0)
    ds = run(p, [Dose(0.0, "morphine", "iv", mg_kg_h * bw * infusion_h, duration_h=infusion_h)], t)
    u = ds.u_fast.values + ds.u_slow.values
    i_end = int(np.searchsorted(t, infusion_h))
    u_end = u[i_end]
    after = np.nonzero((t > infusion_h) & (u < fraction * u_end))[0]
    return (t[after[0]] - infusion_h) / 24.0 if len(after) else math.inf


def naloxone_occupancy(p: ParameterSet, mg: float, route: str = "intranasal"):
    """Brain MOR occupancy by naloxone alone: (times h, occupancy) after one dose."""
    t = minute_grid(8.0, 0.5)
    ds = run(p, [Dose(0.0, "naloxone", route, mg)], t)
    kd = p["kd_morphine"] * p["affinity_ratio_naloxone"]
    c = ds.pk_naloxone_brain.values
    return t, c / (c + kd)


def naloxone_peak_occupancy(p: ParameterSet, mg: float) -> float:
    """Peak brain MOR occupancy (%) after intranasal naloxone."""
    return 100.0 * float(np.max(naloxone_occupancy(p, mg)[1]))


def naloxone_onset_min(p: ParameterSet, mg: float = 2.0) -> float:
    """Minutes to half of the peak occupancy after intranasal naloxone."""
    t, occ = naloxone_occupancy(p, mg)
    return 60.0 * float(t[np.argmax(occ >= 0.5 * occ.max())])


def naloxone_offset_half_life_min(p: ParameterSet, mg: float = 2.0) -> float:
    """Half-life (min) of the fall of occupancy from 1 to 6 h after intranasal naloxone."""
    t, occ = naloxone_occupancy(p, mg)
    return 60.0 * terminal_half_life(t, occ, 1.0, 6.0)


def route_potency_ratio(
    p: ParameterSet, route: str, ref_route: str, ref_mg: float = 5.0, hours: float = 6.0
) -> float:
    """Heroin dose by ``route`` matching the 0-``hours`` occupancy of ``ref_mg`` by ``ref_route``.

    Returned as that dose over ``ref_mg`` (e.g. intranasal over IV: how many
    times more heroin the slower route needs for the same effect).
    """
    t = minute_grid(hours, 2.0)
    ref = run(p, [Dose(0.0, "heroin", ref_route, ref_mg)], t).agonist_occupancy.values
    target = auc(t, ref)

    def gap(mg: float) -> float:
        occ = run(p, [Dose(0.0, "heroin", route, mg)], t).agonist_occupancy.values
        return auc(t, np.nan_to_num(occ)) - target  # NaN after a death: no more effect

    return brentq(gap, 0.1 * ref_mg, 10.0 * ref_mg, xtol=1e-3) / ref_mg


def daily_doses(drug: str, route: str, mg: float, days: int) -> list[Dose]:
    """One dose a day at hour 0 of each of ``days`` days."""
    return [Dose(24.0 * d, drug, route, mg) for d in range(days)]


def buprenorphine_occupancy(
    p: ParameterSet, mg_per_day: float, days: int = 14, after_h: float = 4.0
) -> float:
    """Brain MOR occupancy (%) by buprenorphine ``after_h`` after the last daily sublingual dose.

    Occupancy is the equilibrium share bound at the effect-site concentration,
    ``c / (c + Kd)`` with ``Kd = kd_morphine * affinity_ratio_buprenorphine``.
    """
    t_last = 24.0 * (days - 1)
    t = np.array([0.0, t_last + after_h])
    ds = run(p, daily_doses("buprenorphine", "sublingual", mg_per_day, days), t)
    kd = p["kd_morphine"] * p["affinity_ratio_buprenorphine"]
    c = float(ds.pk_buprenorphine_brain.values[-1])
    return 100.0 * c / (c + kd)


def lethal_iv_heroin_morphine_mg_l(p: ParameterSet) -> float:
    """Blood morphine (mg/L) at death after the smallest lethal IV heroin dose (no rescue).

    The smallest dose (mg, to 1 %) after which the typical naive subject dies
    within 3 h is found by bisection; blood morphine is read at the time of
    death (nM converted with morphine's molar mass).
    """
    t = minute_grid(3.0, 0.25)

    def dies(mg: float) -> bool:
        return bool(np.isfinite(run(p, [Dose(0.0, "heroin", "iv", mg)], t).death_time.values))

    lo, hi = 1.0, 2000.0
    if not dies(hi):
        return math.nan
    while hi / lo > 1.01:
        mid = math.sqrt(lo * hi)
        lo, hi = (lo, mid) if dies(mid) else (mid, hi)
    ds = run(p, [Dose(0.0, "heroin", "iv", hi)], t)
    i = int(np.searchsorted(t, float(ds.death_time.values) * 24.0))
    return float(ds.conc_morphine.values[min(i, len(t) - 1)]) * p["mw_morphine"] / 1e6


def _ventilation_fall(p: ParameterSet, doses: list[Dose], t_dose: float, hours: float) -> float:
    """Fall of ventilation (fraction of rest) from just before ``t_dose`` to its nadir after."""
    t = np.concatenate([[0.0, t_dose - 1e-3], t_dose + minute_grid(hours, 5.0)[1:]])
    v = run(p, doses, t).ventilation.values
    return float(v[1] - np.min(v[2:]))


def methadone_ventilation_falls(
    p: ParameterSet,
    naive_mg: float = 10.0,
    maintenance_mg: float = 60.0,
    days: int = 28,
    hours: float = 8.0,
) -> tuple[float, float]:
    """Ventilation falls after oral methadone: a naive person vs a maintained one.

    Returns ``(naive, maintained)``: the fall (fraction of resting ventilation,
    from just before the dose to the nadir within ``hours``) after a single
    analgesic dose ``naive_mg`` in a drug-free person, and after the last of
    ``days`` daily doses of ``maintenance_mg``.
    """
    naive = _ventilation_fall(p, [Dose(1.0, "methadone", "oral", naive_mg)], 1.0, hours)
    doses = [Dose(1.0 + 24.0 * d, "methadone", "oral", maintenance_mg) for d in range(days)]
    maintained = _ventilation_fall(p, doses, 1.0 + 24.0 * (days - 1), hours)
    return naive, maintained


def methadone_co2_response_ratio(
    p: ParameterSet, mg_per_day: float = 80.0, days: int = 28, hours: float = 4.0
) -> float:
    """Chemoreflex (CO2) sensitivity on daily methadone relative to a drug-free person.

    The slope of the linear chemoreflex is ``S (1 - A_r^p_chemo)`` (respiration
    eq. 7), with ``A_r`` the agonist occupancy seen after respiratory tolerance
    (eq. 6); the ratio to ``S`` is averaged over the first ``hours`` after the
    last dose.
    """
    t0 = 24.0 * (days - 1)
    t = t0 + minute_grid(hours, 10.0)
    ds = run(p, daily_doses("methadone", "oral", mg_per_day, days), np.r_[0.0, t])
    a = ds.agonist_occupancy.values[1:]
    u = ds.u_fast.values[1:] + ds.u_slow.values[1:]
    a_r = a / (a + (1.0 - a) * (1.0 + p["resp_tolerance_gain"] * u))
    return float(np.mean(1.0 - a_r ** p["p_chemo"]))


def life_course(
    plan: LifePlan,
    covariates: dict[str, np.ndarray],
    seed: int,
    rescue: RescueRule,
    record_every_d: int,
) -> LifeCourseResult:
    """A human life-course probe with every brain module (the clinical checks' cohorts)."""
    n = len(next(iter(covariates.values())))
    return simulate_lifecourse(
        params("human"),
        plan,
        n,
        covariates,
        available_brain_modules(),
        seed=seed,
        rescue=rescue,
        record_every_d=record_every_d,
    )
