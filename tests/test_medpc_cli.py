"""``neuroadapt medpc`` end to end: JSON inspection, summaries, CSV export, one-line errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from neuroadapt.cli import app
from neuroadapt.io.medpc import MAX_BYTES, Header, Session, load_profile
from neuroadapt.io.medpc.writer import build_session, write_medpc
from test_medpc_reader import medpc_dir, shared  # noqa: F401  (fixture)


def run(*args):
    """The CLI in-process; a user error comes back as ``result.exception``."""
    return CliRunner().invoke(app, ["medpc", *map(str, args)])


def user_error(result) -> str:
    """The one-line message of a user error (exit status 2, one ``error:`` line on stderr)."""
    err = result.stderr.strip()
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert "Traceback" not in result.output
    return err.removeprefix("error: ")


def cli(*args):
    """``python -m neuroadapt medpc ...`` in a subprocess (exit status and stderr as users see)."""
    return subprocess.run(
        [sys.executable, "-m", "neuroadapt", "medpc", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def sa_file(tmp_path_factory):
    profile = load_profile("neuroadapt-sa")
    sessions = [
        build_session(
            profile,
            {"Subject": f"R{i}", "Start Date": "01/02/24", "MSN": "neuroadapt_PR"},
            {"H": 20.0, "S": 3600.0},
            [0.0, 10.0, 10.0, 15.0, 50.0, 3600.0],
            [
                "session_start",
                "active_press",
                "infusion",
                "active_press",
                "inactive_press",
                "session_end",
            ],
        )  # fmt: skip
        for i in range(2)
    ]
    return write_medpc(tmp_path_factory.mktemp("sa") / "sa.txt", sessions)


def test_inspect_json(medpc_dir):  # noqa: F811
    result = run("inspect", shared(medpc_dir, "cyf203__medpc2excel/*"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["sessions"]) == 9 and data["skipped"] == []
    first = data["sessions"][0]
    assert first["header"]["Subject"] == "56" and first["scalars"]["R"] == 0.0
    assert first["arrays"]["F"] == {"length": 257, "columns": 5}


def test_summarize_and_to_csv(sa_file, tmp_path):
    out = tmp_path / "summary.csv"
    result = run("summarize", sa_file, "--profile", "neuroadapt-sa", "--out", out,
                 "--progressive-ratio")  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert table.subject.tolist() == ["R0", "R1"]
    assert table.infusions.tolist() == [1, 1] and table.timeout_presses.tolist() == [1, 1]
    assert table.percent_active[0] == pytest.approx(200 / 3) and table.breakpoint[0] == 1
    result = run("to-csv", sa_file, "--profile", "neuroadapt-sa", "--out", tmp_path / "csv")
    assert result.exit_code == 0, result.output
    events = pd.read_csv(tmp_path / "csv/events.csv")
    assert len(events) == 12 and set(events.role.dropna()) >= {"infusion", "active_press"}
    scalars = pd.read_csv(tmp_path / "csv/scalars.csv")
    assert scalars.loc[scalars.letter == "H", "meaning"].iloc[0] == "timeout_s"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("inspect", "absent.txt"), "file 'absent.txt': does not exist"),
        (("summarize", "{sa}", "--profile", "nope"), "option '--profile' = 'nope'"),
        (
            ("summarize", "{sa}", "--profile", "neuroadapt-sa", "--timeout-s", "-1"),
            "finite number >= 0",
        ),
        (("summarize", "{csv}", "--profile", "neuroadapt-sa"), "not MED-PC output"),
        (("summarize", "{sa}", "--profile", "oortelli-sipper"), "expects array C"),
        (("to-csv", "{sa}", "--profile", "neuroadapt-sa", "--out", "{sa}"), "not a directory"),
    ],
)
def test_user_errors_are_one_line(args, words, sa_file, tmp_path):
    csv = tmp_path / "x.csv"
    csv.write_text("a,b\n1,2\n")
    assert words in user_error(run(*(a.format(sa=sa_file, csv=csv) for a in args)))


def test_python_m_neuroadapt_prints_one_line_and_exits_2(sa_file, tmp_path):
    csv = tmp_path / "x.csv"
    csv.write_text("a,b\n1,2\n")
    proc = cli("summarize", csv, "--profile", "neuroadapt-sa")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and "not MED-PC output" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_option_is_a_usage_error(sa_file):
    result = run("summarize", sa_file, "--profile")
    assert result.exit_code == 2 and "Traceback" not in result.output


def lick_file(path):
    """A lick-task-like session: no self-administration letters at all."""
    session = Session(
        header=Header(subject="L1", start_date="01/02/24", msn="Lick_FR1"),
        scalars={"D": 60.0, "Y": 3.0},
        arrays={"A": np.array([10.001, 20.001, 30.021, 0.0])},
    )
    return write_medpc(path, [session])


@pytest.mark.parametrize("subject", ["[/x]", "[link=http://x]y[/link]", "[bold]B[/bold]"])
def test_markup_in_file_text_is_printed_as_text(subject, tmp_path):
    path = write_medpc(
        tmp_path / "m.txt", [Session(header=Header(subject=subject), scalars={"A": 1.0})]
    )
    result = run("inspect", path)
    assert result.exit_code == 0, result.output  # '[/x]' crashed rich before
    assert subject in result.output  # not rendered: no live link, no bold
    out = tmp_path / "[red]s.csv"
    result = run("summarize", path, "--out", out)
    assert result.exit_code == 0, result.output
    assert "[red]s.csv" in result.output and out.is_file()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1"])
def test_timeout_must_be_finite(value, sa_file):
    result = run("summarize", sa_file, "--profile", "neuroadapt-sa", "--timeout-s", value)
    assert "'--timeout-s'" in user_error(result) and "finite number >= 0" in user_error(result)


def test_summarize_without_profile_names_variables_as_they_are(tmp_path):
    path = lick_file(tmp_path / "lick.txt")
    result = run("summarize", path)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.stdout))
    assert table[["D", "Y", "A_length"]].iloc[0].tolist() == [60, 3, 4]
    assert not {"infusions", "active_presses", "timeout_s"} & set(table.columns)
    for flag in (["--timeout-s", "20"], ["--progressive-ratio"]):
        message = user_error(run("summarize", path, *flag))
        assert f"'{flag[0]}'" in message and "self-administration profile" in message


def test_summarize_a_lick_task_with_its_profile_counts_events_by_name(medpc_dir):  # noqa: F811
    path = shared(medpc_dir, "LaubachLab__MedParse/ExampleFile1")
    result = run("summarize", path, "--profile", "laubach-lick")
    assert result.exit_code == 0, result.output
    row = pd.read_csv(io.StringIO(result.stdout)).iloc[0]
    assert (row.events, row.n_lick, row.n_right_port, row.A_length) == (2036, 1447, 69, 9501)
    assert "infusions" not in row.index and row.time_min == 60  # D, named by the profile


def test_summarize_sa_profile_still_reports_sa_metrics(sa_file):
    result = run("summarize", sa_file, "--profile", "neuroadapt-sa")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.stdout))
    assert table.infusions.tolist() == [1, 1] and "E_length" not in table


def test_inspect_json_is_standard_json(tmp_path):
    path = tmp_path / "inf.txt"
    path.write_bytes(
        b"Start Date: 01/02/24\r\nSubject: ok\r\nA:  1.0\r\n\r\n"
        b"Start Date: 01/02/24\r\nSubject: big\r\nA:  1e999\r\n"
    )
    result = run("inspect", path, "--json")
    assert result.exit_code == 0, result.output

    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    data = json.loads(result.stdout, parse_constant=refuse)
    assert [s["header"]["Subject"] for s in data["sessions"]] == ["ok"]
    assert "overflows to infinity" in data["skipped"][0]["reason"]


def test_size_limit_and_special_files(tmp_path):
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)  # sparse: nothing is written
    message = user_error(run("inspect", big))
    assert f"larger than the limit of {MAX_BYTES} bytes" in message and "--max-mb" in message
    small = lick_file(tmp_path / "small.txt")
    assert "than the limit of 104 bytes" in user_error(run("inspect", small, "--max-mb", "0.0001"))
    assert run("inspect", small, "--max-mb", "1").exit_code == 0
    for bad in ("0", "nan", "-2"):
        assert "'--max-mb'" in user_error(run("summarize", small, "--max-mb", bad))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "is a FIFO" in user_error(run("summarize", fifo))
