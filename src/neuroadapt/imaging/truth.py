"""Findings against ground truth: where the model put loss, and where VBM found it.

For simulated cohorts the regional change of every subject is known
(``ground_truth.tsv``). :func:`compare_with_truth` puts a voxel-wise result
beside it, by atlas region:

- per neuroadapt region: the model's mean change of users relative to
  controls (%), whether that is a loss (≤ −``loss_pct``), the region's voxels
  in the mask, and per inference (max-T, TFCE, ...) how many are significant
  and whether the region is detected (≥ 1 significant voxel);
- significant voxels outside every region with loss, split by distance: up to
  ``border_mm`` (one smoothing FWHM by default; beyond it the 8 mm kernel
  carries less than 1 % of a region's true effect, so nearer voxels are
  expected spill-over) and beyond (false positives), the latter by atlas label.

Max-T controls the FWE in the strong sense (no voxel without a true effect
is significant, at level alpha, whatever the effects elsewhere). TFCE and
cluster mass control it in the weak sense only (measured over null
cohorts): next to a large true effect they also declare nearby null voxels,
which the "far" count shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.ndimage import distance_transform_edt

from neuroadapt.imaging.atlases import atlas_on_grid, load_atlas
from neuroadapt.model.structure import REGIONS


@dataclass
class TruthComparison:
    """Regions with model loss against significant voxels.

    Attributes
    ----------
    regions
        One row per neuroadapt region (see the module docstring).
    elsewhere
        Significant voxels farther than ``border_mm`` from every region with
        loss, by inference and atlas label.
    summary
        Loss regions and settings; ``by_inference``: per inference the counts
        of significant voxels, inside loss regions, near (≤ border), far, and
        the regions detected.
    """

    regions: pd.DataFrame
    elsewhere: pd.DataFrame
    summary: dict

    def text(self) -> str:
        """One paragraph stating what was found where."""
        s = self.summary
        loss = s["loss_regions"]
        out = (
            f"The model puts a loss of at least {s['loss_pct']:g} % in {len(loss)} of "
            f"{len(REGIONS)} regions ({s['atlas']} atlas)."
        )
        for name, c in s["by_inference"].items():
            found = c["detected_loss_regions"]
            missed = [r for r in loss if r not in found]
            out += (
                f" {name}: detected {len(found)} of them"
                + (f" (missed: {', '.join(missed)})" if missed else "")
                + f"; of {c['significant']} significant voxels {c['inside']} lie in regions "
                f"with loss, {c['near']} within {s['border_mm']:g} mm of one and {c['far']} "
                "farther away"
            )
            if c["detected_other_regions"]:
                out += "; regions without modelled loss with significant voxels: " + ", ".join(
                    c["detected_other_regions"]
                )
            out += "."
        return out


def mean_change(truth: pd.DataFrame, participants: pd.DataFrame) -> pd.Series:
    """Users' minus controls' mean regional change (fraction) over the analysed participants.

    Parameters
    ----------
    truth
        ``ground_truth.tsv``: ``participant_id`` and one column per region.
    participants
        The analysed participants (``participant_id``, ``group``).
    """
    table = truth.set_index("participant_id") if "participant_id" in truth else truth
    ids = participants["participant_id"].astype(str)
    missing = [p for p in ids if p not in table.index]
    if missing:
        raise ValueError(f"ground truth lacks participants: {', '.join(missing[:5])}")
    cols = [r for r in REGIONS if r in table.columns]
    g = participants["group"].to_numpy()
    rows = table.loc[ids, cols].astype(float).to_numpy()
    return pd.Series(rows[g == "user"].mean(0) - rows[g == "control"].mean(0), index=cols)


def compare_with_truth(
    significant: dict[str, np.ndarray],
    mask: np.ndarray,
    affine: np.ndarray,
    change: pd.Series,
    atlas: str = "harvard_oxford",
    loss_pct: float = 1.0,
    border_mm: float = 8.0,
) -> TruthComparison:
    """Compare significant voxels with the regions where the model put loss.

    Parameters
    ----------
    significant
        Inference name → boolean per mask voxel (e.g. ``{"TFCE": p_tfce < 0.05 & t > 0}``).
    mask, affine
        Analysis mask and its voxel-to-MNI affine.
    change
        Users' minus controls' mean change per region (fraction; :func:`mean_change`).
    atlas
        Atlas that carried the change into the maps.
    loss_pct
        A region has loss when its change is at most ``−loss_pct`` percent.
    border_mm
        Distance from a loss region within which significant voxels count as spill-over.
    """
    on = atlas_on_grid(load_atlas(atlas), mask.shape, affine)
    sig = {k: np.asarray(v, bool) for k, v in significant.items()}
    loss_regions = [r for r in change.index if 100 * change[r] <= -loss_pct]
    loss3d = np.zeros(mask.shape, bool)
    rows = []
    for r in REGIONS:
        rm = on.region_mask(r)
        inside = rm[mask]
        if r in loss_regions:
            loss3d |= rm
        row = {
            "region": r,
            "model_change_pct": 100 * float(change.get(r, 0.0)),
            "model_loss": r in loss_regions,
            "voxels": int(inside.sum()),
        }
        for k, v in sig.items():
            row[f"significant_voxels_{k}"] = int(v[inside].sum())
            row[f"detected_{k}"] = bool(v[inside].any())
        rows.append(row)
    regions = pd.DataFrame(rows)
    vox_mm = float(np.cbrt(abs(np.linalg.det(affine[:3, :3]))))
    dist = (
        distance_transform_edt(~loss3d)[mask] * vox_mm
        if loss3d.any()
        else np.full(int(mask.sum()), np.inf)
    )
    in_loss = loss3d[mask]
    labels = on.labels[mask]
    by_inference, far_rows = {}, []
    for k, v in sig.items():
        far = v & (dist > border_mm)
        names = pd.Series([on.names.get(int(x), "unlabelled") for x in labels[far]], dtype=object)
        for label, count in names.value_counts().items():
            far_rows.append({"inference": k, "atlas_label": label, "significant_voxels": count})
        detected = set(regions.loc[regions[f"detected_{k}"], "region"])
        by_inference[k] = {
            "significant": int(v.sum()),
            "inside": int((v & in_loss).sum()),
            "near": int((v & ~in_loss & (dist <= border_mm)).sum()),
            "far": int(far.sum()),
            "max_distance_mm": float(dist[v].max()) if v.any() else 0.0,
            "detected_loss_regions": [r for r in loss_regions if r in detected],
            "detected_other_regions": [
                r for r in REGIONS if r in detected and r not in loss_regions
            ],
        }
    summary = {
        "loss_pct": loss_pct,
        "border_mm": border_mm,
        "loss_regions": loss_regions,
        "atlas": atlas,
        "by_inference": by_inference,
    }
    elsewhere = pd.DataFrame(far_rows, columns=["inference", "atlas_label", "significant_voxels"])
    return TruthComparison(regions, elsewhere, summary)
