"""The HTML report: one self-contained file written from data handed in.

:func:`build_report` never simulates. It draws the cohort and the panels
(:mod:`neuroadapt.experiments.panels`), writes the methods paragraph and the
reference list from the parameters and calibration rows actually used, and
writes the file atomically (a temporary file in the same folder, then
:func:`os.replace`).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from neuroadapt import __version__
from neuroadapt.atomic import write_text
from neuroadapt.experiments.lifecourse import recovering as recovery_group
from neuroadapt.experiments.lifecourse import study_arms
from neuroadapt.parameters import ParameterSet
from neuroadapt.report.behaviour import behaviour_section
from neuroadapt.report.brain import BRAIN_HEADINGS, brain_sections
from neuroadapt.report.diagram import structure_png
from neuroadapt.report.figcache import cached_png
from neuroadapt.report.figures import (
    FIGURES,
    cohort_figure,
    cohort_summary,
    episode_table,
    not_recorded,
    to_data_uri,
)
from neuroadapt.report.limitations import (
    DEFAULT_LIMITATIONS,
    LIFECOURSE_LIMITATIONS,
    SCHEDULED_LIMITATIONS,
)

__all__ = [
    "DEFAULT_LIMITATIONS",
    "LIFECOURSE_LIMITATIONS",
    "SCHEDULED_LIMITATIONS",
    "SECTION_HEADINGS",
    "VERDICTS",
    "References",
    "Section",
    "build_report",
    "methods_paragraph",
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


# ------------------------------------------------------------------ references
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
#: Identifiers of a cited work and where they link to (in the reference list only).
_LINKS = (
    (re.compile(r"doi:\s*(10\.\S+?)(?=[,;)\s]|$)", re.I), "https://doi.org/{}"),
    (re.compile(r"PMID:\s*(\d+)"), "https://pubmed.ncbi.nlm.nih.gov/{}/"),
    (re.compile(r"\b(PMC\d+)"), "https://www.ncbi.nlm.nih.gov/pmc/articles/{}/"),
)


def _split_top(text: str, sep: str = ";") -> list[str]:
    """Split on ``sep`` outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return [p.strip() for p in [*out, cur] if p.strip()]


def _parenthesised(text: str) -> list[str]:
    """Contents of the top-level parenthesised groups."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i + 1
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0:
                out.append(text[start:i])
    return out


_AUTHOR = r"[A-Z](?:[^\W\d_]|['\-])+(?:/[A-Z](?:[^\W\d_]|['\-])+)?"
_CITE = re.compile(
    rf"{_AUTHOR}(?: [A-Z]{{1,3}})?(?: et al\.?| (?:&|and) {_AUTHOR}(?: [A-Z]{{1,3}})?)?"
    r",? (?:19|20)\d{2}\b[^;]*"
)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _strip_note(text: str) -> str:
    i = text.find(" (")
    return text[:i].strip() if i > 0 else text.strip()


def _embedded(text: str) -> list[str]:
    """Author-year citations inside the parenthesised groups of ``text``."""
    out = []
    for group in _parenthesised(text):
        for piece in _split_top(group):
            m = _CITE.search(piece)
            if m:
                out.append(_strip_note(piece[m.start() :]))
    return out


def _citations(source: str) -> list[str]:
    """The works a parameter or target source cites (empty for a bare assumption)."""
    source = source.strip()
    lowered = source.lower()
    if lowered.startswith("standard"):
        return [_strip_note(c) for g in _parenthesised(source) for c in _split_top(g)]
    if lowered.startswith(("assumption", "fitted")):
        return _embedded(source)
    out = []
    for piece in _split_top(source):
        out.append(_strip_note(piece))
        out.extend(_embedded(piece))
    return out


def _keys(citation: str) -> set[str]:
    """Identities of a cited work: DOI, PMID, PMC id and first author + year."""
    if citation.lower().startswith("pubchem"):
        return {"pubchem"}
    keys = {f"id:{m.group(1).lower()}" for rx, _ in _LINKS for m in rx.finditer(citation)}
    text = _ascii(citation)
    year = _YEAR.search(text)
    first = text.split()[0].strip(",").lower()
    keys.add(f"{first}:{year.group()}" if year else " ".join(text.lower().split()))
    return keys


class References:
    """A numbered reference list with deduplication, and a separate list of assumptions.

    Works are identified by DOI, PMID, PMC id or first author and year, so
    ``"Rook 2006 Clin Pharmacokinet"`` and ``"Rook EJ et al. 2006 Clin
    Pharmacokinet 45:401"`` are one reference (shown in its longest form).
    Sources starting with ``assumption`` are numbered ``A1, A2, ...``; works
    they cite still enter the reference list.
    """

    def __init__(self) -> None:
        self._text: list[str] = []
        self._alias: dict[str, int] = {}
        self._pubchem: list[str] = []
        self._assumptions: list[str] = []
        self._users: dict[str, list[str]] = {}

    def _add(self, citation: str) -> int:
        keys = _keys(citation)
        hits = sorted({self._alias[k] for k in keys if k in self._alias})
        if hits:
            idx = hits[0]
            if len(citation) > len(self._text[idx]):
                self._text[idx] = citation
        else:
            idx = len(self._text)
            self._text.append(citation)
        for k in keys:
            self._alias.setdefault(k, idx)
        if "pubchem" in keys:
            self._pubchem.append(citation.split()[-1])
        return idx

    def cite(self, source: str, user: str | None = None) -> list[str]:
        """Register a source; return its labels (``"3"``, ``"A2"``) in citation order."""
        labels = []
        if source.strip().lower().startswith("assumption"):
            if source not in self._assumptions:
                self._assumptions.append(source)
            labels.append(f"A{self._assumptions.index(source) + 1}")
            users = self._users.setdefault(source, [])
            if user and user not in users:
                users.append(user)
        for c in _citations(source):
            label = str(self._add(c) + 1)
            if label not in labels:
                labels.append(label)
        return labels

    def marker(self, source: str, user: str | None = None) -> str:
        """``[1, 3]`` style citation marker for a source (empty if nothing is cited)."""
        labels = self.cite(source, user)
        return f"[{', '.join(labels)}]" if labels else ""

    def entries(self) -> list[tuple[int, Markup]]:
        """Numbered references, with DOI, PMID and PMC identifiers as links."""
        out = []
        for i, text in enumerate(self._text, start=1):
            if text.lower().startswith("pubchem"):
                text = "PubChem compound database, CIDs " + ", ".join(dict.fromkeys(self._pubchem))
            out.append((i, _linkify(text)))
        return out

    def assumptions(self) -> list[tuple[str, str, str]]:
        """``(label, assumption text, parameters or rows that rely on it)``."""
        return [
            (f"A{i}", a[len("assumption") :].lstrip(" :"), ", ".join(self._users.get(a, [])))
            for i, a in enumerate(self._assumptions, start=1)
        ]


def _linkify(text: str) -> Markup:
    html = str(escape(text))
    for pattern, url in _LINKS:
        html = pattern.sub(
            lambda m, u=url: f'<a href="{u.format(m.group(1))}">{m.group(0)}</a>', html
        )
    return Markup(html)


# ------------------------------------------------------------------ methods
#: Sentences of the methods paragraph; ``{name}`` is value and unit, ``{name:%}`` a percentage.
#: A sentence is left out when the parameter set lacks one of its parameters.
METHODS_SENTENCES: tuple[str, ...] = (
    "Heroin doses (mg of base) entered blood directly when injected intravenously, or from "
    "absorption depots: smoked heroin with a bioavailability of {f_heroin_smoked:%}, intranasal "
    "{f_heroin_intranasal:%} and intramuscular heroin absorbed at {ka_heroin_im}; oral heroin "
    "delivered only morphine, {f_heroin_oral_as_morphine:%} of the dose.",
    "Heroin was deacetylated to 6-monoacetylmorphine (6-MAM) with a half-life of "
    "{t_half_heroin} and a blood clearance of {cl_heroin}; 6-MAM had a half-life of "
    "{t_half_6mam} and a volume of distribution of {v_6mam}, and {frac_6mam_to_morphine:%} of "
    "it formed morphine.",
    "Morphine was cleared at {cl_morphine} with a half-life of {t_half_morphine}; "
    "{frac_morphine_to_m6g:%} of it formed active morphine-6-glucuronide and "
    "{frac_morphine_to_m3g:%} inactive morphine-3-glucuronide.",
    "Each active species reached a brain effect site with an equilibration half-time of "
    "{t_half_ke0_heroin} (heroin), {t_half_ke0_6mam} (6-MAM, brain partition {kp_6mam}) and "
    "{t_half_ke0_morphine} (morphine).",
    "All ligands competed for one population of mu-opioid receptors at equilibrium, with an "
    "in-vivo morphine dissociation constant of {kd_morphine} and dissociation constants "
    "relative to morphine of {affinity_ratio_heroin} (heroin), {affinity_ratio_6mam} (6-MAM) "
    "and {affinity_ratio_naloxone} (naloxone); receptor activation followed the operational "
    "model with efficacies of {efficacy_6mam} (6-MAM) and {efficacy_morphine} (morphine).",
    "Activated receptors inhibited adenylyl cyclase by at most {ac_imax:%}; adenylyl-cyclase "
    "superactivation compensated {ac_gain:%} of the inhibition at steady state, through a fast "
    "component with a half-time of {t_half_ac_fast} and a slow component ({frac_ac_slow:%} of "
    "the total) with a half-time of {t_half_ac_slow}. Tolerance is the resulting right-shift "
    "(1 + U); the cAMP overshoot above the drug-free level when the drug falls is the "
    "withdrawal index.",
    "Agonist occupancy depressed the wakefulness drive ({wake_fraction:%} of resting "
    "ventilation) and the CO2 chemoreflex (normalised CO2 sensitivity {co2_sensitivity}) from "
    "a resting PaCO2 of {paco2_baseline}; respiratory tolerance multiplied the occupancy odds "
    "by 1 + {resp_tolerance_gain} U.",
    "Arterial PO2 followed ventilation with a time constant of {tau_o2}; an overdose episode "
    "began when PaO2 fell below {pao2_overdose}, and cardiac arrest followed when PaO2 stayed "
    "below {pao2_arrest} for {arrest_delay}.",
    "Naloxone had a half-life of {t_half_naloxone} and an intramuscular bioavailability of "
    "{f_naloxone_im:%}.",
)
_PLACEHOLDER = re.compile(r"\{(\w+)(:%)?\}")


def _value_text(row: Mapping[str, Any], percent: bool) -> str:
    value = float(row["value"])
    unit = str(row["unit"])
    if percent:
        return f"{100 * value:.3g}%"
    if unit in ("dimensionless", "1", ""):
        return f"{value:.3g}"
    return f"{value:.3g} {unit}"


def methods_paragraph(
    params: ParameterSet, refs: References, variability: float | None = None
) -> list[str]:
    """Sentences of the methods paragraph, built from the parameters used, with citations.

    Parameters
    ----------
    params
        The parameter set used (values, units and sources are read from it).
    refs
        Reference list that receives the sources; citation markers refer to it.
    variability
        Scale on inter-individual variability used for the cohort, if any.
    """
    rows = {r["name"]: r for r in params.to_rows()}
    out = []
    for template in METHODS_SENTENCES:
        names = [m.group(1) for m in _PLACEHOLDER.finditer(template)]
        if not all(n in rows for n in names):
            continue

        def fill(m: re.Match) -> str:
            row = rows[m.group(1)]
            marker = refs.marker(str(row["source"]), m.group(1))
            return _value_text(row, bool(m.group(2))) + (f" {marker}" if marker else "")

        out.append(_PLACEHOLDER.sub(fill, template))
    if variability is not None:
        out.append(
            "Each parameter varied log-normally between subjects with its tabulated coefficient "
            f"of variation scaled by {variability:g}, clipped to its plausible range."
        )
    out.append(
        "Linear pharmacokinetics were solved in closed form between doses; receptor, cAMP and "
        "respiratory read-outs were evaluated from the closed-form concentrations, and slow "
        "adaptation states were advanced on a coarser clock driven by exposure integrals."
    )
    return out


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


def _regimen_text(scenario: Any) -> str:
    """The scenario's regimen, or a summary of its [behaviour] table."""
    b = getattr(scenario, "behaviour", None)
    if b is not None:
        return (
            f"decided by each person (behaviour model): {b.route}, starting at "
            f"{b.start_dose_mg:g} mg per use; use {b.use}, then {b.abstinent_fraction:.0%} "
            f"detoxified ({b.detox}) and followed for {b.follow_up}"
        )
    return str(getattr(scenario, "regimen", "") or "")


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
            regimen=_regimen_text(scenario),
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
