"""Neuroinflammation: glial activation and cytokines under opioid use and withdrawal.

Process
-------
Opioids activate microglia and astrocytes, in part through TLR4 [Hutchinson
2012; contested by Tanda 2016], and withdrawal raises IL-1β and GFAP
(hippocampus, rat; PMC7686097). Methadone-maintained heroin users produce
more IL-1β, IL-6 and IL-8 than controls, IL-1β rising with treatment
duration (Psychiatry Res 2015;226:230); during 12 weeks of abstinence
IFN-γ stays above controls on days 0-28 and the immune state has not
normalised by week 12 (Folia Biol 2015;61:241). Glial activation ``g``
(0-1) relaxes towards a saturating function of a drive made of exposure
``e = A_mean / (A_mean + e50)`` and the day's mean withdrawal ``W``, quickly
upwards and slowly downwards:

    D      = (w_e e + w_W W) (1 - eta z)                                      (1)
    dg/dt  = k (D / (1 + D) - g),   k = k_on if the target exceeds g, else k_off (2)
    cytokines = 1 + c_max g          (fold of the drug-naive level)           (3)

Cytokines follow glial activation within the day (their own half-lives are
hours). ``z = inputs.get("anti_inflammatory", 0)`` (0-1) is the exposure to
a glial attenuator such as ibudilast, with efficacy ``eta``. In the only
human trial in opioid withdrawal [Cooper 2016: morphine 30 mg QID for 14 d
then placebo; ibudilast 20 or 40 mg BID on days 8-21; 31 inpatients]
ibudilast did not change the total withdrawal score (SOWS) but lowered the
items "anxious", "perspiring", "restless" and "stomach cramps". The model
reproduces that split by construction: physical withdrawal is the kernel's
cAMP overshoot, which glia do not feed back on, while the affect module
reads glial activation into negative affect and stress. ``z`` is not in
``INPUTS`` because no driver provides it yet; a treatment module that
outputs ``anti_inflammatory`` switches it on.

The human anchors are weak (directions, no magnitudes); every magnitude and
rate here is a stated assumption to be calibrated loosely.

References
----------
Hutchinson MR et al. 2012 J Neurosci 32:11187-11200, doi:10.1523/JNEUROSCI.0684-12.2012.
Cooper ZD et al. 2016 Addict Biol 21:895-903, PMID:25975386.
Psychiatry Res 2015;226:230-234, PMID:25660662.
Folia Biol (Praha) 2015;61:241-246, PMID:26789146.
"""

from __future__ import annotations

import numpy as np

from neuroadapt.model.clock import decay, relax_by
from neuroadapt.model.dopamine import exposure

NAME = "inflammation"
STATES = {"glia": ("1", 0.0)}
INPUTS = ("activation_mean", "withdrawal_mean")
OUTPUTS = {
    "glial_activation": ("1", "microglia/astrocyte activation (0-1)"),
    "cytokines": ("1", "pro-inflammatory cytokines (IL-1β, IL-6, TNF-α), fold of naive"),
}
#: Parameters read by this module (name -> unit of the parameter table), checked by tests.
PARAMETERS: dict[str, str] = {
    "anti_inflammatory_efficacy": "dimensionless",
    "cytokine_max_rise": "dimensionless",
    "glia_exposure_e50": "dimensionless",
    "glia_exposure_weight": "dimensionless",
    "glia_withdrawal_weight": "dimensionless",
    "t_half_glia_off": "d",
    "t_half_glia_on": "d",
}


def drive(inputs, p) -> np.ndarray:
    """Glial activation drive from exposure and withdrawal, eq. (1)."""
    e = exposure(inputs["activation_mean"], p["glia_exposure_e50"])
    w = np.maximum(inputs["withdrawal_mean"], 0.0)
    z = np.clip(inputs.get("anti_inflammatory", 0.0), 0.0, 1.0)
    return (p["glia_exposure_weight"] * e + p["glia_withdrawal_weight"] * w) * (
        1.0 - p["anti_inflammatory_efficacy"] * z
    )


def step(state, inputs, p, dt_d):
    """Advance glial activation by ``dt_d`` days, eq. (2) (exact for a constant daily drive)."""
    d = drive(inputs, p)
    target = d / (1.0 + d)
    g = state["glia"]
    decay_g = np.where(
        target >= g, decay(p, "t_half_glia_on", dt_d), decay(p, "t_half_glia_off", dt_d)
    )
    return {"glia": relax_by(g, target, decay_g)}


def observe(state, inputs, p):
    """Glial activation and cytokine fold, eq. (3)."""
    g = state["glia"]
    return {"glial_activation": g, "cytokines": 1.0 + p["cytokine_max_rise"] * g}
