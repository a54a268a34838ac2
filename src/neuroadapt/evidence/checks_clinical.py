"""Calibration checks of the clinical targets: lapse, relapse and overdose after detoxification.

One life-course probe serves every check: 200 regular users decide their
own use for two years (``model.behaviour``); then 80 % are detoxified (14
days held abstinent, as in residential detoxification) and try to stay
abstinent for two years, while 20 % keep using; a bystander gives naloxone
in half of overdoses. Outcomes after discharge are Kaplan-Meier estimates.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from neuroadapt.engine.brain import available_brain_modules
from neuroadapt.engine.lifecourse import LifeCourseResult, LifePlan, simulate_lifecourse
from neuroadapt.engine.outcomes import LOST_TOLERANCE_WINDOW_D, survival_table
from neuroadapt.engine.simulate import RescueRule
from neuroadapt.evidence.calibration import Check, in_range, never, not_modelled, within_abs
from neuroadapt.parameters import load_parameters

PLAN = LifePlan(use_days=730, detox_days=14, follow_up_days=744, abstinent_fraction=0.8)
SUBJECTS = 200
SEED = 7


@functools.lru_cache(maxsize=1)
def probe() -> LifeCourseResult:
    """The shared clinical life-course probe (cached for the process)."""
    n = SUBJECTS
    cov = {"age_years": np.full(n, 28.0), "female": np.zeros(n), "smoked_fraction": np.zeros(n)}
    return simulate_lifecourse(
        load_parameters("human"),
        PLAN,
        n,
        cov,
        available_brain_modules(),
        seed=SEED,
        rescue=RescueRule(probability=0.5),
        record_every_d=61,
    )


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
        _incidence("death", LOST_TOLERANCE_WINDOW_D)
        > _incidence("death (continued use)", LOST_TOLERANCE_WINDOW_D)
    )


def _ever_nonfatal_overdose() -> float:
    """Users with a non-fatal overdose during the two years of use (%)."""
    res = probe()
    ep = res.episodes
    during = ep[(ep["outcome"] == "survived") & (ep["start_h"] < PLAN.use_days * 24.0)]
    return 100.0 * res.subjects["subject"].isin(during["subject"]).mean()


def _overdose_mortality_per_1000py() -> float:
    """Overdose deaths per 1000 person-years of regular use."""
    d = probe().subjects["death_time_d"]
    py = np.minimum(d.fillna(PLAN.use_days), PLAN.use_days).sum() / 365.25
    return 1000.0 * float((d < PLAN.use_days).sum()) / py


_NO_BACKGROUND = (
    "Not computable: the model has no deaths other than overdose and no general-population "
    "rates, so relative risks against state residents or peers cannot be formed."
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
        "the 1-week lapse rate of the same cohort; relapse follows from priming and was seen, "
        "not fitted, while tuning.",
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
        "'quarters' a day. Too weak: a larger habit raises tolerance and withdrawal, but the "
        "urge to use after detoxification is set by craving and negative affect, which "
        "saturate with exposure, so heavier users relapse only slightly sooner.",
        explained=True,
    ),
    Check(
        "cli_lost_tolerance_od_strang",
        "validation",
        lambda: _incidence("death", LOST_TOLERANCE_WINDOW_D),
        lambda m, t: _in_binomial_ci(m, 3, 37) and bool(_tolerant_safer()),
        "inside the binomial 95 % CI of 3/37 (1.7-21.9 %) and above continuing users",
        "%",
        "Detoxification of 14 days in the probe (28 in the study); naloxone in half of "
        "overdoses. Too few deaths: overdoses in the 4 months after discharge are several "
        "times more frequent than in continuing users (see the behaviour section of the "
        "report), but rarely fatal, because the model's tolerance is shallow (a right-shift of "
        "about 1.5-fold from AC superactivation), so the habitual dose a person returns to is "
        "only a few times a naive person's, while real tolerance is many-fold.",
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
        "decades). In the model non-fatal overdoses cluster in the first months of use, while "
        "the habit escalates (at most 10 % a week) ahead of respiratory tolerance and before a "
        "survived overdose has capped the dose; after that they are rare, so the 2-year share "
        "is close to the model's lifetime share and above Seal's.",
        explained=True,
    ),
    _not_computable("cli_post_release_rr_binswanger", _NO_BACKGROUND),
    _not_computable("cli_post_release_2wk_rr_binswanger", _NO_BACKGROUND),
    _not_computable(
        "cli_post_release_2wk_od_rr_binswanger",
        _NO_BACKGROUND + " Overdose deaths after discharge: see the Strang check.",
    ),
    Check(
        "cli_mortality_excess_sporer",
        "validation",
        _overdose_mortality_per_1000py,
        never,
        "not computable as a ratio; overdose deaths per 1000 person-years shown",
        "per 1000 py",
        _NO_BACKGROUND,
        explained=True,
    ),
)
