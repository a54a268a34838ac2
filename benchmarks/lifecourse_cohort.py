"""Life-course cohort benchmark: users who decide their own use, with every brain module on.

Simulates ``--subjects`` users (default 10,000) for ``--years`` of regular use
(default 5; the default scenario's behaviour, route and rescue, no abstinence
arm and no controls) with all eight brain modules on the daily clock, and
prints wall time (numba compile excluded: a warm-up run first) and peak
memory against the cohort targets of issue 2/3 (<= 60 s, <= 4 GiB on 2 cores).

The engine splits the cohort into chunks run by worker processes (one per
CPU, ``--workers``); peak memory is reported for this process and for the
largest worker, and their total is bounded by this process's peak plus
``workers`` times the largest worker's.

The peer, measured in the same run on the same subjects, is the same engine
with only the brain modules the behaviour reads (tolerance, dopamine, glutamate,
inflammation, affect): the printed ratio is what structure, white matter and
cognition add.

Usage::

    python benchmarks/lifecourse_cohort.py                  # 10,000 x 5 years
    python benchmarks/lifecourse_cohort.py --subjects 1000 --years 1
"""

from __future__ import annotations

import argparse
import datetime as _dt
import resource
import sys
import time

import numpy as np

TARGET_WALL_S = 60.0
TARGET_RSS_GIB = 4.0
BEHAVIOUR_MODULES = ("tolerance", "dopamine", "glutamate", "inflammation", "affect")


def max_rss_gib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size (GiB) of this process, or of its largest finished child."""
    kib = resource.getrusage(who).ru_maxrss
    return kib * (1024.0 if sys.platform != "darwin" else 1.0) / 1024.0**3


def run(subjects: int, years: float, modules, seed: int = 1, workers: int | None = None):
    """Simulate the life course; returns (wall seconds, overdose episodes, deaths)."""
    from neuroadapt.engine.lifecourse import LifePlan, simulate_lifecourse
    from neuroadapt.experiments.cohort import covariates
    from neuroadapt.experiments.run import scenario_params, scenario_rescue
    from neuroadapt.scenarios import load_scenario

    sc = load_scenario("default")
    b = sc.behaviour
    plan = LifePlan(
        route=b.route,
        start_dose_mg=b.start_dose_mg,
        use_days=max(1, round(years * 365.25)),
        detox_days=0,
        follow_up_days=0,
        abstinent_fraction=0.0,
    )
    cov = covariates(sc, np.arange(subjects))
    cov["smoked_fraction"] = np.zeros(subjects)
    t0 = time.perf_counter()
    res = simulate_lifecourse(
        scenario_params(sc),
        plan,
        subjects,
        cov,
        modules,
        seed=seed,
        rescue=scenario_rescue(sc),
        record_every_d=30,
        workers=workers,
    )
    wall = time.perf_counter() - t0
    return wall, len(res.episodes), int(np.isfinite(res.dataset.death_time.values).sum())


def main(argv=None) -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--subjects", type=int, default=10_000)
    ap.add_argument("--years", type=float, default=5.0)
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: CPUs)")
    args = ap.parse_args(argv)

    from neuroadapt.engine.brain import available_brain_modules
    from neuroadapt.engine.workers import available_cpus, stop_workers

    workers = args.workers or available_cpus()

    every = available_brain_modules()
    few = [m for m in every if m.NAME in BEHAVIOUR_MODULES]
    t = time.perf_counter()
    run(20, 0.1, every, workers=1)  # compile / warm-up
    compile_s = time.perf_counter() - t
    print(f"neuroadapt life-course benchmark, {_dt.datetime.now(_dt.UTC).isoformat()}")
    print(f"warm-up (numba compile or cache load): {compile_s:.1f} s; {workers} worker(s)")
    wall_all, eps, deaths = run(args.subjects, args.years, every, workers=workers)
    stop_workers()  # reaped workers count in RUSAGE_CHILDREN
    rss_self = max_rss_gib()
    rss_child = max_rss_gib(resource.RUSAGE_CHILDREN)
    rss = rss_self + (workers * rss_child if workers > 1 else 0.0)
    print(
        f"all {len(every)} brain modules: {args.subjects} users x {args.years:g} years: "
        f"{wall_all:.1f} s [target <= {TARGET_WALL_S:g} s: "
        f"{'met' if wall_all <= TARGET_WALL_S else 'not met'}], "
        f"peak memory {rss:.2f} GiB at most (this process {rss_self:.2f}, largest worker "
        f"{rss_child:.2f}) [target <= {TARGET_RSS_GIB:g} GiB: "
        f"{'met' if rss <= TARGET_RSS_GIB else 'not met'}]; "
        f"{eps} overdose episodes, {deaths} deaths"
    )
    wall_few, _, _ = run(args.subjects, args.years, few, workers=workers)
    print(
        f"peer (same engine, only the {len(few)} modules the behaviour reads): {wall_few:.1f} s; "
        f"ratio all/peer {wall_all / wall_few:.2f}"
    )


if __name__ == "__main__":
    main()
