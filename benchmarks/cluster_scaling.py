"""Scaling on Dask: the life course on 1 and 2 LocalCluster workers, against local processes.

Simulates ``--subjects`` users (default 2,000) for ``--years`` of use
(default 1; the default scenario's behaviour, every brain module, records
every 30 days) three ways, each ``--repeats`` times (median quoted):

- the peer: local worker processes (joblib/loky, the default without a
  scheduler), one per CPU;
- a ``dask.distributed.LocalCluster`` with 1 worker, then with 2 workers
  (one thread each), through ``$NEUROADAPT_SCHEDULER``.

It prints wall times, the cost per subject-year and the ratio of each
cluster run to the peer, and checks that every run gives the same deaths
and overdose episodes (the numbers do not depend on where the chunks run).

Usage::

    python benchmarks/cluster_scaling.py
    python benchmarks/cluster_scaling.py --subjects 5000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lifecourse_cohort import run  # noqa: E402


def _timed(subjects: int, years: float, modules, workers: int, repeats: int):
    walls, outcome = [], None
    for _ in range(repeats):
        wall, eps, deaths = run(subjects, years, modules, workers=workers)
        walls.append(wall)
        assert outcome in (None, (eps, deaths)), "a repeat gave other numbers"
        outcome = (eps, deaths)
    return statistics.median(walls), walls, outcome


def main(argv=None) -> None:
    """Run the three configurations and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--subjects", type=int, default=2_000)
    ap.add_argument("--years", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    from distributed import LocalCluster

    from neuroadapt.engine import workers as W
    from neuroadapt.engine.brain import available_brain_modules

    modules = available_brain_modules()
    cpus = W.available_cpus()
    run(20, 0.1, modules, workers=1)  # numba compile or cache load, here
    rows = []
    peer, walls, outcome = _timed(args.subjects, args.years, modules, cpus, args.repeats)
    rows.append((f"local processes (peer), {cpus}", peer, walls, outcome))
    W.stop_workers()
    for n in (1, 2):
        with LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            os.environ[W.SCHEDULER_ENV] = cluster.scheduler_address
            try:
                med, walls, got = _timed(args.subjects, args.years, modules, n, args.repeats)
            finally:
                os.environ.pop(W.SCHEDULER_ENV, None)
                W.close_clients()
        assert got == outcome, f"the cluster of {n} gave {got}, local processes {outcome}"
        rows.append((f"LocalCluster, {n} worker(s)", med, walls, got))
    sy = args.subjects * args.years
    print(f"{args.subjects} users x {args.years:g} years, every brain module, {cpus} CPUs")
    print(
        "| where the chunks run | median wall (s) | runs (s) | ms per subject-year "
        "| ratio to peer |"
    )
    print("|---|---|---|---|---|")
    for label, med, walls, _ in rows:
        runs = " / ".join(f"{w:.1f}" for w in walls)
        print(f"| {label} | {med:.1f} | {runs} | {1000 * med / sy:.1f} | {med / peer:.2f} |")
    print(f"every run: {outcome[0]} overdose episodes, {outcome[1]} deaths")


if __name__ == "__main__":
    main()
