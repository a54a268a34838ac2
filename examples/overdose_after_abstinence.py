"""Why a dose that was safe becomes dangerous after abstinence (lost tolerance).

A cohort uses 20 mg IV every 8 h for 30 days; then either continues or stops
for 14 days, and takes the same 20 mg again. Fatal and non-fatal overdose
rates are compared (Strang 2003; Binswanger 2007 describe this in people).

Run: python examples/overdose_after_abstinence.py [OUT_DIR]
"""

import sys
from pathlib import Path

from neuroadapt.engine.simulate import Dose, EngineOptions, simulate
from neuroadapt.parameters import load_parameters


def main(out_dir: Path, subjects: int = 300) -> dict[str, tuple[int, int]]:
    params = load_parameters("human")
    history = [Dose(8.0 * k, "heroin", "iv", 20.0) for k in range(90)]
    test_mg = 40.0
    out = {}
    for label, gap_days in (("tolerant (next dose)", 0), ("after 14 days abstinent", 14)):
        t_test = 90 * 8.0 + gap_days * 24.0
        res = simulate(
            params,
            history + [Dose(t_test, "heroin", "iv", test_mg)],
            t_test + 12.0,
            subjects,
            seed=11,
            options=EngineOptions(record_every_h=24.0),
        )
        ep = res.episodes[res.episodes.start_h >= t_test]
        out[label] = (int((ep.outcome == "fatal").sum()), len(ep))
        print(
            f"{label:>25}: {out[label][1]} overdoses after {test_mg:g} mg, "
            f"{out[label][0]} fatal, of {subjects}"
        )
    return out


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
