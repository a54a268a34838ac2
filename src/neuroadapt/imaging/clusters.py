"""Cluster tables: size, peak MNI coordinates, peak statistic and atlas labels.

A cluster is a 6-connected set of voxels whose FWE p-value is below ``alpha``
and whose t has one sign. For each cluster: size (voxels and mL), the peak
voxel (largest |t|) with its MNI coordinates, t and p, the Harvard–Oxford and
AAL3 labels at the peak, and the neuroadapt regions the cluster overlaps
(percent of the cluster's voxels).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neuroadapt.imaging.atlases import EXTRA_REGIONS, atlas_on_grid, load_atlas
from neuroadapt.imaging.tfce import cluster_labels, neighbours
from neuroadapt.model.structure import REGIONS


def cluster_table(
    t: np.ndarray,
    p: np.ndarray,
    mask: np.ndarray,
    affine: np.ndarray,
    alpha: float = 0.05,
    atlases: tuple[str, ...] = ("harvard_oxford", "aal3"),
    min_size: int = 1,
) -> pd.DataFrame:
    """Table of the significant clusters of a statistic map.

    Parameters
    ----------
    t
        Statistic per mask voxel.
    p
        FWE-corrected p per mask voxel.
    mask
        3-D boolean mask.
    affine
        Voxel-to-MNI affine.
    alpha
        Significance level.
    atlases
        Atlases whose labels are reported at the peak.
    min_size
        Smallest cluster (voxels) reported.
    """
    nbr = neighbours(mask, 6)
    ijk = np.argwhere(mask)
    voxel_ml = float(abs(np.linalg.det(affine[:3, :3]))) / 1000.0
    on_grid = {name: atlas_on_grid(load_atlas(name), mask.shape, affine) for name in atlases}
    ho = on_grid.get("harvard_oxford")
    region_masks = {}
    if ho is not None:
        region_masks = {r: ho.region_mask(r)[mask] for r in REGIONS + EXTRA_REGIONS}
    rows = []
    for sign in (1.0, -1.0):
        sig = ((p < alpha) & (sign * t > 0)).astype(np.float64)
        labels, _, sizes = cluster_labels(sig, nbr, 0.5, False)
        for lab in range(1, sizes.size + 1):
            members = np.flatnonzero(labels == lab)
            if members.size < min_size:
                continue
            peak = members[np.argmax(np.abs(t[members]))]
            xyz = affine[:3, :3] @ ijk[peak] + affine[:3, 3]
            row = {
                "sign": "+" if sign > 0 else "-",
                "size_voxels": int(members.size),
                "size_ml": members.size * voxel_ml,
                "peak_t": float(t[peak]),
                "peak_p": float(p[peak]),
                "x": float(xyz[0]),
                "y": float(xyz[1]),
                "z": float(xyz[2]),
            }
            for name, atlas in on_grid.items():
                row[f"label_{name}"] = atlas.label_at(tuple(ijk[peak]))
            overlap = {
                r: 100.0 * m[members].mean() for r, m in region_masks.items() if m[members].any()
            }
            row["regions"] = "; ".join(
                f"{r} {v:.0f}%" for r, v in sorted(overlap.items(), key=lambda kv: -kv[1])
            )
            rows.append(row)
    columns = ["sign", "size_voxels", "size_ml", "peak_t", "peak_p", "x", "y", "z"]
    columns += [f"label_{n}" for n in atlases] + ["regions"]
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values("size_voxels", ascending=False, ignore_index=True)
