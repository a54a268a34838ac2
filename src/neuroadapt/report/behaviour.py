"""Report section on behaviour: escalation, lapse versus relapse, overdose after abstinence.

Reads the tables a life-course run writes (``tables/survival.csv``,
``tables/clinical_outcomes.csv``, ``tables/mortality.csv``,
``tables/deaths_by_year.csv``) and the cohort dataset; simulates nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from neuroadapt.engine.outcomes import DEATH_CAUSES, LOST_TOLERANCE_WINDOW_D
from neuroadapt.report.brain import _img, _lit_block, _p, _table
from neuroadapt.report.figures import median_band, panel_grid

__all__ = [
    "after_abstinence_text",
    "behaviour_figure",
    "behaviour_section",
    "deaths_figure",
    "mortality_rows",
    "overdose_after_abstinence",
]

#: Causes of death in the mortality tables (``deaths_<cause>`` columns), with their colours.
#: Outcomes of the survival tables as the report names them ("death" counts every cause).
_OUTCOME_LABELS = {
    "death": "death (any cause)",
    "death (continued use)": "death (any cause, continued use)",
}
#: How each cause of death of ``engine.outcomes.DEATH_CAUSES`` is drawn: (colour, label).
_CAUSE_STYLE = {
    "overdose": ("tab:red", "overdose"),
    "leukoencephalopathy": ("tab:purple", "toxic leukoencephalopathy"),
    "medical": ("tab:blue", "excess medical (infections, liver, other)"),
    "injury": ("tab:orange", "excess injury, suicide, violence"),
    "background": ("tab:grey", "general-population causes"),
}
#: Arms as drawn at the start: both use until the end of use, then one is detoxified.
_ARM_LABELS = {
    "continued use": "continued-use arm",
    "abstinence": "detoxification arm",
    "control": "controls",
}

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
            label=_OUTCOME_LABELS.get(what, what),
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


def mortality_rows(mortality: pd.DataFrame) -> list[list[str]]:
    """Rows of the mortality table: each group with its n, deaths by cause, rates, SMR."""
    rows = []
    for r in mortality.itertuples():
        other = int(r.deaths) - int(r.deaths_overdose)
        smr = "n/a" if pd.isna(r.smr) else f"{r.smr:.2f} ({r.smr_low:.2f}-{r.smr_high:.2f})"
        ratio = getattr(r, "rate_ratio_vs_controls", np.nan)
        rows.append(
            [
                f"{r.group} (n = {int(r.subjects)})",
                f"{r.person_years:,.0f}",
                f"{int(r.deaths)} ({int(r.deaths_overdose)} overdose, {other} other causes)",
                f"{r.rate_per_1000py:.1f}",
                f"{r.rate_overdose_per_1000py:.2f}",
                smr,
                "" if pd.isna(ratio) else f"{ratio:.1f}",
            ]
        )
    return rows


def deaths_figure(deaths_by_year: pd.DataFrame, use_days: float) -> Figure:
    """Deaths by cause and year of the users (both arms), and mortality per 1000 PY by arm."""
    fig, axes = panel_grid((13, 3.8), 1, 2, wgap=0.9)
    ax = axes[0]
    users = deaths_by_year[deaths_by_year["arm"] != "control"]
    by_year = users.groupby("year").sum(numeric_only=True)
    bottom = np.zeros(len(by_year))
    for cause in DEATH_CAUSES:
        col = f"deaths_{cause}"
        if col not in by_year or not by_year[col].any():
            continue
        colour, label = _CAUSE_STYLE.get(cause, (None, cause))
        ax[0].bar(by_year.index, by_year[col], bottom=bottom, color=colour, label=label)
        bottom += by_year[col].to_numpy()
    n_users = int(users[users["year"] == 1]["subjects"].sum())
    ax[0].set(
        xlabel="year since the start of use",
        ylabel="deaths",
        title=f"A. Deaths of users (n = {n_users}) by cause and year",
        ylim=(0, 1.45 * max(float(bottom.max()), 1.0)),
    )
    ax[0].legend(fontsize=8, ncol=2, loc="upper center")
    end = use_days / 365.25
    for arm, cur in deaths_by_year.groupby("arm", sort=False):
        n = int(cur[cur["year"] == 1]["subjects"].sum())
        colour = {"continued use": "tab:red", "abstinence": "tab:green"}.get(arm, "black")
        ax[1].plot(cur["year"] - 0.5, cur["rate_per_1000py"], marker="o", color=colour,
                   label=f"{_ARM_LABELS.get(arm, arm)} (n = {n})")  # fmt: skip
    for a in ax:
        a.axvline(end + (0.5 if a is ax[0] else 0.0), color="grey", ls=":")
    top = float(np.nanmax(deaths_by_year["rate_per_1000py"].to_numpy(dtype=float), initial=1.0))
    ax[1].set(
        xlabel="years since the start of use (dotted: end of use, detoxification)",
        ylabel="deaths per 1,000 person-years",
        title="B. All-cause mortality by arm and year",
        ylim=(0, 1.45 * max(top, 1.0)),
    )
    ax[1].legend(fontsize=8, ncol=3, loc="upper center")
    return fig


def behaviour_section(
    users: xr.Dataset,
    episodes: pd.DataFrame,
    survival: pd.DataFrame | None,
    clinical: pd.DataFrame | None,
    calibration: Sequence[Mapping[str, Any]],
    use_days: float,
    cite: Callable[[str, str], str] = lambda s, u: "",
    discharge_day: float | None = None,
    mortality: pd.DataFrame | None = None,
    deaths_by_year: pd.DataFrame | None = None,
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
                _OUTCOME_LABELS.get(str(r.outcome), str(r.outcome)),
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
    if mortality is not None and len(mortality):
        blocks.append(
            _p(
                "Deaths and mortality. Overdose deaths come from the pharmacology kernel; "
                "deaths from other causes from a general-population life table by age and "
                "sex, times an excess while using and a smaller one after stopping (see "
                "docs/model.md, Mortality). The standardised mortality ratio (SMR) is "
                "observed over the deaths the life table expects for the same ages and "
                "sexes, with its exact Poisson 95 % interval."
            )
        )
        blocks.append(
            _table(
                (
                    "group",
                    "person-years",
                    "deaths",
                    "all causes per 1,000 person-years",
                    "overdose per 1,000 person-years",
                    "SMR (95 % CI)",
                    "rate ratio vs matched drug-free people",
                ),
                mortality_rows(mortality),
            )
        )
    if deaths_by_year is not None and len(deaths_by_year):
        blocks.append(
            _img(
                deaths_figure(deaths_by_year, use_days),
                "deaths by cause and year; mortality by arm",
            )
        )
    blocks += _lit_block(calibration, ("clinical",), cite)
    return {"title": title, "blocks": blocks}
