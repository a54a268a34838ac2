"""Figures of lab data, from the analysis tables (real or simulated sessions alike).

Each function takes a tidy table from :mod:`neuroadapt.analysis` and returns
a matplotlib :class:`~matplotlib.figure.Figure` built without pyplot (no
global state, no GUI backend; render with the Agg canvas, e.g.
:func:`neuroadapt.report.plotting.to_data_uri` or ``fig.savefig``); none
computes anything the analysis has not.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from neuroadapt.analysis import group_summary

__all__ = ["cumulative_records_figure", "group_means_figure", "sessions_over_days_figure"]


def cumulative_records_figure(
    record: pd.DataFrame, labels: dict[int, str] | None = None, title: str = "Cumulative record"
) -> Figure:
    """Step plot of cumulative counts over session time, one line per session.

    Parameters
    ----------
    record
        :func:`neuroadapt.analysis.cumulative_record` output.
    labels
        Legend label per session number (default ``session <n>``).
    """
    if record.empty:
        raise ValueError("no events to plot")
    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.subplots()
    for sid, r in record.groupby("session"):
        t = [0.0, *(r["time_s"] / 60.0)]
        n = [0, *r["count"]]
        ax.step(t, n, where="post", label=(labels or {}).get(sid, f"session {sid}"))
    ax.set(xlabel="time in session (min)", ylabel="cumulative count", title=title)
    if record["session"].nunique() <= 12:
        ax.legend(fontsize="small", frameon=False)
    return fig


def sessions_over_days_figure(
    daily: pd.DataFrame, value: str, day: str = "day", group: str = "group", ylabel: str = ""
) -> Figure:
    """Group mean ± SEM of ``value`` for each day (e.g. infusions across acquisition)."""
    if daily.empty:
        raise ValueError("no sessions to plot")
    summary = group_summary(daily, value, [group, day])
    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.subplots()
    for name, s in summary.groupby(group, sort=True):
        ax.errorbar(s[day], s["mean"], yerr=s["sem"], marker="o", capsize=3, label=str(name))
    ax.set(xlabel=day, ylabel=ylabel or value, title=f"{ylabel or value} over {day}s (mean ± SEM)")
    ax.legend(fontsize="small", frameon=False)
    return fig


def group_means_figure(
    table: pd.DataFrame, value: str, group: str = "group", ylabel: str = ""
) -> Figure:
    """Bar of group mean ± SEM with each subject as a point."""
    if table.empty:
        raise ValueError("nothing to plot")
    summary = group_summary(table, value, group)
    fig = Figure(figsize=(4, 3.5), layout="constrained")
    ax = fig.subplots()
    x = range(len(summary))
    ax.bar(x, summary["mean"], yerr=summary["sem"], capsize=4, color="0.8", edgecolor="0.3")
    for i, name in enumerate(summary[group]):
        ys = table.loc[table[group] == name, value]
        ax.plot([i] * len(ys), ys, "o", color="0.2", markersize=4)
    ax.set_xticks(list(x), [str(g) for g in summary[group]])
    ax.set(ylabel=ylabel or value, title=f"{ylabel or value} (mean ± SEM)")
    return fig
