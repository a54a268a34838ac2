"""BIDS-derivatives output: NIfTI headers, JSON sidecars, labels and table names.

What :func:`neuroadapt.imaging.synth.write_cohort` and the analyses write is
meant to open in any BIDS tool without a helper of ours:

- maps carry ``sform_code`` and ``qform_code`` 4 (MNI) when they are in MNI
  space, statistic maps a NIfTI intent (``t test`` with its degrees of freedom);
- every map has a JSON sidecar, ``participants.tsv`` a ``participants.json``;
- participant-level tables (PET BP_ND, fMRI contrasts) go to ``phenotype/``
  (the BIDS place for per-participant measures) with column names without
  spaces and a sidecar that gives each column's description and units;
- ``dataset_description.json`` names the generating software with its version.

Names follow the BIDS schema (``bidsschematools``, tested).
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from neuroadapt import __version__
from neuroadapt.atomic import write_text, write_with

#: NIfTI xform code of MNI152 space (``sform_code``/``qform_code`` 4, nibabel's "mni").
XFORM_MNI = 4
BIDS_VERSION = "1.9.0"
_LABEL = re.compile(r"[^A-Za-z0-9]+")


def generated_by(description: str) -> list[dict[str, str]]:
    """The ``GeneratedBy`` entry of a derivative's ``dataset_description.json``."""
    return [{"Name": "neuroadapt", "Version": __version__, "Description": description}]


def bids_label(text: str) -> str:
    """An entity label (letters and digits only) from free text, camel-cased.

    Examples
    --------
    >>> bids_label("users<controls"), bids_label("-years_of_use")
    ('usersLtControls', 'negYearsOfUse')
    """
    text = text.strip()
    if text.startswith("-"):
        text = "neg " + text[1:]
    text = text.lstrip("+").replace("<", " lt ").replace(">", " gt ")
    words = [w for w in _LABEL.split(text) if w]
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:]) if words else "none"


def column_name(name: str) -> str:
    """A TSV column name without spaces (``"ventral striatum"`` → ``"ventral_striatum"``)."""
    return re.sub(r"\W+", "_", name.strip()).strip("_")


def save_nifti(
    path: str | Path,
    data: np.ndarray,
    affine: np.ndarray,
    xform_code: int = XFORM_MNI,
    intent: tuple[str, tuple, str] | None = None,
) -> Path:
    """Write a NIfTI image atomically (gzip-compressed when the name ends in .gz).

    Parameters
    ----------
    path
        File to write.
    data
        Voxel values (written as float32).
    affine
        Voxel-to-world affine, set as sform and qform.
    xform_code
        NIfTI code of the space the affine maps to: 4 (MNI, default: the
        template grid), 2 (aligned to another image), 1 (scanner), 0 (unknown).
    intent
        ``(code, parameters, name)`` for :meth:`nibabel.nifti1.Nifti1Header.set_intent`,
        e.g. ``("t test", (df,), "t")``.
    """
    img = nib.Nifti1Image(np.asarray(data, dtype=np.float32), affine)
    img.set_sform(affine, code=int(xform_code))
    img.set_qform(affine, code=int(xform_code))
    img.header.set_xyzt_units("mm")
    if intent is not None:
        img.header.set_intent(*intent)
    raw = img.to_bytes()
    payload = gzip.compress(raw, compresslevel=3) if str(path).endswith(".gz") else raw
    return write_with(path, lambda tmp: tmp.write_bytes(payload))


def sidecar_path(path: str | Path) -> Path:
    """The JSON sidecar beside a data file (``x.nii.gz`` → ``x.json``)."""
    p = Path(path)
    name = p.name
    for ext in (".nii.gz", ".nii", ".tsv"):
        if name.endswith(ext):
            return p.with_name(name[: -len(ext)] + ".json")
    return p.with_suffix(".json")


def write_sidecar(path: str | Path, meta: dict) -> Path:
    """Write the JSON sidecar of a data file."""
    return write_text(sidecar_path(path), json.dumps(meta, indent=2, default=float))


#: participants.json: what each column of participants.tsv means.
PARTICIPANT_COLUMNS = {
    "participant_id": {"Description": "participant label (sub-U: user, sub-C: control)"},
    "group": {
        "Description": "study group",
        "Levels": {"user": "person who uses heroin", "control": "matched drug-free control"},
    },
    "age": {"Description": "age at the scan", "Units": "year"},
    "sex": {"Description": "sex", "Levels": {"F": "female", "M": "male"}},
    "years_of_use": {
        "Description": "years of heroin use at the scan (0 for controls)",
        "Units": "year",
    },
    "tiv": {"Description": "total intracranial volume", "Units": "mL"},
}


def write_participants(out_dir: str | Path, participants: pd.DataFrame) -> list[Path]:
    """Write ``participants.tsv`` and ``participants.json`` (the columns present)."""
    out = Path(out_dir)
    meta = {c: PARTICIPANT_COLUMNS[c] for c in participants.columns if c in PARTICIPANT_COLUMNS}
    return [
        write_text(out / "participants.tsv", participants.to_csv(sep="\t", index=False)),
        write_text(out / "participants.json", json.dumps(meta, indent=2)),
    ]


def write_phenotype(
    out_dir: str | Path, stem: str, table: pd.DataFrame, description: str, units: str
) -> Path:
    """Write a participants × regions table as ``phenotype/<stem>.tsv`` with its sidecar.

    Parameters
    ----------
    out_dir
        Dataset root.
    stem
        File stem (letters, digits and underscores).
    table
        Values indexed by ``participant_id``, one column per region.
    description
        What a value is (the sidecar's ``MeasurementToolMetadata`` description).
    units
        Units of every value.

    Returns
    -------
    Path
        The TSV file.
    """
    df = table.rename(columns=column_name).reset_index()
    path = Path(out_dir) / "phenotype" / f"{stem}.tsv"
    write_text(path, df.to_csv(sep="\t", index=False))
    meta: dict = {
        "MeasurementToolMetadata": {"Description": description},
        "participant_id": {"Description": "participant label, as in participants.tsv"},
    }
    for region, col in zip(table.columns, df.columns[1:], strict=True):
        meta[col] = {"Description": f"{description}: {region}", "Units": units}
    write_sidecar(path, meta)
    return path
