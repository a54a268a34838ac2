"""The long-term life-course probe, and what its check modules share.

One life-course probe (:func:`longterm_probe`) serves every life-course
quantity of the long-term checks (:mod:`.checks_mortality`,
:mod:`.checks_tolerance`, :mod:`.checks_relapse`): 500 people drawn as the
default cohort is (28 +- 6 years, 30 % women) inject heroin and decide their
own use for 10 years; then half are detoxified (14 days held abstinent) and
try to stay abstinent for 2 years, while the other half keep using; a
bystander gives naloxone (0.4 mg IM, 5 min after PaO2 falls below 40 mmHg) in
half of overdoses. This is the shipped default scenario's plan and rescue rule
with fewer people. It is cached in the process and on disk
(:func:`_probe_key`): it takes about a minute on one core.

The quantities read off its tables are in
:mod:`neuroadapt.evidence.longterm_quantities`. This module also holds the
probe's readers (:func:`probe_subjects`, :func:`probe_episodes`,
:func:`probe_dataset`), its landmark days and the check builders the
long-term check modules share.
"""

from __future__ import annotations

import functools
import hashlib
import math
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from neuroadapt.atomic import write_with
from neuroadapt.cache import cache_dir, cached, code_key
from neuroadapt.engine.lifecourse import LifeCourseResult, LifePlan
from neuroadapt.engine.simulate import RescueRule
from neuroadapt.evidence import probes as P
from neuroadapt.evidence.checks import Check, never, not_modelled
from neuroadapt.evidence.targets import Target
from neuroadapt.scenarios import load_scenario
from neuroadapt.scenarios.covariates import covariates

#: The default scenario's plan (``scenarios/shipped/default.toml``, ``[behaviour]``).
LONGTERM_PLAN = LifePlan(
    route="iv",
    start_dose_mg=10.0,
    use_days=3650,
    detox_days=14,
    follow_up_days=730,
    abstinent_fraction=0.5,
)
LONGTERM_SUBJECTS = 500
LONGTERM_SEED = 17
#: Spacing of the probe's records (days), as the default scenario's ``record_every``.
RECORD_EVERY_D = 30
#: Dataset variables the checks read (the last two come with the co-use and
#: two-tolerance extension of the life course; absent ones are simply not kept).
DATASET_VARS = (
    "dose_mg",
    "uses",
    "overdoses",
    "mode",
    "alive",
    "tolerance_euphoric",
    "tolerance_respiratory",
)
SUBJECT_VARS = ("co_use",)


def default_rescue() -> RescueRule:
    """The shipped default scenario's naloxone rescue rule."""
    return RescueRule.from_scenario(load_scenario("default").rescue)


def _simulate_probe() -> LifeCourseResult:
    n = LONGTERM_SUBJECTS
    default = load_scenario("default").model_copy(update={"seed": LONGTERM_SEED})
    cov = covariates(default, np.arange(n))
    return P.life_course(LONGTERM_PLAN, cov, LONGTERM_SEED, default_rescue(), RECORD_EVERY_D)


def _probe_key() -> str:
    """Hash of the code the probe depends on and of its settings.

    :func:`neuroadapt.cache.code_key` without ``evidence`` (the checks cannot
    change a simulation), so that editing a check does not rerun the probe; the
    probe's own settings are hashed instead.
    """
    settings = (LONGTERM_PLAN, LONGTERM_SUBJECTS, LONGTERM_SEED, RECORD_EVERY_D, default_rescue())
    return hashlib.sha256(f"{code_key(('evidence',))}{settings!r}".encode()).hexdigest()[:20]


def _save(path: Path, res: LifeCourseResult) -> None:
    arrays = {"time": res.dataset["time"].values}
    if "subject" in res.dataset.coords:
        arrays["subject"] = res.dataset["subject"].values
    for k in (*DATASET_VARS, *SUBJECT_VARS):
        if k in res.dataset:
            arrays[f"ds__{k}"] = res.dataset[k].values.astype(float)
    for prefix, frame in (("subj", res.subjects), ("ep", res.episodes)):
        for col in frame.columns:
            values = frame[col].to_numpy()
            arrays[f"{prefix}__{col}"] = values.astype(str) if values.dtype == object else values

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:  # a file object: np.savez would add '.npz' to a name
            np.savez(fh, **arrays)

    write_with(path, write)


def _load(path: Path) -> LifeCourseResult:
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (EOFError, zipfile.BadZipFile) as exc:  # a truncated entry is recomputed
        raise ValueError(f"unreadable probe cache {path}") from exc
    ds = xr.Dataset(coords={"time": data["time"]})
    if "subject" in data:
        ds = ds.assign_coords(subject=data["subject"])
    for k, v in data.items():
        if k.startswith("ds__"):
            ds[k[4:]] = (("subject", "time") if v.ndim == 2 else ("subject",)), v
    frames = [
        pd.DataFrame({k.split("__", 1)[1]: v for k, v in data.items() if k.startswith(f"{p}__")})
        for p in ("subj", "ep")
    ]
    return LifeCourseResult(dataset=ds, subjects=frames[0], episodes=frames[1])


@functools.lru_cache(maxsize=1)
def longterm_probe() -> LifeCourseResult:
    """The long-term life-course probe (cached in the process and in :func:`cache_dir`).

    Only the variables the checks read are kept (:data:`DATASET_VARS`,
    :data:`SUBJECT_VARS`, the subjects and episodes tables).
    """
    path = cache_dir() / f"longterm-probe-{_probe_key()}.npz"
    return cached(path, _load, _simulate_probe, _save)


# ---------------------------------------------------------------- probe readers
#: Day of discharge from detoxification (days from the start of use).
DISCHARGE_D = LONGTERM_PLAN.use_days + LONGTERM_PLAN.detox_days
#: Last day of use of everyone (the end of year 10).
USE_END_D = float(LONGTERM_PLAN.use_days)
#: End of the probe's follow-up.
END_D = float(LONGTERM_PLAN.days)


def probe_subjects() -> pd.DataFrame:
    """The probe's subjects table (one row per person)."""
    return longterm_probe().subjects


def probe_episodes() -> pd.DataFrame:
    """The probe's episodes table (one row per overdose)."""
    return longterm_probe().episodes


def probe_dataset() -> xr.Dataset:
    """The probe's records (``subject`` x ``time`` in days, every 30 days)."""
    return longterm_probe().dataset


# ---------------------------------------------------------------- check builders
def needs(fn: Callable[[], float]) -> Callable[[], float]:
    """``fn``, or NaN when the probe lacks a variable ``fn`` reads (an explained miss)."""

    def evaluate() -> float:
        try:
            return fn()
        except KeyError:
            return math.nan

    return evaluate


#: Note of every treatment trial (a ``not modelled`` row with no value).
_TREATMENT = (
    "Not modelled: needs treatments inside life courses (issue 13): induction onto and "
    "retention in methadone, buprenorphine, naltrexone or heroin-assisted treatment, and "
    "leaving it, are not part of the life course yet, so no model value is given."
)


def probe_check(
    target_id: str,
    evaluate: Callable[[], float],
    compare: Callable[[float, Target], bool],
    tolerance: str,
    unit: str,
    note: str = "",
    explained: bool = True,
    status: str = "validation",
) -> Check:
    """A check computed from the long-term probe (a validation unless a parameter was fitted)."""
    return Check(target_id, status, evaluate, compare, tolerance, unit, note, explained)


def treatment_check(target_id: str, unit: str, extra: str = "") -> Check:
    """A treatment trial: not modelled until life courses have treatments (issue 13)."""
    return Check(
        target_id,
        "not modelled",
        not_modelled,
        never,
        "not computable",
        unit,
        _TREATMENT + (" " + extra if extra else ""),
        explained=True,
    )


def not_modelled_check(target_id: str, unit: str, note: str) -> Check:
    """A target the model has no quantity for (``note`` says why); reported with no value."""
    return Check(target_id, "not modelled", not_modelled, never, "not computable", unit, note, True)
