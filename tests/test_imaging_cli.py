"""CLI end-to-end on a tiny cohort: vbm and roi reports, one-line user errors."""

import subprocess
import sys

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from neuroadapt.imaging.synth import make_participants


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "neuroadapt", *args], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    d = tmp_path_factory.mktemp("cohort")
    p = make_participants(6, 6, seed=1)
    p.to_csv(d / "participants.tsv", sep="\t", index=False)
    aff = np.diag([6.0, 6.0, 6.0, 1.0])
    aff[:3, 3] = [-90, -126, -72]
    rng = np.random.default_rng(1)
    for _i, row in p.iterrows():
        data = 0.5 + 0.05 * rng.standard_normal((31, 37, 31))
        if row["group"] == "user":
            data[18:22, 26:30, 10:14] -= 0.1
        nib.save(
            nib.Nifti1Image(data.astype(np.float32), aff), d / f"{row['participant_id']}_gm.nii.gz"
        )
    return d


def test_vbm_and_roi_write_reports(cohort, tmp_path):
    pt = str(cohort / "participants.tsv")
    r = cli("imaging", "vbm", "--maps", str(cohort), "--participants", pt,
            "--permutations", "20", "--out", str(tmp_path / "vbm"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "vbm" / "report.html").read_text()
    assert "Freedman" in html and "TFCE" in html and "data:image/png" in html
    assert (tmp_path / "vbm" / "stat-tfce.nii.gz").exists()
    r = cli("imaging", "roi", "--maps", str(cohort), "--participants", pt,
            "--out", str(tmp_path / "roi"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(tmp_path / "roi" / "roi_comparison.tsv", sep="\t")
    assert {"cohens_d", "p_holm"} <= set(table.columns)


def test_bad_input_is_one_line_exit_2(cohort, tmp_path):
    p = pd.read_csv(cohort / "participants.tsv", sep="\t").drop(columns="group")
    p.to_csv(tmp_path / "bad.tsv", sep="\t", index=False)
    r = cli("imaging", "vbm", "--maps", str(cohort), "--participants", str(tmp_path / "bad.tsv"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "bad.tsv: no 'group' column" in r.stderr
    pt = str(cohort / "participants.tsv")
    r = cli("imaging", "vbm", "--maps", str(cohort), "--participants", pt,
            "--contrast", "users=controls")  # fmt: skip
    assert r.returncode == 2 and "contrast 'users=controls'" in r.stderr


@pytest.mark.slow
def test_simulate_default_then_vbm_finds_loss(tmp_path):
    out = tmp_path / "sim"
    assert (
        cli("imaging", "simulate", "default", "--subjects", "20", "--out", str(out)).returncode == 0
    )
    r = cli("imaging", "vbm", "--maps", str(out), "--participants", str(out / "participants.tsv"),
            "--permutations", "200", "--out", str(out / "vbm"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    clusters = pd.read_csv(out / "vbm" / "clusters.tsv", sep="\t")
    assert len(clusters) > 0
