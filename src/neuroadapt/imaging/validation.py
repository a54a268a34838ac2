"""Validation on simulated cohorts: sensitivity per region and family-wise error.

*Sensitivity* of a region: the fraction of simulated cohorts (users with a
regional change, controls without) in which at least one voxel of the
region is significant (FWE p < ``alpha``, one-sided users < controls), for
each inference (TFCE, max-T, cluster mass). The users' changes are either
one number per region (``effect``) or rows drawn with replacement from a
pool of per-subject changes (``user_changes``, e.g. the model's users of the
default scenario at the end of use), so a cohort carries the model's
between-subject spread.

*Family-wise error*: the fraction of null cohorts (no change anywhere) with
at least one significant voxel (max-T, TFCE) or cluster (cluster mass)
anywhere in the mask. A valid test keeps it at or below ``alpha`` up to
binomial error; rates come with exact (Clopper–Pearson) 95 % intervals.

Cohorts are synthesised on the bounding box of the mask plus a margin of
three smoothing-kernel SDs (``MapSynthesizer(box=...)``), so a validation on a
small mask costs little.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.ndimage import distance_transform_edt

from neuroadapt.imaging.atlases import gm_mask, gm_template
from neuroadapt.imaging.design import make_design
from neuroadapt.imaging.glm import PermutedGLM
from neuroadapt.imaging.parameters import imaging_parameters
from neuroadapt.imaging.synth import FWHM_TO_SIGMA, MapSynthesizer, make_participants
from neuroadapt.model.structure import REGIONS

#: Inferences validated, and the attribute of the fitted model that decides a hit.
INFERENCES = ("max-T", "cluster mass", "TFCE")


def binomial_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) confidence interval of a binomial proportion.

    Examples
    --------
    >>> lo, hi = binomial_ci(0, 100)
    >>> round(lo, 4), round(hi, 4)
    (0.0, 0.0362)
    """
    if n == 0:
        return float("nan"), float("nan")
    # statsmodels is imported here, not at module level: it adds ~0.7 s to every import.
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(k, n, alpha=1.0 - level, method="beta")
    return float(lo), float(hi)


def bounding_box(mask: np.ndarray, margin: int) -> tuple[slice, slice, slice]:
    """Slices of the mask's bounding box grown by ``margin`` voxels (clipped to the grid)."""
    idx = np.argwhere(mask)
    if idx.size == 0:
        raise ValueError("the mask is empty")
    lo = np.maximum(idx.min(0) - margin, 0)
    hi = np.minimum(idx.max(0) + 1 + margin, mask.shape)
    return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))  # type: ignore[return-value]


@dataclass
class ValidationResult:
    """Sensitivity per region and FWE over null cohorts.

    Attributes
    ----------
    sensitivity
        One row per region with voxels in the mask: true change (mean of the
        users drawn, %), fraction of cohorts detected per inference, mean
        fraction of the region's voxels significant (TFCE).
    fwe
        One row per inference: null cohorts with a false positive, their
        number, the rate and its 95 % Clopper–Pearson interval.
    outside
        Per inference, the fraction of effect cohorts with a significant
        voxel farther than ``outside_mm`` from every region with a change.
    settings
        Sizes, permutations, seed, mask voxels, alpha.
    """

    sensitivity: pd.DataFrame
    fwe: pd.DataFrame
    outside: dict[str, float] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    @property
    def fwe_tfce(self) -> float:
        """FWE of TFCE over the null cohorts."""
        return float(self.fwe.set_index("inference").loc["TFCE", "rate"])

    @property
    def fwe_max_t(self) -> float:
        """FWE of max-T over the null cohorts."""
        return float(self.fwe.set_index("inference").loc["max-T", "rate"])

    @property
    def n_voxels(self) -> int:
        """Voxels in the analysis mask."""
        return int(self.settings["n_voxels"])


def simulate_masked(
    synth: MapSynthesizer, participants: pd.DataFrame, change: pd.DataFrame, mask: np.ndarray
) -> np.ndarray:
    """Subjects × mask voxels of synthetic maps (no files written).

    ``mask`` is on the synthesizer's grid (its box, if it has one).
    """
    return np.vstack([m[mask] for m in synth.maps(participants, change)]).astype(np.float64)


def _cohort(n_users, n_controls, seed, effect, pool):
    p = make_participants(n_users, n_controls, seed=seed)
    change = pd.DataFrame(0.0, index=p["participant_id"], columns=list(REGIONS))
    users = p["participant_id"][p["group"] == "user"]
    if pool is not None:
        rows = np.random.default_rng([seed, 0x5EED]).integers(0, len(pool), size=len(users))
        change.loc[users, :] = pool.to_numpy()[rows]
    for region, value in effect.items():
        change.loc[users, region] = value
    return p, change


def _hits(glm: PermutedGLM, alpha: float) -> dict[str, np.ndarray]:
    """Significant voxels per inference."""
    out = {"max-T": glm.p_max_t_ < alpha, "TFCE": glm.p_tfce_ < alpha}
    if glm.cluster_threshold_ is not None:
        out["cluster mass"] = glm.p_cluster_map() < alpha
    return out


def validate(
    effect: dict[str, float] | None = None,
    n_users: int = 20,
    n_controls: int = 20,
    n_cohorts: int = 5,
    n_null: int = 20,
    n_permutations: int = 200,
    alpha: float = 0.05,
    mask: np.ndarray | None = None,
    seed: int = 0,
    user_changes: pd.DataFrame | None = None,
    cluster_p: float = 0.001,
    outside_mm: float = 8.0,
    progress: Callable[[int, int], None] | None = None,
) -> ValidationResult:
    """Sensitivity per region and FWE over null cohorts.

    Parameters
    ----------
    effect
        Fractional GM change of users per region (e.g. ``{"nucleus accumbens": -0.08}``);
        overrides ``user_changes`` for the regions it names.
    n_users, n_controls
        Group sizes of every cohort.
    n_cohorts, n_null
        Cohorts with the effect, and null cohorts.
    n_permutations
        Permutations per analysis.
    alpha
        FWE level.
    mask
        Analysis mask on the 2 mm template grid (default: the gray-matter mask).
    seed
        Base seed; cohort *i* uses ``seed + i`` (null cohorts ``seed + 10_000 + i``).
    user_changes
        Pool of per-user regional changes (rows: subjects, columns: ``REGIONS``)
        drawn with replacement for the users of each effect cohort.
    cluster_p
        Cluster-forming threshold (uncorrected, one-sided) of cluster mass.
    outside_mm
        Distance from every region with a change beyond which a significant
        voxel counts as a false positive of an effect cohort (default one
        smoothing FWHM: the smoothed true effect there is < 1 % of the region's).
    progress
        Called with (cohorts done, total).
    """
    effect = dict(effect or {})
    full = np.asarray(gm_mask().dataobj) > 0
    mask = full if mask is None else np.asarray(mask, bool)
    params = imaging_parameters()
    sigmas = (params["anat_fwhm_mm"], params["smoothing_fwhm_mm"])
    margin = int(np.ceil(3 * max(sigmas) * FWHM_TO_SIGMA / abs(gm_template().affine[0, 0])))
    box = bounding_box(mask, margin)
    synth = MapSynthesizer(seed=seed, box=box)
    sub = mask[box]
    regions = synth.regions[sub]
    present = [r for r in REGIONS if np.any(regions == REGIONS.index(r) + 1)]
    vox_mm = abs(float(synth.affine[0, 0]))
    hits = {r: {k: [] for k in INFERENCES} for r in present}
    fraction = {r: [] for r in present}
    truth = {r: [] for r in present}
    outside = {k: [] for k in INFERENCES}
    null_hits = {k: 0 for k in INFERENCES}
    total = n_cohorts + n_null
    for i in range(total):
        is_null = i >= n_cohorts
        cohort_seed = seed + (10_000 + i if is_null else i)
        p, change = _cohort(
            n_users, n_controls, cohort_seed, {} if is_null else effect,
            None if is_null else user_changes,
        )  # fmt: skip
        synth.seed = cohort_seed  # the per-subject streams are keyed by this seed
        Y = simulate_masked(synth, p, change, sub)
        d = make_design(p, "users<controls")
        glm = PermutedGLM(
            n_permutations=n_permutations, two_sided=False, tfce=True, cluster_p=cluster_p,
            seed=cohort_seed,
        ).fit(Y, d.tested, d.confounds, sub)  # fmt: skip
        sig = _hits(glm, alpha)
        if progress is not None:
            progress(i + 1, total)
        if is_null:
            for k in INFERENCES:
                null_hits[k] += bool(sig[k].any())
            continue
        users = p["participant_id"][p["group"] == "user"]
        mean_change = change.loc[users].mean()
        changed = np.zeros(sub.shape, bool)
        for r in REGIONS:
            if abs(mean_change[r]) > 1e-9:
                changed |= synth.regions == REGIONS.index(r) + 1
        far = (
            distance_transform_edt(~changed)[sub] * vox_mm > outside_mm
            if changed.any()
            else np.ones(int(sub.sum()), bool)
        )
        for k in INFERENCES:
            outside[k].append(bool(sig[k][far].any()))
        for r in present:
            inside = regions == REGIONS.index(r) + 1
            truth[r].append(100.0 * mean_change[r])
            for k in INFERENCES:
                hits[r][k].append(bool(sig[k][inside].any()))
            fraction[r].append(float(sig["TFCE"][inside].mean()))
    rows = []
    for r in present:
        row = {
            "region": r,
            "voxels": int(np.sum(regions == REGIONS.index(r) + 1)),
            "true_change_pct": float(np.mean(truth[r])) if truth[r] else np.nan,
        }
        for k in INFERENCES:
            row[f"detected_{k}"] = float(np.mean(hits[r][k])) if hits[r][k] else np.nan
        row["voxel_fraction_TFCE"] = float(np.mean(fraction[r])) if fraction[r] else np.nan
        rows.append(row)
    fwe_rows = []
    for k in INFERENCES:
        lo, hi = binomial_ci(null_hits[k], n_null)
        fwe_rows.append(
            {
                "inference": k,
                "false_positive_cohorts": null_hits[k],
                "null_cohorts": n_null,
                "rate": null_hits[k] / n_null if n_null else np.nan,
                "ci95_low": lo,
                "ci95_high": hi,
            }
        )
    settings = {
        "n_users": n_users,
        "n_controls": n_controls,
        "n_cohorts": n_cohorts,
        "n_null": n_null,
        "n_permutations": n_permutations,
        "alpha": alpha,
        "cluster_p": cluster_p,
        "seed": seed,
        "n_voxels": int(sub.sum()),
        "box": [(s.start, s.stop) for s in box],
        "outside_mm": outside_mm,
    }
    return ValidationResult(
        pd.DataFrame(rows),
        pd.DataFrame(fwe_rows),
        {k: float(np.mean(v)) if v else np.nan for k, v in outside.items()},
        settings,
    )
