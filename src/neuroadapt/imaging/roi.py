"""ROI volumetry and group comparisons of regional values (volumes, BP_ND, BOLD contrasts).

ROI gray-matter volume of subject *s* in region *r* is the sum of the
modulated GM map over the region's atlas voxels times the voxel volume (mL).
The group comparison of any subjects × regions table is an ANCOVA fitted by
OLS, per region::

    value = β0 + β_group · user + Σ β_c · covariate_c + ε

reported with group means and SDs, the raw difference of means (in the
values' own units) and, for quantities on a ratio scale (volumes, BP_ND), in
percent of the control mean, Cohen's d (difference of means over the pooled
SD), the covariate-adjusted difference β_group with its 95 % confidence
interval, its t and two-sided p, and the Holm-adjusted p over the regions
tested. Signed quantities whose control mean may be near zero (fMRI contrast
estimates) get no percentages (``relative=False``): a percent of a mean near
zero is meaningless.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from neuroadapt.imaging.atlases import Atlas, atlas_on_grid
from neuroadapt.imaging.design import DEFAULT_COVARIATES, covariate
from neuroadapt.imaging.load import ImagingInputError, MapSet
from neuroadapt.model.structure import REGIONS


def roi_volumes(maps: MapSet, atlas: Atlas, regions: tuple[str, ...] = REGIONS) -> pd.DataFrame:
    """Gray-matter volume (mL) per subject and region, within the analysis mask.

    Parameters
    ----------
    maps
        Loaded, masked maps.
    atlas
        Atlas whose region mapping defines the ROIs.
    regions
        neuroadapt regions to measure.
    """
    shifted = atlas_on_grid(atlas, maps.mask.shape, maps.affine)
    voxel_ml = float(abs(np.linalg.det(maps.affine[:3, :3]))) / 1000.0
    out = {}
    for region in regions:
        roi = shifted.region_mask(region)[maps.mask]
        if not roi.any():
            raise ImagingInputError(f"region '{region}' has no voxel inside the analysis mask")
        out[region] = maps.data[:, roi].sum(axis=1) * voxel_ml
    return pd.DataFrame(
        out, index=pd.Index(maps.participants["participant_id"], name="participant_id")
    )


def compare_groups(
    values: pd.DataFrame,
    participants: pd.DataFrame,
    covariates: tuple[str, ...] = DEFAULT_COVARIATES,
    source: str = "participants table",
    relative: bool = True,
) -> pd.DataFrame:
    """Users vs controls per column of ``values`` (ANCOVA by OLS; see module docstring).

    Parameters
    ----------
    values
        Subjects × regions, indexed by ``participant_id``.
    participants
        Checked participants table.
    covariates
        Nuisance covariates (a constant one is dropped).
    source
        Name for error messages.
    relative
        Also give the differences in percent of the control mean
        (``diff_pct``, ``adjusted_diff_pct``); only for ratio-scale values.
    """
    table = participants.set_index("participant_id").loc[values.index]
    user = (table["group"] == "user").to_numpy(dtype=float)
    if user.sum() < 2 or (1 - user).sum() < 2:
        raise ImagingInputError(f"{source}: need at least two users and two controls")
    cols = [np.ones(len(user)), user]
    for name in covariates:
        c = covariate(table.reset_index(), name, source)
        if np.ptp(c) > 0:
            cols.append(c)
    X = np.column_stack(cols)
    df = X.shape[0] - np.linalg.matrix_rank(X)
    if df < 1:
        raise ImagingInputError(
            f"{source}: {X.shape[0]} participants leave no residual degrees of freedom for "
            f"the group and {X.shape[1] - 2} covariate(s); need at least {X.shape[1] + 1}"
        )
    xtx_inv = np.linalg.pinv(X.T @ X)
    t_crit = stats.t.ppf(0.975, df)
    rows = []
    for region in values.columns:
        y = values[region].to_numpy(dtype=float)
        beta = xtx_inv @ X.T @ y
        resid = y - X @ beta
        se = np.sqrt(resid @ resid / df * xtx_inv[1, 1])
        t = beta[1] / se
        u, c = y[user == 1], y[user == 0]
        pooled = np.sqrt(
            ((u.size - 1) * u.var(ddof=1) + (c.size - 1) * c.var(ddof=1)) / (u.size + c.size - 2)
        )
        diff = u.mean() - c.mean()
        row = {
            "region": region,
            "mean_users": u.mean(),
            "sd_users": u.std(ddof=1),
            "mean_controls": c.mean(),
            "sd_controls": c.std(ddof=1),
            "diff": diff,
        }
        if relative:
            row["diff_pct"] = 100.0 * diff / c.mean()
        row |= {
            "cohens_d": diff / pooled,
            "adjusted_diff": beta[1],
            "adjusted_diff_ci95_low": beta[1] - t_crit * se,
            "adjusted_diff_ci95_high": beta[1] + t_crit * se,
        }
        if relative:
            row["adjusted_diff_pct"] = 100.0 * beta[1] / c.mean()
        row |= {"t": t, "df": df, "p": 2 * stats.t.sf(abs(t), df)}
        rows.append(row)
    # statsmodels is imported here, not at module level: it adds ~0.7 s to every import.
    from statsmodels.stats.multitest import multipletests

    out = pd.DataFrame(rows)
    out["p_holm"] = multipletests(out["p"].to_numpy(), method="holm")[1]
    return out


TEST_DESCRIPTION = (
    "ANCOVA per region by ordinary least squares (value ~ group + {covariates}), two-sided "
    "t-test of the group coefficient, Holm correction over regions; Cohen's d from the raw "
    "group means and the pooled standard deviation"
)
