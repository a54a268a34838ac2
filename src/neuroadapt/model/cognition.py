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

Each domain ``d`` reads the mean gray-matter loss of the regions it relies
on (``G_d``), the mean FA loss of its tracts (``F_d``) and, acutely, the
day's mean MOR activation (intoxication) and withdrawal:

    z_d = - beta_gm,d G_d - beta_fa,d F_d - m_d (c_int A + c_wd W)         (1)

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
so the cognitive deficits follow them; there is no cognitive state of its
own (``STATES`` is empty).

Observables: ``z`` per domain (``REGIONS`` = domains) and ``z_composite``,
the mean over domains (a global score such as the MMSE).
"""

from __future__ import annotations

import numpy as np

from neuroadapt.model import structure, white_matter
from neuroadapt.model.clock import stack_regional

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
)
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
}
#: Domains affected acutely by intoxication and withdrawal.
ACUTE_MEMBERS: tuple[str, ...] = tuple(d for d in REGIONS if d != "processing_speed")
#: Region keys of the structure and white-matter modules, in their axis order.
GM_KEYS: tuple[str, ...] = structure.REGION_KEYS
FA_KEYS: tuple[str, ...] = white_matter.REGION_KEYS
STATES: dict[str, tuple[str, float]] = {}
INPUTS = ("gm_volume", "fa", "activation_mean", "withdrawal_mean")
OUTPUTS = {
    "z": ("1", "cognitive z-score per domain (SD of matched controls; 0 = control mean)"),
    "z_composite": ("1", "mean of the domain z-scores (global cognition)"),
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


def domain_params(p: dict[str, np.ndarray], stem: str) -> np.ndarray:
    """Stack per-domain parameters ``<stem>_<domain>`` into (subjects, domains)."""
    return stack_regional(p, stem, REGIONS)


def step(state, inputs, p, dt_d):
    """No state of its own: cognition follows structure and the drug state."""
    return {}


def observe(state, inputs, p):
    """Domain z-scores, eq. (1), and their mean."""
    gm_loss = 1.0 - np.asarray(inputs["gm_volume"], dtype=float)
    fa_loss = 1.0 - np.asarray(inputs["fa"], dtype=float)
    g = gm_loss @ GM_WEIGHTS.T
    f = fa_loss @ FA_WEIGHTS.T
    acute = p["cog_acute_intoxication"] * np.asarray(inputs["activation_mean"], dtype=float)
    acute = acute + p["cog_acute_withdrawal"] * np.asarray(inputs["withdrawal_mean"], dtype=float)
    z = -domain_params(p, "cog_beta_gm") * g - domain_params(p, "cog_beta_fa") * f
    z = z - np.asarray(acute, dtype=float).reshape(-1, 1) * ACUTE
    if not np.isfinite(z).all():  # the scan is cheaper than nan_to_num's passes
        z = np.nan_to_num(z, copy=False)
    return {"z": z, "z_composite": z.mean(axis=1)}
