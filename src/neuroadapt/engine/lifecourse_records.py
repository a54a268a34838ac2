"""What a life course records: the subjects' modes, the fast-layer read-outs and their store.

The daily read-outs of the kernel that drive the brain, how they are aggregated
between recorded days, and the function that appends one record.
"""

from __future__ import annotations

import numpy as np

from neuroadapt.engine import kernel as K

#: Mode of subjects held abstinent (detoxification) and of drug-free controls.
HELD, NEVER = 2, 3


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
