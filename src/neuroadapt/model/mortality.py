"""Deaths from causes other than overdose: the general population's and the excess of use.

Overdose deaths (respiratory depression inside a day, ``engine.kernel``) and
deaths from toxic leukoencephalopathy (``model.white_matter``) come from the
mechanistic model. Everything else a person can die of is a hazard here.

Background: the general population's life table
-----------------------------------------------
``q_x`` is the probability that a person alive at exact age ``x`` dies before
``x + 1`` (NCHS United States Life Tables 2019, by sex;
``parameters/life_table.csv``). With the hazard constant within each year of
age, the annual hazard and its daily value at age ``a`` are

    mu_bg(a, sex) = -ln(1 - q_floor(a), sex)            (per year)         (1)
    h_bg = mu_bg / 365.25                                (per day)

so that surviving the year of age ``x`` has probability ``exp(-mu) = 1 - q_x``
exactly. A subject's age advances with time, ``a(t) = a_0 + t / 365.25``.

Excess while using and after stopping
-------------------------------------
People who use heroin die more often than their peers of infections
(endocarditis, septicaemia, HIV, hepatitis), liver disease, injury, suicide
and violence [Degenhardt 2011; Gossop 2002 (NTORS): 68 % of deaths overdose,
14 % self-inflicted, accidental or violent, 18 % medical]. This excess is a
multiple ``x_s`` of the background hazard in the person's state ``s``
(using: ``x_use``; abstinent, held or trying to stay abstinent: ``x_abs``;
never used: 0), split between medical causes and injury with the share
``f_inj``:

    h_medical = x_s (1 - f_inj) h_bg,   h_injury = x_s f_inj h_bg           (2)
    h_other   = h_bg + h_medical + h_injury = (1 + x_s) h_bg

``x_use`` is fitted so that non-overdose mortality at the default cohort's
mean age (33 years, 30 % women) is the non-overdose part of the pooled crude
mortality rate of opioid users (Degenhardt 2011: 2.09 per 100 PY, times the
32 % of NTORS deaths that were not overdoses). ``x_abs`` is an assumption
(the parameter table gives the reasoning). Overdose deaths are not fitted.

Drawing the time and cause of death
-----------------------------------
Each subject draws once ``E = -ln U`` (``U`` uniform, a counter-based stream
of the subject): the subject dies of other causes when the cumulative hazard
``H(t) = integral of h_other`` first reaches ``E`` [inversion of the
survival function, e.g. Bender, Augustin & Blettner 2005 Stat Med
24:1713-1723]. With the hazard constant within each day, on the day where
``H`` crosses ``E`` the time of death is at the fraction

    (E - H_start) / h_other                                                 (3)

of the day, and the cause is ``k`` with probability ``h_k / h_other``
(a second uniform ``V``). This is the daily Bernoulli death with
probability ``1 - exp(-h_other)``, with one draw per subject instead of one a day;
an overdose earlier in the same day takes precedence.

References
----------
Degenhardt L et al. 2011 Addiction 106:32-51 (PMID:21054613).
Gossop M et al. 2002 Addiction 97:39-47 (doi:10.1046/j.1360-0443.2002.00079.x).
Arias E & Xu JQ 2022 United States Life Tables, 2019. Natl Vital Stat Rep 70(19).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from neuroadapt.parameters.life_table import LifeTable

__all__ = [
    "CAUSES",
    "DAYS_PER_YEAR",
    "OTHER_CAUSES",
    "PARAMETERS",
    "annual_hazard",
    "background_hazard",
    "cause_hazards",
    "cumulative_background",
    "excess_multiple",
    "other_cause_step",
]

#: Parameters the equations read, with their units in the table.
PARAMETERS: dict[str, str] = {
    "mortality_excess_using": "dimensionless",
    "mortality_excess_abstinent": "dimensionless",
    "mortality_injury_share": "dimensionless",
}

#: Days per year of age.
DAYS_PER_YEAR = 365.25

#: Causes of death by code (0: alive at the end).
CAUSES: tuple[str, ...] = (
    "none",
    "overdose",
    "leukoencephalopathy",
    "background",
    "medical",
    "injury",
)
NONE, OVERDOSE, LEUKOENCEPHALOPATHY, BACKGROUND, MEDICAL, INJURY = range(len(CAUSES))
#: Codes of the causes of eq. (2), in the order of :func:`cause_hazards`' rows.
OTHER_CAUSES: tuple[int, ...] = (BACKGROUND, MEDICAL, INJURY)


def annual_hazard(qx: np.ndarray) -> np.ndarray:
    """Eq. (1): the constant annual hazard with survival ``1 - qx`` over the year (inf at 1)."""
    with np.errstate(divide="ignore"):
        return -np.log1p(-np.asarray(qx, dtype=float))


def _qx(table: LifeTable, age_years: np.ndarray, female: np.ndarray) -> np.ndarray:
    """``q_x`` at the completed age (clipped to the table's ages), by sex."""
    x = np.clip(np.floor(np.asarray(age_years, dtype=float)), table.ages[0], table.ages[-1])
    sex = (np.asarray(female, dtype=float) > 0.5).astype(np.int64)
    return table.qx[sex, x.astype(np.int64) - table.ages[0]]


def background_hazard(table: LifeTable, age_years: np.ndarray, female: np.ndarray) -> np.ndarray:
    """Eq. (1): the general population's daily hazard at ``age_years`` (per day)."""
    return annual_hazard(_qx(table, age_years, female)) / DAYS_PER_YEAR


def excess_multiple(
    using: np.ndarray, abstinent: np.ndarray, p: Mapping[str, np.ndarray]
) -> np.ndarray:
    """``x_s`` of eq. (2): ``x_use`` while using, ``x_abs`` while abstinent, else 0."""
    return np.where(
        using, p["mortality_excess_using"], np.where(abstinent, p["mortality_excess_abstinent"], 0)
    )


def cause_hazards(
    h_bg: np.ndarray, using: np.ndarray, abstinent: np.ndarray, p: Mapping[str, np.ndarray]
) -> np.ndarray:
    """Eq. (2): daily hazards of the other causes, rows in the order of ``OTHER_CAUSES``."""
    x = excess_multiple(using, abstinent, p)
    f = np.asarray(p["mortality_injury_share"], dtype=float)
    with np.errstate(invalid="ignore"):  # inf * 0 at the open age: no excess there
        excess = h_bg * x
        med = excess * (1.0 - f)
        inj = excess * f
    if not (np.isfinite(med).all() and np.isfinite(inj).all()):
        med, inj = np.nan_to_num(med, nan=0.0), np.nan_to_num(inj, nan=0.0)
    return np.stack(np.broadcast_arrays(h_bg, med, inj)).astype(float)


def other_cause_step(
    cum: np.ndarray, threshold: np.ndarray, hazards: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One day of eq. (3).

    Parameters
    ----------
    cum
        Cumulative other-cause hazard at the start of the day.
    threshold
        Each subject's ``E = -ln U``.
    hazards
        The day's hazards ``(len(OTHER_CAUSES), n)`` (zero for the dead).
    v
        Each subject's uniform for the cause.

    Returns
    -------
    tuple
        Cumulative hazard at the end of the day, whether the subject dies
        today, the fraction of the day at death (NaN otherwise) and the cause
        code (``OTHER_CAUSES``; ``NONE`` otherwise).
    """
    total = hazards.sum(axis=0)
    new = cum + total
    dies = (cum < threshold) & (new >= threshold) & (total > 0)
    if not dies.any():  # most days: no one dies, and there is no cause to draw
        return new, dies, np.full(cum.shape, np.nan), np.full(cum.shape, NONE)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(dies, np.where(np.isinf(total), 0.0, (threshold - cum) / total), np.nan)
        share = np.cumsum(hazards, axis=0) / total
    share = np.where(np.isinf(total), np.array([1.0, 1.0, 1.0])[:, None], share)
    k = np.minimum((v[None, :] >= share).sum(axis=0), len(OTHER_CAUSES) - 1)
    cause = np.where(dies, np.asarray(OTHER_CAUSES)[k], NONE)
    return new, dies, np.clip(frac, 0.0, 1.0), cause


def cumulative_background(
    table: LifeTable, age_from: np.ndarray, age_to: np.ndarray, female: np.ndarray
) -> np.ndarray:
    """Integral of eq. (1) from ``age_from`` to ``age_to`` (years): expected background deaths.

    Exact for the piecewise-constant annual hazard; ``age_to < age_from`` gives 0.
    """
    mu = annual_hazard(table.qx[:, :-1])  # the open age (infinite hazard) is never reached
    cum = np.concatenate([np.zeros((2, 1)), np.cumsum(mu, axis=1)], axis=1)
    sex = (np.asarray(female, dtype=float) > 0.5).astype(np.int64)

    def at(a):
        a = np.clip(np.asarray(a, dtype=float), table.ages[0], table.ages[-1] - 1e-9)
        i = np.floor(a).astype(np.int64) - table.ages[0]
        return cum[sex, i] + (a - np.floor(a)) * mu[sex, i]

    return np.maximum(at(age_to) - at(age_from), 0.0)
