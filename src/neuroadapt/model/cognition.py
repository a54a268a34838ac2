"""Cognition: domain z-scores from regional gray matter, white matter and the drug state.

Process
-------
Chronic opioid users perform worse than matched controls on verbal working
memory, cognitive impulsivity (risky decisions) and cognitive flexibility
(verbal fluency), with medium effects (Baldacchino 2012, PMID:22771335).
Across 61 studies the largest deficit is in complex psychomotor ability,
none in motor and processing speed, small to medium elsewhere, and the
psychomotor deficit is smaller after longer abstinence (Wollman 2019,
PMID:30359116). Decision-making deficits persist at least 1.5 years after
stopping (Biernacki 2016, doi:10.1016/j.neubiorev.2016.09.011); risky
decision making has SMD -0.59 across substance use disorders (Chen 2020).
More working-memory errors go with smaller insula and putamen (Bach 2019,
PMID:31422451).

Domains recover at different rates after stopping. Attention, memory and
verbal fluency no longer differ from controls after a one-week
detoxification (Guerra 1987, PMID:3436258); complex working memory and
executive function are impaired in early abstinence and improve with the
days since withdrawal (Rapeli 2006, doi:10.1186/1471-244X-6-9); after more
than 12 months of remission delay discounting and action inhibition are
still impaired while the Iowa-gambling decision deficit is seen only in
early remission (Psederska & Vassileva 2023, doi:10.3390/ijerph20021236).
Two states carry these non-structural parts, both driven by the exposure
``e = A / (A + e50)`` of the day's mean MOR activation ``A``:

    dE/dt = k_E (e - E),  k_E = k_E,on while e > E, else k_E,off (days)   (2)
    dP/dt = k_P,on e (1 - P) - k_P,off P           (impulsivity, years)    (3)

``E`` is an early-abstinence neuroadaptive deficit that clears within
weeks; ``P`` builds over years of use and persists for years. Each domain
``d`` reads the mean gray-matter loss of the regions it relies on
(``G_d``), the mean FA loss of its tracts (``F_d``), the two states with
domain weights ``w_E,d`` and ``w_P,d`` and, acutely, the day's mean MOR
activation (intoxication) and withdrawal:

    z_d = - beta_gm,d G_d - beta_fa,d F_d - w_E,d E - w_P,d P
          - m_d (c_int A + c_wd W)                                         (1)

``z`` is in standard deviations of a matched control population (0 = the
control mean). The regional memberships (``GM_MEMBERS``, ``FA_MEMBERS``)
are anatomy, not fitted numbers: fronto-parietal and cingulate for
executive and attention tasks, fronto-insular-temporal for verbal working
memory and fluency, hippocampus and precuneus for spatial memory,
orbitofrontal-insula-striatum-amygdala for decision making, fronto-striatal
circuits and long tracts for complex psychomotor tasks. Processing speed
has no members and no acute term, the model's position from Wollman 2019
(no group difference). Gray and white matter recover with abstinence
(:mod:`neuroadapt.model.structure`, :mod:`neuroadapt.model.white_matter`),
so the structural part of the deficits follows them; the non-structural
part is the two states of (2)-(3).

Observables: ``z`` per domain (``REGIONS`` = domains) and ``z_composite``,
the mean over the neuropsychological domains (``COMPOSITE_DOMAINS``, a
global score such as the MMSE; the two impulsivity domains, delay
discounting and response inhibition, are not part of such a score).
"""

from __future__ import annotations

import numpy as np

from neuroadapt.model import structure, white_matter
from neuroadapt.model.clock import daily_rate, decay, gated_loss, relax_by, stack_regional
from neuroadapt.model.dopamine import exposure

NAME = "cognition"
#: Cognitive domains (the regional axis of this module).
REGIONS: tuple[str, ...] = (
    "executive_function",
    "verbal_working_memory",
    "spatial_working_memory",
    "attention",
    "decision_making",
    "verbal_fluency",
    "complex_psychomotor",
    "processing_speed",
    "delay_discounting",
    "response_inhibition",
)
#: Domains averaged in ``z_composite`` (global neuropsychological score).
COMPOSITE_DOMAINS: tuple[str, ...] = REGIONS[:8]
#: Gray-matter regions (keys of ``structure.REGION_KEYS``) each domain relies on.
GM_MEMBERS: dict[str, tuple[str, ...]] = {
    "executive_function": ("pfc", "acc"),
    "verbal_working_memory": ("pfc", "insula", "temporal"),
    "spatial_working_memory": ("pfc", "hippocampus", "precuneus"),
    "attention": ("acc", "pfc", "precuneus"),
    "decision_making": ("pfc", "insula", "nacc", "amygdala", "putamen"),
    "verbal_fluency": ("pfc", "temporal"),
    "complex_psychomotor": ("pfc", "acc", "putamen"),
    "processing_speed": (),
    "delay_discounting": ("pfc", "nacc", "putamen"),
    "response_inhibition": ("pfc", "acc"),
}
#: White-matter tracts (keys of ``white_matter.REGION_KEYS``) each domain relies on.
FA_MEMBERS: dict[str, tuple[str, ...]] = {
    "executive_function": ("frontal", "cingulum"),
    "verbal_working_memory": ("frontal",),
    "spatial_working_memory": ("frontal", "callosum"),
    "attention": ("cingulum",),
    "decision_making": ("frontal",),
    "verbal_fluency": ("frontal",),
    "complex_psychomotor": ("frontal", "cingulum", "callosum"),
    "processing_speed": (),
    "delay_discounting": ("frontal",),
    "response_inhibition": ("frontal", "cingulum"),
}
#: Domains affected acutely by intoxication and withdrawal.
ACUTE_MEMBERS: tuple[str, ...] = tuple(d for d in REGIONS if d != "processing_speed")
#: Region keys of the structure and white-matter modules, in their axis order.
GM_KEYS: tuple[str, ...] = structure.REGION_KEYS
FA_KEYS: tuple[str, ...] = white_matter.REGION_KEYS
STATES: dict[str, tuple[str, float]] = {
    "early_deficit": ("1", 0.0),
    "impulsivity": ("1", 0.0),
}
INPUTS = ("gm_volume", "fa", "activation_mean", "withdrawal_mean")
OUTPUTS = {
    "z": ("1", "cognitive z-score per domain (SD of matched controls; 0 = control mean)"),
    "z_composite": ("1", "mean of the domain z-scores (global cognition)"),
}
#: Parameters read by this module (name -> unit of the parameter table), checked by tests.
PARAMETERS: dict[str, str] = {
    "cog_acute_intoxication": "dimensionless",
    "cog_acute_withdrawal": "dimensionless",
    "cog_beta_fa_attention": "dimensionless",
    "cog_beta_fa_complex_psychomotor": "dimensionless",
    "cog_beta_fa_decision_making": "dimensionless",
    "cog_beta_fa_delay_discounting": "dimensionless",
    "cog_beta_fa_executive_function": "dimensionless",
    "cog_beta_fa_processing_speed": "dimensionless",
    "cog_beta_fa_response_inhibition": "dimensionless",
    "cog_beta_fa_spatial_working_memory": "dimensionless",
    "cog_beta_fa_verbal_fluency": "dimensionless",
    "cog_beta_fa_verbal_working_memory": "dimensionless",
    "cog_beta_gm_attention": "dimensionless",
    "cog_beta_gm_complex_psychomotor": "dimensionless",
    "cog_beta_gm_decision_making": "dimensionless",
    "cog_beta_gm_delay_discounting": "dimensionless",
    "cog_beta_gm_executive_function": "dimensionless",
    "cog_beta_gm_processing_speed": "dimensionless",
    "cog_beta_gm_response_inhibition": "dimensionless",
    "cog_beta_gm_spatial_working_memory": "dimensionless",
    "cog_beta_gm_verbal_fluency": "dimensionless",
    "cog_beta_gm_verbal_working_memory": "dimensionless",
    "cog_exposure_e50": "dimensionless",
    "cog_t_half_early_off": "d",
    "cog_t_half_early_on": "d",
    "cog_t_half_impulsivity_off": "year",
    "cog_t_half_impulsivity_on": "year",
    "cog_w_early_attention": "dimensionless",
    "cog_w_early_complex_psychomotor": "dimensionless",
    "cog_w_early_decision_making": "dimensionless",
    "cog_w_early_delay_discounting": "dimensionless",
    "cog_w_early_executive_function": "dimensionless",
    "cog_w_early_processing_speed": "dimensionless",
    "cog_w_early_response_inhibition": "dimensionless",
    "cog_w_early_spatial_working_memory": "dimensionless",
    "cog_w_early_verbal_fluency": "dimensionless",
    "cog_w_early_verbal_working_memory": "dimensionless",
    "cog_w_impulsivity_attention": "dimensionless",
    "cog_w_impulsivity_complex_psychomotor": "dimensionless",
    "cog_w_impulsivity_decision_making": "dimensionless",
    "cog_w_impulsivity_delay_discounting": "dimensionless",
    "cog_w_impulsivity_executive_function": "dimensionless",
    "cog_w_impulsivity_processing_speed": "dimensionless",
    "cog_w_impulsivity_response_inhibition": "dimensionless",
    "cog_w_impulsivity_spatial_working_memory": "dimensionless",
    "cog_w_impulsivity_verbal_fluency": "dimensionless",
    "cog_w_impulsivity_verbal_working_memory": "dimensionless",
}


def _membership(members: dict[str, tuple[str, ...]], keys: tuple[str, ...]) -> np.ndarray:
    m = np.zeros((len(REGIONS), len(keys)))
    for i, d in enumerate(REGIONS):
        for k in members[d]:
            m[i, keys.index(k)] = 1.0
    rows = m.sum(axis=1, keepdims=True)
    return np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)


#: Row-normalised membership matrices (domains x regions, domains x tracts).
GM_WEIGHTS = _membership(GM_MEMBERS, GM_KEYS)
FA_WEIGHTS = _membership(FA_MEMBERS, FA_KEYS)
ACUTE = np.array([1.0 if d in ACUTE_MEMBERS else 0.0 for d in REGIONS])
COMPOSITE = np.array([1.0 if d in COMPOSITE_DOMAINS else 0.0 for d in REGIONS])
COMPOSITE = COMPOSITE / COMPOSITE.sum()


def domain_params(p: dict[str, np.ndarray], stem: str) -> np.ndarray:
    """Stack per-domain parameters ``<stem>_<domain>`` into (subjects, domains)."""
    return stack_regional(p, stem, REGIONS)


def step(state, inputs, p, dt_d):
    """Advance the early-abstinence deficit and impulsivity by ``dt_d`` days, eqs. (2)-(3)."""
    e = exposure(inputs["activation_mean"], p["cog_exposure_e50"])
    e = np.repeat(e[:, None], len(REGIONS), axis=1)  # states have the regional shape
    early = state["early_deficit"]
    decay_e = np.where(
        e >= early,
        decay(p, "cog_t_half_early_on", dt_d)[:, None],
        decay(p, "cog_t_half_early_off", dt_d)[:, None],
    )
    return {
        "early_deficit": relax_by(early, e, decay_e),
        "impulsivity": gated_loss(
            state["impulsivity"],
            e,
            1.0,
            daily_rate(p, "cog_t_half_impulsivity_on")[:, None],
            daily_rate(p, "cog_t_half_impulsivity_off")[:, None],
            dt_d,
        ),
    }


def observe(state, inputs, p):
    """Domain z-scores, eq. (1), and their mean."""
    gm_loss = 1.0 - np.asarray(inputs["gm_volume"], dtype=float)
    fa_loss = 1.0 - np.asarray(inputs["fa"], dtype=float)
    g = gm_loss @ GM_WEIGHTS.T
    f = fa_loss @ FA_WEIGHTS.T
    acute = p["cog_acute_intoxication"] * np.asarray(inputs["activation_mean"], dtype=float)
    acute = acute + p["cog_acute_withdrawal"] * np.asarray(inputs["withdrawal_mean"], dtype=float)
    z = -domain_params(p, "cog_beta_gm") * g - domain_params(p, "cog_beta_fa") * f
    z = z - domain_params(p, "cog_w_early") * state["early_deficit"]
    z = z - domain_params(p, "cog_w_impulsivity") * state["impulsivity"]
    z = z - np.asarray(acute, dtype=float).reshape(-1, 1) * ACUTE
    if not np.isfinite(z).all():  # the scan is cheaper than nan_to_num's passes
        z = np.nan_to_num(z, copy=False)
    return {"z": z, "z_composite": z @ COMPOSITE}
