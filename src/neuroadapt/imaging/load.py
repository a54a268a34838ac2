"""Load gray-matter maps and a participants table, with one-line errors naming the file.

The same loader serves simulated and real maps. Files are matched to the
participants table by their BIDS ``sub-<label>`` entity. Checked: every map is
3-D (or 4-D with one volume), finite, not all zero, with values of a
gray-matter probability or density map (at least 0 and, as modulation by
the Jacobian can lift a voxel above 1, at most ``img_gm_max_modulated`` of the
parameter table, 2 — a map in
percent, or of signed values, is refused); all maps share shape and affine;
the participants table has ``participant_id`` and a ``group`` column
with the values ``user`` and ``control`` only; every participant has exactly
one map; the mask is not empty and has no voxel that is zero in every map.

Default mask: the packaged 2 mm gray-matter mask when the maps are on the
template grid, otherwise voxels whose mean over subjects is at least 0.1
(SPM's absolute threshold for modulated GM).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from neuroadapt.imaging.atlases import gm_mask
from neuroadapt.imaging.parameters import imaging_parameters

GROUPS = ("user", "control")
#: SPM's absolute threshold on mean modulated GM for the default mask of non-template grids.
MEAN_GM_THRESHOLD = 0.1
#: Endings of statistic maps (``vbm`` output), skipped when a folder is searched for maps.
STATMAP_SUFFIXES = ("_statmap.nii.gz", "_statmap.nii")
_SUB = re.compile(r"(sub-[A-Za-z0-9]+)")


class ImagingInputError(ValueError):
    """Bad imaging input; the message is one line that names the file."""


@dataclass
class MapSet:
    """Masked maps aligned with their participants.

    Attributes
    ----------
    data
        Subjects × mask voxels (float64).
    mask
        3-D boolean mask.
    affine
        Voxel-to-world affine shared by every map.
    participants
        The participants table, in the order of ``data``'s rows.
    files
        Map file per row.
    xform_code
        NIfTI sform code of the first map (qform code where the sform is unset):
        4 is MNI; outputs on the maps' grid are written with it.
    """

    data: np.ndarray
    mask: np.ndarray
    affine: np.ndarray
    participants: pd.DataFrame
    files: list[Path]
    xform_code: int = 0

    def unmask(self, values: np.ndarray) -> np.ndarray:
        """A masked vector back as a 3-D array (0 outside the mask)."""
        out = np.zeros(self.mask.shape, dtype=np.float64)
        out[self.mask] = values
        return out

    def image(self, values: np.ndarray) -> nib.Nifti1Image:
        """A masked vector as a NIfTI image."""
        return nib.Nifti1Image(self.unmask(values).astype(np.float32), self.affine)


def read_participants(path: str | Path) -> pd.DataFrame:
    """Read and check a participants table (TSV, or CSV by extension)."""
    path = Path(path)
    if not path.is_file():
        raise ImagingInputError(f"{path}: participants table not found")
    sep = "," if path.suffix.lower() == ".csv" else "\t"
    try:
        df = pd.read_csv(path, sep=sep, dtype={"participant_id": str})
    except Exception as exc:
        raise ImagingInputError(f"{path}: cannot read table ({type(exc).__name__})") from None
    return check_participants(df, str(path))


def check_participants(df: pd.DataFrame, name: str = "participants") -> pd.DataFrame:
    """Check participant ids and the group column; return a cleaned copy."""
    if "participant_id" not in df.columns:
        raise ImagingInputError(f"{name}: no 'participant_id' column")
    if "group" not in df.columns:
        raise ImagingInputError(f"{name}: no 'group' column (values: user, control)")
    df = df.copy()
    df["participant_id"] = [
        p if str(p).startswith("sub-") else f"sub-{p}" for p in df["participant_id"].astype(str)
    ]
    if df["participant_id"].duplicated().any():
        dup = df["participant_id"][df["participant_id"].duplicated()].iloc[0]
        raise ImagingInputError(f"{name}: participant '{dup}' appears twice")
    groups = df["group"].astype(str).str.strip().str.lower()
    bad = sorted(set(groups) - set(GROUPS))
    if bad:
        raise ImagingInputError(
            f"{name}: column 'group' has value '{bad[0]}'; allowed: {', '.join(GROUPS)}"
        )
    df["group"] = groups
    return df


def find_maps(maps: str | Path | list) -> list[Path]:
    """NIfTI files from a folder (searched recursively) or a list of files.

    A folder search skips statistic maps (``*_statmap.nii.gz``), so ``vbm
    --out`` may lie inside the maps folder and the analysis be run again.
    """
    items = [maps] if isinstance(maps, str | Path) else list(maps)
    files: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            # statistic maps of an earlier analysis written inside the folder are no input
            files.extend(sorted(f for f in p.rglob("*.nii*")
                                if f.name.endswith((".nii", ".gz"))
                                and not f.name.endswith(STATMAP_SUFFIXES)))  # fmt: skip
        elif p.is_file():
            files.append(p)
        else:
            raise ImagingInputError(f"{p}: no such file or folder")
    files = [f for f in files if not f.name.startswith(".")]
    if not files:
        raise ImagingInputError(f"{items[0]}: no NIfTI files (.nii, .nii.gz)")
    return files


def _match(files: list[Path], participants: pd.DataFrame, name: str) -> list[Path]:
    by_id: dict[str, Path] = {}
    for f in files:
        m = _SUB.search(f.name)
        if not m:
            raise ImagingInputError(f"{f}: file name has no 'sub-<label>' to match {name}")
        pid = m.group(1)
        if pid in by_id:
            raise ImagingInputError(f"{f}: second map for {pid} (first: {by_id[pid]})")
        by_id[pid] = f
    missing = [p for p in participants["participant_id"] if p not in by_id]
    if missing:
        raise ImagingInputError(f"{name}: no map for {missing[0]} ({len(missing)} missing)")
    extra = sorted(set(by_id) - set(participants["participant_id"]))
    if extra:
        raise ImagingInputError(f"{by_id[extra[0]]}: {extra[0]} has no row in {name}")
    return [by_id[p] for p in participants["participant_id"]]


def _xform_code(img) -> int:
    sform = int(img.header["sform_code"])
    return sform if sform > 0 else int(img.header["qform_code"])


def _check_range(f: Path, data: np.ndarray) -> None:
    lo, hi = float(data.min()), float(data.max())
    top = imaging_parameters()["gm_max_modulated"]
    if lo < 0.0 or hi > top:
        raise ImagingInputError(
            f"{f}: values from {lo:.4g} to {hi:.4g}; allowed: gray-matter probability or "
            f"density maps, values in [0, 1] (modulated up to {top:g}), not in "
            "percent and not signed"
        )


def _read(f: Path, gm: bool = True) -> tuple[np.ndarray, np.ndarray, int]:
    try:
        img = nib.load(f)
        data = np.asarray(img.dataobj, dtype=np.float32)
    except Exception as exc:
        raise ImagingInputError(f"{f}: not a readable NIfTI file ({type(exc).__name__})") from None
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise ImagingInputError(f"{f}: expected a 3-D map, got shape {data.shape}")
    if not np.all(np.isfinite(data)):
        raise ImagingInputError(f"{f}: {int((~np.isfinite(data)).sum())} NaN or infinite voxels")
    if not np.any(data):
        raise ImagingInputError(f"{f}: every voxel is 0")
    if gm:
        _check_range(f, data)
    return data, img.affine, _xform_code(img)


def load_maps(
    maps: str | Path | list,
    participants: pd.DataFrame | str | Path,
    mask: str | Path | np.ndarray | None = None,
) -> MapSet:
    """Load maps and participants, check them and apply the mask.

    Parameters
    ----------
    maps
        A folder (searched recursively for ``*.nii``/``*.nii.gz``) or a list of files.
    participants
        A participants table or its path (TSV with ``participant_id``, ``group``).
    mask
        Mask image path or boolean array; default as described in the module docstring.
    """
    if isinstance(participants, str | Path):
        name = str(participants)
        table = read_participants(participants)
    else:
        name = "participants table"
        table = check_participants(participants, name)
    files = _match(find_maps(maps), table, name)
    first, affine, xform_code = _read(files[0])
    stack = np.empty((len(files),) + first.shape, dtype=np.float32)
    stack[0] = first
    for i, f in enumerate(files[1:], start=1):
        data, aff, _ = _read(f)
        if data.shape != first.shape:
            raise ImagingInputError(
                f"{f}: shape {data.shape} differs from {files[0]} {first.shape}"
            )
        if not np.allclose(aff, affine, atol=1e-3):
            raise ImagingInputError(f"{f}: affine differs from {files[0]}'s")
        stack[i] = data
    mask_name = "mask"
    if mask is None:
        ref = gm_mask()
        if ref.shape == first.shape and np.allclose(ref.affine, affine, atol=1e-3):
            mask_arr = np.asarray(ref.dataobj) > 0
            mask_name = "the packaged gray-matter mask"
        else:
            mask_arr = stack.mean(axis=0) >= MEAN_GM_THRESHOLD
            mask_name = f"the mean-GM >= {MEAN_GM_THRESHOLD} mask"
    elif isinstance(mask, np.ndarray):
        mask_arr = mask.astype(bool)
    else:
        mask_name = str(mask)
        mimg, maff, _ = _read(Path(mask), gm=False)
        if mimg.shape != first.shape or not np.allclose(maff, affine, atol=1e-3):
            raise ImagingInputError(f"{mask}: mask grid differs from the maps' ({files[0]})")
        mask_arr = mimg > 0
    if mask_arr.shape != first.shape:
        raise ImagingInputError(f"{mask_name}: shape {mask_arr.shape} differs from the maps'")
    if not mask_arr.any():
        raise ImagingInputError(f"{mask_name}: mask is empty")
    data = stack[:, mask_arr].astype(np.float64)
    dead = ~np.any(data != 0, axis=0)
    if dead.any():
        raise ImagingInputError(f"{mask_name}: {int(dead.sum())} mask voxels are 0 in every map")
    for f, row in zip(files, data, strict=True):
        if not np.any(row):
            raise ImagingInputError(f"{f}: every voxel inside {mask_name} is 0")
    return MapSet(data, mask_arr, affine, table.reset_index(drop=True), files, xform_code)
