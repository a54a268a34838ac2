"""Quick start: a scenario in, a run in memory out, saved, read back, reported.

The round trip of the Python API (docs/api.md): load a shipped scenario,
change it in Python, simulate it without writing anything, save it, read it
back without simulating, write its HTML report, and put the model beside the
literature with the calibration table.

Run: python examples/gallery/01_quickstart.py [OUT_DIR]
"""

import sys
from pathlib import Path

import neuroadapt as na


def main(out_dir: Path, subjects: int = 20) -> dict[str, object]:
    s = na.load_scenario("default")  # 1,000 people for 10 years, 2 years after detox
    s = s.with_parameters(ac_gain=0.5).with_subjects(subjects)
    run = na.simulate(s)  # writes nothing
    print(run.users)  # xarray: one row per person, with units, covariates and traits
    print(run.tables["mortality"])  # deaths per 1,000 person-years beside the literature
    folder = run.save(Path(out_dir) / "my-study")
    again = na.load_run(folder)  # read back, not simulated again
    report = na.write_report(again)  # folder/report.html
    calibration = na.calibrate(scales=["pk"])  # a DataFrame, one row per target
    print(calibration[["id", "literature", "model", "verdict"]].to_string(index=False))
    return {"report": report, "people": again.users.sizes["subject"], "targets": len(calibration)}


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
