"""Report of a rat-lab experiment, from its files: the same analysis as for real lab data.

:func:`analyse_lab_files` reads back the MED-PC files (profile
``neuroadapt-sa``) and the place-preference zone table that an experiment
wrote, and runs :mod:`neuroadapt.analysis` on them exactly as on files from
a real laboratory: the phase of a session comes from its program name
(``MSN``), the day from its start date, the group from its header.
:func:`write_lab_report` draws the figures with :mod:`neuroadapt.report.lab`
(cumulative records, sessions over days, group means ± SEM; responses and
intake against unit dose when sessions carry a within-session unit-dose
schedule, arrays I-L), writes the tables and one self-contained HTML page.
Nothing here simulates.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.figure import Figure

from neuroadapt import __version__
from neuroadapt.analysis import (
    breakpoints,
    compare_groups,
    component_metrics,
    component_table,
    cpp_scores,
    cumulative_record,
    extinction_criterion,
    reinstatement,
    session_metrics,
)
from neuroadapt.atomic import write_text, write_with
from neuroadapt.experiments.ratlab import medpc_data_files
from neuroadapt.io.medpc import events_table, load_profile, read_medpc, sessions_table
from neuroadapt.io.medpc.zones import read_zone_table
from neuroadapt.report.html import frame_rows
from neuroadapt.report.lab import (
    cumulative_records_figure,
    group_means_figure,
    sessions_over_days_figure,
)
from neuroadapt.report.plotting import to_data_uri

__all__ = ["LabAnalysis", "analyse_lab_files", "phase_of_msn", "write_lab_report"]

PROFILE = "neuroadapt-sa"


def phase_of_msn(msn: str) -> tuple[str, str]:
    """Phase (as the analysis names it) and test label of a ``neuroadapt-sa`` program name.

    >>> phase_of_msn("neuroadapt_REIN_cue"), phase_of_msn("neuroadapt_SA_FR5")
    (('reinstatement', 'cue'), ('self_administration', 'FR5'))
    """
    msn = msn or ""
    if msn.startswith("neuroadapt_SA_NLX"):
        return "naloxone_test", "naloxone"
    if msn.startswith("neuroadapt_SA"):
        return "self_administration", msn.removeprefix("neuroadapt_SA_")
    if msn.startswith("neuroadapt_PR"):
        return "progressive_ratio", "PR"
    if msn.startswith("neuroadapt_EXT"):
        return "extinction", "extinction"
    if msn.startswith("neuroadapt_REIN"):
        return "reinstatement", msn.removeprefix("neuroadapt_REIN_")
    return "unknown", msn


@dataclass
class LabAnalysis:
    """Tables from the analysis of an experiment's files."""

    events: pd.DataFrame
    daily: pd.DataFrame
    breakpoints: pd.DataFrame = field(default_factory=pd.DataFrame)
    extinction: pd.DataFrame = field(default_factory=pd.DataFrame)
    reinstatement: pd.DataFrame = field(default_factory=pd.DataFrame)
    cpp: pd.DataFrame = field(default_factory=pd.DataFrame)
    withdrawal: pd.DataFrame = field(default_factory=pd.DataFrame)
    components: pd.DataFrame = field(default_factory=pd.DataFrame)
    statistics: pd.DataFrame = field(default_factory=pd.DataFrame)
    files: list[str] = field(default_factory=list)


def _comparable(table: pd.DataFrame, value: str) -> bool:
    """Whether :func:`compare_groups` can test ``value`` (two groups or more, two values each)."""
    n = table.dropna(subset=[value]).groupby("group").size()
    return len(n) > 1 and int(n.min()) >= 2


def analyse_lab_files(
    directory: str | os.PathLike[str], extinction_fraction: float = 0.25
) -> LabAnalysis:
    """Analyse the MED-PC files and zone table an experiment wrote to ``directory``.

    ``extinction_fraction`` is the criterion's share of the training baseline
    (``neuroadapt.analysis.extinction_criterion``).
    """
    d = Path(directory)
    profile = load_profile(PROFILE)
    events, sessions, components = [], [], []
    first = 0
    files = medpc_data_files(d)  # either layout
    for path in files:
        f = read_medpc(path)
        events.append(events_table(f.sessions, profile, first=first))
        sessions.append(sessions_table(f.sessions, profile, first=first))
        components.append(component_table(f.sessions, first=first))
        first += len(f)
    out = LabAnalysis(events=pd.DataFrame(), daily=pd.DataFrame())
    out.files = [str(p.relative_to(d)) for p in files]
    stats = []
    if events:
        ev = pd.concat(events, ignore_index=True)
        st = pd.concat(sessions, ignore_index=True)
        daily = session_metrics(ev, st)
        phases = daily["msn"].map(phase_of_msn)
        daily["phase"] = [p for p, _ in phases]
        daily["label"] = [lab for _, lab in phases]
        t0 = pd.to_datetime(daily["start"]).min()
        daily["day"] = (pd.to_datetime(daily["start"]) - t0).dt.days
        out.events, out.daily = ev, daily
        comp = pd.concat(components, ignore_index=True)
        if len(comp):
            out.components = daily[["session", "subject", "group", "day", "label"]].merge(
                component_metrics(ev, comp), on="session"
            )
        pr = daily[daily["phase"] == "progressive_ratio"]
        if len(pr):
            bp = breakpoints(ev[ev["session"].isin(pr["session"])])
            out.breakpoints = pr[
                ["session", "subject", "group", "day", "unit_dose_ug_per_kg"]
            ].merge(bp, on="session")
        if (daily["phase"] == "extinction").any():
            out.extinction = extinction_criterion(daily, fraction=extinction_fraction).merge(
                daily[["subject", "group"]].drop_duplicates(), on="subject"
            )
        tests = daily[daily["phase"] == "reinstatement"]
        rows = []
        for label in sorted(tests["label"].unique()):
            keep = (daily["phase"] != "reinstatement") | (daily["label"] == label)
            r = reinstatement(daily[keep])
            r["test"] = r["test"].astype(float)
            rows.append(r.assign(cue=label).rename(columns={"test": "test_presses", "cue": "test"}))
        if rows:
            out.reinstatement = pd.concat(rows, ignore_index=True).merge(
                daily[["subject", "group"]].drop_duplicates(), on="subject"
            )
        sa = daily[daily["phase"] == "self_administration"]
        last = sa[sa["day"] == sa.groupby("subject")["day"].transform("max")]
        for measure in ("infusions", "first_hour_infusions"):
            if _comparable(last, measure):
                stats.append(compare_groups(last, measure).assign(note="last session"))
    zpath = d / "cpp_zones.csv"
    if zpath.is_file():
        zones = read_zone_table(zpath)
        out.files.append("cpp_zones.csv")
        frames = []
        for phase in [p for p in zones["phase"].unique() if p != "pre"]:
            s = cpp_scores(zones, pre="pre", post=phase)
            frames.append(s.assign(test=phase))
        if frames:
            out.cpp = pd.concat(frames, ignore_index=True)
            post = out.cpp[out.cpp["test"] == "post"]
            if _comparable(post, "post_minus_pre_s"):
                stats.append(compare_groups(post, "post_minus_pre_s").assign(note="post-test"))
    wpath = d / "tables" / "withdrawal.csv"
    if wpath.is_file():
        out.withdrawal = pd.read_csv(wpath)
        out.files.append("tables/withdrawal.csv")
        w = out.withdrawal
        if _comparable(w, "withdrawal_peak_naloxone"):
            stats.append(compare_groups(w, "withdrawal_peak_naloxone").assign(note="naloxone"))
    if stats:
        out.statistics = pd.concat(stats, ignore_index=True)
    return out


def _table(df: pd.DataFrame, caption: str, digits: int = 3, limit: int = 60) -> dict[str, Any]:
    shown = df.head(limit)
    rows = frame_rows(shown, digits)
    more = f" (first {limit} of {len(df)} rows)" if len(df) > limit else ""
    return {"caption": caption + more, "columns": list(shown.columns), "rows": rows}


def _fig(fig: Figure, caption: str) -> dict[str, str]:
    return {"uri": to_data_uri(fig), "caption": caption}


def _operant_sections(a: LabAnalysis, fraction: float) -> list[dict[str, Any]]:
    sections = []
    daily = a.daily
    sa = daily[daily["phase"].isin(["self_administration", "naloxone_test"])]
    figs = []
    if len(sa):
        figs.append(
            _fig(
                sessions_over_days_figure(sa, "infusions", ylabel="infusions"),
                "Infusions per session",
            )
        )
        figs.append(
            _fig(
                sessions_over_days_figure(
                    sa, "first_hour_infusions", ylabel="first-hour infusions"
                ),
                "Infusions in the first hour (load-up; Ahmed & Koob 1998)",
            )
        )
    figs.append(
        _fig(
            sessions_over_days_figure(daily, "active_presses", ylabel="active presses"),
            "Active-lever presses in every operant session (all phases)",
        )
    )
    picks = []
    for _, g in daily.groupby("group", sort=True):
        subj = g["subject"].iloc[0]
        mine = g[g["subject"] == subj]
        sa_s = mine[mine["phase"] == "self_administration"]["session"]
        if len(sa_s):
            picks += [int(sa_s.iloc[0]), int(sa_s.iloc[-1])]
    if picks:
        rec = cumulative_record(a.events[a.events["session"].isin(picks)], role="infusion")
        labels = {
            int(r.session): f"{r.subject} ({r.group}) day {r.day}"
            for r in daily[daily["session"].isin(picks)].itertuples()
        }
        if len(rec):
            figs.append(
                _fig(
                    cumulative_records_figure(rec, labels, title="Cumulative infusions"),
                    "Cumulative records: first and last self-administration session of one rat "
                    "per group",
                )
            )
    cols = [
        "subject",
        "group",
        "day",
        "phase",
        "label",
        "infusions",
        "active_presses",
        "inactive_presses",
        "timeout_presses",
        "percent_active",
        "latency_first_press_s",
        "first_hour_infusions",
    ]
    summary = (
        daily.groupby(["group", "phase", "label"], sort=False)[
            [
                "infusions",
                "active_presses",
                "inactive_presses",
                "timeout_presses",
                "first_hour_infusions",
            ]
        ]
        .mean()
        .reset_index()
    )
    sections.append(
        {
            "title": "Operant sessions",
            "text": f"{len(daily)} sessions of {daily['subject'].nunique()} rats read back from "
            f"the MED-PC files (profile {PROFILE}).",
            "figures": figs,
            "tables": [
                _table(summary, "Group means per phase"),
                _table(daily[cols], "Sessions (one row per rat and session)"),
            ],
        }
    )
    extra = []
    if len(a.breakpoints):
        extra.append(
            {
                "title": "Progressive ratio",
                "text": "Breakpoint: the last ratio completed (Richardson & Roberts 1996 series) "
                "before no infusion within the 1-h limited hold.",
                "figures": [
                    _fig(
                        group_means_figure(
                            a.breakpoints.assign(
                                dose=a.breakpoints["unit_dose_ug_per_kg"].map("{:g} µg/kg".format)
                            ),
                            "breakpoint",
                            group="dose",
                        ),
                        "Breakpoint by unit dose (mean ± SEM, rats as points)",
                    )
                ],
                "tables": [_table(a.breakpoints, "Breakpoints per session")],
            }
        )
    if len(a.extinction):
        extra.append(
            {
                "title": "Extinction",
                "text": "Criterion: 2 consecutive sessions with active presses at or below "
                f"{100 * fraction:g} % of the mean of the last 3 self-administration sessions.",
                "figures": [],
                "tables": [_table(a.extinction, "Extinction criterion per rat")],
            }
        )
    if len(a.reinstatement):
        extra.append(
            {
                "title": "Reinstatement",
                "text": "Test active presses against the mean of the last 3 extinction sessions "
                "(no baseline, NaN, when the protocol has no extinction, as in incubation).",
                "figures": [
                    _fig(
                        group_means_figure(a.reinstatement, "test_presses", group="group"),
                        "Active presses in the test (mean ± SEM)",
                    ),
                ],
                "tables": [_table(a.reinstatement, "Reinstatement per rat")],
            }
        )
    return sections + extra


def _component_section(c: pd.DataFrame) -> dict[str, Any]:
    """Responses and intake against unit dose: each rat's mean over sessions, group mean ± SEM."""
    per_rat = (
        c.groupby(["group", "subject", "unit_dose_ug_per_kg"])[
            ["active_presses", "infusions", "intake_ug_per_kg"]
        ]
        .mean()
        .reset_index()
    )
    figs = []
    for value, ylabel in (
        ("active_presses", "active presses per component"),
        ("intake_ug_per_kg", "intake per component (µg/kg)"),
    ):
        fig = sessions_over_days_figure(per_rat, value, day="unit_dose_ug_per_kg", ylabel=ylabel)
        ax = fig.axes[0]
        ax.set(
            xscale="log",
            xlabel="unit dose (µg/kg/infusion)",
            title=f"{ylabel} (mean ± SEM over rats)",
        )
        doses = sorted(per_rat["unit_dose_ug_per_kg"].unique())
        ax.set_xticks(doses, [f"{d:g}" for d in doses])
        ax.minorticks_off()
        figs.append(_fig(fig, f"Within-session dose-response: {ylabel}"))
    n = c.groupby("session").size()
    return {
        "title": "Within-session unit-dose dose-response",
        "text": f"{len(n)} sessions with a within-session unit-dose schedule ({int(n.max())} "
        "components; MED-PC arrays I-L). Each event is assigned to the component with start "
        "<= t < end; intake = infusions x the component's unit dose. Each rat's components are "
        "averaged over its sessions, then rats are averaged per unit dose.",
        "figures": figs,
        "tables": [
            _table(per_rat, "Per rat and unit dose (mean over sessions)"),
            _table(c, "Per session and component"),
        ],
    }


def write_lab_report(
    directory: str | os.PathLike[str],
    title: str,
    description: str = "",
    methods: str = "",
    extinction_fraction: float = 0.25,
) -> Path:
    """Analyse an experiment's files, write ``tables/analysis_*.csv`` and ``report.html``."""
    d = Path(directory)
    a = analyse_lab_files(d, extinction_fraction)
    tables = d / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    sections: list[dict[str, Any]] = []
    written = {
        "sessions": a.daily,
        "breakpoints": a.breakpoints,
        "extinction": a.extinction,
        "reinstatement": a.reinstatement,
        "cpp_scores": a.cpp,
        "components": a.components,
        "statistics": a.statistics,
    }
    for name, t in written.items():
        if len(t):
            write_with(tables / f"analysis_{name}.csv", lambda tmp, t=t: t.to_csv(tmp, index=False))
            a.files.append(f"tables/analysis_{name}.csv")
    if len(a.daily):
        sections += _operant_sections(a, extinction_fraction)
    if len(a.components):
        sections.append(_component_section(a.components))
    if len(a.withdrawal):
        sections.append(
            {
                "title": "Naloxone-precipitated withdrawal",
                "text": "Peak withdrawal index (normalised cAMP overshoot) in the hour after "
                "naloxone s.c. given at the end of the session; signs are scored present at "
                "or above the threshold of the parameter table (withdrawal_sign_threshold).",
                "figures": [
                    _fig(
                        group_means_figure(a.withdrawal, "withdrawal_peak_naloxone"),
                        "Peak withdrawal after naloxone (mean ± SEM)",
                    )
                ],
                "tables": [_table(a.withdrawal, "Withdrawal tests")],
            }
        )
    if len(a.cpp):
        figs = [
            _fig(
                group_means_figure(a.cpp[a.cpp["test"] == t], "post_minus_pre_s"),
                f"CPP score ({t} minus pre-test time on the drug-paired side, mean ± SEM)",
            )
            for t in a.cpp["test"].unique()
        ]
        sections.append(
            {
                "title": "Conditioned place preference",
                "text": "Scores from the time-in-zone table (cpp_zones.csv); the four common "
                "definitions are in the table.",
                "figures": figs,
                "tables": [_table(a.cpp, "CPP scores per rat and test")],
            }
        )
    if len(a.statistics):
        sections.append(
            {
                "title": "Group statistics",
                "text": "Each row names its test (neuroadapt.analysis.stats).",
                "figures": [],
                "tables": [_table(a.statistics, "Tests")],
            }
        )
    env = Environment(
        loader=PackageLoader("neuroadapt.report", "templates"), autoescape=select_autoescape()
    )
    page = env.get_template("ratlab.html").render(
        title=title,
        description=description,
        methods=methods,
        version=__version__,
        sections=sections,
        files=[html.unescape(f) for f in a.files],
    )
    return write_text(d / "report.html", page)
