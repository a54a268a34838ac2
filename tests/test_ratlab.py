"""The virtual rat laboratory: closed-form PK, invariants, reproducibility, files, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from neuroadapt.engine.operant import CODES, OperantLab, SessionDose, SessionSpec
from neuroadapt.engine.simulate import trajectory
from neuroadapt.experiments.ratlab import (
    ProtocolError,
    _parse,
    criterion_met,
    list_protocols,
    load_protocol,
    run_protocol,
    write_outputs,
)
from neuroadapt.model import dopamine
from neuroadapt.model.dose import Dose
from neuroadapt.model.operant import pr_requirement, surge_fraction
from neuroadapt.parameters import load_parameters

RAT = load_parameters("rat")


def _sa(hours=1.0, **kw) -> SessionSpec:
    kw.setdefault("unit_dose_mg_kg", 0.06)
    return SessionSpec("operant", "self_administration", hours * 3600.0, **kw)


@pytest.fixture(scope="module")
def fr3_days():
    """6 rats: 4 FR1 and 3 FR3 2-h sessions with a 20-s timeout, then one extinction session."""
    lab = OperantLab(RAT, 6, seed=3)
    plan = [[_sa(2.0)] * 6] * 4 + [[_sa(2.0, ratio=3)] * 6] * 3
    plan += [[SessionSpec("operant", "extinction", 7200.0, reinforced=False, cue=False)] * 6]
    return lab.run(plan)


def test_one_dose_matches_the_cohort_engine():
    """PK of one IV heroin dose equals engine.simulate.trajectory (same rat, no variability)."""
    lab = OperantLab(RAT, 1, seed=0, variability=0.0)
    spec = SessionSpec(
        "operant",
        "test",
        3600.0,
        reinforced=False,
        cue=False,
        doses=(SessionDose(0.0, "heroin", "iv", 0.1, "conditioning"),),
    )
    day = lab.step_day([spec])
    ref = trajectory(
        RAT, [Dose(0.0, "heroin", "iv", 0.1, "mg/kg")], np.arange(1, 24 * 360 + 1) / 360.0
    ).dataset
    assert day.daily["activation_peak"][0] == pytest.approx(float(ref.activation.max()), rel=2e-3)
    x_ref = np.array([ref[f"pk_{s}"].values[0, -1] for s in lab.pk.states])
    np.testing.assert_allclose(lab.pk_state()[0], x_ref, rtol=1e-6, atol=1e-12)
    assert day.daily["tolerance_shift"][0] == pytest.approx(
        ref.tolerance_shift.values[0, -1], rel=1e-3
    )
    assert day.daily["activation_mean"][0] == pytest.approx(float(ref.activation.mean()), rel=0.02)


def test_surge_fraction_is_the_dopamine_module_surge():
    p = {
        k: RAT[k]
        for k in ("da_tolerance_coupling", "da_surge_hill", "da_surge_a50", "da_surge_max")
    }
    for a, tol, r in [(0.3, 1.0, 0.0), (0.6, 1.4, 0.2), (0.05, 1.1, 0.1)]:
        da = dopamine.phasic_peak(np.array(a), np.array(tol), np.array(r), p)
        frac = surge_fraction(
            a, tol, r, p["da_tolerance_coupling"], p["da_surge_hill"], p["da_surge_a50"]
        )
        assert (da - 100.0) / (100.0 * p["da_surge_max"]) == pytest.approx(frac)


def test_progressive_ratio_series():
    assert [pr_requirement(j) for j in range(1, 11)] == [1, 2, 4, 6, 9, 12, 15, 20, 25, 32]


def test_press_and_infusion_invariants(fr3_days):
    for day in fr3_days:
        spec = day.specs[0]
        for i, (t, c) in enumerate(day.events):
            inf = t[c == CODES["infusion"]]
            act = t[c == CODES["active_press"]]
            inact = t[c == CODES["inactive_press"]]
            # every infusion is earned by an active press at the same time, never by an inactive one
            assert np.isin(inf, act).all()
            assert not np.isin(inf, inact[~np.isin(inact, act)]).any() or inf.size == 0
            # no infusion during the timeout of the previous one
            assert np.all(np.diff(inf) >= spec.timeout_s)
            if not spec.reinforced:
                assert inf.size == 0
            # counters equal the events
            k = day.counters[i]
            assert (k[0], k[1], k[2]) == (act.size, inact.size, inf.size)
            # the ratio: presses outside timeout between infusions equal the requirement
            prev = -np.inf
            for ti in inf:
                window = (
                    act[(act > prev + spec.timeout_s) & (act <= ti)]
                    if prev > -np.inf
                    else act[act <= ti]
                )
                assert window.size == spec.ratio
                prev = ti
            # timeout presses: inside (t_inf, t_inf + timeout)
            to = sum(((act > ti) & (act < ti + spec.timeout_s)).sum() for ti in inf)
            assert to == k[3]


def test_seeds_reproducible_and_chunk_invariant():
    plan = [[_sa(1.0)] * 4] * 3
    whole = OperantLab(RAT, np.arange(4), seed=9).run(plan)
    again = OperantLab(RAT, np.arange(4), seed=9).run(plan)
    part = OperantLab(RAT, np.arange(2, 4), seed=9).run([p[:2] for p in plan])
    other = OperantLab(RAT, np.arange(4), seed=10).run(plan)
    for a, b, c in zip(whole, again, part, strict=True):
        np.testing.assert_array_equal(a.counters, b.counters)
        np.testing.assert_array_equal(a.counters[2:], c.counters)
        for i in (2, 3):
            np.testing.assert_array_equal(a.events[i][0], c.events[i - 2][0])
    assert not all(
        np.array_equal(a.counters, o.counters) for a, o in zip(whole, other, strict=True)
    )


def test_acquisition_then_extinction(fr3_days):
    inf = [d.counters[:, 2].mean() for d in fr3_days]
    assert inf[0] > 0 and inf[3] >= inf[0]
    # extinction: no infusions, and the expectation of the lever falls
    assert fr3_days[-1].counters[:, 2].sum() == 0
    assert (fr3_days[-1].state["expectation"] < fr3_days[-2].state["expectation"]).all()


def test_extinction_criterion_matches_the_analysis():
    from neuroadapt.analysis import extinction_criterion

    daily = pd.DataFrame(
        {
            "subject": "r",
            "day": range(8),
            "phase": ["self_administration"] * 3 + ["extinction"] * 5,
            "active_presses": [40, 44, 36, 50, 20, 9, 8, 30],
        }
    )
    res = extinction_criterion(daily, fraction=0.25).iloc[0]
    p = load_protocol("reinstatement").groups[0].phases[1].model_copy(update={"fraction": 0.25})
    sa, ext = [40.0, 44.0, 36.0], [50.0, 20.0, 9.0, 8.0]
    assert criterion_met(ext, sa, p) and not criterion_met(ext[:3], sa, p)
    assert res["sessions_to_criterion"] == 4


def test_protocols_load_and_bad_ones_fail_in_one_line():
    names = [n for n, _ in list_protocols()]
    assert {"acquisition", "escalation", "reinstatement", "cpp-morphine-mueller"} <= set(names)
    with pytest.raises(ProtocolError, match="hourz"):
        _parse(
            'name = "x"\n[[groups]]\nname = "g"\nphases = [{kind = "extinction", hourz = 1}]', "t"
        )
    with pytest.raises(ProtocolError, match="not a shipped protocol"):
        load_protocol("no-such-protocol")


def test_medpc_round_trip_and_analysis(tmp_path):
    from neuroadapt.analysis import session_metrics
    from neuroadapt.io.medpc import events_table, load_profile, read_medpc, sessions_table

    res = run_protocol(load_protocol("acquisition"), animals=2, seed=4)
    write_outputs(res, tmp_path)
    prof = load_profile("neuroadapt-sa")
    engine = res.sessions[res.sessions["kind"] == "operant"]
    for subj in res.subjects:
        f = read_medpc(tmp_path / "medpc" / f"{subj}.txt")
        assert not f.skipped
        m = session_metrics(events_table(f.sessions, prof), sessions_table(f.sessions, prof))
        mine = engine[engine["subject"] == subj]
        for col in ("infusions", "active_presses", "inactive_presses", "timeout_presses"):
            np.testing.assert_array_equal(m[col].to_numpy(), mine[col].to_numpy(), err_msg=col)
        assert [s.header.msn for s in f.sessions][-1] == "neuroadapt_SA_FR5"


def test_cpp_zone_table_round_trip(tmp_path):
    from neuroadapt.analysis import cpp_scores
    from neuroadapt.io.medpc.zones import read_zone_table

    res = run_protocol(load_protocol("cpp-heroin"), animals=3, seed=2)
    write_outputs(res, tmp_path)
    z = read_zone_table(tmp_path / "cpp_zones.csv")
    tests = res.sessions[res.sessions["kind"] == "cpp_test"]
    assert len(z) == 3 * len(tests)
    total = z.groupby(["subject", "day"])["time_s"].sum().to_numpy()
    np.testing.assert_allclose(
        total, tests.sort_values(["subject", "day"])["duration_s"].to_numpy()
    )
    scores = cpp_scores(z)
    assert len(scores) == 3 and scores["preference_ratio"].between(0, 1).all()


def test_cli_end_to_end(tmp_path):
    from neuroadapt.cli import app

    runner = CliRunner()
    out = tmp_path / "acq"
    r = runner.invoke(
        app, ["experiment", "acquisition", "--animals", "2", "--out", str(out), "--seed", "3"]
    )
    assert r.exit_code == 0, r.output
    assert (out / "report.html").stat().st_size > 10_000
    assert len(list((out / "medpc").glob("*.txt"))) == 2
    table = pd.read_csv(out / "tables" / "analysis_sessions.csv")
    assert len(table) == 2 * 13 and set(table["phase"]) == {"self_administration"}
    r = runner.invoke(app, ["experiment", "--list"])
    assert r.exit_code == 0 and "escalation" in r.output


@pytest.mark.parametrize(
    "args,needle",
    [
        (["experiment", "nope"], "not a shipped protocol"),
        (["experiment", "acquisition", "--animals", "0"], "--animals"),
    ],
)
def test_cli_user_errors_exit_2(args, needle, capsys):
    import sys

    from neuroadapt.cli import main

    old = sys.argv
    sys.argv = ["neuroadapt", *args]
    try:
        with pytest.raises(SystemExit) as exc:
            main()
    finally:
        sys.argv = old
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1


def test_report_with_a_one_rat_group_skips_the_group_test(tmp_path):
    """Groups of 2 and 1 rats: no group test is possible, and the report still writes."""
    from neuroadapt.report.ratlab import write_lab_report

    text = """
name = "uneven"
[[groups]]
name = "a"
phases = [{ kind = "self_administration", sessions = 2, hours = 0.5 }]
[[groups]]
name = "b"
phases = [{ kind = "self_administration", sessions = 2, hours = 0.5, dose = 0.1 }]
"""
    res = run_protocol(_parse(text, "uneven"), animals=3, seed=1)
    assert sorted(res.groups) == ["a", "a", "b"]
    write_outputs(res, tmp_path)
    assert write_lab_report(tmp_path, "uneven").is_file()
    assert not (tmp_path / "tables" / "analysis_statistics.csv").exists()
    assert len(pd.read_csv(tmp_path / "tables" / "analysis_sessions.csv")) == 6
