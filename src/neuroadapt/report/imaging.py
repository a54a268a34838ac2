"""HTML report of imaging analyses: methods paragraph, figures, cluster and ROI tables.

The report formats results computed elsewhere (``neuroadapt.imaging.pipeline``);
it never simulates or fits. The methods paragraph is written from the
settings actually used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neuroadapt import __version__
from neuroadapt.atomic import write_text
from neuroadapt.imaging.atlases import ATLAS_INFO, TEMPLATE_INFO
from neuroadapt.imaging.pipeline import VBMResult
from neuroadapt.imaging.truth import TruthComparison
from neuroadapt.imaging.validation import ValidationResult
from neuroadapt.report.figures import to_data_uri
from neuroadapt.report.html import _environment, frame_rows


def _table(df: pd.DataFrame, digits: int = 4) -> dict[str, Any]:
    return {"columns": list(df.columns), "rows": frame_rows(df, digits)}


def vbm_methods(result: VBMResult) -> str:
    """Methods paragraph of a voxel-wise analysis, from its settings."""
    s = result.settings
    sided = "two-sided" if s["two_sided"] else "one-sided"
    text = (
        f"Voxel-wise general linear model on {s['n_subjects']} smoothed, modulated gray-matter "
        f"maps ({s['n_voxels']} voxels in the analysis mask; {result.design.describe()}; "
        f"{s['df']} residual degrees of freedom). Inference used {s['n_permutations']} "
        f"Freedman–Lane permutations (seed {s['seed']}), {sided}, with family-wise error "
        "control by the permutation distribution of the maximum statistic (max-T)"
    )
    if result.glm.tfce:
        text += (
            f", of threshold-free cluster enhancement (TFCE; E = 0.5, H = 2, "
            f"{result.glm.tfce_steps} height steps from 0 to the map maximum, "
            f"{result.glm.connectivity}-connectivity, Smith & Nichols 2009)"
        )
    if s["cluster_p"] is not None:
        text += (
            f" and of cluster mass (cluster-forming threshold p < {s['cluster_p']} uncorrected, "
            f"t > {result.glm.cluster_threshold_:.2f})"
        )
    text += (
        f". Clusters are reported at FWE p < {s['alpha']} ({result.inference}) with peak MNI "
        "coordinates and Harvard–Oxford and AAL3 labels."
    )
    if result.design.notes:
        text += " " + "; ".join(result.design.notes).capitalize() + "."
    return text + " " + measured_fwe_text()


def validation_sections(result: ValidationResult, settings: dict) -> list[tuple]:
    """Report sections (title, table, text) of a validation run."""
    s = settings
    where = f"{s['n_voxels']} voxels of the 2 mm GM mask" + (
        f" (MNI z {s['slab_mm']} mm)" if s.get("slab_mm") else ""
    )
    common = (
        f"{s['n_users']} users and {s['n_controls']} controls per cohort, {where}, "
        f"{s['n_permutations']} Freedman–Lane permutations, one-sided users < controls with "
        f"age, sex and TIV, FWE p < {s['alpha']}"
    )
    out = []
    if s["n_null"]:
        fwe = result.fwe.copy()
        out.append(
            (
                "Validation: family-wise error over null cohorts",
                fwe,
                f"Family-wise error: {s['n_null']} simulated cohorts without any effect; "
                f"{common}; a cohort counts when any voxel (max-T, TFCE) or cluster (cluster "
                f"mass, cluster-forming p < {s['cluster_p']}) is significant. Rates with exact "
                "(Clopper–Pearson) 95 % intervals.",
            )
        )
    if s["n_cohorts"]:
        out.append(
            (
                "Validation: sensitivity per region",
                result.sensitivity,
                f"Sensitivity: {s['n_cohorts']} simulated cohorts, users' regional changes from "
                f"{s.get('changes', 'the given effects')}; {common}. A region is detected in a "
                "cohort when at least one of its voxels is significant; true_change_pct is the "
                "users' mean change. Cohorts with a significant voxel farther than "
                f"{s['outside_mm']:g} mm from every changed region: "
                + ", ".join(f"{k} {v:.2f}" for k, v in result.outside.items())
                + ".",
            )
        )
    return out


def truth_sections(comparison: TruthComparison) -> list[tuple]:
    """Report sections (title, table, text) of a comparison with the ground truth."""
    out = [
        (
            "Ground truth against findings, by region",
            comparison.regions,
            comparison.text(),
        )
    ]
    if len(comparison.elsewhere):
        out.append(
            (
                f"Significant voxels farther than {comparison.summary['border_mm']:g} mm from "
                "any region with modelled loss",
                comparison.elsewhere,
                "Atlas labels of significant voxels where the model put no loss.",
            )
        )
    return out


def measured_fwe_text() -> str:
    """The stated error rate: the FWE measured over null cohorts (``imaging.measured``)."""
    from neuroadapt.imaging.measured import NULL_FWE

    m = NULL_FWE
    rates = "; ".join(
        f"{k} {r['k']}/{m['null_cohorts']} = {100 * r['k'] / m['null_cohorts']:.1f} % "
        f"(95 % CI {100 * r['ci'][0]:.1f}–{100 * r['ci'][1]:.1f} %)"
        for k, r in m["rates"].items()
    )
    return (
        f"Error rate: over {m['null_cohorts']} simulated null cohorts ({m['description']}) the "
        f"family-wise error at p < 0.05 was {rates} (command: {m['command']})."
    )


def _vbm_figures(result: VBMResult) -> list[dict[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from nilearn import plotting

    from neuroadapt.imaging.atlases import template

    p = result.p_map()
    t = np.where(p < result.alpha, result.glm.t_, 0.0)
    img = result.maps.image(t)
    figs = []
    for kind in ("glass", "slices"):
        fig = plt.figure(figsize=(10, 3.6))
        if kind == "glass":
            plotting.plot_glass_brain(img, figure=fig, colorbar=True, plot_abs=False,
                                      cmap="cold_hot", threshold=1e-6)  # fmt: skip
            caption = f"Glass brain: t where FWE p < {result.alpha} ({result.inference})."
        else:
            bg = template() if result.maps.mask.shape == template().shape else None
            plotting.plot_stat_map(img, bg_img=bg, figure=fig, display_mode="z",
                                   cut_coords=7, threshold=1e-6, cmap="cold_hot")  # fmt: skip
            caption = f"Axial slices: t where FWE p < {result.alpha} ({result.inference})."
        figs.append({"uri": to_data_uri(fig), "caption": caption})
        plt.close(fig)
    return figs


def build_imaging_report(
    path: str | Path,
    title: str,
    vbm: VBMResult | None = None,
    roi: tuple[pd.DataFrame, str] | None = None,
    readouts: list[tuple[str, pd.DataFrame, str]] | None = None,
    extra: list[tuple[str, pd.DataFrame, str]] | None = None,
    figures: bool = True,
    truth: TruthComparison | None = None,
) -> Path:
    """Write the imaging report.

    Parameters
    ----------
    path
        HTML file to write.
    title
        Title line.
    vbm
        Voxel-wise result.
    roi
        ROI comparison table and its test description.
    readouts
        (title, comparison table, description) of PET/fMRI read-outs.
    extra
        Further (title, table, text) sections (e.g. ground truth).
    figures
        Draw the glass-brain and slice figures.
    truth
        Comparison of the voxel-wise result with the simulation's ground truth.
    """
    methods, sections = [], []
    if vbm is not None:
        methods.append(vbm_methods(vbm))
        sections.append(
            {
                "title": f"Voxel-wise analysis: {vbm.settings['contrast']}",
                "text": f"{len(vbm.clusters)} clusters at FWE p < {vbm.alpha}.",
                "figures": _vbm_figures(vbm) if figures else [],
                "table": _table(vbm.clusters) if len(vbm.clusters) else None,
                "empty": "No significant cluster.",
            }
        )
    if roi is not None:
        table, test = roi
        methods.append(f"ROI volumetry: gray-matter volume (mL) per region; {test}.")
        sections.append(
            {"title": "ROI volumetry", "text": test, "figures": [], "table": _table(table)}
        )
    for name, table, text in truth_sections(truth) if truth is not None else []:
        # results, not methods: shown as sections only
        sections.append({"title": name, "text": text, "figures": [], "table": _table(table)})
    for name, table, text in (readouts or []) + (extra or []):
        methods.append(text)
        sections.append({"title": name, "text": text, "figures": [], "table": _table(table)})
    resources = [TEMPLATE_INFO] + list(ATLAS_INFO.values())
    html = (
        _environment()
        .get_template("imaging.html")
        .render(
            title=title,
            version=__version__,
            methods=" ".join(methods),
            sections=sections,
            resources=resources,
        )
    )
    return write_text(path, html)
