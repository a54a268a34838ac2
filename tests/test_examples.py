"""Every example runs and its numbers are what the example claims."""

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(ROOT.rglob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    ns = runpy.run_path(str(path), run_name="example")
    result = ns["main"](tmp_path)
    assert result


def test_johansson_example_matches_the_paper(tmp_path):
    ns = runpy.run_path(str(ROOT / "frompapers" / "Johansson_2019.py"))
    peaks = ns["main"](tmp_path)
    assert peaks[2.0] == pytest.approx(67, abs=4)
    assert peaks[4.0] == pytest.approx(85, abs=8)
    assert (tmp_path / "Johansson_2019.png").exists()


def test_abstinence_example_shows_lost_tolerance(tmp_path):
    ns = runpy.run_path(str(ROOT / "overdose_after_abstinence.py"))
    out = ns["main"](tmp_path, subjects=200)
    assert out["after 14 days abstinent"][1] > out["tolerant (next dose)"][1]
