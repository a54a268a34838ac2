"""Gi/o signalling: adenylyl cyclase inhibition, superactivation, tolerance and withdrawal.

Process
-------
Activated MOR inhibits adenylyl cyclase (AC) through Gi/o; at most a fraction
``Imax`` of stimulated AC activity is inhibited [Yu & Sadee 1988]. With
sustained exposure, AC is up-regulated ("superactivation") so that cAMP
returns towards its drug-free level under the drug (tolerance); when the
drug falls or an antagonist arrives the up-regulated AC produces a cAMP
overshoot (dependence, withdrawal). Tolerance and overshoot share kinetics
[Avidor-Reiss 1995]. Superactivation ``U`` has a fast (t1/2 ~ 26 h, Ekblom
1993) and a slow component (recovery over ~ 18 days, Ouellet & Pollack 1995):

    cAMP = (1 + U) (1 - Imax A)                                      (3)
    D(A) = g Imax A / (1 - Imax A)        (steady-state demand)       (4)
    dU_f/dt = k_f ((1 - phi) D(A) - U_f)                             (5)
    dU_s/dt = k_s (phi D(A) - U_s),          U = U_f + U_s

With ``g = 1`` compensation at a constant concentration is complete (cAMP
back to 1). Downstream effects read cAMP relative to the drug-free level:

    opioid effect  E = max(0, 1 - cAMP) / Imax   (euphoria, analgesia)
    withdrawal     W = max(0, cAMP - 1) / w       (cAMP overshoot)

so every downstream effect is right-shifted by ``U`` (tolerance) and an
abrupt fall of ``A`` exposes ``U`` as withdrawal.
"""

from __future__ import annotations

from numba.extending import register_jitable

#: The fast layer's module declaration (``neuroadapt.model.system`` lists it).
NAME = "signalling"
TITLE = "Gi/o - adenylyl cyclase - cAMP"
#: States (name -> unit); the engine starts them at the drug-free steady state.
STATES: dict[str, str] = {"u_fast": "1", "u_slow": "1"}
INPUTS = ("activation",)
OUTPUTS = {
    "camp": ("1", "cAMP relative to the drug-free level"),
    "opioid_effect": ("1", "opioid effect (reward signal)"),
    "withdrawal": ("1", "withdrawal index (cAMP overshoot)"),
    "tolerance_shift": ("1", "tolerance shift 1 + U (AC superactivation)"),
}
#: Daily records of this module that drive the slow clock (``engine.brain``).
DAILY = {
    "effect_peak": ("1", "peak opioid effect of the day"),
    "withdrawal_mean": ("1", "mean withdrawal index over the day"),
    "withdrawal_peak": ("1", "peak withdrawal index of the day"),
    "tolerance_shift": ("1", "tolerance shift at the end of the day"),
}
#: Parameters of the table this module's equations read (name -> unit).
PARAMETERS: dict[str, str] = {
    "ac_gain": "dimensionless",
    "ac_imax": "dimensionless",
    "frac_ac_slow": "dimensionless",
    "t_half_ac_fast": "h",
    "t_half_ac_slow": "d",
    "withdrawal_scale": "dimensionless",
}


@register_jitable
def positive_part(x):
    """``max(x, 0)`` written as arithmetic (traceable symbolically)."""
    return 0.5 * (x + abs(x))


@register_jitable
def camp_level(a, u, imax):
    """cAMP relative to the naive drug-free level, eq. (3)."""
    return (1.0 + u) * (1.0 - imax * a)


@register_jitable
def superactivation_demand(a, imax, gain):
    """Steady-state AC superactivation demanded by activation ``a``, eq. (4)."""
    return gain * imax * a / (1.0 - imax * a)


@register_jitable
def opioid_effect(camp, imax):
    """Net opioid effect (euphoria/analgesia signal) in [0, 1]."""
    return positive_part(1.0 - camp) / imax


@register_jitable
def withdrawal_index(camp, scale):
    """Withdrawal severity: cAMP overshoot above drug-free level, normalised."""
    return positive_part(camp - 1.0) / scale


@register_jitable
def tolerance_shift(u):
    """Fold right-shift of the concentration-effect curve at low effect: ``1 + U``."""
    return 1.0 + u
