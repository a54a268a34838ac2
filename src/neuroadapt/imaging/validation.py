"""Validation on simulated cohorts: sensitivity per region and family-wise error.

*Sensitivity* of a region: the fraction of simulated cohorts (users with the
given regional change, controls without) in which at least one voxel of the
region is significant (TFCE FWE p < ``alpha``, one-sided users < controls).
*Family-wise error*: the fraction of null cohorts (no change anywhere) with
at least one significant voxel anywhere in the mask; a valid test keeps it at
or below ``alpha`` up to binomial error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from neuroadapt.imaging.atlases import gm_mask
from neuroadapt.imaging.design import make_design
from neuroadapt.imaging.glm import PermutedGLM
from neuroadapt.imaging.synth import MapSynthesizer, make_participants
from neuroadapt.model.structure import REGIONS


@dataclass
class ValidationResult:
    """Sensitivity per region and FWE over null cohorts."""

    sensitivity: pd.DataFrame
    fwe_tfce: float
    fwe_max_t: float
    n_cohorts: int
    n_null: int
    n_permutations: int
    n_voxels: int


def simulate_masked(
    synth: MapSynthesizer, participants: pd.DataFrame, change: pd.DataFrame, mask: np.ndarray
) -> np.ndarray:
    """Subjects × mask voxels of synthetic maps (no files written)."""
    return np.vstack([m[mask] for m in synth.maps(participants, change)]).astype(np.float64)


def _cohort(n_users, n_controls, seed, effect):
    p = make_participants(n_users, n_controls, seed=seed)
    change = pd.DataFrame(0.0, index=p["participant_id"], columns=list(REGIONS))
    users = p["participant_id"][p["group"] == "user"]
    for region, value in effect.items():
        change.loc[users, region] = value
    return p, change


def validate(
    effect: dict[str, float],
    n_users: int = 20,
    n_controls: int = 20,
    n_cohorts: int = 5,
    n_null: int = 20,
    n_permutations: int = 200,
    alpha: float = 0.05,
    mask: np.ndarray | None = None,
    seed: int = 0,
) -> ValidationResult:
    """Sensitivity per region and FWE over null cohorts.

    Parameters
    ----------
    effect
        Fractional GM change of users per region (e.g. ``{"nucleus accumbens": -0.08}``).
    n_users, n_controls
        Group sizes of every cohort.
    n_cohorts, n_null
        Cohorts with the effect, and null cohorts.
    n_permutations
        Permutations per analysis.
    alpha
        FWE level.
    mask
        Analysis mask (default: the 2 mm gray-matter mask).
    seed
        Base seed; cohort *i* uses ``seed + i`` (null cohorts ``seed + 10_000 + i``).
    """
    if mask is None:
        mask = np.asarray(gm_mask().dataobj) > 0
    hits = {r: [] for r in effect}
    fraction = {r: [] for r in effect}
    null_tfce = null_t = 0
    for i in range(n_cohorts + n_null):
        is_null = i >= n_cohorts
        cohort_seed = seed + (10_000 + i if is_null else i)
        p, change = _cohort(n_users, n_controls, cohort_seed, {} if is_null else effect)
        synth = MapSynthesizer(seed=cohort_seed)
        Y = simulate_masked(synth, p, change, mask)
        d = make_design(p, "users<controls")
        glm = PermutedGLM(
            n_permutations=n_permutations, two_sided=False, tfce=True, cluster_p=None,
            seed=cohort_seed,
        ).fit(Y, d.tested, d.confounds, mask)  # fmt: skip
        sig = glm.p_tfce_ < alpha
        if is_null:
            null_tfce += bool(sig.any())
            null_t += bool((glm.p_max_t_ < alpha).any())
            continue
        regions = synth.regions[mask]
        for r in effect:
            inside = regions == REGIONS.index(r) + 1
            hits[r].append(bool(sig[inside].any()))
            fraction[r].append(float(sig[inside].mean()))
    sens = pd.DataFrame(
        {
            "region": list(effect),
            "change": [effect[r] for r in effect],
            "detected_fraction_of_cohorts": [
                np.mean(hits[r]) if hits[r] else np.nan for r in effect
            ],
            "mean_fraction_of_voxels": [
                np.mean(fraction[r]) if fraction[r] else np.nan for r in effect
            ],
        }
    )
    return ValidationResult(
        sens,
        null_tfce / n_null if n_null else np.nan,
        null_t / n_null if n_null else np.nan,
        n_cohorts,
        n_null,
        n_permutations,
        int(mask.sum()),
    )
