"""Every example runs and its numbers are what the example claims."""

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "examples"
#: Gallery examples whose numbers a test below checks (run there, not twice).
CHECKED = ("01_", "02_", "03_", "04_")
EXAMPLES = sorted(p for p in ROOT.rglob("*.py") if not p.name.startswith(CHECKED))


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


def _gallery(name):
    return runpy.run_path(str(next((ROOT / "gallery").glob(f"{name}*.py"))))


def test_the_gallery_is_numbered():
    names = sorted(p.name for p in (ROOT / "gallery").glob("*.py"))
    assert [n[:3] for n in names] == [f"{i:02d}_" for i in range(1, len(names) + 1)]


def test_quickstart_round_trips_and_reports(tmp_path):
    out = _gallery("01")["main"](tmp_path, subjects=4)
    assert out["report"].is_file() and out["people"] == 4 and out["targets"] >= 10


def test_routes_example_orders_the_routes(tmp_path):
    peaks = _gallery("02")["main"](tmp_path)
    assert peaks["iv"] > peaks["oral"] and (tmp_path / "single_dose_routes.png").exists()


def test_abstinence_example_shows_lost_tolerance(tmp_path):
    out = _gallery("03")["main"](tmp_path, subjects=200)
    assert out["after 14 days abstinent"][1] > out["tolerant (next dose)"][1]


def test_sweep_example_tolerance_grows_with_the_ac_gain(tmp_path):
    shift = list(_gallery("04")["main"](tmp_path).values())
    assert shift == sorted(shift) and shift[-1] > shift[0]
