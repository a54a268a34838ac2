"""Calibration checks of the clinical targets: lapse, relapse, overdose and mortality.

One life-course probe serves the lapse, relapse and overdose checks: 200
regular users decide their own use for two years (``model.behaviour``); then
80 % are detoxified (14 days held abstinent, as in residential
detoxification) and try to stay abstinent for two years, while 20 % keep
using; a bystander gives naloxone in half of overdoses. Outcomes after
discharge are Kaplan-Meier estimates.

Mortality needs more person-years: a second probe follows 400 users with the
default cohort's ages and sexes (28 +- 6 years, 30 % women) for four years of
use, then half are detoxified and followed for a year. Rates are deaths over
person-years (``engine.outcomes.mortality_table``); standardised mortality
ratios divide by the deaths the life table expects for the same ages and
sexes. A rate is compared through its exact Poisson 95 % interval: it passes
when that interval overlaps the target's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from neuroadapt.engine.lifecourse import LifeCourseResult, LifePlan
from neuroadapt.engine.outcomes import (
    LOST_TOLERANCE_WINDOW_D,
    exposure,
    kaplan_meier,
    mortality_table,
    poisson_ci,
    survival_table,
)
from neuroadapt.engine.simulate import RescueRule
from neuroadapt.evidence import probes as P
from neuroadapt.evidence.checks import Check, in_range, never, not_modelled, within_abs
from neuroadapt.parameters.life_table import load_life_table
from neuroadapt.scenarios import load_scenario
from neuroadapt.scenarios.covariates import covariates

PLAN = LifePlan(use_days=730, detox_days=14, follow_up_days=744, abstinent_fraction=0.8)
SUBJECTS = 200
SEED = 7

#: The mortality probe: four years of use, then half detoxified and followed for a year.
MORTALITY_PLAN = LifePlan(use_days=1461, detox_days=14, follow_up_days=379, abstinent_fraction=0.5)
MORTALITY_SUBJECTS = 400
MORTALITY_SEED = 11


@functools.lru_cache(maxsize=1)
def probe() -> LifeCourseResult:
    """The shared clinical life-course probe (cached for the process)."""
    n = SUBJECTS
    cov = {"age_years": np.full(n, 28.0), "female": np.zeros(n), "smoked_fraction": np.zeros(n)}
    return P.life_course(PLAN, cov, SEED, RescueRule(probability=0.5), record_every_d=61)


@functools.lru_cache(maxsize=1)
def mortality_probe() -> LifeCourseResult:
    """The mortality probe (cached): people drawn as the default cohort is, four years of use."""
    n = MORTALITY_SUBJECTS
    default = load_scenario("default").model_copy(update={"seed": MORTALITY_SEED})
    cov = covariates(default, np.arange(n))
    rescue = RescueRule(probability=0.5)
    return P.life_course(MORTALITY_PLAN, cov, MORTALITY_SEED, rescue, record_every_d=365)


@functools.lru_cache(maxsize=1)
def _mortality() -> pd.DataFrame:
    return mortality_table(mortality_probe().subjects, MORTALITY_PLAN).set_index("group")


def _users_whole_probe() -> dict:
    """Deaths and person-years of every user over the whole mortality probe."""
    subj = mortality_probe().subjects
    users = subj[subj["arm"] != "control"]
    return exposure(users, 0.0, MORTALITY_PLAN.days, load_life_table())


def _rate_ci(deaths: int, person_years: float, per: float) -> tuple[float, float, float]:
    """A crude rate per ``per`` person-years with its exact Poisson 95 % interval."""
    lo, hi = poisson_ci(deaths)
    return tuple(float(x) * per / person_years for x in (deaths, lo, hi))


def _overlaps(ci: Callable[[], tuple[float, float, float]]) -> Callable[[float, object], bool]:
    """Whether the model's interval overlaps the target's (its value if it has no range)."""

    def cmp(m: float, t) -> bool:
        lo, hi = (t.low, t.high) if not np.isnan(t.low) else (t.value, t.value)
        _, mlo, mhi = ci()
        return mlo <= hi and lo <= mhi

    return cmp


def _cmr_during_use() -> tuple[float, float, float]:
    """All-cause deaths per 100 person-years of use, with its 95 % interval."""
    row = _mortality().loc["users during use"]
    return _rate_ci(int(row["deaths"]), float(row["person_years"]), 100.0)


def _smr(group: str) -> tuple[float, float, float]:
    row = _mortality().loc[group]
    return float(row["smr"]), float(row["smr_low"]), float(row["smr_high"])


def _annual_mortality() -> tuple[float, float, float]:
    """Deaths per 100 person-years (%/year) of all users over the whole probe."""
    e = _users_whole_probe()
    return _rate_ci(e["deaths"], e["person_years"], 100.0)


def _overdose_share() -> tuple[float, float, float]:
    """Share of users' deaths due to overdose (%), with its exact binomial 95 % interval."""
    e = _users_whole_probe()
    k, n = e["deaths_overdose"], e["deaths"]
    if n == 0:
        return np.nan, 0.0, 100.0
    ci = binomtest(k, n).proportion_ci(0.95, method="exact")
    return 100.0 * k / n, 100.0 * ci.low, 100.0 * ci.high


#: The early window after release in which Binswanger et al. 2007 (N Engl J Med
#: 356:157-165) report the all-cause relative risk of 12.7 (days).
POST_RELEASE_WINDOW_D = 14.0


def _smr_first_two_weeks() -> float:
    """All-cause SMR of the detoxified arm in the first days after discharge (Binswanger)."""
    subj = mortality_probe().subjects
    start = MORTALITY_PLAN.use_days + MORTALITY_PLAN.detox_days
    detox = subj[subj["arm"] == "abstinence"]
    e = exposure(detox, start, start + POST_RELEASE_WINDOW_D, load_life_table())
    return e["deaths"] / e["expected_deaths"]


def _overdose_incidence(arm: str, day: float) -> float:
    """Cumulative incidence (%) of overdose death by ``day`` after discharge (Kaplan-Meier).

    Deaths of other causes censor.
    """
    subj = probe().subjects
    discharge = PLAN.use_days + PLAN.detox_days
    at = subj[(subj["arm"] == arm) & ~(subj["death_time_d"] < discharge)]
    dt = at["death_time_d"] - discharge
    event = (at["death_cause"] == "overdose").to_numpy()
    time = np.where(dt.notna(), dt, PLAN.days - discharge)
    t, surv = kaplan_meier(time, event)
    return 100.0 * (1.0 - surv[t <= day][-1])


def _incidence(outcome: str, day: float) -> float:
    """Cumulative incidence (%) of ``outcome`` by ``day`` after discharge."""
    s = survival_table(probe().subjects, PLAN)
    cur = s[s["outcome"] == outcome]
    surv = cur["survival"].to_numpy()[cur["days_since_discharge"].to_numpy() <= day][-1]
    return 100.0 * (1.0 - surv)


def _dose_odds_ratio() -> float:
    """Odds ratio of relapse within 1 week, habitual dose above vs below the median."""
    subj = probe().subjects
    discharge = PLAN.use_days + PLAN.detox_days
    ab = subj[(subj["arm"] == "abstinence") & ~(subj["death_time_d"] < discharge)]
    early = (ab["relapse_d"] - discharge) < 7
    high = ab["habitual_dose_mg"] > ab["habitual_dose_mg"].median()
    table = pd.crosstab(high, early).reindex(index=[True, False], columns=[True, False]).fillna(0)
    a, b = table.loc[True, True] + 0.5, table.loc[True, False] + 0.5
    c, d = table.loc[False, True] + 0.5, table.loc[False, False] + 0.5
    return float((a / b) / (c / d))


def _in_binomial_ci(percent: float, k: int, n: int) -> bool:
    """Inside the exact (Clopper-Pearson) 95 % interval of ``k`` events in ``n``."""
    ci = binomtest(k, n).proportion_ci(0.95, method="exact")
    return 100.0 * ci.low <= percent <= 100.0 * ci.high


def _tolerant_safer() -> float:
    """Overdose deaths within 4 months: detoxified above continuing users (1.0 if so)."""
    return float(
        _overdose_incidence("abstinence", LOST_TOLERANCE_WINDOW_D)
        > _overdose_incidence("continued use", LOST_TOLERANCE_WINDOW_D)
    )


def _ever_nonfatal_overdose() -> float:
    """Users with a non-fatal overdose during the two years of use (%)."""
    res = probe()
    ep = res.episodes
    during = ep[(ep["outcome"] == "survived") & (ep["start_h"] < PLAN.use_days * 24.0)]
    return 100.0 * res.subjects["subject"].isin(during["subject"]).mean()


_PROBE_OVERDOSES = (
    "Overdose deaths are the model's own (respiratory depression after escalation beyond the "
    "incomplete respiratory tolerance, batch purity, co-use, hypoxic respiratory depression "
    "in a deep episode; not fitted to deaths). This probe covers the first 2 years of use, "
    "when the model's overdose deaths peak (the most sensitive people, as doses escalate "
    "faster than respiratory tolerance; in the default run about 30 % of the decade's "
    "overdose deaths fall in year 1), and the 2 years after detoxification, when lapses meet "
    "lost tolerance; so its rates are above those of cohorts followed over whole careers. "
    "Non-overdose mortality is fitted (mortality_excess_using) to Degenhardt 2011 x the NTORS "
    "non-overdose share; the caution after a survived overdose (overdose_dose_reduction, "
    "t_half_overdose_caution) is fitted so that the default run's all-cause mortality "
    "during use matches Degenhardt 2011 (22.4 per 1,000 PY in 10 years against 20.9)."
)


def _not_computable(target_id: str, note: str) -> Check:
    """A relative risk the model cannot form: reported as an explained miss."""
    return Check(
        target_id,
        "validation",
        not_modelled,
        never,
        "not computable",
        "RR",
        note,
        explained=True,
    )


CHECKS: tuple[Check, ...] = (
    Check(
        "cli_relapse_1week_smyth",
        "validation",
        lambda: _incidence("relapse", 7),
        within_abs(12.0),
        "±12 percentage points (Kaplan-Meier, 1 week after discharge)",
        "%",
        "Relapse = 3 use days within 7 (return to regular use). The lapse hazard was fitted to "
        "the 1-week lapse rate of the same cohort (model 71 % against 66 %); relapse follows "
        "from priming and was seen, not fitted. It sits near the lower edge of the tolerance "
        "(about 45-48 %) since the lapse threshold's spread between people was widened (cv "
        "0.05 to 0.25, fitted to abstinence at 2-3 years): the model's lapsers reach three "
        "use days later than Smyth's.",
        explained=True,
    ),
    Check(
        "cli_relapse_detox_smyth",
        "validation",
        lambda: _incidence("relapse", 730),
        within_abs(10.0),
        "±10 percentage points (2 years after discharge; the study followed about 3)",
        "%",
    ),
    Check(
        "cli_lapse_18_36mo_ducray",
        "calibrated",
        lambda: _incidence("lapse", 730),
        within_abs(5.0),
        "±5 percentage points (2 years after discharge)",
        "%",
    ),
    Check(
        "cli_relapse_5yr_langendam",
        "validation",
        lambda: _incidence("relapse", 730),
        within_abs(10.0),
        "±10 percentage points; the probe follows 2 of the 5 years (its curve is flat after 1)",
        "%",
    ),
    Check(
        "cli_relapse_or_quantity_smyth",
        "validation",
        _dose_odds_ratio,
        in_range(0.0),
        "inside the 95 % CI 1.2-3.9",
        "OR",
        "Habitual dose above vs below the cohort median stands in for 1.5-3 vs fewer "
        "'quarters' a day. Weak in the model (an odds ratio near the lower end, about 1-1.6 "
        "across versions, so it passes or misses by sampling): a larger habit raises tolerance "
        "and withdrawal, but the urge to use after detoxification is set by craving and "
        "negative affect, which saturate with exposure.",
        explained=True,
    ),
    Check(
        "cli_lost_tolerance_od_strang",
        "validation",
        lambda: _overdose_incidence("abstinence", LOST_TOLERANCE_WINDOW_D),
        lambda m, t: _in_binomial_ci(m, 3, 37) and bool(_tolerant_safer()),
        "inside the binomial 95 % CI of 3/37 (1.7-21.9 %) and above continuing users",
        "%",
        "Detoxification of 14 days in the probe (28 in the study); naloxone in half of "
        "overdoses. Overdose after detoxification comes from the mechanism: a lapse is taken "
        "at the dose that the slowly lost circuit tolerance makes feel right, after the "
        "respiratory tolerance is gone (model.tolerance), and a deep episode without a rescuer "
        "is fatal through hypoxic respiratory depression. Miss: in this 2-year probe the "
        "detoxified have fewer overdose deaths in the 4 months after discharge than those who "
        "continue (2.1 % against 4.6 %; inside Strang's interval, but the comparison fails), "
        "because the caution after an overdose survived before detoxification (half-time 180 "
        "days, fitted to mortality) still lowers the doses of relapse. After 10 years of use "
        "(the default run) the detoxified arm's mortality in the year after discharge is above "
        "that of continued use (57 against 53 per 1,000 PY); both are in the report's "
        "behaviour section.",
        explained=True,
    ),
    Check(
        "cli_lifetime_overdose_seal",
        "validation",
        _ever_nonfatal_overdose,
        in_range(0.0),
        "equal to the reported share",
        "%",
        "A 2-year share against a lifetime share (Seal's injectors used for about two "
        "decades): the model's 2-year share is below Seal's lifetime share, as it should be; "
        "after 10 years it reaches about 35 % (od_nfod_lifetime_colledge: 41.5 %, 34.6-48.4).",
        explained=True,
    ),
    Check(
        "cli_post_release_rr_binswanger",
        "validation",
        lambda: _smr("detoxified after discharge")[0],
        _overlaps(lambda: _smr("detoxified after discharge")),
        "exact Poisson 95 % interval of the detoxified arm's SMR (1 year after discharge, "
        "life-table expected deaths) overlaps 3.2-3.8",
        "RR",
        "The released inmates of Binswanger 2007 were not all heroin users, the detoxified arm "
        "all are; most of them relapse within weeks, with lost respiratory tolerance, and then "
        "carry the fitted excess of use again (mortality_excess_using, about 4 times the "
        "background before overdoses), so a higher ratio is expected; the probe's SMR (about "
        "70, against 3.5) is also far above that of people who use heroin "
        "(cli_smr_opioid_degenhardt, 14.7; the probe's users: about 17): the probe's relapses "
        "meet lost tolerance in the first weeks after discharge.",
        explained=True,
    ),
    Check(
        "cli_post_release_2wk_rr_binswanger",
        "validation",
        _smr_first_two_weeks,
        in_range(0.0),
        "inside the 95 % CI 9.2-17.4 (all-cause SMR, 14 days after discharge)",
        "RR",
        "The probe's detoxified people live only a few person-years in the first 2 weeks, in "
        "which the life table expects about a hundredth of a death: one death gives an SMR near "
        "100, none gives 0, so the ratio cannot be estimated from the probe; the model's excess "
        "then is that of abstinence (mortality_excess_abstinent) plus overdoses after lost "
        "tolerance (see the Strang check).",
        explained=True,
    ),
    _not_computable(
        "cli_post_release_2wk_od_rr_binswanger",
        "Not computable: the life table gives all-cause rates only, so the general "
        "population's overdose mortality (the denominator) is not in the model. Overdose "
        "deaths after discharge: see the Strang check.",
    ),
    Check(
        "cli_mortality_excess_sporer",
        "validation",
        lambda: _smr("users during use")[0],
        in_range(0.0),
        "inside 6-20 (users' all-cause SMR during use against the life table of the same ages "
        "and sexes)",
        "fold",
        _PROBE_OVERDOSES,
        explained=True,
    ),
    Check(
        "cli_cmr_opioid_degenhardt",
        "calibrated",
        lambda: _cmr_during_use()[0],
        _overlaps(_cmr_during_use),
        "exact Poisson 95 % interval of the model's rate during use overlaps 1.93-2.26",
        "per 100 PY",
        "Calibrated: mortality_excess_using was fitted so that non-overdose mortality is 32 % "
        "(NTORS) of this rate, and the caution after an overdose so that the default run's "
        "all-cause rate during use matches it. " + _PROBE_OVERDOSES,
        explained=True,
    ),
    Check(
        "cli_smr_opioid_degenhardt",
        "validation",
        lambda: _smr("users during use")[0],
        _overlaps(lambda: _smr("users during use")),
        "exact Poisson 95 % interval of the SMR during use overlaps 12.82-16.50",
        "SMR",
        _PROBE_OVERDOSES,
        explained=True,
    ),
    Check(
        "cli_cmr_pwid_mathers",
        "validation",
        lambda: _cmr_during_use()[0],
        _overlaps(_cmr_during_use),
        "exact Poisson 95 % interval of the model's rate during use overlaps 2.12-2.58",
        "per 100 PY",
        _PROBE_OVERDOSES + " AIDS deaths (a main cause in Mathers 2013) are not modelled.",
        explained=True,
    ),
    Check(
        "cli_od_share_deaths_ntors",
        "validation",
        lambda: _overdose_share()[0],
        _overlaps(_overdose_share),
        "exact binomial 95 % interval of the overdose share of users' deaths overlaps 68 %",
        "%",
        "The non-overdose deaths were set to 32 % of Degenhardt's rate, so this share tests "
        "the overdose deaths, which come from the mechanism. " + _PROBE_OVERDOSES,
        explained=True,
    ),
    Check(
        "cli_annual_mortality_ntors",
        "validation",
        lambda: _annual_mortality()[0],
        _overlaps(_annual_mortality),
        "exact Poisson 95 % interval of all users' deaths per 100 PY (the whole probe) "
        "overlaps 1.2 %/year",
        "%/year",
        "NTORS followed people after they sought treatment, a lower-risk group than "
        "Degenhardt's pooled cohorts. " + _PROBE_OVERDOSES,
        explained=True,
    ),
    Check(
        "cli_non_aids_mortality_degenhardt",
        "validation",
        lambda: _annual_mortality()[0],
        _overlaps(_annual_mortality),
        "exact Poisson 95 % interval of all users' deaths per 100 PY (the whole probe; the "
        "model has no AIDS) overlaps 1.08 %/year",
        "%/year",
        _PROBE_OVERDOSES,
        explained=True,
    ),
)
