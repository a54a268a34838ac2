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
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from neuroadapt.engine import kernel as K
from neuroadapt.engine.checkpoint import chunk_key, load_chunk, save_chunk
from neuroadapt.model.pk import LIGANDS, LinearPK, build_pk
from neuroadapt.model.respiration import pao2_steady, relative_ventilation
from neuroadapt.parameters import ParameterSet
from neuroadapt.scenarios import MAX_DOSES

LN2 = math.log(2.0)

RECORD_META: dict[str, tuple[str, str]] = {
    "u_fast": ("1", "fast AC superactivation component (fraction of naive AC activity)"),
    "u_slow": ("1", "slow AC superactivation component"),
    "activation": ("1", "MOR activation A (fraction of maximal signalling) at the record time"),
    "camp": ("1", "cAMP relative to the naive drug-free level at the record time"),
    "opioid_effect": ("1", "net opioid effect (euphoria/analgesia signal) at the record time"),
    "withdrawal": ("1", "withdrawal index (normalised cAMP overshoot) at the record time"),
    "ventilation": ("1", "alveolar ventilation relative to rest at the record time"),
    "pao2": ("mmHg", "arterial PO2 at the record time"),
    "spo2": ("1", "haemoglobin O2 saturation at the record time"),
    "activation_peak": ("1", "peak MOR activation since the previous record"),
    "effect_peak": ("1", "peak opioid effect since the previous record"),
    "withdrawal_peak": ("1", "peak withdrawal index since the previous record"),
    "withdrawal_mean": ("1", "time-averaged withdrawal index since the previous record"),
    "activation_mean": ("1", "time-averaged MOR activation since the previous record"),
    "camp_min": ("1", "lowest cAMP since the previous record"),
    "camp_max": ("1", "highest cAMP since the previous record"),
    "spo2_min": ("1", "lowest SpO2 since the previous record"),
    "hypoxia_minutes": (
        "min",
        "minutes with PaO2 below the hypoxia threshold since the previous record",
    ),
    "overdoses": ("1", "overdose episodes begun since the previous record"),
    "alive": ("1", "1 while the subject is alive"),
    "agonist_occupancy": (
        "1",
        "fraction of MORs occupied by agonist, weighted by intrinsic activity (CAR)",
    ),
}


#: Columns of the overdose-episode table.
EPISODE_COLUMNS: tuple[str, ...] = (
    "subject",
    "start_h",
    "min_pao2_mmhg",
    "hypoxia_minutes",
    "severe_hypoxia_minutes",
    "outcome",
    "naloxone_given",
)


@dataclass(frozen=True)
class Dose:
    """One dose event as the engine sees it (hours, mg or mg/kg)."""

    time_h: float
    drug: str
    route: str
    amount: float
    unit: str = "mg"
    duration_h: float = 0.0


@dataclass(frozen=True)
class RescueRule:
    """Naloxone given ``delay_min`` after PaO2 first falls below ``trigger_pao2_mmhg``."""

    dose_mg: float = 0.4
    route: str = "im"
    delay_min: float = 5.0
    trigger_pao2_mmhg: float = 40.0
    probability: float = 1.0
    drug: str = "naloxone"

    @classmethod
    def from_scenario(cls, rescue) -> RescueRule:
        """The rule of a scenario's ``[rescue]`` table (``scenarios.schema.Rescue``)."""
        return cls(
            dose_mg=rescue.dose_mg,
            route=rescue.route,
            delay_min=rescue.delay_min,
            trigger_pao2_mmhg=rescue.trigger_pao2_mmhg,
            probability=rescue.probability,
            drug=rescue.drug,
        )


@dataclass(frozen=True)
class EngineOptions:
    """Numerical options of the engine (not science: they set resolution and memory).

    Attributes
    ----------
    record_every_h
        Spacing of recorded time points (h).
    chunk_size
        Subjects per kernel call.
    screen_pao2_mmhg
        Quasi-steady PaO2 below which an interval is resolved at ``fine_dt_s``;
        must exceed the hypoxia threshold so hypoxia minutes are counted.
    fine_dt_s
        Step of the fine respiratory resolution (s).
    max_episodes
        Overdose episodes stored per subject.
    record_state
        Also record every PK state at the record times (dense trajectories).
    quadrature
        ``"standard"`` or ``"reference"`` (a much finer rule for accuracy checks).
    """

    record_every_h: float = 24.0
    chunk_size: int = 2000
    screen_pao2_mmhg: float = 62.0
    fine_dt_s: float = 30.0
    max_episodes: int = 64
    record_state: bool = False
    quadrature: str = "standard"
    extra_record_times_h: tuple[float, ...] = field(default_factory=tuple)


@dataclass
class Prepared:
    """Arrays the kernel needs for one chunk."""

    pk: LinearPK
    lam: np.ndarray
    vmat: np.ndarray
    vinv: np.ndarray
    eff_rows: np.ndarray
    ligands: list[str]
    kd: np.ndarray
    tau: np.ndarray
    eps: np.ndarray
    pvec: np.ndarray
    dose_factor: np.ndarray
    pairs: list[tuple[str, str]]
    samples: dict[str, np.ndarray]


def _distinct_diagonal(a: np.ndarray) -> np.ndarray:
    """Nudge equal rate constants apart (relative 1e-6) so the system is diagonalisable."""
    a = a.copy()
    n = a.shape[-1]
    d = np.einsum("...ii->...i", a).copy()
    for i in range(n):
        for j in range(i):
            close = np.abs(d[:, i] - d[:, j]) <= 1e-6 * np.maximum(np.abs(d[:, i]), 1e-12)
            if close.any():
                d[close, i] = d[close, j] * (1.0 + 3e-6 * (i + 1))
    idx = np.arange(n)
    a[:, idx, idx] = d
    return a


def modal_decomposition(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigen-decompose stacked PK matrices: ``A = V diag(lam) V^-1``.

    The heroin chain and the treatments are acyclic (their eigenvalues are the
    negative diagonal rates); fentanyl's mammillary block exchanges both ways
    but is similar to a symmetric matrix, so its eigenvalues are real, negative
    and distinct, and the effect sites feed nothing back. Equal diagonal rates
    (possible only in the acyclic part) are nudged apart first.
    """
    a = _distinct_diagonal(matrix)
    w, v = np.linalg.eig(a)
    if np.abs(w.imag).max(initial=0.0) > 1e-9 * np.abs(w.real).max(initial=1.0):
        raise FloatingPointError("PK system has complex eigenvalues")
    w = w.real
    v = v.real
    vinv = np.linalg.inv(v)
    return w, v, vinv


def kernel_params(samples: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Pack the per-subject scalars the kernel reads, in ``kernel.PARAM_NAMES`` order."""
    derived = {
        "k_ac_fast": LN2 / samples["t_half_ac_fast"],
        "k_ac_slow": LN2 / samples["t_half_ac_slow"],
        "tau_o2": samples["tau_o2"],
        "arrest_delay": samples["arrest_delay"] * 3600.0,  # h -> s, the kernel counts seconds
    }
    cols = []
    for name in K.PARAM_NAMES:
        val = derived.get(name, samples.get(name))
        cols.append(np.broadcast_to(np.asarray(val, dtype=float), (n,)))
    return np.ascontiguousarray(np.stack(cols, axis=1))


def prepare(
    params: ParameterSet,
    pairs: Sequence[tuple[str, str]],
    subjects: np.ndarray,
    seed: int,
    variability: float,
) -> Prepared:
    """Sample subjects and build everything the kernel needs for them."""
    n = len(subjects)
    samples = params.sample(subjects, seed, variability)
    pk = build_pk(samples, list(pairs), n)
    lam, vmat, vinv = modal_decomposition(pk.matrix)
    ligands = [lig for lig in LIGANDS if lig in pk.effect_state]
    eff_rows = np.array([pk.effect_state[lig] for lig in ligands], dtype=np.int64)
    kd_m = samples["kd_morphine"]

    def per_ligand(value) -> np.ndarray:
        cols = [np.broadcast_to(value(lig), (n,)).astype(float) for lig in ligands]
        return np.stack(cols, axis=1) if cols else np.zeros((n, 0))

    kd = per_ligand(lambda lig: kd_m * samples.get(f"affinity_ratio_{lig}", 1.0))
    tau = per_ligand(lambda lig: samples.get(f"efficacy_{lig}", 0.0))
    eps = per_ligand(lambda lig: samples.get(f"intrinsic_activity_{lig}", 0.0))
    factor = (
        np.stack([pk.dose_factor[pair] for pair in pairs], axis=1) if pairs else np.zeros((n, 0))
    )
    return Prepared(
        pk=pk,
        lam=np.ascontiguousarray(lam),
        vmat=np.ascontiguousarray(vmat),
        vinv=np.ascontiguousarray(vinv),
        eff_rows=eff_rows,
        ligands=ligands,
        kd=np.ascontiguousarray(kd),
        tau=np.ascontiguousarray(tau),
        eps=np.ascontiguousarray(eps),
        pvec=kernel_params(samples, n),
        dose_factor=np.ascontiguousarray(factor),
        pairs=list(pairs),
        samples=samples,
    )


def baseline_pao2(samples: dict[str, np.ndarray]) -> np.ndarray:
    """Drug-free PaO2 (mmHg) of each subject from the respiration module."""
    v = relative_ventilation(
        0.0,
        samples["wake_fraction"],
        samples["co2_sensitivity"],
        samples["p_wake"],
        samples["p_chemo"],
    )
    return np.asarray(
        pao2_steady(
            v,
            samples["paco2_baseline"],
            samples["fio2"],
            samples["p_barometric"],
            samples["p_water"],
            samples["resp_quotient"],
            samples["aa_gradient"],
        ),
        dtype=float,
    )


def record_times(duration_h: float, options: EngineOptions) -> np.ndarray:
    """Record grid: every ``record_every_h`` from 0, the end, and any extra times."""
    step = options.record_every_h
    grid = np.arange(0.0, duration_h + 1e-9, step)
    grid = np.union1d(grid, [duration_h, *options.extra_record_times_h])
    grid = grid[(grid >= 0) & (grid <= duration_h + 1e-12)]
    return np.unique(np.round(grid, 9))


@dataclass
class SimulationResult:
    """What one simulation produces: a labelled dataset and the overdose episodes."""

    dataset: xr.Dataset
    episodes: pd.DataFrame
    final_state: dict[str, np.ndarray]


class NonFiniteError(FloatingPointError):
    """A living subject's output is NaN or infinite: the run stops rather than write it."""


#: Units as the parameter table and the model write them -> the UDUNITS spelling
#: that CF readers parse (``nM`` is not a UDUNITS unit).
CF_UNITS = {"dimensionless": "1", "nM": "nmol/L", "uM": "umol/L"}


def cf_units(unit: str) -> str:
    """``unit`` in the spelling CF readers parse (unchanged where it already is)."""
    return CF_UNITS.get(unit, unit)


def check_living_finite(
    rec: np.ndarray, subjects: np.ndarray, times_h: np.ndarray, what: str = "kernel"
) -> None:
    """Raise :class:`NonFiniteError` if a kernel record of a living subject is not finite.

    ``rec`` is ``(subjects, times, kernel.N_REC)``; the kernel marks the records
    of the dead with ``alive = 0`` and leaves their read-outs NaN. Every other
    record (alive, or never written) must be finite.
    """
    living = rec[..., K.R_ALIVE] != 0
    bad = living[..., None] & ~np.isfinite(rec)
    if bad.any():
        i, t, k = np.argwhere(bad)[0]
        raise NonFiniteError(
            f"{what} output '{K.RECORD_VARS[k]}' of living subject {int(subjects[i])} is "
            f"{rec[i, t, k]} at {float(times_h[t]):g} h ({int(bad.any(-1).sum())} records "
            "not finite): the model cannot carry these inputs; please report it"
        )


def check_living_dataset(ds: xr.Dataset, what: str = "cohort") -> None:
    """Raise :class:`NonFiniteError` if a value of a living subject in ``ds`` is not finite.

    Checks every float variable over ``subject`` and ``time`` (the brain scales
    included) where the dataset's ``alive`` is 1.
    """
    if "alive" not in ds:
        return
    living = ds["alive"] == 1
    for name, da in ds.data_vars.items():
        if da.dtype.kind != "f" or not {"subject", "time"} <= set(da.dims):
            continue
        bad = ~np.isfinite(da.where(living, 0.0).transpose("subject", "time", ...).values)
        if bad.any():
            i, t = np.argwhere(bad)[0][:2]
            raise NonFiniteError(
                f"{what} output '{name}' of living subject {ds.subject.values[i]} is not "
                f"finite on day {float(ds.time.values[t]):g} ({int(bad.sum())} values): the "
                "model cannot carry these inputs; please report it"
            )


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
        Dose events shared by every subject (sorted or not).
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


def rescue_inputs(prep: Prepared, rescue: RescueRule | None) -> tuple[int, np.ndarray]:
    """State the rescue dose enters and each subject's rescue amount (umol)."""
    if rescue is None:
        return 0, np.zeros(len(prep.pvec))
    pair_idx = prep.pairs.index((rescue.drug, rescue.route))
    state = prep.pk.dose_state[(rescue.drug, rescue.route)]
    return state, np.ascontiguousarray(prep.dose_factor[:, pair_idx] * rescue.dose_mg)


def fine_screen(options: EngineOptions, rescue: RescueRule | None) -> float:
    """PaO2 screen of the fine respiratory window; it must also see the rescue trigger."""
    return max(options.screen_pao2_mmhg, (rescue.trigger_pao2_mmhg + 2.0) if rescue else 0.0)


def prep_ev_state(prep: Prepared, ev_pair: np.ndarray) -> np.ndarray:
    """State index that each event doses into."""
    table = np.array([prep.pk.dose_state[p] for p in prep.pairs], dtype=np.int64)
    return table[ev_pair] if len(ev_pair) else np.zeros(0, dtype=np.int64)


def _to_dataset(merged, subj, rec_t, states, units, options, conc_species=()) -> xr.Dataset:
    coords = {"subject": subj, "time": rec_t / 24.0}
    data = {}
    for k, name in enumerate(K.RECORD_VARS):
        unit, desc = RECORD_META[name]
        data[name] = xr.DataArray(
            merged["rec"][:, :, k],
            dims=("subject", "time"),
            attrs={"units": unit, "long_name": desc},
        )
    data["tolerance_shift"] = xr.DataArray(
        1.0 + merged["rec"][:, :, K.R_UF] + merged["rec"][:, :, K.R_US],
        dims=("subject", "time"),
        attrs={"units": "1", "long_name": "fold right-shift of opioid effects (1 + U)"},
    )
    data["death_time"] = xr.DataArray(
        merged["death"] / 24.0,
        dims=("subject",),
        attrs={"units": "d", "long_name": "time of fatal overdose (NaN if alive)"},
    )
    if options.record_state:
        for m, (st, un) in enumerate(zip(states, units, strict=True)):
            data[f"pk_{st}"] = xr.DataArray(
                merged["x"][:, :, m],
                dims=("subject", "time"),
                attrs={"units": cf_units(un), "long_name": f"PK state {st}"},
            )
        for k, species in enumerate(conc_species):
            data[f"conc_{species}"] = xr.DataArray(
                merged["conc"][:, :, k],
                dims=("subject", "time"),
                attrs={"units": cf_units("nM"), "long_name": f"blood concentration of {species}"},
            )
    ds = xr.Dataset(data, coords=coords)
    ds["time"].attrs.update({"units": "d", "long_name": "time since the start of the regimen"})
    ds["subject"].attrs.update({"units": "1", "long_name": "subject number"})
    return ds


def _episodes_frame(merged, subj) -> pd.DataFrame:
    rows = [
        (int(s), *merged["epi"][i, e])
        for i, s in enumerate(subj)
        for e in range(int(merged["n_epi"][i]))
    ]
    return episodes_table(np.array(rows, dtype=float).reshape(-1, 1 + K.N_EPI))


def episodes_table(flat: np.ndarray) -> pd.DataFrame:
    """Overdose episodes from rows ``(subject, *kernel episode record)`` as a table."""
    return pd.DataFrame(
        {
            "subject": flat[:, 0].astype(np.int64),
            "start_h": flat[:, 1],
            "min_pao2_mmhg": flat[:, 2],
            "hypoxia_minutes": flat[:, 3],
            "severe_hypoxia_minutes": flat[:, 4],
            "outcome": np.where(flat[:, 5] == K.OUTCOME_FATAL, "fatal", "survived"),
            "naloxone_given": flat[:, 6] > 0,
        },
        columns=list(EPISODE_COLUMNS),
    )


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
