"""Life-course panels of the report (the decade of use, overdoses, follow-up) on synthetic data.

The datasets here are built by hand, so every number a panel shows can be
checked against what was put in; nothing is simulated.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure

from neuroadapt.engine.lifecourse import LifePlan
from neuroadapt.engine.outcomes import deaths_by_year, mortality_table, survival_table
from neuroadapt.evidence.targets import load_targets
from neuroadapt.report import behaviour, course
from neuroadapt.report import literature as lit
from neuroadapt.report.brain_figures import gm_trajectory_figure

PLAN = LifePlan(use_days=3652, detox_days=14, follow_up_days=730, abstinent_fraction=0.5)
N = 40  # users: 20 continued use, 20 detoxified


def _subjects(abstinent_again: bool) -> pd.DataFrame:
    arm = np.where(np.arange(N) % 2 == 0, "continued use", "abstinence")
    death = np.full(N, np.nan)
    death[[0, 1, 2]] = [400.0, 2000.0, 3700.0]  # subject 1 (detoxified arm) dies before discharge
    cause = np.where(np.isfinite(death), "overdose", "none")
    cause[1] = "medical"
    discharge = PLAN.use_days + PLAN.detox_days
    lapse = np.full(N, np.nan)
    relapse = np.full(N, np.nan)
    ab = np.flatnonzero(arm == "abstinence")
    # detoxified (odd ids) alive at discharge: 12 lapse, on day 5, 10, ... after discharge
    for k, s in enumerate(ab[1:13]):
        lapse[s] = discharge + 5.0 * (k + 1)
    for s in ab[1:9]:  # 8 relapse, 10 days after their lapse
        relapse[s] = lapse[s] + 10.0
    out = pd.DataFrame(
        {
            "subject": np.arange(N),
            "arm": arm,
            "death_time_d": death,
            "first_lapse_d": lapse,
            "relapse_d": relapse,
            "habitual_dose_mg": 50.0,
            "death_cause": cause,
            "age_years": 30.0,
            "sex": "male",
        }
    )
    if abstinent_again:
        again = np.full(N, np.nan)
        again[ab[1:5]] = relapse[ab[1:5]] + 100.0  # half of the 8 relapsers stop again
        out["abstinent_again_d"] = again
    return out


def _users(subjects: pd.DataFrame, tolerance: tuple[str, ...]) -> xr.Dataset:
    t = np.arange(0.0, PLAN.days + 1, 30.0)
    n = len(subjects)
    arm = subjects["arm"].to_numpy()
    death = subjects["death_time_d"].to_numpy()
    alive = ~(death[:, None] <= t[None, :])
    years = t / 365.25
    dose = np.broadcast_to(10.0 + 10.0 * years, (n, t.size)).copy()  # mg per use
    uses = np.full((n, t.size), 90.0)  # 3 a day over 30 days -> daily dose 3 x dose
    uses[:, 0] = 0.0
    mode = np.zeros((n, t.size))
    after = t >= PLAN.use_days
    detox = arm == "abstinence"
    mode[np.ix_(detox, after)] = 1.0
    rel = subjects["relapse_d"].to_numpy()
    mode[(rel[:, None] <= t[None, :]) & detox[:, None]] = 0.0
    if "abstinent_again_d" in subjects:
        again = subjects["abstinent_again_d"].to_numpy()
        mode[(again[:, None] <= t[None, :]) & detox[:, None]] = 1.0
    uses[mode != 0] = 0.0
    data = {
        "dose_mg": (("subject", "time"), dose),
        "uses": (("subject", "time"), uses),
        "mode": (("subject", "time"), mode),
        "alive": (("subject", "time"), alive.astype(float)),
        "overdoses": (("subject", "time"), np.zeros((n, t.size))),
        "arm": (("subject",), arm),
        "death_time": (("subject",), death),
        "death_cause": (("subject",), subjects["death_cause"].to_numpy()),
    }
    for k, name in enumerate(tolerance):
        data[name] = (
            ("subject", "time"),
            np.broadcast_to(1.0 + (0.5 + 0.1 * k) * np.minimum(years, 1.0), (n, t.size)).copy(),
        )
    ds = xr.Dataset(data, coords={"subject": subjects["subject"].to_numpy(), "time": t})
    ds.attrs["lifecourse_plan"] = str(
        {
            "route": "iv",
            "start_dose_mg": 10.0,
            "use_days": PLAN.use_days,
            "detox_days": PLAN.detox_days,
            "follow_up_days": PLAN.follow_up_days,
            "abstinent_fraction": 0.5,
        }
    )
    return ds


def _episodes() -> pd.DataFrame:
    # subject 0 (continued use): 2 non-fatal in year 1, a fatal one on day 400 (year 2);
    # subject 4: one non-fatal in year 1 and one in year 3
    rows = [
        (0, 10 * 24.0, "survived"),
        (0, 100 * 24.0, "survived"),
        (0, 400 * 24.0, "fatal"),
        (4, 200 * 24.0, "survived"),
        (4, 800 * 24.0, "survived"),
    ]
    return pd.DataFrame(rows, columns=["subject", "start_h", "outcome"])


def _targets(*drop: str):
    table = dict(load_targets())
    for k in drop:
        table.pop(k, None)
    return table


def _colledge():
    """A Colledge 2019 row as the other engineer is adding it (for tests that need it)."""
    base = load_targets()["cli_cmr_opioid_degenhardt"]
    return replace(
        base,
        id="od_nfod_past_year_colledge",
        quantity="people who inject drugs with a non-fatal overdose in the past 12 months",
        value=20.5,
        low=15.0,
        high=26.1,
        unit="%",
        source="Colledge 2019 Int J Drug Policy",
        ref="",
    )


@pytest.fixture(params=[True, False], ids=["with-abstinent-again", "without"])
def life(request):
    subjects = _subjects(request.param)
    return subjects, _users(subjects, ("tolerance_shift",))


def test_timeline_is_read_from_the_plan(life):
    _, users = life
    tl = course.timeline(users)
    assert (tl.use_days, tl.detox_days, tl.last_day) == (3652, 14, 4382)
    assert tl.discharge == 3666
    del users.attrs["lifecourse_plan"]
    assert course.timeline(users, 100.0).use_days == 100.0


def test_daily_dose_is_dose_per_use_times_uses_over_the_record_span(life):
    _, users = life
    d = course.daily_dose(users)
    assert np.isnan(d[:, 0]).all()  # no span before the first record
    t = users.time.values
    j = 12  # day 360: alive and using
    assert d[4, j] == pytest.approx(float(users.dose_mg[4, j]) * 90.0 / (t[j] - t[j - 1]))
    assert np.isnan(d[0, t > 400]).all()  # dead
    odd = users.arm.values == "abstinence"
    assert np.isnan(d[odd][:, t > 3700]).sum() > 0  # abstinent people are not counted


@pytest.mark.parametrize(
    ("tolerance", "titles"),
    [
        (("tolerance_shift",), ["tolerance (1 + U)"]),
        (
            ("tolerance_shift", "tolerance_euphoric", "tolerance_respiratory"),
            ["tolerance to the euphoric effect", "tolerance to respiratory depression"],
        ),
        (("tolerance_euphoric",), ["tolerance to the euphoric effect"]),
        ((), []),
    ],
)
def test_decade_figure_draws_the_tolerance_variables_there_are(tolerance, titles):
    subjects = _subjects(False)
    users = _users(subjects, tolerance)
    fig, placed = course.decade_figure(users, course.timeline(users))
    axes = fig.axes
    assert axes[0].get_ylabel() == "mg of heroin per day"
    drawn = [a.get_title().split(". ", 1)[1] for a in axes[1:] if a.get_title()]
    assert drawn == titles
    for a in axes[1 : 1 + len(titles)]:
        assert a.get_ylabel() == "fold right-shift of the dose-response"
        labels = [t.get_text() for t in a.get_legend().get_texts()]
        assert labels[0] == f"all users (n = {N})"
        assert all(re.search(r"\(n = \d+\)$", lab) for lab in labels)
    # the median daily dose in year 5 is 3 x the dose per use (90 uses over 30 days)
    line = axes[0].get_lines()[0]
    x, y = line.get_data()
    k = np.argmin(abs(x - 5.0))
    assert y[k] == pytest.approx(3.0 * (10.0 + 10.0 * x[k]), rel=1e-6)
    # no stable-dose target in the shipped table yet: nothing drawn, nothing claimed
    assert all(p.marker.panel == "daily_dose" for p in placed)


def test_overdoses_by_year_counts_and_shares():
    subjects = _subjects(False)
    users = _users(subjects, ("tolerance_shift",))
    tl = course.timeline(users)
    table = course.overdoses_by_year(users, _episodes(), tl)
    cont = table[table["arm"] == "continued use"].set_index("year")
    assert list(cont.index) == list(range(1, 13))  # complete years only
    assert cont.loc[1, "nonfatal"] == 3 and cont.loc[1, "people_nonfatal"] == 2
    assert cont.loc[1, "pct_nonfatal"] == pytest.approx(100 * 2 / 20)
    assert cont.loc[2, "fatal"] == 1 and cont.loc[2, "nonfatal"] == 0
    assert cont.loc[2, "subjects"] == 20  # subject 0 died on day 400, alive at the year's start
    assert cont.loc[3, "subjects"] == 19 and cont.loc[3, "pct_nonfatal"] == pytest.approx(100 / 19)
    assert table[table["arm"] == "abstinence"]["nonfatal"].sum() == 0


def test_overdose_panel_draws_colledge_only_when_the_table_has_it():
    subjects = _subjects(False)
    users = _users(subjects, ("tolerance_shift",))
    tl = course.timeline(users)
    table = course.overdoses_by_year(users, _episodes(), tl)
    without = _targets("od_nfod_past_year_colledge")
    fig, placed = course.overdose_year_figure(table, tl, without)
    assert placed == []
    assert not any("Colledge" in t.get_text() for t in fig.axes[1].get_legend().get_texts())
    with_c = {**without, "od_nfod_past_year_colledge": _colledge()}
    fig, placed = course.overdose_year_figure(table, tl, with_c)
    assert [p.target.id for p in placed] == ["od_nfod_past_year_colledge"]
    p = placed[0]
    assert (p.y, p.low, p.high) == (20.5, 15.0, 26.1)  # % as published
    assert (p.first_d, p.last_d) == (0.0, 3652.0)  # over the years of use
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert "Colledge 2019: 20.5 (15-26.1) %" in labels
    assert fig.axes[1].get_ylabel() == "% of those alive at the start of the year"


def test_kaplan_meier_after_detoxification_matches_the_counts(life):
    subjects, users = life
    tl = course.timeline(users)
    curves = course.after_detox_curves(subjects, tl)
    at_risk = 20 - 1  # 20 detoxified, subject 1 died before discharge
    t, inc = curves["lapse"]
    assert inc[-1] == pytest.approx(12 / at_risk)  # nobody censored before the lapses
    assert t[-1] == pytest.approx(4382 - 3666)
    t, inc = curves["relapse"]
    assert inc[-1] == pytest.approx(8 / at_risk)
    assert inc[np.searchsorted(t, 15.0, side="right") - 1] == pytest.approx(1 / at_risk)


def test_deaths_censor_the_kaplan_meier():
    subjects = _subjects(False)
    ab = subjects.index[subjects.arm == "abstinence"]
    subjects.loc[ab[15], "death_time_d"] = 3666 + 22.0  # dies 22 d after discharge, no lapse
    tl = course.Timeline(3652, 14, 4382)
    t, inc = course.after_detox_curves(subjects, tl)["lapse"]
    at_risk = 20 - 1  # subject 1 (detoxified) died on day 2000
    # 4 lapses by day 20, one censored on day 22: the 8 later lapses count against fewer at risk
    s = np.prod([1 - 1 / (at_risk - k) for k in range(4)])
    s *= np.prod([1 - 1 / (at_risk - 5 - k) for k in range(8)])
    assert 1 - inc[-1] == pytest.approx(s)


def test_abstinence_by_month_and_abstinent_again(life):
    subjects, users = life
    tl = course.timeline(users)
    table = course.abstinence_by_month(users, subjects, tl)
    assert table["months_since_discharge"].min() >= 0
    last = table.iloc[-1]
    alive = 20 - 1  # subject 1 died on day 2000
    assert last["alive"] == alive
    if "abstinent_again_d" in subjects:
        assert last["abstinent"] == pytest.approx((alive - 8 + 4) / alive)
        assert last["abstinent_again"] == pytest.approx(4 / 8)
    else:
        assert "abstinent_again" not in table
        assert last["abstinent"] == pytest.approx((alive - 8) / alive)


def test_after_detox_figure_labels_and_literature(life):
    subjects, users = life
    tl = course.timeline(users)
    fig, placed, _ = course.after_detox_figure(users, subjects, tl)
    for ax in fig.axes[:3]:  # the panels (then the zooms into the first weeks)
        assert ax.get_xlabel() == "months since discharge from detoxification"
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        model = [lab for lab in labels if "arm" in lab or "relapsers" in lab]
        assert model and all(re.search(r"\(n = \d+\)$", lab) for lab in model)
    ids = {p.target.id for p in placed}
    assert "cli_relapse_1week_smyth" in ids  # 59 % at 1 week, shipped
    assert "cli_relapse_5yr_langendam" not in ids  # 5 years: after the end of follow-up
    relapse = next(p for p in placed if p.target.id == "cli_relapse_1week_smyth")
    assert relapse.y == pytest.approx(0.59) and relapse.first_d == tl.discharge + 7


def test_mortality_markers_come_from_the_target_table():
    table = load_targets()
    placed = lit.place("mortality", {"start": 0.0, "end of use": 3652.0}, 4382.0)
    by_id = {p.target.id: p for p in placed}
    d = by_id["cli_cmr_opioid_degenhardt"]
    assert d.y == pytest.approx(10 * table["cli_cmr_opioid_degenhardt"].value)  # per 1,000 PY
    assert d.low == pytest.approx(10 * table["cli_cmr_opioid_degenhardt"].low)
    missing = lit.place("mortality", {"start": 0.0, "end of use": 3652.0}, 4382.0, _targets(*by_id))
    assert missing == []
    assert "No target in the shipped table" in lit.caption(missing, lambda s, u: "", "x")


def test_deaths_figure_and_literature_table():
    subjects = _subjects(False)
    subjects = pd.concat(
        [
            subjects,
            subjects.assign(
                subject=subjects.subject + 1000,
                arm="control",
                death_time_d=np.nan,
                death_cause="none",
            ),
        ],  # fmt: skip
        ignore_index=True,
    )
    by_year = deaths_by_year(subjects, PLAN)
    mort = mortality_table(subjects, PLAN)
    fig, placed = behaviour.deaths_figure(by_year, PLAN.use_days, PLAN.days)
    assert isinstance(fig, Figure)
    assert {p.marker.panel for p in placed} <= {"mortality", "mortality_overdose"}
    assert any(p.target.id == "cli_cmr_opioid_degenhardt" for p in placed)
    rows = behaviour.mortality_literature_rows(mort, placed, lambda s, u: "[1]")
    assert len(rows) == len(placed)
    users = mort[mort["group"] == "users during use"].iloc[0]
    deg = next(r for r, p in zip(rows, placed, strict=True) if p.target.id.endswith("degenhardt"))
    assert deg[1].startswith(f"{users['rate_per_1000py']:.1f} (")
    assert deg[2] == "20.9 (19.3-22.6)"
    assert deg[4].endswith("[1]")
    for ax in fig.axes[1:]:
        assert ax.get_ylabel() == "deaths per 1,000 person-years"


def test_behaviour_section_without_optional_inputs(life):
    """No subject table, no mortality tables, no 'uses': notes instead of empty panels."""
    subjects, users = life
    surv = survival_table(subjects, PLAN)
    sec = behaviour.behaviour_section(users, _episodes(), surv, None, [], PLAN.use_days)
    kinds = [b["kind"] for b in sec["blocks"]]
    assert kinds.count("img") == 2  # decade, overdoses per year
    sec = behaviour.behaviour_section(
        users.drop_vars("uses"), _episodes(), surv, None, [], PLAN.use_days, subjects=subjects
    )
    texts = " ".join(str(b.get("text", "")) for b in sec["blocks"])
    assert "no daily dose" in texts
    assert any("lapse and relapse" in b.get("alt", "") for b in sec["blocks"])


def test_behaviour_section_says_when_abstinent_again_is_missing(life):
    subjects, users = life
    surv = survival_table(subjects, PLAN)
    sec = behaviour.behaviour_section(
        users, _episodes(), surv, None, [], PLAN.use_days, subjects=subjects
    )
    text = " ".join(str(b.get("text", "")) for b in sec["blocks"])
    if "abstinent_again_d" in subjects:
        assert "share abstinent again since" in text
    else:
        assert "no 'abstinent_again_d' column" in text


def test_brain_marker_on_the_insula_panel():
    from neuroadapt.model import structure

    t = np.arange(0.0, 800.0, 10.0)
    regions = list(structure.REGIONS)
    gm = np.ones((6, t.size, len(regions))) * np.linspace(1.0, 0.9, t.size)[None, :, None]
    ds = xr.Dataset(
        {"structure_gm_volume": (("subject", "time", "structure_region"), gm)},
        coords={"time": t, "structure_region": regions},
    )
    fig = gm_trajectory_figure(ds, None, 500.0)
    ax = fig.axes[regions.index("insula")]
    assert ax.get_title() == "insula"
    marks = [c for c in ax.containers]  # errorbar container of the marker
    if "str_insula_postmortem_muller" in load_targets():
        assert marks, "the post-mortem insula volume is drawn"
        y = marks[0].lines[0].get_ydata()[0]
        assert y == pytest.approx(1 + load_targets()["str_insula_postmortem_muller"].value / 100)
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["Müller 2023: 0.76 x control"]  # only the literature, in-panel
    other = fig.axes[regions.index("putamen")]
    assert not other.containers


@pytest.mark.parametrize("per_effect", [True, False])
def test_cohort_section_shows_the_tolerance_variables_there_are(per_effect):
    from neuroadapt.report.cohort import cohort_figure, cohort_summary, not_recorded

    names = ("tolerance_shift", "tolerance_euphoric", "tolerance_respiratory")
    subjects = _subjects(False)
    users = _users(subjects, names if per_effect else names[:1])
    fig = cohort_figure(users, _episodes())
    titles = [a.get_title() for a in fig.axes if a.get_title()]
    rows = dict(cohort_summary(users, _episodes()))
    notes = " ".join(not_recorded(users))
    if per_effect:
        assert "tolerance to the euphoric effect (fold right-shift)" in titles
        assert "tolerance to respiratory depression (fold right-shift)" in titles
        assert "tolerance (1 + U)" not in titles
        assert "highest tolerance to the euphoric effect per subject (fold)" in rows
        assert "highest tolerance (1 + U) per subject" not in rows
    else:
        assert "tolerance (1 + U)" in titles
        assert "highest tolerance (1 + U) per subject" in rows
    assert "tolerance" not in notes  # recorded either way


def test_after_detox_figure_without_lapse_columns_says_why():
    subjects = _subjects(False)
    users = _users(subjects, ("tolerance_shift",))
    tl = course.timeline(users)
    fig, placed, _ = course.after_detox_figure(users, subjects.drop(columns="first_lapse_d"), tl)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "the subject table has no 'first_lapse_d'" in texts
    assert not [p for p in placed if p.marker.panel == "lapse"]  # no literature on an empty panel
    assert fig.axes[1].get_lines()  # relapse is still drawn


def test_decade_figure_says_when_nobody_uses():
    subjects = _subjects(False)
    users = _users(subjects, ("tolerance_shift",))
    users["uses"] = users["uses"] * 0.0 + np.nan
    fig, _ = course.decade_figure(users, course.timeline(users))
    assert "nobody of the arm was using regularly at a record" in [
        t.get_text() for t in fig.axes[0].texts
    ]
