"""Quantities of the long-term checks, each a function of plain tables.

Each quantity is a function of the long-term probe's tables
(:mod:`neuroadapt.evidence.longterm_probe`; ``dataset``: records every 30
days; ``subjects``; ``episodes``), documented with exactly what it counts, so
that the tests can hold it against small tables with a known answer.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import binomtest

from neuroadapt.engine.lifecourse import LifePlan
from neuroadapt.engine.outcomes import kaplan_meier, poisson_ci
from neuroadapt.model.behaviour import ABSTAINING, USING
from neuroadapt.model.mortality import DAYS_PER_YEAR

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


def binomial_percent(k: int, n: int) -> tuple[float, float, float]:
    """``100 k / n`` with its exact (Clopper-Pearson) 95 % interval (%)."""
    if n == 0:
        return math.nan, math.nan, math.nan
    ci = binomtest(k, n).proportion_ci(0.95, method="exact")
    return 100.0 * k / n, 100.0 * ci.low, 100.0 * ci.high


def case_fatality(episodes: pd.DataFrame, t0: float, t1: float) -> tuple[float, float, float]:
    """Fatal episodes among all overdose episodes starting in ``[t0, t1)`` days (%), with its CI."""
    ep = _in_window(episodes, t0, t1, None)
    return binomial_percent(int((ep["outcome"] == "fatal").sum()), len(ep))


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
    return binomial_percent(k, n)


def ever_nfod(
    episodes: pd.DataFrame, subjects: pd.DataFrame, day: float
) -> tuple[float, float, float]:
    """Share (%) of users alive at ``day`` who survived at least one overdose before it."""
    users = _users(subjects)
    alive = users[alive_at(users, day)]
    ep = _in_window(episodes, 0.0, day, "survived")
    return binomial_percent(int(alive["subject"].isin(ep["subject"]).sum()), len(alive))


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
    return binomial_percent(int((abst & sel).sum()), int(sel.sum()))


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
