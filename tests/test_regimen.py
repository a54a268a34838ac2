"""The dosing language: closed-form schedules, round trips and one-line errors."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from neuroadapt.model.dose import Dose
from neuroadapt.model.routes import dosing_compartments
from neuroadapt.scenarios import (
    Abstinence,
    Cycle,
    Regimen,
    RegimenError,
    RepeatedDose,
    SingleDose,
    events_to_frame,
    format_duration,
    parse_duration,
)

H, D = 1.0, 24.0


# ----------------------------------------------------------------- closed form
def test_chronic_q8h_for_90_days_gives_270_doses():
    events = Regimen.parse("25 mg iv q8h x 90d").events()
    assert len(events) == 270
    assert events[0] == Dose(0.0, "heroin", "iv", 25.0, "mg")
    assert events[-1].time_h == 89 * D + 16 * H
    assert {e.amount for e in events} == {25.0}


def test_issue_example_puts_naloxone_at_day_106():
    r = Regimen.parse("25 mg iv q8h x 90d then 0 x 14d then naloxone 0.4 mg im at 2d")
    naloxone = [e for e in r.events() if e.drug == "naloxone"]
    assert naloxone == [Dose(106 * D, "naloxone", "im", 0.4, "mg")]
    assert r.duration_h == 106 * D


def test_escalation_compounds_every_period():
    events = Regimen.parse("25 mg iv q8h x 28d escalating 5% per 7d").events()
    weekly = [events[i].amount for i in range(0, 84, 21)]
    assert weekly == pytest.approx([25 * 1.05**k for k in range(4)], rel=1e-15)
    # within a week the amount is constant
    assert {e.amount for e in events[:21]} == {25.0}


def test_count_form_sets_segment_length():
    r = Regimen.parse("methadone 60 mg oral q24h x 3 then 0 x 1d")
    assert [e.time_h for e in r.events()] == [0.0, 24.0, 48.0]
    assert r.duration_h == 4 * D


def test_single_dose_at_zero_is_a_zero_length_segment():
    r = Regimen.parse("20 mg iv at 0 then 0 x 1d")
    assert r.events() == [Dose(0.0, "heroin", "iv", 20.0, "mg")]
    assert r.duration_h == 24.0


def test_units_and_aliases_are_normalised():
    r = Regimen.parse("Diamorphine 25000 µg Intravenous Q8H x 1W")
    assert str(r) == "25 mg iv q8h x 7d"
    assert str(Regimen.parse("heroin 100 ug/kg iv q1h x 6h")) == "0.1 mg/kg iv q1h x 6h"
    assert str(Regimen.parse("0.5 g smoked q12h x 2")) == "500 mg smoked q12h x 2"
    assert str(Regimen.parse("25mg iv q 8h x 2d")) == "25 mg iv q8h x 2d"


def test_infusion_has_duration():
    (ev,) = Regimen.parse("methadone 10 mg iv over 30min at 1h").events()
    assert (ev.time_h, ev.duration_h) == (1.0, 0.5)


def test_repeat_block():
    r = Regimen.parse("(0.1 mg/kg iv q1h x 6h then 0 x 18h) repeat 10")
    times = [e.time_h for e in r.events()]
    assert len(times) == 60 and r.duration_h == 240.0
    assert times[6:12] == [24.0 + h for h in range(6)]
    assert {e.unit for e in r.events()} == {"mg/kg"}


def test_start_offset_and_frame():
    events = Regimen.parse("10 mg iv q12h x 1d").events(start_h=100.0)
    df = events_to_frame(events)
    assert list(df.columns) == ["time_h", "drug", "route", "amount", "unit", "duration_h"]
    assert df["time_h"].tolist() == [100.0, 112.0]
    assert events_to_frame([]).shape == (0, 6)


@pytest.mark.parametrize(
    "text",
    [
        "25 mg iv q8h x 90d then 0 x 14d",
        "25 mg iv q8h x 90d then 0 x 14d then naloxone 0.4 mg im at 2d",
        "0.1 mg/kg iv q1h x 6h",
        "methadone 60 mg oral q24h x 30d",
        "25 mg iv q8h x 90d escalating 5% per 7d",
        "20 mg iv at 0 then 0 x 1d",
        "(0.1 mg/kg iv q1h x 6h then 0 x 18h) repeat 10",
        "methadone 10 mg iv over 30min q12h x 3 then 0 x 2y",
        "buprenorphine 8 mg sublingual q24h x 90d escalating -2.5% per 14d",
    ],
)
def test_canonical_text_round_trips(text):
    r = Regimen.parse(text)
    assert str(r) == text
    assert Regimen.parse(str(r)) == r


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("8h", 8.0),
        ("14d", 336.0),
        ("2w", 336.0),
        ("1y", 8766.0),
        ("30min", 0.5),
        ("90 s", 0.025),
        ("0", 0.0),
        ("1.5h", 1.5),
    ],
)
def test_parse_duration(text, hours):
    assert parse_duration(text) == hours


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (336.0, "14d"),
        (8766.0, "1y"),
        (36.0, "36h"),
        (0.5, "30min"),
        (1 / 3600, "1s"),
        (0.0, "0"),
        (0.1234, "0.1234h"),
    ],
)
def test_format_duration(hours, text):
    assert format_duration(hours) == text


# ----------------------------------------------------------------- one dose type
def test_events_are_the_engine_dose_and_simulate_as_they_are():
    """The regimen expands to model.dose.Dose, which the engine takes with no conversion."""
    import xarray as xr

    from neuroadapt.engine.simulate import simulate
    from neuroadapt.parameters import load_parameters
    from neuroadapt.scenarios import load_scenario

    r = Regimen.parse(
        "20 mg iv q8h x 1d then methadone 10 mg iv over 30min at 2h then naloxone 0.4 mg im at 1h"
    )
    events = r.events()
    by_hand = [
        Dose(0.0, "heroin", "iv", 20.0),
        Dose(8.0, "heroin", "iv", 20.0),
        Dose(16.0, "heroin", "iv", 20.0),
        Dose(26.0, "methadone", "iv", 10.0, duration_h=0.5),
        Dose(27.0, "naloxone", "im", 0.4),
    ]
    assert all(type(e) is Dose for e in events)
    assert events == by_hand
    rat = load_scenario("rat-iv-heroin").all_events()
    assert rat and all(type(e) is Dose and e.unit == "mg/kg" for e in rat)

    params, hours = load_parameters("human"), r.duration_h + 12.0
    direct = simulate(params, events, hours, 2, seed=4)
    written = simulate(params, by_hand, hours, 2, seed=4)
    xr.testing.assert_equal(direct.dataset, written.dataset)
    assert float(direct.dataset["agonist_occupancy"].max()) > 0.0


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("25 mL iv q8h x 3d", "unit", "ml"),
        ("25 mg ivv q8h x 3d", "route", "ivv"),
        ("cocaine 25 mg iv q8h x 3d", "drug", "cocaine"),
        ("-5 mg iv q8h x 3d", "amount", "-5"),
        ("lots mg iv q8h x 3d", "amount", "lots"),
        ("naltrexone 50 mg iv q24h x 3d", "route", "iv"),
        ("25 mg iv q0h x 3d", "interval", "q0h"),
        ("25 mg iv q-8h x 3d", "interval", "-8h"),
        ("25 mg iv q8h x 3 parsecs", "escalation", "parsecs"),
        ("25 mg iv q8h x 0", "dose count", 0),
        ("25 mg iv x 3d", "schedule", "x 3d"),
        ("25 mg iv q8h x 3d escalating 5 per 7d", "escalation", "escalating 5 per 7d"),
        ("0 x 3", "abstinence duration", "3"),
        ("(25 mg iv at 0) repeat 0", "repeat", 0),
        ("25 mg iv q8h x 3d then", "segment", ""),
        ("(25 mg iv at 0", "parenthesis", "("),
        ("", "regimen", ""),
    ],
)
def test_bad_regimens_raise_one_line_errors(text, field, value):
    with pytest.raises(RegimenError) as info:
        Regimen.parse(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.field, err.value) == (field, value)
    assert "\n" not in str(err) and field in str(err) and repr(value) in str(err)


def test_error_names_the_segment():
    with pytest.raises(RegimenError, match=r"segment 2 '10 mg ivv at 0'"):
        Regimen.parse("25 mg iv q8h x 3d then 10 mg ivv at 0")


def test_treatment_style_parsing_requires_a_drug():
    with pytest.raises(RegimenError, match="drug"):
        Regimen.parse("60 mg oral q24h x 3d", default_drug=None)
    assert Regimen.parse("methadone 60 mg oral q24h x 3d", default_drug=None)


def test_components_validate():
    with pytest.raises(RegimenError):
        RepeatedDose("heroin", 1.0, "mg", "iv", interval_h=8.0)  # neither duration nor count
    with pytest.raises(RegimenError):
        SingleDose("heroin", 1.0, "mL", "iv")
    with pytest.raises(RegimenError):
        Abstinence(0.0)
    with pytest.raises(RegimenError):
        Regimen(())


# ----------------------------------------------------------------- limits
@pytest.mark.parametrize(
    ("text", "field", "needle"),
    [
        ("1e308 mg iv q1h x 1d", "amount", "at most 10000 mg"),
        ("20 g iv at 0", "amount", "at most 10000 mg"),
        ("2000 mg/kg iv at 0", "amount", "at most 1000 mg/kg"),
        ("10 mg iv q8h x 90d escalating 100% per 1d", "escalation", "at most 10000 mg"),
        ("1 mg iv q1min x 2y", "dose count", "at most 100000 doses"),
        ("1 mg iv q1s x 1e300y", "dose count", "at most 100000 doses"),
        ("1 mg iv q1h x 1000000", "dose count", "at most 100000 doses"),
        ("(1 mg iv q1h x 1y) repeat 100", "repeat", "at most 100000 doses"),
        ("((1 mg iv q1h x 1d) repeat 100) repeat 100", "repeat", "at most 100000 doses"),
        ("(0 x 1d) repeat 1000000000", "repeat", "at most 100000 segments"),
        ("(" * 9 + "1 mg iv at 0" + ") repeat 2" * 9, "nesting", "at most 8 deep"),
    ],
)
def test_limits_give_one_line_errors(text, field, needle):
    with pytest.raises(RegimenError) as info:
        Regimen.parse(text)
    assert info.value.field == field
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_limits_are_inclusive():
    assert Regimen.parse("10000 mg iv at 0").events()[0].amount == 10_000
    assert Regimen.parse("1000 mg/kg iv at 0").events()[0].amount == 1_000
    assert Regimen.parse("1 mg iv q1h x 100000").n_doses == 100_000
    nested = "(" * 8 + "1 mg iv at 0" + ") repeat 2" * 8
    assert Regimen.parse(nested).n_doses == 2**8


def test_deep_nesting_is_refused_at_once():
    """2,000 levels once raised RecursionError after seconds of quadratic parsing."""
    import time

    text = "(" * 2000 + "1 mg iv at 0" + ") repeat 2" * 2000
    t0 = time.perf_counter()
    with pytest.raises(RegimenError, match="nesting"):
        Regimen.parse(text)
    assert time.perf_counter() - t0 < 0.5


def test_a_huge_repeat_is_counted_not_built():
    """The dose count of repeats is arithmetic: a billion repeats fail at once."""
    with pytest.raises(RegimenError, match="segments"):
        Cycle((Abstinence(1.0),), 1_000_000_000)
    assert Regimen.parse("(1 mg iv q8h x 3 then 0 x 1d) repeat 7").n_doses == 21


# ----------------------------------------------------------------- properties
hours = st.one_of(
    st.floats(1e-3, 1e5, allow_nan=False),
    st.integers(1, 400).map(lambda n: n * 24.0),
    st.integers(1, 500).map(lambda n: n / 60),
)
dose_head = st.builds(
    lambda pair, amount, unit, infusion: {
        "drug": pair[0],
        "route": pair[1],
        "amount": amount,
        "unit": unit,
        "infusion_h": infusion,
    },
    st.sampled_from(dosing_compartments()),
    st.one_of(st.floats(0, 1e3, allow_nan=False), st.integers(0, 100).map(float)),  # MAX_AMOUNT
    st.sampled_from(["mg", "mg/kg"]),
    st.one_of(st.just(0.0), hours),
)


@st.composite
def repeated(draw):
    head = draw(dose_head)
    interval = draw(st.one_of(st.floats(0.05, 200), st.sampled_from([1.0, 8.0, 24.0])))
    if draw(st.booleans()):
        span = {"count": draw(st.integers(1, 40))}
    else:
        span = {"duration_h": interval * draw(st.floats(0.01, 40))}
    esc = {}
    if draw(st.booleans()):
        esc = {
            "escalation_pct": draw(st.floats(-99, 300).filter(bool)),
            "escalation_every_h": draw(hours),
        }
    try:
        return RepeatedDose(**head, interval_h=interval, **span, **esc)
    except RegimenError:  # escalation so steep that doses overflow
        reject()


base_segment = st.one_of(
    repeated(),
    st.builds(lambda h, at: SingleDose(**h, at_h=at), dose_head, st.one_of(st.just(0.0), hours)),
    st.builds(Abstinence, hours),
)
segment = st.one_of(
    base_segment,
    st.builds(Cycle, st.lists(base_segment, min_size=1, max_size=3).map(tuple), st.integers(1, 4)),
)
regimens = st.lists(segment, min_size=1, max_size=4).map(lambda s: Regimen(tuple(s)))


@settings(max_examples=300, deadline=None)
@given(regimens)
def test_round_trip_property(r):
    text = str(r)
    again = Regimen.parse(text)
    assert again == r
    assert str(again) == text
    assert again.events() == r.events()
    assert Regimen.parse(text.upper()) == r  # input is case-insensitive


@settings(max_examples=200, deadline=None)
@given(regimens, st.floats(0, 1e4))
def test_events_are_sorted_non_negative_and_within_duration(r, start):
    events = r.events(start_h=start)
    times = [e.time_h for e in events]
    assert times == sorted(times)
    assert all(t >= start >= 0 for t in times)
    assert all(t <= start + r.duration_h for t in times)  # exact, even after rounding
    assert all(e.amount >= 0 and math.isfinite(e.amount) for e in events)
    assert r.duration_h == sum(s.length_h for s in r.segments)


@given(hours)
def test_duration_text_round_trips(h):
    assert parse_duration(format_duration(h)) == h
