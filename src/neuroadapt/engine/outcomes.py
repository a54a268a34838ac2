"""Clinical outcomes of life courses: Kaplan-Meier curves after discharge, incidences.

Computed from the per-subject table of ``engine.lifecourse`` (arm, death,
first lapse and relapse days): what a follow-up study after detoxification
would report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neuroadapt.engine.lifecourse import LifePlan

__all__ = [
    "LOST_TOLERANCE_WINDOW_D",
    "OUTCOME_DAYS",
    "clinical_outcomes",
    "kaplan_meier",
    "survival_table",
]

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
    """Kaplan-Meier curves after discharge: lapse, relapse, overdose death (long table)."""
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
