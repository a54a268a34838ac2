"""Negative affect and stress: withdrawal, the hedonic deficit and inflammation.

Process
-------
The "dark side" of addiction [Koob & Le Moal 2001; Koob 2008]: repeated
withdrawal recruits the brain stress systems (CRF in the extended amygdala),
which stay recruited into protracted abstinence. A stress-system state ``s``
relaxes towards a saturating function of the day's mean withdrawal ``W``
(the kernel's cAMP overshoot), quickly upwards and slowly downwards:

    ds/dt = k (W / (W + W50_s) - s),  k = k_on if the target exceeds s, else k_off  (1)

Pro-inflammatory signalling adds to stress (cytokine-induced sickness
behaviour; Cooper 2016: ibudilast lowered "anxious" and "restless" in
withdrawal). Stress and negative affect combine independent sources as
probabilities, so each stays in [0, 1] and rises with every source:

    stress          = 1 - (1 - s)(1 - a_g g)                                     (2)
    negative_affect = 1 - (1 - a_W W/(W + W50))(1 - a_h deficit)(1 - a_s stress)  (3)

with ``g`` the glial activation and ``deficit`` the hedonic deficit of the
dopamine module.

References
----------
Koob GF & Le Moal M 2001 Neuropsychopharmacology 24:97-129.
Koob GF 2008 Neuron 59:11-34.
Cooper ZD et al. 2016 Addict Biol 21:895-903, PMID:25975386.
"""

from __future__ import annotations

import numpy as np

from neuroadapt.model.clock import decay, relax_by

NAME = "affect"
STATES = {"stress_system": ("1", 0.0)}
INPUTS = ("withdrawal_mean", "hedonic_deficit", "glial_activation")
OUTPUTS = {
    "negative_affect": ("1", "negative affect / dysphoria (0-1)"),
    "stress": ("1", "stress-system recruitment with inflammatory contribution (0-1)"),
}
#: Parameters read by this module (name -> unit of the parameter table), checked by tests.
PARAMETERS: dict[str, str] = {
    "affect_deficit_weight": "dimensionless",
    "affect_stress_weight": "dimensionless",
    "affect_withdrawal_w50": "dimensionless",
    "affect_withdrawal_weight": "dimensionless",
    "stress_inflammation_weight": "dimensionless",
    "stress_withdrawal_w50": "dimensionless",
    "t_half_stress_off": "d",
    "t_half_stress_on": "d",
}


def step(state, inputs, p, dt_d):
    """Advance the stress-system state by ``dt_d`` days, eq. (1)."""
    w = np.maximum(inputs["withdrawal_mean"], 0.0)
    target = w / (w + p["stress_withdrawal_w50"])
    s = state["stress_system"]
    decay_s = np.where(
        target >= s, decay(p, "t_half_stress_on", dt_d), decay(p, "t_half_stress_off", dt_d)
    )
    return {"stress_system": relax_by(s, target, decay_s)}


def observe(state, inputs, p):
    """Stress and negative affect of the day, eqs. (2)-(3)."""
    w = np.maximum(inputs["withdrawal_mean"], 0.0)
    stress = 1.0 - (1.0 - state["stress_system"]) * (
        1.0 - p["stress_inflammation_weight"] * inputs["glial_activation"]
    )
    na = 1.0 - (
        (1.0 - p["affect_withdrawal_weight"] * w / (w + p["affect_withdrawal_w50"]))
        * (1.0 - p["affect_deficit_weight"] * inputs["hedonic_deficit"])
        * (1.0 - p["affect_stress_weight"] * stress)
    )
    return {"negative_affect": na, "stress": stress}
