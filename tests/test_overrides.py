"""Parameter overrides: a scenario's [parameters] table and ``neuroadapt run --set``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import xarray as xr

from neuroadapt.experiments.run import resolve, scenario_params
from neuroadapt.parameters import ParameterError, load_parameters
from neuroadapt.report.html import overrides_warning
from neuroadapt.scenarios import ScenarioError, loads_scenario
from test_cli import cli, one_line_error

BASE = 'name = "ov"\nseed = 4\nregimen = "10 mg iv q8h x 2d"\n[cohort]\nsubjects = 3\n'


def test_overrides_are_in_the_tables_units():
    """``t_half_heroin`` is in min in the table and in h inside."""
    table = load_parameters("human")
    new = table.with_table_values({"t_half_heroin": 5.0})
    assert new["t_half_heroin"] == pytest.approx(5.0 / 60.0)
    assert new.params["t_half_heroin"].table_value == 5.0
    assert new.hash() != table.hash() and table["t_half_heroin"] == pytest.approx(3.0 / 60.0)
    assert table.table_bounds("t_half_heroin") == pytest.approx((1.3, 8.0))


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("t_half_heroin", 9.0, "must be within its bounds [1.3, 8] min"),
        ("t_half_heroin", float("nan"), "must be a number in min"),
        ("acgain", 1.0, "did you mean 'ac_gain'"),
    ],
)
def test_a_bad_override_is_one_line_naming_parameter_value_and_range(name, value, needle):
    with pytest.raises(ParameterError) as err:
        load_parameters("human").with_table_values({name: value})
    msg = str(err.value)
    assert f"parameter '{name}'" in msg and needle in msg and "\n" not in msg


def test_a_scenario_parameters_table_reaches_the_parameter_set():
    sc = loads_scenario(BASE + "[parameters]\nac_gain = 0.5\nt_half_heroin = 5\n")
    params = scenario_params(sc)
    assert params["ac_gain"] == 0.5 and params["t_half_heroin"] == pytest.approx(5 / 60)
    # the command line's --set replaces a value of the same name and adds others
    again = resolve(sc, parameters={"ac_gain": 0.75, "uses_per_day": 4.0})
    assert again.parameters == {"ac_gain": 0.75, "t_half_heroin": 5, "uses_per_day": 4.0}


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ("ac_gain = 2", "field 'parameters.ac_gain' = 2.0: must be within its bounds [0.5, 1]"),
        ("no_such = 1", "field 'parameters.no_such' = 1.0: is not a parameter of the human table"),
        ('ac_gain = "high"', "field 'parameters.ac_gain'"),
    ],
)
def test_a_bad_parameters_table_is_a_scenario_error(table, needle):
    with pytest.raises(ScenarioError, match=None) as err:
        loads_scenario(BASE + "[parameters]\n" + table + "\n")
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_body_weight_is_set_in_one_place():
    toml = BASE.replace("subjects = 3\n", "subjects = 3\nbody_weight_kg = 80\n")
    with pytest.raises(ScenarioError, match="set the body weight once"):
        loads_scenario(toml + "[parameters]\nbody_weight = 75\n")


def test_run_with_set_changes_the_result_and_records_it(tmp_path):
    path = tmp_path / "ov.toml"
    path.write_text(BASE)
    plain, over = tmp_path / "plain", tmp_path / "over"
    assert cli("run", path, "--out", plain, "--no-report").exit_code == 0
    r = cli("run", path, "--out", over, "--no-report", "--set", "ac_gain=0.5")
    assert r.exit_code == 0, r.output
    with xr.open_dataset(plain / "results.nc") as a, xr.open_dataset(over / "results.nc") as b:
        assert float(b.tolerance_shift.max()) < float(a.tolerance_shift.max())
    prov = json.loads((over / "provenance.json").read_text())
    assert prov["parameter_overrides"] == [
        {
            "name": "ac_gain",
            "value": 0.5,
            "unit": "dimensionless",
            "table_value": 1.0,
            "fitted": False,
        }
    ]
    assert json.loads((plain / "provenance.json").read_text())["parameter_overrides"] == []
    # the resolved scenario reruns the override; a plain one has no [parameters] table
    assert loads_scenario((over / "scenario.toml").read_text()).parameters == {"ac_gain": 0.5}
    assert "[parameters]" not in (plain / "scenario.toml").read_text()


@pytest.mark.parametrize(
    ("option", "needle"),
    [
        ("ac_gain=3", "field 'parameters.ac_gain' = 3.0: must be within its bounds [0.5, 1]"),
        ("acgain=1", "is not a parameter of the human table (did you mean 'ac_gain'"),
        ("ac_gain", "option '--set' = 'ac_gain': must be NAME=VALUE"),
        ("ac_gain=x", "option '--set' = 'ac_gain=x': must be NAME=VALUE"),
    ],
)
def test_a_bad_set_exits_2_with_one_line(tmp_path, option, needle):
    path = tmp_path / "ov.toml"
    path.write_text(BASE)
    r = cli("run", path, "--out", tmp_path / "o", "--no-report", "--set", option)
    assert one_line_error(r, needle), r.output


def test_the_report_says_numbers_can_leave_the_calibration():
    text = overrides_warning(
        [
            {"name": "ac_gain", "value": 0.5, "unit": "dimensionless", "table_value": 1.0},
            {
                "name": "overdose_dose_reduction",
                "value": 0.7,
                "unit": "dimensionless",
                "table_value": 0.6,
                "fitted": True,
            },
        ]
    )
    assert text.startswith("This run overrides 2 parameters of the shipped table")
    assert "ac_gain = 0.5 dimensionless (shipped 1)" in text
    assert "(shipped 0.6, fitted)" in text and "calibration section evaluates the shipped" in text
    assert overrides_warning([]) == ""


def test_experiment_with_set_changes_the_rats_and_records_it(tmp_path):
    plain, over = tmp_path / "plain", tmp_path / "over"
    args = ("experiment", "acquisition", "--animals", "2")
    assert cli(*args, "--out", plain).exit_code == 0
    r = cli(*args, "--out", over, "--set", "t_half_heroin=4")
    assert r.exit_code == 0, r.output
    a = (plain / "tables" / "design.csv").read_text()
    assert a != (over / "tables" / "design.csv").read_text()
    rows = (over / "tables" / "parameter_overrides.csv").read_text().splitlines()
    assert rows == ["name,value,unit,table_value,fitted", "t_half_heroin,4.0,min,0.764,True"]
    assert not (plain / "tables" / "parameter_overrides.csv").exists()
    assert "overrides 1 parameter of the shipped table" in (over / "report.html").read_text()


def test_experiment_with_a_bad_set_exits_2_before_any_work(tmp_path):
    r = cli("experiment", "acquisition", "--out", tmp_path / "o", "--set", "t_half_heroin=40")
    assert one_line_error(r, "parameter 't_half_heroin' = 40.0: must be within its bounds [0.2, 5]")
    assert not (tmp_path / "o" / "tables").exists()


def test_environment_overrides_reach_load_parameters_and_cache_keys(monkeypatch):
    from neuroadapt.cache import code_key
    from neuroadapt.parameters.table import OVERRIDES_ENV

    shipped, key = load_parameters("human"), code_key()
    monkeypatch.setenv(OVERRIDES_ENV, '{"human": {"t_half_heroin": 6}}')
    assert load_parameters("human")["t_half_heroin"] == pytest.approx(0.1)
    assert load_parameters("rat") is load_parameters("rat")  # the rat table untouched
    assert code_key() != key
    monkeypatch.setenv(OVERRIDES_ENV, '{"dog": {}}')
    with pytest.raises(ParameterError, match="must be JSON such as"):
        load_parameters("human")
    monkeypatch.delenv(OVERRIDES_ENV)
    assert load_parameters("human") is shipped and code_key() == key


def test_calibrate_set_goes_to_the_environment_by_species(monkeypatch):
    from neuroadapt.cli.core import _calibration_overrides
    from neuroadapt.parameters.table import OVERRIDES_ENV

    monkeypatch.setenv(OVERRIDES_ENV, "")  # recorded, so that the test's value is undone
    got = _calibration_overrides({"ac_gain": 0.5, "rat.t_half_heroin": 2.0})
    assert got == {"human": {"ac_gain": 0.5}, "rat": {"t_half_heroin": 2.0}}
    assert json.loads(os.environ[OVERRIDES_ENV]) == got
    monkeypatch.setenv(OVERRIDES_ENV, "")


@pytest.mark.parametrize(
    ("option", "needle"),
    [
        ("acgain=1", "option '--set' (human table): parameter 'acgain' = 1.0: is not a parameter"),
        ("rat.t_half_heroin=40", "(rat table): parameter 't_half_heroin' = 40.0: must be within"),
    ],
)
def test_calibrate_with_a_bad_set_exits_2_before_evaluating(tmp_path, monkeypatch, option, needle):
    from neuroadapt.parameters.table import OVERRIDES_ENV

    monkeypatch.setenv(OVERRIDES_ENV, "")
    r = cli("calibrate", "--out", tmp_path / "c.json", "--set", option)
    assert one_line_error(r, needle), r.output
    assert not (tmp_path / "c.json").exists()


def test_overridden_checks_see_the_override_in_a_fresh_process():
    """What ``calibrate --set`` runs: the checks read the table through the environment."""
    code = (
        "from neuroadapt.evidence.calibration import evaluate\n"
        "r = {x.id: x.model for x in evaluate(scales=('pk',), workers=1)}\n"
        "print(r['pk_heroin_thalf_rook'])\n"
    )
    env = {**os.environ, "NEUROADAPT_PARAMETERS": '{"human": {"t_half_heroin": 6}}'}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.split()[-1]) == pytest.approx(6.0, rel=0.01)  # shipped: 3 min


def test_calibrate_does_not_write_an_overridden_table_into_the_docs(tmp_path):
    doc = tmp_path / "calibration.md"
    doc.write_text("# Calibration\n")
    r = cli("calibrate", "--markdown", doc, "--set", "ac_gain=0.5", "--out", tmp_path / "c.json")
    assert one_line_error(r, "cannot be combined with '--set'"), r.output
    assert doc.read_text() == "# Calibration\n"
