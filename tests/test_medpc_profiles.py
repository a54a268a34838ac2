"""Profiles: validation, shipped profiles, and event decoding checked against the files."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroadapt.io.medpc import (
    EventSpec,
    MedPCError,
    Profile,
    ProfileError,
    Session,
    combine_summaries,
    decode_session,
    encode_events,
    events_table,
    list_profiles,
    load_profile,
    read_medpc,
    sessions_table,
    summary_table,
)
from test_medpc_reader import medpc_dir, shared  # noqa: F401  (fixture)


def test_shipped_profiles_load():
    names = [n for n, _ in list_profiles()]
    assert names == [
        "generic",
        "laubach-lick",
        "nautiyal-operant",
        "neuroadapt-sa",
        "oortelli-sipper",
        "townsend-code-prefix",
    ]
    for name in names:
        assert load_profile(name).name == name


def test_profile_errors_are_one_line(tmp_path):
    with pytest.raises(ProfileError, match="unknown; shipped profiles are generic, laubach-lick"):
        load_profile("nope")
    bad = tmp_path / "p.toml"
    bad.write_text('name = "x"\ndescription = ""\nsource = ""\ncolour = "red"\n')
    with pytest.raises(ProfileError, match="field 'colour'.*Extra inputs"):
        load_profile(bad)
    bad.write_text('name = "x"\ndescription = ""\nsource = ""\n[scalars]\nAA = "y"\n')
    with pytest.raises(ProfileError, match="not a MED-PC variable letter"):
        load_profile(bad)
    bad.write_text(
        'name = "x"\ndescription = ""\nsource = ""\n[events]\nencoding = "paired"\n'
        'time_unit_s = 1\ncode_array = "Y"\n'
    )
    with pytest.raises(ProfileError, match="needs code_array and time_array"):
        load_profile(bad)
    with pytest.raises(ProfileError, match="no such file"):
        load_profile(tmp_path / "absent.toml")


def test_laubach_events_match_the_files_counters(medpc_dir):  # noqa: F811
    profile = load_profile("laubach-lick")
    (s,) = read_medpc(shared(medpc_dir, "LaubachLab__MedParse/ExampleFile1"))
    ev = events_table([s], profile)
    assert len(ev) == 2036  # Y: events written
    assert (ev.event == "lick").sum() == s.scalars["G"] == 1447
    assert (ev.event == "right_port").sum() == s.scalars["E"] == 69
    assert ev.time_s.iloc[0] == pytest.approx(2500 * 0.002) and ev.code.iloc[0] == 36
    assert ev.time_s.max() < sessions_table([s], profile).duration_s[0] == 3600


def test_sipper_intervals_and_sentinel_match_counters(medpc_dir):  # noqa: F811
    """C double-writes the first press and the first lick of each bout (two state sets)."""
    profile = load_profile("oortelli-sipper")
    for path in sorted(medpc_dir.glob("oortelli__MedParser/*Experiment_50*")):
        (s,) = read_medpc(path)
        ev = events_table([s], profile)
        counts = ev.event.value_counts()
        b = s.arrays["B"]
        assert counts["lever_press"] == b[1] + 1
        assert counts["lick"] - b[3] in (b[2], b[2] + 1)  # + one per bout (B(2)), +-1
        stop = np.flatnonzero(s.arrays["C"] == -987.987)
        assert len(ev) == (stop[0] if stop.size else s.arrays["C"].size)
        assert ev.time_s.is_monotonic_increasing


def test_integer_packed_and_code_prefix(medpc_dir):  # noqa: F811
    ev = events_table(
        read_medpc(shared(medpc_dir, "Nautiyal*/!2014*")), load_profile("nautiyal-operant")
    )
    assert ev.event.iloc[0] == "HouseLightOn" and ev.time_s.iloc[0] == 0.0
    assert ev.event.iloc[-1] == "EndSession"
    assert ev.time_s.iloc[-1] == pytest.approx((1581000 - 21850) * 0.002)
    f = read_medpc(shared(medpc_dir, "ericastownsend__medpc_wrangler/*"))
    ev = events_table(f, load_profile("townsend-code-prefix"))
    first = ev[ev.session == 0].iloc[0]
    assert (first.code, first.event, first.time_s) == (3, "code_3", pytest.approx(13.71))
    assert sorted(ev.session.unique()) == [0, 1, 2, 3]
    assert ev.groupby("session").time_s.max().max() < 3600


def test_paired_y_z_arrays():
    spec = EventSpec(encoding="paired", code_array="Y", time_array="Z", time_unit_s=0.01)
    s = Session(arrays={"Y": np.array([3.0, 1.0, 0.0]), "Z": np.array([150.0, 200.0, 0.0])})
    times, codes = decode_session(s, spec)
    assert times.tolist() == [1.5, 2.0] and codes.tolist() == [3, 1]


def test_decoding_errors_are_typed():
    spec = EventSpec(encoding="integer", array="W", time_unit_s=0.002)
    with pytest.raises(MedPCError, match="expects array W"):
        decode_session(Session(arrays={"A": np.ones(2)}), spec)
    with pytest.raises(MedPCError, match="whole numbers"):
        decode_session(Session(arrays={"W": np.array([1.5])}), spec)
    with pytest.raises(MedPCError, match="negative value"):
        decode_session(Session(arrays={"W": np.array([10001.0, -99.0])}), spec)


SPECS = [
    EventSpec(encoding="fraction", array="E", time_unit_s=0.01),
    EventSpec(encoding="fraction", array="C", time_unit_s=0.1, code_digits=2, intervals=True),
    EventSpec(encoding="integer", array="W", time_unit_s=0.002, multiplier=10000),
    EventSpec(encoding="code_prefix", array="B", time_unit_s=1.0, multiplier=10000),
    EventSpec(encoding="paired", code_array="Y", time_array="Z", time_unit_s=0.01),
]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(SPECS),
    st.lists(st.tuples(st.integers(0, 300_000), st.integers(1, 99)), max_size=40),
)
def test_encode_decode_round_trip(spec, pairs):
    pairs = sorted(pairs)
    ticks = np.array([p[0] for p in pairs], dtype=float)
    codes = np.array([p[1] for p in pairs], dtype=np.int64)
    if spec.encoding == "code_prefix":
        ticks = np.minimum(ticks / 100, 9999.99)  # seconds with 2 decimals, below 10,000
    times = ticks * (1.0 if spec.encoding == "code_prefix" else spec.time_unit_s)
    session = Session(arrays={k: v for k, v in encode_events(times, codes, spec).items()})
    back_t, back_c = decode_session(session, spec)
    if spec.encoding == "paired" and pairs and times[-1] == 0:
        return  # an event at time 0 as the last record is indistinguishable from padding
    np.testing.assert_allclose(back_t, times, atol=1e-6)
    assert back_c.tolist() == codes.tolist()


def test_summaries_of_several_files_share_one_column_order():
    spec = {"encoding": "fraction", "array": "E", "time_unit_s": 0.01}
    profile = Profile(
        name="p", description="", source="", events=spec, scalars={"Y": "events_recorded"}
    )
    one = Session(scalars={"Z": 1.0, "Y": 2.0}, arrays={"E": np.array([1.001, 2.002])})
    two = Session(scalars={"A": 5.0}, arrays={"E": np.array([3.001]), "B": np.zeros(3)})
    table = combine_summaries(
        [summary_table([one], profile), summary_table([two], profile, first=1)]
    )
    tail = ["A", "Z", "B_length", "E_length", "events", "n_code_1", "n_code_2"]
    assert list(table.columns[-len(tail) :]) == tail and "events_recorded" in table
    assert table.n_code_2.tolist() == [1, 0]  # a count the second file never saw is 0
    assert table.A.isna().tolist() == [True, False]  # a scalar a session lacks is missing
    assert table.B_length.isna().tolist() == [True, False] and table.session.tolist() == [0, 1]
