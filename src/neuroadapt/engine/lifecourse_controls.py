"""Matched drug-free controls of a life course: the brain stepped from record to record."""

from __future__ import annotations

import numpy as np

from neuroadapt.engine import kernel as K
from neuroadapt.engine.brain import BrainClock, brain_params
from neuroadapt.engine.lifecourse_mortality import _OtherCauses
from neuroadapt.engine.lifecourse_records import _AGG, NEVER, _store, _zero_drivers


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
