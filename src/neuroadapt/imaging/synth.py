"""Synthetic modulated gray-matter maps of a virtual cohort, in MNI space at 2 mm.

For subject *s* and voxel *v* (template gray-matter probability ``G(v)``,
atlas region ``r(v)``, the model's fractional regional change ``Δ_{s,r}``)::

    M_s(v) = G(v) · (1 + Δ_{s,r(v)}) · exp(σ_a F_s(v) − σ_a²/2)
                  · (1 + β_age (age_s − age_ref)) · (1 + β_f female_s)
                  · (TIV_s / TIV_ref)^γ  +  σ_n G(v) ε_s(v)
    map_s = K_8mm ∗ max(M_s, 0)

``F_s`` is a unit-variance Gaussian random field (white noise smoothed to
``anat_fwhm_mm``), ``ε_s`` white noise, ``K_8mm`` the final Gaussian kernel:
atrophy enters before smoothing, as in a real VBM pipeline (segmentation,
modulation, then smoothing). Every number comes from the ``img_*`` rows of the
parameter table (see :func:`neuroadapt.imaging.parameters.imaging_parameters`).

Each subject draws from its own random stream, keyed by the seed and the
participant id, so a subject's map does not depend on which or how many other
subjects are generated in the same call.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter

from neuroadapt.atomic import write_text
from neuroadapt.imaging.atlases import TEMPLATE_INFO, gm_template, load_atlas, region_label_image
from neuroadapt.imaging.bids import (
    BIDS_VERSION,
    generated_by,
    save_nifti,
    write_participants,
    write_sidecar,
)
from neuroadapt.imaging.parameters import imaging_parameters
from neuroadapt.model.structure import REGIONS

FWHM_TO_SIGMA = 1.0 / np.sqrt(8.0 * np.log(2.0))
MAP_SUFFIX = "label-GM_desc-modulatedS8_probseg.nii.gz"


def subject_rng(seed: int, participant_id: str, stream: str) -> np.random.Generator:
    """Random generator of one subject and one purpose (independent of the cohort)."""
    key = zlib.crc32(f"{participant_id}:{stream}".encode())
    return np.random.default_rng([int(seed), key])


def map_filename(participant_id: str) -> str:
    """BIDS-derivatives file name of a subject's smoothed modulated GM map."""
    return f"{participant_id}_space-{TEMPLATE_INFO['space']}_res-2_{MAP_SUFFIX}"


def make_participants(
    n_users: int,
    n_controls: int,
    seed: int = 0,
    age_mean: float | None = None,
    age_sd: float | None = None,
    female_fraction: float | None = None,
    years_of_use: np.ndarray | None = None,
    overrides: dict | None = None,
) -> pd.DataFrame:
    """A participants table (BIDS columns) with ages, sexes and generated TIV.

    Parameters
    ----------
    n_users, n_controls
        Group sizes; users come first (``sub-001`` ...).
    seed
        Seed of the per-subject streams.
    age_mean, age_sd, female_fraction
        Cohort demographics: mean and SD of age (years) and probability of
        being a woman, the same for users and controls. Each defaults to its
        row of the parameter table, ``img_participant_age_mean`` (35 years),
        ``img_participant_age_sd`` (8 years) and
        ``img_participant_female_fraction`` (0.3), a cohort typical of people
        in opioid treatment (see the rows' sources); a value given here wins.
        Ages are drawn normal and clipped to ``[img_participant_age_min,
        img_participant_age_max]`` = [18, 80] years (adults only).
    years_of_use
        Per-user years of use. Default, a fallback for synthetic cohorts::

            max(years_use_min, years_use_at_ref_age
                               + years_use_slope (age − years_use_ref_age))

        from the ``img_years_use_*`` rows of the parameter table (minimum 1
        year, 5 years at the reference age of 20 years, 0.25 year/year: that
        is 5 + 0.25 (age − 20), at least 1). It is an assumption, not a
        published relation. ``neuroadapt imaging simulate`` never reaches
        it: the CLI builds its participants from the scenario
        (:func:`neuroadapt.imaging.study.cohort_tables`), with the simulated
        cohort's own years of use. It serves the validation cohorts
        (:func:`neuroadapt.imaging.validation.validate`, whose
        ``users<controls`` design does not use years of use), tests and
        benchmarks.
    overrides
        Imaging parameter overrides (working units, names without ``img_``),
        for the demographics defaults and age clip, the fallback years of use
        and the TIV.
    """
    p = imaging_parameters(overrides)
    age_mean = p["participant_age_mean"] if age_mean is None else age_mean
    age_sd = p["participant_age_sd"] if age_sd is None else age_sd
    if female_fraction is None:
        female_fraction = p["participant_female_fraction"]
    age_min, age_max = p["participant_age_min"], p["participant_age_max"]
    if not age_min <= age_max:
        raise ValueError(f"participants: need age_min {age_min} <= age_max {age_max} (years)")
    ids = [f"sub-{i + 1:03d}" for i in range(n_users + n_controls)]
    rows = []
    for i, pid in enumerate(ids):
        rng = subject_rng(seed, pid, "demographics")
        age = float(np.clip(age_mean + age_sd * rng.standard_normal(), age_min, age_max))
        female = rng.random() < female_fraction
        rows.append(
            {
                "participant_id": pid,
                "group": "user" if i < n_users else "control",
                "age": round(age, 2),
                "sex": "F" if female else "M",
            }
        )
    df = pd.DataFrame(rows)
    if years_of_use is None:
        since_ref = df["age"].to_numpy() - p["years_use_ref_age"]
        years = np.maximum(
            p["years_use_min"], p["years_use_at_ref_age"] + p["years_use_slope"] * since_ref
        )
    else:
        years = np.zeros(len(df))
        years[:n_users] = np.asarray(years_of_use, dtype=float)
    df["years_of_use"] = np.where(df["group"] == "user", np.round(years, 2), 0.0)
    df["tiv"] = generate_tiv(df, seed, overrides)
    return df


def years_of_use_at_scan(
    n: int, seed: int, use_years: float, overrides: dict | None = None
) -> np.ndarray:
    """Each user's own years of use when a cross-sectional study scans a life course.

    A life course has every user use for the same planned time (``use``), so
    imaging all of them at its end gives one years-of-use value and a contrast
    on it only repeats the group contrast. A study recruits people at
    different stages instead: user *i* is scanned after ``U_i`` years of use,
    drawn uniform in ``[min(img_years_use_min, use_years), use_years]``
    (``img_years_use_min`` = 1 year: every user has used for at least a year)
    from the index's own random stream, so a user's draw does not depend on
    the cohort's size.

    Parameters
    ----------
    n
        Number of users (draw *i* serves user *i* and its matched control).
    seed
        The scenario's seed.
    use_years
        The life course's planned years of use (``behaviour.use``).
    overrides
        Imaging parameter overrides (names without ``img_``).

    Examples
    --------
    >>> y = years_of_use_at_scan(200, 0, 10.0)
    >>> bool(1.0 <= y.min() < 1.5 and 9.5 < y.max() <= 10.0)
    True
    """
    if not use_years > 0:
        raise ValueError(f"use_years = {use_years}: must be > 0")
    low = min(imaging_parameters(overrides)["years_use_min"], use_years)
    u = np.array([subject_rng(seed, f"index-{i}", "years-of-use").random() for i in range(n)])
    return low + (use_years - low) * u


def generate_tiv(
    participants: pd.DataFrame, seed: int = 0, overrides: dict | None = None
) -> np.ndarray:
    """Total intracranial volume (mL) per participant: normal within sex.

    ``overrides``: imaging parameter overrides (working units, names without ``img_``).
    """
    p = imaging_parameters(overrides)
    out = np.empty(len(participants))
    pairs = zip(participants["participant_id"], participants["sex"], strict=True)
    for i, (pid, sex) in enumerate(pairs):
        rng = subject_rng(seed, str(pid), "tiv")
        mean = p["tiv_female"] if str(sex).upper().startswith("F") else p["tiv_male"]
        out[i] = round(mean + p["tiv_sd"] * rng.standard_normal(), 1)
    return out


def _unit_field(rng: np.random.Generator, shape: tuple, sigma_vox: float) -> np.ndarray:
    noise = rng.standard_normal(shape, dtype=np.float32)
    field = gaussian_filter(noise, sigma_vox, mode="constant")
    delta = np.zeros((int(8 * sigma_vox) | 1,) * 3, dtype=np.float64)
    delta[(delta.shape[0] // 2,) * 3] = 1.0
    var = float((gaussian_filter(delta, sigma_vox, mode="constant") ** 2).sum())
    return field / np.float32(np.sqrt(var))


@cache
def _region_image(atlas: str) -> np.ndarray:
    image = region_label_image(load_atlas(atlas), REGIONS)
    image.flags.writeable = False
    return image


class MapSynthesizer:
    """Generate smoothed, modulated GM maps from a regional change table.

    Parameters
    ----------
    atlas
        Atlas that carries the regional change (``"harvard_oxford"`` or ``"aal3"``).
    seed
        Seed of the per-subject streams.
    overrides
        Imaging parameter overrides (working units, names without ``img_``).
    box
        Optional sub-volume (three slices of the 2 mm template grid): maps are
        generated on that box only, with its own affine. Used by the validation
        to simulate many cohorts cheaply; the random fields then differ from
        whole-brain maps of the same seed (they are drawn on another shape),
        but have the same distribution away from the box faces.
    """

    def __init__(
        self,
        atlas: str = "harvard_oxford",
        seed: int = 0,
        overrides: dict | None = None,
        box: tuple[slice, slice, slice] | None = None,
    ):
        self.atlas = atlas
        self.seed = int(seed)
        self.params = imaging_parameters(overrides)
        tpl = gm_template()
        self.affine = tpl.affine.copy()
        self.base = np.asarray(tpl.get_fdata(), dtype=np.float32)
        self.regions = _region_image(atlas)
        self.box = None if box is None else tuple(box)
        if self.box is not None:
            shape = self.base.shape
            start = np.array([sl.indices(n)[0] for sl, n in zip(self.box, shape, strict=True)])
            self.base = np.ascontiguousarray(self.base[self.box])
            self.regions = np.ascontiguousarray(self.regions[self.box])
            self.affine[:3, 3] += self.affine[:3, :3] @ start
        vox = float(abs(self.affine[0, 0]))
        self._sigma_anat = self.params["anat_fwhm_mm"] * FWHM_TO_SIGMA / vox
        self._sigma_smooth = self.params["smoothing_fwhm_mm"] * FWHM_TO_SIGMA / vox

    def subject_map(self, row: pd.Series, change: np.ndarray) -> np.ndarray:
        """The smoothed modulated GM map of one participant (3-D float32).

        Parameters
        ----------
        row
            Participant row with ``participant_id``, ``age``, ``sex``, ``tiv``.
        change
            Fractional gray-matter change per region, in the order of ``REGIONS``.
        """
        p = self.params
        pid = str(row["participant_id"])
        change = np.asarray(change, dtype=np.float32)
        if change.shape != (len(REGIONS),) or not np.all(np.isfinite(change)):
            raise ValueError(f"{pid}: regional change must be {len(REGIONS)} finite numbers")
        factor = np.concatenate([[np.float32(1.0)], 1.0 + change])[self.regions]
        rng = subject_rng(self.seed, pid, "anatomy")
        field = _unit_field(rng, self.base.shape, self._sigma_anat)
        anat = np.exp(p["anat_sd"] * field - 0.5 * p["anat_sd"] ** 2)
        female = str(row["sex"]).upper().startswith("F")
        glob = (
            (1.0 + p["age_slope"] * (float(row["age"]) - p["age_ref"]))
            * (1.0 + (p["female_effect"] if female else 0.0))
            * (float(row["tiv"]) / p["tiv_ref"]) ** p["tiv_exponent"]
        )
        noise = rng.standard_normal(self.base.shape, dtype=np.float32)
        gm = self.base * (factor * anat * np.float32(glob) + np.float32(p["noise_sd"]) * noise)
        np.maximum(gm, 0.0, out=gm)
        return gaussian_filter(gm, self._sigma_smooth, mode="constant")

    def maps(self, participants: pd.DataFrame, change: pd.DataFrame) -> Iterator[np.ndarray]:
        """Yield each participant's map, in the table's order."""
        table = _change_table(participants, change)
        for _, row in participants.iterrows():
            yield self.subject_map(row, table.loc[row["participant_id"]].to_numpy())


def _change_table(participants: pd.DataFrame, change: pd.DataFrame) -> pd.DataFrame:
    missing_cols = [r for r in REGIONS if r not in change.columns]
    if missing_cols:
        raise ValueError(f"change table lacks region columns: {', '.join(missing_cols)}")
    table = change.copy()
    if "participant_id" in table.columns:
        table = table.set_index("participant_id")
    table = table[list(REGIONS)].astype(float)
    missing = [p for p in participants["participant_id"] if p not in table.index]
    if missing:
        raise ValueError(f"change table lacks participants: {', '.join(map(str, missing[:5]))}")
    return table


def write_cohort(
    out_dir: str | Path,
    participants: pd.DataFrame,
    change: pd.DataFrame,
    seed: int = 0,
    atlas: str = "harvard_oxford",
    overrides: dict | None = None,
    progress=None,
    ignore: tuple[str, ...] = (),
) -> list[Path]:
    """Generate and write a cohort as a BIDS-derivatives folder.

    Writes ``dataset_description.json``, ``participants.tsv`` and
    ``participants.json``, ``ground_truth.tsv`` (the regional change used) and
    ``sub-*/anat/sub-*_space-MNI152NLin2009aSym_res-2_label-GM_desc-modulatedS8_probseg.nii.gz``
    (``sform_code`` 4, MNI) with a JSON sidecar each (see :mod:`neuroadapt.imaging.bids`),
    and ``.bidsignore`` naming ``ground_truth.tsv`` and the paths in ``ignore``
    (files of the caller's that are not BIDS).

    Returns
    -------
    list of Path
        The map files, in the participants' order.
    """
    out = Path(out_dir)
    synth = MapSynthesizer(atlas=atlas, seed=seed, overrides=overrides)
    table = _change_table(participants, change)
    p = synth.params
    vox = np.sqrt((np.asarray(synth.affine)[:3, :3] ** 2).sum(axis=0))
    size = " x ".join(f"{v:g}" for v in vox)
    meta = {
        "Description": "smoothed, modulated gray-matter map of a simulated participant: "
        f"template GM probability ({TEMPLATE_INFO['title']}) x (1 + regional change) x "
        "individual anatomy and global (age, sex, TIV) factors, plus noise; modulated values "
        "may exceed 1",
        "SpatialReference": TEMPLATE_INFO["space"],
        "Resolution": f"{vox[0]:g} mm isotropic" if np.allclose(vox, vox[0]) else f"{size} mm",
        "SmoothingFWHM": p["smoothing_fwhm_mm"],
        "SmoothingFWHMUnits": "mm",
        "Modulated": True,
        "Atlas": atlas,
        "Seed": int(seed),
    }
    paths = []
    for i, (_, row) in enumerate(participants.iterrows()):
        pid = str(row["participant_id"])
        data = synth.subject_map(row, table.loc[pid].to_numpy())
        path = out / pid / "anat" / map_filename(pid)
        save_nifti(path, data, synth.affine)
        write_sidecar(path, meta)
        paths.append(path)
        if progress is not None:
            progress(i + 1, len(participants))
    description = {
        "Name": "neuroadapt synthetic modulated gray-matter maps",
        "BIDSVersion": BIDS_VERSION,
        "DatasetType": "derivative",
        "GeneratedBy": generated_by("neuroadapt.imaging.synth"),
        "Template": TEMPLATE_INFO["space"],
        "Atlas": atlas,
        "Seed": int(seed),
        "Parameters": synth.params,
    }
    write_text(out / "dataset_description.json", json.dumps(description, indent=2))
    write_participants(out, participants)
    truth = table.loc[participants["participant_id"]].reset_index()
    write_text(out / "ground_truth.tsv", truth.to_csv(sep="\t", index=False))
    write_text(out / ".bidsignore", "\n".join(("ground_truth.tsv", *ignore)) + "\n")
    return paths
