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
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import ndtri

from neuroadapt.engine import kernel as K
from neuroadapt.engine.brain import BrainClock, available_brain_modules, brain_params, to_dataset
from neuroadapt.engine.checkpoint import chunk_key, load_chunk, save_chunk
from neuroadapt.engine.simulate import (
    RECORD_META,
    EngineOptions,
    NonFiniteError,
    RescueRule,
    baseline_pao2,
    cf_units,
    check_living_finite,
    episodes_table,
    fine_screen,
    prep_ev_state,
    prepare,
    rescue_inputs,
)
from neuroadapt.engine.workers import default_workers, run_tasks, start_workers
from neuroadapt.model import behaviour as B
from neuroadapt.model import mortality as M
from neuroadapt.model.clock import HOURS_PER_DAY, rate_per_day
from neuroadapt.parameters import ParameterSet
from neuroadapt.parameters.life_table import load_life_table
from neuroadapt.parameters.table import splitmix64, stream_base, subject_uniform

__all__ = [
    "LifeCourseResult",
    "LifePlan",
    "co_users",
    "dose_schedule",
    "simulate_lifecourse",
    "start_workers_for",
    "uniform_stream",
]

#: Mode of subjects held abstinent (detoxification) and of drug-free controls.
HELD, NEVER = 2, 3


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


@dataclass
class LifeCourseResult:
    """Recorded trajectories, per-subject outcomes and overdose episodes."""

    dataset: xr.Dataset
    subjects: pd.DataFrame
    episodes: pd.DataFrame


@functools.lru_cache(maxsize=64)
def _stream_key(name: str) -> np.uint64:
    """A stream's name as a 63-bit key (computed once per name)."""
    return np.uint64(sum(ord(c) * 131**i for i, c in enumerate(name)) & ((1 << 63) - 1))


def uniform_stream(seed: int, ids: np.ndarray, counter, name: str) -> np.ndarray:
    """Uniform draws in (0, 1), keyed by ``(seed, subject, counter, name)``.

    ``counter`` (e.g. the day) is a number or an array aligned with ``ids``.
    """
    return _stream_draw(_stream_base(seed, counter, name), ids)


def _stream_base(seed: int, counter, name: str) -> np.ndarray:
    """The part of ``uniform_stream`` that does not depend on the subject."""
    with np.errstate(over="ignore"):
        c = np.asarray(counter, dtype=np.uint64) * np.uint64(0xD1B54A32D192ED03)
        return splitmix64(stream_base(seed, _stream_key(name)) ^ c)


#: ``uniform_stream`` from its subject-free part (aligned with the subjects).
_stream_draw = subject_uniform


#: Fast-layer daily read-outs and how they are aggregated between records.
_AGG = {
    "activation_mean": "mean",
    "activation_peak": "max",
    "effect_peak": "max",
    "withdrawal_mean": "mean",
    "withdrawal_peak": "max",
    "hypoxia_minutes": "sum",
    "overdoses": "sum",
    "uses": "sum",
}
_REC = {
    "activation_mean": K.R_AMEAN,
    "activation_peak": K.R_APEAK,
    "effect_peak": K.R_EPEAK,
    "withdrawal_mean": K.R_WMEAN,
    "withdrawal_peak": K.R_WPEAK,
    "hypoxia_minutes": K.R_HYPMIN,
    "overdoses": K.R_OD,
}
_META = {
    "uses": ("1", "doses taken since the previous record"),
    "dose_mg": ("mg", "habitual dose per use at the record time"),
    "mode": ("1", "0 using, 1 abstaining, 2 held abstinent (detoxification), 3 never used"),
    "tolerance_shift": ("1", "fold right-shift of opioid effects (1 + U) at the record time"),
    "alive": ("1", "1 while the subject is alive"),
}


#: Smallest cohort (subjects x days) that is split over worker processes by
#: default: below it, starting the workers (about a second) costs more than it saves.
PARALLEL_MIN_SUBJECT_DAYS = 1_000_000


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
        each holds users and controls alike; their number is a multiple of
        ``workers``.
    checkpoint_dir
        Directory for finished chunks (resume after interruption; the chunks
        depend on ``chunk_size`` and ``workers``, so resume with the same).
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
    n_chunks = workers * -(-len(subj) // (workers * chunk_size))
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


#: Most doses a day; also the stride of the per-dose purity stream.
MAX_USES_PER_DAY = 8


def dose_schedule(n_use, n_days: int, first_use_hour, waking_hours):
    """When each subject uses over ``n_days`` days: ``n_use`` doses a day over waking hours.

    Returns the subjects' first and past-last event index, every dose's time (h
    from the block start), its subject (row), day of the block and rank within the day.
    """
    n_use = np.asarray(n_use, dtype=np.int64)
    total_per_subject = n_use * int(n_days)
    ev_end = np.cumsum(total_per_subject).astype(np.int64)
    ev_start = ev_end - total_per_subject
    owner = np.repeat(np.arange(len(n_use)), total_per_subject)
    rank = np.arange(len(owner)) - ev_start[owner]
    n_o = np.maximum(n_use[owner], 1)
    day, k = np.divmod(rank, n_o)
    first, waking = np.asarray(first_use_hour), np.asarray(waking_hours)
    ev_time = day * HOURS_PER_DAY + first[owner] + k * (waking[owner] / n_o)
    return ev_start.astype(np.int64), ev_end, ev_time, owner, day, k


def _block_events(n_use, dose, ids, day0, n_days, seed, p, fentanyl_fraction=0.0):
    """Flat event arrays for ``n_days`` days: ``n_use`` doses a day spread over waking hours.

    ``p`` holds the dosed subjects' ``first_use_hour``, ``waking_hours``,
    ``purity_cv``, ``purity_batch_cv`` and ``purity_batch_days`` (parameter
    table, internal units: hours). Each dose is scaled by the purity of its
    batch (stream ``behaviour:batch``, counter the batch number since day 0)
    and by its own (stream ``behaviour:purity``), ``model.behaviour`` eq. (2).
    Returns the subjects' event ranges and every event's time, amount (mg) and
    drug pair (0 heroin, 1 fentanyl).
    """
    ev_start, ev_end, ev_time, owner, day, k = dose_schedule(
        n_use, n_days, p["first_use_hour"], p["waking_hours"]
    )
    # the purity stream's counter is (day0 + day) * MAX_USES_PER_DAY + k: its subject-free
    # part is hashed once per (day, k) of the block, not once per dose
    slots = day0 * MAX_USES_PER_DAY + np.arange(n_days * MAX_USES_PER_DAY)
    base = _stream_base(seed, slots, "behaviour:purity")
    z = ndtri(_stream_draw(base[day * MAX_USES_PER_DAY + k], ids[owner]))
    batch_days = p["purity_batch_days"][owner] / HOURS_PER_DAY
    batch = np.floor((day0 + day) / batch_days).astype(np.int64)
    z_b = ndtri(uniform_stream(seed, ids[owner], batch, "behaviour:batch"))
    amount = (
        dose[owner]
        * B.purity_factor(z_b, p["purity_batch_cv"][owner])
        * B.purity_factor(z, p["purity_cv"][owner])
    )
    pair = np.zeros(len(amount), dtype=np.int64)
    if fentanyl_fraction > 0:
        # a batch is adulterated with probability fentanyl_fraction (stream behaviour:fentanyl):
        # each of its doses also delivers fentanyl_per_heroin mg of fentanyl per mg of heroin
        spiked = uniform_stream(seed, ids[owner], batch, "behaviour:fentanyl") < fentanyl_fraction
        ev_start, ev_end, ev_time, amount, pair = _with_fentanyl(
            ev_start, ev_end, ev_time, amount, owner, spiked, p["fentanyl_per_heroin"][owner]
        )
    return ev_start, ev_end, ev_time, amount, pair


def _with_fentanyl(ev_start, ev_end, ev_time, amount, owner, spiked, ratio):
    """Insert a fentanyl event (pair 1) after each heroin dose of an adulterated batch."""
    k = spiked.astype(np.int64)
    extra = np.cumsum(k) - k  # fentanyl events inserted before each heroin event
    pos = np.arange(len(amount)) + extra
    n_total = len(amount) + int(k.sum())
    t, a = np.empty(n_total), np.empty(n_total)
    pair = np.zeros(n_total, dtype=np.int64)
    t[pos], a[pos] = ev_time, amount
    fpos = pos[spiked] + 1
    t[fpos], a[fpos], pair[fpos] = ev_time[spiked], (amount * ratio)[spiked], 1
    per_subject = np.bincount(owner, weights=k, minlength=len(ev_end)).astype(np.int64)
    new_end = ev_end + np.cumsum(per_subject)
    return new_end - (ev_end - ev_start) - per_subject, new_end, t, a, pair


class _Rows:
    """Kernel inputs of a subset of the drug-taking subjects (fixed for a block)."""

    def __init__(self, ph: _Pharmacology, rows: np.ndarray, kd_shift=None) -> None:
        pr = ph.prep
        self.rows = rows
        self.ids = ph.ids[rows]
        # pvec from the pharmacology: co-users' chemoreflex is already weakened there
        take = [pr.lam, pr.vmat, pr.vinv, pr.kd, pr.tau, pr.eps, ph.pvec, pr.dose_factor]
        (
            self.lam,
            self.vmat,
            self.vinv,
            self.kd,
            self.tau,
            self.eps,
            self.pvec,
            self.dose_factor,
        ) = [np.ascontiguousarray(a[rows]) for a in take]
        if kd_shift is not None:  # receptor-level tolerance: agonist binding right-shifted
            self.kd = self.kd * np.where(ph.agonist, np.asarray(kd_shift)[:, None], 1.0)
        self.r_amount = np.ascontiguousarray(ph.r_amount[rows])
        self.dosing = {
            k: np.asarray(pr.samples[k])[rows]
            for k in (
                "purity_cv",
                "purity_batch_cv",
                "purity_batch_days",
                "first_use_hour",
                "waking_hours",
                "fentanyl_per_heroin",
            )
        }


class _Pharmacology:
    """The kernel's carried state for the drug-taking subjects of a chunk."""

    def __init__(self, params, plan, ids, seed, variability, rescue):
        self.pairs = [("heroin", plan.route)]
        if plan.fentanyl_fraction > 0:
            self.pairs.append(("fentanyl", plan.route))  # pair 1: street fentanyl
        if rescue is not None and (rescue.drug, rescue.route) not in self.pairs:
            self.pairs.append((rescue.drug, rescue.route))
        self.prep = prepare(params, self.pairs, ids, seed, variability)
        self.ids = np.asarray(ids, dtype=np.int64)
        self.seed, self.rescue, self.plan = seed, rescue, plan
        n = len(ids)
        self.rule = K.quadrature_rule("standard")
        self.r_state, self.r_amount = rescue_inputs(self.prep, rescue)
        self.options = EngineOptions()  # numerical resolution, as in simulate()
        self.screen = fine_screen(self.options, rescue)
        self.x = np.zeros((n, self.prep.pk.n))
        self.u = np.zeros((n, 2))
        self.pao2 = baseline_pao2(self.prep.samples) * np.ones(n)
        #: ligands whose binding receptor-level tolerance right-shifts (efficacy above 0)
        self.agonist = (self.prep.tau > 0).any(axis=0)
        # regular co-users of benzodiazepines or alcohol: a weaker CO2 chemoreflex
        s = self.prep.samples
        self.co_use = co_users(seed, self.ids, s["couse_fraction"])
        self.pvec = self.prep.pvec.copy()
        self.pvec[:, K.I_S] *= np.where(self.co_use, 1.0 - s["couse_chemoreflex_depression"], 1.0)

    def rows(self, rows: np.ndarray, kd_shift=None) -> _Rows:
        """Kernel inputs for the subjects ``rows`` (indices into this object's subjects).

        ``kd_shift`` (one per row) right-shifts the agonists' binding (receptor-level
        tolerance, ``model.tolerance``).
        """
        return _Rows(self, np.asarray(rows, dtype=np.int64), kd_shift)

    def run(self, sub: _Rows, n_use, dose, day0, n_days, caution):
        """Run the subjects of ``sub`` for ``n_days`` days from ``day0``.

        ``caution`` is ``(k, reduction, rate per h)`` for the rows (``model.behaviour``
        eq. 2b, applied to each dose inside the kernel, so that a survived overdose
        lowers the next dose at once). Returns daily bins ``(len(sub.rows), n_days,
        N_REC)``, the hour of death from the block start (NaN if alive), the overdose
        episodes and the caution at the end.
        """
        rows = sub.rows
        n = len(rows)
        ev_start, ev_end, ev_time, amount, ev_pair = _block_events(
            n_use, dose, sub.ids, day0, n_days, self.seed, sub.dosing, self.plan.fentanyl_fraction
        )
        m = len(ev_time)
        rec_t = np.arange(n_days + 1) * 24.0
        out_rec = np.empty((n, n_days + 1, K.N_REC))
        # room for two episodes per dose; rows beyond out_n_epi are unused
        out_epi = np.empty((n, 2 * MAX_USES_PER_DAY * n_days, K.N_EPI))
        out_n_epi = np.zeros(n, dtype=np.int64)
        out_death = np.full(n, np.nan)
        new_x, new_u, new_pao2 = np.empty((n, self.x.shape[1])), np.empty((n, 2)), np.empty(n)
        new_caution = np.empty(n)
        r = self.rescue
        K.run_chunk(
            sub.ids,
            np.int64(int(splitmix64(np.uint64(self.seed) ^ np.uint64(day0 + 1))) >> 2),
            sub.lam,
            sub.vmat,
            sub.vinv,
            self.prep.eff_rows,
            sub.kd,
            sub.tau,
            sub.eps,
            sub.pvec,
            *self.rule,
            ev_start,
            ev_end,
            ev_time,
            prep_ev_state(self.prep, ev_pair),
            amount,
            ev_pair,
            np.zeros(m, dtype=np.bool_),
            np.zeros(m),
            sub.dose_factor,
            *(np.ascontiguousarray(c, dtype=float) for c in caution),
            rec_t,
            np.ascontiguousarray(self.x[rows]),
            np.ascontiguousarray(self.u[rows]),
            np.ascontiguousarray(self.pao2[rows]),
            r is not None,
            np.int64(self.r_state),
            sub.r_amount,
            (r.delay_min / 60.0) if r else 0.0,
            r.trigger_pao2_mmhg if r else 0.0,
            r.probability if r else 0.0,
            self.screen,
            self.options.fine_dt_s / 3600.0,
            out_epi.shape[1],
            False,
            out_rec,
            np.zeros((n, 1, self.x.shape[1])),
            out_epi,
            out_n_epi,
            out_death,
            new_x,
            new_u,
            new_pao2,
            new_caution,
        )
        check_living_finite(out_rec[:, 1:], sub.ids, day0 * 24.0 + rec_t[1:], "life-course kernel")
        died = np.isfinite(out_death)
        new_x[died] = 0.0  # the dead are only carried along
        self.x[rows], self.u[rows], self.pao2[rows] = new_x, new_u, new_pao2
        episodes = [
            (int(sub.ids[i]), day0 * 24.0 + out_epi[i, e, 0], *out_epi[i, e, 1:])
            for i in np.flatnonzero(out_n_epi)
            for e in range(int(out_n_epi[i]))
        ]
        return out_rec[:, 1:], out_death, episodes, new_caution

    def tolerance(self):
        """Fold right-shift 1 + U of every subject now."""
        return 1.0 + self.u.sum(1)


def co_users(seed: int, ids: np.ndarray, fraction) -> np.ndarray:
    """Which subjects regularly co-use benzodiazepines or alcohol (stream ``behaviour:co_use``)."""
    return uniform_stream(seed, np.asarray(ids, dtype=np.int64), 0, "behaviour:co_use") < fraction


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


class _OtherCauses:
    """Deaths from other causes (``model.mortality``, eq. 3) of a chunk's subjects, day by day.

    Each subject's threshold and cause uniform are drawn once from the streams
    ``mortality:other`` and ``mortality:cause`` (counter 0), so the deaths do not
    depend on chunking.
    """

    def __init__(self, p, ids, cov, seed):
        self.table = load_life_table()
        self.p = {k: p[k] for k in M.PARAMETERS}
        self.age0 = np.asarray(cov["age_years"], dtype=float)
        self.female = np.asarray(cov["female"], dtype=float)
        self.threshold = -np.log(uniform_stream(seed, ids, 0, "mortality:other"))
        self.v = uniform_stream(seed, ids, 0, "mortality:cause")
        self.cum = np.zeros(len(ids))
        self._years: np.ndarray | None = None  # completed ages of the last day's h_bg
        self._h_bg = np.zeros(len(ids))

    def day(self, d: int, mode: np.ndarray, alive: np.ndarray):
        """Time of death (days, NaN if none) and cause of other-cause deaths on day ``d``.

        ``mode`` is each subject's state at the start of the day.
        """
        age = self.age0 + d / M.DAYS_PER_YEAR
        years = np.floor(age)
        # the life table's hazard changes only on a subject's birthday
        new = np.ones(len(age), bool) if self._years is None else years != self._years
        if new.any():
            self._h_bg[new] = M.background_hazard(self.table, age[new], self.female[new])
            self._years = years
        h_bg = self._h_bg
        abstinent = (mode == B.ABSTAINING) | (mode == HELD)
        h = np.where(alive, M.cause_hazards(h_bg, mode == B.USING, abstinent, self.p), 0.0)
        self.cum, dies, frac, cause = M.other_cause_step(self.cum, self.threshold, h, self.v)
        return np.where(dies, d + frac, np.nan), cause


def _run_controls(params, ids, cov, modules, seed, variability, rec_days):
    """Matched drug-free controls: the brain stepped from record to record.

    Their inputs are constant (no drug), and the modules' updates are exact for
    constant inputs, so this gives the values of daily stepping (tested). Their
    deaths (the general population's, ``model.mortality``) are drawn day by day.
    """
    n = len(ids)
    p = brain_params(params, ids, seed, variability)
    clock = BrainClock(modules, p, cov)
    acc = {k: np.zeros(n) for k in _AGG}
    records: dict[str, list[np.ndarray]] = {}
    mode, habit, tol, alive = np.full(n, NEVER), np.zeros(n), np.ones(n), np.ones(n, bool)
    other = _OtherCauses(p, ids, cov, seed)
    death, cause = np.full(n, np.nan), np.zeros(n, dtype=np.int8)
    out, _ = clock.advance(_zero_drivers(n), 0.0, None)
    _store(records, out, acc, mode, habit, tol, alive, 0)
    for prev, day in zip(rec_days[:-1], rec_days[1:], strict=True):
        for d in range(int(prev), int(day)):
            t, c = other.day(d, mode, alive)
            dying = np.isfinite(t)
            death, cause = np.where(dying, t, death), np.where(dying, c, cause)
            alive &= ~dying
        out, _ = clock.advance(_zero_drivers(n), float(day), float(day - prev))
        _store(records, out, acc, mode, habit, tol, alive, day - prev)
    result = {f"rec_{k}": np.stack(v, axis=1).astype(np.float32) for k, v in records.items()}
    result.update(
        {
            "arm": np.full(n, 2, dtype=np.int8),
            "death_time": death,
            "death_cause": cause.astype(np.int8),
            "first_lapse": np.full(n, np.nan),
            "relapse": np.full(n, np.nan),
            "abstinent_again": np.full(n, np.nan),
            "stops": np.zeros(n, dtype=np.int16),
            "co_use": np.zeros(n, dtype=np.int8),
            "final_habit": np.zeros(n),
            "episodes": np.zeros((0, 1 + K.N_EPI)),
        }
    )
    return result


def _run_chunk(
    params, plan, ids, drug_free, cov, modules, seed, variability, rescue, rec_days, block_days=28
):
    """The daily loop for drug-taking subjects (``_run_split`` sends controls elsewhere)."""
    n = len(ids)
    users = ~drug_free
    user_idx = np.flatnonzero(users)  # chunk index of each of the kernel's subjects
    pharm = _Pharmacology(params, plan, ids[users], seed, variability, rescue)
    p = brain_params(params, ids, seed, variability)
    clock = BrainClock(modules, p, cov)
    alive = np.ones(n, dtype=bool)
    death = np.full(n, np.nan)
    cause = np.zeros(n, dtype=np.int8)  # model.mortality.CAUSES
    other = _OtherCauses(p, ids, cov, seed)
    arm = (uniform_stream(seed, ids, 0, "behaviour:arm") < plan.abstinent_fraction) & users
    mode = np.where(users, B.USING, NEVER)
    # everyone titrates to the typical person's effect (model.behaviour eq. 1a)
    d0 = B.personal_start_dose(plan.start_dose_mg, p["kd_morphine"], params["kd_morphine"])
    habit = np.where(users, d0, 0.0)
    priming = np.zeros(n)
    caution = np.zeros(n)  # after a survived overdose (model.behaviour eq. 2b)
    bits = np.zeros(n, dtype=np.uint64)
    held_until = np.full(n, plan.use_days + plan.detox_days)  # end of each one's detoxification
    first_lapse = np.full(n, np.nan)
    relapse = np.full(n, np.nan)
    abstinent_again = np.full(n, np.nan)  # first stop after a relapse
    stops = np.zeros(n, dtype=np.int16)  # times regular use was left (detoxification included)
    episodes: list = []
    acc = {k: np.zeros(n) for k in _AGG}
    records: dict[str, list[np.ndarray]] = {}
    out, inputs = clock.advance(_zero_drivers(n), 0.0, None)
    _store(records, out, acc, mode, habit, np.ones(n), alive, 0)
    rec_i = 1
    day = 0
    while day < plan.days:
        # Blocks: regular users' doses are decided once per block (their habit follows
        # tolerance slowly); everyone else (detoxified, abstaining) decides day by day.
        end = plan.use_days if day < plan.use_days else plan.days
        n_days = min(block_days, end - day)
        if day == plan.use_days:
            mode = np.where(arm, HELD, mode)
            stops += arm
        elif day > plan.use_days:
            # after the planned use, regular users stop (treatment, own detoxification)
            u_stop = uniform_stream(seed, ids, day, "behaviour:cessation")
            stop = (mode == B.USING) & users & alive & (u_stop < B.cessation_probability(n_days, p))
            mode = np.where(stop, HELD, mode)
            held_until = np.where(stop, day + plan.detox_days, held_until)
            abstinent_again = np.where(
                stop & ~np.isnan(relapse) & np.isnan(abstinent_again), day, abstinent_again
            )
            stops += stop
        s_euph = _euphoric(inputs, users, pharm)
        regular = (mode == B.USING) & users
        target = B.regular_dose(d0, s_euph, inputs["hedonic_deficit"], p)
        habit = np.where(regular, B.step_habit(habit, target, n_days, p), habit)
        caution_rate = rate_per_day(p["t_half_overdose_caution"]) / HOURS_PER_DAY  # per h
        caution_rate = np.broadcast_to(caution_rate, (n,))
        reduction = np.broadcast_to(p["overdose_dose_reduction"], (n,))
        n_use_reg = _uses_per_day(clock.states.get("tolerance"), p, n)
        kd_shift = _receptor_shift(inputs, n)
        in_block = regular & alive
        daily = users & alive & ~in_block
        # the kernel's daily records that the loop reads (_DAY_COLS; NaN as 0, as
        # nan_to_num) by day, record and subject: each day's drivers are contiguous rows
        bins = np.zeros((n_days, len(_DAY_COLS), n))
        died_h = np.full(n, np.nan)
        if in_block.any():
            sub = pharm.rows(np.flatnonzero(in_block[user_idx]), kd_shift[in_block])
            c_in = (caution[in_block], reduction[in_block], caution_rate[in_block])
            b_u, d_u, eps, c_u = pharm.run(
                sub, n_use_reg[in_block], habit[in_block], day, n_days, c_in
            )
            caution[in_block] = c_u
            bins[:, :, in_block] = b_u[:, :, _DAY_COLS].transpose(1, 2, 0)
            died_h[in_block] = d_u
            _nan_to_zero(bins)
            episodes.extend(eps)
        daily_rows = np.flatnonzero(daily[user_idx]) if daily.any() else None
        for j in range(n_days):
            d_abs = day + j
            mode = np.where((mode == HELD) & (d_abs >= held_until), B.ABSTAINING, mode)
            mode_today = mode  # the state the day's other-cause hazard depends on
            # ---- decide (from the state of the evening before) and run the daily group ----
            n_use = np.where(in_block, n_use_reg, 0)
            lapse = np.zeros(n, bool)
            if daily_rows is not None:
                # the daily group's receptor-level tolerance changes from day to day
                daily_sub = pharm.rows(daily_rows, _receptor_shift(inputs, n)[daily])
                cue = uniform_stream(seed, ids, d_abs, "behaviour:cue") < p["cue_probability"]
                drive = B.lapse_drive(inputs["craving"], cue, inputs["negative_affect"], priming, p)
                u_lapse = uniform_stream(seed, ids, d_abs, "behaviour:lapse")
                lapse = (
                    daily
                    & alive
                    & (mode == B.ABSTAINING)
                    & (u_lapse < B.lapse_probability(drive, p))
                )
                n_use = np.where(daily & (mode == B.USING), n_use_reg, n_use)
                n_use = np.where(lapse, 1, n_use) * alive
                # the dose that feels right at today's tolerance to euphoria (eq. 1)
                s_now = _euphoric(inputs, users, pharm)
                wanted = B.regular_dose(d0, s_now, inputs["hedonic_deficit"], p)
                dose = np.where(mode == B.USING, wanted, wanted * p["lapse_dose_fraction"])
                c_in = (caution[daily], reduction[daily], caution_rate[daily])
                b_d, d_d, eps, c_d = pharm.run(daily_sub, n_use[daily], dose[daily], d_abs, 1, c_in)
                caution[daily] = c_d
                bins[j][:, daily] = np.nan_to_num(b_d[:, 0, _DAY_COLS]).T
                died_h[daily] = np.where(np.isfinite(d_d), j * 24.0 + d_d, died_h[daily])
                episodes.extend(eps)
            # ---- behaviour bookkeeping ----
            used = (n_use * alive) > 0
            bits = ((bits << np.uint64(1)) | used.astype(np.uint64)) & np.uint64((1 << 62) - 1)
            first_lapse = np.where(lapse & np.isnan(first_lapse), d_abs, first_lapse)
            abstaining = (mode == B.ABSTAINING) & users
            if abstaining.any():
                back = abstaining & B.relapsed(bits, p)
                relapse = np.where(back & np.isnan(relapse), d_abs, relapse)
                mode = np.where(back, B.USING, mode)
                # a return to regular use starts from the dose that feels right now
                if daily_rows is not None:
                    habit = np.where(back & daily, dose, habit)
            priming = B.step_priming(priming, used, p)
            # ---- deaths (overdose in the kernel, other causes here: the earlier) and brain ----
            dead_before = ~alive
            dies_today = np.isfinite(died_h) & (died_h >= j * 24.0) & (died_h < (j + 1) * 24.0)
            t_od = np.where(dies_today & alive, d_abs + (died_h - j * 24.0) / 24.0, np.inf)
            t_other, other_cause = other.day(d_abs, mode_today, alive)
            t_other = np.where(np.isfinite(t_other), t_other, np.inf)
            t_die = np.minimum(t_od, t_other)
            dying = alive & np.isfinite(t_die)
            death = np.where(dying, t_die, death)
            cause = np.where(dying, np.where(t_od <= t_other, M.OVERDOSE, other_cause), cause)
            alive &= ~dying
            row = bins[j]  # (_DAY_COLS, subjects); read only today
            row[np.ix_(_ALIVE_ONLY_ROWS, ~alive)] = 0.0
            row[:, dead_before] = 0.0  # a block's doses after a death were simulated ahead
            drivers = {k: row[i] for i, k in enumerate(_REC)}
            drivers["alive"] = alive.astype(float)
            tol_j = np.where(alive & users, 1.0 + row[_DAY_UF] + row[_DAY_US], 1.0)
            drivers["tolerance_shift"] = tol_j
            out, inputs = clock.advance(drivers, d_abs + 1.0, 1.0)
            # deaths from the brain (fatal toxic leukoencephalopathy) end the life course too
            tle = out.get("white_matter_tle_dead")
            if tle is not None:
                brain_death = alive & (np.asarray(tle) > 0)
                death = np.where(brain_death, d_abs + 1.0, death)
                cause = np.where(brain_death, M.LEUKOENCEPHALOPATHY, cause)
                alive &= ~brain_death
            for k, how in _AGG.items():
                v = (n_use * alive).astype(float) if k == "uses" else drivers[k]
                acc[k] = np.maximum(acc[k], v) if how == "max" else acc[k] + v
            if rec_i < len(rec_days) and d_abs + 1 == rec_days[rec_i]:
                span = rec_days[rec_i] - rec_days[rec_i - 1]
                _store(records, out, acc, mode, habit, tol_j, alive, span)
                rec_i += 1
        day += n_days
    result = {f"rec_{k}": np.stack(v, axis=1).astype(np.float32) for k, v in records.items()}
    ep = np.array(episodes, dtype=float).reshape(-1, 1 + K.N_EPI)
    # a block's doses were simulated ahead; drop episodes after a death of another cause
    died_at = dict(zip(ids.tolist(), death.tolist(), strict=True))
    ep = ep[[not (ep_t / 24.0 > died_at[int(s_)]) for s_, ep_t in ep[:, :2]]] if len(ep) else ep
    result.update(
        {
            "arm": np.where(users, arm.astype(np.int8), 2).astype(np.int8),
            "death_time": death,
            "death_cause": cause.astype(np.int8),
            "first_lapse": first_lapse,
            "relapse": relapse,
            "abstinent_again": abstinent_again,
            "stops": stops,
            "co_use": _co_use(pharm, users),
            "final_habit": habit,
            "episodes": ep,
        }
    )
    return result


_ALIVE_ONLY = (
    "activation_mean",
    "activation_peak",
    "effect_peak",
    "withdrawal_mean",
    "withdrawal_peak",
)
#: Kernel record columns the daily loop reads: the drivers (``_REC``, in order), then
#: the fast and slow tolerance states; ``_DAY_UF``, ``_DAY_US`` are their positions.
_DAY_COLS = np.array([*_REC.values(), K.R_UF, K.R_US])
_DAY_UF, _DAY_US = len(_REC), len(_REC) + 1
_ALIVE_ONLY_ROWS = np.array([list(_REC).index(k) for k in _ALIVE_ONLY])


def _euphoric(inputs, users, pharm) -> np.ndarray:
    """Tolerance to euphoria of every subject (``model.tolerance``; AC shift alone without it)."""
    if "euphoric" in inputs:
        return np.where(users, np.nan_to_num(inputs["euphoric"], nan=1.0), 1.0)
    tol = np.ones(len(users))
    tol[users] = pharm.tolerance()
    return tol


def _receptor_shift(inputs, n: int) -> np.ndarray:
    """Receptor-level right-shift of agonist binding (1 without ``model.tolerance``)."""
    shift = inputs.get("receptor_shift")
    return np.ones(n) if shift is None else np.nan_to_num(np.asarray(shift, float), nan=1.0)


def _uses_per_day(tol_state, p, n: int) -> np.ndarray:
    """Doses a day of regular users, ``model.behaviour`` eq. (0).

    Without ``model.tolerance`` every regular user takes the established number.
    """
    circuit = np.ones(n) if tol_state is None else tol_state["circuit"]
    return B.uses_per_day(circuit, p, MAX_USES_PER_DAY)


def _co_use(pharm, users) -> np.ndarray:
    """Co-use flags of every subject of a chunk (drug-free controls: 0)."""
    out = np.zeros(len(users), dtype=np.int8)
    out[users] = pharm.co_use
    return out


def _nan_to_zero(a: np.ndarray) -> None:
    """``np.nan_to_num(a, copy=False)``, with one scan when every value is finite."""
    bad = ~np.isfinite(a)
    if bad.any():
        a[bad] = np.nan_to_num(a[bad])


def _zero_drivers(n: int) -> dict[str, np.ndarray]:
    d = {k: np.zeros(n) for k in _REC}
    d["alive"] = np.ones(n)
    d["tolerance_shift"] = np.ones(n)
    return d


def _store(records, out, acc, mode, habit, tol, alive, span):
    for k, v in out.items():
        records.setdefault(k, []).append(np.asarray(v, dtype=np.float32))
    for k, how in _AGG.items():
        val = acc[k] / span if (how == "mean" and span) else acc[k]
        records.setdefault(f"fast_{k}", []).append(val.astype(np.float32))
        acc[k] = np.zeros_like(acc[k])
    records.setdefault("fast_mode", []).append(mode.astype(np.float32))
    records.setdefault("fast_dose_mg", []).append(habit.astype(np.float32))
    records.setdefault("fast_tolerance_shift", []).append(tol.astype(np.float32))
    records.setdefault("fast_alive", []).append(alive.astype(np.float32))


def _traits(
    params, subj, seed, variability, covariates, free, plan
) -> tuple[dict, xr.DataArray | None]:
    """Per-subject covariates ``{name: (values, units, long_name)}`` and drawn parameters.

    The drawn parameters are those that vary between subjects (``cv > 0``),
    redrawn here from the same counter-based streams the simulation used, as one
    ``trait`` variable (subject x parameter) with each parameter's units and long
    name as coordinates; ``None`` when nothing varies.
    """
    cov = {k: np.asarray(v) for k, v in covariates.items()}
    out: dict[str, tuple] = {
        "age_years": (cov["age_years"].astype(float), "year", "age at day 0"),
        "sex": (np.where(cov["female"] > 0.5, "female", "male"), None, "sex"),
        "route": (
            np.where(free, "none", plan.route),
            None,
            "route of heroin use ('none' for drug-free controls)",
        ),
    }
    if variability <= 0:
        return out, None
    draws = params.sample(subj, seed, variability)
    varied = [(k, par) for k, par in params.params.items() if par.cv > 0]
    if not varied:
        return out, None
    # one (subject, parameter) variable: hundreds of 1-D variables cost seconds to write
    trait = xr.DataArray(
        np.stack([np.asarray(draws[k], dtype=float) for k, _ in varied], axis=1),
        dims=("subject", "parameter"),
        coords={
            "parameter": [k for k, _ in varied],
            "parameter_units": ("parameter", [cf_units(p.internal_unit) for _, p in varied]),
            "parameter_long_name": ("parameter", [p.description for _, p in varied]),
        },
        attrs={
            "long_name": "this subject's draw of each parameter that varies between subjects",
            "comment": "units per parameter in parameter_units (the parameter table's "
            "internal units); redrawn from the counter-based streams the simulation used",
        },
    )
    trait["parameter"].attrs["long_name"] = "parameter name (parameter table)"
    trait["parameter_units"].attrs["long_name"] = "units of the parameter's draws (UDUNITS)"
    trait["parameter_long_name"].attrs["long_name"] = "description of the parameter"
    return out, trait


def _label(merged, subj, rec_days, modules, plan, traits, trait) -> LifeCourseResult:
    recs = {k[4:]: merged[k] for k in merged if k.startswith("rec_")}
    brain_recs = {
        k: [recs[k][:, t] for t in range(recs[k].shape[1])]
        for k in recs
        if not k.startswith("fast_")
    }
    ds = to_dataset(modules, brain_recs, subj, rec_days.astype(float), dtype=np.float32)
    # collected first and assigned once: each Dataset.__setitem__ re-aligns every variable
    new: dict[str, xr.DataArray] = {}
    for k in (*_AGG, "mode", "dose_mg", "tolerance_shift", "alive"):
        unit, desc = _META.get(k) or RECORD_META[k]
        new[k] = xr.DataArray(
            recs[f"fast_{k}"], dims=("subject", "time"), attrs={"units": unit, "long_name": desc}
        )
    new["death_time"] = xr.DataArray(
        merged["death_time"],
        dims=("subject",),
        attrs={"units": "d", "long_name": "time of death (any cause; NaN if alive at the end)"},
    )
    cause = np.array(M.CAUSES)[merged["death_cause"].astype(np.int64)]
    new["death_cause"] = xr.DataArray(
        cause,
        dims=("subject",),
        attrs={
            "long_name": "cause of death",
            "comment": f"one of: {', '.join(M.CAUSES)}. background: the general population's "
            "causes (life table); medical: "
            "excess infections, liver and other disease; injury: excess injury, suicide and "
            "violence (model.mortality)",
        },
    )
    new["co_use"] = xr.DataArray(
        merged["co_use"].astype(np.int8),
        dims=("subject",),
        attrs={
            "units": "1",
            "long_name": "regular co-user of benzodiazepines or alcohol (1) or not (0)",
            "comment": "a trait drawn per user (couse_fraction); co-users have a weaker CO2 "
            "chemoreflex (couse_chemoreflex_depression); 0 for drug-free controls",
        },
    )
    for k, (values, unit, desc) in traits.items():
        attrs = {"long_name": desc} if unit is None else {"units": unit, "long_name": desc}
        new[k] = xr.DataArray(values, dims=("subject",), attrs=attrs)
    if trait is not None:
        new["trait"] = trait
    arm = np.array(["continued use", "abstinence", "control"])[merged["arm"].astype(np.int64)]
    new["arm"] = xr.DataArray(
        arm,
        dims=("subject",),
        attrs={"long_name": "arm after the use period"},
    )
    ds = ds.assign(new)
    ds["time"].attrs.update({"units": "d", "long_name": "time since the start of use"})
    ds.attrs.update({"lifecourse_plan": str(asdict(plan))})
    subjects = pd.DataFrame(
        {
            "subject": subj,
            "arm": arm,
            "death_time_d": merged["death_time"],
            "first_lapse_d": merged["first_lapse"],
            "relapse_d": merged["relapse"],
            "abstinent_again_d": merged["abstinent_again"],
            "stops": merged["stops"].astype(np.int64),
            "co_use": merged["co_use"].astype(bool),
            "habitual_dose_mg": merged["final_habit"],
            "death_cause": cause,
            "age_years": traits["age_years"][0],
            "sex": traits["sex"][0],
        }
    )
    episodes = episodes_table(merged["episodes"])
    return LifeCourseResult(dataset=ds, subjects=subjects, episodes=episodes)
