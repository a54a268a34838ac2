"""One 20 mg heroin dose by five routes: blood and brain time courses and receptor occupancy.

Run: python examples/single_dose_routes.py [OUT_DIR]
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from neuroadapt.engine.simulate import Dose, trajectory  # noqa: E402
from neuroadapt.parameters import load_parameters  # noqa: E402


def main(out_dir: Path) -> dict[str, float]:
    params = load_parameters("human")
    t_h = np.arange(0, 4 * 60 + 1) / 60.0
    peaks = {}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for route in ("iv", "smoked", "intranasal", "im", "oral"):
        ds = trajectory(params, [Dose(0.0, "heroin", route, 20.0)], t_h).dataset.isel(subject=0)
        axes[0].plot(t_h * 60, ds.conc_morphine, label=route)
        axes[1].plot(t_h * 60, ds.agonist_occupancy, label=route)
        peaks[route] = float(ds.agonist_occupancy.max())
    axes[0].set(xlabel="minutes", ylabel="blood morphine (nM)")
    axes[1].set(xlabel="minutes", ylabel="MOR agonist occupancy")
    axes[1].legend()
    out_dir.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_dir / "single_dose_routes.png", dpi=100)
    for route, occ in peaks.items():
        print(f"{route:>10}: peak agonist occupancy {occ:.2f}")
    return peaks


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
