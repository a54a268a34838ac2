"""The MED-PC reader on every shared real file, on each variant, and on bad input."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroadapt.io.medpc import MAX_BYTES, MedPCError, parse_medpc, read_medpc
from neuroadapt.io.medpc.reader import split_lines

SHARED_MEDPC = Path(__file__).resolve().parents[2] / "shared/data/medpc"
NOT_MEDPC = {"n1_d1.txt"}


@pytest.fixture(scope="module")
def medpc_dir() -> Path:
    if not SHARED_MEDPC.is_dir():
        pytest.skip(f"the shared MED-PC files ({SHARED_MEDPC}) are absent beside the repository")
    return SHARED_MEDPC


def shared(medpc_dir: Path, pattern: str) -> Path:
    (path,) = medpc_dir.glob(pattern)
    return path


def test_every_shared_file_parses_or_is_rejected_with_a_line(medpc_dir):
    files = [p for p in sorted(medpc_dir.rglob("*")) if p.is_file() and p.name != "PROVENANCE.md"]
    assert len(files) == 15
    sessions = 0
    for path in files:
        if path.name in NOT_MEDPC:
            with pytest.raises(MedPCError) as err:
                read_medpc(path)
            assert err.value.line == 2 and err.value.path == path
            assert "Paradigm: test" in str(err.value)
            continue
        result = read_medpc(path)
        assert result.skipped == (), path
        sessions += len(result)
    assert sessions == 25


def test_laubach_fraction_packed_file(medpc_dir):
    (s,) = read_medpc(shared(medpc_dir, "LaubachLab__MedParse/ExampleFile1"))
    assert s.header.subject == "EX01" and s.header.msn == "Switch30-l(8-2)"
    assert s.header.file == "C:\\MED-PC IV\\DATA\\ExampleFile1"
    assert s.scalars["U"] == 3903958.0 and s.scalars["Y"] == 2036.0
    assert s.arrays["A"].size == 9501 and s.columns["A"] == 5
    assert s.arrays["A"][5] == 9544.001
    assert s.arrays["B"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert s.comments == ("9/17 20% sucrose",)
    assert s.header.start.isoformat() == "2015-09-17T14:23:08"


def test_same_session_with_different_blank_lines_and_stray_cr(medpc_dir):
    a = read_medpc(shared(medpc_dir, "LaubachLab__MedParse/2015-09-25_ML03"))[0]
    b = read_medpc(shared(medpc_dir, "LaubachLab__MedParse/ExampleFile2"))[0]
    assert a == b and a.line == 4 and b.line == 5
    assert a.arrays["T"].size == 4 and a.columns["T"] == 4


def test_nine_sessions_in_one_file_with_empty_arrays(medpc_dir):
    f = read_medpc(shared(medpc_dir, "cyf203__medpc2excel/*"))
    assert [s.header.subject for s in f] == ["56", "58", "57", "55", "59", "60", "61", "62", "63"]
    assert [s.line for s in f][:3] == [4, 307, 629]
    s61 = f[6]
    assert {k: s61.arrays[k].size for k in "FPQ"} == {"F": 0, "P": 0, "Q": 0}
    assert f[0].header.group == "Air 55-63" and f[0].arrays["A"][0] == 2466.2


def test_four_sessions_code_prefix_file(medpc_dir):
    f = read_medpc(shared(medpc_dir, "ericastownsend__medpc_wrangler/*"))
    assert len(f) == 4 and [s.header.subject for s in f] == ["C6_01", "C6_02", "C6_03", "C6_04"]
    assert f[1].scalars["X"] == 355207.0 and f[0].arrays["B"].size == 9976
    assert f[0].arrays["B"][0] == 30013.71


def test_integer_packed_one_and_five_columns(medpc_dir):
    one = read_medpc(shared(medpc_dir, "Nautiyal*/!2014*"))[0]
    assert one.arrays["W"].size == 495 and one.columns["W"] == 1
    assert one.arrays["W"][-1] == 15810000114.0
    assert one.header.group_fields == {
        "Group": "6",
        "Sex": "Male",
        "Genotype": "TetO1B",
        "Dox": "P60",
    }
    five = read_medpc(shared(medpc_dir, "Nautiyal*/!2018*"))[0]
    assert five.arrays["W"].size == 1175 and five.columns["W"] == 5
    assert five.arrays["A"][-1] == -99.0 and five.arrays["A"].size == 41


def test_one_value_per_row_sipper_and_six_column_maze(medpc_dir):
    s = read_medpc(shared(medpc_dir, "oortelli__MedParser/!_Subject_M10*"))[0]
    assert s.columns["C"] == 1 and s.arrays["C"].size == 1116
    assert s.arrays["B"].tolist() == [4.0, 20.0, 2.0, 1093.0, 0.0]
    maze = read_medpc(shared(medpc_dir, "oortelli__MedParser/*OO M1*"))[0]
    assert maze.header.msn == "Plus Maze" and maze.scalars["J"] == 99.23
    assert maze.columns["L"] == 6 and maze.arrays["L"].size == 90


def test_interval_arrays_and_paired_arrays(medpc_dir):
    g = read_medpc(shared(medpc_dir, "gkane26__rmedpc/*"))[0]
    assert g.arrays["T"].tolist() == [3600.0, 0.45] and g.arrays["A"].size == 332
    s = read_medpc(shared(medpc_dir, "sergio-conde__medpc-behavior/*"))[0]
    assert s.arrays["D"].size == s.arrays["E"].size == s.scalars["G"] == 2064


def test_session_parse_error_is_listed_not_dropped():
    text = (
        "File: X\r\n\r\n\r\nStart Date: 01/02/24\r\nSubject: ok\r\nA:       1.000\r\n\r\n\r\n"
        "Start Date: 01/02/24\r\nSubject: bad\r\nB:\r\n     0:        1.000\r\n"
        "     7:        2.000\r\nC:       3.000\r\n"
    )
    f = parse_medpc(text)
    assert [s.header.subject for s in f] == ["ok"]
    (skip,) = f.skipped
    assert (skip.start_line, skip.line, skip.subject) == (9, 13, "bad")
    assert "row index 7, expected 1" in skip.reason


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"a,b,c\n1,2,3\n", 1, "not MED-PC output"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 2, "binary data"),
        (b"", 1, "no MED-PC session"),
        (b"File: x\r\n\r\nStart Date: 01/01/20\r\nSubject: 1\r\n", 4, "no variables"),
        (b"Start Date: 01/01/20\nA:  1.0  2.0\n", 2, "scalar A has 2 values"),
        (b"Start Date: 01/01/20\nA:  1.0\nA:  2.0\n", 3, "appears twice"),
        (b"Start Date: 01/01/20\nA:  nan\n", 2, "'nan' is not a number"),
        (b"Start Date: 01/01/20\n     0:  1.0\n", 2, "outside an array"),
        (b"Start Date: 01/01/20\nB:\n     0:  1.0 x\n", 3, "'x' is not a number"),
    ],
)
def test_bad_input_raises_medpc_error_with_line(data, line, words):
    with pytest.raises(MedPCError) as err:
        parse_medpc(data, "f.txt")
    assert err.value.line == line, str(err.value)
    assert words in str(err.value) and str(err.value).startswith("f.txt, line")
    assert "\n" not in str(err.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(MedPCError, match="no such file"):
        read_medpc(tmp_path / "absent")
    with pytest.raises(MedPCError, match="directory"):
        read_medpc(tmp_path)


def test_cr_only_line_ends_and_windows_1252():
    f = parse_medpc("Start Date: 01/02/24\rSubject: R\xb5\rB:\r     0:  1.5\r".encode("cp1252"))
    assert f[0].header.subject == "R\xb5" and np.array_equal(f[0].arrays["B"], [1.5])


SESSION = b"Start Date: 01/02/24\r\nSubject: R1\r\nA:       3.000\r\nB:\r\n     0:  1.0  2.0\r\n"


def test_utf8_byte_order_mark_is_dropped():
    f = parse_medpc(b"\xef\xbb\xbf" + SESSION)
    assert f[0].header.subject == "R1" and f[0].line == 1
    assert parse_medpc("\ufeff" + SESSION.decode())[0].arrays["B"].tolist() == [1.0, 2.0]


def test_blank_lines_between_array_rows_are_ignored():
    text = SESSION + b"\r\n\r\n     2:  3.0\r\n\r\n     3:  4.0  5.0\r\nC:  1.0\r\n"
    f = parse_medpc(text)
    assert f.skipped == ()
    assert f[0].arrays["B"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0] and f[0].scalars["C"] == 1.0


@pytest.mark.parametrize(
    ("token", "words"),
    [
        ("1e999", "overflows to infinity"),
        ("-1E400", "overflows to infinity"),
        ("1" * 400, "overflows to infinity"),
        ("1e-400", "underflows to 0"),
        ("0.00001e-330", "underflows to 0"),
        ("inf", "is not a number"),
        ("1_000", "is not a number"),
    ],
)
def test_values_a_float64_cannot_hold_are_errors(token, words):
    with pytest.raises(MedPCError, match=words) as err:
        parse_medpc(f"Start Date: 01/01/20\nA:  {token}\n")
    assert err.value.line == 2
    ok = parse_medpc("Start Date: 01/01/20\nA:  0e-400\nB:  -0.000\nC:  5e-324\n")[0]
    assert ok.scalars == {"A": 0.0, "B": 0.0, "C": 5e-324}


@pytest.mark.parametrize(
    "line",
    [
        b"A:  " + b"7" * 30_000 + b"x",  # a long digit run ending in a non-digit
        b"     0:  " + b"1" * 30_000 + b".5.",
        b"\r" * 30_000 + b"A:  1.0",  # a long run of stray CRs
        b"A:  1.0" + b" " * 30_000 + b"x",
    ],
)
def test_long_tokens_and_runs_are_parsed_in_linear_time(line):
    text = b"Start Date: 01/01/20\nB:\n" + line + b"\n"
    start = time.perf_counter()
    try:
        parse_medpc(text)
    except MedPCError:
        pass
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"{elapsed:.2f} s for {len(text)} bytes"  # quadratic: > 20 s


def test_only_regular_files_are_read(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(MedPCError, match="is a FIFO"):
        read_medpc(fifo)  # the old reader blocked here forever
    if Path("/dev/zero").exists():
        with pytest.raises(MedPCError, match="is a character device, not a regular file"):
            read_medpc("/dev/zero")
    (tmp_path / "real").write_bytes(SESSION)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert read_medpc(tmp_path / "link")[0].header.subject == "R1"


def test_file_size_is_capped(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(SESSION + b"\\" + b"x" * 2000 + b"\r\n")
    with pytest.raises(MedPCError, match=r"2\d{3} bytes, larger than the limit of 1000 bytes"):
        read_medpc(path, max_bytes=1000)
    assert read_medpc(path, max_bytes=10_000)[0].comments == ("x" * 2000,)
    assert MAX_BYTES >= 16 * 2**20  # far above any real file (the largest shared one: 593 kB)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="\r\na", max_size=40))
def test_linear_line_split_equals_the_old_pattern(text):
    """The old split (a backtracking ``\\r*\\n|\\r``) on short text is the reference."""
    assert split_lines(text) == re.split(r"\r*\n|\r", text)
