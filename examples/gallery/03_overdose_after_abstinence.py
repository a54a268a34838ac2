"""Why a dose that was safe becomes dangerous after abstinence (lost tolerance).

People use 20 mg IV every 8 h for 30 days. Then they either take 40 mg at
once, or stop for 14 days and take the same 40 mg (Strang 2003 and
Binswanger 2007 describe this risk in people after detoxification and
release). The overdose episodes after the test dose are counted.

Run: python examples/gallery/03_overdose_after_abstinence.py [OUT_DIR]
"""

import sys
from pathlib import Path

import neuroadapt as na

SCENARIO = """
name = "test-dose"
seed = 11
regimen = "20 mg iv q8h x 30d then 0 x {gap} then 40 mg iv at 0 then 0 x 12h"
[cohort]
subjects = {subjects}
[outputs]
record_every = "1d"
"""


def main(out_dir: Path, subjects: int = 200) -> dict[str, tuple[int, int]]:
    out = {}
    for label, gap in (("tolerant (next dose)", "8h"), ("after 14 days abstinent", "14d")):
        s = na.loads_scenario(SCENARIO.format(gap=gap, subjects=subjects))
        test_h = max(e.time_h for e in s.all_events())  # the 40 mg dose
        episodes = na.simulate(s).episodes
        after = episodes[episodes["start_h"] >= test_h]
        out[label] = (int((after["outcome"] == "fatal").sum()), len(after))
        print(f"{label:>25}: {out[label][1]} overdoses, {out[label][0]} fatal, of {subjects}")
    return out


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
