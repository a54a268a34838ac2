"""The analyses a user runs, end to end: VBM and ROI volumetry on loaded maps.

Each returns a result object that knows how to write its maps and tables;
the HTML report (``neuroadapt.report.imaging``) only formats them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from neuroadapt.atomic import write_text
from neuroadapt.imaging.atlases import load_atlas
from neuroadapt.imaging.bids import bids_label, save_nifti, write_sidecar
from neuroadapt.imaging.clusters import cluster_table
from neuroadapt.imaging.design import DEFAULT_COVARIATES, Design, make_design
from neuroadapt.imaging.glm import PermutedGLM
from neuroadapt.imaging.load import MapSet
from neuroadapt.imaging.roi import TEST_DESCRIPTION, compare_groups, roi_volumes
from neuroadapt.imaging.tfce import TFCE_E, TFCE_H


@dataclass
class VBMResult:
    """A fitted voxel-wise analysis with its design, cluster table and settings."""

    maps: MapSet
    design: Design
    glm: PermutedGLM
    clusters: pd.DataFrame
    alpha: float
    inference: str
    settings: dict = field(default_factory=dict)

    def p_map(self) -> np.ndarray:
        """FWE p per voxel of the chosen inference (TFCE, else max-T)."""
        return self.glm.p_tfce_ if self.inference == "tfce" else self.glm.p_max_t_

    def map_names(self) -> dict[str, str]:
        """File name of each statistic map (BIDS statistical-map naming).

        ``contrast-<label>_stat-<t|tfce|p>[_desc-<maxtFWE|tfceFWE>]_statmap.nii.gz``,
        e.g. ``contrast-usersLtControls_stat-t_statmap.nii.gz``.
        """
        stem = f"contrast-{bids_label(self.settings['contrast'])}"
        names = {
            "t": f"{stem}_stat-t_statmap.nii.gz",
            "p_max_t": f"{stem}_stat-p_desc-maxtFWE_statmap.nii.gz",
        }
        if self.glm.tfce:
            names["tfce"] = f"{stem}_stat-tfce_statmap.nii.gz"
            names["p_tfce"] = f"{stem}_stat-p_desc-tfceFWE_statmap.nii.gz"
        return names

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write t, TFCE and FWE p maps (NIfTI, JSON sidecars) and the cluster table (TSV).

        The t map carries the NIfTI intent ``t test`` with its residual degrees
        of freedom; every map the sform/qform code of the input maps (4: MNI).
        """
        out = Path(out_dir)
        s = self.settings
        df = int(s["df"])
        sided = "two-sided" if s["two_sided"] else "one-sided"
        common = {
            "Contrast": s["contrast"],
            "DegreesOfFreedom": df,
            "Permutations": s["n_permutations"],
            "Seed": s["seed"],
            "Sidedness": sided,
            "Design": self.design.describe(),
        }
        glm = self.glm
        maps = {
            "t": (glm.t_, ("t test", (df,), "t"), "t statistic of the contrast"),
            "p_max_t": (glm.p_max_t_, ("p value", (), "pFWE"), "FWE p by max-T"),
        }
        if glm.tfce:
            maps["tfce"] = (glm.tfce_, None, f"TFCE of the t map (E = {TFCE_E:g}, H = {TFCE_H:g})")
            maps["p_tfce"] = (glm.p_tfce_, ("p value", (), "pFWE"), "FWE p by TFCE")
        written = []
        for key, name in self.map_names().items():
            values, intent, what = maps[key]
            path = out / name
            save_nifti(path, self.maps.unmask(values), self.maps.affine,
                       xform_code=self.maps.xform_code, intent=intent)  # fmt: skip
            write_sidecar(path, {"Description": what, **common})
            written.append(path)
        path = out / "clusters.tsv"
        write_text(path, self.clusters.to_csv(sep="\t", index=False, float_format="%.4g"))
        written.append(path)
        return written


def run_vbm(
    maps: MapSet,
    contrast: str = "users<controls",
    n_permutations: int = 1000,
    seed: int = 0,
    tfce: bool = True,
    two_sided: bool = False,
    cluster_p: float | None = 0.001,
    covariates: tuple[str, ...] = DEFAULT_COVARIATES,
    alpha: float = 0.05,
    source: str = "participants table",
    progress: Callable[[int, int], None] | None = None,
) -> VBMResult:
    """Voxel-wise GLM with Freedman–Lane permutations, and the cluster table.

    Parameters
    ----------
    maps
        Loaded maps and participants.
    contrast
        See :mod:`neuroadapt.imaging.design`.
    n_permutations, seed
        Permutations and their seed.
    tfce
        Also TFCE (clusters are then defined on TFCE FWE p; else on max-T).
    two_sided
        Two-sided test.
    cluster_p
        Cluster-forming threshold (uncorrected p) of cluster-mass inference, or None.
    covariates
        Nuisance covariates.
    alpha
        FWE level of the cluster table.
    source
        Name of the participants table for error messages.
    progress
        Called as ``progress(done, total)`` after each batch of permutations.
    """
    design = make_design(maps.participants, contrast, covariates, source)
    glm = PermutedGLM(
        n_permutations=n_permutations,
        two_sided=two_sided,
        tfce=tfce,
        cluster_p=cluster_p,
        seed=seed,
    ).fit(maps.data, design.tested, design.confounds, maps.mask, progress=progress)
    inference = "tfce" if tfce else "max-T"
    p = glm.p_tfce_ if tfce else glm.p_max_t_
    table = cluster_table(glm.t_, p, maps.mask, maps.affine, alpha=alpha)
    settings = {
        "contrast": contrast,
        "n_permutations": n_permutations,
        "seed": seed,
        "two_sided": two_sided,
        "cluster_p": cluster_p,
        "alpha": alpha,
        "n_subjects": int(maps.data.shape[0]),
        "n_voxels": int(maps.data.shape[1]),
        "df": int(glm.df_),
    }
    return VBMResult(maps, design, glm, table, alpha, inference, settings)


def run_roi(
    maps: MapSet,
    atlas: str = "harvard_oxford",
    covariates: tuple[str, ...] = DEFAULT_COVARIATES,
    source: str = "participants table",
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """ROI volumes per subject and their group comparison.

    Returns
    -------
    volumes, comparison, test
        Subjects × regions volumes (mL), the comparison table and the test description.
    """
    volumes = roi_volumes(maps, load_atlas(atlas))
    comparison = compare_groups(volumes, maps.participants, covariates, source)
    test = TEST_DESCRIPTION.format(covariates=" + ".join(covariates) or "nothing")
    return volumes, comparison, test
