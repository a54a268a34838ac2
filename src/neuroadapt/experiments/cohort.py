"""Cohort studies: users and matched controls, with the brain scales on the daily clock.

A scenario's users follow its regimen; ``cohort.controls`` matched controls
(same age and sex draws as the user with the same index, their own
parameter draws) take no drug. Both groups age, and the brain-scale modules
(dopamine, glutamate, inflammation, affect, structure, white matter,
cognition — whichever are installed) are integrated day by day from each
group's daily exposure (``engine.brain.integrate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np
import xarray as xr
from scipy.special import ndtr

from neuroadapt.engine.brain import BRAIN_MODULES as BRAIN_MODULES
from neuroadapt.engine.brain import available_brain_modules, brain_params, integrate
from neuroadapt.engine.simulate import EngineOptions, SimulationResult, simulate
from neuroadapt.parameters import ParameterSet
from neuroadapt.parameters.table import standard_normal_stream
from neuroadapt.scenarios import Scenario

#: Control subjects draw their own parameters from indices offset by this.
CONTROL_OFFSET = 1_000_000_000
AGE_RANGE_YEARS = (16.0, 85.0)


def covariates(scenario: Scenario, subjects: np.ndarray) -> dict[str, np.ndarray]:
    """Age at the start, sex and route mix of each subject (deterministic per index and seed)."""
    c = scenario.cohort
    z_age = standard_normal_stream(scenario.seed, subjects, "cohort:age")
    z_sex = standard_normal_stream(scenario.seed, subjects, "cohort:female")
    heroin = [e for e in scenario.all_events() if e.drug == "heroin"]
    smoked = sum(e.amount for e in heroin if e.route == "smoked")
    total = sum(e.amount for e in heroin)
    n = len(subjects)
    return {
        "age_years": np.clip(c.age_years_mean + c.age_years_sd * z_age, *AGE_RANGE_YEARS),
        "female": (ndtr(z_sex) < c.female_fraction).astype(float),
        "smoked_fraction": np.full(n, smoked / total if total > 0 else 0.0),
    }


@dataclass
class Group:
    """One arm of a cohort study: its fast-layer result and its brain-scale trajectories."""

    name: str
    result: SimulationResult
    brain: xr.Dataset | None


def brain_for(
    params: ParameterSet,
    result: SimulationResult,
    ids: np.ndarray,
    cov: dict[str, np.ndarray],
    seed: int,
    variability: float,
    modules: list[ModuleType],
) -> xr.Dataset | None:
    """Integrate the brain modules over a group's daily record (None without modules)."""
    if not modules:
        return None
    return integrate(modules, result.dataset, brain_params(params, ids, seed, variability), cov)


def run_controls(
    scenario: Scenario,
    params: ParameterSet,
    options: EngineOptions,
    modules: list[ModuleType] | None = None,
) -> Group | None:
    """Simulate the scenario's matched controls (no drug), with their brain scales."""
    n = scenario.cohort.controls
    if n == 0:
        return None
    modules = available_brain_modules() if modules is None else modules
    ids = np.arange(n) + CONTROL_OFFSET
    res = simulate(
        params,
        [],
        scenario.total_duration_h(),
        ids,
        seed=scenario.seed,
        variability=scenario.cohort.variability,
        options=options,
    )
    cov = covariates(scenario, np.arange(n))
    brain = brain_for(params, res, ids, cov, scenario.seed, scenario.cohort.variability, modules)
    return Group("controls", res, brain)
