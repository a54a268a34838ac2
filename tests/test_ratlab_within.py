"""Within-session unit-dose dose-response: engine schedule, MED-PC arrays, analysis, protocol."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neuroadapt.analysis import component_metrics, component_table
from neuroadapt.engine.operant import CODES, Component, OperantLab, SessionSpec
from neuroadapt.experiments.ratlab import (
    ProtocolError,
    _parse,
    load_protocol,
    run_protocol,
    write_outputs,
)
from neuroadapt.parameters import load_parameters

RAT = load_parameters("rat")


def _sa(seconds: float = 7200.0, **kw) -> SessionSpec:
    return SessionSpec("operant", "self_administration", seconds, unit_dose_mg_kg=0.06, **kw)


def test_one_component_schedule_gives_exactly_the_old_result():
    """An explicit one-component schedule changes nothing but adds its two signal events."""
    plan_old = [[_sa()] * 3] * 3
    plan_new = [[_sa(components=(Component(0.0, 7200.0, 0.06),))] * 3] * 3
    lab_old, lab_new = OperantLab(RAT, 3, seed=5), OperantLab(RAT, 3, seed=5)
    old, new = lab_old.run(plan_old), lab_new.run(plan_new)
    assert old[-1].counters[:, 2].sum() > 0
    for a, b in zip(old, new, strict=True):
        np.testing.assert_array_equal(a.counters, b.counters)
        for k in a.daily:
            np.testing.assert_array_equal(a.daily[k], b.daily[k])
        for k in a.state:
            np.testing.assert_array_equal(a.state[k], b.state[k])
        for (t1, c1), (t2, c2) in zip(a.events, b.events, strict=True):
            signal = np.isin(c2, [CODES["component_start"], CODES["component_end"]])
            assert signal.sum() == 2
            np.testing.assert_array_equal(t1, t2[~signal])
            np.testing.assert_array_equal(c1, c2[~signal])
    np.testing.assert_array_equal(lab_old.pk_state(), lab_new.pk_state())


def test_schedule_sets_each_infusion_dose_and_retracts_levers_between_components():
    comps = (Component(0.0, 1800.0, 0.1), Component(2400.0, 4200.0, 0.0))
    spec = _sa(4200.0, components=comps)
    lab = OperantLab(RAT, 4, seed=2)
    days = lab.run([[_sa()] * 4] * 4 + [[spec] * 4])
    last = days[-1]
    for t, c in last.events:
        presses = t[np.isin(c, [CODES["active_press"], CODES["inactive_press"]])]
        assert not np.any((presses >= 1800.0) & (presses < 2400.0))
        inf = t[c == CODES["infusion"]]
        # the second component gives no drug: no infusion is earned there
        assert np.all(inf < 1800.0)
        assert (t[c == CODES["component_start"]] == [0.0, 2400.0]).all()
    assert last.counters[:, 2].sum() > 0
    with pytest.raises(ValueError, match="bad component"):
        _sa(3600.0, components=(Component(0.0, 2000.0, 0.1), Component(1000.0, 3000.0, 0.1)))
    with pytest.raises(ValueError, match="bad component"):
        _sa(3600.0, components=(Component(0.0, 4000.0, 0.1),))


def test_component_metrics_closed_form():
    """Hand-built session: two components with a gap; boundaries belong to the later one."""
    ev = pd.DataFrame(
        {
            "session": 3,
            "time_s": [0.0, 5.0, 5.0, 8.0, 100.0, 1800.0, 2400.0, 2400.0, 2500.0, 2600.0, 2600.0],
            "role": [
                "session_start",
                "active_press",
                "infusion",
                "active_press",
                "inactive_press",
                "active_press",  # at the first component's end: outside it
                "active_press",
                "infusion",
                "inactive_press",
                "active_press",
                "infusion",
            ],
        }
    )
    comp = pd.DataFrame(
        {
            "session": 3,
            "component": [1, 2],
            "start_s": [0.0, 2400.0],
            "end_s": [1800.0, 4200.0],
            "unit_dose_ug_per_kg": [100.0, 25.0],
        }
    )
    m = component_metrics(ev, comp)
    assert m["active_presses"].tolist() == [2, 2]
    assert m["inactive_presses"].tolist() == [1, 1]
    assert m["infusions"].tolist() == [1, 2]
    assert m["intake_ug_per_kg"].tolist() == [100.0, 50.0]
    assert m["active_per_hour"].tolist() == [4.0, 4.0]
    with pytest.raises(ValueError, match="lacks columns"):
        component_metrics(ev, comp.drop(columns="unit_dose_ug_per_kg"))


@pytest.fixture(scope="module")
def within(tmp_path_factory):
    out = tmp_path_factory.mktemp("within")
    res = run_protocol(load_protocol("dose-response-within"), animals=4, seed=2)
    write_outputs(res, out)
    return res, out


def test_files_record_components_and_analysis_matches_the_engine(within):
    from neuroadapt.io.medpc import events_table, load_profile, read_medpc

    res, out = within
    prof = load_profile("neuroadapt-sa")
    doses = [18.0, 30.0, 60.0, 100.0]
    n_within = 0
    for i, subj in enumerate(res.subjects):
        f = read_medpc(out / "medpc" / f"{subj}.txt")
        ev = events_table(f.sessions, prof)
        comp = component_table(f.sessions)
        m = component_metrics(ev, comp)
        for sid, s in enumerate(f.sessions):
            mine = m[m["session"] == sid]
            if not s.header.msn.endswith("_WSDR"):
                assert mine.empty
                continue
            n_within += 1
            assert mine["unit_dose_ug_per_kg"].tolist() == doses
            # array I: the component of each infusion; the analysis splits by time alike
            per_comp = np.bincount(s.arrays["I"].astype(int), minlength=5)[1:]
            np.testing.assert_array_equal(per_comp, mine["infusions"].to_numpy())
            day = int(s.comments[0].split("day=")[1].split()[0])
            assert mine["infusions"].sum() == res.days[day].counters[i, 2]
            assert mine["active_presses"].sum() == res.days[day].counters[i, 0]
    assert n_within == 4 * 3


def test_responses_fall_and_intake_rises_with_unit_dose(within):
    from neuroadapt.report.ratlab import analyse_lab_files

    _, out = within
    c = analyse_lab_files(out).components
    per_rat = c.groupby(["subject", "unit_dose_ug_per_kg"])[
        ["active_presses", "intake_ug_per_kg"]
    ].mean()
    mean = per_rat.groupby("unit_dose_ug_per_kg").mean()
    assert mean.index.tolist() == [18.0, 30.0, 60.0, 100.0]
    assert np.all(np.diff(mean["active_presses"]) < 0), mean
    assert np.all(np.diff(mean["intake_ug_per_kg"]) > 0), mean


def test_protocol_fields_checked_in_one_line():
    bad = (
        'name = "x"\n[[groups]]\nname = "g"\n'
        'phases = [{kind = "extinction", component_doses = [0.1, 0.2]}]'
    )
    with pytest.raises(ProtocolError, match="component_doses needs"):
        _parse(bad, "t")
    p = load_protocol("dose-response-within").groups[0].phases[1]
    assert p.session_s() == (4 * 60 + 3 * 20) * 60.0
    assert [c.start_s for c in p.components()] == [0.0, 4800.0, 9600.0, 14400.0]


def test_cli_report_has_the_dose_response_figures(tmp_path):
    from typer.testing import CliRunner

    from neuroadapt.cli import app

    out = tmp_path / "drw"
    r = CliRunner().invoke(
        app, ["experiment", "dose-response-within", "--animals", "2", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Within-session unit-dose dose-response" in page
    assert page.count("Within-session dose-response:") >= 2
    table = pd.read_csv(out / "tables" / "analysis_components.csv")
    assert len(table) == 2 * 3 * 4
