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

from neuroadapt.engine.brain import BRAIN_MODULES as BRAIN_MODULES
from neuroadapt.engine.brain import available_brain_modules, brain_params, integrate
from neuroadapt.engine.simulate import EngineOptions, SimulationResult, simulate
from neuroadapt.parameters import ParameterSet
from neuroadapt.scenarios import Scenario
from neuroadapt.scenarios.covariates import AGE_RANGE_YEARS as AGE_RANGE_YEARS
from neuroadapt.scenarios.covariates import covariates as covariates

#: Control subjects draw their own parameters from indices offset by this.
CONTROL_OFFSET = 1_000_000_000


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
