"""How much of tolerance is adenylyl-cyclase superactivation? A sweep of one parameter.

The same 60 days of 20 mg IV every 8 h, with the AC superactivation gain
(``ac_gain``, ``neuroadapt params`` gives its unit, bounds and source) set
to values within its bounds. The tolerance shift at day 60 grows with it.

Run: python examples/gallery/04_parameter_sweep.py [OUT_DIR]
"""

import sys
from pathlib import Path

import neuroadapt as na

SCENARIO = """
name = "sweep"
regimen = "20 mg iv q8h x 60d"
[cohort]
subjects = 1
variability = 0.0
[outputs]
record_every = "1d"
"""


def main(out_dir: Path) -> dict[float, float]:
    table = na.parameter_table("human").set_index("name")
    low, high = table.loc["ac_gain", ["lower", "upper"]]
    base = na.loads_scenario(SCENARIO)
    shift = {}
    for gain in (float(low), (float(low) + float(high)) / 2, float(high)):
        person = na.simulate(base.with_parameters(ac_gain=gain)).users.isel(subject=0)
        shift[gain] = float(person["tolerance_shift"].values[-1])
        print(f"ac_gain {gain:.3g}: tolerance shift at day 60 = {shift[gain]:.3f}")
    return shift


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
