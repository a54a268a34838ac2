"""Writing MED-PC text: byte-identical on a real file, reader∘writer round trips."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medpc_gen import random_session
from neuroadapt.io.medpc import Header, Session, load_profile, parse_medpc, read_medpc
from neuroadapt.io.medpc.writer import (
    build_session,
    format_medpc,
    format_mpc_stub,
    format_value,
    medpc_file_name,
    write_medpc,
)
from test_medpc_reader import SHARED_MEDPC


def test_writer_reproduces_a_real_file_byte_for_byte():
    path = SHARED_MEDPC / "LaubachLab__MedParse/ExampleFile1"
    if not path.is_file():
        pytest.skip(f"{path} is absent (the shared folder sits beside the repository)")
    assert format_medpc(read_medpc(path).sessions, columns=None).encode() == path.read_bytes()


def test_five_column_layout_and_crlf():
    s = Session(header=Header(subject="R1"), arrays={"E": np.arange(1, 8, dtype=float)})
    text = format_medpc([s])
    assert text.split("\r\n")[:4] == [
        "Subject: R1",
        "E:",
        "     0:        1.000        2.000        3.000        4.000        5.000",
        "     5:        6.000        7.000",
    ]


def test_values_three_decimals_cannot_hold_are_written_exactly():
    assert format_value(0.1 + 0.2) == "0.30000000000000004"
    with pytest.raises(ValueError):
        format_value(float("nan"))


letters = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
field = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    max_size=12,
).map(str.strip)


@st.composite
def sessions(draw):
    names = draw(st.lists(letters, unique=True, min_size=1, max_size=6))
    cut = draw(st.integers(0, len(names)))
    scalars = {k: draw(finite) for k in names[:cut]}
    arrays = {k: np.array(draw(st.lists(finite, max_size=12)), dtype=float) for k in names[cut:]}
    columns = {k: draw(st.integers(1, 6)) for k in arrays}
    header = Header(
        start_date=draw(field),
        subject=draw(st.none() | field),
        group=draw(st.none() | field),
        msn=draw(st.none() | field),
    )
    comments = tuple(draw(st.lists(field.map(lambda c: c.rstrip()), max_size=2)))
    return Session(
        header=header, scalars=scalars, arrays=arrays, columns=columns, comments=comments
    )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(sessions(), min_size=1, max_size=3), st.none() | field, st.sampled_from([None, 1, 5])
)
def test_reader_writer_round_trip(batch, file, columns):
    # ``File:`` is written once per file: every session after it carries it
    batch = [replace(s, header=replace(s.header, file=file)) for s in batch]
    back = parse_medpc(format_medpc(batch, columns=columns).encode())
    assert back.skipped == ()
    assert list(back.sessions) == batch


def test_round_trip_of_generated_multi_session_files(tmp_path):
    rng = random.Random(5)
    for i in range(40):
        batch = [random_session(rng) for _ in range(rng.randint(1, 4))]
        path = write_medpc(tmp_path / f"f{i}", batch)
        assert list(read_medpc(path).sessions) == batch
    assert not list(tmp_path.glob(".*.tmp"))


def test_build_session_writes_the_documented_event_encoding():
    profile = load_profile("neuroadapt-sa")
    s = build_session(
        profile,
        {"Subject": "R7", "MSN": "neuroadapt_SA_FR1"},
        {"A": 2.0, "C": 1.0},
        [0.0, 12.34, 12.34, 3600.0],
        ["session_start", "active_press", "infusion", "session_end"],
    )
    assert s.scalars["Y"] == 4.0
    assert s.arrays["E"].tolist() == [0.009, 1234.001, 1234.003, 360000.010]
    with pytest.raises(ValueError, match="no code for events"):
        build_session(profile, {}, {}, [1.0], ["lever_licked"])


#: Shared files MED-PC IV wrote and nobody re-saved (the others went through an editor).
MEDPC_WRITTEN = [
    "LaubachLab__MedParse/2015-09-25_ML03",
    "gkane26__rmedpc/example_data",
    "sergio-conde__medpc-behavior/example_rat_multipellet",
    "oortelli__MedParser/!_Subject_M10_Experiment_50.Group_18",
    "oortelli__MedParser/!_Subject_OO M1_Experiment_HC.Group_1",
]


@pytest.mark.parametrize("name", MEDPC_WRITTEN)
def test_medpc_layout_is_medpc_s_own_bytes(name):
    path = SHARED_MEDPC / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (the shared folder sits beside the repository)")
    sessions = read_medpc(path).sessions
    assert format_medpc(sessions, columns=None, layout="medpc").encode() == path.read_bytes()


def test_medpc_layout_rules(tmp_path):
    s = Session(
        header=Header(file="C:\\DATA\\!2026-01-05_09h00m.Subject R1", subject="R1"),
        arrays={"E": np.array([1.0])},
    )
    assert format_medpc([s], layout="medpc").startswith(
        "File: C:\\DATA\\!2026-01-05_09h00m.Subject R1\r\n\n\r\r\nSubject: R1\r\n"
    )
    with pytest.raises(ValueError, match="one session per file, not 2"):
        format_medpc([s, s], layout="medpc")
    with pytest.raises(ValueError, match="needs the session's File: field"):
        format_medpc([replace(s, header=Header(subject="R1"))], layout="medpc")
    with pytest.raises(ValueError, match="arrays F are empty"):
        format_medpc([replace(s, arrays={"F": np.array([])})], layout="medpc")
    with pytest.raises(ValueError, match="layout 'xls'"):
        format_medpc([s], layout="xls")
    with pytest.raises(ValueError, match="names '!2026-01-05_09h00m.Subject R1' but the file"):
        write_medpc(tmp_path / "other", [s], layout="medpc")
    path = write_medpc(tmp_path / "!2026-01-05_09h00m.Subject R1", [s], layout="medpc")
    assert read_medpc(path)[0] == s


def test_medpc_file_name():
    h = Header(subject="R 12", start_date="12/31/25", start_time="23:59:59")
    assert medpc_file_name(h) == "!2025-12-31_23h59m.Subject R 12"
    with pytest.raises(ValueError, match="needs Start Date, Start Time and Subject"):
        medpc_file_name(Header(subject="R1", start_date="12/31/25"))
    with pytest.raises(ValueError, match="not allowed in file names"):
        medpc_file_name(replace(h, subject="a/b"))


def test_mpc_stub_declares_each_array_as_medstate_dim():
    text = format_mpc_stub("Prog", {"E": 120, "A": 1}, load_profile("neuroadapt-sa"))
    lines = text.split("\r\n")
    dims = [ln for ln in lines if ln.startswith("DIM")]
    assert dims == ["DIM A = 0  \\ active_presses", "DIM E = 119  \\ event record: TIME.CODE, "
                    "TIME in 0.01 s ticks from session start, CODE/1000"]  # fmt: skip
    assert all(ln.startswith("\\") for ln in lines if ln and not ln.startswith("DIM"))
    assert "DIM" not in "".join(ln for ln in lines if ln.startswith("\\"))
    with pytest.raises(ValueError, match="DIM needs at least one value"):
        format_mpc_stub("Prog", {"E": 0})
