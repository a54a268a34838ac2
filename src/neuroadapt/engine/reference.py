"""A reference solution of the slow states with a general stiff ODE solver.

The engine integrates AC superactivation by quadrature between exact PK
propagations. This module integrates the same equations directly, for tests
and benchmarks: the PK amounts and effect sites (``dx/dt = A x``, the
subject's matrix from ``model.pk.build_pk``) and the two superactivation
components, with activation computed by the model's receptor and signalling
functions, by scipy's LSODA at tight tolerances. Doses are added between
integration segments. Nothing here is used by the engine itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.integrate import solve_ivp

from neuroadapt.model import receptor, signalling
from neuroadapt.model.dose import Dose
from neuroadapt.model.pk import LIGANDS, build_pk
from neuroadapt.parameters import ParameterSet

__all__ = ["lsoda_slow_states"]


def lsoda_slow_states(
    params: ParameterSet,
    doses: Sequence[Dose],
    times_h: np.ndarray,
    subject: int = 0,
    seed: int = 0,
    variability: float = 0.0,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> np.ndarray:
    """U_fast and U_slow of one subject at ``times_h`` (array of shape ``(len(times_h), 2)``)."""
    times_h = np.asarray(times_h, dtype=float)
    samples = params.sample(np.array([subject]), seed, variability)
    pk = build_pk(samples, sorted({(d.drug, d.route) for d in doses}), 1)
    s = {k: v[0] for k, v in samples.items()}
    a_mat = pk.matrix[0]
    ligs = [lig for lig in LIGANDS if lig in pk.effect_state]
    rows = np.array([pk.effect_state[lig] for lig in ligs])
    kd = np.array(
        [s["kd_morphine"] * (1.0 if g == "morphine" else s[f"affinity_ratio_{g}"]) for g in ligs]
    )
    tau = np.array([s.get(f"efficacy_{g}", 0.0) for g in ligs])
    imax, gain, phi = s["ac_imax"], s["ac_gain"], s["frac_ac_slow"]
    kf, ks = math.log(2.0) / s["t_half_ac_fast"], math.log(2.0) / s["t_half_ac_slow"]
    n = pk.n

    def rhs(_t, y):
        odds = receptor.occupancy_odds(y[rows], kd)
        a = receptor.activation(receptor.stimulus(float(tau @ odds), float(odds.sum())))
        d = signalling.superactivation_demand(a, imax, gain)
        dy = np.empty_like(y)
        dy[:n] = a_mat @ y[:n]
        dy[n] = kf * ((1.0 - phi) * d - y[n])
        dy[n + 1] = ks * (phi * d - y[n + 1])
        return dy

    y = np.zeros(n + 2)
    out = np.zeros((len(times_h), 2))
    edges = [*sorted({d.time_h for d in doses}), float(np.max(times_h))]
    for k, t0 in enumerate(edges[:-1]):
        for d in doses:
            if d.time_h == t0:
                factor = s["body_weight"] if d.unit == "mg/kg" else 1.0
                y[pk.dose_state[(d.drug, d.route)]] += (
                    d.amount * factor * pk.dose_factor[(d.drug, d.route)][0]
                )
        t1 = edges[k + 1]
        if t1 <= t0:
            continue
        sel = (times_h > t0) & (times_h <= t1)
        t_eval = np.union1d(times_h[sel], [t1])
        sol = solve_ivp(rhs, (t0, t1), y, method="LSODA", rtol=rtol, atol=atol, t_eval=t_eval)
        if not sol.success:
            raise FloatingPointError(f"LSODA failed: {sol.message}")
        out[sel] = sol.y[n:, np.searchsorted(t_eval, times_h[sel])].T
        y = sol.y[:, -1]
    return out
