"""Runs on a Dask cluster (dask.distributed LocalCluster, two workers) equal one process."""

from __future__ import annotations

import pandas as pd
import pytest
import xarray as xr

from test_lifecourse import _sixteen

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c
        from neuroadapt.engine.workers import close_clients

        close_clients()  # before the cluster goes: a client left open tries to reconnect


def test_a_two_worker_cluster_gives_the_numbers_of_one_process(cluster, monkeypatch, tmp_path):
    one = _sixteen(chunk_size=16)
    monkeypatch.setenv("NEUROADAPT_SCHEDULER", cluster.scheduler_address)
    two = _sixteen(chunk_size=3, workers=2, checkpoint_dir=tmp_path)
    assert len(list(tmp_path.glob("life-*.npz"))) == 6  # the cluster's workers wrote them
    xr.testing.assert_identical(one.dataset, two.dataset)
    pd.testing.assert_frame_equal(one.subjects, two.subjects)
    pd.testing.assert_frame_equal(one.episodes, two.episodes)


def test_the_default_worker_count_is_the_clusters_threads(cluster, monkeypatch):
    from neuroadapt.engine.workers import WORKERS_ENV, default_workers

    monkeypatch.setenv(WORKERS_ENV, "")
    monkeypatch.setenv("NEUROADAPT_SCHEDULER", cluster.scheduler_address)
    assert default_workers() == 2


def test_tasks_carry_the_parameter_overrides(cluster, monkeypatch):
    from neuroadapt.engine.workers import run_tasks

    monkeypatch.setenv("NEUROADAPT_SCHEDULER", cluster.scheduler_address)
    monkeypatch.setenv("NEUROADAPT_PARAMETERS", '{"human": {"ac_gain": 0.5}}')
    got = run_tasks(_ac_gain, [(), ()], 2)
    assert got == [pytest.approx(0.5), pytest.approx(0.5)]


def test_an_unreachable_scheduler_is_one_line(monkeypatch):
    from neuroadapt.engine.workers import dask_client

    with pytest.raises(ValueError, match="scheduler 'tcp://127.0.0.1:9': cannot be reached"):
        dask_client("tcp://127.0.0.1:9")


def _ac_gain() -> float:
    from neuroadapt.parameters import load_parameters

    return load_parameters("human").params["ac_gain"].value  # dimensionless: table = internal


SCENARIO = (
    'name = "cluster"\nseed = 4\n[behaviour]\nuse = "60d"\nfollow_up = "20d"\n'
    '[cohort]\nsubjects = 4\n[outputs]\nrecord_every = "10d"\n'
)


def _run(tmp_path, name, *extra):
    from typer.testing import CliRunner

    from neuroadapt.cli import app

    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    env = {"NEUROADAPT_SCHEDULER": None, "NEUROADAPT_WORKERS": None}
    args = ["run", str(path), "--no-report", "--out", str(tmp_path / name), *extra]
    return CliRunner().invoke(app, args, env=env)


def test_run_on_the_cluster_writes_the_files_of_a_local_run(cluster, tmp_path):
    local = _run(tmp_path, "local")
    remote = _run(tmp_path, "remote", "--scheduler", cluster.scheduler_address)
    assert local.exit_code == 0 and remote.exit_code == 0, remote.output
    a = xr.load_dataset(tmp_path / "local" / "results.nc", decode_times=False)
    b = xr.load_dataset(tmp_path / "remote" / "results.nc", decode_times=False)
    for name in a.data_vars:
        assert a[name].equals(b[name]), name


def test_an_unreachable_scheduler_option_exits_2(tmp_path):
    result = _run(tmp_path, "x", "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 2
    assert "option '--scheduler': scheduler 'tcp://127.0.0.1:9': cannot be reached" in (
        result.stderr
    )
