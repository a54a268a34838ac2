"""Worker processes: a warm-up runs here, once, before any worker starts."""

import os

from neuroadapt.engine.workers import run_tasks


def test_warm_up_runs_here_before_the_workers_start(tmp_path):
    """So that the workers load numba's cache the warm-up wrote instead of each compiling."""
    mark = tmp_path / "warmed-up"
    calls = []

    def warm_up():
        calls.append(os.getpid())
        mark.write_text("compiled")

    # each task (in a worker) reports whether the warm-up had finished when it started
    seen = run_tasks(os.path.exists, [(str(mark),)] * 3, workers=2, warm_up=warm_up)
    assert calls == [os.getpid()] and seen == [True, True, True]


def test_no_warm_up_when_everything_runs_here(tmp_path):
    calls = []
    out = run_tasks(abs, [(-1,), (-2,)], workers=1, warm_up=lambda: calls.append(1))
    assert out == [1, 2] and calls == []


def test_workers_started_early_run_the_tasks():
    """``start_workers`` primes the reusable workers; ``run_tasks`` waits for it, then uses them."""
    from neuroadapt.engine import workers as W

    W.start_workers(2, os.getpid)
    assert len(W._STARTING) == 1
    primed = list(W._STARTING[0])  # the pids of the started workers, consumed here
    W._STARTING.clear()
    W.start_workers(2, os.getpid)
    pids = run_tasks(os.getpid, [()] * 4, workers=2)
    assert not W._STARTING  # drained before the tasks were sent
    # the tasks ran in the started pool: a new pool would add processes to the two
    # (which worker takes which task is up to joblib)
    assert len(set(primed) | set(pids)) <= 2 and os.getpid() not in pids


def test_start_workers_does_nothing_for_one_worker():
    from neuroadapt.engine import workers as W

    W.start_workers(1, os.getpid)
    assert not W._STARTING
