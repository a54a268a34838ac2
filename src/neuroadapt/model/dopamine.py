"""Mesolimbic dopamine: the reward surge, its tolerance, and the allostatic decline of reward.

Process
-------
MOR activation on VTA GABA interneurons disinhibits dopamine neurons, so
opioids raise nucleus-accumbens dopamine: 150-300 % of baseline while rats
self-administer heroin at 0.05-0.2 mg/kg per injection, higher at 0.4 mg/kg
[Wise 1995]. The surge follows the day's peak MOR activation ``A_pk``
through a saturating (Hill) function. It is blunted by the cellular
tolerance of the interneurons (the kernel's right-shift ``T = 1 + U``,
inherited with exponent ``beta``) and by the loss of releasable dopamine
``R`` (below):

    x      = A_pk / T^beta                                                (1)
    DA_ph  = 100 [1 + S_max (1 - R) x^n / (x^n + x50^n)]   (% of basal)   (2)

With chronic use the reward system settles at a lower set point [allostasis;
Koob & Le Moal 2001]. Exposure ``e = A_mean / (A_mean + e50)`` (daily mean
activation, saturating) drives three slow losses, each a linear ODE with a
constant daily input, advanced exactly over a day:

    dh/dt = k_h (h_max e - h)       k_h = k_on if the target exceeds h,
                                    else k_off (slow hedonic recovery)    (3)
    dL/dt = k_L,on e (L_max - L) - k_L,off L      (D2/D3 receptor loss)   (4)
    dR/dt = k_R,on e (R_max - R) - k_R,off R      (releasable DA loss)    (5)
    dM/dt = k_M,on e (M_max - M) - k_M,off M      (slow D2/D3 loss, years) (4b)
    dT/dt = k_T,on e (T_max - T) - k_T,off T      (DAT loss)              (4c)

``h`` is the hedonic set-point shift (rising ICSS reward thresholds with
extended access, J Neurosci 2006;26:5894), ``L`` the loss of striatal D2/D3
availability and ``R`` the loss of stimulant-evoked release, both lower in
heroin dependence [Martinez 2012]. Putamen D2 availability falls with years
of use [Zijlstra 2008], so D2/D3 loss has a second component ``M`` that
builds and recovers over years (4b); availability is ``(1 - L)(1 - M)``.
The striatal dopamine transporter is lower still (meta-analysis: Hedges g
1.55 for DAT against 1.17 for D2/D3 in opioid users, Kamp 2019) and
recovers only partly with prolonged abstinence (lower in caudate and
putamen on methadone, only in caudate after prolonged abstinence; Eur J
Pharmacol 2008, PMID:17977528): ``T`` (4c), ``dat = 1 - T``. Each recovers
only partially over weeks of abstinence because the off-rates are slow.

Tonic dopamine falls with the set point and, acutely, in withdrawal
[Rossetti 1992; Crippens & Robinson 1994], read from the day's mean
withdrawal index ``W`` (cAMP overshoot):

    DA_tonic = (1 - h) [1 - w_max W / (W + W50)]                          (6)
    deficit  = 1 - DA_tonic (1 - L)(1 - M)               (hedonic deficit) (7)
    r        = 1 - (1 - h)(1 - L)(1 - M)(1 - R)  (reward hypofunction)    (8)
    anhedonia = r^m / (r^m + r50^m)                                       (9)

The hedonic deficit is the gap that a dose closes: once it is large the
user takes the drug to feel normal rather than to feel high (allostasis).
Anhedonia reads only the slow states (a trait-like measure such as SHAPS or
TEPS; 21-48 % of OUD samples clinically significant, review in Clin Psychol
Sci 2019;7:1190; it improves as use falls, Lubman 2018).

The model describes striatal (NAc) dopamine only; prefrontal dopamine, which
rises in morphine abstinence [Bassareo 1995], is not represented.

References
----------
Wise RA et al. 1995 Synapse 21:140-148, doi:10.1002/syn.890210207.
Koob GF & Le Moal M 2001 Neuropsychopharmacology 24:97-129.
Martinez D et al. 2012 Biol Psychiatry 71:192-198.
Zijlstra F et al. 2008 Eur Neuropsychopharmacol 18:262-270,
doi:10.1016/j.euroneuro.2007.11.002.
Kamp F et al. 2019 Neuropsychopharmacology, PMID:30188512.
Eur J Pharmacol 2008 (DAT in prolonged abstinence and methadone), PMID:17977528.
Rossetti ZL, Hmaidan Y, Gessa GL 1992 Eur J Pharmacol 221:227-234, PMID:1426002.
Pothos E et al. 1991 Brain Res 566:348-350, PMID:1814554.
Lubman DI et al. 2018 J Psychopharmacol, doi:10.1177/0269881118791741.
"""

from __future__ import annotations

import numpy as np

from neuroadapt.model.clock import (
    HOURS_PER_DAY,
    daily_rate,
    decay,
    gated_loss,
    rate_per_day,
    relax,
    relax_by,
    remembered,
)

__all__ = ["HOURS_PER_DAY", "exposure", "gated_loss", "rate_per_day", "relax"]

NAME = "dopamine"
STATES = {
    "set_point_shift": ("1", 0.0),
    "d2_loss": ("1", 0.0),
    "release_loss": ("1", 0.0),
    "d2_loss_slow": ("1", 0.0),
    "dat_loss": ("1", 0.0),
}
INPUTS = ("activation_mean", "activation_peak", "withdrawal_mean", "tolerance_shift")
OUTPUTS = {
    "da_phasic_peak": ("%", "peak NAc dopamine of the day, % of the subject's basal level"),
    "da_tonic": ("1", "basal NAc dopamine, fraction of the drug-naive level"),
    "hedonic_deficit": ("1", "gap below the hedonic baseline that a dose closes (0-1)"),
    "anhedonia": ("1", "trait-like anhedonia from the slow reward losses (0-1)"),
    "d2_availability": ("1", "striatal D2/D3 receptor availability, fraction of naive"),
    "da_release_capacity": ("1", "stimulant-evoked dopamine release, fraction of naive"),
    "dat_availability": ("1", "striatal dopamine transporter availability, fraction of naive"),
}
#: Parameters read by this module (name -> unit of the parameter table), checked by tests.
PARAMETERS: dict[str, str] = {
    "anhedonia_hill": "dimensionless",
    "anhedonia_r50": "dimensionless",
    "d2_loss_max": "dimensionless",
    "d2_loss_slow_max": "dimensionless",
    "da_allostasis_max": "dimensionless",
    "da_exposure_e50": "dimensionless",
    "da_release_loss_max": "dimensionless",
    "da_surge_a50": "dimensionless",
    "da_surge_hill": "dimensionless",
    "da_surge_max": "dimensionless",
    "da_tolerance_coupling": "dimensionless",
    "da_withdrawal_drop_max": "dimensionless",
    "da_withdrawal_w50": "dimensionless",
    "dat_loss_max": "dimensionless",
    "t_half_d2_loss": "d",
    "t_half_d2_loss_slow": "year",
    "t_half_d2_recovery": "d",
    "t_half_d2_recovery_slow": "year",
    "t_half_da_allostasis_off": "d",
    "t_half_da_allostasis_on": "d",
    "t_half_da_release_loss": "d",
    "t_half_da_release_recovery": "d",
    "t_half_dat_loss": "d",
    "t_half_dat_recovery": "d",
}


def exposure(a_mean: np.ndarray, e50: np.ndarray) -> np.ndarray:
    """Saturating chronic-exposure drive in [0, 1) from the daily mean MOR activation."""
    a = np.maximum(a_mean, 0.0)
    return a / (a + e50)


def step(state, inputs, p, dt_d):
    """Advance the slow dopamine states by ``dt_d`` days, eqs. (3)-(5) and (4b)-(4c)."""
    e = exposure(inputs["activation_mean"], p["da_exposure_e50"])
    h = state["set_point_shift"]
    h_target = p["da_allostasis_max"] * e
    decay_h = np.where(
        h_target >= h,
        decay(p, "t_half_da_allostasis_on", dt_d),
        decay(p, "t_half_da_allostasis_off", dt_d),
    )
    return {
        "set_point_shift": relax_by(h, h_target, decay_h),
        "d2_loss": gated_loss(
            state["d2_loss"],
            e,
            p["d2_loss_max"],
            daily_rate(p, "t_half_d2_loss"),
            daily_rate(p, "t_half_d2_recovery"),
            dt_d,
        ),
        "release_loss": gated_loss(
            state["release_loss"],
            e,
            p["da_release_loss_max"],
            daily_rate(p, "t_half_da_release_loss"),
            daily_rate(p, "t_half_da_release_recovery"),
            dt_d,
        ),
        "d2_loss_slow": gated_loss(
            state["d2_loss_slow"],
            e,
            p["d2_loss_slow_max"],
            daily_rate(p, "t_half_d2_loss_slow"),
            daily_rate(p, "t_half_d2_recovery_slow"),
            dt_d,
        ),
        "dat_loss": gated_loss(
            state["dat_loss"],
            e,
            p["dat_loss_max"],
            daily_rate(p, "t_half_dat_loss"),
            daily_rate(p, "t_half_dat_recovery"),
            dt_d,
        ),
    }


def phasic_peak(a_peak, tolerance, release_loss, p) -> np.ndarray:
    """Peak NAc dopamine (% of basal) for the day's peak activation, eqs. (1)-(2)."""
    x = np.maximum(a_peak, 0.0) / np.maximum(tolerance, 1.0) ** p["da_tolerance_coupling"]
    n = p["da_surge_hill"]
    xn = x**n
    frac = xn / (xn + remembered(p, "da:a50**n", np.power, p["da_surge_a50"], n))
    return 100.0 * (1.0 + p["da_surge_max"] * (1.0 - release_loss) * frac)


def observe(state, inputs, p):
    """Dopamine read-outs of the day, eqs. (1)-(2) and (6)-(9)."""
    h, loss_d2, loss_r = state["set_point_shift"], state["d2_loss"], state["release_loss"]
    w = np.maximum(inputs["withdrawal_mean"], 0.0)
    tonic = (1.0 - h) * (1.0 - p["da_withdrawal_drop_max"] * w / (w + p["da_withdrawal_w50"]))
    d2 = (1.0 - loss_d2) * (1.0 - state["d2_loss_slow"])
    r = 1.0 - (1.0 - h) * d2 * (1.0 - loss_r)
    m = p["anhedonia_hill"]
    rm = r**m
    return {
        "da_phasic_peak": phasic_peak(
            inputs["activation_peak"], inputs["tolerance_shift"], loss_r, p
        ),
        "da_tonic": tonic,
        "hedonic_deficit": 1.0 - tonic * d2,
        "anhedonia": rm / (rm + remembered(p, "da:r50**m", np.power, p["anhedonia_r50"], m)),
        "d2_availability": d2,
        "da_release_capacity": 1.0 - loss_r,
        "dat_availability": 1.0 - state["dat_loss"],
    }
