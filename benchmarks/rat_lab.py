"""Benchmark: 100 virtual rats x 30 daily 6-h self-administration sessions, closed loop.

Every lever press and infusion is resolved (1-s decision clock in session,
exact modal PK), the home cage is simulated until the next session and the
brain clock advances every day (``neuroadapt.engine.operant.OperantLab``).
Target (issue 4): <= 30 s on 2 cores, compile time reported separately.

    python benchmarks/rat_lab.py [--rats 100] [--days 30] [--hours 6]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from neuroadapt.engine.operant import OperantLab, SessionSpec
from neuroadapt.parameters import load_parameters


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rats", type=int, default=100)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--hours", type=float, default=6.0)
    args = ap.parse_args()
    params = load_parameters("rat")
    session = SessionSpec(
        "operant", "self_administration", args.hours * 3600.0, unit_dose_mg_kg=0.06
    )
    t0 = time.perf_counter()
    warm = OperantLab(params, 2, seed=0)
    warm.step_day([SessionSpec("operant", "self_administration", 60.0, unit_dose_mg_kg=0.06)] * 2)
    compile_s = time.perf_counter() - t0
    lab = OperantLab(params, args.rats, seed=1)
    t0 = time.perf_counter()
    days = lab.run([[session] * args.rats] * args.days)
    run_s = time.perf_counter() - t0
    inf = np.array([d.counters[:, 2] for d in days])
    presses = np.array([d.counters[:, 0] + d.counters[:, 1] for d in days])
    steps = args.rats * args.days * args.hours * 3600
    print(f"compile / cache load (first call): {compile_s:.2f} s")
    print(
        f"{args.rats} rats x {args.days} days x {args.hours:g}-h sessions: {run_s:.2f} s "
        f"({run_s / (args.rats * args.days) * 1e3:.2f} ms per rat-day, "
        f"{steps / run_s / 1e6:.1f} M session-seconds/s)"
    )
    print(
        f"infusions resolved: {int(inf.sum())} (day 1 mean {inf[0].mean():.1f}, day "
        f"{args.days} mean {inf[-1].mean():.1f}); lever presses: {int(presses.sum())}"
    )


if __name__ == "__main__":
    main()
