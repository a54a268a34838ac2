"""Cohort studies of people who decide their own use (scenarios with ``[behaviour]``).

Users and matched controls are simulated together by
``engine.lifecourse.simulate_lifecourse``; this module turns a scenario into
that call and the result into tables a clinical study would report: who
lapsed and relapsed when after detoxification, who died of what and when,
Kaplan-Meier curves for lapse, relapse and death, and mortality per 1000
person-years with standardised mortality ratios.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from neuroadapt.engine.lifecourse import (
    LifeCourseResult,
    LifePlan,
    simulate_lifecourse,
    start_workers_for,
)
from neuroadapt.engine.outcomes import (
    OUTCOME_DAYS,
    clinical_outcomes,
    deaths_by_year,
    kaplan_meier,
    mortality_table,
    survival_table,
    use_by_year,
)
from neuroadapt.experiments.cohort import CONTROL_OFFSET, available_brain_modules, covariates
from neuroadapt.parameters import ParameterSet
from neuroadapt.scenarios import Scenario

__all__ = [
    "OUTCOME_DAYS",
    "clinical_outcomes",
    "deaths_by_year",
    "kaplan_meier",
    "life_plan",
    "mortality_table",
    "recovering",
    "run_lifecourse",
    "start_lifecourse_workers",
    "study_arms",
    "survival_table",
    "use_by_year",
]


def life_plan(scenario: Scenario) -> LifePlan:
    """The engine's plan from a scenario's ``[behaviour]`` table."""
    b = scenario.behaviour
    if b is None:
        raise ValueError("scenario has no [behaviour] table")
    use, detox, follow = b.days()
    return LifePlan(
        route=b.route,
        start_dose_mg=b.start_dose_mg,
        use_days=use,
        detox_days=detox,
        follow_up_days=follow,
        abstinent_fraction=b.abstinent_fraction,
        fentanyl_fraction=b.fentanyl_fraction,
    )


def start_lifecourse_workers(scenario: Scenario) -> None:
    """Start the worker processes :func:`run_lifecourse` will use, without waiting for them."""
    n = scenario.cohort.subjects + scenario.cohort.controls
    start_workers_for(n, life_plan(scenario).days)


def run_lifecourse(
    scenario: Scenario,
    params: ParameterSet,
    rescue=None,
    checkpoint_dir=None,
    progress=None,
) -> tuple[LifeCourseResult, xr.Dataset, xr.Dataset | None]:
    """Simulate users and matched controls; returns the result and the two datasets."""
    n, nc = scenario.cohort.subjects, scenario.cohort.controls
    ids = np.r_[np.arange(n), CONTROL_OFFSET + np.arange(nc)].astype(np.int64)
    cov_u = covariates(scenario, np.arange(n))
    cov_c = covariates(scenario, np.arange(nc))  # matched: same age/sex draws by index
    b = scenario.behaviour
    smoked = 1.0 if b is not None and b.route == "smoked" else 0.0
    cov_u["smoked_fraction"] = np.full(n, smoked)
    cov_c["smoked_fraction"] = np.zeros(nc)
    cov = {k: np.r_[cov_u[k], cov_c[k]] for k in cov_u}
    every = max(1, round(scenario.outputs.record_every_h() / 24.0))
    res = simulate_lifecourse(
        params,
        life_plan(scenario),
        ids,
        cov,
        available_brain_modules(),
        drug_free=np.r_[np.zeros(n, bool), np.ones(nc, bool)],
        seed=scenario.seed,
        variability=scenario.cohort.variability,
        rescue=rescue,
        record_every_d=every,
        checkpoint_dir=checkpoint_dir,
        progress=progress,
    )
    ds = res.dataset
    users = ds.isel(subject=slice(0, n))
    controls = ds.isel(subject=slice(n, None)) if nc else None
    return res, users, controls


#: Fewest detoxified people who never relapsed from whom recovery is read; with
#: fewer, recovery is read from every detoxified person alive at the end of use.
RECOVERY_MIN_SUBJECTS = 10


def _alive_at(subjects: pd.DataFrame, day: float) -> pd.Series:
    death = subjects["death_time_d"]
    return death.isna() | (death >= day)


def study_arms(users: xr.Dataset, subjects: pd.DataFrame, end_day: float) -> dict[str, xr.Dataset]:
    """The users alive at the end of use, split by what they did afterwards.

    Parameters
    ----------
    users
        The users' dataset of a life-course run (dimension ``subject``).
    subjects
        The run's subject table (``subject, arm, death_time_d, relapse_d``).
    end_day
        Day the use period ended (detoxification began).

    Returns
    -------
    dict
        ``{"continued use": ..., "detoxified, relapsed": ..., "detoxified, never
        relapsed": ...}`` (lapses without relapse count as never relapsed); an
        empty arm is left out.
    """
    alive = _alive_at(subjects, end_day)
    detox = subjects["arm"] == "abstinence"
    relapsed = subjects["relapse_d"].notna()
    picks = {
        "continued use": alive & (subjects["arm"] == "continued use"),
        "detoxified, relapsed": alive & detox & relapsed,
        "detoxified, never relapsed": alive & detox & ~relapsed,
    }
    out = {}
    for name, mask in picks.items():
        ids = subjects.loc[mask, "subject"].to_numpy()
        if len(ids):
            out[name] = users.sel(subject=users.subject.isin(ids))
    return out


def recovering(users: xr.Dataset, arms: dict[str, xr.Dataset]) -> tuple[str, xr.Dataset] | None:
    """The people recovery with abstinence is read from, and their name.

    ``arms`` is :func:`study_arms` of the same run. The detoxified who never
    relapsed (alive at the end of use); when fewer than
    :data:`RECOVERY_MIN_SUBJECTS`, every detoxified person alive at the end of
    use. None when nobody was detoxified.
    """
    kept = arms.get("detoxified, never relapsed")
    if kept is not None and kept.sizes["subject"] >= RECOVERY_MIN_SUBJECTS:
        return "detoxified, never relapsed", kept
    parts = [arms[k] for k in ("detoxified, relapsed", "detoxified, never relapsed") if k in arms]
    if not parts:
        return None
    ids = np.concatenate([p.subject.to_numpy() for p in parts])
    return "detoxified", users.sel(subject=users.subject.isin(ids))
