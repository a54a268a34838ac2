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
import xarray as xr

from neuroadapt.engine.lifecourse import LifeCourseResult, LifePlan, simulate_lifecourse
from neuroadapt.engine.outcomes import (
    OUTCOME_DAYS,
    clinical_outcomes,
    deaths_by_year,
    kaplan_meier,
    mortality_table,
    survival_table,
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
    "run_lifecourse",
    "survival_table",
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
    )


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
