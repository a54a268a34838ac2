"""Calibration checks of the long-term clinical targets: a using career and what follows it.

One life-course probe (:func:`longterm_probe`) serves every life-course
quantity: 500 people drawn as the default cohort is (28 +- 6 years, 30 %
women) inject heroin and decide their own use for 10 years; then half are
detoxified (14 days held abstinent) and try to stay abstinent for 2 years,
while the other half keep using; a bystander gives naloxone (0.4 mg IM, 5 min
after PaO2 falls below 40 mmHg) in half of overdoses. This is the shipped
default scenario's plan and rescue rule with fewer people. It is cached in
the process and on disk (:func:`_probe_key`): it takes about a minute on
one core.

Each quantity is a function of the probe's tables (``dataset``: records every
30 days; ``subjects``; ``episodes``), documented with exactly what it counts,
so that the tests can hold it against small tables with a known answer.
Scheduled-regimen quantities (buprenorphine occupancy, routes, methadone and
ventilation) are computed with the engine on the typical subject
(:mod:`neuroadapt.evidence.probes`). Treatment trials need treatments inside
life courses, which the model does not have yet: they are reported as not
modelled, with no value.
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
from scipy.stats import binomtest

from neuroadapt.atomic import write_with
from neuroadapt.cache import cache_dir, cached, code_key
from neuroadapt.engine.lifecourse import LifeCourseResult, LifePlan
from neuroadapt.engine.outcomes import kaplan_meier, poisson_ci
from neuroadapt.engine.simulate import RescueRule
from neuroadapt.evidence import probes as P
from neuroadapt.evidence.calibration import (
    Check,
    at_most,
    in_range,
    is_true,
    never,
    not_modelled,
    within,
)
from neuroadapt.evidence.targets import Target
from neuroadapt.model.behaviour import ABSTAINING, USING
from neuroadapt.model.mortality import DAYS_PER_YEAR
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


# ------------------------------------------------------------------ quantities
# Every function below reads plain tables: ``subjects`` (one row per person:
# ``arm``, ``death_time_d``, ``death_cause``, ``first_lapse_d``, ``relapse_d``),
# ``episodes`` (one row per overdose: ``subject``, ``start_h``, ``outcome``) and
# the recorded ``dataset`` (``subject`` x ``time`` in days, each record summing
# or sampling the 30 days before it). Days count from the start of use.


def _users(subjects: pd.DataFrame) -> pd.DataFrame:
    return subjects[subjects["arm"] != "control"]


def person_years(subjects: pd.DataFrame, t0: float, t1: float) -> float:
    """Person-years lived in ``[t0, t1)`` days by the given subjects (the dead leave at death)."""
    death = subjects["death_time_d"].to_numpy(dtype=float)
    exit_d = np.minimum(np.where(np.isnan(death), np.inf, death), t1)
    return float(np.clip(exit_d - t0, 0.0, None).sum() / DAYS_PER_YEAR)


def deaths_in(subjects: pd.DataFrame, t0: float, t1: float, causes=None) -> int:
    """Deaths in ``[t0, t1)`` days (of the given causes; all causes if ``None``)."""
    death = subjects["death_time_d"].to_numpy(dtype=float)
    hit = (death >= t0) & (death < t1)
    if causes is not None:
        hit &= subjects["death_cause"].isin(causes).to_numpy()
    return int(hit.sum())


def _rate(events: int, py: float, per: float) -> tuple[float, float, float]:
    """A rate per ``per`` person-years with its exact Poisson 95 % interval."""
    if py <= 0:
        return math.nan, math.nan, math.nan
    lo, hi = poisson_ci(events)
    return events * per / py, float(lo) * per / py, float(hi) * per / py


def crude_mortality(
    subjects: pd.DataFrame, t0: float, t1: float, per: float = 100.0, causes=None
) -> tuple[float, float, float]:
    """Deaths per ``per`` person-years of users in ``[t0, t1)`` days, with its 95 % interval.

    All causes by default; ``causes`` (e.g. ``("overdose",)``) restricts the
    deaths counted, not the person-years.
    """
    users = _users(subjects)
    return _rate(deaths_in(users, t0, t1, causes), person_years(users, t0, t1), per)


def _in_window(episodes: pd.DataFrame, t0: float, t1: float, outcome: str | None):
    day = episodes["start_h"].to_numpy(dtype=float) / 24.0
    sel = (day >= t0) & (day < t1)
    if outcome is not None:
        sel &= (episodes["outcome"] == outcome).to_numpy()
    return episodes[sel]


def overdose_rate(
    episodes: pd.DataFrame,
    subjects: pd.DataFrame,
    t0: float,
    t1: float,
    per: float = 100.0,
    outcome: str | None = "survived",
) -> tuple[float, float, float]:
    """Overdose episodes (non-fatal by default) per ``per`` person-years of users, ``[t0, t1)``."""
    users = _users(subjects)
    ep = _in_window(episodes, t0, t1, outcome)
    ep = ep[ep["subject"].isin(users["subject"])]
    return _rate(len(ep), person_years(users, t0, t1), per)


def _binomial(k: int, n: int) -> tuple[float, float, float]:
    """``100 k / n`` with its exact (Clopper-Pearson) 95 % interval (%)."""
    if n == 0:
        return math.nan, math.nan, math.nan
    ci = binomtest(k, n).proportion_ci(0.95, method="exact")
    return 100.0 * k / n, 100.0 * ci.low, 100.0 * ci.high


def case_fatality(episodes: pd.DataFrame, t0: float, t1: float) -> tuple[float, float, float]:
    """Fatal episodes among all overdose episodes starting in ``[t0, t1)`` days (%), with its CI."""
    ep = _in_window(episodes, t0, t1, None)
    return _binomial(int((ep["outcome"] == "fatal").sum()), len(ep))


def years_per_overdose(
    episodes: pd.DataFrame, subjects: pd.DataFrame, t0: float, t1: float
) -> float:
    """Person-years of use per non-fatal overdose in ``[t0, t1)`` days (Powis: one per N years)."""
    rate = overdose_rate(episodes, subjects, t0, t1, per=1.0)[0]
    return 1.0 / rate if rate > 0 else math.inf


def alive_at(subjects: pd.DataFrame, day: float) -> np.ndarray:
    """Whether each subject is alive at ``day`` (boolean array)."""
    death = subjects["death_time_d"].to_numpy(dtype=float)
    return ~(death < day)


def past_year_nfod(
    episodes: pd.DataFrame, subjects: pd.DataFrame, years: int
) -> tuple[float, float, float]:
    """Share (%) of people alive at the end of a year of use with a non-fatal overdose in it.

    Pooled over years 1..``years`` of use (each year counts each person alive
    at its end once, as a cross-sectional survey each year would); the
    interval is the binomial one of the pooled counts.
    """
    users = _users(subjects)
    k = n = 0
    for y in range(years):
        t0, t1 = y * DAYS_PER_YEAR, (y + 1) * DAYS_PER_YEAR
        alive = users[alive_at(users, t1)]
        ep = _in_window(episodes, t0, t1, "survived")
        n += len(alive)
        k += int(alive["subject"].isin(ep["subject"]).sum())
    return _binomial(k, n)


def ever_nfod(
    episodes: pd.DataFrame, subjects: pd.DataFrame, day: float
) -> tuple[float, float, float]:
    """Share (%) of users alive at ``day`` who survived at least one overdose before it."""
    users = _users(subjects)
    alive = users[alive_at(users, day)]
    ep = _in_window(episodes, 0.0, day, "survived")
    return _binomial(int(alive["subject"].isin(ep["subject"]).sum()), len(alive))


def recent_nfod_fatal_rate_ratio(
    episodes: pd.DataFrame, subjects: pd.DataFrame, t0: float, t1: float, window_d: float
) -> tuple[float, float, float]:
    """Rate ratio of fatal overdose within ``window_d`` days after a non-fatal one vs otherwise.

    Each user's time in ``[t0, t1)`` (until death) is split into 'recent' (less
    than ``window_d`` days after a survived overdose) and the rest; overdose
    deaths are assigned to the part they fall in. Returns the ratio of the two
    crude rates with its exact 95 % interval (conditional binomial method).
    """
    users = _users(subjects)
    survived = _in_window(episodes, 0.0, t1, "survived")
    by_subject = survived.groupby("subject")["start_h"].apply(lambda s: np.sort(s.to_numpy() / 24))
    t_recent = t_other = 0.0
    d_recent = d_other = 0
    for subj, death, cause in users[["subject", "death_time_d", "death_cause"]].itertuples(
        index=False
    ):
        end = min(t1, death) if not np.isnan(death) else t1
        if end <= t0:
            continue
        starts = by_subject.get(subj, np.array([]))
        # union of [s, s + window) intersected with [t0, end)
        recent, cover = 0.0, t0
        for s in starts:
            lo, hi = max(s, cover), min(s + window_d, end)
            if hi > lo:
                recent += hi - lo
                cover = hi
        t_recent += recent
        t_other += (end - t0) - recent
        if cause == "overdose" and not np.isnan(death) and t0 <= death < t1:
            if ((starts <= death) & (death < starts + window_d)).any():
                d_recent += 1
            else:
                d_other += 1
    if t_recent <= 0 or t_other <= 0 or d_recent + d_other == 0:
        return math.nan, math.nan, math.nan
    ratio = (d_recent / t_recent) / (d_other / t_other) if d_other else math.inf
    ci = binomtest(d_recent, d_recent + d_other).proportion_ci(0.95, method="exact")
    odds = t_other / t_recent

    def rr(p: float) -> float:
        return p / (1.0 - p) * odds if p < 1.0 else math.inf

    return ratio, rr(ci.low), rr(ci.high)


def dead_after_years(
    subjects: pd.DataFrame, end_d: float, years: float
) -> tuple[float, float, float]:
    """Share (%) dead after ``years``, extrapolated from the users' all-cause rate of the probe.

    The users' deaths over all their person-years in ``[0, end_d)`` days give a
    constant hazard ``h`` (per year); the share dead is ``1 - exp(-h years)``,
    with the exact Poisson interval of ``h``. A constant hazard ignores ageing
    (the background rises with age) and the falling share who still use.
    """
    users = _users(subjects)
    h = _rate(deaths_in(users, 0.0, end_d), person_years(users, 0.0, end_d), 1.0)
    return tuple(100.0 * (1.0 - math.exp(-x * years)) for x in h)


def _detoxified_at_discharge(subjects: pd.DataFrame, discharge: float) -> pd.DataFrame:
    return subjects[(subjects["arm"] == "abstinence") & alive_at(subjects, discharge)]


def incidence_after_discharge(
    subjects: pd.DataFrame, column: str, discharge: float, end: float, day: float
) -> float:
    """Kaplan-Meier cumulative incidence (%) of ``column`` (a day, NaN if never) by ``day``.

    Among the detoxified alive at discharge; time from discharge; death and the
    end of follow-up (``end``) censor. ``column`` is ``first_lapse_d`` (any use)
    or ``relapse_d`` (return to regular use).
    """
    d = _detoxified_at_discharge(subjects, discharge)
    event_t = d[column].to_numpy(dtype=float) - discharge
    death = d["death_time_d"].to_numpy(dtype=float) - discharge
    censor = np.fmin(death, end - discharge)
    event = ~np.isnan(event_t) & ~(event_t > censor)
    time = np.where(event, event_t, censor)
    t, surv = kaplan_meier(time, event)
    return 100.0 * (1.0 - surv[t <= day][-1])


def _var(ds: xr.Dataset, name: str) -> xr.DataArray:
    if name not in ds:
        raise KeyError(name)
    return ds[name]


def _spans(ds: xr.Dataset) -> np.ndarray:
    """Days covered by each record (the first record covers nothing)."""
    t = np.asarray(ds["time"].values, dtype=float)
    return np.diff(t, prepend=t[0])


def daily_dose(ds: xr.Dataset) -> np.ndarray:
    """Mean daily heroin taken over each record's period (mg/day; subject x time).

    ``dose_mg`` (the habitual dose per use at the record) times ``uses`` (doses
    since the previous record) over the period's days; NaN for the first record.
    Lapse doses (a fraction of the habit) are counted as a whole habitual dose.
    """
    span = _spans(ds)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(span > 0, ds["dose_mg"].values * ds["uses"].values / span, np.nan)


def _using_records(ds: xr.Dataset, t0: float, t1: float) -> np.ndarray:
    """Records at times in ``(t0, t1]`` of people alive and in regular use (mask)."""
    t = np.asarray(ds["time"].values, dtype=float)
    window = (t > t0) & (t <= t1)
    return (ds["mode"].values == USING) & (ds["alive"].values > 0.5) & window[None, :]


def median_daily_dose(ds: xr.Dataset, t0: float, t1: float) -> float:
    """Median over people of their mean daily dose (mg/day) in regular use between ``t0``-``t1``."""
    dose = np.where(_using_records(ds, t0, t1), daily_dose(ds), np.nan)
    keep = np.isfinite(dose).any(axis=1)
    return float(np.median(np.nanmean(dose[keep], axis=1))) if keep.any() else math.nan


def max_daily_dose(ds: xr.Dataset, t0: float, t1: float) -> float:
    """Highest mean daily dose (mg/day) of any person over any record period in ``(t0, t1]``."""
    dose = np.where(_using_records(ds, t0, t1), daily_dose(ds), np.nan)
    return float(np.nanmax(dose)) if np.isfinite(dose).any() else math.nan


def euphoric_tolerance_exceeds_respiratory(ds: xr.Dataset, day: float) -> float:
    """1.0 if the median euphoric right-shift exceeds the respiratory one at ``day``.

    Among people alive and in regular use at the record nearest ``day``
    (``tolerance_euphoric``, ``tolerance_respiratory``: fold right-shifts).
    """
    eu, resp = _var(ds, "tolerance_euphoric"), _var(ds, "tolerance_respiratory")
    i = int(np.argmin(np.abs(np.asarray(ds["time"].values, dtype=float) - day)))
    using = (ds["mode"].values[:, i] == USING) & (ds["alive"].values[:, i] > 0.5)
    if not using.any():
        return math.nan
    return float(np.median(eu.values[using, i]) > np.median(resp.values[using, i]))


def co_user_share_of_overdose_deaths(ds: xr.Dataset, subjects: pd.DataFrame) -> float:
    """Share (%) of overdose deaths (any time) of regular benzodiazepine/alcohol co-users."""
    co = _var(ds, "co_use").values.astype(bool)
    dead = (subjects["death_cause"] == "overdose").to_numpy()
    return 100.0 * float(co[dead].mean()) if dead.any() else math.nan


def co_user_share_of_nonfatal(ds: xr.Dataset, episodes: pd.DataFrame) -> float:
    """Share (%) of non-fatal overdose episodes (any time) that happen to co-users."""
    co = _var(ds, "co_use").values.astype(bool)
    subject_index = {s: i for i, s in enumerate(ds["subject"].values)} if "subject" in ds else None
    ep = episodes[episodes["outcome"] == "survived"]
    if ep.empty:
        return math.nan
    idx = ep["subject"].map(subject_index) if subject_index else ep["subject"]
    return 100.0 * float(co[idx.to_numpy(dtype=int)].mean())


def recent_intake(ds: xr.Dataset, index: int, records: int = 3) -> np.ndarray:
    """Mean daily intake (mg/day) of each person over the ``records`` periods up to ``index``."""
    dd = daily_dose(ds)
    span = _spans(ds)
    lo = max(1, index - records + 1)
    w = span[lo : index + 1]
    return np.nansum(dd[:, lo : index + 1] * w, axis=1) / w.sum()


#: Record periods (30 days each) in the recent intake that hair morphine measures.
HAIR_RECORDS = 2


def intake_ratio_living_to_overdose_dead(
    ds: xr.Dataset, subjects: pd.DataFrame, reference_day: float
) -> float:
    """Median recent intake of living regular users over that of people who died of overdose.

    Recent intake: mean daily heroin over the 2 record periods (60 days) up to
    the last record before death (the dead; deaths before the first full
    period are left out), or up to the record at ``reference_day`` for people
    alive and in regular use then (the living comparison). Darke's 2 cm of
    hair measure intake over the 2 months before death or interview.
    """
    t = np.asarray(ds["time"].values, dtype=float)
    i_ref = int(np.argmin(np.abs(t - reference_day)))
    using = (ds["mode"].values[:, i_ref] == USING) & (ds["alive"].values[:, i_ref] > 0.5)
    living = recent_intake(ds, i_ref, HAIR_RECORDS)[using]
    death = subjects["death_time_d"].to_numpy(dtype=float)
    od = (subjects["death_cause"] == "overdose").to_numpy() & (death > t[1])
    dead = []
    for row in np.flatnonzero(od):
        i = int(np.searchsorted(t, death[row], side="right") - 1)
        dead.append(recent_intake(ds, i, HAIR_RECORDS)[row])
    if not len(living) or not dead or np.median(dead) <= 0:
        return math.nan
    return float(np.median(living) / np.median(dead))


def abstinent_at_end(ds: xr.Dataset, subjects: pd.DataFrame) -> tuple[float, float, float]:
    """Share (%) of the detoxified alive at the last record who are abstinent then.

    Abstinent: in the abstaining mode at the last record and no use in its
    period (30 days), as Smyth's 'no recent opiate use, not on methadone'.
    """
    arm = subjects["arm"].to_numpy()
    alive = ds["alive"].values[:, -1] > 0.5
    sel = (arm == "abstinence") & alive
    abst = (ds["mode"].values[:, -1] == ABSTAINING) & (ds["uses"].values[:, -1] == 0)
    return _binomial(int((abst & sel).sum()), int(sel.sum()))


def uses_per_day(ds: xr.Dataset, subjects: pd.DataFrame, t0: float, t1: float, arm: str) -> float:
    """Mean doses a day of an arm's living members over the record periods in ``(t0, t1]``."""
    t = np.asarray(ds["time"].values, dtype=float)
    cols = (t > t0) & (t <= t1)
    sel = (subjects["arm"].to_numpy() == arm)[:, None] & (ds["alive"].values > 0.5) & cols
    span = np.broadcast_to(_spans(ds), sel.shape)
    return float(ds["uses"].values[sel].sum() / span[sel].sum()) if sel.any() else math.nan


def use_settles_after_treatment(ds: xr.Dataset, subjects: pd.DataFrame, plan: LifePlan) -> float:
    """1.0 if the detoxified use less at 1 year than before and about as much at 2 years.

    Doses a day of the detoxified arm: the last year of use, months 10-12 and
    months 22-24 after discharge; holds when months 10-12 are below half the
    last year of use and months 22-24 are within 0.67-1.5 times months 10-12
    (NTORS's fall by 1 year and plateau, with 2 years standing in for 4-5).
    """
    d = plan.use_days + plan.detox_days
    before = uses_per_day(ds, subjects, plan.use_days - 365.0, plan.use_days, "abstinence")
    year1 = uses_per_day(ds, subjects, d + 270.0, d + 365.0, "abstinence")
    year2 = uses_per_day(ds, subjects, d + 635.0, d + 730.0, "abstinence")
    if not (before > 0 and year1 > 0):
        return math.nan
    return float(year1 < 0.5 * before and 0.67 <= year2 / year1 <= 1.5)


# ---------------------------------------------------------------- probe readers
_DISCHARGE = LONGTERM_PLAN.use_days + LONGTERM_PLAN.detox_days
_USE_END = float(LONGTERM_PLAN.use_days)
_END = float(LONGTERM_PLAN.days)
#: Recent non-fatal overdose: within the 6 months before (the Vancouver cohorts'
#: semi-annual interviews ask about the previous 6 months).
RECENT_NFOD_WINDOW_D = 182.5


def _subjects() -> pd.DataFrame:
    return longterm_probe().subjects


def _episodes() -> pd.DataFrame:
    return longterm_probe().episodes


def _dataset() -> xr.Dataset:
    return longterm_probe().dataset


def _needs(fn: Callable[[], float]) -> Callable[[], float]:
    """``fn``, or NaN when the probe lacks a variable ``fn`` reads (an explained miss)."""

    def evaluate() -> float:
        try:
            return fn()
        except KeyError:
            return math.nan

    return evaluate


def _ci_overlaps(
    ci: Callable[[], tuple[float, float, float]], rel: float = 0.5
) -> Callable[[float, Target], bool]:
    """Whether the model's 95 % interval overlaps the target's CI (else its value ± ``rel``)."""

    def cmp(m: float, t: Target) -> bool:
        lo, hi = (
            (t.low, t.high) if not np.isnan(t.low) else (t.value * (1 - rel), t.value * (1 + rel))
        )
        _, mlo, mhi = ci()
        return bool(mlo <= hi and lo <= mhi)

    return cmp


def _in_study_ci(k: int, n: int) -> Callable[[float, Target], bool]:
    """Model value inside the exact binomial 95 % interval of the study's ``k`` of ``n``."""
    _, lo, hi = _binomial(k, n)
    return lambda m, t: bool(lo <= m <= hi)


def holds(m: float, t: Target) -> bool:
    """A direction check that can be NaN (a missing variable): holds only for exactly 1.0."""
    return m == 1.0


def _between(lo: float, hi: float) -> Callable[[float, Target], bool]:
    return lambda m, t: bool(lo <= m <= hi)


def _cmr() -> tuple[float, float, float]:
    return crude_mortality(_subjects(), 0.0, _USE_END)


def _deaths_of(causes: tuple[str, ...], per: float) -> Callable[[], tuple[float, float, float]]:
    """Deaths of ``causes`` per ``per`` PY in years 1-10 of use, with its 95 % interval."""
    return lambda: crude_mortality(_subjects(), 0.0, _USE_END, per, causes=causes)


def _nfod_rate() -> tuple[float, float, float]:
    return overdose_rate(_episodes(), _subjects(), 0.0, _USE_END)


def _case_fatality() -> tuple[float, float, float]:
    return case_fatality(_episodes(), 0.0, _USE_END)


def _past_year() -> tuple[float, float, float]:
    return past_year_nfod(_episodes(), _subjects(), LONGTERM_PLAN.use_days // 365)


def _ever() -> tuple[float, float, float]:
    return ever_nfod(_episodes(), _subjects(), _USE_END)


def _recent_rr() -> tuple[float, float, float]:
    return recent_nfod_fatal_rate_ratio(
        _episodes(), _subjects(), 0.0, _USE_END, RECENT_NFOD_WINDOW_D
    )


def _dead_33() -> tuple[float, float, float]:
    return dead_after_years(_subjects(), _END, 33.0)


def _after_discharge(column: str, day: float) -> Callable[[], float]:
    return lambda: incidence_after_discharge(_subjects(), column, _DISCHARGE, _END, day)


def _abstinent_end() -> tuple[float, float, float]:
    return abstinent_at_end(_dataset(), _subjects())


#: Causes counted as drug-related deaths (poisoning and dependence): overdose and
#: toxic leukoencephalopathy (``model.mortality.CAUSES``).
DRUG_RELATED = ("overdose", "leukoencephalopathy")

_OD_DEATHS = (
    "Overdose deaths come from the mechanism (escalation beyond the incomplete respiratory "
    "tolerance, batch purity, co-use, and hypoxic respiratory depression below "
    "pao2_hypoxic_depression, which makes a deep episode without a rescuer fatal; naloxone "
    "in half of the episodes); the model has no overdose death rate. Three of its parameters "
    "are fitted to the literature: the depression threshold to the case fatality of "
    "overdose, the escalation exponent to the yearly share of users with a non-fatal "
    "overdose (Colledge 2019), and the caution after a survived overdose "
    "(overdose_dose_reduction 0.6, half-time 180 days) to the all-cause mortality of "
    "regular opioid users (Degenhardt 2011; 22.4 per 1,000 PY in the default run)."
)
_CAUTION = (
    "A survived overdose lowers the person's next doses (overdose_dose_reduction 0.6 per "
    "recent overdose, half-time 180 days, fitted to mortality; dose by dose in the kernel), so a "
    "person's episodes are spread over months and years rather than coming in runs."
)
_TREATMENT = (
    "Not modelled: needs treatments inside life courses (issue 13): induction onto and "
    "retention in methadone, buprenorphine, naltrexone or heroin-assisted treatment, and "
    "leaving it, are not part of the life course yet, so no model value is given."
)
_ALWAYS_LAPSE = (
    "After 10 years of use the detoxified lapse within days of discharge (craving and "
    "negative affect are high, and a lapse primes the next), more often than Smyth's "
    "cohort (whose 1-month figures are unconfirmed in the abstract, which gives 66 % lapse "
    "and 59 % relapse at 1 week); people then leave regular use again (cessation_rate), so "
    "abstinence at the end of follow-up agrees (cli_abstinent_2_3yr_smyth) while early "
    "lapse is too frequent."
)


def _lc(
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


def _treatment(target_id: str, unit: str, extra: str = "") -> Check:
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


def _not_modelled(target_id: str, unit: str, note: str) -> Check:
    return Check(target_id, "not modelled", not_modelled, never, "not computable", unit, note, True)


def _hp():
    return P.params("human")


CHECKS: tuple[Check, ...] = (
    # ----------------------------------------------------------- mortality
    _treatment("cli_out_of_tx_rr_degenhardt", "RR"),
    _lc(
        "cli_cmr_opioid_larney",
        lambda: _cmr()[0],
        _ci_overlaps(_cmr),
        "exact Poisson 95 % interval of all-cause deaths per 100 PY of users in years 1-10 of "
        "use overlaps 1.59 ± 50 % (no CI reported)",
        "per 100 PY",
        "Above Larney's rate but inside the band (about 2.2 against 1.59): Larney's "
        "cohorts include non-injectors and people in treatment, while every probe subject "
        "injects daily. " + _OD_DEATHS,
    ),
    _lc(
        "cli_cmr_inject_larney",
        lambda: _cmr()[0],
        _ci_overlaps(_cmr),
        "exact Poisson 95 % interval of all-cause deaths per 100 PY of (injecting) users in "
        "years 1-10 of use overlaps 2.71 ± 50 %",
        "per 100 PY",
        "Every probe subject injects. " + _OD_DEATHS + " HIV/AIDS and hepatitis deaths are in "
        "the fitted non-overdose excess only.",
    ),
    _lc(
        "cli_drd_cmr_larney",
        lambda: _deaths_of(DRUG_RELATED, 100.0)()[0],
        _ci_overlaps(_deaths_of(DRUG_RELATED, 100.0)),
        "exact Poisson 95 % interval of overdose and leukoencephalopathy deaths per 100 PY in "
        "years 1-10 of use overlaps the 95 % CI 0.6-0.7",
        "per 100 PY",
        "Too high (about 1.7 against 0.6): Larney's rate is of all people using illicit "
        "opioids, many not injecting "
        "daily or in treatment, while every probe subject injects heroin daily for 10 years "
        "(its overdose rate passes against people who inject: od_fatal_rate_us_pwid, "
        "but not od_fatal_incidence_vancouver). " + _OD_DEATHS,
    ),
    _lc(
        "od_fatal_incidence_vancouver",
        lambda: _deaths_of(("overdose",), 1000.0)()[0],
        _ci_overlaps(_deaths_of(("overdose",), 1000.0)),
        "exact Poisson 95 % interval of overdose deaths per 1000 PY in years 1-10 of use "
        "overlaps the 95 % CI 7.55-10.59",
        "per 1000 PY",
        "Too high (about 17 against 8.9 per 1000 PY): every probe subject injects heroin "
        "daily for 10 years with no treatment, while the Vancouver cohorts of people who use "
        "drugs include people in methadone treatment and people who do not inject daily; "
        "against people who inject (od_fatal_rate_us_pwid) the rate passes. " + _OD_DEATHS,
    ),
    _lc(
        "od_nfod_fatal_ahr_vancouver",
        lambda: _recent_rr()[0],
        _ci_overlaps(_recent_rr),
        "exact 95 % interval of the crude rate ratio of overdose death in the 6 months after a "
        "non-fatal overdose vs other time (years 1-10 of use) overlaps the 95 % CI 1.17-3.27",
        "HR",
        "Crude, not adjusted: a non-fatal overdose marks a person whose dose sits close to "
        "their own respiratory limit, so a crude ratio is expected above the adjusted one; the "
        "model's (about 2.9 against 1.95) is inside the interval, because the caution after a "
        "survived overdose lowers that person's doses for months. " + _CAUTION,
    ),
    _lc(
        "cli_dead_33yr_hser",
        lambda: _dead_33()[0],
        _ci_overlaps(_dead_33),
        "exact interval of 1 - exp(-33 h), h the users' all-cause rate over the whole probe, "
        "overlaps 48.9 % ± 50 %",
        "%",
        "Extrapolated: the probe lasts 12 years; a constant hazard ignores the rise of "
        "background mortality with age (Hser's men reached a mean 57 years), so it "
        "underestimates. " + _OD_DEATHS,
    ),
    _treatment("trt_mortality_in_methadone_sordo", "per 1000 PY"),
    _treatment("trt_mortality_out_methadone_sordo", "per 1000 PY"),
    _treatment("trt_mortality_rr_methadone_sordo", "RR"),
    _treatment("trt_mortality_rr_bup_sordo", "RR"),
    _treatment("trt_od_mortality_methadone_sordo", "RR"),
    _treatment("trt_mortality_time_course_sordo", ""),
    _treatment("cli_smr_out_tx_evans", "SMR"),
    _treatment("trt_naltrexone_cessation_mortality_gibson", "per 100 PY"),
    # ------------------------------------------------------------ overdose
    _lc(
        "od_nfod_past_year_colledge",
        lambda: _past_year()[0],
        _ci_overlaps(_past_year),
        "binomial 95 % interval (pooled person-years) of the share of users alive at the end "
        "of a year of use with a non-fatal overdose in it (years 1-10) overlaps 15.0-26.1 %",
        "%",
        "Calibrated: the escalation exponent (dose_escalation_exponent) was fitted to it.",
        status="calibrated",
    ),
    _lc(
        "od_nfod_lifetime_colledge",
        lambda: _ever()[0],
        _ci_overlaps(_ever),
        "binomial 95 % interval of users alive after 10 years of use who survived an overdose "
        "overlaps 34.6-48.4 %",
        "%",
        "Seen, not fitted (the exponent was fitted to the past-year share).",
    ),
    _lc(
        "od_nfod_rate_us_pwid",
        lambda: _nfod_rate()[0],
        _ci_overlaps(_nfod_rate),
        "exact Poisson 95 % interval of non-fatal overdoses per 100 PY in years 1-10 of use "
        "overlaps 26.4-40.9",
        "per 100 PY",
        "Every episode below the overdose PaO2 counts, also those a person would not "
        "report. " + _CAUTION,
    ),
    _lc(
        "od_fatal_rate_us_pwid",
        lambda: _deaths_of(("overdose",), 100.0)()[0],
        _ci_overlaps(_deaths_of(("overdose",), 100.0)),
        "exact Poisson 95 % interval of overdose deaths per 100 PY in years 1-10 of use "
        "overlaps 0.9-3.2",
        "per 100 PY",
        _OD_DEATHS,
    ),
    _lc(
        "od_case_fatality_us_pwid",
        lambda: _case_fatality()[0],
        _ci_overlaps(_case_fatality),
        "exact binomial 95 % interval of fatal among all overdose episodes in years 1-10 of use "
        "overlaps 5 % ± 50 %",
        "%",
        "Calibrated: pao2_hypoxic_depression (below it brain hypoxia depresses breathing "
        "further, Neubauer 1990) was fitted to it on the default run. " + _CAUTION,
        status="calibrated",
    ),
    _lc(
        "od_witnessed_fatal_share",
        lambda: _case_fatality()[0],
        _ci_overlaps(_case_fatality),
        "exact binomial 95 % interval of fatal among all overdose episodes in years 1-10 of use "
        "overlaps 21.7 % ± 50 %",
        "%",
        "The witnesses were inner-city heroin or cocaine users (not all overdoses were of "
        "heroin). The model has no witness recall: all its episodes count, while witnesses "
        "remember severe overdoses, so the study's share is expected above any cohort case "
        "fatality (5 % in the US PWID meta-analysis; calibrated).",
    ),
    _lc(
        "od_rate_per_injecting_year_powis",
        lambda: years_per_overdose(_episodes(), _subjects(), 0.0, _USE_END),
        within(0.5),
        "±50 % (person-years of use per non-fatal overdose, years 1-10)",
        "years",
        "The model counts every dose that takes PaO2 below the overdose threshold as an "
        "episode; Powis counted remembered overdoses. " + _CAUTION,
        explained=True,
    ),
    Check(
        "od_morphine_overlap_darke",
        "validation",
        lambda: P.lethal_iv_heroin_morphine_mg_l(_hp()),
        in_range(0.0),
        "inside 0.08-1.45 mg/L (blood morphine at death after the smallest lethal IV heroin "
        "dose, typical naive subject, no rescue)",
        "mg/L",
        "Too low: the naive subject dies within minutes of the smallest lethal dose, from "
        "heroin and 6-MAM, before much morphine has formed; Darke's cases were tolerant users "
        "sampled post mortem, often hours later. The life course does not record blood "
        "morphine at death (needs a morphine column in the episodes table).",
        explained=True,
    ),
    _lc(
        "od_alcohol_fatal_darke",
        _needs(lambda: co_user_share_of_overdose_deaths(_dataset(), _subjects())),
        lambda m, t: bool(m >= 51.0),
        "at least 51 % of overdose deaths are of co-users (co_use counts alcohol or "
        "benzodiazepines, so its share must reach the alcohol share)",
        "%",
        "Share of overdose deaths among regular benzodiazepine or alcohol co-users (co_use); "
        "co-use is a trait of 35 % of users (couse_fraction, an assumption), over-represented "
        "among deaths through their weaker chemoreflex.",
    ),
    _not_modelled(
        "od_morphine_alcohol_r_darke",
        "r",
        "Not modelled: co_use is a yes/no trait; blood alcohol concentration and blood morphine "
        "at death are not recorded.",
    ),
    _lc(
        "od_polydrug_fatal_zador",
        _needs(lambda: co_user_share_of_overdose_deaths(_dataset(), _subjects())),
        _between(45.0, 71.0),
        "45-71 % of overdose deaths are of co-users (at least Zador's alcohol share, at most "
        "the share with any second drug class)",
        "%",
        "Share of overdose deaths among regular benzodiazepine or alcohol co-users "
        "(co_use; couse_fraction 35 %, an assumption).",
    ),
    _lc(
        "od_alcohol_fatal_zador",
        _needs(lambda: co_user_share_of_overdose_deaths(_dataset(), _subjects())),
        lambda m, t: bool(m >= 45.0),
        "at least 45 % of overdose deaths are of co-users (co_use includes alcohol)",
        "%",
        "Share of overdose deaths among regular benzodiazepine or alcohol co-users "
        "(co_use; couse_fraction 35 %, an assumption).",
    ),
    _lc(
        "od_hair_morphine_ratio_darke",
        lambda: intake_ratio_living_to_overdose_dead(_dataset(), _subjects(), _USE_END),
        within(0.5),
        "±50 % (median 60-day intake of living regular users at year 10 over that of overdose "
        "decedents before death)",
        "fold",
        "Too low: in the model most overdose deaths are of regular users at their habit, not of "
        "people whose intake had fallen; overdoses after detoxification are rarely fatal "
        "(see the Strang check). Lapse doses are counted as whole habitual doses.",
    ),
    _lc(
        "od_benzo_nfod_fatovich",
        _needs(lambda: co_user_share_of_nonfatal(_dataset(), _episodes())),
        _between(27.2, 42.8),
        "27.2-42.8 % of non-fatal overdoses are of co-users (at least the benzodiazepine share, "
        "at most benzodiazepine plus alcohol)",
        "%",
        "Too high: co-users (35 % of users, couse_fraction, an assumption) have their weaker "
        "chemoreflex every day, so they have about half of the non-fatal episodes; Fatovich "
        "counted co-ingestion on the day of the overdose.",
    ),
    _not_modelled(
        "od_purity_range_eu",
        "",
        "Not modelled: the model has no purity fraction; the heroin delivered by a dose varies "
        "around the intended (pure) dose with CV 0.35 (purity_cv, an assumption after Darke & "
        "Hall 2003), a within-user spread, not the spread of seized samples. Not an input: no "
        "parameter was taken from EMCDDA.",
    ),
    _not_modelled(
        "od_fentanyl_in_heroin_canada",
        "%",
        "Not evaluated: the share of adulterated batches is a scenario input ([behaviour] "
        "fentanyl_fraction, 0 in the default), not an output; this row is the documented value "
        "to set it to.",
    ),
    # ------------------------------------------------------------ tolerance
    _lc(
        "tol_hat_daily_dose_swiss",
        lambda: median_daily_dose(_dataset(), _USE_END - 365.0, _USE_END),
        _between(250.0, 900.0),
        "500-600 mg/day ± 50 % (250-900): median over users of their mean daily heroin in "
        "regular use in year 10",
        "mg/day",
        "Too low (under 100 mg a day): the escalation exponent fitted to non-fatal overdose "
        "(0.21) keeps doses close to the incomplete respiratory tolerance, so the median user "
        "takes less than a fifth of the Swiss dose after years; prescribed heroin in the "
        "Swiss trials was free, supervised and pure, and its patients were selected "
        "long-term users (the primary cohort's mean is 474 mg/day "
        "IV, PMID:14665805).",
    ),
    _lc(
        "tol_hat_max_dose_dutch",
        lambda: max_daily_dose(_dataset(), 0.0, _USE_END),
        at_most(1000.0),
        "≤ 1000 mg/day (highest 30-day mean daily heroin of any user in years 1-10)",
        "mg/day",
        "Validation, not an input: dose_max (150 mg per use) is an assumption from Dublin "
        "street use, not from Blanken 2005.",
        explained=False,
    ),
    Check(
        "tol_hcvr_ratio_mmt_teichtahl",
        "validation",
        lambda: P.methadone_co2_response_ratio(_hp()),
        lambda m, t: abs(m - t.value) <= 0.15,
        "±0.15 (chemoreflex slope on day 28 of oral methadone 80 mg/day, mean of 0-4 h after "
        "the dose, over a drug-free person's; a ratio of 1 must fail, as p = 0.01)",
        "fold",
        "Too strong a depression: respiratory tolerance in the model is a partial right-shift "
        "(resp_tolerance_gain) of the same AC superactivation, so 80 mg/day still takes most "
        "of the chemoreflex slope; stable methadone patients keep three quarters of it.",
        explained=True,
    ),
    Check(
        "tol_resp_tolerance_mmt",
        "validation",
        lambda: (lambda f: float(f[1] < 0.5 * f[0]))(P.methadone_ventilation_falls(_hp())),
        is_true,
        "the fall of ventilation after the day-28 dose of oral methadone 60 mg/day is less "
        "than half that after a single 10 mg dose (an analgesic dose) in a drug-free person",
        "",
        "Fails: the maintained person's daily 60 mg still lowers ventilation by about as much "
        "as 10 mg does in a drug-free person (about 5 % of rest each), where the study saw no "
        "change. Respiratory tolerance is a partial right-shift (resp_tolerance_gain) of the "
        "euphoric one; see tol_hcvr_ratio_mmt_teichtahl.",
        explained=True,
    ),
    _lc(
        "tol_differential_euphoria_resp",
        _needs(lambda: euphoric_tolerance_exceeds_respiratory(_dataset(), _USE_END)),
        holds,
        "median euphoric right-shift above the respiratory one in regular users at year 10",
        "",
        "Median over users of the share of records in regular use where the respiratory "
        "shift (tolerance_respiratory) is below the euphoric one (tolerance_euphoric): the "
        "circuit-level component (model.tolerance) acts on euphoria only and the receptor "
        "level on respiration by a fifth.",
    ),
    Check(
        "tol_iv_in_potency_comer",
        "validation",
        lambda: P.route_potency_ratio(_hp(), "intranasal", "iv"),
        within(0.5),
        "±50 % (intranasal heroin dose matching the 0-6 h agonist occupancy of 5 mg IV, over 5)",
        "fold",
        "Below the reported 4-fold: the model's intranasal bioavailability and absorption "
        "(f_heroin_intranasal, ka) set the ratio; Comer measured potency by breakpoints in "
        "morphine-maintained users, where the brief IV peak counts more than the area.",
        explained=True,
    ),
    # ------------------------------------------------ after detoxification
    _lc(
        "cli_heroin_use_post_residential_ntors",
        _after_discharge("first_lapse_d", 365.0),
        _in_study_ci(145, 242),
        "inside the binomial 95 % CI of 145/242 (Kaplan-Meier any use by 12 months after "
        "discharge of the detoxified)",
        "%",
        _ALWAYS_LAPSE,
    ),
    _lc(
        "cli_ntors_5yr_direction",
        lambda: use_settles_after_treatment(_dataset(), _subjects(), LONGTERM_PLAN),
        holds,
        "doses a day of the detoxified at months 10-12 below half those of the last year of "
        "use, and at months 22-24 within 0.67-1.5 times months 10-12",
        "",
        "Use does not fall by a year: most of the detoxified return to regular use within "
        "weeks (relapse is to the full daily pattern; the model has no reduced-use state), and "
        "stopping again is a constant hazard, not treatment after discharge. " + _ALWAYS_LAPSE,
    ),
    _lc(
        "cli_abstinent_2_3yr_smyth",
        lambda: _abstinent_end()[0],
        _in_study_ci(25, 109),
        "inside the binomial 95 % CI of 25/109 (detoxified alive 2 years after discharge, "
        "abstaining with no use in the last 30 days)",
        "%",
        "Calibrated: cessation_rate and the spread of lapse_drive_d50 were fitted to it. "
        "2 years of follow-up for Smyth's 2-3; people who relapsed and stopped again count "
        "(abstinent_again_d in the subjects table).",
        status="calibrated",
    ),
    _lc(
        "cli_lapse_1mo_smyth",
        _after_discharge("first_lapse_d", 30.0),
        _in_study_ci(87, 109),
        "inside the binomial 95 % CI of 87/109 (Kaplan-Meier lapse by 30 days)",
        "%",
        _ALWAYS_LAPSE,
    ),
    _lc(
        "cli_relapse_1mo_smyth",
        _after_discharge("relapse_d", 30.0),
        _in_study_ci(77, 109),
        "inside the binomial 95 % CI of 77/109 (Kaplan-Meier relapse by 30 days)",
        "%",
        _ALWAYS_LAPSE,
    ),
    _not_modelled(
        "cli_past_year_heroin_33yr_hser",
        "%",
        "Not modelled: the probe follows 2 years after discharge, not 33; use after decades "
        "(ageing out, treatment, prison) is outside the life course.",
    ),
    _not_modelled(
        "cli_5yr_abstinent_older_hser",
        "%",
        "Not modelled: 5-year abstinence at ages 45-60 needs decades of follow-up; the probe "
        "follows 2 years after discharge.",
    ),
    # ------------------------------------------------------------ treatment
    _treatment("trt_xbot_relapse_itt_xrntx", "%"),
    _treatment("trt_xbot_relapse_itt_bup", "%"),
    _treatment("trt_xbot_relapse_pp_xrntx", "%"),
    _treatment("trt_xbot_relapse_pp_bup", "%"),
    _treatment("trt_xbot_induction_failure_xrntx", "%"),
    _treatment("trt_xbot_induction_failure_bup", "%"),
    _treatment("trt_bup_retention_low_mattick", "RR"),
    _treatment("trt_bup_retention_med_mattick", "RR"),
    _treatment("trt_bup_retention_high_mattick", "RR"),
    _treatment("trt_bup_high_urine_smd_mattick", "SMD"),
    _treatment("trt_bup_vs_mmt_retention_mattick", "RR"),
    _treatment("trt_methadone_high_dose_retention_faggiano", "RR"),
    _not_modelled(
        "trt_mmt_below_80mg_share",
        "%",
        "Not modelled: a prescribing practice of US programmes, not a consequence of the model.",
    ),
    Check(
        "trt_bup_occupancy_2mg_greenwald",
        "validation",
        lambda: P.buprenorphine_occupancy(_hp(), 2.0),
        lambda m, t: abs(m - t.value) <= 16.0,
        "±16 percentage points (2 SEM): occupancy 4 h after the 14th daily sublingual dose",
        "%",
    ),
    Check(
        "trt_bup_occupancy_16mg_greenwald",
        "validation",
        lambda: P.buprenorphine_occupancy(_hp(), 16.0),
        lambda m, t: abs(m - t.value) <= 4.0,
        "±4 percentage points (2 SEM): occupancy 4 h after the 14th daily sublingual dose",
        "%",
        "Above the whole-brain figure: the model gives receptor occupancy, while a whole-brain "
        "PET average is diluted by non-specific binding and partial volume; Greenwald's "
        "regions reached 94-98 % at 32 mg.",
        explained=True,
    ),
    Check(
        "trt_bup_occupancy_32mg_greenwald",
        "validation",
        lambda: P.buprenorphine_occupancy(_hp(), 32.0),
        lambda m, t: abs(m - t.value) <= 4.0,
        "±4 percentage points (2 SEM): occupancy 4 h after the 14th daily sublingual dose",
        "%",
        "Above the whole-brain figure, inside the 94-98 % of Greenwald's regions of interest "
        "(the whole-brain average is diluted by non-specific binding and partial volume).",
        explained=True,
    ),
    _not_modelled(
        "trt_bup_withdrawal_availability_greenwald",
        "% availability",
        "Not modelled: withdrawal suppression on buprenorphine needs induction of a dependent "
        "person onto buprenorphine (a treatment in the life course, issue 13).",
    ),
    _treatment("trt_xrntx_abstinence_krupitsky", "%"),
    _treatment(
        "trt_placebo_abstinence_krupitsky",
        "%",
        "The detoxified arm is the closest analogue (see cli_abstinent_2_3yr_smyth), but "
        "weekly urine-confirmed abstinence and trial dropout are not recorded.",
    ),
    _treatment("trt_lapse_dropout_hr_placebo", "HR"),
    _treatment("trt_ntx_implant_retention_krupitsky", "%"),
    _treatment("trt_hat_retention_naomi", "%"),
    _treatment("trt_mmt_retention_naomi", "%"),
    _treatment("trt_hat_retention_german", "%"),
    _treatment("trt_mmt_retention_german", "%"),
    _treatment("trt_riott_negative_urine_heroin", "%"),
    _treatment("trt_riott_negative_urine_oral", "%"),
    _treatment("trt_hat_retention_rr_ferri", "RR"),
    _treatment("trt_hat_mortality_swiss", "%/year"),
    _not_modelled(
        "trt_naloxone_high_rr_walley",
        "RR",
        "Not modelled: needs the bystander naloxone probability as a function of programme "
        "enrolment per 100,000, which no source gives; the life course takes a fixed rescue "
        "probability.",
    ),
    _not_modelled(
        "trt_naloxone_low_rr_walley",
        "RR",
        "Not modelled: as trt_naloxone_high_rr_walley (enrolment-to-rescue mapping unknown).",
    ),
    _not_modelled(
        "trt_ibudilast_liking_metz",
        "",
        "Not modelled: ibudilast (a glial attenuator) is not a drug of the model.",
    ),
    _not_modelled(
        "trt_nac_mmt_depression",
        "",
        "Not modelled: N-acetylcysteine on methadone needs both treatments in the life course "
        "(issue 13) and a depression score.",
    ),
)
