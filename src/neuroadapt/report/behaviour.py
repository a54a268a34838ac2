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

from neuroadapt.engine.outcomes import DEATH_CAUSES, LOST_TOLERANCE_WINDOW_D, poisson_ci
from neuroadapt.report import course
from neuroadapt.report import literature as lit
from neuroadapt.report.blocks import (
    description_block,
    image_block,
    literature_blocks,
    note_block,
    paragraph_block,
    table_block,
)
from neuroadapt.report.plotting import panel_grid

__all__ = [
    "after_abstinence_text",
    "behaviour_section",
    "deaths_figure",
    "mortality_literature_rows",
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
    "abstinence": "detoxified arm",
    "control": "controls",
}


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


def deaths_figure(
    deaths_by_year: pd.DataFrame,
    use_days: float,
    last_day: float | None = None,
    targets: Mapping[str, Any] | None = None,
) -> tuple[Figure, list[lit.Placed]]:
    """Deaths by cause and year of the users; all-cause and overdose mortality per 1,000 PY by arm.

    Mortality of the literature (shipped targets, :mod:`neuroadapt.report.literature`)
    is drawn over the years of use beside the model. Returns the figure and the
    literature drawn.
    """
    fig, axes = panel_grid((13, 4.9), 1, 3, wgap=0.9, bottom=1.75)
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
        ylim=(0, 1.25 * max(float(bottom.max(initial=0.0)), 1.0)),
    )
    if bottom.any():
        course.legend_below(ax[0])
    else:
        ax[0].text(0.5, 0.5, "no deaths", ha="center", va="center", transform=ax[0].transAxes)
    end = use_days / 365.25
    last = float(deaths_by_year["year"].max()) * 365.25 if last_day is None else last_day
    times = {"start": 0.0, "end of use": float(use_days), "discharge": float(use_days)}
    placed: list[lit.Placed] = []
    for a, col, panel, title in (
        (ax[1], "deaths", "mortality", "B. All-cause mortality by arm and year"),
        (ax[2], "deaths_overdose", "mortality_overdose", "C. Overdose mortality by arm and year"),
    ):
        tops = [1.0]
        for arm, cur in deaths_by_year.groupby("arm", sort=False):
            n = int(cur[cur["year"] == 1]["subjects"].sum())
            colour = {"continued use": "tab:red", "abstinence": "tab:green"}.get(arm, "black")
            with np.errstate(all="ignore"):
                rate = 1000.0 * cur[col].to_numpy(dtype=float) / cur["person_years"].to_numpy()
            tops.append(float(np.nanmax(rate, initial=0.0)))
            a.plot(
                cur["year"] - 0.5,
                rate,
                marker="o",
                ms=3.5,
                color=colour,
                label=f"{_ARM_LABELS.get(arm, arm)} (n = {n})",
            )
        here = lit.place(panel, times, last, targets)
        lit.draw(a, here, 365.25)
        placed += here
        tops += [p.high if np.isfinite(p.high) else p.y for p in here]
        a.set(
            xlabel="years since the start of use",
            ylabel="deaths per 1,000 person-years",
            title=title,
            ylim=(0, 1.2 * max(tops)),
        )
        course.legend_below(a)
    for a in ax:
        a.axvline(end + (0.5 if a is ax[0] else 0.0), color="grey", ls=":")
        a.tick_params(labelsize=8)
        a.title.set_fontsize(9.5)
    return fig, placed


def mortality_literature_rows(
    mortality: pd.DataFrame, placed: Sequence[lit.Placed], cite: Callable[[str, str], str]
) -> list[list[str]]:
    """Model mortality of the users during use beside each literature value drawn."""
    row = mortality[mortality["group"] == "users during use"]
    if row.empty or not placed:
        return []
    r = row.iloc[0]
    model = {
        "mortality": ("all causes", float(r["rate_per_1000py"]), int(r["deaths"])),
        "mortality_overdose": (
            "overdose",
            float(r["rate_overdose_per_1000py"]),
            int(r["deaths_overdose"]),
        ),
    }
    out = []
    for p in placed:
        what, rate, deaths = model[p.marker.panel]
        lo, hi = poisson_ci(deaths)
        py = float(r["person_years"])
        ci = f" ({1000 * lo / py:.1f}-{1000 * hi / py:.1f})" if py > 0 else ""
        src = ", ".join(s for s in (p.target.source, p.target.ref) if s)
        lit_ci = f" ({p.low:.1f}-{p.high:.1f})" if np.isfinite(p.low) else ""
        out.append(
            [
                what,
                f"{rate:.1f}{ci}",
                f"{p.y:.1f}{lit_ci}",
                p.target.quantity,
                f"{p.target.source} {cite(src, p.target.id) if src else ''}".strip(),
            ]
        )
    return out


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
    subjects: pd.DataFrame | None = None,
    targets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The behaviour section as ``{"title", "blocks"}``.

    ``subjects`` is the run's subject table (``arm, death_time_d, first_lapse_d,
    relapse_d`` and optionally ``abstinent_again_d``); ``targets`` replaces the
    shipped target table (tests).
    """
    title = "Behaviour: escalation, lapse and relapse, overdose after abstinence"
    if survival is None or "dose_mg" not in users:
        return {
            "title": title,
            "blocks": [
                paragraph_block(
                    "This scenario schedules its doses; nobody decides their own use, so there "
                    "is no escalation, lapse or relapse to report (use a scenario with a "
                    "[behaviour] table)."
                )
            ],
        }
    tl = course.timeline(users, use_days)
    if discharge_day is not None and tl.detox_days == 0:
        tl = course.Timeline(tl.use_days, discharge_day - tl.use_days, tl.last_day)
    blocks = [
        paragraph_block(
            "Each person decides every day from the state of their own brain: a regular user "
            "takes their usual number of doses (rising over the first years), sized to their "
            "tolerance to euphoria (AC, receptor and circuit levels) and the hedonic deficit, "
            "with street purity varying between purchases and less within one, and uses less "
            "for a while after surviving an overdose; respiratory tolerance grows less. After "
            "detoxification a person lapses with a probability that rises steeply with the "
            "urge to use (cue-induced craving on days they meet drug cues, negative affect, and "
            "priming after a recent use). A lapse is one use of the dose that feels right at "
            "their tolerance now, which outlasts the respiratory tolerance; a relapse is three "
            "use days within a week, after which they use regularly again until they stop "
            "again. Overdoses and deaths are resolved by the pharmacology kernel."
        ),
    ]
    blocks += _decade_blocks(users, tl, cite, targets)
    blocks += _overdose_blocks(users, episodes, tl, cite, discharge_day, targets)
    blocks += _after_detox_blocks(users, subjects, clinical, tl, cite, targets)
    if mortality is not None and len(mortality):
        blocks.append(
            paragraph_block(
                "Deaths and mortality. Overdose deaths come from the pharmacology kernel; "
                "deaths from other causes from a general-population life table by age and "
                "sex, times an excess while using and a smaller one after stopping (see "
                "docs/model.md, Mortality). The standardised mortality ratio (SMR) is "
                "observed over the deaths the life table expects for the same ages and "
                "sexes, with its exact Poisson 95 % interval."
            )
        )
        blocks.append(
            table_block(
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
        fig, placed = deaths_figure(deaths_by_year, tl.use_days, tl.last_day, targets)
        blocks += [
            image_block(fig, "deaths by cause and year; mortality by arm"),
            description_block(
                "A: deaths of both user arms by cause and year. B, C: deaths per 1,000 "
                "person-years of each arm in each year (all causes; overdose), dotted line: "
                "end of use; dashed lines with shaded 95 % intervals: the literature over "
                "the years of use (published per 100 person-years, drawn per 1,000). "
                + lit.caption(placed, cite, "mortality per person-year", short=True)
                + (" The table below gives each finding and its value." if placed else "")
            ),
        ]
        rows = mortality_literature_rows(mortality, placed, cite) if mortality is not None else []
        if rows:
            n = int(mortality.loc[mortality["group"] == "users during use", "subjects"].iloc[0])
            blocks.append(
                table_block(
                    (
                        "deaths",
                        f"model: users during use (n = {n}), per 1,000 person-years (95 % CI)",
                        "literature, per 1,000 person-years (95 % CI)",
                        "literature finding",
                        "source",
                    ),
                    rows,
                )
            )
    blocks += literature_blocks(calibration, ("clinical",), cite)
    return {"title": title, "blocks": blocks}


def _decade_blocks(users, tl, cite, targets) -> list[dict[str, Any]]:
    if "uses" not in users:
        return [note_block("The run did not record doses per record ('uses'), so no daily dose.")]
    fig, placed = course.decade_figure(users, tl, targets)
    tol = course.tolerance_vars(users)
    names = ", ".join(f"'{v}'" for v, _ in tol) or "none recorded"
    return [
        image_block(fig, "daily dose and tolerance over the years"),
        description_block(
            "A: daily dose of the continued-use arm (median and 25-75 % over the people "
            "alive and using regularly at each record): the habitual dose per use "
            "('dose_mg', at the record) times the doses taken since the previous record "
            "('uses') over the days between records, so a dose that changed within a "
            "record interval is read at its end. "
            + lit.caption(placed, cite, "the daily dose")
            + f" Tolerance panels ({names}): fold right-shift of the dose-response, 1 = "
            "drug-naive; all users (median and 25-75 %) up to the end of use (dotted), then "
            "each arm's median. "
            + (
                "The detoxified arm's median returns to the users' level when most of them "
                "relapse; the olive line follows only those of the arm abstinent at each "
                "record, whose tolerance is lost in abstinence. "
                if "mode" in users
                else ""
            )
            + lit.caption([], cite, "tolerance of people using for years")
        ),
    ]


def _overdose_blocks(users, episodes, tl, cite, discharge_day, targets) -> list[dict[str, Any]]:
    n_fatal = int((episodes["outcome"] == "fatal").sum()) if len(episodes) else 0
    blocks = [
        paragraph_block(
            f"{len(episodes)} overdose episodes in {users.sizes['subject']} users, {n_fatal} fatal."
        )
    ]
    if "arm" in users and "death_time" in users:
        table = course.overdoses_by_year(users, episodes, tl)
        if len(table):
            fig, placed = course.overdose_year_figure(table, tl, targets)
            blocks += [
                image_block(fig, "overdoses per year, fatal and non-fatal"),
                description_block(
                    "A: overdose episodes of both user arms in each complete year since the "
                    "start of use (fatal: the episode ended in death; red numbers above the "
                    "bars count them). B: people with at least "
                    "one non-fatal overdose in the year, as % of those of the arm alive at the "
                    "start of the year; after the end of use (dotted) the detoxified arm "
                    "overdoses only when it lapses or relapses. "
                    + lit.caption(placed, cite, "the share with a non-fatal overdose in a year")
                ),
            ]
        else:
            blocks.append(
                note_block("The run is shorter than a year, so there are no overdoses per year.")
            )
    if discharge_day is not None:
        text = after_abstinence_text(users, episodes, discharge_day)
        if text:
            blocks.append(paragraph_block(text))
    return blocks


def _after_detox_blocks(users, subjects, clinical, tl, cite, targets) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if subjects is not None and "mode" in users and (subjects["arm"] == "abstinence").any():
        fig, placed, table = course.after_detox_figure(users, subjects, tl, targets)
        again = (
            " C also shows, of the detoxified who had relapsed by then and are alive, the "
            "share abstinent again since ('abstinent_again_d')."
            if "abstinent_again" in table
            else " (The subject table has no 'abstinent_again_d' column, so the share of "
            "relapsers abstinent again is not shown.)"
        )
        blocks += [
            image_block(fig, "time to lapse and relapse after detoxification; abstinence by month"),
            description_block(
                "A, B: Kaplan-Meier cumulative incidence of the first lapse and of relapse "
                "after discharge from detoxification, in the detoxified arm alive at "
                "discharge (death and the end of follow-up censor; from 'first_lapse_d' and "
                "'relapse_d' of the subject table). C: share of the living detoxified arm "
                "abstinent at each monthly record ('mode' abstaining or held; a single lapse "
                "does not end abstinence, a relapse does)."
                + again
                + " "
                + lit.caption(placed, cite, "lapse, relapse and abstinence after detoxification")
                + " The studies define lapse, relapse and abstinence in their own words "
                "(quoted in each finding), which differ in detail from the model's."
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
        blocks.append(
            table_block(("outcome", "days since discharge", "cumulative incidence"), rows)
        )
    return blocks
