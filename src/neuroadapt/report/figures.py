"""Figures of the virtual experiments: PK, occupancy, cAMP, tolerance, withdrawal, respiration.

Every function takes the labelled dataset of one experiment
(:mod:`neuroadapt.experiments.panels`) and returns a
:class:`matplotlib.figure.Figure` built without pyplot; :data:`FIGURES` maps
each panel to its section title and function. The report caches these PNGs
(:mod:`neuroadapt.report.figcache`, whose key holds this module's bytes).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from neuroadapt.model.system import SIGNALLING_PATHWAY
from neuroadapt.report.diagram import draw_pathway
from neuroadapt.report.plotting import COLORS, no_data, panel_grid, style_panel

__all__ = [
    "FIGURES",
    "SHORT",
    "camp_figure",
    "occupancy_figure",
    "overdose_figure",
    "pk_figure",
    "respiration_figure",
    "tolerance_figure",
    "withdrawal_figure",
]

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
        style_panel(ax, SHORT.get(var, var))
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
        style_panel(ax, SHORT.get(var, var))
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
    style_panel(ax, "single ligand at equilibrium")
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
        no_data(ax)
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
        style_panel(ax, titles.get(str(exp), str(exp)))
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
    style_panel(ax, "AC superactivation (tolerance)")
    ax.plot(t, ds["tolerance_shift"], color="k", lw=1.8, label="1 + U")
    for k, var in enumerate(("u_fast", "u_slow")):
        if var in ds:
            ax.plot(t, 1.0 + ds[var], color=COLORS[k], lw=1.2, ls="--", label=f"1 + {var}")
    ax = axes[1]
    style_panel(ax, "daily peaks")
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
        style_panel(ax, title)
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
        style_panel(ax, SHORT.get(var, var))
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
