"""The engine against independent references: matrix exponentials, closed forms, a stiff ODE solver.

- PK: the engine's modal propagator equals ``scipy.linalg.expm`` of the same matrix,
  and a morphine IV bolus equals the one-compartment exponential (and its
  effect-site Bateman function).
- Slow states: the engine's quadrature of AC superactivation equals a tight
  ``solve_ivp`` (LSODA, rtol 1e-10) integration of the full ODE (PK matrix plus
  the signalling ODE written with the model's own functions).
- Chunking: the same seed gives the same arrays whatever the chunk size.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm

from neuroadapt.engine.reference import lsoda_slow_states
from neuroadapt.engine.simulate import EngineOptions, RescueRule, simulate, trajectory
from neuroadapt.model.dose import Dose
from neuroadapt.model.pk import build_pk
from neuroadapt.parameters import load_parameters

HUMAN = load_parameters("human")
LN2 = math.log(2.0)


def q8h(mg: float, days: float, start_h: float = 0.0) -> list[Dose]:
    return [Dose(start_h + 8.0 * k, "heroin", "iv", mg) for k in range(int(round(3 * days)))]


def subject_pk(doses, subject=0, seed=0, variability=0.0):
    samples = HUMAN.sample(np.array([subject]), seed, variability)
    pk = build_pk(samples, sorted({(d.drug, d.route) for d in doses}), 1)
    return {k: v[0] for k, v in samples.items()}, pk


# --- PK oracles ------------------------------------------------------------------------


@pytest.mark.parametrize(("subject", "variability", "mg"), [(0, 0.0, 20.0), (5, 1.0, 5.0)])
def test_single_iv_heroin_dose_equals_matrix_exponential(subject, variability, mg):
    doses = [Dose(0.0, "heroin", "iv", mg)]
    s, pk = subject_pk(doses, subject, 3, variability)
    x0 = np.zeros(pk.n)
    x0[pk.dose_state[("heroin", "iv")]] = mg * pk.dose_factor[("heroin", "iv")][0]
    times = np.array([0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 24.0, 48.0])
    ds = trajectory(HUMAN, doses, times, np.array([subject]), seed=3, variability=variability)
    ds = ds.dataset
    ds = ds.isel(subject=0).sel(time=times / 24.0, method="nearest")
    assert np.all(ds.alive.values == 1)
    ref = np.array([expm(pk.matrix[0] * t) @ x0 for t in times])
    for m, st in enumerate(pk.states):
        np.testing.assert_allclose(
            ds[f"pk_{st}"].values,
            ref[:, m],
            rtol=1e-9,
            atol=1e-12 * np.abs(ref[:, m]).max(),
            err_msg=st,
        )
    for species, vol in pk.volume.items():
        m = pk.states.index(species)
        np.testing.assert_allclose(
            ds[f"conc_{species}"].values,
            ref[:, m] / vol[0] * 1000.0,
            rtol=1e-9,
            atol=1e-9 * np.abs(ref[:, m] / vol[0] * 1000.0).max(),
            err_msg=species,
        )


def test_morphine_iv_bolus_is_one_exponential_and_its_effect_site_a_bateman_function():
    mg = 10.0
    doses = [Dose(0.0, "morphine", "iv", mg)]
    s = HUMAN.values()
    k = LN2 / s["t_half_morphine"]
    vol = s["cl_morphine"] / k
    ke0 = LN2 / s["t_half_ke0_morphine"]
    dose_umol = mg * 1000.0 / s["mw_morphine"]
    times = np.array([0.01, 0.1, 0.5, 1.0, 2.0, 3.0, 6.0, 12.0, 24.0])
    ds = trajectory(HUMAN, doses, times).dataset.isel(subject=0)
    ds = ds.sel(time=times / 24.0, method="nearest")
    amount = dose_umol * np.exp(-k * times)
    np.testing.assert_allclose(ds.pk_morphine.values, amount, rtol=1e-10)
    c0 = dose_umol / vol * 1000.0  # nM
    np.testing.assert_allclose(ds.conc_morphine.values, c0 * np.exp(-k * times), rtol=1e-10)
    ce = c0 * ke0 / (ke0 - k) * (np.exp(-k * times) - np.exp(-ke0 * times))
    np.testing.assert_allclose(ds.pk_morphine_brain.values, ce, rtol=1e-9)


# --- slow states against a stiff solver ---------------------------------------------


def reference_slow_states(doses, times_h, subject=0, seed=0, variability=0.0):
    """U_fast and U_slow at ``times_h`` from LSODA (rtol 1e-10) on the full ODE."""
    return lsoda_slow_states(HUMAN, doses, times_h, subject, seed, variability)


@pytest.mark.parametrize(("subject", "variability"), [(0, 0.0), (2, 1.0)])
def test_slow_states_match_a_tight_stiff_solver_over_14_days(subject, variability):
    """10 days of 20 mg q8h then 4 days off; daily and off-grid times (mid-interval)."""
    doses = q8h(20, 10)
    extra = (12.3, 31.7, 100.05, 239.99, 250.5, 300.0)
    opts = EngineOptions(record_every_h=24, extra_record_times_h=extra)
    res = simulate(
        HUMAN, doses, 14 * 24.0, np.array([subject]), seed=4, variability=variability, options=opts
    )
    ds = res.dataset.isel(subject=0)
    assert np.all(ds.alive.values == 1)
    t = ds.time.values * 24.0
    ref = reference_slow_states(doses, t, subject, 4, variability)
    for k, name in enumerate(("u_fast", "u_slow")):
        eng = ds[name].values.astype(float)
        assert ref[:, k].max() > 0.01  # a real build-up, not a comparison of zeros
        np.testing.assert_allclose(eng, ref[:, k], rtol=1e-3, atol=1e-6, err_msg=name)


# --- chunking ------------------------------------------------------------------------


def test_chunk_size_does_not_change_any_number():
    doses = q8h(30, 4) + [Dose(50.0, "naloxone", "im", 0.4)]
    kw = dict(
        seed=12,
        variability=1.0,
        rescue=RescueRule(probability=0.5, delay_min=3.0),
    )
    small = simulate(HUMAN, doses, 5 * 24.0, 10, options=EngineOptions(chunk_size=3), **kw)
    big = simulate(HUMAN, doses, 5 * 24.0, 10, options=EngineOptions(chunk_size=1000), **kw)
    assert set(small.dataset.data_vars) == set(big.dataset.data_vars)
    for name in small.dataset.data_vars:
        np.testing.assert_array_equal(
            small.dataset[name].values, big.dataset[name].values, err_msg=name
        )
    for key in ("x", "u"):
        np.testing.assert_array_equal(small.final_state[key], big.final_state[key])
    assert len(small.episodes) > 0  # the comparison covers overdose episodes and rescues
    assert small.episodes.equals(big.episodes)
