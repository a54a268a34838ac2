"""Brainstem respiration: ventilation, PaCO2/PaO2, SpO2, hypoxia and overdose.

Process
-------
Following the FDA translational overdose model [Mann 2022], MOR activation
``A_r`` scales the wakefulness drive by ``(1 - A_r^p_w)`` and the
chemoreflex (CO2) drive by ``(1 - A_r^p_c)``. Respiratory tolerance is a
right-shift of the agonist-occupancy odds by ``1 + rho U``; it develops
less completely than tolerance to euphoria, which the cAMP compensation
abolishes [Hill 2020; White & Irvine 1999]:

    A_r = A / (A + (1 - A)(1 + rho U))                               (6)

Alveolar ventilation relative to rest, ``v``, and PaCO2 are solved in closed
form from the steady-state CO2 balance ``PaCO2 = PaCO2_0 / v`` and the
linear chemoreflex ``v = d + s (PaCO2/PaCO2_0 - c)``:

    d = w (1 - A_r^p_w),  s = S (1 - A_r^p_c),  c = 1 - (1 - w)/S
    v = ((d - s c) + sqrt((d - s c)^2 + 4 s)) / 2                    (7)

PaO2 follows the alveolar gas equation [West] with an A-a difference, and
arterial PO2 approaches it with time constant ``tau_O2`` (O2 stores,
Benumof 1997):

    PaO2_ss = FiO2 (Pb - PH2O) - PaCO2 / RQ - AaDO2                  (8)
    dPaO2/dt = (PaO2_ss - PaO2) / tau_O2                             (9)

Below a threshold ``P_hd`` brain hypoxia itself depresses the respiratory
network (hypoxic respiratory depression, Neubauer, Melton & Edelman 1990):
the ventilation that sets the PaO2 target of eq. (9) is scaled by the
lagged PaO2,

    v_hd = v * min(1, PaO2 / P_hd)                                    (10)

so that an overdose deep enough to cross ``P_hd`` feeds on itself and,
unless a rescuer gives naloxone, ends in arrest. This is what makes a single
severe episode fatal; ``P_hd`` is fitted to the case fatality of overdose.

Over a step ``dt`` with a constant target, eq. (9) is solved exactly:

    PaO2(t + dt) = PaO2(t) + (PaO2_ss - PaO2(t)) (1 - e^{-dt/tau_O2})    (9a)

SpO2 follows the Severinghaus (1979) dissociation curve. Cardiac arrest
occurs when PaO2 stays below ``P_arrest`` (15 mmHg) for ``t_arrest``
(220 s) without a break [Mann 2022]:

    T_below(t + dt) = T_below(t) + dt  if PaO2 < P_arrest, else 0
    arrest when T_below >= t_arrest                                   (11)
"""

from __future__ import annotations

import math

from numba.extending import overload, register_jitable

from neuroadapt.model.signalling import positive_part

#: The fast layer's module declaration (``neuroadapt.model.system`` lists it).
NAME = "respiration"
TITLE = "brainstem respiration and overdose"
#: States (name -> unit); the engine starts them at the drug-free steady state.
STATES: dict[str, str] = {"pao2": "mmHg"}
INPUTS = ("agonist_occupancy", "tolerance_shift")
OUTPUTS = {
    "ventilation": ("1", "alveolar ventilation relative to rest"),
    "pao2": ("mmHg", "arterial oxygen tension"),
    "spo2": ("1", "oxygen saturation"),
    "hypoxia_minutes": ("min", "minutes below the hypoxia threshold"),
    "overdoses": ("1", "overdose episodes"),
}
#: Daily records of this module that drive the slow clock (``engine.brain``).
DAILY = {
    "hypoxia_minutes": ("min", "minutes of hypoxia in the day"),
    "overdoses": ("1", "overdose episodes in the day"),
    "alive": ("1", "1 while alive, 0 after death"),
}
#: Parameters of the table this module's equations read (name -> unit).
PARAMETERS: dict[str, str] = {
    "aa_gradient": "mmHg",
    "arrest_delay": "s",
    "co2_sensitivity": "dimensionless",
    "fio2": "dimensionless",
    "p_barometric": "mmHg",
    "p_chemo": "dimensionless",
    "p_wake": "dimensionless",
    "p_water": "mmHg",
    "paco2_baseline": "mmHg",
    "pao2_arrest": "mmHg",
    "pao2_hypoxia": "mmHg",
    "pao2_hypoxic_depression": "mmHg",
    "pao2_overdose": "mmHg",
    "resp_quotient": "dimensionless",
    "resp_tolerance_gain": "dimensionless",
    "severinghaus_a": "mmHg**3",
    "severinghaus_b": "mmHg**2",
    "tau_o2": "min",
    "wake_fraction": "dimensionless",
}


@register_jitable
def respiratory_activation(a, u, rho):
    """Agonist occupancy seen by the respiratory network after tolerance, eq. (6)."""
    return a / (a + (1.0 - a) * (1.0 + rho * u))


def occupancy_power(a_r, p):
    """``A_r ** p``, the occupancy term of eq. (7) (numbers, arrays or symbols)."""
    return a_r**p


@overload(occupancy_power)
def _occupancy_power_compiled(a_r, p):
    """Compiled ``A_r ** p``, with an exact shortcut for ``p = 1``.

    The shipped exponents are 1 (Dahan 2004); a general power there was the
    kernel's costliest operation. The result is identical.
    """

    def impl(a_r, p):
        return a_r if p == 1.0 else a_r**p

    return impl


@register_jitable
def relative_ventilation(a_r, wake_fraction, co2_sensitivity, p_wake, p_chemo):
    """Alveolar ventilation relative to rest, closed-form steady state, eq. (7)."""
    d = wake_fraction * (1.0 - occupancy_power(a_r, p_wake))
    s = co2_sensitivity * (1.0 - occupancy_power(a_r, p_chemo))
    c = 1.0 - (1.0 - wake_fraction) / co2_sensitivity
    b = d - s * c
    return 0.5 * (b + (b * b + 4.0 * s) ** 0.5)


@register_jitable
def paco2(v, paco2_baseline):
    """Arterial PCO2 (mmHg) at relative ventilation ``v`` (steady CO2 balance)."""
    return paco2_baseline / v


@register_jitable
def pao2_steady(v, paco2_baseline, fio2, p_barometric, p_water, resp_quotient, aa_gradient):
    """Arterial PO2 (mmHg) set by ventilation, eq. (8); never negative."""
    pa_o2 = fio2 * (p_barometric - p_water) - paco2_baseline / v / resp_quotient
    return positive_part(pa_o2 - aa_gradient)


@register_jitable
def hypoxic_ventilation(v, pao2, pao2_depression):
    """Ventilation after hypoxic respiratory depression, eq. (10)."""
    if pao2 >= pao2_depression:
        return v
    return v * max(pao2, 0.0) / pao2_depression


@register_jitable
def spo2(pao2, sev_a, sev_b):
    """Haemoglobin O2 saturation (fraction) from PaO2, Severinghaus (1979)."""
    return 1.0 / (sev_a / (pao2**3 + sev_b * pao2) + 1.0)


@register_jitable
def pao2_lag_weight(dt, tau_o2):
    """Weight ``1 - e^{-dt/tau_O2}`` of one step of the PaO2 lag, eq. (9a) (same time unit)."""
    return 1.0 - math.exp(-dt / tau_o2)


@register_jitable
def pao2_step(pao2, target, weight):
    """Lagged PaO2 after one step towards ``target``, eq. (9a).

    ``weight`` is :func:`pao2_lag_weight` of the step.
    """
    return pao2 + (target - pao2) * weight


@register_jitable
def pao2_relaxed(pao2, target, span, tau_o2):
    """Lagged PaO2 after ``span`` relaxing towards a constant ``target``, eq. (9) solved."""
    return target + (pao2 - target) * math.exp(-span / tau_o2)


@register_jitable
def time_below_arrest(below_s, pao2, dt_s, pao2_arrest):
    """Seconds PaO2 has stayed below the arrest threshold without a break, eq. (11)."""
    return below_s + dt_s if pao2 < pao2_arrest else 0.0


@register_jitable
def arrested(below_s, arrest_delay_s):
    """Whether PaO2 has stayed below the arrest threshold long enough for arrest, eq. (11)."""
    return below_s >= arrest_delay_s
