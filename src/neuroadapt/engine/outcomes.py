"""Clinical outcomes of life courses: Kaplan-Meier curves after discharge, incidences, mortality.

Computed from the per-subject table of ``engine.lifecourse`` (arm, death and
its cause, first lapse and relapse days, age and sex): what a follow-up
study after detoxification would report, and the crude and standardised
mortality a cohort study of people who use heroin would report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import chi2

from neuroadapt.engine.lifecourse import LifePlan
from neuroadapt.model import mortality as M
from neuroadapt.parameters.life_table import LifeTable, load_life_table

__all__ = [
    "LOST_TOLERANCE_WINDOW_D",
    "OUTCOME_DAYS",
    "clinical_outcomes",
    "deaths_by_year",
    "exposure",
    "kaplan_meier",
    "mortality_table",
    "poisson_ci",
    "survival_table",
    "use_by_year",
]

#: Causes of death tabulated (``model.mortality.CAUSES`` without ``none``).
DEATH_CAUSES: tuple[str, ...] = M.CAUSES[1:]

#: Days after discharge in which overdoses after lost tolerance are counted: the
#: 4 months over which Strang et al. 2003 (BMJ 326:959-960) followed detoxified people.
LOST_TOLERANCE_WINDOW_D = 120

#: Days after discharge at which outcomes are tabulated (1 week, 4 months, 1, 2 years).
OUTCOME_DAYS = (7, LOST_TOLERANCE_WINDOW_D, 365, 730)


def kaplan_meier(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier survival: step times and survival just after each.

    Written here rather than taken from statsmodels (``SurvfuncRight``, which
    a test checks it against) because importing statsmodels adds about 0.7 s
    to every run.

    ``time`` is the event or censoring time; ``event`` is True where the event
    happened (False: censored). Returns ``(t, S)`` starting at ``(0, 1)``.

    Examples
    --------
    >>> t, s = kaplan_meier(np.array([1.0, 2.0, 3.0]), np.array([True, False, True]))
    >>> [round(float(x), 3) for x in s]
    [1.0, 0.667, 0.0]
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    ts, deaths = np.unique(time[event], return_counts=True)
    at_risk = time.size - np.searchsorted(np.sort(time), ts, side="left")
    return np.r_[0.0, ts], np.r_[1.0, np.cumprod(1.0 - deaths / at_risk)]


def _since_discharge(subjects: pd.DataFrame, plan: LifePlan) -> pd.DataFrame:
    discharge = plan.use_days + plan.detox_days
    follow = plan.days - discharge
    ab = subjects[subjects["arm"] == "abstinence"].copy()
    died_before = ab["death_time_d"] < discharge
    ab = ab[~died_before]
    out = pd.DataFrame({"subject": ab["subject"]})
    for what, col in (("lapse", "first_lapse_d"), ("relapse", "relapse_d")):
        t = ab[col] - discharge
        out[f"{what}_event"] = t.notna().to_numpy()
        censor = np.minimum(ab["death_time_d"].fillna(np.inf) - discharge, follow)
        out[f"{what}_time"] = np.where(t.notna(), t, censor)
    dt = ab["death_time_d"] - discharge
    out["death_event"] = dt.notna().to_numpy()
    out["death_time"] = np.where(dt.notna(), dt, follow)
    return out


def _to_end(t: np.ndarray, s: np.ndarray, end: float) -> tuple[np.ndarray, np.ndarray]:
    """Carry the last survival value to the end of follow-up (for plotting and reading)."""
    if t[-1] < end:
        return np.r_[t, end], np.r_[s, s[-1]]
    return t, s


def survival_table(subjects: pd.DataFrame, plan: LifePlan) -> pd.DataFrame:
    """Kaplan-Meier curves after discharge: lapse, relapse, death of any cause (long table)."""
    d = _since_discharge(subjects, plan)
    follow = float(plan.days - plan.use_days - plan.detox_days)
    rows = []
    for what in ("lapse", "relapse", "death"):
        t, s = kaplan_meier(d[f"{what}_time"].to_numpy(), d[f"{what}_event"].to_numpy())
        t, s = _to_end(t, s, follow)
        rows.append(pd.DataFrame({"outcome": what, "days_since_discharge": t, "survival": s}))
    cont = subjects[subjects["arm"] == "continued use"]
    if len(cont):
        start = plan.use_days + plan.detox_days
        alive_then = cont[~(cont["death_time_d"] < start)]
        dt = alive_then["death_time_d"] - start
        t, s = kaplan_meier(np.where(dt.notna(), dt, plan.days - start), dt.notna().to_numpy())
        t, s = _to_end(t, s, follow)
        rows.append(
            pd.DataFrame(
                {"outcome": "death (continued use)", "days_since_discharge": t, "survival": s}
            )
        )
    return pd.concat(rows, ignore_index=True)


def clinical_outcomes(
    subjects: pd.DataFrame, plan: LifePlan, episodes: pd.DataFrame
) -> pd.DataFrame:
    """Cumulative incidence after discharge (Kaplan-Meier) and overdose counts."""
    surv = survival_table(subjects, plan)
    rows = []
    for what in ("lapse", "relapse", "death", "death (continued use)"):
        cur = surv[surv["outcome"] == what]
        if cur.empty:
            continue
        for day in OUTCOME_DAYS:
            if day > plan.days - plan.use_days - plan.detox_days:
                continue
            s = cur["survival"].to_numpy()[cur["days_since_discharge"].to_numpy() <= day][-1]
            rows.append(
                {"outcome": what, "days_since_discharge": day, "cumulative_incidence": 1.0 - s}
            )
    users = subjects[subjects["arm"] != "control"]
    nonfatal = episodes[episodes["outcome"] == "survived"]
    during_use = nonfatal[nonfatal["start_h"] < plan.use_days * 24.0]
    ever = users["subject"].isin(during_use["subject"]).mean() if len(users) else np.nan
    rows.append(
        {
            "outcome": "non-fatal overdose during use (ever)",
            "days_since_discharge": np.nan,
            "cumulative_incidence": ever,
        }
    )
    return pd.DataFrame(rows)


def poisson_ci(k: np.ndarray | float, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) confidence interval of a Poisson count ``k``."""
    k = np.asarray(k, dtype=float)
    a = (1.0 - level) / 2.0
    low = np.where(k > 0, chi2.ppf(a, 2.0 * k) / 2.0, 0.0)
    return low, chi2.ppf(1.0 - a, 2.0 * k + 2.0) / 2.0


def exposure(subjects: pd.DataFrame, t0: float, t1: float, table: LifeTable) -> dict[str, object]:
    """Person-years, deaths by cause and expected background deaths in ``[t0, t1)`` days.

    ``subjects`` needs ``death_time_d``, ``death_cause``, ``age_years`` and
    ``sex``; subjects who died before ``t0`` are not at risk.
    """
    death = subjects["death_time_d"].to_numpy(dtype=float)
    at_risk = ~(death < t0)
    exit_d = np.minimum(np.where(np.isnan(death), np.inf, death), t1)[at_risk]
    died = (death[at_risk] >= t0) & (death[at_risk] < t1)
    cause = subjects["death_cause"].to_numpy()[at_risk]
    age0 = subjects["age_years"].to_numpy(dtype=float)[at_risk]
    female = (subjects["sex"].to_numpy()[at_risk] == "female").astype(float)
    yr = M.DAYS_PER_YEAR
    expected = M.cumulative_background(table, age0 + t0 / yr, age0 + exit_d / yr, female).sum()
    return {
        "subjects": int(at_risk.sum()),
        "person_years": float((exit_d - t0).sum() / yr),
        "deaths": int(died.sum()),
        **{f"deaths_{c}": int((died & (cause == c)).sum()) for c in DEATH_CAUSES},
        "expected_deaths": float(expected),
    }


def mortality_table(
    subjects: pd.DataFrame, plan: LifePlan, table: LifeTable | None = None
) -> pd.DataFrame:
    """All-cause and cause-specific mortality per 1000 person-years, and SMRs, by group.

    Groups: all users during the years of use (``0 .. use_days``), then the
    continued-use arm and the detoxified arm from discharge to the end, and
    the matched controls over the same two periods. ``expected_deaths`` are
    those of the general population of the same ages and sexes (the life
    table, ``model.mortality.cumulative_background``); ``smr`` is observed
    over expected, with its exact Poisson 95 % interval; ``rate_ratio_vs_controls``
    is the crude rate over that of the controls in the same period.
    """
    table = load_life_table() if table is None else table
    discharge = plan.use_days + plan.detox_days
    arm = subjects["arm"]
    users, controls = subjects[arm != "control"], subjects[arm == "control"]
    groups = [
        ("users during use", users, 0.0, plan.use_days, "use"),
        ("controls during use", controls, 0.0, plan.use_days, "use"),
        (
            "continued use after discharge",
            users[users["arm"] == "continued use"],
            discharge,
            plan.days,
            "after",
        ),
        (
            "detoxified after discharge",
            users[users["arm"] == "abstinence"],
            discharge,
            plan.days,
            "after",
        ),
        ("controls after discharge", controls, discharge, plan.days, "after"),
    ]
    rows = []
    for name, frame, t0, t1, period in groups:
        if frame.empty or t1 <= t0:
            continue
        row = {"group": name, "period": period, "start_d": t0, "end_d": t1}
        row.update(exposure(frame, t0, t1, table))
        py = row["person_years"]
        for c in ("", *DEATH_CAUSES):
            key = f"deaths_{c}" if c else "deaths"
            rate = f"rate_{c}_per_1000py" if c else "rate_per_1000py"
            row[rate] = 1000.0 * row[key] / py if py > 0 else np.nan
        low, high = poisson_ci(row["deaths"])
        e = row["expected_deaths"]
        row["smr"] = row["deaths"] / e if e > 0 else np.nan
        row["smr_low"] = float(low) / e if e > 0 else np.nan
        row["smr_high"] = float(high) / e if e > 0 else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    ctrl = out[out["group"].str.startswith("controls")].set_index("period")["rate_per_1000py"]
    out["rate_ratio_vs_controls"] = [
        r / ctrl[p] if p in ctrl and ctrl[p] > 0 and not g.startswith("controls") else np.nan
        for g, p, r in zip(out["group"], out["period"], out["rate_per_1000py"], strict=True)
    ]
    return out


def deaths_by_year(subjects: pd.DataFrame, plan: LifePlan) -> pd.DataFrame:
    """Deaths by cause, person-years and mortality per 1000 PY, by arm and year since day 0."""
    table = load_life_table()
    rows = []
    years = int(np.ceil(plan.days / M.DAYS_PER_YEAR))
    for arm_name in ("continued use", "abstinence", "control"):
        frame = subjects[subjects["arm"] == arm_name]
        if frame.empty:
            continue
        for y in range(years):
            t0, t1 = y * M.DAYS_PER_YEAR, min((y + 1) * M.DAYS_PER_YEAR, plan.days)
            e = exposure(frame, t0, t1, table)
            py = e["person_years"]
            rows.append(
                {
                    "arm": arm_name,
                    "year": y + 1,
                    **e,
                    "rate_per_1000py": 1000.0 * e["deaths"] / py if py > 0 else np.nan,
                }
            )
    return pd.DataFrame(rows)


#: Record-level read-outs of ``use_by_year`` (dataset variable, column stem), when recorded.
_TOLERANCE_VARS = (
    ("tolerance_euphoric", "euphoric_tolerance"),
    ("tolerance_respiratory", "respiratory_tolerance"),
)


def use_by_year(
    dataset: xr.Dataset, subjects: pd.DataFrame, episodes: pd.DataFrame, plan: LifePlan
) -> pd.DataFrame:
    """Use, tolerance and overdose of the users, by arm and year since day 0.

    One row per arm (``all users`` during the planned use, then each arm) and
    year: users alive at the start of the year; of them, the share with at
    least one non-fatal overdose in the year; overdose episodes and fatal ones;
    at the year's last record (for the last year of use, the last record of
    use), the median and quartiles of the daily dose
    (habitual dose per use times doses a day over the record interval) and the
    median tolerances of those using regularly, and the share abstaining or
    held abstinent.

    Parameters
    ----------
    dataset
        The users' life-course dataset (``dose_mg``, ``uses``, ``mode``,
        ``alive``, ``arm``; ``tolerance_*`` where recorded), time in days.
    subjects, episodes
        The per-subject and overdose tables of the same run.
    plan
        The run's timeline.
    """
    t = np.asarray(dataset["time"].values, dtype=float)
    span = np.diff(np.r_[t[0], t])
    span[span <= 0] = 1.0
    ids = dataset["subject"].values
    arm = dataset["arm"].values
    death = subjects.set_index("subject").loc[ids, "death_time_d"].to_numpy(float)
    alive_rec = dataset["alive"].transpose("subject", "time").values > 0
    mode = dataset["mode"].transpose("subject", "time").values
    daily = (
        dataset["dose_mg"].transpose("subject", "time").values
        * dataset["uses"].transpose("subject", "time").values
        / span
    )
    tol = {
        col: dataset[var].transpose("subject", "time").values
        for var, col in _TOLERANCE_VARS
        if var in dataset
    }
    ep_day = episodes["start_h"].to_numpy(float) / 24.0
    fatal = episodes["outcome"].to_numpy() == "fatal"
    ep_subject = episodes["subject"].to_numpy()
    years = int(np.ceil(plan.days / M.DAYS_PER_YEAR))
    groups = [("all users", arm != "control")] + [
        (a, arm == a) for a in ("continued use", "abstinence") if (arm == a).any()
    ]
    rows = []
    for y in range(years):
        t0, t1 = y * M.DAYS_PER_YEAR, min((y + 1) * M.DAYS_PER_YEAR, plan.days)
        # a year that ends within a day of the end of use belongs to the use period
        during_use = t1 <= plan.use_days + 1.0
        end = min(t1, plan.use_days) if during_use else t1
        i = max(int(np.searchsorted(t, end + 1e-9, side="right")) - 1, 0)  # last record
        in_year = (ep_day >= t0) & (ep_day < t1)
        for name, member in groups:
            if (name == "all users") != during_use:
                continue
            at_risk = member & ~(death < t0)
            nonfatal = np.isin(ids[at_risk], ep_subject[in_year & ~fatal])
            mine = in_year & np.isin(ep_subject, ids[member])
            using = member & alive_rec[:, i] & (mode[:, i] == 0)
            living = member & alive_rec[:, i]
            row = {
                "group": name,
                "year": y + 1,
                "alive_at_start": int(at_risk.sum()),
                "nonfatal_overdose_pct": 100.0 * nonfatal.mean() if at_risk.any() else np.nan,
                "overdose_episodes": int(mine.sum()),
                "fatal_overdoses": int((mine & fatal).sum()),
                "using_at_end": int(using.sum()),
                "abstinent_at_end_pct": (
                    100.0 * np.isin(mode[living, i], (1, 2)).mean() if living.any() else np.nan
                ),
            }
            q = np.nanquantile(daily[using, i], [0.25, 0.5, 0.75]) if using.any() else [np.nan] * 3
            row.update(
                {"daily_dose_mg_q25": q[0], "daily_dose_mg_median": q[1], "daily_dose_mg_q75": q[2]}
            )
            for col, values in tol.items():
                row[f"{col}_median"] = (
                    float(np.nanmedian(values[using, i])) if using.any() else np.nan
                )
            rows.append(row)
    return pd.DataFrame(rows)
