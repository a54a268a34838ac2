"""BIDS derivatives written by the imaging code: names checked by the BIDS tools, sidecars,
NIfTI headers (MNI sform, t intent with degrees of freedom)."""

import json
import re

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from neuroadapt.imaging.bids import XFORM_MNI, bids_label, write_phenotype
from neuroadapt.imaging.synth import make_participants, write_cohort
from neuroadapt.model.structure import REGIONS


def _schema_rules():
    """File-name rules of the BIDS schema (raw, common and derivatives), as regexes."""
    schema_mod = pytest.importorskip("bidsschematools.schema")
    rules_mod = pytest.importorskip("bidsschematools.rules")
    schema = schema_mod.load_schema()
    groups = (schema.rules.files.common, schema.rules.files.raw, schema.rules.files.deriv)
    return [re.compile(r["regex"]) for g in groups
            for r in rules_mod.regexify_filename_rules(g, schema, level=2)]  # fmt: skip


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("bids")
    p = make_participants(1, 1, seed=4)
    change = pd.DataFrame(0.0, index=p["participant_id"], columns=list(REGIONS))
    write_cohort(out, p, change, seed=4)
    values = pd.DataFrame({"ventral striatum": [2.0, 2.3], "caudate": [2.6, 2.8]},
                          index=pd.Index(p["participant_id"], name="participant_id"))  # fmt: skip
    write_phenotype(out, "pet_bpnd", values, "BP_ND", "1")
    return out


def test_every_file_has_a_bids_name(dataset):
    from bids_validator import BIDSValidator

    rules = _schema_rules()
    validator = BIDSValidator()
    files = sorted(f.relative_to(dataset).as_posix() for f in dataset.rglob("*") if f.is_file())
    assert any(f.endswith("_probseg.nii.gz") for f in files)
    for f in files:
        if f in ("ground_truth.tsv", ".bidsignore"):  # the truth is listed in .bidsignore
            continue
        assert any(r.match(f) for r in rules), f
        if "/" not in f or f.startswith("phenotype/"):
            assert validator.is_bids("/" + f), f  # raw-level names: the bids-validator too
    assert (dataset / ".bidsignore").read_text(encoding="utf-8").split() == ["ground_truth.tsv"]


def test_sidecars_description_and_headers(dataset):
    desc = json.loads((dataset / "dataset_description.json").read_text(encoding="utf-8"))
    assert desc["DatasetType"] == "derivative" and desc["GeneratedBy"][0]["Version"]
    columns = json.loads((dataset / "participants.json").read_text(encoding="utf-8"))
    tsv = pd.read_csv(dataset / "participants.tsv", sep="\t")
    assert set(tsv.columns) <= set(columns) and columns["tiv"]["Units"] == "mL"
    for nii in dataset.rglob("*_probseg.nii.gz"):
        meta = json.loads(
            nii.with_name(nii.name.replace(".nii.gz", ".json")).read_text(encoding="utf-8")
        )
        assert meta["SpatialReference"] == "MNI152NLin2009aSym" and meta["SmoothingFWHM"] == 8
        hdr = nib.load(nii).header
        assert int(hdr["sform_code"]) == int(hdr["qform_code"]) == XFORM_MNI
    pet = pd.read_csv(dataset / "phenotype" / "pet_bpnd.tsv", sep="\t")
    assert list(pet.columns) == ["participant_id", "ventral_striatum", "caudate"]
    assert not any(" " in c for c in pet.columns)
    side = json.loads((dataset / "phenotype" / "pet_bpnd.json").read_text(encoding="utf-8"))
    assert side["ventral_striatum"]["Units"] == "1"


def test_labels_are_letters_and_digits():
    from neuroadapt.imaging.design import CONTRASTS

    for c in CONTRASTS:
        assert re.fullmatch(r"[A-Za-z0-9]+", bids_label(c)), c
    assert bids_label("users<controls") != bids_label("users>controls")


def test_stat_map_names_entities_and_t_intent(tmp_path):
    from neuroadapt.imaging.load import MapSet
    from neuroadapt.imaging.pipeline import run_vbm

    p = make_participants(5, 5, seed=2)
    rng = np.random.default_rng(2)
    mask = np.ones((6, 6, 6), bool)
    data = 0.5 + 0.05 * rng.standard_normal((10, mask.sum()))
    aff = np.diag([4.0, 4.0, 4.0, 1.0])
    maps = MapSet(data, mask, aff, p, [tmp_path / f"{i}.nii" for i in range(10)], XFORM_MNI)
    result = run_vbm(maps, "users<controls", n_permutations=9, cluster_p=None)
    written = result.write(tmp_path / "vbm")
    entity = r"[a-z]+-[A-Za-z0-9]+"
    stat = [w for w in written if w.name.endswith("_statmap.nii.gz")]
    assert len(stat) == 4
    for w in stat:
        assert re.fullmatch(rf"{entity}(_{entity})*_statmap\.nii\.gz", w.name), w.name
        assert (
            json.loads(w.with_name(w.name.replace(".nii.gz", ".json")).read_text(encoding="utf-8"))[
                "DegreesOfFreedom"
            ]
            == result.settings["df"]
        )
    t = nib.load(tmp_path / "vbm" / "contrast-usersLtControls_stat-t_statmap.nii.gz")
    code, params, name = t.header.get_intent()
    assert code == "t test" and params == (float(result.settings["df"]),) and name == "t"
    assert int(t.header["sform_code"]) == XFORM_MNI
    # a later folder search for input maps skips the statistic maps written there
    from neuroadapt.imaging.load import find_maps

    sub = tmp_path / "sub-001_gm.nii.gz"
    nib.save(nib.Nifti1Image(np.full((6, 6, 6), 0.5, np.float32), aff), sub)
    assert find_maps(tmp_path) == [sub]
