"""One 20 mg heroin dose by five routes: receptor occupancy and breathing over 4 hours.

Each route is one line of the regimen language (``20 mg smoked at 0``);
the cohort is one typical person (no variability between people).

Run: python examples/gallery/02_single_dose_routes.py [OUT_DIR]
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neuroadapt as na  # noqa: E402

SCENARIO = """
name = "route-{route}"
regimen = "20 mg {route} at 0 then 0 x 4h"
[cohort]
subjects = 1
variability = 0.0
[outputs]
record_every = "1min"
"""


def main(out_dir: Path) -> dict[str, float]:
    peaks = {}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for route in ("iv", "smoked", "intranasal", "im", "oral"):
        person = na.simulate(na.loads_scenario(SCENARIO.format(route=route))).users
        person = person.isel(subject=0)
        minutes = person["time"].values * 24 * 60  # the time axis is in days
        axes[0].plot(minutes, person["agonist_occupancy"], label=route)
        axes[1].plot(minutes, person["ventilation"], label=route)
        peaks[route] = float(person["agonist_occupancy"].max())
    axes[0].set(xlabel="minutes after the dose", ylabel="MOR agonist occupancy")
    axes[1].set(xlabel="minutes after the dose", ylabel="ventilation (fraction of rest)")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(Path(out_dir) / "single_dose_routes.png", dpi=96)
    plt.close(fig)
    for route, peak in peaks.items():
        print(f"{route:>10}: peak MOR agonist occupancy {peak:.2f}")
    return peaks


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
