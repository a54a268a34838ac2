"""The HTML report: its sections assembled into one self-contained file from data handed in.

:func:`build_report` never simulates. It draws the cohort and the panels
(:mod:`neuroadapt.experiments.panels`), takes the methods paragraph
(:mod:`neuroadapt.report.methods`) and the reference list
(:mod:`neuroadapt.report.references`) from the parameters and calibration
rows actually used, and writes the file atomically (a temporary file in the
same folder, then :func:`os.replace`).
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from neuroadapt import __version__
from neuroadapt.atomic import write_text
from neuroadapt.engine.workers import default_workers, local_pool
from neuroadapt.experiments.lifecourse import recovering as recovery_group
from neuroadapt.experiments.lifecourse import study_arms
from neuroadapt.parameters import ParameterSet
from neuroadapt.report.behaviour import behaviour_section
from neuroadapt.report.brain import BRAIN_HEADINGS, brain_sections
from neuroadapt.report.cohort import cohort_figure, cohort_summary, episode_table, not_recorded
from neuroadapt.report.diagram import structure_png
from neuroadapt.report.figcache import cached_png
from neuroadapt.report.figures import FIGURES
from neuroadapt.report.limitations import (
    DEFAULT_LIMITATIONS,
    LIFECOURSE_LIMITATIONS,
    SCHEDULED_LIMITATIONS,
)
from neuroadapt.report.methods import methods_paragraph, regimen_text
from neuroadapt.report.plotting import to_data_uri
from neuroadapt.report.references import References
from neuroadapt.report.rendering import deferred_figures

__all__ = [
    "DEFAULT_LIMITATIONS",
    "LIFECOURSE_LIMITATIONS",
    "SCHEDULED_LIMITATIONS",
    "SECTION_HEADINGS",
    "VERDICTS",
    "Section",
    "build_report",
    "overrides_warning",
    "render_report",
]

VERDICTS: tuple[str, ...] = ("pass", "miss", "explained miss", "conflict")

#: Sections before the panel figures: ``(id, title)``.
FRONT_SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("cohort", "Cohort results"),
    ("model-structure", "Model structure"),
)
#: Sections after the brain (and behaviour) sections: ``(id, title)``.
BACK_SECTIONS: tuple[tuple[str, str], ...] = (
    ("methods", "Methods"),
    ("calibration", "Calibration against the literature"),
    ("limitations", "What this model cannot do"),
    ("parameters", "Parameters"),
    ("references", "References"),
    ("assumptions", "Assumptions"),
    ("provenance", "Provenance"),
)
#: Headings every report has, in order (a life course adds its behaviour section
#: after the brain sections).
SECTION_HEADINGS: tuple[str, ...] = (
    *(title for _, title in FRONT_SECTIONS),
    *(title for title, _ in FIGURES.values()),
    *BRAIN_HEADINGS,
    *(title for _, title in BACK_SECTIONS),
)
#: How the template renders a section's body.
SECTION_KINDS: frozenset[str] = frozenset(
    {
        "summary",
        "cohort",
        "model",
        "figure",
        "blocks",
        "methods",
        "calibration",
        "limitations",
        "parameters",
        "references",
        "assumptions",
        "provenance",
    }
)


@dataclass(frozen=True)
class Section:
    """One section of the report: its anchor, its heading and the body drawn under it.

    The table of contents and the sections are both drawn from one list of
    these, so a heading cannot drift away from its content.
    """

    id: str
    title: str
    kind: str
    body: Any

    def __post_init__(self) -> None:
        if self.kind not in SECTION_KINDS:
            raise ValueError(f"section {self.id!r}: kind {self.kind!r} is not one of SECTION_KINDS")
        if not self.title.strip():
            raise ValueError(f"section {self.id!r} has an empty title")


# ------------------------------------------------------------------ rendering
def frame_rows(df: pd.DataFrame, digits: int) -> list[list[Any]]:
    """A data frame's rows for a template table, floats to ``digits`` significant digits."""
    return [
        [f"{v:.{digits}g}" if isinstance(v, float | np.floating) else v for v in rec]
        for rec in df.itertuples(index=False)
    ]


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("neuroadapt.report", "templates"),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )


def _fmt(x: Any) -> str:
    if isinstance(x, float | np.floating):
        return f"{x:.4g}"
    return "" if x is None else str(x)


def overrides_warning(overrides: Sequence[Mapping[str, Any]], whole_report: bool = True) -> str:
    """The report's notice of a run's parameter overrides (empty without any).

    ``whole_report`` adds what the scenario report's other sections use (the
    calibration section the shipped parameters, the figure experiments these).
    """
    if not overrides:
        return ""
    items = [
        f"{o['name']} = {o['value']:g} {o['unit']} (shipped {o['table_value']:g}"
        + (", fitted" if o.get("fitted") else "")
        + ")"
        for o in overrides
    ]
    n = len(items)
    return (
        f"This run overrides {n} parameter{'s' if n > 1 else ''} of the shipped table: "
        f"{'; '.join(items)}. Its numbers can move away from the shipped calibration"
        + (
            ": the calibration section evaluates the shipped parameters, not these; the "
            "figure experiments use these."
            if whole_report
            else "."
        )
    )


def _figures_in_workers(render: Callable[..., str]) -> Callable[..., str]:
    """Draw the report's figures in the worker processes while it is assembled.

    See :mod:`neuroadapt.report.rendering`; without worker processes every
    figure is drawn here, as before.
    """

    @functools.wraps(render)
    def wrapper(**content: Any) -> str:
        with deferred_figures(local_pool(default_workers())) as batch:
            return batch.resolve(render(**content))

    return wrapper


@_figures_in_workers
def render_report(
    *,
    scenario: Any,
    cohort: xr.Dataset,
    episodes: pd.DataFrame,
    panels: Mapping[str, xr.Dataset],
    calibration: Sequence[Mapping[str, Any]],
    params: ParameterSet,
    provenance: Mapping[str, Any],
    limitations: Iterable[str] | None = None,
    controls: xr.Dataset | None = None,
    lifecourse: Mapping[str, Any] | None = None,
) -> str:
    """Render the report to an HTML string (:func:`build_report` writes it to a file).

    Parameters
    ----------
    scenario
        The :class:`~neuroadapt.scenarios.Scenario` that was run.
    cohort
        Engine dataset (dimensions ``subject`` x ``time`` in days), with the brain-scale
        variables (``<module>_<name>``) when the run integrated them.
    episodes
        Overdose episode table from the engine.
    panels
        Datasets from :func:`neuroadapt.experiments.panels.compute_panels`; a
        missing panel is reported as not computed.
    calibration
        Rows with keys ``id, scale, species, quantity, literature, model, unit,
        status, verdict, note, source, ref``.
    params
        The parameter set used.
    provenance
        Free key-value pairs (``version`` and ``date`` override the defaults).
    limitations
        Sentences for "What this model cannot do" (default :data:`DEFAULT_LIMITATIONS`
        and :data:`LIFECOURSE_LIMITATIONS` or :data:`SCHEDULED_LIMITATIONS`).
    controls
        Dataset of the matched drug-free controls (same brain variables as ``cohort``),
        or None; the brain sections then compare users with the matched-control value.
    lifecourse
        For scenarios whose people decide their own use: ``use_days`` and the
        run's ``subjects``, ``survival`` and ``clinical`` tables (adds the
        behaviour section; recovery is read from detoxified non-relapsers).

    Returns
    -------
    str
        The HTML document.
    """
    refs = References()
    cohort_cfg = getattr(scenario, "cohort", None)
    methods = methods_paragraph(params, refs, getattr(cohort_cfg, "variability", None))
    param_rows = [
        {
            **r,
            "value": _fmt(r["value"]),
            "cv": _fmt(r["cv"]),
            "fitted": "yes" if r["fitted"] else "no",
            "cite": refs.marker(str(r["source"]), str(r["name"])),
        }
        for r in params.to_rows()
    ]
    cal_rows = []
    for row in calibration:
        src = ", ".join(str(row.get(k, "")).strip() for k in ("source", "ref") if row.get(k))
        cal_rows.append(
            {
                **{k: _fmt(v) for k, v in row.items()},
                "cite": refs.marker(src, str(row.get("id", ""))) if src else "",
            }
        )
    counts = Counter(str(r.get("verdict", "")) for r in calibration)
    verdict_counts = [(v, counts.get(v, 0)) for v in VERDICTS] + sorted(
        (v, c) for v, c in counts.items() if v not in VERDICTS
    )
    status_counts = sorted(Counter(str(r.get("status", "")) for r in calibration).items())
    figures = []
    for name, (title, func) in FIGURES.items():
        ds = panels.get(name)
        figures.append(
            Section(
                name,
                title,
                "figure",
                {
                    "img": (
                        cached_png(name, lambda func=func, ds=ds: func(ds), ds)
                        if ds is not None
                        else None
                    ),
                    "description": ds.attrs.get("description", "") if ds is not None else "",
                },
            )
        )
    anchor = "#camp_acute_chronic" if panels.get("camp_acute_chronic") is not None else None
    life = dict(lifecourse or {})
    end, arms, recovering = None, None, None
    if life:
        end = float(life["use_days"])
        arms = study_arms(cohort, life["subjects"], end)
        recovering = recovery_group(cohort, arms)
    brain = brain_sections(
        cohort,
        controls,
        calibration,
        params,
        cite=lambda src, user: refs.marker(src, user),
        pathway_anchor=anchor,
        end=end,
        arms=arms,
        recovering=recovering,
    )
    if life:
        brain.append(
            {
                "id": "behaviour",
                **behaviour_section(
                    cohort,
                    episodes,
                    life.get("survival"),
                    life.get("clinical"),
                    calibration,
                    float(life["use_days"]),
                    cite=lambda src, user: refs.marker(src, user),
                    discharge_day=life.get("discharge_day"),
                    mortality=life.get("mortality"),
                    deaths_by_year=life.get("deaths_by_year"),
                    subjects=life.get("subjects"),
                ),
            }
        )
    for sec in brain:
        for block in sec["blocks"]:
            if block["kind"] == "html":
                block["text"] = Markup(block["text"])
    warnings = []
    p_hash = params.hash()
    for label, ds in [("cohort", cohort), *panels.items()]:
        h = ds.attrs.get("parameter_hash")
        if h and h != p_hash:
            warnings.append(f"{label} was simulated with parameter set {h}, not {p_hash}.")
    override_note = overrides_warning(provenance.get("parameter_overrides") or [])
    if override_note:
        warnings.append(override_note)
    prov = {
        "version": provenance.get("version", __version__),
        "date": provenance.get("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        "parameter hash": p_hash,
        **{k: _fmt(v) for k, v in provenance.items() if k not in ("version", "date")},
    }
    missing = not_recorded(cohort)
    cohort_desc = " ".join(
        [
            "Median and 5-95% band over subjects (dead subjects drop out) of the recorded "
            "read-outs of the simulated cohort; the share of the cohort alive; overdose "
            "episodes by outcome.",
            *missing,
        ]
    )
    body = {
        "summary": ("summary", {"rows": cohort_summary(cohort, episodes), "notes": missing}),
        "cohort": (
            "cohort",
            {
                "img": to_data_uri(cohort_figure(cohort, episodes)),
                "description": cohort_desc,
                "episode_rows": episode_table(episodes),
            },
        ),
        "model-structure": ("model", {"img": structure_png()}),
        "methods": ("methods", methods),
        "calibration": (
            "calibration",
            {
                "rows": cal_rows,
                "verdict_counts": verdict_counts,
                "status_counts": status_counts,
            },
        ),
        "limitations": (
            "limitations",
            list(
                (
                    *DEFAULT_LIMITATIONS,
                    *(LIFECOURSE_LIMITATIONS if lifecourse else SCHEDULED_LIMITATIONS),
                )
                if limitations is None
                else limitations
            ),
        ),
        "parameters": ("parameters", param_rows),
        "references": ("references", refs.entries()),
        "assumptions": ("assumptions", refs.assumptions()),
        "provenance": ("provenance", prov),
    }
    sections = [
        *(Section(i, t, *body[i]) for i, t in FRONT_SECTIONS),
        *figures,
        *(Section(sec["id"], sec["title"], "blocks", sec["blocks"]) for sec in brain),
        *(Section(i, t, *body[i]) for i, t in BACK_SECTIONS),
    ]
    ids = [sec.id for sec in sections]
    if len(set(ids)) != len(ids):
        raise ValueError(f"section ids are not unique: {ids}")
    return (
        _environment()
        .get_template("report.html")
        .render(
            scenario_name=getattr(scenario, "name", str(scenario)),
            description=getattr(scenario, "description", ""),
            regimen=regimen_text(scenario),
            subjects=int(cohort.sizes.get("subject", 0)),
            seed=getattr(scenario, "seed", cohort.attrs.get("seed", "")),
            species=params.species,
            provenance=prov,
            warnings=warnings,
            sections=sections,
        )
    )


def build_report(path: str | os.PathLike[str], **content: Any) -> Path:
    """Write the self-contained HTML report atomically.

    Parameters
    ----------
    path
        Output file.
    **content
        The keyword arguments of :func:`render_report`.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    return write_text(path, render_report(**content))
