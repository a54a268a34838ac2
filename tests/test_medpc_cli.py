"""``neuroadapt medpc`` end to end: JSON inspection, summaries, CSV export, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from neuroadapt.io.medpc import load_profile
from neuroadapt.io.medpc.writer import build_session, write_medpc
from test_medpc_reader import medpc_dir, shared  # noqa: F401  (fixture)


def cli(*args):
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
    proc = cli("inspect", shared(medpc_dir, "cyf203__medpc2excel/*"), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert len(data["sessions"]) == 9 and data["skipped"] == []
    first = data["sessions"][0]
    assert first["header"]["Subject"] == "56" and first["scalars"]["R"] == 0.0
    assert first["arrays"]["F"] == {"length": 257, "columns": 5}


def test_summarize_and_to_csv(sa_file, tmp_path):
    out = tmp_path / "summary.csv"
    proc = cli("summarize", sa_file, "--profile", "neuroadapt-sa", "--out", out,
               "--progressive-ratio")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out)
    assert table.subject.tolist() == ["R0", "R1"]
    assert table.infusions.tolist() == [1, 1] and table.timeout_presses.tolist() == [1, 1]
    assert table.percent_active[0] == pytest.approx(200 / 3) and table.breakpoint[0] == 1
    proc = cli("to-csv", sa_file, "--profile", "neuroadapt-sa", "--out", tmp_path / "csv")
    assert proc.returncode == 0, proc.stderr
    events = pd.read_csv(tmp_path / "csv/events.csv")
    assert len(events) == 12 and set(events.role.dropna()) >= {"infusion", "active_press"}
    scalars = pd.read_csv(tmp_path / "csv/scalars.csv")
    assert scalars.loc[scalars.letter == "H", "meaning"].iloc[0] == "timeout_s"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("inspect", "absent.txt"), "file 'absent.txt': does not exist"),
        (("summarize", "{sa}", "--profile", "nope"), "option '--profile' = 'nope'"),
        (("summarize", "{sa}", "--profile", "neuroadapt-sa", "--timeout-s", "-1"), "must be >= 0"),
        (("summarize", "{csv}", "--profile", "neuroadapt-sa"), "not MED-PC output"),
        (("summarize", "{sa}", "--profile", "oortelli-sipper"), "expects array C"),
        (("to-csv", "{sa}", "--profile", "neuroadapt-sa", "--out", "{sa}"), "not a directory"),
    ],
)
def test_user_errors_are_one_line_exit_2(args, words, sa_file, tmp_path):
    csv = tmp_path / "x.csv"
    csv.write_text("a,b\n1,2\n")
    proc = cli(*(a.format(sa=sa_file, csv=csv) for a in args))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if not ln.startswith("warning")]
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in proc.stderr


def test_bad_option_is_a_usage_error(sa_file):
    proc = cli("summarize", sa_file, "--profile")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
