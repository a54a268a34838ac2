"""Figures and summary tables of the report, drawn from data handed in (never simulated).

Every function takes labelled data (an :class:`xarray.Dataset`, as made by
:mod:`neuroadapt.experiments.panels` or the engine) and returns a
:class:`matplotlib.figure.Figure` built without pyplot, so no global state
or GUI backend is involved; :func:`to_data_uri` renders it as an embedded PNG.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from neuroadapt.model.system import SIGNALLING_PATHWAY
from neuroadapt.report.diagram import draw_pathway
from neuroadapt.report.figcache import png_bytes

__all__ = [
    "FIGURES",
    "camp_figure",
    "cohort_figure",
    "cohort_vars",
    "cohort_summary",
    "episode_table",
    "figure_legend",
    "median_band",
    "nan_quantiles",
    "not_recorded",
    "occupancy_figure",
    "overdose_figure",
    "panel_grid",
    "pk_figure",
    "respiration_figure",
    "to_data_uri",
    "tolerance_figure",
    "withdrawal_figure",
]

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


def to_data_uri(fig: Figure, dpi: int = 96) -> str:
    """Render a figure as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(fig, dpi)).decode("ascii")


#: Margins of the panel grids in inches: left (tick labels and y label), right, top
#: (panel titles), bottom (x label), and the gaps between panels.
MARGINS_IN = {"left": 0.62, "right": 0.18, "top": 0.34, "bottom": 0.46, "wgap": 0.58, "hgap": 0.72}
#: Extra room (inches) for a figure title and for a legend row under the panels.
SUPTITLE_IN = 0.3
LEGEND_IN = 0.32


def panel_grid(
    figsize: tuple[float, float],
    rows: int,
    cols: int,
    *,
    suptitle: bool = False,
    legend: bool = False,
    left: float | None = None,
    right: float | None = None,
    bottom: float | None = None,
    wgap: float | None = None,
    **kwargs: Any,
) -> tuple[Figure, np.ndarray]:
    """A figure with a ``rows x cols`` grid of panels on fixed margins (in inches).

    Fixed margins replace matplotlib's constrained layout, which measured every
    text on every draw and was most of the report's time; the margins fit the
    small fonts used here (:func:`_small`). ``suptitle`` and ``legend`` reserve
    room for a figure title and a legend row below the panels; ``left``,
    ``right``, ``bottom`` and ``wgap`` (inches) replace the margins of
    :data:`MARGINS_IN`; ``kwargs`` go to
    :meth:`~matplotlib.figure.Figure.subplots` (``sharey``, ``width_ratios``...).
    """
    w, h = figsize
    m = MARGINS_IN
    top = m["top"] + (SUPTITLE_IN if suptitle else 0.0)
    bottom = (m["bottom"] if bottom is None else bottom) + (LEGEND_IN if legend else 0.0)
    lft = m["left"] if left is None else left
    r = m["right"] if right is None else right
    gap_w = m["wgap"] if wgap is None else wgap
    aw = (w - lft - r - gap_w * (cols - 1)) / cols
    ah = (h - top - bottom - m["hgap"] * (rows - 1)) / rows
    fig = Figure(figsize=figsize)
    axes = fig.subplots(
        rows,
        cols,
        squeeze=False,
        gridspec_kw={
            "left": lft / w,
            "right": 1 - r / w,
            "top": 1 - top / h,
            "bottom": bottom / h,
            "wspace": gap_w / aw,
            "hspace": m["hgap"] / ah,
        },
        **kwargs,
    )
    return fig, axes


def figure_legend(fig: Figure, axes: Iterable[Axes], fontsize: float = 8) -> None:
    """One legend row at the bottom of the figure from the first panel that has entries."""
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            fig.legend(
                handles,
                labels,
                loc="lower center",
                ncol=len(labels),
                fontsize=fontsize,
                frameon=False,
                bbox_to_anchor=(0.5, 0.0),
            )
            return


def _label(da: xr.DataArray, fallback: str = "") -> str:
    name = da.attrs.get("long_name", fallback or str(da.name))
    unit = da.attrs.get("units", "")
    return f"{name} ({unit})" if unit and unit != "1" else name


def _nodata(ax: Axes, text: str = "not recorded") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


SHORT = {
    "blood_heroin": "blood heroin",
    "blood_6mam": "blood 6-MAM",
    "blood_morphine": "blood morphine",
    "brain_6mam": "brain 6-MAM (effect site)",
    "brain_morphine": "brain morphine (effect site)",
    "agonist_occupancy": "agonist occupancy (CAR)",
    "activation": "MOR activation A",
    "ventilation": "alveolar ventilation (x rest)",
    "pao2": "arterial PO2 (mmHg)",
    "spo2": "SpO2 (fraction)",
    "effect_peak": "daily peak opioid effect",
    "withdrawal_peak": "daily peak withdrawal index",
}


def _small(ax: Axes, title: str) -> None:
    ax.set_title(title, fontsize=9.5)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.25)


# ----------------------------------------------------------------------- cohort
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


def nan_quantiles(x: np.ndarray, q: Iterable[float]) -> np.ndarray:
    """``np.nanquantile(x, q, axis=0)`` (linear method) of a 2-D array, all columns at once.

    numpy's nanquantile loops over the columns of an array with NaNs in Python
    (about 15 ms for 1,000 subjects x 150 times); one sort of the whole array,
    where NaNs go last, gives every column's order statistics at once. The
    virtual index ``(n - 1) q`` and the interpolation are numpy's
    ("linear", Hyndman and Fan's method 7), so the values are the same
    (tested against numpy). An all-NaN column gives NaN.
    """
    s = np.sort(np.asarray(x, dtype=float), axis=0)
    n = (~np.isnan(s)).sum(axis=0)  # values per column: they come first
    qs = np.asarray(list(q), dtype=float)[:, None]
    h = (n[None, :] - 1) * qs
    lo = np.floor(h)
    gamma = h - lo
    top = np.maximum(n - 1, 0)[None, :]
    i0 = np.clip(lo, 0, top).astype(np.int64)
    i1 = np.clip(lo + 1, 0, top).astype(np.int64)
    a = np.take_along_axis(s, i0, axis=0)
    b = np.take_along_axis(s, i1, axis=0)
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1.0 - gamma), out=out, where=gamma >= 0.5)
    out[:, n == 0] = np.nan
    return out


def median_band(
    ax: Axes,
    t: np.ndarray,
    x: np.ndarray,
    color: str,
    label: str,
    band: bool = True,
    band_label: str | None = None,
    alpha: float = 0.22,
    lw: float = 1.4,
) -> None:
    """Median and 5-95 % band over subjects (``x``: subject x time) on ``ax``."""
    with np.errstate(invalid="ignore"):  # infinite values interpolate to NaN, as in numpy
        q = nan_quantiles(x, (0.05, 0.5, 0.95))
    q[:, ~np.isfinite(x).any(axis=0)] = np.nan
    if band:
        ax.fill_between(t, q[0], q[2], color=color, alpha=alpha, lw=0, label=band_label)
    ax.plot(t, q[1], color=color, lw=lw, label=label)


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
        _small(ax, title)
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
    _small(ax, f"subjects alive (of {n})")
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
        _nodata(ax)
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
        _small(ax, title)
        ax.legend(fontsize=7, frameon=False)
        ax.set_xlabel(xlabel, fontsize=8)
    else:
        _small(ax, "overdose episodes per day")
        _nodata(ax, "no overdose episodes")
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


# ----------------------------------------------------------------------- panels
def pk_figure(ds: xr.Dataset) -> Figure:
    """Blood and brain concentrations after one dose by each route (log scale)."""
    names = [
        v
        for v in ("blood_heroin", "blood_6mam", "blood_morphine", "brain_6mam", "brain_morphine")
        if v in ds
    ]
    fig, axes = panel_grid((12, 6.4), 2, 3)
    axes = axes.ravel()
    t_min = ds["time"].values.astype(float)
    for ax, var in zip(axes, names, strict=False):
        _small(ax, SHORT.get(var, var))
        for k, route in enumerate(ds["route"].values):
            y = ds[var].sel(route=route).values.astype(float)
            ax.plot(
                t_min,
                np.where(y > 0, y, np.nan),
                color=COLORS[k % len(COLORS)],
                lw=1.3,
                label=str(route),
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        top = np.nanmax(ds[var].values) if np.isfinite(ds[var].values).any() else 1.0
        ax.set_ylim(max(top, 1.0) * 1e-3, max(top, 1.0) * 2.0)
        ax.set_xlim(0.8, t_min.max())
        ax.set_xlabel("minutes after the dose (log scale)", fontsize=8)
        ax.set_ylabel("nM", fontsize=8)
    for ax in axes[len(names) :]:
        ax.set_axis_off()
    handles, labels = axes[0].get_legend_handles_labels()
    axes[-1].legend(handles, labels, title="route", loc="center", frameon=False)
    return fig


def occupancy_figure(ds: xr.Dataset) -> Figure:
    """Occupancy and activation over time by route; equilibrium curves per ligand."""
    fig, axes = panel_grid((12, 3.8), 1, 3, wgap=0.75)
    axes = axes[0]
    t_h = ds["time"].values / 60.0
    for ax, var in zip(axes[:2], ("agonist_occupancy", "activation"), strict=True):
        _small(ax, SHORT.get(var, var))
        for k, route in enumerate(ds["route"].values):
            ax.plot(
                t_h,
                ds[var].sel(route=route),
                color=COLORS[k % len(COLORS)],
                lw=1.3,
                label=str(route),
            )
        ax.set_ylim(0, 1)
        ax.set_xlabel("hours after the dose", fontsize=8)
    axes[0].legend(fontsize=7, frameon=False, title="route", title_fontsize=7)
    ax = axes[2]
    _small(ax, "single ligand at equilibrium")
    if "occupancy_curve" in ds:
        c = ds["concentration"].values
        for k, lig in enumerate(ds["ligand"].values):
            col = COLORS[k % len(COLORS)]
            ax.plot(c, ds["occupancy_curve"].sel(ligand=lig), color=col, lw=1.3, label=str(lig))
            ax.plot(c, ds["activation_curve"].sel(ligand=lig), color=col, lw=1.0, ls="--")
        ax.set_xscale("log")
        ax.set_ylim(0, 1)
        ax.set_xlabel("effect-site concentration (nM)", fontsize=8)
        ax.set_ylabel("occupancy (solid), activation (dashed)", fontsize=8)
        ax.legend(fontsize=7, frameon=False)
    else:
        _nodata(ax)
    return fig


def camp_figure(ds: xr.Dataset, pathway=SIGNALLING_PATHWAY) -> Figure:
    """The pathway diagram beside the simulated cAMP, effect and withdrawal, acute vs chronic."""
    fig = Figure(figsize=(12, 8.8))
    grid = fig.add_gridspec(
        2,
        2,
        width_ratios=[1.0, 1.25],
        left=0.01,
        right=0.985,
        top=0.92,
        bottom=0.06,
        wspace=0.08,
        hspace=0.22,
    )
    t_h = ds["time"].values / 60.0
    titles = {"acute": "acute: first dose, drug-naive", "chronic": "chronic: day 30 (tolerant)"}
    ref = None
    for row, exp in enumerate(ds["exposure"].values):
        sub = ds.sel(exposure=exp)
        camp = sub["camp"].values.astype(float)
        notes = {"cAMP": f"simulated: {np.nanmin(camp):.2f}-{np.nanmax(camp):.2f} x naive"}
        if "withdrawal" in sub and np.nanmax(sub["withdrawal"].values) > 0:
            notes["withdrawal (overshoot)"] = f"peak index {np.nanmax(sub['withdrawal']):.2f}"
        draw_pathway(
            fig.add_subplot(grid[row, 0]), str(exp) == "chronic", pathway, notes, f"{exp} exposure"
        )
        ax = fig.add_subplot(grid[row, 1], sharey=ref, sharex=ref)
        ref = ref or ax
        _small(ax, titles.get(str(exp), str(exp)))
        for k, (var, lab) in enumerate(
            (
                ("camp", "cAMP (x naive drug-free)"),
                ("opioid_effect", "opioid effect"),
                ("withdrawal", "withdrawal index"),
                ("tolerance_shift", "tolerance 1 + U"),
            )
        ):
            if var in sub:
                ax.plot(
                    t_h,
                    sub[var],
                    color=COLORS[k],
                    lw=1.5,
                    label=lab,
                    ls=":" if var == "tolerance_shift" else "-",
                )
        ax.axvline(0, color="k", lw=0.8, ls="--")
        ax.axhline(1, color="grey", lw=0.6)
        ax.set_xlabel("hours relative to the dose", fontsize=8)
        ax.legend(fontsize=7, frameon=False, loc="center right")
    fig.suptitle(
        "mu-opioid receptor signalling under acute and chronic heroin exposure", fontsize=11
    )
    return fig


def tolerance_figure(ds: xr.Dataset) -> Figure:
    """Tolerance build-up during use and its loss in abstinence, with its two components."""
    fig, axes = panel_grid((12, 3.8), 1, 2)
    axes = axes[0]
    t = ds["time"].values
    stop = ds.attrs.get("stop_day")
    ax = axes[0]
    _small(ax, "AC superactivation (tolerance)")
    ax.plot(t, ds["tolerance_shift"], color="k", lw=1.8, label="1 + U")
    for k, var in enumerate(("u_fast", "u_slow")):
        if var in ds:
            ax.plot(t, 1.0 + ds[var], color=COLORS[k], lw=1.2, ls="--", label=f"1 + {var}")
    ax = axes[1]
    _small(ax, "daily peaks")
    for k, var in enumerate(("effect_peak", "withdrawal_peak")):
        if var in ds:
            ax.plot(t, ds[var], color=COLORS[k + 2], lw=1.4, label=SHORT.get(var, var))
    for ax in axes:
        if stop is not None:
            ax.axvline(float(stop), color="grey", ls=":", lw=1)
        ax.set_xlabel("day", fontsize=8)
        ax.legend(fontsize=7, frameon=False)
    return fig


def withdrawal_figure(ds: xr.Dataset) -> Figure:
    """Withdrawal after an abrupt stop and after naloxone: first 12 h, then 7 days."""
    fig, axes = panel_grid((12, 3.8), 1, 2, left=0.75, wgap=0.75)
    axes = axes[0]
    t = ds["time"].values
    for ax, (lo, hi, title) in zip(
        axes,
        ((-1, 12, "first 12 h (minute resolution)"), (0, t.max(), "7 days (hourly)")),
        strict=True,
    ):
        _small(ax, title)
        m = (t >= lo) & (t <= hi)
        for k, cond in enumerate(ds["condition"].values):
            ax.plot(
                t[m],
                ds["withdrawal"].sel(condition=cond).values[m],
                color=COLORS[k],
                lw=1.5,
                label=str(cond),
            )
        if "naloxone_time_h" in ds.attrs:
            ax.axvline(float(ds.attrs["naloxone_time_h"]), color=COLORS[1], ls=":", lw=1)
        ax.set_xlabel("hours after the last heroin dose", fontsize=8)
        ax.set_ylabel("withdrawal index", fontsize=8)
        ax.legend(fontsize=7, frameon=False)
    return fig


def respiration_figure(ds: xr.Dataset) -> Figure:
    """Ventilation, PaO2 and SpO2 after a dose, naive vs tolerant."""
    fig, axes = panel_grid((12, 3.8), 1, 3)
    axes = axes[0]
    t = ds["time"].values
    for ax, var in zip(axes, ("ventilation", "pao2", "spo2"), strict=True):
        _small(ax, SHORT.get(var, var))
        for k, cond in enumerate(ds["condition"].values):
            ax.plot(t, ds[var].sel(condition=cond), color=COLORS[k], lw=1.4, label=str(cond))
        ax.set_xlabel("minutes after the dose", fontsize=8)
    axes[1].axhline(60, color="grey", ls=":", lw=0.8)
    axes[1].axhline(40, color="red", ls=":", lw=0.8)
    axes[0].legend(fontsize=7, frameon=False)
    return fig


def overdose_figure(ds: xr.Dataset) -> Figure:
    """Probability of fatal and non-fatal overdose vs IV dose, by history."""
    fig, axes = panel_grid((8, 4.4), 1, 1, left=0.8, bottom=0.6)
    ax = axes[0, 0]
    dose = ds["dose"].values
    for k, hist in enumerate(ds["history"].values):
        sub = ds.sel(history=hist)
        col = COLORS[k % len(COLORS)]
        ax.plot(dose, sub["p_fatal"], color=col, lw=1.8, marker="o", ms=3.5, label=f"{hist}: fatal")
        if "p_fatal_low" in sub:
            ax.fill_between(
                dose, sub["p_fatal_low"], sub["p_fatal_high"], color=col, alpha=0.15, lw=0
            )
        if "p_nonfatal" in sub:
            ax.plot(dose, sub["p_nonfatal"], color=col, lw=1.1, ls="--", label=f"{hist}: non-fatal")
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("single IV heroin dose (mg)")
    ax.set_ylabel("probability")
    ax.grid(alpha=0.25)
    ax.legend(fontsize=7.5, frameon=False, ncol=1, loc="upper left")
    return fig


#: Panel name -> (section title, figure function).
FIGURES: dict[str, tuple[str, Callable[[xr.Dataset], Figure]]] = {
    "pk_by_route": ("Pharmacokinetics by route", pk_figure),
    "occupancy": ("Receptor occupancy and activation", occupancy_figure),
    "camp_acute_chronic": (
        "mu-opioid receptor signalling under acute and chronic heroin exposure",
        camp_figure,
    ),
    "tolerance": ("Tolerance: build-up and loss", tolerance_figure),
    "withdrawal": ("Withdrawal: abrupt stop and naloxone", withdrawal_figure),
    "respiration": ("Respiration around a dose", respiration_figure),
    "overdose_vs_dose": ("Overdose risk vs dose", overdose_figure),
}
