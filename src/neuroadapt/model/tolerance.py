"""Tolerance beyond adenylyl cyclase: receptor- and circuit-level adaptation over weeks to years.

Process
-------
AC superactivation ``U`` (``model.signalling``, kernel) is the fast and slow
part of tolerance (hours to about three weeks). Two further adaptations act
on longer clocks [Williams 2013 for the cellular mechanisms; Koob & Le Moal
2001 for the circuit]:

* *receptor level* (``r``): MOR desensitisation, internalisation and
  down-regulation under sustained agonist exposure, built over days to weeks
  and lost over about a week of abstinence [Williams 2013]; and
* *circuit level* (``c``): adaptation of the reward circuit's response to
  MOR signalling (the shifted hedonic set point of allostasis), built over
  months to years and lost over a year or more [Koob & Le Moal 2001].

Both relax towards the day's exposure ``e = A_mean / (A_mean + e50)`` (the
dopamine module's saturating drive), each with its own half-times for
building and for losing:

    dx/dt = k_x (e - x),   k_x = k_on,x if e > x, else k_off,x,   x in {r, c}   (1)

Tolerance to euphoria is the product of the three right-shifts; the
respiratory network (brainstem) adapts at the AC level by ``1 + rho U`` (the
kernel's eq. 6 of ``model.respiration``) and at the receptor level only by a
fraction of the reward circuits' shift, and not at all at the circuit level,
so respiratory tolerance stays incomplete [Hill 2020; White &
Irvine 1999]:

    S_euphoric    = (1 + U) (1 + a_r r) (1 + a_c c)                             (2)
    S_respiratory = (1 + rho U) (1 + b_r r),        b_r < a_r                  (3)

The life course (``engine.lifecourse``) right-shifts every agonist's binding
(``kd``) by ``1 + b_r r`` in the kernel, and people titrate their dose to
``S_euphoric`` (``model.behaviour``). After abstinence ``U`` and ``r`` are lost
within weeks but ``c`` persists for months: the dose a person remembers
outlasts the tolerance that made it safe [Strang 2003]. In scheduled
regimens, where doses are given rather than chosen, the two components are
recorded but do not act on the pharmacology.

References
----------
Williams JT et al. 2013 Pharmacol Rev 65:223-254, doi:10.1124/pr.112.005942.
Koob GF & Le Moal M 2001 Neuropsychopharmacology 24:97-129.
Hill R et al. 2020 Br J Pharmacol 177:2923-2931, doi:10.1111/bph.15030.
White JM & Irvine RJ 1999 Addiction 94:961-972.
Strang J et al. 2003 BMJ 326:959-960, doi:10.1136/bmj.326.7396.959.
"""

from __future__ import annotations

import numpy as np

from neuroadapt.model.clock import decay, relax_by
from neuroadapt.model.dopamine import exposure

NAME = "tolerance"
STATES = {"receptor": ("1", 0.0), "circuit": ("1", 0.0)}
INPUTS = ("activation_mean", "tolerance_shift")
OUTPUTS = {
    "receptor_shift": (
        "1",
        "right-shift of agonist binding from receptor-level adaptation seen by every MOR "
        "effect, respiration included (1 + b_r r)",
    ),
    "euphoric": ("1", "fold right-shift of the euphoric effect: AC x receptor x circuit"),
    "respiratory": ("1", "fold right-shift of respiratory depression: AC x receptor"),
}
#: Parameters read by this module (name -> unit of the parameter table), checked by tests.
PARAMETERS: dict[str, str] = {
    "resp_tolerance_gain": "dimensionless",
    "t_half_tol_circuit_off": "d",
    "t_half_tol_circuit_on": "d",
    "t_half_tol_receptor_off": "d",
    "t_half_tol_receptor_on": "d",
    "tol_circuit_gain": "dimensionless",
    "tol_exposure_e50": "dimensionless",
    "tol_receptor_euphoric_gain": "dimensionless",
    "tol_receptor_respiratory_gain": "dimensionless",
}


def step(state, inputs, p, dt_d):
    """Advance receptor and circuit adaptation by ``dt_d`` days, eq. (1) (exact per day)."""
    e = exposure(inputs["activation_mean"], p["tol_exposure_e50"])
    out = {}
    for x, stem in (("receptor", "tol_receptor"), ("circuit", "tol_circuit")):
        s = state[x]
        k = np.where(
            e > s, decay(p, f"t_half_{stem}_on", dt_d), decay(p, f"t_half_{stem}_off", dt_d)
        )
        out[x] = relax_by(s, e, k)
    return out


def euphoric_shift(ac_shift, receptor, circuit, p) -> np.ndarray:
    """Fold right-shift of euphoria from the AC shift ``1 + U`` and the adaptations, eq. (2)."""
    return (
        np.asarray(ac_shift)
        * (1.0 + p["tol_receptor_euphoric_gain"] * receptor)
        * (1.0 + p["tol_circuit_gain"] * circuit)
    )


def receptor_shift(receptor, p) -> np.ndarray:
    """Right-shift of agonist binding seen by respiration (and every effect), ``1 + b_r r``."""
    return 1.0 + p["tol_receptor_respiratory_gain"] * np.asarray(receptor)


def respiratory_shift(ac_shift, receptor, p) -> np.ndarray:
    """Fold right-shift of respiratory depression, eq. (3)."""
    u = np.maximum(np.asarray(ac_shift) - 1.0, 0.0)
    return (1.0 + p["resp_tolerance_gain"] * u) * receptor_shift(receptor, p)


def observe(state, inputs, p):
    """The three shifts of eqs. (2)-(3) from the states and the day's AC shift."""
    ac = np.where(inputs["tolerance_shift"] > 0, inputs["tolerance_shift"], 1.0)
    r, c = state["receptor"], state["circuit"]
    return {
        "receptor_shift": receptor_shift(r, p),
        "euphoric": euphoric_shift(ac, r, c, p),
        "respiratory": respiratory_shift(ac, r, p),
    }
