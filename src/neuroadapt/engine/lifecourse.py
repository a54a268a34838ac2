"""Life courses: people who decide their own use, day by day, for years.

Each day every subject's behaviour (``model.behaviour``) decides from the
brain's state of the evening before whether and how much to use; the
pharmacology kernel then runs that day from the carried PK, tolerance and
PaO2 state (with overdose, rescue and death resolved inside the day); the
day's exposure advances the brain modules (``engine.brain.BrainClock``).
Escalation, lapses, relapses and overdoses after abstinence are outcomes,
not inputs.

Plan of a life course (:class:`LifePlan`): ``use_days`` of regular use from
day 0; then subjects of the abstinence arm (drawn with probability
``abstinent_fraction``) are held abstinent for ``detox_days`` (residential
detoxification, prison) and then try to stay abstinent on their own until
``use_days + follow_up_days``; the other subjects keep using.

Every subject, users and controls alike, can also die of other causes
(``model.mortality``): the general population's life table by age and sex,
times the excess of the subject's state (using, abstinent, never used).

All random draws (arm, cues, lapses, purity, rescue, other-cause death) come from counter-based
streams keyed by seed, global subject index and day, so results do not
depend on chunking. Large cohorts are therefore split into chunks that run
in worker processes (``engine.workers``), one per CPU: the kernel and the
brain modules then keep every core busy.

The work is split by job: this module splits a cohort into chunks, runs them
here or in worker processes and merges them back in subject order;
``engine.lifecourse_users`` runs the daily loop of the drug-taking subjects,
``engine.lifecourse_controls`` the matched drug-free controls,
``engine.lifecourse_pharmacology`` a block's dose events and the carried PK
state, ``engine.lifecourse_mortality`` the deaths from other causes,
``neuroadapt.streams`` the random streams, ``engine.lifecourse_records``
what is recorded and ``engine.lifecourse_labels`` the labelled result.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import ModuleType

import numpy as np

from neuroadapt.engine.brain import available_brain_modules
from neuroadapt.engine.checkpoint import chunk_key, load_chunk, save_chunk
from neuroadapt.engine.inputs import RescueRule
from neuroadapt.engine.lifecourse_controls import _run_controls
from neuroadapt.engine.lifecourse_labels import LifeCourseResult, _label, _traits
from neuroadapt.engine.lifecourse_pharmacology import MAX_USES_PER_DAY as MAX_USES_PER_DAY
from neuroadapt.engine.lifecourse_pharmacology import _block_events as _block_events
from neuroadapt.engine.lifecourse_pharmacology import _Pharmacology as _Pharmacology
from neuroadapt.engine.lifecourse_pharmacology import co_users, dose_schedule
from neuroadapt.engine.lifecourse_records import HELD as HELD
from neuroadapt.engine.lifecourse_records import NEVER as NEVER
from neuroadapt.engine.lifecourse_users import _run_chunk
from neuroadapt.engine.results import NonFiniteError
from neuroadapt.engine.workers import default_workers, run_tasks, start_workers
from neuroadapt.parameters import ParameterSet
from neuroadapt.parameters.life_table import load_life_table

# also importable from here: HELD, NEVER, MAX_USES_PER_DAY (and, for the tests,
# _block_events and _Pharmacology), which live in the modules above
__all__ = [
    "LifeCourseResult",
    "LifePlan",
    "chunk_count",
    "co_users",
    "dose_schedule",
    "simulate_lifecourse",
    "start_workers_for",
]


@dataclass(frozen=True)
class LifePlan:
    """Timeline of a life-course cohort (days), the route and the starting dose."""

    route: str = "iv"
    start_dose_mg: float = 10.0
    use_days: int = 3650
    detox_days: int = 14
    follow_up_days: int = 730
    abstinent_fraction: float = 0.5
    fentanyl_fraction: float = 0.0

    @property
    def days(self) -> int:
        """Total simulated days."""
        return self.use_days + self.follow_up_days


#: Smallest cohort (subjects x days) that is split over worker processes by
#: default: below it, starting the workers (about a second) costs more than it saves.
PARALLEL_MIN_SUBJECT_DAYS = 1_000_000
#: Cohorts of at least ``PARALLEL_MIN_SUBJECT_DAYS`` are cut into a multiple of this many
#: chunks, so that two workers share them evenly (the cut never depends on the workers).
CHUNK_MULTIPLE = 2


def chunk_count(n_subjects: int, days: int, chunk_size: int) -> int:
    """How many chunks a cohort is cut into: from its size and ``chunk_size`` alone.

    The cut, and so each checkpoint's name and content, does not depend on the
    number of workers: a run checkpointed with one worker count resumes with
    any other, or on a cluster. Large cohorts (``PARALLEL_MIN_SUBJECT_DAYS``)
    get a multiple of :data:`CHUNK_MULTIPLE` chunks of at most ``chunk_size``
    subjects; smaller ones as few chunks as ``chunk_size`` allows.
    """
    k = CHUNK_MULTIPLE if n_subjects * days >= PARALLEL_MIN_SUBJECT_DAYS else 1
    return k * -(-n_subjects // (k * chunk_size))


def simulate_lifecourse(
    params: ParameterSet,
    plan: LifePlan,
    subjects: int | np.ndarray,
    covariates: dict[str, np.ndarray],
    modules: Sequence[ModuleType],
    drug_free: np.ndarray | None = None,
    seed: int = 0,
    variability: float = 1.0,
    rescue: RescueRule | None = None,
    record_every_d: int = 30,
    chunk_size: int = 2000,
    checkpoint_dir: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> LifeCourseResult:
    """Simulate life courses of a cohort.

    Parameters
    ----------
    params
        Parameter set (human).
    plan
        Timeline and dosing habits.
    subjects
        Number of subjects or their global indices.
    covariates
        Per-subject covariates (``engine.brain.COVARIATES``), aligned with ``subjects``.
    modules
        Brain modules in dependency order (must include affect and glutamate).
    drug_free
        Per-subject flags of matched controls who never use (default: none).
    seed, variability
        Random streams and the scale on inter-individual variability.
    rescue
        Naloxone rescue rule, or ``None``.
    record_every_d
        Days between recorded points (the last day is always recorded).
    chunk_size
        Most subjects simulated together. Chunks take every k-th subject, so
        each holds users and controls alike; their number (:func:`chunk_count`)
        depends on the cohort and ``chunk_size`` only.
    checkpoint_dir
        Directory for finished chunks (resume after interruption with the same
        ``chunk_size``, with any number of workers or on a cluster).
    progress
        Called with (subjects done, total).
    workers
        Worker processes (default: :func:`~neuroadapt.engine.workers.default_workers`,
        i.e. ``$NEUROADAPT_WORKERS`` or one per CPU, for cohorts of at least
        ``PARALLEL_MIN_SUBJECT_DAYS`` subject-days, else 1, which runs in this
        process, as do brain modules that cannot be imported by name). The
        numbers do not depend on it.
    """
    subj = np.arange(subjects) if np.isscalar(subjects) else np.asarray(subjects, dtype=np.int64)
    free = np.zeros(len(subj), bool) if drug_free is None else np.asarray(drug_free, bool)
    rec_days = np.unique(np.r_[np.arange(0, plan.days + 1, record_every_d), plan.days])
    ckpt = Path(checkpoint_dir) if checkpoint_dir else None
    # the key hashes the inputs (every dose, every covariate): only for checkpoints
    key = (
        chunk_key(
            {
                "params": params.hash(),
                "life_table": load_life_table().hash(),
                "plan": asdict(plan),
                "seed": seed,
                "variability": variability,
                "rescue": asdict(rescue) if rescue else None,
                "record": record_every_d,
                "modules": [m.NAME for m in modules],
                "cov": {k: np.asarray(v).tolist() for k, v in covariates.items()},
                "drug_free": free.tolist(),
            }
        )
        if ckpt
        else None
    )
    if ckpt:
        ckpt.mkdir(parents=True, exist_ok=True)
    if workers is None:
        workers = _default_workers(len(subj), plan.days)
    workers = max(1, min(workers, len(subj)))
    if workers > 1 and not all(_importable(m) for m in modules):
        workers = 1  # a module built in memory cannot reach a worker process
    n_chunks = chunk_count(len(subj), plan.days, chunk_size)
    chunks = [np.arange(c, len(subj), n_chunks) for c in range(n_chunks)]
    paths = [
        ckpt / f"life-{key}-{c:04d}of{n_chunks:04d}.npz" if ckpt else None for c in range(n_chunks)
    ]
    mods = [m.__name__ for m in modules] if workers > 1 else list(modules)
    parts: list[dict | None] = [None] * n_chunks
    todo = []
    for c, rows in enumerate(chunks):
        parts[c] = load_chunk(paths[c], key) if paths[c] is not None else None
        if parts[c] is None:
            cov = {k: np.asarray(v)[rows] for k, v in covariates.items()}
            args = (params, plan, subj[rows], free[rows], cov, mods, seed, variability, rescue)
            # a worker checkpoints its own chunk and sends back the file's name: writing
            # in parallel and reading the file here beats pickling the arrays through a pipe
            save = (str(paths[c]), key) if paths[c] is not None and workers > 1 else None
            todo.append((c, (*args, rec_days, save)))
    done = [sum(len(chunks[c]) for c in range(n_chunks) if parts[c] is not None)]

    def finished(i: int, part: dict | str) -> None:
        c = todo[i][0]
        if isinstance(part, str):  # saved by the worker
            loaded = load_chunk(part, key)
            if loaded is None:
                raise RuntimeError(f"checkpoint '{part}' written by a worker cannot be read")
            part = loaded
        elif paths[c] is not None:
            save_chunk(paths[c], part, key)
        parts[c] = part
        done[0] += len(chunks[c])
        if progress:
            progress(done[0], len(subj))

    tasks = [t for _, t in todo]
    warm_up = functools.partial(_warm_up, tasks[0]) if tasks else None
    run_tasks(_run_task, tasks, workers, finished, warm_up=warm_up)
    if progress and not todo:
        progress(len(subj), len(subj))  # every chunk came from the checkpoints
    merged = _merge(parts, chunks, subj)
    traits, trait = _traits(params, subj, seed, variability, covariates, free, plan)
    return _label(merged, subj, rec_days, modules, plan, traits, trait)


def start_workers_for(n_subjects: int, days: int) -> None:
    """Start the worker processes a cohort of this size will use, before it is simulated.

    The same rule as :func:`simulate_lifecourse` with ``workers=None``; a cohort
    that runs in this process starts nothing.
    """
    start_workers(min(_default_workers(n_subjects, days), n_subjects), _prime_worker)


def _default_workers(n_subjects: int, days: int) -> int:
    """Workers for ``workers=None``: one per CPU from ``PARALLEL_MIN_SUBJECT_DAYS``, else 1."""
    return default_workers() if n_subjects * days >= PARALLEL_MIN_SUBJECT_DAYS else 1


def _prime_worker() -> None:
    """Import, in a worker, what its chunks need (this module, by unpickling, and the brain)."""
    available_brain_modules()


def _check_records_finite(part: dict, ids: np.ndarray, rec_days: np.ndarray) -> None:
    """Raise :class:`NonFiniteError` if a recorded value of a living subject is not finite."""
    alive = part["rec_fast_alive"] > 0  # (subjects, records)
    for name, values in part.items():
        if not name.startswith("rec_") or values.shape[:2] != alive.shape:
            continue
        living = alive.reshape(alive.shape + (1,) * (values.ndim - 2))
        bad = living & ~np.isfinite(values)
        if bad.any():
            i, t = np.argwhere(bad)[0][:2]
            raise NonFiniteError(
                f"life-course output '{name[4:]}' of living subject {int(ids[i])} is "
                f"{values[bad][0]} on day {int(rec_days[t])} ({int(bad.sum())} values not "
                "finite): the model cannot carry these inputs; please report it"
            )


def _importable(module: ModuleType) -> bool:
    """Whether a worker process importing ``module`` by name gets the same module."""
    try:
        return importlib.import_module(module.__name__) is module
    except ImportError:
        return False


def _run_task(
    params, plan, ids, free, cov, modules, seed, variability, rescue, rec_days, save=None
):
    """One chunk, here or in a worker process (which gets the brain modules by name).

    Returns the chunk's arrays, checked for non-finite values of living subjects;
    with ``save = (path, key)`` it checkpoints them there and returns ``path``.
    """
    modules = [importlib.import_module(m) if isinstance(m, str) else m for m in modules]
    part = _run_split(params, plan, ids, free, cov, modules, seed, variability, rescue, rec_days)
    _check_records_finite(part, ids, rec_days)
    if save is None:
        return part
    save_chunk(save[0], part, save[1])
    return save[0]


def _warm_up(task: tuple) -> None:
    """A few of ``task``'s subjects for five weeks, here, before the workers start.

    It compiles the kernels the chunks call (or loads them from numba's
    cache), with the argument types of the chunks, so that the workers load
    them from the cache rather than each compiling them at the same time.
    """
    params, plan, ids, free, cov, modules, seed, variability, rescue, rec_days, _save = task
    pick = np.r_[np.flatnonzero(~free)[:3], np.flatnonzero(free)[:1]]
    short = replace(
        plan,
        use_days=min(plan.use_days, 35),
        detox_days=min(plan.detox_days, 2),
        follow_up_days=min(plan.follow_up_days, 5),
    )
    rec = np.unique(np.r_[rec_days[rec_days <= short.days], short.days]).astype(rec_days.dtype)
    part = {k: np.asarray(v)[pick] for k, v in cov.items()}
    _run_task(params, short, ids[pick], free[pick], part, modules, seed, variability, rescue, rec)


def _merge(parts: list[dict], chunks: list[np.ndarray], subj: np.ndarray) -> dict:
    """Chunks' results back in subject order; episodes ordered by subject, then time."""
    order = np.argsort(np.concatenate(chunks), kind="stable")
    merged = {k: np.concatenate([p[k] for p in parts])[order] for k in parts[0] if k != "episodes"}
    eps = np.concatenate([p["episodes"] for p in parts])
    position = {int(s): i for i, s in enumerate(subj)}
    rank = np.array([position[int(s)] for s in eps[:, 0]], dtype=np.int64)
    merged["episodes"] = eps[np.lexsort((eps[:, 1], rank))] if len(eps) else eps
    return merged


def _run_split(params, plan, ids, drug_free, cov, modules, seed, variability, rescue, rec_days):
    """Users through the daily loop, matched controls from record to record; merged in order."""
    parts = []
    users = ~drug_free
    if users.any():
        sub_cov = {k: np.asarray(v)[users] for k, v in cov.items()}
        parts.append(
            (
                users,
                _run_chunk(
                    params,
                    plan,
                    ids[users],
                    drug_free[users],
                    sub_cov,
                    modules,
                    seed,
                    variability,
                    rescue,
                    rec_days,
                ),
            )
        )
    if drug_free.any():
        sub_cov = {k: np.asarray(v)[drug_free] for k, v in cov.items()}
        parts.append(
            (
                drug_free,
                _run_controls(
                    params, ids[drug_free], sub_cov, modules, seed, variability, rec_days
                ),
            )
        )
    if len(parts) == 1:
        return parts[0][1]
    merged = {}
    for key, ref in parts[0][1].items():
        if key == "episodes":
            merged[key] = np.concatenate([r[key] for _, r in parts])
            continue
        arr = np.empty((len(ids), *ref.shape[1:]), dtype=ref.dtype)
        for mask, r in parts:
            arr[mask] = r[key]
        merged[key] = arr
    return merged
