"""Life courses: behaviour functions, chunk invariance, outcomes, the [behaviour] scenario."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

from neuroadapt.cli import app
from neuroadapt.engine.brain import available_brain_modules
from neuroadapt.engine.lifecourse import LifePlan, simulate_lifecourse
from neuroadapt.engine.outcomes import kaplan_meier, survival_table
from neuroadapt.engine.simulate import RescueRule
from neuroadapt.model import behaviour as B
from neuroadapt.parameters import load_parameters
from neuroadapt.streams import uniform_stream

P = load_parameters("human")
PLAN = LifePlan(use_days=120, detox_days=7, follow_up_days=60, abstinent_fraction=0.5)


def _cov(n):
    return {"age_years": np.full(n, 30.0), "female": np.zeros(n), "smoked_fraction": np.zeros(n)}


def _sixteen(chunk_size, workers=1, **options):
    n = 16
    return simulate_lifecourse(
        P,
        PLAN,
        n,
        _cov(n),
        available_brain_modules(),
        seed=5,
        rescue=RescueRule(probability=0.5),
        record_every_d=10,
        chunk_size=chunk_size,
        workers=workers,
        **options,
    )


@pytest.fixture(scope="module")
def small():
    return _sixteen(chunk_size=16)


def test_chunking_does_not_change_numbers(small):
    other = _sixteen(chunk_size=5)
    xr.testing.assert_equal(small.dataset, other.dataset)
    pd.testing.assert_frame_equal(small.subjects, other.subjects)
    pd.testing.assert_frame_equal(small.episodes, other.episodes)


def test_worker_processes_do_not_change_numbers(small):
    """Chunks run in two worker processes give the numbers of one process."""
    assert len(small.episodes) > 0  # the comparison covers overdose episodes too
    other = _sixteen(chunk_size=3, workers=2)
    xr.testing.assert_equal(small.dataset, other.dataset)
    pd.testing.assert_frame_equal(small.subjects, other.subjects)
    pd.testing.assert_frame_equal(small.episodes, other.episodes)


def test_escalation_follows_tolerance(small):
    cont = small.dataset.isel(subject=small.dataset.arm.values == "continued use")
    dose = cont.dose_mg.values
    tol = cont.tolerance_shift.values
    assert np.all(dose[:, -1] > dose[:, 0])  # everybody escalated
    # eq. (1) with exponent 1 below the cap: dose = D0 x tolerance at the decision
    assert np.all(dose <= P["dose_max"] * np.exp(3 * 0.4) + 1e-6)
    assert np.nanmean(tol[:, -1]) > 1.1


def test_abstinence_arm_stops_then_lapses_or_not(small):
    ds = small.dataset
    arm = ds.arm.values
    held = (ds.time.values > PLAN.use_days) & (ds.time.values <= PLAN.use_days + PLAN.detox_days)
    assert np.all(ds.uses.values[arm == "abstinence"][:, held] == 0)
    s = small.subjects
    ab = s[s.arm == "abstinence"]
    discharge = PLAN.use_days + PLAN.detox_days
    assert (ab.first_lapse_d.dropna() >= discharge).all()
    # a relapse needs lapses first, and comes after the first lapse
    assert (ab.relapse_d.dropna() >= ab.first_lapse_d[ab.relapse_d.notna()]).all()
    assert s[s.arm == "continued use"].first_lapse_d.isna().all()


def test_controls_never_use():
    n = 6
    res = simulate_lifecourse(
        P,
        PLAN,
        np.arange(n),
        _cov(n),
        available_brain_modules(),
        drug_free=np.array([False, False, False, True, True, True]),
        seed=2,
        record_every_d=30,
    )
    ds = res.dataset
    assert list(ds.arm.values[3:]) == ["control"] * 3
    assert np.all(ds.uses.values[3:] == 0) and np.all(ds.activation_mean.values[3:] == 0)


def test_lapse_probability_rises_with_urge_and_priming():
    p = {k: np.asarray(P[k]) for k in P.names}
    d = np.linspace(0, 1, 11)
    prob = B.lapse_probability(d, p)
    assert prob[0] == 0 and np.all(np.diff(prob) > 0) and prob[-1] < 1
    no_prime = B.lapse_drive(0.5, 1.0, 0.3, 0.0, p)
    primed = B.lapse_drive(0.5, 1.0, 0.3, 1.0, p)
    assert primed > no_prime


def test_relapse_rule_counts_days_in_the_window():
    p = {"relapse_window": np.array([7.0]), "relapse_use_days": np.array([3.0])}
    assert not B.relapsed(np.array([0b1000001], dtype=np.uint64), p)[0]
    assert B.relapsed(np.array([0b0010011], dtype=np.uint64), p)[0]
    assert not B.relapsed(np.array([0b11 << 7 | 1], dtype=np.uint64), p)[0]  # old days drop out


def test_purity_factor_has_mean_one():
    z = np.random.default_rng(0).standard_normal(200_000)
    assert B.purity_factor(z, 0.35).mean() == pytest.approx(1.0, rel=0.01)


def test_uniform_stream_is_counter_based():
    a = uniform_stream(1, np.arange(5), 3, "x")
    assert np.all((a > 0) & (a < 1))
    np.testing.assert_array_equal(a[2:], uniform_stream(1, np.arange(2, 5), 3, "x"))
    assert not np.allclose(a, uniform_stream(1, np.arange(5), 4, "x"))


def test_kaplan_meier_matches_hand_computation():
    t, s = kaplan_meier(np.array([2.0, 3.0, 3.0, 5.0, 8.0]), np.array([1, 1, 0, 1, 0], bool))
    # at 2: 4/5; at 3: x 3/4 (4 at risk, 1 event); at 5: x 1/2
    np.testing.assert_allclose(s, [1.0, 0.8, 0.6, 0.3])
    np.testing.assert_allclose(t, [0, 2, 3, 5])


def test_survival_table_outcomes(small):
    surv = survival_table(small.subjects, PLAN)
    assert set(surv.outcome) >= {"lapse", "relapse", "death"}
    for _, cur in surv.groupby("outcome"):
        assert np.all(np.diff(cur.survival.to_numpy()) <= 1e-12)


def test_cli_runs_a_behaviour_scenario(tmp_path):
    toml = tmp_path / "life.toml"
    toml.write_text(
        'name = "life"\nseed = 3\n[behaviour]\nuse = "60d"\nfollow_up = "30d"\n'
        '[cohort]\nsubjects = 6\ncontrols = 6\n[outputs]\nrecord_every = "10d"\n'
    )
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["run", str(toml), "--out", str(out), "--no-report"])
    assert r.exit_code == 0, r.output
    for name in (
        "results.nc",
        "controls.nc",
        "tables/survival.csv",
        "tables/clinical_outcomes.csv",
        "tables/subjects.csv",
    ):
        assert (out / name).exists(), name
    ds = xr.open_dataset(out / "results.nc", engine="h5netcdf")
    assert ds.sizes["subject"] == 6 and "structure_gm_volume" in ds


def test_overdose_after_abstinence_counts_people_by_arm():
    from neuroadapt.report.behaviour import overdose_after_abstinence

    users = xr.Dataset(
        {
            "arm": ("subject", ["abstinence", "abstinence", "continued use", "abstinence"]),
            "death_time": ("subject", [np.nan, np.nan, np.nan, 5.0]),
        },
        coords={"subject": [0, 1, 2, 3]},
    )
    ep = pd.DataFrame(
        {"subject": [0, 0, 2, 1], "start_h": [10 * 24 + 1, 11 * 24, 9 * 24, 200 * 24]}
    )
    got = overdose_after_abstinence(users, ep, discharge_day=10.0)
    # subject 3 died before discharge; 1's overdose is after the window; 2's before discharge
    assert got == {"abstinence": (1, 2), "continued use": (0, 1)}


def test_report_has_the_behaviour_section(small, tmp_path):
    from neuroadapt.report import build_report
    from neuroadapt.scenarios import load_scenario

    surv = survival_table(small.subjects, PLAN)
    path = build_report(
        tmp_path / "r.html",
        scenario=load_scenario("default"),
        cohort=small.dataset,
        episodes=small.episodes,
        panels={},
        calibration=[],
        params=P,
        provenance={},
        lifecourse={
            "use_days": PLAN.use_days,
            "discharge_day": PLAN.use_days + PLAN.detox_days,
            "subjects": small.subjects,
            "survival": surv,
            "clinical": None,
        },
    )
    html = path.read_text(encoding="utf-8")
    assert "Behaviour: escalation, lapse and relapse" in html
    assert "Overdose after lost tolerance" in html
    assert "when the detoxified arm stopped" in html
    # the limitations are those of a life course, not of a scheduled regimen
    from markupsafe import escape

    from neuroadapt.report.html import LIFECOURSE_LIMITATIONS, SCHEDULED_LIMITATIONS

    assert all(escape(text) in html for text in LIFECOURSE_LIMITATIONS)
    assert not any(escape(text) in html for text in SCHEDULED_LIMITATIONS)


def test_a_fatal_brain_event_ends_the_life_course():
    import types

    fake = types.ModuleType("fake_white_matter")
    fake.NAME = "white_matter"
    fake.STATES = {}
    fake.INPUTS = ("age_years",)
    fake.OUTPUTS = {"tle_dead": ("1", "dies on day 5")}
    fake.step = lambda state, inputs, p, dt: {}
    fake.observe = lambda state, inputs, p: {
        "tle_dead": (inputs["age_years"] > 30.0 + 5.5 / 365.25).astype(float)
    }
    keep = [m for m in available_brain_modules() if m.NAME not in ("white_matter", "cognition")]
    mods = [*keep, fake]
    n = 3
    res = simulate_lifecourse(
        P,
        LifePlan(use_days=20, follow_up_days=5),
        n,
        _cov(n),
        mods,
        seed=1,
        record_every_d=1,
        workers=2,  # a module built in memory cannot reach a worker: runs here
    )
    ds = res.dataset
    np.testing.assert_array_equal(ds.death_time.values, [6.0, 6.0, 6.0])
    assert np.all(ds.uses.values[:, 7:] == 0) and np.all(ds.alive.values[:, 7:] == 0)


def test_kaplan_meier_equals_statsmodels():
    from statsmodels.duration.survfunc import SurvfuncRight

    rng = np.random.default_rng(4)
    time = np.round(rng.exponential(30.0, 300))  # ties included
    event = rng.random(300) < 0.7
    t, s = kaplan_meier(time, event)
    ref = SurvfuncRight(time, event.astype(float))
    np.testing.assert_allclose(t[1:], ref.surv_times)
    np.testing.assert_allclose(s[1:], ref.surv_prob, rtol=1e-12)


def test_checkpointed_chunks_resume_to_the_same_numbers(small, tmp_path):
    """Finished chunks are saved; a rerun loads them and runs only the missing ones."""
    first = _sixteen(3, workers=2, checkpoint_dir=tmp_path)
    files = sorted(tmp_path.glob("life-*.npz"))
    assert len(files) == 6  # 16 subjects in chunks of at most 3, a multiple of 2 workers
    files[2].unlink()  # as if interrupted before this chunk was written
    seen = []
    again = _sixteen(3, checkpoint_dir=tmp_path, progress=lambda done, total: seen.append(done))
    assert seen == [16]  # five chunks loaded (13 subjects), the missing one run
    assert len(list(tmp_path.glob("life-*.npz"))) == 6
    seen.clear()
    third = _sixteen(3, checkpoint_dir=tmp_path, progress=lambda done, total: seen.append(done))
    assert seen == [16]  # everything loaded: progress still reports completion
    for res in (first, again, third):
        xr.testing.assert_equal(small.dataset, res.dataset)
        pd.testing.assert_frame_equal(small.episodes, res.episodes)


def test_default_workers_read_the_environment(monkeypatch):
    from neuroadapt.engine.workers import available_cpus, default_workers

    monkeypatch.delenv("NEUROADAPT_WORKERS", raising=False)
    assert default_workers() == available_cpus() >= 1
    monkeypatch.setenv("NEUROADAPT_WORKERS", "3")
    assert default_workers() == 3
    for bad in ("0", "-1", "two"):
        monkeypatch.setenv("NEUROADAPT_WORKERS", bad)
        with pytest.raises(ValueError, match=f"NEUROADAPT_WORKERS = '{bad}'"):
            default_workers()


def test_the_cut_into_chunks_does_not_depend_on_the_workers(small, tmp_path):
    """Checkpoints written with 3 workers are those of 1 worker: a run resumes with any."""
    from neuroadapt.engine.lifecourse import PARALLEL_MIN_SUBJECT_DAYS, chunk_count

    three, one = tmp_path / "three", tmp_path / "one"
    _sixteen(3, workers=3, checkpoint_dir=three)
    _sixteen(3, workers=1, checkpoint_dir=one)
    names = sorted(p.name for p in three.glob("life-*.npz"))
    assert names == sorted(p.name for p in one.glob("life-*.npz")) and len(names) == 6
    for a in names:
        assert (three / a).read_bytes() == (one / a).read_bytes()
    seen = []
    resumed = _sixteen(3, workers=2, checkpoint_dir=three, progress=lambda d, t: seen.append(d))
    assert seen == [16]  # every chunk loaded, none simulated again
    xr.testing.assert_equal(small.dataset, resumed.dataset)
    # large cohorts: an even number of chunks of at most chunk_size subjects
    days = PARALLEL_MIN_SUBJECT_DAYS // 1000
    assert chunk_count(10_000, days, 2000) == 6
    assert chunk_count(2000, days, 2000) == 2
    assert chunk_count(16, 10, 3) == 6
