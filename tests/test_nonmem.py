"""NONMEM-style event tables: ADDL/II compression, round trips and one-line errors."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroadapt.io.nonmem import (
    NONMEM_COLUMNS,
    NonmemError,
    events_to_nonmem,
    nonmem_to_events,
    read_nonmem_csv,
    write_nonmem_csv,
)
from neuroadapt.model.routes import cmt_number, dosing_compartments
from neuroadapt.scenarios import DoseEvent, Regimen, load_scenario, sort_events


def test_regular_repeats_compress_into_one_row():
    events = Regimen.parse("25 mg iv q8h x 90d").events()
    df = events_to_nonmem(events)
    assert list(df.columns) == list(NONMEM_COLUMNS)
    assert len(df) == 1
    row = df.iloc[0]
    assert (row.ID, row.TIME, row.AMT, row.CMT, row.EVID) == (
        1,
        0.0,
        25.0,
        cmt_number("heroin", "iv"),
        1,
    )
    assert (row.RATE, row.ADDL, row.II) == (0.0, 269, 8.0)
    assert nonmem_to_events(df) == {1: events}


def test_escalation_gives_one_row_per_amount():
    events = Regimen.parse("25 mg iv q8h x 28d escalating 5% per 7d").events()
    df = events_to_nonmem(events)
    assert df["ADDL"].tolist() == [20, 20, 20, 20]
    assert df["TIME"].tolist() == [0.0, 168.0, 336.0, 504.0]
    assert nonmem_to_events(df)[1] == events


def test_uncompressed_table_has_a_row_per_dose():
    events = Regimen.parse("25 mg iv q8h x 3").events()
    df = events_to_nonmem(events, compress=False)
    assert len(df) == 3 and set(df["ADDL"]) == {0}
    assert nonmem_to_events(df)[1] == events


def test_scenario_round_trip_with_treatments():
    events = load_scenario("methadone-maintenance").all_events()
    df = events_to_nonmem(events, subject_ids=[3, 7])
    assert set(df["ID"]) == {3, 7}
    assert len(df) < 20
    back = nonmem_to_events(df)
    assert back == {3: events, 7: events}


def test_infusions_use_rate_and_round_trip_exactly():
    events = Regimen.parse(
        "methadone 10 mg iv over 29min q12h x 3 then 0.1 mg iv over 41min at 1d"
    ).events()
    df = events_to_nonmem(events)
    assert df["RATE"].iloc[0] == pytest.approx(10 / (29 / 60))
    assert nonmem_to_events(df)[1] == sort_events(events)


def test_weight_based_amounts():
    events = Regimen.parse("0.1 mg/kg iv q1h x 6h").events()
    kept = events_to_nonmem(events)
    assert kept["AMTU"].tolist() == ["mg/kg"] and kept["AMT"].tolist() == [0.1]
    assert nonmem_to_events(kept)[1] == events
    converted = events_to_nonmem(events, subject_ids=[1, 2], body_weight_kg={1: 0.3, 2: 0.4})
    assert "AMTU" not in converted.columns
    assert converted["AMT"].tolist() == pytest.approx([0.03, 0.04])
    with pytest.raises(NonmemError, match="body weight"):
        events_to_nonmem(events, subject_ids=[1, 5], body_weight_kg={1: 0.3})


def test_observation_rows_are_ignored_and_addl_expands():
    df = pd.DataFrame(
        {
            "ID": [1, 1, 2],
            "TIME": [0.0, 1.0, 2.0],
            "AMT": [5.0, None, 2.0],
            "CMT": [cmt_number("naloxone", "im"), None, cmt_number("heroin", "smoked")],
            "EVID": [1, 0, 1],
            "ADDL": [2, 0, 0],
            "II": [4.0, 0.0, 0.0],
        }
    )
    out = nonmem_to_events(df)
    assert out[1] == [DoseEvent(t, "naloxone", "im", 5.0, "mg") for t in (0.0, 4.0, 8.0)]
    assert out[2] == [DoseEvent(2.0, "heroin", "smoked", 2.0, "mg")]


def _one_dose(**changes):
    row = {
        "ID": 1,
        "TIME": 0.0,
        "AMT": 10.0,
        "CMT": 1,
        "EVID": 1,
        "RATE": 0.0,
        "ADDL": 0,
        "II": 0.0,
    }
    row.update(changes)
    return pd.DataFrame([row])


@pytest.mark.parametrize(
    ("changes", "column", "value"),
    [
        ({"CMT": 999}, "CMT", 999),
        ({"CMT": 0}, "CMT", 0),
        ({"AMT": -1.0}, "AMT", -1.0),
        ({"RATE": -2.0}, "RATE", -2.0),
        ({"EVID": 4}, "EVID", 4),
        ({"ADDL": 3, "II": 0.0}, "II", 0.0),
        ({"ADDL": 1.5, "II": 8.0}, "ADDL", 1.5),
        ({"TIME": float("nan")}, "TIME", float("nan")),
        ({"AMTU": "mL"}, "AMTU", "mL"),
    ],
)
def test_bad_rows_give_one_line_errors(changes, column, value):
    with pytest.raises(NonmemError) as info:
        nonmem_to_events(_one_dose(**changes))
    err = info.value
    msg = str(err)
    assert "\n" not in msg and f"column '{column}'" in msg and "row 1" in msg
    assert err.column == column and err.row == 1
    assert repr(value) in msg


def test_missing_column():
    with pytest.raises(NonmemError, match="column 'CMT'.*required columns"):
        nonmem_to_events(_one_dose().drop(columns="CMT"))


def test_csv_round_trip_is_exact_and_atomic(tmp_path):
    events = Regimen.parse(
        "heroin 0.123456789 mg iv q7h x 5d then naloxone 0.4 mg intranasal at 1h"
    ).events()
    df = events_to_nonmem(events, subject_ids=[1, 2])
    path = tmp_path / "doses.csv"
    write_nonmem_csv(df, path)
    write_nonmem_csv(df, path)  # overwriting works
    assert [p.name for p in tmp_path.iterdir()] == ["doses.csv"]
    back = read_nonmem_csv(path)
    pd.testing.assert_frame_equal(back, df)
    assert nonmem_to_events(back) == {1: events, 2: events}


def test_lower_case_columns_and_dots_are_read(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text("id,time,amt,cmt,evid\n1,0,10,1,1\n1,2,.,.,0\n")
    assert nonmem_to_events(read_nonmem_csv(path)) == {
        1: [DoseEvent(0.0, "heroin", "iv", 10.0, "mg")]
    }


event = st.builds(
    lambda t, pair, amount, unit, dur: DoseEvent(t, pair[0], pair[1], amount, unit, dur),
    st.one_of(st.floats(0, 1e5), st.integers(0, 2000).map(float)),
    st.sampled_from(dosing_compartments()),
    st.sampled_from([0.0, 0.4, 25.0, 1e-3]) | st.floats(1e-9, 1e3),
    st.sampled_from(["mg", "mg/kg"]),
    st.sampled_from([0.0, 0.0, 0.5, 2.0]) | st.floats(1e-3, 48),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(event, max_size=30),
    st.lists(st.integers(1, 10**6), min_size=1, max_size=3, unique=True),
)
def test_round_trip_property(events, ids):
    events = sort_events(events)
    df = events_to_nonmem(events, subject_ids=ids)
    back = nonmem_to_events(df)
    assert set(back) == (set(ids) if events else set())
    for evs in back.values():
        assert len(evs) == len(events)
        for got, want in zip(evs, events, strict=True):
            # times pass through NONMEM's TIME column arithmetic: equal to the last bit or so
            assert got.time_h == pytest.approx(want.time_h, rel=1e-15, abs=1e-12)
            assert (got.drug, got.route, got.amount, got.unit) == (
                want.drug,
                want.route,
                want.amount,
                want.unit,
            )
            if want.amount > 0:  # RATE = AMT / duration: exact to rounding
                assert got.duration_h == pytest.approx(want.duration_h, rel=1e-14)
            else:  # a zero amount has no rate, so no infusion duration
                assert got.duration_h == 0.0
