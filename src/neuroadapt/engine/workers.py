"""Run independent tasks (chunks of subjects) in worker processes.

Subjects are independent given their counter-based random streams, so a cohort
can be split into chunks that run anywhere, in any order, and are put back
together by subject: the numbers depend neither on the split nor on the
number of workers (tested in ``tests/test_lifecourse.py``).

Why processes: a life course alternates the numba pharmacology kernel with
the brain modules, which are numpy code holding the GIL. One process leaves a
core idle while the brain steps; two processes, each running the kernel on
one thread, keep both busy. The workers are joblib's (loky): started once and
reused, safe where the parent already holds OpenMP threads from the kernel,
and usable from a script without a ``__main__`` guard.

Compile once, before the workers start: the kernels are compiled by numba on
first call and cached on disk (``cache=True``), but on a cold cache every
worker that starts at the same moment misses the cache and compiles the same
kernels itself (numba has no lock across processes), and their writes of the
cache index race. ``run_tasks(..., warm_up=...)`` runs a tiny task of the same
kind in this process first, so that the workers load the kernels from the
cache instead; with a warm cache the warm-up is a cache load of a second or
less.

Beyond one machine: with ``$NEUROADAPT_SCHEDULER`` (``neuroadapt run
--scheduler``) set to the address of a Dask scheduler (``dask.distributed``),
the same tasks go to that cluster's workers instead of local processes, and
come back in task order, so the numbers are those of one process whatever
the cluster (tests/test_cluster.py). Without it nothing changes. Each task
carries the parameter overrides of ``$NEUROADAPT_PARAMETERS``, which a worker
started elsewhere does not inherit. docs/scaling.md says how to start a
scheduler and workers.

Start early: a worker process spends a second or two importing neuroadapt
before its first task. :func:`start_workers` starts the reusable workers in
the background (joblib dispatches from a thread) while the caller goes on, e.g.
reading its caches; :func:`run_tasks` then finds them ready.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from joblib import Parallel, cpu_count, delayed


def available_cpus() -> int:
    """CPUs this process may use: its affinity mask and any container CPU quota (joblib)."""
    return cpu_count()


#: Environment variable that sets the number of worker processes (default: one per CPU).
WORKERS_ENV = "NEUROADAPT_WORKERS"
#: Environment variable with the address of a Dask scheduler to run the tasks on.
SCHEDULER_ENV = "NEUROADAPT_SCHEDULER"
#: Variables a task carries to its worker (set there before the task runs).
TASK_ENV = ("NEUROADAPT_PARAMETERS",)


def scheduler_address() -> str | None:
    """The Dask scheduler of ``$NEUROADAPT_SCHEDULER``, or None (local processes)."""
    return os.environ.get(SCHEDULER_ENV, "").strip() or None


_CLIENTS: dict[str, Any] = {}


def dask_client(address: str) -> Any:
    """A ``distributed.Client`` connected to ``address`` (one per address, reused).

    Raises
    ------
    ValueError
        One line if dask.distributed is not installed or the scheduler cannot be reached.
    """
    if address not in _CLIENTS:
        try:
            from distributed import Client
        except ImportError:
            raise ValueError(
                f"scheduler '{address}': dask.distributed is not installed "
                "(pip install 'neuroadapt[cluster]')"
            ) from None
        try:
            _CLIENTS[address] = Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"scheduler '{address}': cannot be reached ({exc})") from None
    return _CLIENTS[address]


def default_workers() -> int:
    """Worker processes when a caller does not say: ``$NEUROADAPT_WORKERS``, else one per CPU.

    Raises
    ------
    ValueError
        If the variable is set to anything but an integer >= 1.
    """
    text = os.environ.get(WORKERS_ENV, "").strip()
    if not text:
        address = scheduler_address()
        if address is not None:  # one task per thread of the cluster
            return max(1, sum(dask_client(address).nthreads().values()))
        return available_cpus()
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"environment variable {WORKERS_ENV} = '{text}': must be an integer >= 1")
    return n


#: Priming tasks sent by :func:`start_workers`, drained by :func:`run_tasks`.
_STARTING: list = []


def start_workers(workers: int, prime: Callable[[], Any]) -> None:
    """Start ``workers`` reusable worker processes now, without waiting for them.

    Each runs ``prime()`` (a module-level function, e.g. one that imports what the
    tasks need). Nothing happens for ``workers <= 1``.
    """
    if workers <= 1 or scheduler_address() is not None:
        return
    parallel = Parallel(n_jobs=workers, backend="loky", return_as="generator_unordered")
    _STARTING.append(parallel(delayed(prime)() for _ in range(workers)))


def _single_threaded(
    index: int, fn: Callable[..., Any], args: tuple, env: dict[str, str] | None = None
) -> tuple[int, Any]:
    """Run one task in a worker with one numba thread (the workers share the cores).

    ``env`` (:data:`TASK_ENV` of the caller) is set first: a worker reused
    from an earlier call, or started on another machine, has its own.
    """
    import numba

    for name, value in (env or {}).items():
        if value:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)
    numba.set_num_threads(1)
    return index, fn(*args)


def _task_env() -> dict[str, str]:
    return {name: os.environ.get(name, "") for name in TASK_ENV}


def _run_on_cluster(address, fn, tasks, on_done, results) -> None:
    """Every task on the Dask cluster at ``address``; results stored in task order."""
    from distributed import as_completed

    client = dask_client(address)
    env = _task_env()
    futures = [
        client.submit(_single_threaded, i, fn, t, env, pure=False) for i, t in enumerate(tasks)
    ]
    for future in as_completed(futures):
        i, result = future.result()
        results[i] = result
        if on_done:
            on_done(i, result)


def run_tasks(
    fn: Callable[..., Any],
    tasks: Sequence[tuple],
    workers: int,
    on_done: Callable[[int, Any], None] | None = None,
    warm_up: Callable[[], Any] | None = None,
) -> list[Any]:
    """Call ``fn(*task)`` for every task; returns the results in task order.

    Parameters
    ----------
    fn
        A module-level function (it is pickled by reference).
    tasks
        Argument tuples (pickled to the workers).
    workers
        Processes to use; 1 (or a single task) runs everything in this process.
        With ``$NEUROADAPT_SCHEDULER`` set, every task goes to that Dask cluster.
    on_done
        Called in this process with ``(task index, result)`` as each task
        finishes, e.g. to write a checkpoint or report progress.
    warm_up
        Called once in this process before worker processes start (not when
        everything runs here): a tiny task that compiles, or loads from
        numba's cache, the kernels the tasks call, so that the workers do
        not each compile them at once.
    """
    results: list[Any] = [None] * len(tasks)
    address = scheduler_address()
    if address is not None and tasks:
        if warm_up is not None:
            warm_up()
        _run_on_cluster(address, fn, tasks, on_done, results)
        return results
    if workers <= 1 or len(tasks) <= 1:
        for i, task in enumerate(tasks):
            results[i] = fn(*task)
            if on_done:
                on_done(i, results[i])
        return results
    if warm_up is not None:
        warm_up()
    while _STARTING:  # workers started early: wait until they are up
        for _ in _STARTING.pop():
            pass
    parallel = Parallel(
        n_jobs=min(workers, len(tasks)), backend="loky", return_as="generator_unordered"
    )
    env = _task_env()
    for i, result in parallel(
        delayed(_single_threaded)(i, fn, t, env) for i, t in enumerate(tasks)
    ):
        results[i] = result
        if on_done:
            on_done(i, result)
    return results


def close_clients() -> None:
    """Close the Dask clients opened here (e.g. before their cluster shuts down)."""
    while _CLIENTS:
        _, client = _CLIENTS.popitem()
        client.close()


def local_pool(workers: int) -> Any | None:
    """The reusable local worker processes, as a ``concurrent.futures`` executor.

    These are the processes :func:`run_tasks` uses (joblib's loky executor,
    reused as it is, so warm workers stay warm); ``None`` for fewer than two
    workers or when tasks go to a Dask cluster. Callers submit module-level
    functions (e.g. :mod:`neuroadapt.report.rendering` draws figures there).
    """
    if workers <= 1 or scheduler_address() is not None:
        return None
    from joblib.externals.loky import get_reusable_executor

    # Start (or find) the executor through joblib, so that it is joblib's kind and
    # joblib goes on reusing it; started by loky directly, joblib could not.
    Parallel(n_jobs=workers, backend="loky")(delayed(os.getpid)() for _ in range(workers))
    return get_reusable_executor(max_workers=workers, reuse=True)


def stop_workers() -> None:
    """Stop the reusable worker processes now (they also stop after idling)."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)
