"""Structure, white matter and cognition on the daily clock: protocol, invariants, directions.

The neurochemistry inputs (glt1, cue_glutamate, glial_activation, cytokines)
come from ``_neurochem``, a test double: a small deterministic module that
follows mean MOR activation, so these tests do not depend on the real
glutamate and inflammation modules.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroadapt.engine.brain import check_modules, integrate
from neuroadapt.evidence import brain_probes as BP
from neuroadapt.evidence.calibration import evaluate_checks, group_checks, is_true
from neuroadapt.evidence.targets import load_targets
from neuroadapt.model import cognition, structure, white_matter
from neuroadapt.parameters import load_parameters
from neuroadapt.streams import uniform_hash


def _neurochem():
    """Test double for the glutamate and inflammation modules (the checks' stand-in)."""
    return BP.standin_neurochemistry()


MODULES = [_neurochem(), structure, white_matter, cognition]


def _params(n, **override):
    p = dict(load_parameters("human").sample(np.arange(n), seed=2, variability=0.0))
    p.update({k: np.full(n, float(v)) for k, v in override.items()})
    p["subject_index"] = np.arange(n)
    return p


def _run(activation, days, n=None, smoked=0.0, age=30.0, p=None, hypoxia=None, overdoses=None):
    """Integrate the modules over synthetic daily drivers (activation per subject and day)."""
    activation = np.atleast_2d(activation)
    n = activation.shape[0] if n is None else n
    extra = {"activation_mean": np.broadcast_to(activation, (n, days))}
    if hypoxia is not None:
        extra["hypoxia_minutes"] = hypoxia
    if overdoses is not None:
        extra["overdoses"] = overdoses
    daily = BP.synthetic_daily(n, days, **extra)
    cov = {
        "age_years": np.full(n, age),
        "female": np.zeros(n),
        "smoked_fraction": np.full(n, smoked),
    }
    return integrate(MODULES, daily, p if p is not None else _params(n), cov)


def _use(years_use, years_off, n=1):
    days = int(365 * (years_use + years_off))
    a = np.zeros((n, days))
    a[:, : int(365 * years_use)] = 0.5
    return a, days


def test_protocol():
    check_modules(MODULES)
    for mod in (structure, white_matter, cognition):
        for attr in ("NAME", "STATES", "REGIONS", "INPUTS", "OUTPUTS", "step", "observe"):
            assert hasattr(mod, attr)
    assert len(structure.REGIONS) == len(structure.REGION_KEYS) == 10
    out = _run(np.zeros((2, 5)), 5)
    assert out.structure_gm_volume.dims == ("subject", "time", "structure_region")
    assert out.cognition_z.shape == (2, 5, len(cognition.REGIONS))
    assert out.white_matter_tle_stage.dims == ("subject", "time")


def test_controls_age_and_users_lose_more():
    a, days = _use(4, 0, n=2)
    a[1] = 0.0
    out = _run(a, days, age=40.0)
    vol, absv = out.structure_gm_volume.values, out.structure_gm_volume_abs.values
    np.testing.assert_allclose(vol[1], 1.0)  # controls: fraction of control is 1
    assert absv[1, -1, 0] < absv[1, 0, 0] < 1.0  # but they age
    assert np.all(absv[0, -1] < absv[1, -1])
    # ageing starts at 30: a 25-year-old does not decline
    young = _run(np.zeros((1, 365)), 365, age=25.0)
    np.testing.assert_allclose(young.structure_gm_volume_abs.values, 1.0)


def test_more_years_more_loss_and_partial_recovery():
    a, days = _use(8, 4)
    out = _run(a, days)
    loss = out.structure_gm_loss_pct.values[0]
    y = [loss[int(365 * t)].mean() for t in (1, 2, 4, 8)]
    assert np.all(np.diff(y) > 0)
    end = int(365 * 8)
    assert loss[end + 30].mean() < loss[end + 3].mean()  # a month of abstinence helps
    assert 0 < loss[-1].mean() < loss[end].mean()  # partial recovery after years
    # precuneus persists: it keeps the largest share of its loss
    kept = loss[-1] / loss[end]
    assert np.argmax(kept) == structure.REGIONS.index("precuneus")


def test_regional_ordering():
    a, days = _use(5, 0)
    loss = _run(a, days).structure_gm_loss_pct.values[0, -1]
    r = {name: loss[i] for i, name in enumerate(structure.REGIONS)}
    for vulnerable in ("insula", "prefrontal cortex", "anterior cingulate", "temporal cortex"):
        assert r[vulnerable] > r["hippocampus"] and r[vulnerable] > r["amygdala"]
    assert r["insula"] == max(r.values())


def test_fa_falls_with_use_and_frontal_recovers_in_a_month():
    a, days = _use(3, 1)
    fa = _run(a, days).white_matter_fa.values[0]
    end = 365 * 3
    assert np.all(fa[end] < 1.0)
    frontal = white_matter.REGIONS.index("frontal white matter")
    assert 1 - fa[end + 30, frontal] < 0.3 * (1 - fa[end + 3, frontal])


def test_tle_only_with_smoking():
    n, days = 300, 120
    p = _params(n, wm_tle_hazard=0.01)  # per hour: frequent onset (virtual outbreak)
    smoked = _run(np.full((n, days), 0.5), days, smoked=1.0, p=p)
    assert smoked.white_matter_tle_stage.values.max() >= 1
    assert smoked.white_matter_tle_dead.values[:, -1].sum() > 0
    iv = _run(np.full((n, days), 0.5), days, smoked=0.0, p=p)
    assert iv.white_matter_tle_stage.values.max() == 0
    assert iv.white_matter_tle_dead.values.max() == 0
    stages = set(np.unique(smoked.white_matter_tle_stage.values))
    assert stages <= {0.0, 1.0, 2.0, 3.0}


def test_random_events_are_deterministic_per_subject_and_day():
    u1 = uniform_hash(3, np.arange(100), 7, 1)
    assert np.array_equal(u1, uniform_hash(3, np.arange(100), 7, 1))
    assert np.array_equal(u1[50:], uniform_hash(3, np.arange(50, 100), 7, 1))
    assert not np.allclose(u1, uniform_hash(3, np.arange(100), 8, 1))
    assert 0.3 < u1.mean() < 0.7


def test_overdose_hypoxia_injures_hippocampus_and_can_cause_dphl():
    n, days = 50, 40
    hyp = np.zeros((n, days))
    hyp[:, 5] = 200.0
    od = (hyp > 0).astype(float)
    p = _params(n, wm_dphl_probability=1.0, wm_lesion_scale=30.0 / 60.0)
    out = _run(np.zeros((n, days)), days, p=p, hypoxia=hyp, overdoses=od)
    loss = out.structure_loss_hypoxic.values[:, -1]
    assert loss[:, structure.REGIONS.index("hippocampus")].min() > 0
    assert out.white_matter_hypoxic_injury.values[:, -1].mean() > 0.9
    onset = np.argmax(out.white_matter_dphl.values > 0, axis=1) - 5
    assert onset.min() >= 7 and onset.max() <= 15


def test_cognition_deficits_and_processing_speed_spared():
    a, days = _use(6, 0)
    z = _run(a, days).cognition_z.values[0, -1]
    ps = cognition.REGIONS.index("processing_speed")
    assert z[ps] == 0.0
    others = np.delete(z, ps)
    assert np.all(others < 0)
    assert np.argmin(z) == cognition.REGIONS.index("complex_psychomotor")


BOUNDED = [
    k
    for k, q in load_parameters("human").params.items()
    if k.startswith(("str_", "wm_", "cog_")) and q.lower < q.upper
]


@settings(max_examples=15, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=len(BOUNDED), max_size=len(BOUNDED)),
    st.floats(0.0, 1.0),
)
def test_invariants_over_parameter_bounds(fractions, use):
    ps = load_parameters("human")
    n, days = 2, 200
    p = _params(n)
    for k, f in zip(BOUNDED, fractions, strict=True):
        q = ps.params[k]
        p[k] = np.full(n, q.lower + f * (q.upper - q.lower))
    a = np.zeros((n, days))
    a[:, :120] = use
    hyp = np.zeros((n, days))
    hyp[:, 50] = 300.0
    out = _run(a, days, smoked=0.5, p=p, hypoxia=hyp, overdoses=(hyp > 0).astype(float))
    for var in ("structure_gm_volume", "structure_gm_density", "structure_gm_volume_abs"):
        v = out[var].values
        assert np.all(np.isfinite(v)) and np.all(v > 0) and np.all(v <= 1.2)
    fa = out.white_matter_fa.values
    assert np.all(np.isfinite(fa)) and np.all(fa > 0) and np.all(fa <= 1.2)
    assert np.all(np.isfinite(out.cognition_z.values))
    assert not any(bool(out[v].isnull().any()) for v in out.data_vars)


def test_every_structure_target_has_a_check():
    targets = load_targets()
    ids = {t for t, v in targets.items() if v.scale in ("structure", "white_matter", "cognition")}
    assert ids == {c.target_id for c in group_checks("structure")}


@pytest.fixture(scope="module")
def results():
    by_id = {c.target_id: c for c in group_checks("structure")}
    out = []
    for r in evaluate_checks(group_checks("structure")):
        chk = by_id[r.id]
        if r.model.startswith("error"):  # a probe that fails is a miss (as in calibrate)
            chk = chk.__class__(**{**chk.__dict__, "note": r.model})
        out.append((chk, r.value, r.verdict))
    return out


def test_checks_have_no_unexplained_miss(results):
    misses = [(c.target_id, m, c.note) for c, m, v in results if v == "miss"]
    assert not misses
    for c, _m, v in results:
        assert c.tolerance and c.status
        if v in ("explained miss", "conflict"):
            assert c.note
        if c.compare is is_true:
            assert c.unit == ""
