"""The public Python face: scenario in, a Run in memory out, saved and read back."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import neuroadapt as na

LIFE = (
    'name = "api"\nseed = 3\n[behaviour]\nuse = "60d"\nfollow_up = "20d"\n'
    '[cohort]\nsubjects = 4\ncontrols = 4\n[outputs]\nrecord_every = "10d"\n'
)


def test_the_public_names_and_nothing_else():
    assert sorted(na.__all__) == sorted(
        ["Run", "Scenario", "__version__", "calibrate", "load_run", "load_scenario",
         "loads_scenario", "parameter_table", "simulate", "write_report"]
    )  # fmt: skip
    for name in na.__all__:
        assert getattr(na, name) is not None
    with pytest.raises(AttributeError):
        na.run_scenario  # noqa: B018 - internal, not exported


def test_import_neuroadapt_loads_no_simulation_code():
    code = "import sys, neuroadapt; print('neuroadapt.engine.kernel' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture(scope="module")
def run():
    return na.simulate(na.loads_scenario(LIFE), parameters={"ac_gain": 0.75})


def test_simulate_writes_nothing_and_returns_the_run(run, tmp_path, monkeypatch):
    assert run.out_dir is None and run.pending is None
    assert run.result.dataset.sizes["subject"] == 4
    assert run.controls.sizes["subject"] == 4
    assert {"mortality", "survival", "subjects", "use_by_year"} <= set(run.tables)
    assert run.provenance["parameter_overrides"][0]["name"] == "ac_gain"


def test_simulate_equals_a_run_written_to_a_folder(run, tmp_path):
    from neuroadapt.experiments.run import resolve, run_scenario

    sc = resolve(na.loads_scenario(LIFE), parameters={"ac_gain": 0.75})
    on_disk = run_scenario(sc, tmp_path / "disk")
    for name in run.result.dataset.data_vars:
        np.testing.assert_array_equal(
            run.result.dataset[name].values, on_disk.result.dataset[name].values, err_msg=name
        )


def test_save_then_load_run_round_trips(run, tmp_path):
    folder = run.save(tmp_path / "study")
    assert run.out_dir == folder
    back = na.load_run(folder)
    assert back.scenario == run.scenario and back.provenance == run.provenance
    assert sorted(back.tables) == sorted(run.tables)
    for got, want in ((back.result.dataset, run.result.dataset),
                      (back.controls, run.controls)):  # fmt: skip
        for name in want.data_vars:
            np.testing.assert_array_equal(got[name].values, want[name].values, err_msg=name)
    assert len(back.tables["subjects"]) == len(run.tables["subjects"])


def test_parameter_table_is_a_dataframe():
    table = na.parameter_table("human")
    assert {"name", "value", "unit", "cv", "fitted", "source"} <= set(table.columns)
    assert "ac_gain" in set(table["name"])


def test_a_bad_override_is_one_line():
    from neuroadapt.scenarios import ScenarioError

    with pytest.raises(ScenarioError) as err:
        na.simulate(na.loads_scenario(LIFE), parameters={"ac_gain": 3.0})
    assert "parameters.ac_gain" in str(err.value) and "\n" not in str(err.value)


def test_the_issue_snippet_round_trips(tmp_path):
    """Scenario in, run in memory, saved, loaded, reported, beside the calibration table."""
    s = na.loads_scenario(LIFE).with_parameters(ac_gain=0.5).with_subjects(3)
    assert s.parameters == {"ac_gain": 0.5} and s.cohort.subjects == s.cohort.controls == 3
    run = na.simulate(s)
    assert run.users.sizes["subject"] == 3 and run.controls.sizes["subject"] == 3
    assert run.episodes is run.result.episodes
    assert "survival" in run.tables
    back = na.load_run(run.save(tmp_path / "my-study"))
    path = na.write_report(back)
    assert path == tmp_path / "my-study" / "report.html"
    html = path.read_text(encoding="utf-8")
    assert "Calibration against the literature" in html and "ac_gain" in html


def test_a_scenario_changed_in_python_changes_the_result():
    base = na.loads_scenario(LIFE).with_subjects(3)
    a = na.simulate(base)
    b = na.simulate(base.with_parameters(ac_gain=0.5))
    c = na.simulate(base.with_seed(4))
    assert not np.array_equal(a.users["tolerance_shift"].values, b.users["tolerance_shift"].values)
    assert not np.array_equal(a.users["tolerance_shift"].values, c.users["tolerance_shift"].values)


def test_with_parameters_checks_the_bounds():
    from neuroadapt.scenarios import ScenarioError

    with pytest.raises(ScenarioError, match="parameters.ac_gain"):
        na.loads_scenario(LIFE).with_parameters(ac_gain=3.0)


def test_report_of_an_unsaved_run_needs_a_path():
    run = na.simulate(na.loads_scenario(LIFE).with_subjects(1))
    with pytest.raises(ValueError, match="run.save"):
        na.write_report(run)


def test_calibrate_returns_a_table_of_the_chosen_scales():
    table = na.calibrate(scales=["pk"])
    assert set(table["scale"]) == {"pk"} and len(table) >= 10
    assert {"id", "literature", "model", "verdict", "source"} <= set(table.columns)
    with pytest.raises(ValueError, match="scales = 'pkk'"):
        na.calibrate(scales=["pkk"])


def test_calibrate_with_overrides_evaluates_the_overridden_model():
    shipped = na.calibrate(scales=["signalling"]).set_index("id")["value"]
    changed = na.calibrate(scales=["signalling"], parameters={"ac_gain": 0.5})
    assert changed.attrs["parameter_overrides"] == {"human": {"ac_gain": 0.5}}
    changed = changed.set_index("id")["value"]
    assert not np.allclose(shipped.to_numpy(dtype=float), changed.to_numpy(dtype=float))
    again = na.calibrate(scales=["signalling"]).set_index("id")["value"]
    pd.testing.assert_series_equal(shipped, again)  # no probe of the override is reused
    from neuroadapt.parameters import ParameterError

    with pytest.raises(ParameterError, match="ac_gain"):
        na.calibrate(scales=["signalling"], parameters={"ac_gain": 9.0})
