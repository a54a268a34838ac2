"""Behaviour of virtual people: when they use, how much, and lapse versus relapse.

A person is either *using* (regular, daily use) or *abstaining* (trying not
to use, e.g. after detoxification or release). Decisions are taken once a
day from the brain's state the evening before; nothing about escalation,
relapse or overdose is scheduled.

Regular use: dose titrated to effect
------------------------------------
A regular user takes ``n_use`` doses a day, rising over the first years of
use with the circuit-level adaptation ``c`` of ``model.tolerance`` from
``n_0`` to the person's established number ``n_1`` (frequency of use rises
with dependence):

    n_use = round(n_0 + (n_1 - n_0) c)                                        (0)

Tolerance to euphoria is the right-shift ``S`` of ``model.tolerance`` (AC
superactivation x receptor x circuit), so the dose that gives the effect the
user is used to grows with ``S``; the hedonic deficit ``H`` of the dopamine
module (allostasis: the same effect feels less) drives the dose further up,
"chasing the high" [Koob & Le Moal 2001]. Doses are capped by what the user
can obtain [Smyth 2010]:

    D_target = min(D_0 S^gamma (1 + a_H H), D_max)                           (1)

``D_0`` is the person's starting dose: the scenario's dose for the typical
person, scaled by the person's own receptor sensitivity (people titrate to
the effect, so someone whose MOR constant ``K`` is lower reaches it with less):

    D_0 = D_start K / K_typical                                              (1a)

The habit moves towards the target no faster than ``r_esc`` per week upwards
(money and supply limit how fast intake grows), and at once downwards.
Because ``S`` grows for years while respiratory tolerance stays incomplete,
escalation narrows the margin between the usual dose and a dangerous one.

Each dose differs from the intended one by the purity of the batch it comes
from (one purchase, lasting ``purity_batch_days``) and, less, within the
batch (lognormal factors with mean 1 and coefficients of variation
``cv_batch``, ``cv_dose``); the user is used to the mean purity:

    D = D_habit f(z_b; cv_batch) f(z_d; cv_dose),
    f(z; cv) = exp(sigma z - sigma^2 / 2),  sigma^2 = ln(1 + cv^2)            (2)

After surviving an overdose a person uses less for a while: the dose is
scaled by ``f_od^k``, where the caution ``k`` rises by 1 at each overdose
and decays with half-time ``t_caution``, so repeated overdoses lower the dose
further [Seal 2001: repeated overdoses are concentrated in a minority; many
report using less or more carefully afterwards]. The caution acts from the
very next dose (the engine's kernel applies it dose by dose), and it scales
the dose, not the habit, so it does not make doses fall over the years:

    D <- D f_od^k,   k <- k + 1 at an overdose,   dk/dt = -ln2/t_caution k   (2b)

Overdoses during regular use therefore follow unusually pure batches, high
doses and weak respiratory tolerance; co-users of benzodiazepines or alcohol
(a per-person trait) have a weaker CO2 chemoreflex (``model.respiration``).

Leaving regular use
-------------------
Regular use is not absorbing: after the planned use period a regular user
stops (enters treatment or detoxifies on their own) with hazard
``cessation_rate``, is held abstinent for the plan's detoxification time and
then tries to stay abstinent like anyone discharged [Hser 2001: people cycle
in and out of use over decades].

Abstaining: lapses from craving, negative affect and priming
------------------------------------------------------------
On an abstinent day the urge to use combines independent sources as
probabilities (as the affect module does): cue-induced craving ``C`` on days
the person meets drug cues (probability ``q_cue``), negative affect ``N``
(withdrawal, hedonic deficit, stress) and drug priming ``P`` after a recent
use [de Wit & Stewart 1981; Shaham 2003 for the reinstatement triad of
cue, stress and prime]:

    drive = 1 - (1 - w_C C cue)(1 - w_N N)(1 - w_P P)                         (3)

The day's lapse hazard is a Hill function of the drive, and the lapse
probability follows from it:

    h = h_max drive^n / (drive^n + drive_50^n),   Pr(lapse) = 1 - exp(-h)       (4)

A lapse is one use of ``f_lapse D_target``, the dose of eq. (1) at the
person's tolerance to euphoria now: the circuit-level component persists for
months, the receptor and AC components that protected respiration are lost
within weeks, so the dose taken outlasts the tolerance that made it safe
(overdose after abstinence, Strang 2003; Binswanger 2007). Priming jumps to 1 on a use day
and decays with half-time ``t_prime``. A *relapse* is a return to regular
use: at least ``k_relapse`` use days within the last ``window`` days
(Smyth 2010: "return to daily use"); the person then uses regularly again.

References
----------
Koob GF & Le Moal M 2001 Neuropsychopharmacology 24:97-129.
Smyth BP et al. 2010 Ir Med J 103:176-179, PMID:20669601.
Hser YI et al. 2001 Arch Gen Psychiatry 58:503-508.
Seal KH et al. 2001 Am J Public Health 91:1842-1846, PMC1446888.
Strang J et al. 2003 BMJ 326:959-960, doi:10.1136/bmj.326.7396.959.
Binswanger IA et al. 2007 N Engl J Med 356:157-165, PMID:17215533.
de Wit H & Stewart J 1981 Psychopharmacology 75:134-143.
Shaham Y et al. 2003 Psychopharmacology 168:3-20.
"""

from __future__ import annotations

import math

import numpy as np
from numba.extending import register_jitable

from neuroadapt.model.clock import HOURS_PER_DAY, decay

__all__ = [
    "ABSTAINING",
    "USING",
    "caution_decayed",
    "cautious_dose",
    "cessation_probability",
    "step_habit",
    "lapse_drive",
    "lapse_probability",
    "personal_start_dose",
    "purity_factor",
    "regular_dose",
    "relapsed",
    "step_priming",
    "use_count",
    "uses_per_day",
]

#: Behavioural modes.
USING, ABSTAINING = 0, 1


def regular_dose(
    d0: np.ndarray, tolerance: np.ndarray, hedonic_deficit: np.ndarray, p: dict
) -> np.ndarray:
    """Habitual dose of a regular user (mg) at euphoric tolerance ``S``, eq. (1)."""
    t = np.maximum(np.nan_to_num(tolerance, nan=1.0), 1.0)
    h = np.clip(np.nan_to_num(hedonic_deficit), 0.0, 1.0)
    dose = d0 * t ** p["dose_escalation_exponent"] * (1.0 + p["dose_allostasis_gain"] * h)
    return np.minimum(dose, p["dose_max"])


def personal_start_dose(d_start: float, kd: np.ndarray, kd_typical: float) -> np.ndarray:
    """Starting dose of each person titrating to the typical person's effect, eq. (1a)."""
    return d_start * np.asarray(kd, dtype=float) / kd_typical


@register_jitable
def cautious_dose(amount: float, caution: float, reduction: float) -> float:
    """One dose scaled by the caution ``k`` after survived overdoses, eq. (2b)."""
    return amount * reduction ** max(caution, 0.0)


@register_jitable
def caution_decayed(caution: float, rate_per_h: float, dt_h: float) -> float:
    """Caution ``k`` after ``dt_h`` hours without an overdose, eq. (2b)."""
    return caution * math.exp(-rate_per_h * max(dt_h, 0.0))


def uses_per_day(circuit: np.ndarray, p: dict, most: int) -> np.ndarray:
    """Doses a day of a regular user at circuit-level adaptation ``c``, eq. (0)."""
    c = np.clip(np.nan_to_num(circuit), 0.0, 1.0)
    n = p["uses_per_day_start"] + (p["uses_per_day"] - p["uses_per_day_start"]) * c
    return np.clip(np.rint(n), 1, most).astype(np.int64)


def step_habit(habit: np.ndarray, target: np.ndarray, days: float, p: dict) -> np.ndarray:
    """Habitual dose after ``days`` moving towards ``target`` (rate-limited upwards)."""
    most = habit * (1.0 + p["dose_escalation_per_week"]) ** (days / 7.0)
    return np.minimum(target, most)


def purity_factor(z: np.ndarray, cv) -> np.ndarray:
    """Lognormal purity factor with mean 1 and CV ``cv`` from standard normal draws, eq. (2)."""
    s2 = np.log1p(np.asarray(cv) ** 2)
    return np.exp(np.sqrt(s2) * z - 0.5 * s2)


def cessation_probability(days: float, p: dict) -> np.ndarray:
    """Probability that a regular user stops within ``days`` (hazard ``cessation_rate``)."""
    return -np.expm1(-p["cessation_rate"] * HOURS_PER_DAY * days)


def lapse_drive(craving, cue, negative_affect, priming, p: dict) -> np.ndarray:
    """Urge to use on an abstinent day in [0, 1], eq. (3)."""
    return 1.0 - (
        (1.0 - p["lapse_weight_craving"] * np.clip(craving, 0, 1) * cue)
        * (1.0 - p["lapse_weight_affect"] * np.clip(negative_affect, 0, 1))
        * (1.0 - p["lapse_weight_prime"] * np.clip(priming, 0, 1))
    )


def lapse_probability(drive: np.ndarray, p: dict) -> np.ndarray:
    """Probability of using on an abstinent day, eq. (4)."""
    n = p["lapse_hill"]
    dn = np.maximum(drive, 0.0) ** n
    # the table holds rates per hour; the decision is daily
    h = p["lapse_hazard_max"] * HOURS_PER_DAY * dn / (dn + p["lapse_drive_d50"] ** n)
    return -np.expm1(-h)


def step_priming(priming: np.ndarray, used: np.ndarray, p: dict, dt_d: float = 1.0):
    """Priming after a day: 1 after a use day, otherwise exponential decay."""
    decayed = priming * decay(p, "t_half_priming", dt_d)
    return np.where(used, 1.0, decayed)


def use_count(bits: np.ndarray, n_bits: int = 63) -> np.ndarray:
    """Number of use days in the last ``n_bits`` days of a bit history (bit 0 = today)."""
    b = np.asarray(bits, dtype=np.uint64)
    count = np.zeros(b.shape, dtype=np.int64)
    for k in range(int(n_bits)):
        count += ((b >> np.uint64(k)) & np.uint64(1)).astype(np.int64)
    return count


def relapsed(bits: np.ndarray, p: dict) -> np.ndarray:
    """Return to regular use: at least ``relapse_use_days`` use days in the window."""
    window = np.asarray(p["relapse_window"]).astype(np.int64)
    mask = (np.uint64(1) << window.astype(np.uint64)) - np.uint64(1)
    recent = np.asarray(bits, dtype=np.uint64) & mask
    return use_count(recent, int(window.max(initial=0))) >= p["relapse_use_days"]
