"""The covariates a scenario's cohort is drawn with: age at the start, sex and route mix.

Deterministic per subject index and seed (counter-based streams of
``parameters.table``), so matched controls share the draws of the user with
the same index, and any probe that asks for "the default cohort's people"
gets the same people.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from neuroadapt.scenarios.schema import Scenario
from neuroadapt.streams import standard_normal_stream

__all__ = ["AGE_RANGE_YEARS", "covariates"]

#: Ages a drawn subject is clipped to (years).
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
