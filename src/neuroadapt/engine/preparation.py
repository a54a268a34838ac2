"""Preparation of a chunk of subjects for the kernel: sampled parameters, modal PK, inputs.

Turns a parameter set and the drug/route pairs of a schedule into the arrays
the kernel reads (:class:`Prepared`), and the per-subject inputs derived from
them (baseline PaO2, rescue dose, event states, the record grid).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neuroadapt.engine import kernel as K
from neuroadapt.engine.inputs import EngineOptions, RescueRule
from neuroadapt.model.pk import LIGANDS, LinearPK, build_pk
from neuroadapt.model.respiration import pao2_steady, relative_ventilation
from neuroadapt.parameters import ParameterSet

LN2 = math.log(2.0)


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
