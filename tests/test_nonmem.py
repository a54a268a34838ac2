"""NONMEM-style event tables: ADDL/II compression, round trips, one-line errors, pharmpy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroadapt.io.nonmem import (
    NONMEM_COLUMNS,
    NonmemError,
    cmt_table,
    events_to_nonmem,
    nonmem_to_events,
    read_nonmem_csv,
    write_nonmem_csv,
)
from neuroadapt.model.dose import Dose
from neuroadapt.model.routes import cmt_number, dosing_compartments
from neuroadapt.scenarios import Regimen, load_scenario, sort_events


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
    assert out[1] == [Dose(t, "naloxone", "im", 5.0, "mg") for t in (0.0, 4.0, 8.0)]
    assert out[2] == [Dose(2.0, "heroin", "smoked", 2.0, "mg")]


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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doses.csv", "doses.datainfo"]
    back = read_nonmem_csv(path)
    pd.testing.assert_frame_equal(back, df)
    assert nonmem_to_events(back) == {1: events, 2: events}


def test_lower_case_columns_and_dots_are_read(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text("id,time,amt,cmt,evid\n1,0,10,1,1\n1,2,.,.,0\n")
    assert nonmem_to_events(read_nonmem_csv(path)) == {1: [Dose(0.0, "heroin", "iv", 10.0, "mg")]}


def test_observation_rows_carry_mdv_and_missing_dv(tmp_path):
    events = Regimen.parse("25 mg iv q8h x 2").events()
    df = events_to_nonmem(events, subject_ids=[1, 2], observation_times_h=[0.0, 1.0, 8.0])
    one = df[df.ID == 1]
    assert one[["TIME", "EVID", "MDV"]].values.tolist() == [
        [0.0, 0, 0],  # the observation before the dose at the same time (trough)
        [0.0, 1, 1],
        [1.0, 0, 0],
        [8.0, 0, 0],
    ]
    obs = df[df.EVID == 0]
    assert obs.DV.isna().all() and (obs.AMT == 0).all() and (obs.CMT == 0).all()
    assert df[df.EVID == 1].DV.isna().all()
    path = tmp_path / "t.csv"
    write_nonmem_csv(df, path)
    assert path.read_text(encoding="utf-8").splitlines()[1] == "1,0.0,0.0,0,0,0,.,0.0,0,0.0"
    assert nonmem_to_events(read_nonmem_csv(path)) == {1: events, 2: events}
    per_subject = events_to_nonmem(events, subject_ids=[1, 2], observation_times_h={2: [3.0]})
    assert per_subject[per_subject.EVID == 0][["ID", "TIME"]].values.tolist() == [[2, 3.0]]


@pytest.mark.parametrize(
    ("times", "column", "value"),
    [({5: [1.0]}, "ID", 5), ([1.0, float("inf")], "TIME", float("inf")), (["x"], "TIME", "x")],
)
def test_bad_observation_times(times, column, value):
    with pytest.raises(NonmemError) as info:
        events_to_nonmem([], subject_ids=[1], observation_times_h=times)
    assert info.value.column == column and repr(value) in str(info.value)


def test_times_are_written_as_short_decimals(tmp_path):
    events = [Dose(33 * 1.1, "heroin", "iv", 5.0, "mg")]
    assert events[0].time_h == 36.300000000000004
    df = events_to_nonmem(events, observation_times_h=[0.1 + 0.2])
    assert df.TIME.tolist() == [0.3, 36.3]
    path = tmp_path / "t.csv"
    write_nonmem_csv(df, path)
    text = path.read_text(encoding="utf-8")
    assert "36.300000000000004" not in text and "\n1,36.3," in text
    assert "0.30000000000000004" not in text
    (back,) = nonmem_to_events(read_nonmem_csv(path))[1]
    assert back.time_h == pytest.approx(events[0].time_h, rel=1e-15)
    regular = Regimen.parse("2 mg iv q1.1h x 40").events()
    compressed = events_to_nonmem(regular)
    assert compressed.II.tolist() == [1.1]
    assert nonmem_to_events(compressed)[1] == regular


def test_cmt_map_in_the_docs_is_the_code_s():
    docs = (Path(__file__).parents[1] / "docs" / "formats.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| (\w+) \| (\w+) \|$", docs, flags=re.MULTILINE)
    table = cmt_table()
    assert [(int(c), d, r) for c, d, r in rows] == list(table.itertuples(index=False, name=None))
    assert list(zip(table.DRUG, table.ROUTE, strict=True)) == dosing_compartments()
    assert cmt_number("heroin", "iv") == 1


@pytest.fixture(scope="module")
def pharmpy_modeling():
    import pharmpy.modeling

    return pharmpy.modeling


@pytest.mark.parametrize("datainfo", [True, False], ids=["with-datainfo", "csv-only"])
def test_pharmpy_reads_a_written_table(tmp_path, pharmpy_modeling, datainfo):
    pm = pharmpy_modeling
    events = Regimen.parse("25 mg iv q8h x 3d then 10 mg iv over 30min at 1h").events()
    times = [0.0, 0.5, 12.0, 36.300000000000004, 80.0]
    df = events_to_nonmem(events, subject_ids=[1, 2], observation_times_h=times)
    path = tmp_path / "doses.csv"
    write_nonmem_csv(df, path, datainfo=datainfo)
    model = pm.create_basic_pk_model("iv", dataset_path=path)
    checks = pm.check_dataset(model, dataframe=True, verbose=True)
    assert len(checks) > 0 and (checks.result == "OK").all(), checks
    assert len(model.dataset) == len(df)  # no subject dropped for want of observations
    observed = pm.get_observations(model)
    assert observed.index.get_level_values("TIME").tolist() == [0.0, 0.5, 12.0, 36.3, 80.0] * 2
    if datainfo:  # ADDL is known as such: pharmpy expands the doses as we do
        doses = pm.get_doses(pm.expand_additional_doses(model))
        want = sorted((e.time_h, e.amount) for e in events)
        for sid in (1, 2):
            got = doses.xs(sid, level="ID")
            assert list(zip(got.index, got.values, strict=True)) == want
        assert model.datainfo.typeix["additional"].names == ["ADDL"]
        assert model.datainfo["TIME"].variable.get_property("unit").serialize() == "h"


def test_pharmpy_drops_the_amtu_column(tmp_path, pharmpy_modeling):
    events = Regimen.parse("0.1 mg/kg iv q1h x 3").events()
    df = events_to_nonmem(events, observation_times_h=[0.5])
    assert "AMTU" in df.columns
    path = tmp_path / "perkg.csv"
    write_nonmem_csv(df, path)
    info = json.loads(path.with_suffix(".datainfo").read_text(encoding="utf-8"))
    assert [c["name"] for c in info["columns"] if c["drop"]] == ["AMTU"]
    model = pharmpy_modeling.create_basic_pk_model("iv", dataset_path=path)
    assert model.datainfo["AMTU"].drop and len(model.dataset) == len(df)


event = st.builds(
    lambda t, pair, amount, unit, dur: Dose(t, pair[0], pair[1], amount, unit, dur),
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

    def canonical(evs):
        # events at the same time may come back in either order: ADDL/II expansion can
        # move a time by the last bit, so ties are ordered with times rounded
        return sorted(evs, key=lambda e: (round(e.time_h, 9), e.drug, e.route, e.unit, e.amount))

    for evs in back.values():
        assert len(evs) == len(events)
        for got, want in zip(canonical(evs), canonical(events), strict=True):
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
