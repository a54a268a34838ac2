"""Calibration checks of the pharmacodynamics: receptor, signalling and respiration.

Each check runs the engine on the typical subject (human or rat parameter set)
with a scheduled regimen through :mod:`neuroadapt.evidence.probes`, or reads
a parameter directly (:func:`~neuroadapt.evidence.checks.parameter_value`, so
that the table shows the value the model uses): receptor constants and
occupancy, tolerance and its recovery, resting and depressed breathing. The
pharmacokinetic checks, which come first in the table, are in
:mod:`.checks_pk`.
"""

from __future__ import annotations

import math

import numpy as np

from neuroadapt.evidence import probes as P
from neuroadapt.evidence.checks import Check, at_most, in_range, is_true, parameter_value, within
from neuroadapt.model.dose import Dose


def _hp():
    return P.params("human")


def _rp():
    return P.params("rat")


# --------------------------------------------------------------------- receptor
def _efficacy_order() -> float:
    p = _hp()
    return float(
        p["efficacy_6mam"] > p["efficacy_morphine"]
        and abs(p["efficacy_m6g"] - p["efficacy_morphine"]) <= 0.5 * p["efficacy_morphine"]
    )


# -------------------------------------------------------------------- signalling
def _ekblom_loss() -> float:
    p = _rp()
    t, ds = P.constant_infusion_rat(p, 3.3, 4.0)
    eff = ds.opioid_effect.values
    peak = np.nanmax(eff)
    return float(eff[np.searchsorted(t, 72.0)] / peak)


def _ekblom_rebound() -> float:
    p = _rp()
    t, ds = P.constant_infusion_rat(p, 3.3, 4.0, extra_days=2.0)
    after_infusion = float(np.nanmax(ds.withdrawal.values[t > 96.0]))
    tb = P.minute_grid(48.0, 5.0)
    dsb = P.run(
        p, [Dose(0.0, "morphine", "iv", 35.0 * p["mw_morphine"] / 1000.0, unit="mg/kg")], tb
    )
    after_bolus = float(np.nanmax(dsb.withdrawal.values))
    return float(after_infusion > 0.2 and after_bolus < 0.25 * after_infusion)


def _ouellet_peak() -> float:
    p = _rp()
    bw = p["body_weight"]
    t = P.minute_grid(12.0, 2.0)
    ds = P.run(p, [Dose(0.0, "morphine", "iv", 2.0 * bw * 12.0, duration_h=12.0)], t)
    return 60.0 * P.tmax(t, ds.opioid_effect.values)


def _ouellet_recovery() -> float:
    return P.recovery_days(_rp(), 12.0, 2.0)


def _overshoot() -> float:
    p = _hp()
    t = np.array([0.0, 72.0, 72.5, 73.0])
    doses = [
        Dose(0.0, "morphine", "iv", 2.0 * 72, duration_h=72.0),
        Dose(72.0, "naloxone", "iv", 20.0),
    ]
    ds = P.run(p, doses, t)
    return float(ds.camp.values[-1] > 1.0)


def _angst_loss() -> float:
    p = _hp()
    t = np.array([0.0, 3.0])
    ds = P.run(p, [Dose(0.0, "morphine", "iv", 30.0, duration_h=3.0)], t)
    u = float(ds.u_fast.values[-1] + ds.u_slow.values[-1])
    resp_loss = 1.0 - 1.0 / (1.0 + p["resp_tolerance_gain"] * u)
    return float(resp_loss)


# -------------------------------------------------------------------- respiration
def _baseline_pao2() -> float:
    p = _hp()
    ds = P.run(p, [Dose(10.0, "heroin", "iv", 1e-9)], np.array([0.0, 1.0]))
    return float(ds.pao2.values[0])


def _rat_depression_minutes() -> float:
    p = _rp()
    t = P.minute_grid(3.0, 0.5)
    ds = P.run(p, [Dose(0.0, "heroin", "iv", 1.0, unit="mg/kg")], t)
    v = ds.ventilation.values
    depressed = t[v < 0.9]
    return 60.0 * float(depressed.max() - depressed.min()) if len(depressed) else 0.0


CHECKS: tuple[Check, ...] = (
    Check(
        "rec_ki_morphine_chen",
        "not modelled",
        parameter_value("kd_morphine"),
        within(0.5),
        "±50 %",
        "nM",
        "The model's dissociation constant is an in-vivo, plasma-equivalent effect-site "
        "constant (Dahan's C50); the in-vitro Ki is used only through affinity ratios.",
        explained=True,
    ),
    Check(
        "rec_ic50_heroin_inturrisi",
        "input",
        lambda: _hp()["affinity_ratio_heroin"] * 53.0,
        within(0.05),
        "±5 % (as ratio to morphine's 53 nM)",
        "nM",
    ),
    Check(
        "rec_ic50_6mam_inturrisi",
        "input",
        lambda: _hp()["affinity_ratio_6mam"] * 53.0,
        within(0.05),
        "±5 % (as ratio to morphine's 53 nM)",
        "nM",
    ),
    Check(
        "rec_efficacy_order_selley",
        "input",
        _efficacy_order,
        is_true,
        "tau(6-MAM) > tau(morphine) ≈ tau(M6G)",
        "order",
    ),
    Check(
        "rec_morphine_c50_dahan",
        "input",
        lambda: P.c50_ventilation(_hp()),
        within(0.05),
        "±5 %",
        "nM",
    ),
    Check(
        "rec_hill_ventilation_dahan",
        "validation",
        lambda: P.ventilation_hill(_hp()),
        within(0.3),
        "±30 %",
        "dimensionless",
    ),
    Check(
        "rec_hill_analgesia_dahan",
        "not modelled",
        lambda: 1.0,
        within(0.3),
        "±30 %",
        "dimensionless",
        "The model has no analgesia read-out with its own steepness; its opioid effect "
        "follows operational slope 1.",
        explained=True,
    ),
    Check(
        "rec_heroin_morphine_potency_kaiko",
        "validation",
        lambda: P.im_potency_ratio(_hp()),
        in_range(0.0),
        "within the 95 % confidence limits",
        "ratio",
        "Measured as the IM morphine dose matching the 0-6 h agonist occupancy of 10 mg IM "
        "heroin. The model under-predicts: occupancy saturates, and heroin's effect is short "
        "because 6-MAM is cleared in minutes; fitting the 6-MAM brain partition to Kaiko "
        "(about 14) made 10 mg IV heroin lethal for many naive subjects, so the partition "
        "was left at 2 (an assumption) and this is reported as a miss.",
        explained=True,
    ),
    Check(
        "rec_naloxone_koff_mann",
        "not modelled",
        lambda: math.log(2) / (_hp()["t_half_ke0_naloxone"] * 3600.0),
        within(0.5),
        "±50 %",
        "1/s",
        "Binding is at equilibrium; naloxone's onset is governed by its effect-site "
        "equilibration (t1/2 5 min), not by receptor kinetics.",
        explained=True,
    ),
    Check(
        "rec_naloxone_kd_derived",
        "not modelled",
        lambda: _hp()["affinity_ratio_naloxone"] * 1.2 * 1000.0,
        within(0.05),
        "±5 % (via the ratio to morphine Ki 1.2 nM)",
        "pM",
        "The model's naloxone constant is an in-vivo, plasma-equivalent one fitted to human "
        "PET occupancy (Johansson 2019; 3.5 nM, ratio 0.11 to morphine's 32 nM). Applying the "
        "in-vitro ratio (0.49) to morphine's in-vivo constant would make naloxone 4.5 times "
        "too weak, because morphine, not naloxone, is held back at the blood-brain barrier.",
        explained=True,
    ),
    Check(
        "rec_naloxone_occupancy_2mg_in_johansson",
        "calibrated",
        lambda: P.naloxone_peak_occupancy(_hp(), 2.0),
        within(0.05),
        "±5 %",
        "%",
    ),
    Check(
        "rec_naloxone_occupancy_4mg_in_johansson",
        "validation",
        lambda: P.naloxone_peak_occupancy(_hp(), 4.0),
        within(0.1),
        "±10 %",
        "%",
    ),
    Check(
        "rec_naloxone_occupancy_onset_johansson",
        "validation",
        lambda: P.naloxone_onset_min(_hp()),
        within(0.5),
        "±50 %",
        "min",
    ),
    Check(
        "rec_naloxone_occupancy_thalf_johansson",
        "validation",
        lambda: P.naloxone_offset_half_life_min(_hp()),
        within(0.3),
        "±30 %",
        "min",
    ),
    Check(
        "sig_ac_inhibition_forskolin_yu",
        "input",
        parameter_value("ac_imax", scale=100.0),
        within(0.05),
        "±5 %",
        "%",
    ),
    Check(
        "sig_tolerance_ec50_shift_yu",
        "validation",
        lambda: P.ec50_shift_after(_hp(), 12.0),
        lambda m, t: 2.0 <= m <= 8.0,
        "2-8 fold",
        "fold",
        "Human parameter set used for a cell-line finding.",
    ),
    Check(
        "sig_camp_overshoot_avidor",
        "validation",
        _overshoot,
        is_true,
        "cAMP > naive level after naloxone",
        "",
        "Human parameter set: 3 days of morphine 2 mg/h IV, then naloxone 20 mg IV.",
    ),
    Check(
        "sig_tolerance_thalf_ekblom",
        "input",
        parameter_value("t_half_ac_fast", "rat"),
        within(0.05),
        "±5 %",
        "h",
    ),
    Check(
        "sig_antinociception_loss_ekblom",
        "calibrated",
        _ekblom_loss,
        at_most(0.15),
        "effect at day 3 ≤ 15 % of peak",
        "fraction of peak",
        "ac_gain was set to full compensation for this target. With linear superactivation "
        "kinetics that share onset and offset rates (Avidor-Reiss 1995), a 26-h fast component "
        "with 85 % of the amplitude leaves about a quarter of the effect at day 3; complete "
        "loss by day 3 would need faster onset than offset (a state-dependent rate).",
        explained=True,
    ),
    Check(
        "sig_rebound_hyperalgesia_ekblom",
        "validation",
        _ekblom_rebound,
        is_true,
        "withdrawal > 0.2 after the infusion, < 25 % of that after a bolus",
        "",
    ),
    Check(
        "sig_acute_tolerance_peak_ouellet",
        "validation",
        _ouellet_peak,
        lambda m, t: 60.0 <= m <= 240.0,
        "60-240 min",
        "min",
    ),
    Check(
        "sig_tolerance_recovery_ouellet",
        "validation",
        _ouellet_recovery,
        within(0.25),
        "±25 % (time to 5 % of the end-of-infusion superactivation)",
        "day",
        "After only 12 h of exposure the slow component has barely developed, so recovery is "
        "set by the 26-h component. Linear kinetics cannot give both Ekblom's complete "
        "tolerance within 3 days and Ouellet's 18.5-day recovery after 12 h.",
        explained=True,
    ),
    Check(
        "sig_no_acute_tolerance_angst",
        "validation",
        _angst_loss,
        at_most(0.2),
        "respiratory potency loss after 3 h < 20 %",
        "fraction",
    ),
    Check(
        "resp_wakefulness_drive_mann",
        "not modelled",
        lambda: _hp()["wake_fraction"] * 4.315,
        within(0.3),
        "±30 %",
        "L/min",
        "The closed-form respiratory model normalises drives to resting alveolar ventilation "
        "(4.3 L/min); the wakefulness share (0.5) is an assumption, so Mann's absolute drive "
        "of the full Magosso-Ursino model is not reproduced.",
        explained=True,
    ),
    Check(
        "resp_exponent_p1_mann",
        "conflict",
        parameter_value("p_chemo"),
        within(0.05),
        "±5 %",
        "dimensionless",
        "Position: exponent 1 so the concentration-ventilation curve has Dahan's Hill "
        "coefficient 1 in the closed-form steady-state model; Mann's 2.875 belongs to a "
        "model with dynamic chemoreflex loops.",
        explained=True,
    ),
    Check(
        "resp_exponent_p3_mann",
        "conflict",
        parameter_value("p_wake"),
        within(0.05),
        "±5 %",
        "dimensionless",
        "Position: exponent 1, as for the chemoreflex drive (Dahan 2004).",
        explained=True,
    ),
    Check(
        "resp_cardiac_arrest_pao2_mann",
        "input",
        parameter_value("pao2_arrest"),
        within(0.01),
        "±1 %",
        "mmHg",
    ),
    Check(
        "resp_cardiac_arrest_delay_mann",
        "input",
        parameter_value("arrest_delay", scale=3600.0),
        within(0.01),
        "±1 %",
        "s",
    ),
    Check("resp_baseline_pao2_mann", "calibrated", _baseline_pao2, within(0.02), "±2 %", "mmHg"),
    Check(
        "resp_heroin_depression_duration",
        "validation",
        _rat_depression_minutes,
        in_range(0.5),
        "reported range ± half its width (ventilation < 90 % of rest)",
        "min",
        "Rat IV heroin 1 mg/kg (the study's dose is not in the abstract). Too short: rat "
        "heroin and 6-MAM clearances fitted to Gottas 2013 are fast, and rat morphine "
        "(t1/2 0.6 h) is too weak at these doses to prolong the depression.",
        explained=True,
    ),
)
