"""Report section on behaviour: escalation, lapse versus relapse, overdose after abstinence.

Reads the tables a life-course run writes (``tables/survival.csv``,
``tables/clinical_outcomes.csv``) and the cohort dataset; simulates nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from neuroadapt.engine.outcomes import LOST_TOLERANCE_WINDOW_D
from neuroadapt.report.brain import _img, _lit_block, _p, _table
from neuroadapt.report.figures import median_band

__all__ = [
    "after_abstinence_text",
    "behaviour_figure",
    "behaviour_section",
    "overdose_after_abstinence",
]

_COLOURS = {
    "lapse": "tab:orange",
    "relapse": "tab:red",
    "death": "black",
    "death (continued use)": "tab:grey",
}


def behaviour_figure(users: xr.Dataset, survival: pd.DataFrame, use_days: float) -> Figure:
    """Dose and tolerance over the years; Kaplan-Meier curves after discharge; overdoses."""
    fig = Figure(figsize=(13, 3.8), layout="constrained")
    ax = fig.subplots(1, 3)
    years = users.time.values / 365.25
    cont = users.arm.values == "continued use"
    dose = users.dose_mg.values[cont]
    tol = users.tolerance_shift.values[cont]
    median_band(ax[0], years, dose, "tab:blue", "habitual dose per use (mg)")
    ax2 = ax[0].twinx()
    median_band(ax2, years, tol, "tab:purple", "tolerance 1 + U")
    ax[0].set(
        xlabel="years since the start of use",
        ylabel="mg per use",
        title="A. Escalation follows tolerance (continued use)",
    )
    ax2.set_ylabel("fold right-shift 1 + U")
    ax[0].legend(loc="upper left", fontsize=8)
    ax2.legend(loc="lower right", fontsize=8)
    for what, cur in survival.groupby("outcome", sort=False):
        ax[1].step(
            cur["days_since_discharge"],
            1.0 - cur["survival"],
            where="post",
            color=_COLOURS.get(what, None),
            label=what,
        )
    ax[1].set(
        xlabel="days since discharge from detoxification",
        ylabel="cumulative incidence",
        ylim=(0, 1.02),
        title="B. Lapse, relapse and death",
    )
    ax[1].legend(fontsize=8)
    per_year = users.overdoses.values
    alive = users.alive.values > 0.5
    span = np.diff(users.time.values, prepend=users.time.values[0])
    with np.errstate(all="ignore"):
        rate = np.nansum(per_year, axis=0) / np.maximum(alive.sum(axis=0), 1) * 365.25 / span
    ok = span > 0
    ax[2].plot(years[ok], rate[ok], color="black")
    ax[2].axvline(use_days / 365.25, color="grey", ls=":", label="end of use / detoxification")
    ax[2].set(
        xlabel="years",
        ylabel="overdoses per living person-year",
        title="C. Overdoses (fatal and non-fatal)",
    )
    ax[2].legend(fontsize=8)
    return fig


def overdose_after_abstinence(
    users: xr.Dataset,
    episodes: pd.DataFrame,
    discharge_day: float,
    window_d: float = LOST_TOLERANCE_WINDOW_D,
) -> dict[str, tuple[int, int]]:
    """People with an overdose in the ``window_d`` days after discharge, by arm.

    Returns ``{arm: (people with an overdose, people alive at discharge)}``.
    """
    arm = pd.Series(users.arm.values, index=users.subject.values)
    death = pd.Series(users.death_time.values, index=users.subject.values)
    t0, t1 = discharge_day * 24.0, (discharge_day + window_d) * 24.0
    hit = set(episodes[(episodes["start_h"] >= t0) & (episodes["start_h"] < t1)]["subject"])
    out = {}
    for name in ("abstinence", "continued use"):
        at_risk = [s for s in arm.index[arm == name] if not death[s] < discharge_day]
        out[name] = (sum(s in hit for s in at_risk), len(at_risk))
    return out


def after_abstinence_text(users: xr.Dataset, episodes: pd.DataFrame, discharge_day: float) -> str:
    """One sentence comparing overdoses after discharge with continued use."""
    c = overdose_after_abstinence(users, episodes, discharge_day)
    (a, na), (b, nb) = c["abstinence"], c["continued use"]
    if not na or not nb:
        return ""
    return (
        f"Overdose after lost tolerance: in the {LOST_TOLERANCE_WINDOW_D} days (4 months, as "
        f"Strang 2003) after discharge {a} of {na} detoxified "
        f"people ({100 * a / na:.1f} %) overdosed, against {b} of {nb} who kept using "
        f"({100 * b / nb:.1f} %) over the same months; nobody scheduled these overdoses."
    )


def behaviour_section(
    users: xr.Dataset,
    episodes: pd.DataFrame,
    survival: pd.DataFrame | None,
    clinical: pd.DataFrame | None,
    calibration: Sequence[Mapping[str, Any]],
    use_days: float,
    cite: Callable[[str, str], str] = lambda s, u: "",
    discharge_day: float | None = None,
) -> dict[str, Any]:
    """The behaviour section as ``{"title", "blocks"}``."""
    title = "Behaviour: escalation, lapse and relapse, overdose after abstinence"
    if survival is None or "dose_mg" not in users:
        return {
            "title": title,
            "blocks": [
                _p(
                    "This scenario schedules its doses; nobody decides their own use, so there "
                    "is no escalation, lapse or relapse to report (use a scenario with a "
                    "[behaviour] table)."
                )
            ],
        }
    blocks = [
        _p(
            "Each person decides every day from the state of their own brain: a regular user "
            "takes their usual number of doses, sized to their tolerance and capped by what they "
            "can obtain, with street purity varying between doses; after detoxification a "
            "person lapses with a probability that rises steeply with the urge to use "
            "(cue-induced craving on days they meet drug cues, negative affect, and priming "
            "after a recent use). A lapse is one use of the dose they were used to; a relapse "
            "is three use days within a week, after which they use regularly again. Overdoses "
            "and deaths are resolved by the pharmacology kernel."
        ),
        _img(
            behaviour_figure(users, survival, use_days),
            "escalation, survival curves for lapse, relapse and death, overdose rates",
        ),
    ]
    if clinical is not None and len(clinical):
        rows = [
            [
                str(r.outcome),
                "" if pd.isna(r.days_since_discharge) else f"{r.days_since_discharge:g}",
                f"{100 * r.cumulative_incidence:.1f} %",
            ]
            for r in clinical.itertuples()
        ]
        blocks.append(_table(("outcome", "days since discharge", "cumulative incidence"), rows))
    n_fatal = int((episodes["outcome"] == "fatal").sum()) if len(episodes) else 0
    blocks.append(
        _p(f"{len(episodes)} overdose episodes in {users.sizes['subject']} users, {n_fatal} fatal.")
    )
    if discharge_day is not None:
        text = after_abstinence_text(users, episodes, discharge_day)
        if text:
            blocks.append(_p(text))
    blocks += _lit_block(calibration, ("clinical",), cite)
    return {"title": title, "blocks": blocks}
