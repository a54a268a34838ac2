"""The HTML report, its figures and the mechanism diagrams (drawn, never simulated)."""

from neuroadapt.report.cohort import cohort_figure as cohort_figure
from neuroadapt.report.diagram import pathway_figure as pathway_figure
from neuroadapt.report.diagram import structure_figure as structure_figure
from neuroadapt.report.figures import FIGURES as FIGURES
from neuroadapt.report.html import DEFAULT_LIMITATIONS as DEFAULT_LIMITATIONS
from neuroadapt.report.html import SECTION_HEADINGS as SECTION_HEADINGS
from neuroadapt.report.html import build_report as build_report
from neuroadapt.report.html import render_report as render_report
from neuroadapt.report.plotting import to_data_uri as to_data_uri

__all__ = [
    "DEFAULT_LIMITATIONS",
    "FIGURES",
    "SECTION_HEADINGS",
    "build_report",
    "cohort_figure",
    "pathway_figure",
    "render_report",
    "structure_figure",
    "to_data_uri",
]
