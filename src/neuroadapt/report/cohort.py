"""The cohort's figure and summary tables: read-outs over time, survival, overdose episodes.

Drawn and tabulated from the engine's cohort dataset and overdose episode
table handed in (never simulated): :func:`cohort_figure` (median and 5-95 %
band over living subjects of each recorded read-out, survival, overdoses),
:func:`cohort_summary` and :func:`episode_table` (plain arithmetic), and
:func:`not_recorded` (what the run did not record, and why).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from neuroadapt.report.plotting import COLORS, median_band, no_data, panel_grid, style_panel

__all__ = [
    "COHORT_VARS",
    "TOLERANCE_VARS",
    "cohort_figure",
    "cohort_summary",
    "cohort_vars",
    "episode_table",
    "not_recorded",
]

#: Read-outs of the cohort figure: (variable, title for a record every day).
COHORT_VARS = (
    ("tolerance_shift", "tolerance (1 + U)"),
    ("withdrawal_peak", "daily peak withdrawal index"),
    ("spo2_min", "daily lowest SpO2"),
    ("activation_peak", "daily peak MOR activation"),
)


#: Tolerance read-outs of runs that record tolerance per effect; where a run has any of
#: them they replace ``tolerance_shift`` (the single 1 + U) in the figure and summary.
TOLERANCE_VARS = (
    ("tolerance_euphoric", "tolerance to the euphoric effect (fold right-shift)"),
    ("tolerance_respiratory", "tolerance to respiratory depression (fold right-shift)"),
)


def cohort_vars(cohort: xr.Dataset) -> list[tuple[str, str]]:
    """The cohort read-outs drawn for this dataset.

    :data:`COHORT_VARS`, with the per-effect tolerance variables of
    :data:`TOLERANCE_VARS` in place of ``tolerance_shift`` where there are any.
    """
    per_effect = [(v, t) for v, t in TOLERANCE_VARS if v in cohort]
    out = []
    for var, title in COHORT_VARS:
        if var == "tolerance_shift" and per_effect:
            out += per_effect
        else:
            out.append((var, title))
    return out


#: Runs longer than this (days) are drawn in years in the cohort figure.
LONG_RUN_D = 730.0


def _record_days(cohort: xr.Dataset) -> float:
    """Days between records (1 for daily records)."""
    t = cohort["time"].values.astype(float)
    return float(np.median(np.diff(t))) if t.size > 1 else 1.0


def _cohort_title(cohort: xr.Dataset, var: str, title: str) -> str:
    every = _record_days(cohort)
    if not var.startswith("tolerance_") and every > 1.0 + 1e-9:
        # a record of many days holds the extreme of its days
        title = title.replace("daily ", "") + f" per {every:g}-day record"
    return title


def not_recorded(cohort: xr.Dataset) -> list[str]:
    """Sentences naming each cohort read-out this run did not record, and why."""
    missing = [
        title.replace("daily ", "") for var, title in cohort_vars(cohort) if var not in cohort
    ]
    if not missing:
        return []
    if "lifecourse_plan" in cohort.attrs:
        why = (
            "life-course runs keep, per record, the MOR activation, effect and withdrawal "
            "peaks, minutes of hypoxia and overdoses, not the oxygen saturation"
        )
    else:
        why = "the engine did not record it for this run"
    return [
        f"Not recorded in this run, so left out of the figure and the summary: "
        f"{', '.join(missing)} ({why})."
    ]


def cohort_figure(cohort: xr.Dataset, episodes: pd.DataFrame | None = None) -> Figure:
    """Median and 5-95% band over living subjects of the cohort's read-outs, survival, overdoses.

    Read-outs the run did not record are left out (see :func:`not_recorded`).
    """
    shown = [(v, _cohort_title(cohort, v, t)) for v, t in cohort_vars(cohort) if v in cohort]
    n_panels = len(shown) + 2
    rows = int(np.ceil(n_panels / 3))
    fig, axes = panel_grid((12, 3.2 * rows), rows, 3)
    axes = axes.ravel()
    for ax in axes[n_panels:]:
        ax.set_axis_off()
    t = cohort["time"].values.astype(float)
    n = cohort.sizes.get("subject", 1)
    # runs of years are drawn in years (the episodes are binned by month, then)
    per, xlabel = (365.25, "years") if t.size and t.max() > LONG_RUN_D else (1.0, "day")
    living = None
    if "alive" in cohort:  # the dead carry neutral values: quantiles are of the living
        living = cohort["alive"].transpose("subject", "time").values > 0
    for ax, (var, title) in zip(axes, shown, strict=False):
        style_panel(ax, title)
        x = cohort[var].transpose("subject", "time").values.astype(float)
        if living is not None and x.shape == living.shape:
            x = np.where(living, x, np.nan)
        median_band(ax, t / per, x, COLORS[0], "median", band_label="5-95%", alpha=0.25, lw=1.5)
        ax.set_xlabel(xlabel, fontsize=8)
        unit = cohort[var].attrs.get("units", "1")
        ax.set_ylabel("" if unit == "1" else unit, fontsize=8)
    if shown and axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(fontsize=7, frameon=False)
    ax = axes[len(shown)]
    style_panel(ax, f"subjects alive (of {n})")
    if "alive" in cohort:
        alive = np.nan_to_num(cohort["alive"].transpose("subject", "time").values).sum(axis=0)
        pct = 100.0 * alive / max(n, 1)
        ax.plot(t / per, pct, color="k", lw=1.5, clip_on=False)
        # the axis ends at 100 % (nobody is more than alive) and spans at least 10 points
        low = 5.0 * np.floor(np.nanmin(pct) / 5.0) - 5.0 if np.isfinite(pct).any() else 0.0
        ax.set_ylim(max(0.0, min(90.0, low)), 100.0)
        ax.set_ylabel("% of cohort", fontsize=8)
        ax.set_xlabel(xlabel, fontsize=8)
    else:
        no_data(ax)
    ax = axes[len(shown) + 1]
    if episodes is not None and len(episodes):
        day = np.floor(episodes["start_h"].to_numpy(float) / 24.0)
        span = max(t.max(), day.max()) + 1
        # one bar per day for short runs; coarser bins (stated in the title) for long ones
        width = max(1.0, float(np.ceil(span / 400.0)))
        if per > 1.0:
            width = 365.25 / 12
        bins = np.arange(0, span + width, width)
        fatal = episodes["outcome"].to_numpy() == "fatal"
        survived_n, _ = np.histogram(day[~fatal], bins=bins)
        fatal_n, _ = np.histogram(day[fatal], bins=bins)
        ax.stairs(survived_n + fatal_n, bins / per, fill=True, color="#fdae61", label="survived")
        ax.stairs(fatal_n, bins / per, fill=True, color="#d7191c", label="fatal")
        if per > 1.0:
            title = "overdose episodes per month"
        elif width == 1:
            title = "overdose episodes per day"
        else:
            title = f"overdose episodes per {width:g} days"
        style_panel(ax, title)
        ax.legend(fontsize=7, frameon=False)
        ax.set_xlabel(xlabel, fontsize=8)
    else:
        style_panel(ax, "overdose episodes per day")
        no_data(ax, "no overdose episodes")
    return fig


# ----------------------------------------------------------------------- tables
def _spread(values: np.ndarray, fmt: str = "{:.2f}") -> str:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return "n/a"
    lo, med, hi = np.quantile(v, [0.05, 0.5, 0.95])
    return f"{fmt.format(med)} (5-95%: {fmt.format(lo)}-{fmt.format(hi)})"


def _per_subject(cohort: xr.Dataset, var: str, how: str) -> np.ndarray:
    if var not in cohort:
        return np.array([])
    x = cohort[var].transpose("subject", ...).values.reshape(cohort.sizes["subject"], -1)
    x = x.astype(float)
    ok = np.isfinite(x).any(axis=1)
    out = np.full(x.shape[0], np.nan)
    if ok.any():
        out[ok] = (np.nanmax if how == "max" else np.nanmin)(x[ok], axis=1)
    return out


def cohort_summary(cohort: xr.Dataset, episodes: pd.DataFrame) -> list[tuple[str, str]]:
    """Plain arithmetic on the cohort and its overdose episodes: (label, text) rows."""
    n = int(cohort.sizes.get("subject", 0))
    days = float(np.nanmax(cohort["time"].values)) if cohort.sizes.get("time") else 0.0
    rows = [("subjects", str(n)), ("simulated time", f"{days:g} days")]
    per_effect = [v for v, _ in TOLERANCE_VARS if v in cohort]
    tolerance = [
        (v, "max", f"highest {t.split(' (')[0]} per subject (fold)", 1.0, "{:.2f}")
        for v, t in TOLERANCE_VARS
        if v in cohort
    ]
    if not per_effect:
        tolerance = [
            ("tolerance_shift", "max", "highest tolerance (1 + U) per subject", 1.0, "{:.2f}")
        ]
    for var, how, label, scale, fmt in (
        *tolerance,
        ("withdrawal_peak", "max", "peak withdrawal index per subject", 1.0, "{:.2f}"),
        ("spo2_min", "min", "lowest SpO2 per subject", 100.0, "{:.0f}%"),
    ):
        if var in cohort:  # a read-out not recorded is named by not_recorded()
            rows.append((label, _spread(scale * _per_subject(cohort, var, how), fmt)))
    ep = episodes if episodes is not None else pd.DataFrame()
    n_ep = len(ep)
    fatal = int((ep["outcome"] == "fatal").sum()) if n_ep else 0
    if "death_time" in cohort:
        deaths = int(np.isfinite(cohort["death_time"].values).sum())
    else:
        deaths = fatal
    rows.append(
        (
            "overdose episodes",
            f"{n_ep} in {ep['subject'].nunique() if n_ep else 0} "
            f"subjects ({n_ep - fatal} survived, {fatal} fatal)",
        )
    )
    rows.append(("deaths", f"{deaths} of {n} ({100 * deaths / max(n, 1):.1f}%)"))
    if n_ep and "naloxone_given" in ep:
        given = ep["naloxone_given"].astype(bool)
        saved = int((given & (ep["outcome"] != "fatal")).sum())
        rows.append(
            (
                "naloxone given",
                f"in {int(given.sum())} of {n_ep} episodes ({100 * given.mean():.0f}%)",
            )
        )
        rows.append(
            (
                "rescued by naloxone",
                f"{saved} of {int(given.sum())} episodes with "
                f"naloxone survived ({100 * saved / max(int(given.sum()), 1):.0f}%); "
                f"{saved} of {n_ep} episodes overall ({100 * saved / n_ep:.0f}%)",
            )
        )
    return rows


def episode_table(episodes: pd.DataFrame) -> list[dict[str, str]]:
    """Overdose episodes grouped by outcome and naloxone: count and medians."""
    if episodes is None or not len(episodes):
        return []
    out = []
    for (outcome, nlx), g in episodes.groupby(["outcome", "naloxone_given"], sort=True):
        out.append(
            {
                "outcome": str(outcome),
                "naloxone": "yes" if nlx else "no",
                "n": str(len(g)),
                "min_pao2": f"{g['min_pao2_mmhg'].median():.1f}",
                "hypoxia": f"{g['hypoxia_minutes'].median():.1f}",
                "severe": f"{g['severe_hypoxia_minutes'].median():.1f}",
            }
        )
    return out
