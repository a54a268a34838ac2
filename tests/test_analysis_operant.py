"""Closed-form checks of the operant metrics on hand-built sessions, and on real files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neuroadapt.analysis import (
    breakpoints,
    cumulative_record,
    extinction_criterion,
    hourly_bins,
    inter_infusion_intervals,
    reinstatement,
    richardson_roberts,
    session_metrics,
)
from neuroadapt.io.medpc import events_table, load_profile, parse_medpc, read_medpc, sessions_table
from neuroadapt.io.medpc.writer import build_session, format_medpc
from test_medpc_reader import medpc_dir, shared  # noqa: F401  (fixture)


def ev(rows, session=0):
    t, r = zip(*rows, strict=True)
    return pd.DataFrame({"session": session, "time_s": t, "role": r})


# an FR1 session with a 20 s timeout: presses at 10 (earns), 15, 25 (timeout), 40 (earns),
# 45 (timeout); inactive at 50; infusions at 10 and 40; second hour: press+infusion at 3700
FR1 = ev(
    [(0.0, "session_start"), (10.0, "active_press"), (10.0, "infusion"), (15.0, "active_press"),
     (25.0, "active_press"), (40.0, "active_press"), (40.0, "infusion"), (45.0, "active_press"),
     (50.0, "inactive_press"), (3700.0, "active_press"), (3700.0, "infusion"),
     (7200.0, "session_end")]
)  # fmt: skip


def test_session_metrics_closed_form():
    m = session_metrics(FR1, timeout_s=20.0).iloc[0]
    assert m.infusions == 3 and m.active_presses == 6 and m.inactive_presses == 1
    assert m.timeout_presses == 3  # 15 and 25 after the first infusion, 45 after the second
    assert m.percent_active == pytest.approx(100 * 6 / 7)
    assert m.latency_first_press_s == 10.0
    assert m.first_hour_infusions == 2
    assert m.mean_inter_infusion_s == pytest.approx((30.0 + 3660.0) / 2)


def test_timeout_from_events_overrides_duration():
    events = pd.concat([FR1, ev([(10.0, "timeout_start"), (20.0, "timeout_end")])])
    assert session_metrics(events, timeout_s=20.0).timeout_presses.iloc[0] == 1  # only 15


def test_empty_session_is_nan_not_error():
    sessions = pd.DataFrame({"session": [0, 1], "timeout_s": [20.0, 20.0]})
    m = session_metrics(FR1, sessions)
    assert m.session.tolist() == [0, 1] and m.infusions.tolist() == [3, 0]
    assert np.isnan(m.percent_active[1]) and np.isnan(m.latency_first_press_s[1])


def test_cumulative_record_intervals_and_bins():
    cr = cumulative_record(FR1)
    assert cr["count"].tolist() == [1, 2, 3, 4, 5, 6] and cr.time_s.iloc[-1] == 3700.0
    iii = inter_infusion_intervals(FR1)
    assert iii.interval_s.tolist() == [30.0, 3660.0] and iii.infusion.tolist() == [2, 3]
    bins = hourly_bins(FR1, duration_s=7200.0)
    inf = bins[bins.role == "infusion"]
    assert inf["count"].tolist() == [2, 1] and inf.bin_start_s.tolist() == [0.0, 3600.0]
    assert len(hourly_bins(FR1, duration_s=3 * 3600.0, roles=["infusion"])) == 3


def test_richardson_roberts_series_and_breakpoint():
    assert richardson_roberts(20).tolist()[-5:] == [118, 145, 178, 219, 268]
    req = richardson_roberts(30)
    # 9 infusions 10 min apart, then one after a 2 h gap (past the 1 h limited hold)
    times = [600.0 * k for k in range(1, 10)] + [600.0 * 9 + 7200.0]
    events = ev([(t, "infusion") for t in times])
    bp = breakpoints(events).iloc[0]
    assert bp.ratios_completed == 9 and bp.breakpoint == req[8] == 25
    assert breakpoints(events, limited_hold_s=None).breakpoint.iloc[0] == req[9] == 32
    assert breakpoints(ev([(5.0, "active_press")])).breakpoint.iloc[0] == 0


def daily_table():
    rows = []
    for subject, sa, ext, test in [
        ("r1", [40, 50, 60], [30, 14, 12, 10, 9], 35),  # baseline 50, threshold 12.5: met on day 7
        ("r2", [20, 20, 20], [10, 6, 9, 4, 3], 12),  # threshold 5: met on day 8
        ("r3", [10, 10, 10], [8, 9, 7, 8, 9], 20),  # never
    ]:
        day = 0
        for phase, values in [("self_administration", sa), ("extinction", ext),
                              ("reinstatement", [test])]:  # fmt: skip
            for v in values:
                day += 1
                rows.append((subject, day, phase, v))
    return pd.DataFrame(rows, columns=["subject", "day", "phase", "active_presses"])


def test_extinction_criterion_parameterised():
    crit = extinction_criterion(daily_table()).set_index("subject")
    assert crit.loc["r1", "baseline"] == 50 and crit.loc["r1", "threshold"] == 12.5
    assert crit.loc["r1", "day_met"] == 7 and crit.loc["r1", "sessions_to_criterion"] == 4
    assert crit.loc["r2", "day_met"] == 8 and not crit.loc["r3", "met"]
    strict = extinction_criterion(daily_table(), max_presses=10, consecutive=2)
    assert strict.set_index("subject").loc["r1", "day_met"] == 8
    with pytest.raises(ValueError):
        extinction_criterion(daily_table(), fraction=None)


def test_reinstatement_against_extinction_baseline():
    r = reinstatement(daily_table()).set_index("subject")
    assert r.loc["r1", "extinction_baseline"] == pytest.approx((12 + 10 + 9) / 3)
    assert r.loc["r1", "difference"] == pytest.approx(35 - 31 / 3)
    assert r.loc["r3", "ratio"] == pytest.approx(20 / 8)


def test_same_metrics_after_a_medpc_round_trip():
    """A simulated session written as MED-PC text and read back gives the same metrics."""
    profile = load_profile("neuroadapt-sa")
    names = {r: r for r in ("active_press", "inactive_press", "infusion")}
    names |= {"session_start": "session_start", "session_end": "session_end"}
    s = build_session(
        profile,
        {"Subject": "R1", "Start Date": "01/02/24", "Start Time": "9:00:00"},
        {"H": 20.0, "S": 7200.0},
        FR1.time_s.to_numpy(),
        [names[r] for r in FR1.role],
    )
    back = parse_medpc(format_medpc([s]))
    events = events_table(back, profile)
    m = session_metrics(events, sessions_table(back, profile))
    direct = session_metrics(FR1, timeout_s=20.0)
    cols = ["infusions", "active_presses", "timeout_presses", "first_hour_infusions"]
    assert m[cols].to_numpy().tolist() == direct[cols].to_numpy().tolist()
    assert m.duration_s.iloc[0] == 7200.0 and m.timeout_s.iloc[0] == 20.0


def test_metrics_on_a_real_file(medpc_dir):  # noqa: F811
    profile = load_profile("nautiyal-operant")
    f = read_medpc(shared(medpc_dir, "Nautiyal*/!2018*"))
    m = session_metrics(events_table(f, profile), sessions_table(f, profile)).iloc[0]
    assert m.infusions == 40  # DipOn events, the dipper deliveries
    assert m.duration_s == 3741.0  # 8:39:51 to 9:42:12
