"""Cohort simulation: prepares subjects, runs the kernel chunk by chunk, labels the result.

The engine turns a parameter set, a dose schedule and options into an
:class:`xarray.Dataset` with dimensions ``subject`` and ``time`` (units and
provenance in attributes) and a table of overdose episodes. Subjects are
simulated in chunks; each chunk is deterministic given the seed and the
global subject indices, so the numbers do not depend on the chunk size. With
a checkpoint directory every finished chunk is saved and a rerun resumes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from neuroadapt.engine import kernel as K
from neuroadapt.engine.checkpoint import chunk_key, load_chunk, save_chunk
from neuroadapt.engine.inputs import EngineOptions, RescueRule
from neuroadapt.engine.preparation import (
    LN2,
    Prepared,
    baseline_pao2,
    fine_screen,
    kernel_params,
    modal_decomposition,
    prep_ev_state,
    prepare,
    record_times,
    rescue_inputs,
)
from neuroadapt.engine.results import (
    CF_UNITS,
    EPISODE_COLUMNS,
    RECORD_META,
    NonFiniteError,
    SimulationResult,
    _episodes_frame,
    _to_dataset,
    cf_units,
    check_living_dataset,
    check_living_finite,
    episodes_table,
)
from neuroadapt.model.dose import Dose
from neuroadapt.parameters import ParameterSet
from neuroadapt.scenarios import MAX_DOSES

# the engine's types and helpers live in engine.inputs, engine.preparation and
# engine.results; they stay importable from here, as does the dose event
# (model.dose.Dose, the one type the regimen expands to and the engine simulates)
__all__ = [
    "CF_UNITS",
    "EPISODE_COLUMNS",
    "LN2",
    "RECORD_META",
    "Dose",
    "EngineOptions",
    "NonFiniteError",
    "Prepared",
    "RescueRule",
    "SimulationResult",
    "baseline_pao2",
    "cf_units",
    "check_living_dataset",
    "check_living_finite",
    "episodes_table",
    "fine_screen",
    "kernel_params",
    "modal_decomposition",
    "prep_ev_state",
    "prepare",
    "record_times",
    "rescue_inputs",
    "simulate",
    "trajectory",
]


def simulate(
    params: ParameterSet,
    doses: Sequence[Dose],
    duration_h: float,
    subjects: int | np.ndarray,
    seed: int = 0,
    variability: float = 1.0,
    rescue: RescueRule | None = None,
    options: EngineOptions | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Simulate a cohort under a dose schedule.

    Parameters
    ----------
    params
        Parameter set of the species.
    doses
        Dose events (:class:`neuroadapt.model.dose.Dose`, e.g. a scenario's
        ``all_events()``) shared by every subject (sorted or not).
    duration_h
        Simulated time (h).
    subjects
        Number of subjects, or their global indices.
    seed
        Seed of the per-subject random streams (parameters and rescue draws).
    variability
        Scale on inter-individual variability.
    rescue
        Naloxone rescue rule, or ``None``.
    options
        Numerical options.
    checkpoint_dir
        Directory to save finished chunks in and resume from.
    progress
        Called with (subjects done, subjects total) after each chunk.

    Returns
    -------
    SimulationResult
    """
    options = options or EngineOptions()
    subj = np.arange(subjects) if np.isscalar(subjects) else np.asarray(subjects, dtype=np.int64)
    if len(doses) > MAX_DOSES:
        raise ValueError(f"doses: {len(doses)} events; at most {MAX_DOSES} (scenarios.MAX_DOSES)")
    doses = sorted(doses, key=lambda d: d.time_h)
    pairs = sorted({(d.drug, d.route) for d in doses})
    if rescue is not None and (rescue.drug, rescue.route) not in pairs:
        pairs.append((rescue.drug, rescue.route))
    ev_time = np.array([d.time_h for d in doses], dtype=float)
    ev_amount = np.array([d.amount for d in doses], dtype=float)
    ev_pair = np.array([pairs.index((d.drug, d.route)) for d in doses], dtype=np.int64)
    ev_perkg = np.array([d.unit == "mg/kg" for d in doses], dtype=np.bool_)
    ev_duration = np.array([d.duration_h for d in doses], dtype=float)
    rec_t = record_times(duration_h, options)
    total = len(subj)
    chunk = max(1, int(options.chunk_size))
    ckpt = Path(checkpoint_dir) if checkpoint_dir else None
    # the key hashes the inputs (every dose, every covariate): only for checkpoints
    key = (
        chunk_key(
            {
                "params": params.hash(),
                "doses": [asdict(d) for d in doses],
                "duration": duration_h,
                "seed": seed,
                "variability": variability,
                "rescue": asdict(rescue) if rescue else None,
                "options": asdict(options),
            }
        )
        if ckpt
        else None
    )
    if ckpt:
        ckpt.mkdir(parents=True, exist_ok=True)
    parts: list[dict[str, np.ndarray]] = []
    states: list[str] = []
    units: list[str] = []
    for start in range(0, total, chunk):
        ids = subj[start : start + chunk]
        path = ckpt / f"chunk-{key}-{int(ids[0]):07d}-{len(ids)}.npz" if ckpt else None
        prep = prepare(params, pairs, ids, seed, variability)
        states, units = prep.pk.states, prep.pk.units
        saved = load_chunk(path, key) if path is not None else None
        if saved is not None:
            parts.append(saved)
        else:
            parts.append(
                _run_prepared(
                    prep,
                    ids,
                    seed,
                    ev_time,
                    ev_amount,
                    ev_pair,
                    ev_perkg,
                    ev_duration,
                    rec_t,
                    rescue,
                    options,
                )
            )
            check_living_finite(parts[-1]["rec"], ids, rec_t)
            if path is not None:
                save_chunk(path, parts[-1], key)
        if progress:
            progress(min(start + chunk, total), total)
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    conc_species = list(prep.pk.volume) if options.record_state else []
    ds = _to_dataset(merged, subj, rec_t, states, units, options, conc_species)
    ds.attrs.update(
        {
            "species": params.species,
            "seed": seed,
            "variability": variability,
            "parameter_hash": params.hash(),
            "duration_h": duration_h,
            "engine_options": json.dumps(asdict(options)),
        }
    )
    episodes = _episodes_frame(merged, subj)
    final = {"x": merged["final_x"], "u": merged["final_u"], "states": np.array(states)}
    return SimulationResult(dataset=ds, episodes=episodes, final_state=final)


def _run_prepared(
    prep, ids, seed, ev_time, ev_amount, ev_pair, ev_perkg, ev_duration, rec_t, rescue, options
) -> dict[str, np.ndarray]:
    n = len(ids)
    ns = prep.pk.n
    x0 = np.zeros((n, ns))
    u0 = np.zeros((n, 2))
    pao2_0 = baseline_pao2(prep.samples) * np.ones(n)
    out_rec = np.full((n, len(rec_t), K.N_REC), np.nan)
    out_x = np.zeros((n, len(rec_t) if options.record_state else 1, ns))
    out_epi = np.full((n, options.max_episodes, K.N_EPI), np.nan)
    out_n_epi = np.zeros(n, dtype=np.int64)
    out_death = np.full(n, np.nan)
    out_final_x = np.zeros((n, ns))
    out_final_u = np.zeros((n, 2))
    out_final_pao2 = np.zeros(n)
    rescue_state, rescue_amount = rescue_inputs(prep, rescue)
    ev_start = np.zeros(n, dtype=np.int64)
    ev_end = np.full(n, len(ev_time), dtype=np.int64)
    K.run_chunk(
        np.asarray(ids, dtype=np.int64),
        np.int64(seed),
        prep.lam,
        prep.vmat,
        prep.vinv,
        prep.eff_rows,
        prep.kd,
        prep.tau,
        prep.eps,
        prep.pvec,
        *K.quadrature_rule(options.quadrature),
        ev_start,
        ev_end,
        ev_time,
        prep_ev_state(prep, ev_pair),
        ev_amount,
        ev_pair,
        ev_perkg,
        ev_duration,
        prep.dose_factor,
        np.zeros(n),  # no caution after overdoses in scheduled dosing
        np.ones(n),
        np.zeros(n),
        rec_t,
        x0,
        u0,
        pao2_0,
        rescue is not None,
        np.int64(rescue_state),
        np.ascontiguousarray(rescue_amount),
        (rescue.delay_min / 60.0) if rescue else 0.0,
        rescue.trigger_pao2_mmhg if rescue else 0.0,
        rescue.probability if rescue else 0.0,
        fine_screen(options, rescue),
        options.fine_dt_s / 3600.0,
        options.max_episodes,
        options.record_state,
        out_rec,
        out_x,
        out_epi,
        out_n_epi,
        out_death,
        out_final_x,
        out_final_u,
        out_final_pao2,
        np.zeros(n),
    )
    out = {
        "rec": out_rec.astype(np.float32),
        "x": out_x,
        "epi": out_epi,
        "n_epi": out_n_epi,
        "death": out_death,
        "final_x": out_final_x,
        "final_u": out_final_u,
    }
    if options.record_state:
        cols = [
            out_x[:, :, prep.pk.central_state[sp]] / vol[:, None] * 1000.0
            for sp, vol in prep.pk.volume.items()
        ]
        out["conc"] = np.stack(cols, axis=2) if cols else np.zeros((n, len(rec_t), 0))
    return out


def trajectory(
    params: ParameterSet,
    doses: Sequence[Dose],
    times_h: np.ndarray,
    subjects: int | np.ndarray = 1,
    seed: int = 0,
    variability: float = 0.0,
    rescue: RescueRule | None = None,
    fine_dt_s: float = 10.0,
) -> SimulationResult:
    """Dense trajectories at the given times (h): every read-out, PK state and concentration.

    A thin wrapper of :func:`simulate` with the times as record points; use it
    for figures and single-dose experiments with a few subjects.
    """
    times_h = np.asarray(times_h, dtype=float)
    duration = float(times_h.max())
    opts = EngineOptions(
        record_every_h=max(duration, 1e-6) * 2.0,
        record_state=True,
        extra_record_times_h=tuple(times_h.tolist()),
        fine_dt_s=fine_dt_s,
        chunk_size=10_000_000,
    )
    return simulate(params, doses, duration, subjects, seed, variability, rescue, opts)
