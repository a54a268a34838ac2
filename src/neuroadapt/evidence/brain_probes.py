"""The virtual cohorts that the structure, white-matter and cognition checks measure.

Each check of :mod:`.checks_structure` and :mod:`.checks_brain_duration`
measures the model the way the cited study measured people: a virtual cohort
of chronic users and a matched control cohort (no doses, same covariates) are
simulated with the engine, the slow clock integrates the brain modules, and
effect sizes are computed between the cohorts. The cohorts are cached per
process (``functools.cache``); the effect sizes read them.

Protocols
---------
``cohort()``
    60 men and women aged 22 at the start, 20 mg IV heroin every 8 h for 10
    years, then 5 years of abstinence; 60 controls. Imaging effect sizes are
    population Cohen's d: the mean difference over the square root of the
    between-subject variance of the model plus the control population's
    variance (``str_population_cv``, ``wm_population_cv``; cognitive z are
    already in control SD units). "Significant" in a typical study of ~30 per
    group means d >= 0.5.
``tle_outbreak()``
    An outbreak of contaminated smoked heroin: 2,000 smokers who all develop
    stage-1 toxic leukoencephalopathy on day 1 (the onset hazard is set high,
    a virtual experiment), followed for a year; mortality is the share dead.
``dphl_probe()``
    500 subjects with one severe overdose (180 hypoxic minutes) on day 10 and
    DPHL certain; the lucid interval is onset day minus 10.

``long_course()``
    Synthetic daily drivers of a regular user (independent of the
    pharmacology): 60 subjects with inter-individual variability, a constant
    daily mean MOR activation ``LONG_ACTIVATION`` (0.5, the level of
    life-course users and of 20 mg IV q8h), daily mean withdrawal 0.072,
    peak activation 0.72 and tolerance shift 1.46 for 10 years, then 5 years
    abstinent with the withdrawal course measured after stopping 20 mg IV
    q8h (``WITHDRAWAL_AFTER_STOP``). Controls are drug-naive, where every
    brain output is at its naive value (volumes and FA 1, z 0, craving 0).
    Duration correlations are cross-sections of this cohort read at years
    1-10 of use; abstinence-duration shapes read it after stopping
    (:mod:`.checks_brain_duration`, and the long-term dopamine checks of
    :mod:`.checks_neurochem`).

The two event probes use synthetic daily records (constant use, one hypoxic
day) because the stage chains do not depend on pharmacokinetics.

Neurochemistry inputs (``glt1``, ``cue_glutamate``, ``glial_activation``,
``cytokines``) come from the real glutamate and inflammation modules (with
dopamine and affect, in that order; :func:`neurochemistry_modules`).
:func:`standin_neurochemistry` is a deterministic one-state stand-in that
follows mean MOR activation with a 14-day half-life, for tests of the
structure modules alone.
"""

from __future__ import annotations

import math
import types
from functools import cache

import numpy as np
import xarray as xr

from neuroadapt.engine.brain import DRIVERS, check_modules, integrate
from neuroadapt.engine.simulate import EngineOptions, simulate
from neuroadapt.model import (
    affect,
    cognition,
    dopamine,
    glutamate,
    inflammation,
    structure,
    white_matter,
)
from neuroadapt.model.dose import Dose
from neuroadapt.parameters import load_parameters

N_SUBJECTS = 60
START_AGE = 22.0
YEARS_USE = 10
YEARS_ABSTINENT = 5
DAY = 365.25
USE_END = int(YEARS_USE * DAY)
SEED = 11


def standin_neurochemistry() -> types.ModuleType:
    """A deterministic stand-in for the glutamate and inflammation modules.

    One state ``x`` follows the daily mean MOR activation with a 14-day
    half-life; ``glt1 = 1 - 0.8 x``, ``cue_glutamate = 1 + 9.6 x``,
    ``glial_activation = 0.6 x``, ``cytokines = 1 + 0.64 x`` (drug-free: 1, 1,
    0, 1; at x = 0.5 about the levels of the real modules under 20 mg IV q8h).
    For tests of the structure modules alone; its numbers are placeholders,
    not parameters of the model.
    """
    mod = types.ModuleType("neurochemistry_standin")
    mod.NAME = "neurochem"
    mod.STATES = {"x": ("1", 0.0)}
    mod.INPUTS = ("activation_mean",)
    mod.OUTPUTS = {
        "glt1": ("1", "stand-in GLT-1 (fraction of naive)"),
        "cue_glutamate": ("1", "stand-in cue-evoked glutamate (fold)"),
        "glial_activation": ("1", "stand-in glial activation (0-1)"),
        "cytokines": ("1", "stand-in cytokines (fold)"),
    }
    k = math.log(2.0) / 14.0

    def step(st, inp, p, dt):
        a = np.asarray(inp["activation_mean"], dtype=float)
        return {"x": a + (st["x"] - a) * math.exp(-k * dt)}

    def observe(st, inp, p):
        x = np.clip(st["x"], 0.0, 1.0)
        return {
            "glt1": 1.0 - 0.8 * x,
            "cue_glutamate": 1.0 + 9.6 * x,
            "glial_activation": 0.6 * x,
            "cytokines": 1.0 + 0.64 * x,
        }

    mod.step, mod.observe = step, observe
    return mod


def neurochemistry_modules() -> list:
    """The neurochemistry modules (dopamine, glutamate, inflammation, affect), checked.

    Raises
    ------
    neuroadapt.engine.brain.ModuleSpecError
        If a module is incomplete or reads an input no earlier module provides.
    """
    mods = [dopamine, glutamate, inflammation, affect]
    check_modules([*mods, structure, white_matter, cognition])
    return mods


def brain_modules() -> list:
    """Neurochemistry, structure, white matter, cognition."""
    return [*neurochemistry_modules(), structure, white_matter, cognition]


def _covariates(n: int, smoked: float = 0.0) -> dict[str, np.ndarray]:
    return {
        "age_years": np.full(n, START_AGE),
        "female": (np.arange(n) % 2).astype(float),
        "smoked_fraction": np.full(n, smoked),
    }


def _samples(n: int, **override) -> dict[str, np.ndarray]:
    p = dict(load_parameters("human").sample(np.arange(n), SEED))
    p["subject_index"] = np.arange(n)
    p["stream_seed"] = np.array([SEED])
    for k, v in override.items():
        p[k] = np.full(n, float(v))
    return p


@cache
def cohort() -> tuple[xr.Dataset, xr.Dataset]:
    """Brain trajectories of the user cohort and of the control cohort (see module doc)."""
    params = load_parameters("human")
    doses = [Dose(8.0 * k, "heroin", "iv", 20.0) for k in range(int(USE_END * 3))]
    hours = (YEARS_USE + YEARS_ABSTINENT) * DAY * 24.0
    opts = EngineOptions(record_every_h=24.0)
    users = simulate(params, doses, hours, N_SUBJECTS, seed=SEED, options=opts).dataset
    ctrl = simulate(params, [], hours, N_SUBJECTS, seed=SEED, options=opts).dataset
    p = _samples(N_SUBJECTS)
    cov = _covariates(N_SUBJECTS)
    mods = brain_modules()
    return integrate(mods, users, p, cov), integrate(mods, ctrl, p, cov)


def synthetic_daily(n: int, days: int, **drivers: np.ndarray) -> xr.Dataset:
    """A daily record with every driver zero (alive = 1) except those given."""
    data = {}
    for k in DRIVERS:
        arr = np.ones((n, days)) if k == "alive" else np.zeros((n, days))
        if k in drivers:
            arr = np.broadcast_to(drivers[k], (n, days)).astype(float)
        data[k] = (("subject", "time"), arr)
    return xr.Dataset(data, coords={"subject": np.arange(n), "time": np.arange(days, dtype=float)})


#: Daily mean MOR activation of a regular user (life-course users and 20 mg IV q8h: 0.49-0.50).
LONG_ACTIVATION = 0.5
#: Daily mean withdrawal index on days 1-19 after stopping 20 mg IV q8h (engine, 2026-12).
WITHDRAWAL_AFTER_STOP = (
    0.25, 0.50, 0.36, 0.23, 0.15, 0.10, 0.073, 0.056, 0.044, 0.036,
    0.031, 0.026, 0.023, 0.020, 0.018, 0.016, 0.014, 0.012, 0.011,
)  # fmt: skip


def regular_use_daily(n: int, use_days: int, days: int, activation: float) -> xr.Dataset:
    """Synthetic daily drivers: regular use for ``use_days``, then abstinence (see module doc)."""
    t = np.arange(days)
    using = t < use_days
    act = np.where(using, activation, 0.0)
    wd = np.where(using, 0.072 * activation / LONG_ACTIVATION, 0.0)
    after = np.asarray(WITHDRAWAL_AFTER_STOP)
    k = min(len(after), days - use_days)
    wd[use_days : use_days + k] = after[:k]
    return synthetic_daily(
        n,
        days,
        activation_mean=act,
        withdrawal_mean=wd,
        activation_peak=np.where(using, 0.72, 0.0),
        tolerance_shift=np.where(using, 1.46, 1.0),
    )


@cache
def long_course(activation: float = LONG_ACTIVATION) -> xr.Dataset:
    """Brain trajectories of 10 years of regular use and 5 of abstinence (see module doc)."""
    days = USE_END + int(round(YEARS_ABSTINENT * DAY))
    daily = regular_use_daily(N_SUBJECTS, USE_END, days, activation)
    return integrate(brain_modules(), daily, _samples(N_SUBJECTS), _covariates(N_SUBJECTS))


def naive_d(x: np.ndarray, cv: float) -> float:
    """Population Cohen's d of a fraction-of-naive read-out against naive controls.

    Controls are 1 with between-subject SD ``cv``; users add the model's
    between-subject variance to that: ``(1 - mean) / sqrt(cv^2 + var)``.
    """
    x = np.asarray(x, dtype=float)
    return float((1.0 - x.mean()) / math.sqrt(cv**2 + x.var()))


def long_gm_d(var: str, region: str, day: int) -> float:
    """``naive_d`` of a gray-matter read-out of ``long_course`` (positive = users lower)."""
    x = long_course()[f"structure_{var}"].values[:, day, region_index(region)]
    return naive_d(x, load_parameters("human")["str_population_cv"])


def long_fa_d(tract: str, day: int) -> float:
    """``naive_d`` of FA in one tract of ``long_course`` (positive = users lower)."""
    x = long_course().white_matter_fa.values[:, day, tract_index(tract)]
    return naive_d(x, load_parameters("human")["wm_population_cv"])


def long_cog_d(domain: str, day: int) -> float:
    """Cohen's d of a cognitive domain in ``long_course`` (positive = users worse)."""
    z = long_course().cognition_z.values[:, day, domain_index(domain)]
    return float(-z.mean() / math.sqrt(1.0 + z.var()))


def duration_r(x: np.ndarray) -> float:
    """Correlation of years of use (1-10) with a read-out ``x`` (subjects, days) taken at each."""
    years = np.arange(1, YEARS_USE + 1)
    y = np.concatenate([x[:, years_to_days(t) - 1] for t in years])
    return float(np.corrcoef(np.repeat(years, x.shape[0]), y)[0, 1])


@cache
def tle_outbreak() -> xr.Dataset:
    """White-matter trajectories of the smoked-heroin outbreak (see module doc)."""
    n, days = 2000, 365
    daily = synthetic_daily(n, days, activation_mean=np.full((n, days), 0.5))
    p = _samples(n, wm_tle_hazard=1.0)  # per hour: onset on day 1 for everyone
    mods = [*neurochemistry_modules(), structure, white_matter]
    return integrate(mods, daily, p, _covariates(n, smoked=1.0))


@cache
def dphl_probe() -> float:
    """Mean lucid interval (days) between a severe overdose and DPHL onset."""
    n, days, od_day = 500, 60, 10
    hyp = np.zeros((n, days))
    hyp[:, od_day] = 180.0
    daily = synthetic_daily(n, days, hypoxia_minutes=hyp)
    p = _samples(n, wm_dphl_probability=1.0)
    out = integrate([*neurochemistry_modules(), structure, white_matter], daily, p, _covariates(n))
    level = out.white_matter_dphl.values
    onset = np.argmax(level > 0, axis=1).astype(float)
    return float(np.mean(onset[level.max(axis=1) > 0] - od_day))


# ---------------------------------------------------------------- effect sizes
def region_index(name: str) -> int:
    """Index of a gray-matter region (``structure.REGIONS``)."""
    return structure.REGIONS.index(name)


def tract_index(name: str) -> int:
    """Index of a white-matter tract (``white_matter.REGIONS``)."""
    return white_matter.REGIONS.index(name)


def domain_index(name: str) -> int:
    """Index of a cognitive domain (``cognition.REGIONS``)."""
    return cognition.REGIONS.index(name)


def gm_d(var: str, region: str, day: int) -> float:
    """Population Cohen's d of users vs controls (positive = users lower), one GM region."""
    u, c = cohort()
    x_u = u[f"structure_{var}"].values[:, day, region_index(region)]
    x_c = c[f"structure_{var}"].values[:, day, region_index(region)]
    cv = load_parameters("human")["str_population_cv"]
    return float((x_c.mean() - x_u.mean()) / math.sqrt(cv**2 + x_u.var()))


def fa_d(tract: str, day: int) -> float:
    """Population Cohen's d of FA, users vs controls (positive = users lower)."""
    u, c = cohort()
    x_u = u.white_matter_fa.values[:, day, tract_index(tract)]
    x_c = c.white_matter_fa.values[:, day, tract_index(tract)]
    cv = load_parameters("human")["wm_population_cv"]
    return float((x_c.mean() - x_u.mean()) / math.sqrt(cv**2 + x_u.var()))


def cog_d(domain: str, day: int) -> float:
    """Cohen's d of a cognitive domain (positive = users worse); z is in control SDs."""
    u, c = cohort()
    z_u = u.cognition_z.values[:, day, domain_index(domain)]
    z_c = c.cognition_z.values[:, day, domain_index(domain)]
    return float((z_c.mean() - z_u.mean()) / math.sqrt(1.0 + z_u.var()))


def years_to_days(y: float) -> int:
    """Whole days in ``y`` years (the day index ``y`` years after a start)."""
    return int(round(y * DAY))
