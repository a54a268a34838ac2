"""Bad input at the command line: one line naming field, value and what is allowed, exit 2.

Every input here once ran silently, gave NaN or raised a traceback (issue 10).
The command line is run in-process (Typer's ``CliRunner``; the app itself turns
a user error into one line and exit status 2, as ``neuroadapt`` does).
"""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

from neuroadapt.cli import app

REGIMEN = 'name = "bad"\nregimen = "20 mg iv at 0 then 0 x 1d"\n'
BEHAVIOUR = 'name = "bad"\n'


def neuroadapt(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in result.output
    return err


def run_file(tmp_path, text, *extra):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    return neuroadapt("run", path, "--out", out, "--no-report", *extra), out


BAD_SCENARIOS = [
    # item 1: a treatment a life course cannot apply
    (
        BEHAVIOUR
        + '[behaviour]\nuse = "1y"\nfollow_up = "1y"\n\n[[treatments]]\n'
        + 'regimen = "naltrexone 50 mg oral q24h x 180d"\n',
        "treatments",
        "treatment",
    ),
    # item 21: physical ranges
    ('name = "bad"\nregimen = "1e308 mg iv q1h x 1d"\n', "regimen", "1e+308"),
    (REGIMEN + "[rescue]\ndose_mg = 1e308\ndelay_min = 5\n", "rescue.dose_mg", "1e+308"),
    (REGIMEN + "[rescue]\ndose_mg = 0.4\ndelay_min = 1e308\n", "rescue.delay_min", "1e+308"),
    (
        REGIMEN + "[rescue]\ndose_mg = 0.4\ndelay_min = 5\ntrigger_pao2_mmhg = 1e308\n",
        "rescue.trigger_pao2_mmhg",
        "1e+308",
    ),
    (REGIMEN + "[cohort]\nbody_weight_kg = 1e308\n", "cohort.body_weight_kg", "1e+308"),
    # item 24: values the schema accepted and the code raised on
    (REGIMEN + "[cohort]\nbody_weight_kg = 1.5\n", "cohort.body_weight_kg", "1.5"),
    (BEHAVIOUR + '[behaviour]\nuse = "1e300y"\n', "behaviour.use", "1e300y"),
    (REGIMEN + '[outputs]\nrecord_every = "1e-300h"\n', "outputs.record_every", "1e-300h"),
    (
        'name = "bad"\nregimen = "' + "(" * 2000 + "1 mg iv at 0" + ") repeat 2" * 2000 + '"\n',
        "regimen",
        "nesting",
    ),
    ('name = "bad"\nregimen = "1 mg iv q1min x 2y"\n', "regimen", "dose count"),
    ('name = "bad"\nregimen = "(1 mg iv q1h x 1y) repeat 100"\n', "regimen", "876600"),
]


@pytest.mark.parametrize(("text", "field", "value"), BAD_SCENARIOS)
def test_bad_scenario_is_one_line_and_exit_2(tmp_path, text, field, value):
    result, out = run_file(tmp_path, text)
    err = one_line_error(result)
    assert f"field '{field}'" in err and value in err
    assert not (out / "results.nc").exists()


def test_scenario_error_names_the_allowed_range(tmp_path):
    result, _ = run_file(tmp_path, REGIMEN + "[rescue]\ndose_mg = 1e308\ndelay_min = 5\n")
    assert "<= 100" in one_line_error(result)
    result, _ = run_file(tmp_path, REGIMEN + "[cohort]\nbody_weight_kg = 1.5\n")
    assert ">= 40 and <= 150 kg" in one_line_error(result)


def test_subjects_override_is_checked_like_the_file(tmp_path):
    text = REGIMEN + '[outputs]\nrecord_every = "1min"\n'
    result, _ = run_file(tmp_path, text, "--subjects", "1000000")
    err = one_line_error(result)
    assert "outputs.record_every" in err and "at most" in err


def test_out_under_a_file(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    result = neuroadapt("run", "naloxone-rescue", "--out", tmp_path / "file.txt" / "out")
    err = one_line_error(result)
    assert "--out" in err and "file.txt" in err


def test_out_that_is_a_file(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    err = one_line_error(neuroadapt("run", "naloxone-rescue", "--out", tmp_path / "file.txt"))
    assert "--out" in err and "not a folder" in err


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_out_that_cannot_be_created():
    # /proc refuses new folders even to root, where a read-only folder would not
    err = one_line_error(neuroadapt("run", "naloxone-rescue", "--out", "/proc/neuroadapt/out"))
    assert "--out" in err and "cannot be created or written" in err


def test_out_with_a_folder_where_an_output_goes(tmp_path):
    (tmp_path / "out" / "results.nc").mkdir(parents=True)
    err = one_line_error(neuroadapt("run", "naloxone-rescue", "--out", tmp_path / "out"))
    assert "results.nc" in err


# ----------------------------------------------------------------- temporaries (item 26)
def _killed_writer(target):
    """Run a process that is killed (SIGKILL) while writing ``target`` atomically."""
    code = textwrap.dedent(
        f"""
        import os, signal
        from neuroadapt.atomic import atomic_path
        with atomic_path({str(target)!r}, suffix=".nc") as tmp:
            tmp.write_bytes(b"half a file")
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], env=os.environ, check=False)
    assert proc.returncode == -signal.SIGKILL


def test_a_later_run_removes_the_temporaries_of_a_killed_run_and_nothing_else(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    _killed_writer(out / "controls.nc")
    left = list(out.glob(".controls.nc.*.tmp"))
    assert len(left) == 1
    foreign = out / ".controls.nc.someone-elses.tmp"  # not named as ours: kept
    foreign.write_text("not ours")
    text = 'name = "tmp"\nregimen = "20 mg iv at 0 then 0 x 1h"\n[cohort]\nsubjects = 2\n'
    text += '[outputs]\nrecord_every = "30min"\n'
    (tmp_path / "s.toml").write_text(text)
    result = neuroadapt("run", tmp_path / "s.toml", "--out", out, "--no-report")
    assert result.exit_code == 0, result.output
    assert not left[0].exists()
    assert foreign.exists()
    assert (out / "results.nc").exists()


def test_the_temporary_of_a_running_writer_is_kept(tmp_path):
    from neuroadapt.atomic import remove_stale_temporaries

    code = textwrap.dedent(
        f"""
        import sys, time
        from neuroadapt.atomic import atomic_path
        with atomic_path({str(tmp_path / "results.nc")!r}) as tmp:
            tmp.write_bytes(b"writing")
            print("ready", flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        assert remove_stale_temporaries(tmp_path) == []
        assert len(list(tmp_path.glob(".results.nc.*.tmp"))) == 1
    finally:
        proc.kill()
        proc.wait()
    assert len(remove_stale_temporaries(tmp_path)) == 1
    assert not list(tmp_path.glob(".results.nc.*.tmp"))


# ----------------------------------------------------------------- NaN (item 21)
def test_nan_in_a_living_subject_stops_the_run():
    """Past the schema (engine API), a dose the arithmetic cannot carry is an error."""
    from neuroadapt.engine.simulate import NonFiniteError, simulate
    from neuroadapt.model.dose import Dose
    from neuroadapt.parameters import load_parameters

    with pytest.raises(NonFiniteError, match="living subject"):
        simulate(load_parameters("human"), [Dose(0.0, "heroin", "iv", 1e308)], 2.0, 1)


def test_life_course_nan_in_a_living_subject_stops_the_run():
    from neuroadapt.engine.brain import available_brain_modules
    from neuroadapt.engine.lifecourse import LifePlan, simulate_lifecourse
    from neuroadapt.engine.simulate import NonFiniteError
    from neuroadapt.parameters import load_parameters

    plan = LifePlan(start_dose_mg=1e308, use_days=2, detox_days=1, follow_up_days=1)
    cov = {"age_years": np.array([30.0]), "female": np.zeros(1), "smoked_fraction": np.zeros(1)}
    with pytest.raises(NonFiniteError, match="living subject"):
        simulate_lifecourse(
            load_parameters("human"), plan, 1, cov, available_brain_modules(), record_every_d=1
        )


# ----------------------------------------------------------------- checkpoints (item 25)
def _engine_run(tmp_path):
    from neuroadapt.engine.simulate import EngineOptions, simulate
    from neuroadapt.model.dose import Dose
    from neuroadapt.parameters import load_parameters

    doses = [Dose(8.0 * k, "heroin", "iv", 10.0) for k in range(9)]
    return simulate(
        load_parameters("human"),
        doses,
        4 * 24.0,
        4,
        seed=2,
        options=EngineOptions(chunk_size=2),
        checkpoint_dir=tmp_path,
    )


def _poison(path):
    with np.load(path) as f:
        data = {k: f[k] for k in f.files}
    data["rec"] = data["rec"] * 0 + 42
    with open(path, "wb") as f:
        np.savez(f, **data)


def test_a_chunk_edited_on_disk_is_recomputed(tmp_path):
    fresh = _engine_run(tmp_path / "fresh").dataset
    first = _engine_run(tmp_path / "ckpt").dataset
    files = sorted((tmp_path / "ckpt").glob("chunk-*.npz"))
    assert len(files) == 2
    _poison(files[0])  # edited: the checksum no longer matches
    files[1].write_bytes(files[1].read_bytes()[:100])  # truncated
    again = _engine_run(tmp_path / "ckpt").dataset
    for ds in (first, again):
        np.testing.assert_array_equal(ds.u_fast.values, fresh.u_fast.values)
        np.testing.assert_array_equal(ds.pao2.values, fresh.pao2.values)


def test_a_chunk_from_another_version_of_the_code_is_not_used(tmp_path, monkeypatch):
    from neuroadapt.engine import checkpoint

    fresh = _engine_run(tmp_path / "fresh").dataset
    monkeypatch.setattr(checkpoint, "code_key", lambda: "an older version")
    _engine_run(tmp_path / "ckpt")
    old = sorted((tmp_path / "ckpt").glob("chunk-*.npz"))
    for path in old:  # consistent files (key and checksum of that version), other numbers
        with np.load(path) as f:
            key = str(f["__key__"])
        data = checkpoint.load_chunk(path, key)
        data["rec"] = data["rec"] * 0 + 42
        checkpoint.save_chunk(path, data, key)
    monkeypatch.undo()
    again = _engine_run(tmp_path / "ckpt").dataset
    np.testing.assert_array_equal(again.u_fast.values, fresh.u_fast.values)
    assert len(list((tmp_path / "ckpt").glob("chunk-*.npz"))) == 2 * len(old)


def test_nan_in_a_living_subjects_brain_scales_stops_the_run():
    """The cohort dataset (brain scales included) is checked where ``alive`` is 1."""
    import xarray as xr

    from neuroadapt.engine.simulate import NonFiniteError, check_living_dataset

    alive = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    brain = np.array([[0.5, 0.4, np.nan], [0.5, 0.4, 0.3]])  # NaN after a death: fine
    ds = xr.Dataset(
        {"alive": (("subject", "time"), alive), "d2": (("subject", "time"), brain)},
        coords={"subject": [0, 1], "time": [0.0, 1.0, 2.0]},
    )
    check_living_dataset(ds)
    ds["d2"][1, 2] = np.nan
    with pytest.raises(NonFiniteError, match="'d2' of living subject 1 is not finite on day 2"):
        check_living_dataset(ds)
