"""Brain states over years of use and years of abstinence: exact slow components, directions.

Synthetic daily drivers (``brain_probes.regular_use_daily``) stand in for
the pharmacology: a regular user's daily mean MOR activation held constant,
then zero. Directions are asserted for activations 30 % below and above the
nominal 0.5, since the dose a user takes (and so the activation) varies.
"""

import math
from functools import cache

import numpy as np
import pytest

from neuroadapt.engine.brain import integrate
from neuroadapt.evidence import brain_probes as BP
from neuroadapt.model import cognition, dopamine, structure
from neuroadapt.model.clock import HOURS_PER_DAY
from neuroadapt.parameters import load_parameters

YEAR = 365
ACTIVATIONS = (0.35, 0.5, 0.65)


def _p(n=1):
    return dict(load_parameters("human").sample(np.arange(n), seed=3, variability=0.0))


@cache
def _course(activation: float, years_use: int = 10, years_off: int = 3):
    use = years_use * YEAR
    days = use + years_off * YEAR
    daily = BP.regular_use_daily(1, use, days, activation)
    brain = integrate(BP.brain_modules(), daily, _p(), BP._covariates(1))
    return brain, use


def _k(p, name):
    """Daily rate of a half-life parameter (hours in the table)."""
    return math.log(2.0) / float(p[name][0]) * HOURS_PER_DAY


# ----------------------------------------------------------------- exact updates
def test_slow_d2_and_dat_losses_follow_the_closed_form():
    """Under constant exposure e: L(t) = L* (1 - exp(-(k_on e + k_off) t))."""
    p = _p()
    a, days = 0.5, 2000
    e = a / (a + float(p["da_exposure_e50"][0]))
    st = {k: np.zeros(1) for k in dopamine.STATES}
    inputs = {"activation_mean": np.full(1, a)}
    for _ in range(days):
        st = dopamine.step(st, inputs, p, 1.0)
    for state, mx, on, off in (
        ("d2_loss_slow", "d2_loss_slow_max", "t_half_d2_loss_slow", "t_half_d2_recovery_slow"),
        ("dat_loss", "dat_loss_max", "t_half_dat_loss", "t_half_dat_recovery"),
    ):
        k = _k(p, on) * e + _k(p, off)
        star = _k(p, on) * e * float(p[mx][0]) / k
        assert st[state][0] == pytest.approx(star * (1.0 - math.exp(-k * days)), rel=1e-9)


def test_reversible_gray_matter_builds_slowly_and_clears_fast():
    """The reversible component relaxes with k_on while rising and k_off while falling."""
    p = {k: v[:1] for k, v in _p().items()}
    n_r = len(structure.REGIONS)
    st = {k: np.zeros((1, n_r)) for k in structure.STATES}
    inputs = {
        "glt1": np.array([0.5]),
        "cue_glutamate": np.array([1.0]),
        "glial_activation": np.array([0.0]),
        "cytokines": np.array([1.0]),
        "hypoxia_minutes": np.zeros(1),
        "overdoses": np.zeros(1),
        "age_years": np.array([30.0]),
    }
    d = float(structure.drive(inputs, p)[0])
    target = float(p["str_fast_loss_max"][0]) * structure.regional(p, "str_vuln")[0] * d
    st1 = structure.step(st, inputs, p, 30.0)
    k_on = _k(p, "str_t_half_fast_on")
    np.testing.assert_allclose(st1["loss_fast"][0], target * (1 - math.exp(-30 * k_on)))
    off = dict(inputs, glt1=np.array([1.0]))
    st2 = structure.step(st1, off, p, 7.0)
    k_off = _k(p, "str_t_half_fast")
    np.testing.assert_allclose(st2["loss_fast"][0], st1["loss_fast"][0] * math.exp(-7 * k_off))


def test_cognitive_states_follow_their_closed_forms():
    """Early deficit: exact relaxation on and off; impulsivity: exact gated loss."""
    p = _p()
    a = 0.5
    e = a / (a + float(p["cog_exposure_e50"][0]))
    n_d = len(cognition.REGIONS)
    st = {k: np.zeros((1, n_d)) for k in cognition.STATES}
    st = cognition.step(st, {"activation_mean": np.full(1, a)}, p, 100.0)
    k_on = _k(p, "cog_t_half_early_on")
    np.testing.assert_allclose(st["early_deficit"], e * (1 - math.exp(-100 * k_on)))
    k = _k(p, "cog_t_half_impulsivity_on") * e + _k(p, "cog_t_half_impulsivity_off")
    star = _k(p, "cog_t_half_impulsivity_on") * e / k
    np.testing.assert_allclose(st["impulsivity"], star * (1 - math.exp(-100 * k)))
    st2 = cognition.step(st, {"activation_mean": np.zeros(1)}, p, 10.0)
    k_off = _k(p, "cog_t_half_early_off")
    np.testing.assert_allclose(st2["early_deficit"], st["early_deficit"] * math.exp(-10 * k_off))


# ----------------------------------------------------------------- directions over years
@pytest.mark.parametrize("a", ACTIVATIONS)
def test_deficits_grow_with_years_of_use(a):
    b, use = _course(a)
    d2 = b.dopamine_d2_availability.values[0]
    assert d2[10 * YEAR - 1] < d2[YEAR] - 0.02  # Zijlstra: D2 falls with years
    gm = b.structure_gm_loss_pct.values[0, :, structure.REGIONS.index("insula")]
    assert gm[30] < 1.5  # the first month costs far less than 5 %
    assert gm[10 * YEAR - 1] > 2.0 * gm[2 * YEAR]
    fa = b.white_matter_fa.values[0].mean(axis=1)
    assert fa[10 * YEAR - 1] < fa[2 * YEAR] < fa[YEAR]


@pytest.mark.parametrize("a", ACTIVATIONS)
def test_recovery_is_domain_specific(a):
    """Attention recovers within weeks; delay discounting keeps most of its deficit for years."""
    b, use = _course(a)
    z = b.cognition_z.values[0]
    att = cognition.REGIONS.index("attention")
    dd = cognition.REGIONS.index("delay_discounting")
    assert z[use + 30, att] / z[use - 1, att] < 0.5
    assert z[use + YEAR + YEAR // 2, dd] / z[use - 1, dd] > 0.35
    assert z[use + 2 * YEAR, dd] < z[use + 2 * YEAR, att]


@pytest.mark.parametrize("a", ACTIVATIONS)
def test_white_matter_keeps_recovering_with_abstinence(a):
    b, use = _course(a)
    fa = b.white_matter_fa.values[0].mean(axis=1)
    assert fa[use + 30] < fa[use + 182] < fa[use + YEAR] < fa[use + 2 * YEAR] < 1.0


def test_composite_leaves_out_the_impulsivity_domains():
    b, use = _course(0.5)
    z = b.cognition_z.values[0, use + YEAR]
    keep = [cognition.REGIONS.index(d) for d in cognition.COMPOSITE_DOMAINS]
    assert b.cognition_z_composite.values[0, use + YEAR] == pytest.approx(z[keep].mean())
