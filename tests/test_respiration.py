"""The PaO2 lag and the arrest rule of model.respiration (eqs. 9, 9a, 11): closed forms."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from neuroadapt.model import respiration as R

pao2s = st.floats(5.0, 110.0)
spans = st.floats(1e-4, 2.0)  # h
taus = st.floats(0.01, 0.1)  # h (tau_O2 is 2.2 min)


@given(pao2s, pao2s, spans, taus)
def test_one_step_is_the_exact_solution_for_a_constant_target(p0, target, dt, tau):
    exact = target + (p0 - target) * math.exp(-dt / tau)
    stepped = R.pao2_step(p0, target, R.pao2_lag_weight(dt, tau))
    assert math.isclose(stepped, exact, rel_tol=1e-12, abs_tol=1e-9)
    assert math.isclose(R.pao2_relaxed(p0, target, dt, tau), exact, rel_tol=1e-15)


@given(pao2s, pao2s, spans, taus, st.integers(1, 50))
def test_many_small_steps_equal_one_long_relaxation(p0, target, span, tau, n):
    p = p0
    w = R.pao2_lag_weight(span / n, tau)
    for _ in range(n):
        p = R.pao2_step(p, target, w)
    assert math.isclose(p, R.pao2_relaxed(p0, target, span, tau), rel_tol=1e-9, abs_tol=1e-9)
    lo, hi = sorted((p0, target))
    assert lo - 1e-9 <= p <= hi + 1e-9  # the lag never overshoots its target


def test_arrest_needs_an_unbroken_spell_below_the_threshold():
    below, died_after = 0.0, None
    # 30 s steps: 7 below (210 s), one above (the clock restarts), then 8 below (240 s)
    trace = [10.0] * 7 + [20.0] + [10.0] * 8
    for k, pao2 in enumerate(trace):
        below = R.time_below_arrest(below, pao2, 30.0, 15.0)
        if R.arrested(below, 220.0):
            died_after = k
            break
    assert died_after == len(trace) - 1
    assert R.time_below_arrest(200.0, 15.0, 30.0, 15.0) == 0.0  # at the threshold: not below


def test_the_functions_compile_as_the_kernel_calls_them():
    @njit
    def lagged(p0, target, dt, tau, n):
        p = p0
        w = R.pao2_lag_weight(dt, tau)
        below = 0.0
        for _ in range(n):
            p = R.pao2_step(p, target, w)
            below = R.time_below_arrest(below, p, dt * 3600.0, 15.0)
        return p, below, R.arrested(below, 220.0), R.pao2_relaxed(p0, target, n * dt, tau)

    p, below, dead, relaxed = lagged(90.0, 5.0, 30.0 / 3600.0, 2.2 / 60.0, 60)
    assert np.isclose(p, relaxed, rtol=1e-9)
    assert dead and below > 220.0
