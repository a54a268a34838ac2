"""Files written in MED-PC's own layout open in a community parser (MPCdata)."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
from MPCdata import parse_MPC
from typer.testing import CliRunner

from neuroadapt.cli import app
from neuroadapt.io.medpc import load_profile, read_medpc
from neuroadapt.io.medpc.writer import build_session, medpc_file_name, write_medpc

NAME = re.compile(r"!\d{4}-\d{2}-\d{2}_\d{2}h\d{2}m\.Subject R\d{3}\Z")


def assert_same(mpc, session) -> None:
    """MPCdata's reading of a file equals ours, field by field and value by value."""
    h = session.header
    assert (mpc.Subject, mpc.MSN, str(mpc.Box), mpc.Group) == (h.subject, h.msn, h.box, h.group)
    assert mpc.StartDateTime == session.header.start
    assert mpc.ScalarVars == session.scalars
    assert mpc.ArrayVars.keys() == session.arrays.keys()
    for k, values in session.arrays.items():
        np.testing.assert_array_equal(mpc.ArrayVars[k], values)


def test_mpcdata_reads_a_session_written_in_medpc_layout(tmp_path):
    profile = load_profile("neuroadapt-sa")
    header = {
        "Start Date": "03/14/26", "End Date": "03/14/26", "Subject": "R007", "Experiment": "x",
        "Group": "heroin", "Box": "7", "Start Time": "8:05:09", "End Time": "10:05:09",
        "MSN": "neuroadapt_SA_FR1",
    }  # fmt: skip
    times = np.round(np.sort(np.random.default_rng(1).uniform(0, 7200, 333)), 2)
    events = ["active_press", "infusion", "inactive_press"] * 111
    session = build_session(profile, header, {"A": 111.0, "S": 7200.0}, times, events)
    name = medpc_file_name(session.header)
    assert name == "!2026-03-14_08h05m.Subject R007"
    header = dataclasses.replace(session.header, file=f"C:\\DATA\\{name}")
    session = dataclasses.replace(session, header=header)
    path = write_medpc(tmp_path / name, [session], layout="medpc")
    (mpc,) = parse_MPC(path)
    assert_same(mpc, session)
    assert mpc.ArrayVars["E"].size == 333
    (back,) = read_medpc(path)
    assert back == session


def test_the_rat_lab_writes_medpc_layout_that_mpcdata_reads(tmp_path):
    protocol = tmp_path / "tiny.toml"
    protocol.write_text(
        'name = "tiny"\nanimals = 2\nseed = 4\n[[groups]]\nname = "heroin"\nphases = [\n'
        '  { kind = "self_administration", sessions = 2, hours = 1, ratio = 1, dose = 0.06 },\n'
        '  { kind = "extinction", sessions = 1, hours = 1 },\n]\n'
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["experiment", str(protocol), "--out", str(out), "--medpc-layout", "medpc", "--mpc-stub"],
    )
    assert result.exit_code == 0, result.output
    files = sorted(p for p in (out / "medpc").iterdir() if p.suffix != ".MPC")
    assert len(files) == 2 * 3 and all(NAME.match(p.name) for p in files), files
    for path in files:
        raw = path.read_bytes()
        assert raw.startswith(f"File: C:\\MED-PC IV\\DATA\\{path.name}\r\n\n\r\r\n".encode())
        (session,) = read_medpc(path)  # one session per file
        assert session.comments == ()  # medpc2excel reads comments with a colon as values
        (mpc,) = parse_MPC(path)
        assert_same(mpc, session)
    stubs = {p.name: p.read_text(encoding="utf-8") for p in (out / "medpc").glob("*.MPC")}
    assert set(stubs) == {"neuroadapt_SA_FR1.MPC", "neuroadapt_EXT.MPC"}
    longest = max(
        read_medpc(p)[0].arrays["E"].size
        for p in files
        if "SA_FR1" in p.read_text(encoding="utf-8")
    )
    assert f"DIM E = {longest - 1}  \\ event record" in stubs["neuroadapt_SA_FR1.MPC"]
    # the report found and analysed every session of the new layout
    table = pd.read_csv(out / "tables" / "analysis_sessions.csv")
    assert len(table) == 6 and set(table["subject"]) == {"R001", "R002"}


def test_unknown_layout_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["experiment", "acquisition", "--medpc-layout", "excel"])
    err = result.stderr.strip()
    assert result.exit_code == 2 and len(err.splitlines()) == 1 and err.startswith("error: ")
    assert "'--medpc-layout' = 'excel': must be one of neuroadapt, medpc" in err
