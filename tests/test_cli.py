"""End-to-end: the command line as a user meets it.

In process with Typer's ``CliRunner`` (no interpreter and numba start-up per
call; the calibration probes that ``test_calibration.py`` evaluated in this
process are reused), plus one subprocess test of ``python -m neuroadapt``.
CliRunner's stdout and stderr are not terminals, as in a CI log or a pipe.
"""

import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from rich.console import Console
from typer.testing import CliRunner

from neuroadapt.cli import app
from neuroadapt.engine.workers import WORKERS_ENV
from neuroadapt.parameters import load_parameters
from neuroadapt.scenarios import load_scenario


def cli(*args, workers="1"):
    """Run ``neuroadapt ARGS`` in this process (stderr apart from stdout).

    ``$NEUROADAPT_WORKERS`` is ``workers`` during the call and restored after it
    (``--workers`` sets it for the process), so the calibration evaluates here.
    """
    return CliRunner().invoke(app, [str(a) for a in args], env={WORKERS_ENV: workers})


def one_line_error(result, needle):
    err = result.stderr.strip()
    return (
        result.exit_code == 2
        and len(err.splitlines()) == 1
        and err.startswith("error: ")
        and needle in err
        and "Traceback" not in result.output
    )


def fake_result(**fields):
    """A calibration result for the tests of the table and the exit status (no evaluation)."""
    from neuroadapt.evidence.calibration import CalibrationResult

    base = {"id": "x", "scale": "pk", "species": "human", "quantity": "q", "literature": "1",
            "model": "1", "unit": "1", "tolerance": "±5 %", "status": "validation",
            "verdict": "pass", "note": "", "source": "s", "ref": "", "value": 1.0}  # fmt: skip
    return CalibrationResult(**{**base, **fields})


@pytest.fixture(scope="module")
def run_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "default"
    r = cli("run", "escalation-and-relapse", "--subjects", "12", "--seed", "3", "--out", out)
    assert r.exit_code == 0, r.output
    return out, r


@pytest.fixture(scope="module")
def run_dir(run_result):
    return run_result[0]


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


def test_run_prints_plain_progress_off_a_terminal(run_result):
    run_dir, r = run_result
    lines = r.stderr.splitlines()
    assert "simulating 12 subjects" in lines
    assert any(line.startswith("simulating 12 subjects: 12/12 (") for line in lines)
    assert "figure experiments" in lines and "report" in lines
    assert lines[-1].startswith(f"wrote {run_dir}/")


def test_results_carry_units_and_provenance(run_dir):
    ds = xr.open_dataset(run_dir / "results.nc", engine="h5netcdf")
    assert ds.sizes["subject"] == 12
    assert ds.tolerance_shift.attrs["units"] == "1"
    assert ds.pao2.attrs["units"] == "mmHg"
    prov = json.loads(ds.attrs["provenance"])
    assert prov["seed"] == 3 and len(prov["parameter_hash"]) == 16
    disk = json.loads((run_dir / "provenance.json").read_text(encoding="utf-8"))
    assert disk["parameter_hash"] == prov["parameter_hash"]
    assert "numba" in disk["libraries"]


def test_resolved_scenario_round_trips_with_overrides(run_dir):
    sc = load_scenario(run_dir / "scenario.toml")
    assert sc.cohort.subjects == 12 and sc.seed == 3
    summary = pd.read_csv(run_dir / "tables" / "cohort_summary.csv")
    assert summary.time_d.iloc[-1] == pytest.approx(sc.total_duration_h() / 24)


def test_report_is_self_contained_with_real_figures(run_dir):
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") >= 8
    assert "<script src=" not in html and "stylesheet" not in html
    for heading in (
        "Calibration against the literature",
        "What this model cannot do",
        "Overdose risk vs dose",
        "mu-opioid receptor signalling",
    ):
        assert heading in html


def test_same_seed_same_numbers_and_markup_in_a_path_is_text(run_dir, tmp_path):
    out = tmp_path / "o[/x]" / "[bold]b"
    r = cli("run", "escalation-and-relapse", "--subjects", "12", "--seed", "3", "--out", out,
            "--no-report")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert f"wrote {out}/ (results.nc" in r.stderr
    a = xr.open_dataset(run_dir / "results.nc", engine="h5netcdf")
    b = xr.open_dataset(out / "results.nc", engine="h5netcdf")
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
    r = cli("run", f, "--out", tmp_path / "out")
    assert r.exit_code == 2
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and needle in err.lower()
    assert not (tmp_path / "out").exists()


def test_bad_options_exit_2(tmp_path):
    assert one_line_error(cli("run", "--subjects", "0"), "--subjects")
    a_file = tmp_path / "f.txt"
    a_file.write_text("keep me")
    assert one_line_error(cli("run", "--subjects", "2", "--out", a_file), "--out")
    assert a_file.read_text(encoding="utf-8") == "keep me"
    assert cli("run", "no-such-scenario").exit_code == 2
    assert one_line_error(cli("run", "--workers", "0", "--out", tmp_path / "w"), "--workers")
    r = cli("calibrate", "--out", tmp_path / "c.json", workers="many")
    assert one_line_error(r, "NEUROADAPT_WORKERS = 'many'") and not (tmp_path / "c.json").exists()
    assert one_line_error(cli("params", "--species", "dog"), "dog")
    assert os.environ.get(WORKERS_ENV) != "many"


def test_calibrate_writes_json_passes_and_prints_every_cell_whole(tmp_path):
    out = tmp_path / "cal[/x].json"
    r = cli("calibrate", "--out", out, "--workers", "1")
    assert r.exit_code == 0, r.output[-3000:]
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["counts"].get("miss", 0) == 0
    assert len(data["results"]) >= 47
    # off a terminal the table keeps its natural width: one line per target, nothing cut
    lines = r.stdout.splitlines()
    for row in data["results"]:
        line = next((s for s in lines if s.startswith(f"│ {row['id']} ")), None)
        assert line is not None, row["id"]
        assert row["literature"] in line and row["source"] in line
    assert "…" not in r.stdout
    progress = [s for s in r.stderr.splitlines() if s.startswith("evaluating the calibration")]
    assert progress[0] == "evaluating the calibration targets"
    assert re.fullmatch(
        r"evaluating the calibration targets: (\d+)/\1 groups \(\d+ s\)", progress[-1]
    )
    assert f"wrote {out}" in r.stderr


def test_calibration_table_folds_on_a_narrow_terminal(monkeypatch, tmp_path):
    """On an 80-column terminal the long ids wrap onto more lines; no character is lost."""
    long_id = "pk_oral_heroin_morphine_ratio_inturrisi"
    row = fake_result(
        id=long_id,
        literature="0.5 [0.3, 0.7] after 30 mg oral heroin in healthy volunteers",
        source="Inturrisi CE et al. 1984 N Engl J Med 310:1213-1217",
    )
    monkeypatch.setattr(
        "neuroadapt.evidence.calibration.evaluate",
        lambda progress=None: [row],
    )
    screen = io.StringIO()
    monkeypatch.setattr(
        "neuroadapt.cli.common.out_console",
        Console(file=screen, width=80, force_terminal=True, markup=False, color_system=None),
    )
    r = cli("calibrate", "--out", tmp_path / "c.json")
    assert r.exit_code == 0, r.output
    text = screen.getvalue()
    assert "…" not in text and max(len(s) for s in text.splitlines()) <= 80
    first = [s.split("│")[1].strip() for s in text.splitlines() if s.startswith("│")]
    assert "".join(first) == long_id


def test_unexplained_miss_exits_1_through_main(monkeypatch, capsys, tmp_path):
    """``python -m neuroadapt calibrate`` exits 1 on an unexplained miss (typer.Exit's status)."""
    from neuroadapt.cli import main

    row = fake_result(id="x_miss", verdict="miss")
    monkeypatch.setattr(
        "neuroadapt.evidence.calibration.evaluate",
        lambda progress=None: [row],
    )
    monkeypatch.setenv(WORKERS_ENV, "1")
    monkeypatch.setattr(sys, "argv", ["neuroadapt", "calibrate", "--out", str(tmp_path / "c")])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 1
    assert "unexplained misses: x_miss" in capsys.readouterr().err


def test_params_csv_is_raw_whatever_the_width():
    rows = load_parameters("human").to_rows()
    r = cli("params", "--csv")
    assert r.exit_code == 0 and r.stderr == ""
    table = pd.read_csv(io.StringIO(r.stdout))
    assert len(table) == len(rows) and list(table["name"]) == [x["name"] for x in rows]
    assert table["source"].tolist() == [x["source"] for x in rows]
    r = cli("params")
    assert all(f"│ {x['name']} " in r.stdout and x["source"] in r.stdout for x in rows)
    assert "default" in cli("scenarios").stdout
    assert cli("--version").stdout.startswith("neuroadapt ")


def test_experiment_progress_and_markup_in_a_path(tmp_path):
    out = tmp_path / "[red]lab[/]"
    r = cli("experiment", "acquisition", "--animals", "1", "--out", out, "--seed", "1")
    assert r.exit_code == 0, r.output
    lines = r.stderr.splitlines()
    assert lines[0] == "running acquisition" and "running acquisition: day " in r.stderr
    assert lines[-1].startswith(f"wrote {out}/ (medpc/")


def test_python_m_neuroadapt_entry_point():
    """The one subprocess test: the entry point and raw CSV on a narrow pipe."""
    env = {**os.environ, "COLUMNS": "40"}
    proc = subprocess.run(
        [sys.executable, "-m", "neuroadapt", "params", "--csv", "--species", "rat"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(io.StringIO(proc.stdout))
    assert len(table) == len(load_parameters("rat").to_rows())


def test_export_sbml_writes_a_valid_model(tmp_path):
    import libsbml

    out = tmp_path / "model.xml"
    r = cli("export-sbml", "--out", out, "--scenario", "single-dose-routes")
    assert r.exit_code == 0, r.output
    doc = libsbml.readSBMLFromFile(str(out))
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    model = doc.getModel()
    ids = {model.getParameter(i).getId() for i in range(model.getNumParameters())}
    assert {"u_fast", "u_slow", "pao2"} <= ids
    assert cli("export-sbml", "--scenario", "nope").exit_code == 2


def test_progress_on_a_terminal_is_a_bar_with_names_as_text():
    from neuroadapt.cli.progress import stages

    screen = io.StringIO()
    term = Console(file=screen, force_terminal=True, width=80, color_system=None)
    with stages(term) as progress:
        update = progress.stage("simulating o[/x]", 4)
        update(4)
        progress.stage("report")  # no total: shown done when the command ends
    last = screen.getvalue().rsplit("\x1b[2K", 1)[-1]
    assert "simulating o[/x]: 4/4" in screen.getvalue() and "report" in last


def test_experiment_refuses_an_output_folder_it_cannot_write(tmp_path):
    """Checked before the virtual rats run: under a file, one line and exit status 2."""
    (tmp_path / "file").write_text("")
    result = cli("experiment", "acquisition", "--animals", 2, "--out", tmp_path / "file" / "lab")
    assert one_line_error(result, "cannot be created or written"), result.output
