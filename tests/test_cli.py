"""End-to-end: the command line as a user meets it."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neuroadapt.scenarios import load_scenario


def cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "neuroadapt", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "default"
    proc = cli(
        "run", "escalation-and-relapse", "--subjects", "12", "--seed", "3", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_run_writes_every_output(run_dir):
    for name in (
        "report.html",
        "results.nc",
        "scenario.toml",
        "provenance.json",
        "tables/cohort_summary.csv",
        "tables/subjects.csv",
        "tables/overdose_episodes.csv",
    ):
        assert (run_dir / name).exists(), name
    assert not list(run_dir.glob(".*.tmp"))
    assert not (run_dir / ".checkpoint").exists()


def test_results_carry_units_and_provenance(run_dir):
    ds = xr.open_dataset(run_dir / "results.nc", engine="h5netcdf")
    assert ds.sizes["subject"] == 12
    assert ds.tolerance_shift.attrs["units"] == "1"
    assert ds.pao2.attrs["units"] == "mmHg"
    prov = json.loads(ds.attrs["provenance"])
    assert prov["seed"] == 3 and len(prov["parameter_hash"]) == 16
    disk = json.loads((run_dir / "provenance.json").read_text())
    assert disk["parameter_hash"] == prov["parameter_hash"]
    assert "numba" in disk["libraries"]


def test_resolved_scenario_round_trips_with_overrides(run_dir):
    sc = load_scenario(run_dir / "scenario.toml")
    assert sc.cohort.subjects == 12 and sc.seed == 3
    summary = pd.read_csv(run_dir / "tables" / "cohort_summary.csv")
    assert summary.time_d.iloc[-1] == pytest.approx(sc.total_duration_h() / 24)


def test_report_is_self_contained_with_real_figures(run_dir):
    html = (run_dir / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 8
    assert "<script src=" not in html and "stylesheet" not in html
    for heading in (
        "Calibration against the literature",
        "What this model cannot do",
        "Overdose risk vs dose",
        "mu-opioid receptor signalling",
    ):
        assert heading in html


def test_same_seed_same_numbers(run_dir, tmp_path):
    proc = cli(
        "run",
        "escalation-and-relapse",
        "--subjects",
        "12",
        "--seed",
        "3",
        "--out",
        str(tmp_path),
        "--no-report",
    )
    assert proc.returncode == 0, proc.stderr
    a = xr.open_dataset(run_dir / "results.nc", engine="h5netcdf")
    b = xr.open_dataset(tmp_path / "results.nc", engine="h5netcdf")
    np.testing.assert_array_equal(a.u_fast.values, b.u_fast.values)


BAD = {
    "unknown route": ('regimen = "25 mg ivv q8h x 3d"', "ivv"),
    "negative dose": ('regimen = "-25 mg iv q8h x 3d"', "-25"),
    "wrong unit": ('regimen = "25 mL iv q8h x 3d"', "ml"),
    "typo in a key": ('regimen = "25 mg iv q8h x 3d"\n[cohort]\nsubjets = 5', "subjets"),
    "bad species": ('species = "dog"\nregimen = "25 mg iv q8h x 3d"', "dog"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_scenario_is_one_line_exit_2(case, tmp_path):
    body, needle = BAD[case]
    f = tmp_path / "bad.toml"
    f.write_text(f'name = "bad"\n{body}\n')
    proc = cli("run", str(f), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and needle in err.lower()
    assert not (tmp_path / "out").exists()


def test_bad_options_exit_2(tmp_path):
    assert cli("run", "--subjects", "0").returncode == 2
    a_file = tmp_path / "f.txt"
    a_file.write_text("keep me")
    proc = cli("run", "--subjects", "2", "--out", str(a_file))
    assert proc.returncode == 2 and "--out" in proc.stderr and "Traceback" not in proc.stderr
    assert a_file.read_text() == "keep me"
    assert cli("run", "no-such-scenario").returncode == 2
    proc = cli("run", "--workers", "0", "--out", str(tmp_path / "w"))
    assert proc.returncode == 2 and "--workers" in proc.stderr and "Traceback" not in proc.stderr
    env = {**os.environ, "NEUROADAPT_WORKERS": "many"}
    proc = subprocess.run(
        [sys.executable, "-m", "neuroadapt", "calibrate", "--out", str(tmp_path / "c.json")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 2 and "NEUROADAPT_WORKERS = 'many'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "c.json").exists()
    assert cli("params", "--species", "dog").returncode == 2


def test_calibrate_writes_json_and_passes(tmp_path):
    out = tmp_path / "cal.json"
    proc = cli("calibrate", "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    data = json.loads(out.read_text())
    assert data["counts"].get("miss", 0) == 0
    assert len(data["results"]) >= 47


def test_params_scenarios_version():
    proc = cli("params", "--csv")
    assert proc.returncode == 0 and "t_half_heroin" in proc.stdout
    assert "default" in cli("scenarios").stdout
    assert cli("--version").stdout.startswith("neuroadapt ")


def test_export_sbml_writes_a_valid_model(tmp_path):
    import libsbml

    out = tmp_path / "model.xml"
    proc = cli("export-sbml", "--out", str(out), "--scenario", "single-dose-routes")
    assert proc.returncode == 0, proc.stderr
    doc = libsbml.readSBMLFromFile(str(out))
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    model = doc.getModel()
    ids = {model.getParameter(i).getId() for i in range(model.getNumParameters())}
    assert {"u_fast", "u_slow", "pao2"} <= ids
    assert cli("export-sbml", "--scenario", "nope").returncode == 2
