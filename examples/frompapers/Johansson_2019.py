"""Johansson et al. 2019, Neuropsychopharmacology 44:1667: intranasal naloxone occupies brain MORs.

Reproduces the PET finding: peak occupancy 67 % after 2 mg and 85 % after
4 mg intranasal naloxone, half of peak at ~10 min, occupancy half-life ~100 min.
The 2 mg value was used to fit the naloxone affinity; the others are checks.

Run: python examples/frompapers/Johansson_2019.py [OUT_DIR]
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from neuroadapt.evidence import probes  # noqa: E402


def main(out_dir: Path) -> dict[float, float]:
    params = probes.params("human")
    fig, ax = plt.subplots(figsize=(6, 4))
    peaks = {}
    for mg, reported in ((2.0, 67.0), (4.0, 85.0)):
        t, occ = probes.naloxone_occupancy(params, mg)
        ax.plot(t * 60, 100 * occ, label=f"{mg:g} mg IN (model)")
        ax.axhline(reported, ls=":", color="grey")
        peaks[mg] = 100 * float(occ.max())
        print(f"{mg:g} mg IN: model peak {peaks[mg]:.0f} %, reported {reported:.0f} %")
    ax.set(
        xlabel="minutes after intranasal naloxone",
        ylabel="brain MOR occupancy (%)",
        xlim=(0, 360),
        title="Johansson 2019 (dotted: reported peaks)",
    )
    ax.legend()
    out_dir.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_dir / "Johansson_2019.png", dpi=100)
    return peaks


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
