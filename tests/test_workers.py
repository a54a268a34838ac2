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
