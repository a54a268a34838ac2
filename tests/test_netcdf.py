"""results.nc and controls.nc: CF time axis, labels, compression; read by xarray and ncdump."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neuroadapt.engine.simulate import trajectory
from neuroadapt.experiments.run import resolve, run_scenario
from neuroadapt.io.netcdf import CONVENTIONS, TIME_ORIGIN, write_netcdf
from neuroadapt.model.dose import Dose
from neuroadapt.parameters import load_parameters
from neuroadapt.scenarios import loads_scenario

SCENARIOS = {
    # a fixed regimen recorded daily: engine variables, brain scales, matched controls
    "regimen": (
        'name = "cf-regimen"\nseed = 2\nregimen = "10 mg iv q8h x 4d"\n'
        "[cohort]\nsubjects = 3\ncontrols = 3\n",
        1.0,
    ),
    # a life course (users decide their use), recorded every 10 days
    "lifecourse": (
        'name = "cf-life"\nseed = 3\n[behaviour]\nuse = "40d"\nfollow_up = "20d"\n'
        '[cohort]\nsubjects = 4\ncontrols = 4\n[outputs]\nrecord_every = "10d"\n',
        10.0,
    ),
}
FILES = [(kind, name) for kind in SCENARIOS for name in ("results.nc", "controls.nc")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = {}
    for kind, (toml, _) in SCENARIOS.items():
        folder = tmp_path_factory.mktemp(kind)
        res = run_scenario(resolve(loads_scenario(toml)), folder)
        out[kind] = (folder, res)
    return out


def _memory(res, name):
    return res.result.dataset if name == "results.nc" else res.controls


@pytest.mark.parametrize(("kind", "name"), FILES)
def test_files_decode_to_a_real_time_axis(runs, kind, name):
    folder, res = runs[kind]
    ds = xr.open_dataset(folder / name, engine="h5netcdf", decode_cf=True)
    assert ds.attrs["Conventions"] == CONVENTIONS
    assert np.issubdtype(ds.time.dtype, np.datetime64)
    days = _memory(res, name).time.values
    want = pd.Timestamp(TIME_ORIGIN) + pd.to_timedelta(days, unit="D")
    np.testing.assert_array_equal(ds.time.values, want.values)
    step = SCENARIOS[kind][1]
    assert (ds.indexes["time"][1] - ds.indexes["time"][0]) == pd.Timedelta(days=step)
    assert ds.time.attrs["standard_name"] == "time" and ds.time.attrs["axis"] == "T"
    raw = xr.open_dataset(folder / name, engine="h5netcdf", decode_cf=False)
    assert raw.time.attrs["units"] == f"days since {TIME_ORIGIN}"
    assert "_FillValue" not in raw.time.attrs
    np.testing.assert_array_equal(raw.time.values, days)  # the numbers are the days
    # the run's dataset in memory keeps its time in days
    assert _memory(res, name).time.attrs["units"] == "d"


@pytest.mark.parametrize(("kind", "name"), FILES)
def test_every_variable_is_labelled_and_numbers_are_compressed_losslessly(runs, kind, name):
    folder, res = runs[kind]
    ds = xr.open_dataset(folder / name, engine="h5netcdf")
    memory = _memory(res, name)
    for vname, var in ds.variables.items():
        assert var.attrs.get("long_name"), vname
        if vname == "trait":  # one variable of draws in many units: a unit per parameter
            assert "units" not in var.attrs
            assert all(u for u in ds.parameter_units.values), "parameter_units"
        elif np.issubdtype(var.dtype, np.number):
            assert var.attrs.get("units"), vname
    for vname, var in ds.data_vars.items():
        if np.issubdtype(var.dtype, np.number):
            assert var.encoding["zlib"] and var.encoding["shuffle"], vname
            assert var.encoding["complevel"] == 1, vname
            np.testing.assert_array_equal(var.values, memory[vname].values)


def test_units_parse_with_udunits(runs, tmp_path):
    try:
        import cfunits
    except (ImportError, OSError) as err:  # cfunits loads the UDUNITS-2 C library
        pytest.skip(f"cfunits with UDUNITS-2 not available: {err}")
    # dense trajectories also carry the PK states and concentrations
    dense = trajectory(load_parameters("human"), [Dose(0.0, "heroin", "iv", 10.0)], [0.0, 1.0])
    write_netcdf(dense.dataset, tmp_path / "dense.nc", time_origin=TIME_ORIGIN)
    paths = [runs[kind][0] / name for kind, name in FILES] + [tmp_path / "dense.nc"]
    seen = set()
    for path in paths:
        ds = xr.open_dataset(path, engine="h5netcdf", decode_cf=False)
        seen |= {v.attrs["units"] for v in ds.variables.values() if "units" in v.attrs}
        if "parameter_units" in ds:
            seen |= {str(u) for u in ds.parameter_units.values}
    assert {"nmol/L", "mmHg", "%", "1"} <= seen
    assert [u for u in sorted(seen) if not cfunits.Units(u).isvalid] == []


@pytest.mark.skipif(shutil.which("ncdump") is None, reason="ncdump (netcdf-bin) not installed")
def test_ncdump_reads_the_header(runs):
    folder, _ = runs["lifecourse"]
    proc = subprocess.run(
        ["ncdump", "-h", str(folder / "results.nc")], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    assert f':Conventions = "{CONVENTIONS}"' in proc.stdout
    assert f'time:units = "days since {TIME_ORIGIN}"' in proc.stdout
    assert "\ttime:_FillValue" not in proc.stdout
    assert 'arm:long_name = "arm after the use period"' in proc.stdout


def test_without_an_origin_the_time_coordinate_is_kept(tmp_path):
    ds = xr.Dataset(
        {"x": ("time", np.arange(3.0), {"units": "1", "long_name": "x"})},
        coords={"time": ("time", [0.0, 1.0, 2.0], {"units": "d", "long_name": "t"})},
    )
    path = write_netcdf(ds, tmp_path / "panel.nc")
    assert [p.name for p in tmp_path.iterdir()] == ["panel.nc"]
    back = xr.load_dataset(path, engine="h5netcdf")
    assert back.time.attrs["units"] == "d" and back.time.dtype == np.float64
    assert back.attrs["Conventions"] == CONVENTIONS
    xr.testing.assert_equal(back, ds)
    assert "Conventions" not in ds.attrs  # the dataset given is not changed


@pytest.mark.parametrize("kind", list(SCENARIOS))
def test_background_writes_give_the_same_files(runs, kind, tmp_path):
    """``run_scenario(background=True)``: the files, once waited for, are those of a plain run."""
    folder, _ = runs[kind]
    res = run_scenario(resolve(loads_scenario(SCENARIOS[kind][0])), tmp_path, background=True)
    assert res.pending is not None
    res.wait_for_files()
    assert res.pending.done() and not (tmp_path / ".checkpoint").exists()
    for name in ("results.nc", "controls.nc"):
        with (
            xr.open_dataset(folder / name, decode_times=False) as a,
            xr.open_dataset(tmp_path / name, decode_times=False) as b,
        ):
            drop = ("created", "provenance")  # the run's time stamp
            xr.testing.assert_identical(
                a.drop_attrs(deep=False).assign_attrs(
                    {k: v for k, v in a.attrs.items() if k not in drop}
                ),
                b.drop_attrs(deep=False).assign_attrs(
                    {k: v for k, v in b.attrs.items() if k not in drop}
                ),
            )


def test_a_failed_background_write_is_raised(runs, tmp_path, monkeypatch):
    """An error in the writing thread reaches the caller of ``wait_for_files``."""
    import neuroadapt.experiments.run as run_mod

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(run_mod, "write_netcdf", fail)
    res = run_scenario(resolve(loads_scenario(SCENARIOS["regimen"][0])), tmp_path, background=True)
    with pytest.raises(OSError, match="disk full"):
        res.wait_for_files()
    assert not (tmp_path / "results.nc").exists()


@pytest.mark.parametrize("kind", list(SCENARIOS))
def test_load_run_reads_a_saved_run_back(runs, kind):
    """``load_run``: the datasets, scenario, provenance and tables of the folder."""
    from neuroadapt.experiments.run import load_run

    folder, res = runs[kind]
    back = load_run(folder)
    assert back.scenario == res.scenario and back.provenance == res.provenance
    for got, want in ((back.result.dataset, res.result.dataset),
                      (back.controls, res.controls)):  # fmt: skip
        np.testing.assert_array_equal(got.time.values, want.time.values)
        for name in want.data_vars:
            np.testing.assert_array_equal(got[name].values, want[name].values, err_msg=name)
    if res.subjects is not None:
        pd.testing.assert_frame_equal(back.subjects, res.subjects, check_dtype=False)
