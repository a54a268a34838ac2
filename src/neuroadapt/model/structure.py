"""Regional gray matter: excitotoxic, inflammatory and hypoxic loss, recovery and ageing.

Process
-------
Chronic heroin users have lower gray-matter volume and density, mostly
fronto-temporal: prefrontal cortex, insula, cingulate and superior temporal
cortex, fusiform (Lyoo 2006, Psychopharmacology 184:139; Wollman 2017,
PMID:27808568), nucleus accumbens (Seifert 2015), insula and putamen (Bach
2019, PMID:31422451). Post mortem the anterior insula is ~24 % smaller with
no loss of neurons (Müller 2023, doi:10.1007/s00406-023-01553-6), so the
loss is modelled as neuropil (dendrites, glia, water), largely reversible.
Loss grows with the duration of use (Yuan 2009, PMID:19775795; Shi 2020,
doi:10.1016/j.pscychresns.2020.111150; Li 2014), partly recovers within a
month of abstinence (Wang X 2012) and, after years, no reduction remains
except in the precuneus (Wollman 2017; Addict Biol 2016, PMID:25727574).

The daily drive (dimensionless, 0 in a drug-free subject) combines the
outputs of the neurochemistry modules:

    D = w_glu [ (glt1_ref - glt1)+ + c_cue (cue_glutamate - cue_ref)+ ]
      + w_inf [ (glial_activation - glial_ref)+ + c_cyt (cytokines - cyt_ref)+ ]  (1)

Each region ``r`` has a vulnerability ``v_r`` and three loss components
(fractions of a matched control's volume):

    dL_f/dt = k_f (m_f v_r D - L_f)                 reversible; k_f = k_on (months)
                                                    while L_f rises, k_off (days)
                                                    while it falls                (2)
    dL_s/dt = a_s v_r D - k_s,r L_s / (1 + D/D50)   slow, repaired only when
                                                    the drive is low (years)   (3)
    L_h += g_h s_r min(O, 1) (1 - exp(-(H - H0)+ / H_s))   hypoxic, permanent (4)

on each day with an overdose (``O``, PaO2 below the overdose level): ``H``
is the day's time below the hypoxia PaO2 threshold (``hypoxia_minutes``),
the injury saturates with its length, and ``s_r`` is a regional hypoxic
sensitivity (hippocampus highest: Todaro 2023; Andersen & Skullerud 1999).
Days of mild hypoxaemia without an overdose do not kill neurons.
Gating repair by the drive in (3) makes loss grow roughly linearly with
years of use and recover after stopping; the precuneus has a near-zero repair rate. Within a day
``D`` and ``H`` are constant, so (2)-(4) are linear with constant coefficients and are advanced
exactly:

    L(t + dt) = L* + (L(t) - L*) exp(-k dt),   L* = input / k.

Observables
-----------
    gm_volume     = 1 - L_f - L_s - L_h               (fraction of control)
    gm_density    = 1 - rho_f L_f - L_s - L_h         (VBM density, fraction)
    gm_loss_pct   = 100 (1 - gm_volume)
    gm_volume_abs = gm_volume (1 - a_age (age - age0)+)   (fraction of a
                                                    young adult's volume)

Normal ageing (``a_age``, ~0.3 %/yr after 30; Fotenos 2005) applies to
users and controls alike, so ``gm_volume`` (relative to an age-matched
control) carries only the drug effect and ``gm_volume_abs`` both.

Parameters are per hour in the table; rates are converted to the day clock
with ``HOURS_PER_DAY``. Regional parameters are named ``<stem>_<region key>``
(``REGION_KEYS``).
"""

from __future__ import annotations

import numpy as np

from neuroadapt.model.clock import (
    HOURS_PER_DAY,
    across,
    decay,
    relax,
    relax_by,
    remembered,
    stack_regional,
)
from neuroadapt.model.clock import column as _c
from neuroadapt.model.clock import positive as _pos

NAME = "structure"
#: Regions, in the order of the regional axis.
REGIONS: tuple[str, ...] = (
    "prefrontal cortex",
    "anterior cingulate",
    "insula",
    "temporal cortex",
    "nucleus accumbens",
    "fusiform",
    "hippocampus",
    "amygdala",
    "putamen",
    "precuneus",
)
#: Short keys used in parameter names, in the order of ``REGIONS``.
REGION_KEYS: tuple[str, ...] = (
    "pfc",
    "acc",
    "insula",
    "temporal",
    "nacc",
    "fusiform",
    "hippocampus",
    "amygdala",
    "putamen",
    "precuneus",
)
STATES = {
    "loss_fast": ("1", 0.0),
    "loss_slow": ("1", 0.0),
    "loss_hypoxic": ("1", 0.0),
}
INPUTS = (
    "glt1",
    "cue_glutamate",
    "glial_activation",
    "cytokines",
    "hypoxia_minutes",
    "overdoses",
    "age_years",
)
OUTPUTS = {
    "gm_volume": ("1", "regional gray-matter volume, fraction of a matched control's"),
    "gm_density": ("1", "regional gray-matter density (VBM), fraction of a matched control's"),
    "gm_loss_pct": ("percent", "regional gray-matter volume loss vs a matched control"),
    "gm_volume_abs": ("1", "regional gray-matter volume, fraction of a young adult's (ageing)"),
    "gm_drive": ("1", "daily drive of gray-matter loss (excitotoxic + inflammatory)"),
    "inflammatory_drive": (
        "1",
        "inflammatory injury drive: glial and cytokine excess over a drug-free subject "
        "(the inflammatory term of eq. 1; white matter reads it too)",
    ),
}
#: Parameters read by this module (name -> unit of the parameter table), checked by tests.
PARAMETERS: dict[str, str] = {
    "str_age_decline": "1/year",
    "str_age_onset_decline": "year",
    "str_cue_glutamate_ref": "dimensionless",
    "str_cytokine_ref": "dimensionless",
    "str_density_fast_ratio": "dimensionless",
    "str_fast_loss_max": "dimensionless",
    "str_glial_ref": "dimensionless",
    "str_glt1_ref": "dimensionless",
    "str_hypoxia_scale": "min",
    "str_hypoxia_threshold": "min",
    "str_hypoxic_gain": "dimensionless",
    "str_hypoxic_sens_acc": "dimensionless",
    "str_hypoxic_sens_amygdala": "dimensionless",
    "str_hypoxic_sens_fusiform": "dimensionless",
    "str_hypoxic_sens_hippocampus": "dimensionless",
    "str_hypoxic_sens_insula": "dimensionless",
    "str_hypoxic_sens_nacc": "dimensionless",
    "str_hypoxic_sens_pfc": "dimensionless",
    "str_hypoxic_sens_precuneus": "dimensionless",
    "str_hypoxic_sens_putamen": "dimensionless",
    "str_hypoxic_sens_temporal": "dimensionless",
    "str_loss_rate_slow": "1/year",
    "str_repair_d50": "dimensionless",
    "str_t_half_fast": "day",
    "str_t_half_fast_on": "day",
    "str_t_half_repair_acc": "year",
    "str_t_half_repair_amygdala": "year",
    "str_t_half_repair_fusiform": "year",
    "str_t_half_repair_hippocampus": "year",
    "str_t_half_repair_insula": "year",
    "str_t_half_repair_nacc": "year",
    "str_t_half_repair_pfc": "year",
    "str_t_half_repair_precuneus": "year",
    "str_t_half_repair_putamen": "year",
    "str_t_half_repair_temporal": "year",
    "str_vuln_acc": "dimensionless",
    "str_vuln_amygdala": "dimensionless",
    "str_vuln_fusiform": "dimensionless",
    "str_vuln_hippocampus": "dimensionless",
    "str_vuln_insula": "dimensionless",
    "str_vuln_nacc": "dimensionless",
    "str_vuln_pfc": "dimensionless",
    "str_vuln_precuneus": "dimensionless",
    "str_vuln_putamen": "dimensionless",
    "str_vuln_temporal": "dimensionless",
    "str_w_cue": "dimensionless",
    "str_w_cytokine": "dimensionless",
    "str_w_glutamate": "dimensionless",
    "str_w_inflammation": "dimensionless",
}
HOURS_PER_YEAR = 24.0 * 365.25


def regional(p: dict[str, np.ndarray], stem: str) -> np.ndarray:
    """Per-region parameters ``<stem>_<key>`` as an array (subjects, regions)."""
    return stack_regional(p, stem, REGION_KEYS)


def inflammatory_drive(inputs: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """Inflammatory injury drive, the bracket of ``w_inf`` in eq. (1), shape (subjects,).

    The one definition of it: gray matter weights it here, white matter reads
    it as this module's output ``inflammatory_drive``.
    """
    return _pos(inputs["glial_activation"] - p["str_glial_ref"]) + p["str_w_cytokine"] * _pos(
        inputs["cytokines"] - p["str_cytokine_ref"]
    )


def drive(inputs: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """Daily drive of gray-matter loss, eq. (1), shape (subjects,)."""
    glu = _pos(p["str_glt1_ref"] - inputs["glt1"]) + p["str_w_cue"] * _pos(
        inputs["cue_glutamate"] - p["str_cue_glutamate_ref"]
    )
    return p["str_w_glutamate"] * glu + p["str_w_inflammation"] * inflammatory_drive(inputs, p)


def hypoxic_severity(inputs: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """Severity (0-1) of the day's overdose hypoxia, eq. (4), shape (subjects,)."""
    od = np.minimum(np.asarray(inputs["overdoses"], dtype=float), 1.0)
    excess_h = _pos(
        np.asarray(inputs["hypoxia_minutes"], dtype=float) / 60.0 - p["str_hypoxia_threshold"]
    )
    return od * (1.0 - np.exp(-excess_h / p["str_hypoxia_scale"]))


def _per_region(x) -> np.ndarray:
    """A per-subject value repeated across the regions (``clock.across``)."""
    return across(x, len(REGIONS))


def step(state, inputs, p, dt_d):
    """Advance the three loss components by ``dt_d`` days (exact for a constant day)."""
    d_subject = drive(inputs, p)
    d = _per_region(d_subject)
    v = regional(p, "str_vuln")
    # (2) reversible component: target m_f v D, slow to build, fast to clear
    m_v = remembered(p, "str:fast_max*vuln", lambda m, v: _c(m) * v, p["str_fast_loss_max"], v)
    target_f = m_v * d
    decay_off = remembered(
        p, f"str:decay_fast:{dt_d!r}", _per_region, decay(p, "str_t_half_fast", dt_d)
    )
    decay_on = remembered(
        p, f"str:decay_fast_on:{dt_d!r}", _per_region, decay(p, "str_t_half_fast_on", dt_d)
    )
    fast = relax_by(
        state["loss_fast"], target_f, np.where(target_f >= state["loss_fast"], decay_on, decay_off)
    )
    # (3) slow component with drive-gated repair
    a_v = remembered(
        p,
        "str:loss_rate_slow*vuln",
        lambda a, v: _c(a) * HOURS_PER_DAY * v,
        p["str_loss_rate_slow"],
        v,
    )
    a_s = a_v * d
    k_s = remembered(
        p,
        "str:k_repair",
        lambda t: np.log(2.0) / t * HOURS_PER_DAY,
        regional(p, "str_t_half_repair"),
    )
    k_s = k_s / _per_region(1.0 + d_subject / p["str_repair_d50"])
    slow = relax(state["loss_slow"], a_s / k_s, k_s, dt_d)
    # (4) hypoxic permanent component (hours of hypoxia in internal units), on overdose days
    cap = 0.95  # volumes stay positive whatever the parameters: total loss below 95 %
    severe = hypoxic_severity(inputs, p)
    hyp = state["loss_hypoxic"]
    hit = np.flatnonzero(severe)  # subjects with an overdose today; the others keep L_h
    if hit.size:
        g_s = remembered(
            p,
            "str:hypoxic_gain*sens",
            lambda g, s: _c(g) * s,
            p["str_hypoxic_gain"],
            regional(p, "str_hypoxic_sens"),
        )
        hyp = hyp.copy()
        hyp[hit] = np.minimum(hyp[hit] + g_s[hit] * severe[hit, None], cap)
    return {
        "loss_fast": np.minimum(fast, cap, out=fast),
        "loss_slow": np.minimum(slow, cap, out=slow),
        "loss_hypoxic": hyp,
    }


def observe(state, inputs, p):
    """Regional volume, density, loss and age-adjusted volume."""
    loss_f, loss_s, loss_h = state["loss_fast"], state["loss_slow"], state["loss_hypoxic"]
    vol = 1.0 - loss_f
    vol -= loss_s
    vol -= loss_h
    np.clip(vol, 0.05, 1.0, out=vol)
    rho = remembered(p, "str:density_fast_ratio", _per_region, p["str_density_fast_ratio"])
    dens = 1.0 - rho * loss_f
    dens -= loss_s
    dens -= loss_h
    np.clip(dens, 0.05, 1.0, out=dens)
    years = _pos(
        np.asarray(inputs["age_years"], dtype=float) - p["str_age_onset_decline"] / HOURS_PER_YEAR
    )
    # the bounds only guard extrapolation: at the table's upper rate the decline is 0.28 by 85
    ageing = np.clip(1.0 - p["str_age_decline"] * HOURS_PER_YEAR * years, 0.3, 1.0)
    return {
        "gm_volume": vol,
        "gm_density": dens,
        "gm_loss_pct": 100.0 * (1.0 - vol),
        "gm_volume_abs": vol * _per_region(ageing),
        "gm_drive": _per_region(drive(inputs, p)),
        "inflammatory_drive": inflammatory_drive(inputs, p),
    }
