"""HTML report of imaging analyses: methods paragraph, figures, cluster and ROI tables.

The report formats results computed elsewhere (``neuroadapt.imaging.pipeline``);
it never simulates or fits. The methods paragraph is written from the
settings actually used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neuroadapt import __version__
from neuroadapt.atomic import write_text
from neuroadapt.imaging.atlases import ATLAS_INFO, TEMPLATE_INFO
from neuroadapt.imaging.pipeline import VBMResult
from neuroadapt.imaging.tfce import TFCE_E, TFCE_H
from neuroadapt.imaging.truth import TruthComparison
from neuroadapt.imaging.validation import ValidationResult
from neuroadapt.report.html import _environment, frame_rows
from neuroadapt.report.plotting import to_data_uri


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
            f", of threshold-free cluster enhancement (TFCE; E = {TFCE_E:g}, H = {TFCE_H:g}, "
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


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _figure(fig, caption: str) -> dict[str, str]:
    uri = to_data_uri(fig)
    _pyplot().close(fig)
    return {"uri": uri, "caption": caption}


def vbm_figures(result: VBMResult) -> list[dict[str, str]]:
    """Glass brain and axial slices of the VBM t map where FWE p < alpha.

    A one-sided test maps positive t only, on a one-sided colour scale from
    the smallest significant t (a two-sided test: a symmetric cold-hot scale).
    When no voxel survives, the map shown is t above the cluster-forming
    threshold (p < ``cluster_p`` uncorrected, 0.001 when cluster mass was off),
    said so in the caption.
    """
    plt = _pyplot()
    from nilearn import plotting

    from neuroadapt.imaging.atlases import template

    contrast = result.settings["contrast"]
    two_sided = bool(result.settings["two_sided"])
    t_all = result.glm.t_
    sig = result.p_map() < result.alpha
    if sig.any():
        shown, floor = sig, 0.0
        what = f"t where FWE p < {result.alpha} ({result.inference})"
    else:
        from scipy import stats

        p_unc = result.settings.get("cluster_p") or 0.001
        thr = float(stats.t.isf(p_unc / (2 if two_sided else 1), result.settings["df"]))
        shown, floor = (np.abs(t_all) if two_sided else t_all) > thr, thr
        what = (
            f"no voxel at FWE p < {result.alpha} ({result.inference}); shown: "
            f"{'|t|' if two_sided else 't'} > {thr:.2f} (p < {p_unc:g} uncorrected)"
        )
        if not shown.any():
            shown, floor = np.ones_like(sig), 0.0
            what = f"no voxel at FWE p < {result.alpha} nor at p < {p_unc:g} uncorrected; shown: t"
    if not two_sided:
        shown = shown & (t_all > 0)
    t = np.where(shown, t_all, 0.0)
    img = result.maps.image(t)
    vmax = float(np.abs(t).max()) or 1.0
    # the colour scale starts at the threshold shown (from 0 if that leaves no range)
    low = float(np.abs(t[shown]).min()) if sig.any() and shown.any() else floor
    if not vmax > low:
        low = 0.0
    sense = f"colour: t of {contrast}; {_positive_t(contrast)}" + (
        ", t < 0 the opposite (two-sided)" if two_sided else " (one-sided: t > 0 only)"
    )
    style: dict = (
        {"cmap": "cold_hot", "vmax": vmax, "symmetric_cbar": True}
        if two_sided
        else {"cmap": "YlOrRd", "vmin": low, "vmax": vmax, "symmetric_cbar": False}
    )
    threshold = max(low - 1e-6, 1e-6)
    figs = []
    fig = plt.figure(figsize=(10, 3.6))
    plotting.plot_glass_brain(img, figure=fig, colorbar=True, plot_abs=False,
                              threshold=threshold, **style)  # fmt: skip
    figs.append(_figure(fig, f"Glass brain: {what}; {sense}."))
    fig = plt.figure(figsize=(10, 3.6))
    bg = template() if result.maps.mask.shape == template().shape else None
    slice_style = dict(style, cmap="cold_hot" if two_sided else "autumn")
    plotting.plot_stat_map(img, bg_img=bg, figure=fig, display_mode="z", cut_coords=7,
                           threshold=threshold, **slice_style)  # fmt: skip
    figs.append(_figure(fig, f"Axial slices: {what}; {sense}."))
    return figs


def _positive_t(contrast: str) -> str:
    """What a positive t of a contrast means, in words."""
    from neuroadapt.imaging.design import CONTRASTS

    var, sign = CONTRASTS.get(contrast.replace(" ", "").lower(), ("", 0.0))
    more = "more" if sign > 0 else "less"
    if var == "group":
        return f"t > 0: {more} gray matter in users than in controls"
    if var == "years_of_use":
        return f"t > 0: {more} gray matter with more years of use"
    return "t > 0 where the contrast is positive"


def _strip(ax, values: np.ndarray, x: float, colour: str, rng) -> None:
    jitter = rng.uniform(-0.12, 0.12, values.size)
    ax.scatter(x + jitter, values, s=12, color=colour, alpha=0.6, linewidths=0)
    ax.errorbar(x, values.mean(), yerr=values.std(ddof=1) if values.size > 1 else 0,
                fmt="o", color="black", ms=4, capsize=4, zorder=3)  # fmt: skip


GROUP_COLOURS = {"user": "#c0392b", "control": "#2c7bb6"}


def readout_figure(readout: Readout) -> dict[str, str]:
    """Per-region values of users and controls (points, mean ± SD) with Holm p."""
    plt = _pyplot()
    values, groups = readout.values, readout.groups.reindex(readout.values.index)
    regions = list(values.columns)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.4 * len(regions) + 1.5), 3.8))
    rng = np.random.default_rng(0)
    p_holm = readout.comparison.set_index("region")["p_holm"]
    for i, region in enumerate(regions):
        for k, group in enumerate(("control", "user")):
            v = values.loc[groups == group, region].to_numpy(dtype=float)
            if v.size:
                _strip(ax, v, i + (0.3 if k else -0.3), GROUP_COLOURS[group], rng)
    ax.set_xticks(range(len(regions)))
    ax.set_xticklabels([f"{r}\nHolm p = {p_holm[r]:.2g}" for r in regions], fontsize=8, rotation=0)
    low = float(np.nanmin(values.to_numpy()))
    if low < 0 < float(np.nanmax(values.to_numpy())):
        ax.axhline(0.0, color="grey", lw=0.8, ls=":")
    ax.set_ylabel(readout.unit)
    for group, colour in GROUP_COLOURS.items():
        n = int((groups == group).sum())
        ax.scatter([], [], color=colour, label=f"{group}s (n = {n})")
    ax.legend(fontsize=8, frameon=False, loc="best")
    ax.set_title(readout.title, fontsize=10)
    fig.tight_layout()
    return _figure(
        fig,
        f"{readout.title}: each participant's value per region (controls left, users right; "
        f"black: the group's mean ± SD); Holm-corrected ANCOVA p below each region. "
        f"Unit: {readout.unit}.",
    )


def roi_figure(table: pd.DataFrame) -> dict[str, str]:
    """ROI effect sizes: adjusted difference (% of controls) with 95 % CI, and Cohen's d."""
    plt = _pyplot()
    regions = list(table["region"])
    y = np.arange(len(regions))[::-1]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 0.45 * len(regions) + 1.6), sharey=True)
    c = table["mean_controls"].to_numpy(dtype=float)
    est = 100 * table["adjusted_diff"].to_numpy(dtype=float) / c
    lo = 100 * table["adjusted_diff_ci95_low"].to_numpy(dtype=float) / c
    hi = 100 * table["adjusted_diff_ci95_high"].to_numpy(dtype=float) / c
    sig = table["p_holm"].to_numpy(dtype=float) < 0.05
    colours = np.where(sig, "#c0392b", "#7f7f7f")
    for k in range(len(regions)):
        a.errorbar(est[k], y[k], xerr=[[est[k] - lo[k]], [hi[k] - est[k]]], fmt="none",
                   ecolor=colours[k], capsize=3)  # fmt: skip
    a.scatter(est, y, color=list(colours), zorder=3)
    a.axvline(0, color="grey", lw=0.8, ls=":")
    a.set_yticks(y)
    a.set_yticklabels(regions, fontsize=8)
    a.set_xlabel("adjusted difference, users − controls (% of control mean), 95 % CI")
    b.barh(y, table["cohens_d"].to_numpy(dtype=float), color=list(colours))
    b.axvline(0, color="grey", lw=0.8)
    b.set_xlabel("Cohen's d (users − controls)")
    fig.tight_layout()
    return _figure(
        fig,
        "ROI effect sizes: covariate-adjusted group difference in percent of the control mean "
        "with its 95 % confidence interval (left) and Cohen's d of the raw means (right); red: "
        "Holm p < 0.05.",
    )


def truth_figure(change: pd.DataFrame, participants: pd.DataFrame) -> dict[str, str]:
    """The model's regional GM change put into the maps, per user, against years of use."""
    plt = _pyplot()
    part = participants.set_index("participant_id").loc[change.index]
    users = (part["group"] == "user").to_numpy()
    years = part["years_of_use"].to_numpy(dtype=float)[users]
    pct = 100 * change[users]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.0), gridspec_kw={"width_ratios": [1, 1.3]})
    mean = pct.mean()
    sd = pct.std(ddof=1) if len(pct) > 1 else 0 * mean
    yy = np.arange(len(mean))[::-1]
    a.barh(yy, mean.to_numpy(), xerr=sd.to_numpy(), color="#c0392b", alpha=0.8, capsize=3)
    a.set_yticks(yy)
    a.set_yticklabels(list(mean.index), fontsize=8)
    a.axvline(0, color="grey", lw=0.8)
    a.set_xlabel("users' GM change (% of a matched control), mean ± SD")
    if np.ptp(years) > 0:
        cmap = plt.get_cmap("tab10")
        for k, region in enumerate(pct.columns):
            b.scatter(years, pct[region], s=10, color=cmap(k % 10), label=region)
        b.set_xlabel("years of use at the scan")
        b.set_ylabel("GM change (% of a matched control)")
        b.legend(fontsize=6, frameon=False, ncol=2)
    else:
        b.hist(pct.to_numpy().ravel(), bins=20, color="#c0392b", alpha=0.8)
        b.set_xlabel(f"GM change (%), all regions; every user at {years[0]:.2f} years of use")
        b.set_ylabel("user × region count")
    fig.tight_layout()
    return _figure(
        fig,
        "Ground truth put into the maps: users' mean regional gray-matter change (left) and "
        "each user's change against their years of use at the scan (right).",
    )


@dataclass
class Readout:
    """A PET or fMRI read-out for the report.

    Attributes
    ----------
    title
        Section title.
    values
        Participants × regions values, indexed by ``participant_id``.
    groups
        Group (``user``/``control``) per participant id.
    comparison
        Group comparison table (:func:`neuroadapt.imaging.roi.compare_groups`).
    text
        Methods sentence.
    unit
        Axis label of the values.
    """

    title: str
    values: pd.DataFrame
    groups: pd.Series
    comparison: pd.DataFrame
    text: str
    unit: str


def build_imaging_report(
    path: str | Path,
    title: str,
    vbm: VBMResult | None = None,
    roi: tuple[pd.DataFrame, str] | None = None,
    readouts: list[Readout] | None = None,
    extra: list[tuple[str, pd.DataFrame, str]] | None = None,
    figures: bool = True,
    truth: TruthComparison | None = None,
    truth_change: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> Path:
    """Write the imaging report (self-contained HTML, figures embedded as PNG data URIs).

    Parameters
    ----------
    path
        HTML file to write.
    title
        Title line.
    vbm
        Voxel-wise result (glass brain and slices).
    roi
        ROI comparison table and its test description (effect-size figure).
    readouts
        PET/fMRI read-outs (a per-region figure and the comparison table each).
    extra
        Further (title, table, text) sections (e.g. ground truth); the first
        gets the ground-truth figure when ``truth_change`` is given.
    figures
        Draw the figures.
    truth
        Comparison of the voxel-wise result with the simulation's ground truth.
    truth_change
        The regional change put into a simulated cohort's maps (participants ×
        regions) and the participants table, for the ground-truth figure.
    """
    methods, sections = [], []
    if vbm is not None:
        methods.append(vbm_methods(vbm))
        sections.append(
            {
                "title": f"Voxel-wise analysis: {vbm.settings['contrast']}",
                "text": f"{len(vbm.clusters)} clusters at FWE p < {vbm.alpha}.",
                "figures": vbm_figures(vbm) if figures else [],
                "table": _table(vbm.clusters) if len(vbm.clusters) else None,
                "empty": "No significant cluster.",
            }
        )
    if roi is not None:
        table, test = roi
        methods.append(f"ROI volumetry: gray-matter volume (mL) per region; {test}.")
        sections.append(
            {
                "title": "ROI volumetry",
                "text": test,
                "figures": [roi_figure(table)] if figures else [],
                "table": _table(table),
            }
        )
    for name, table, text in truth_sections(truth) if truth is not None else []:
        # results, not methods: shown as sections only
        sections.append({"title": name, "text": text, "figures": [], "table": _table(table)})
    for r in readouts or []:
        methods.append(r.text)
        sections.append(
            {
                "title": r.title,
                "text": r.text,
                "figures": [readout_figure(r)] if figures else [],
                "table": _table(r.comparison),
            }
        )
    for i, (name, table, text) in enumerate(extra or []):
        methods.append(text)
        figs = []
        if figures and i == 0 and truth_change is not None:
            figs = [truth_figure(*truth_change)]
        sections.append({"title": name, "text": text, "figures": figs, "table": _table(table)})
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
