import numpy as np

from neuroadapt.engine.simulate import EngineOptions
from neuroadapt.experiments.cohort import covariates, run_controls
from neuroadapt.parameters import load_parameters
from neuroadapt.scenarios import loads_scenario

SC = """
name = "t"
seed = 4
regimen = "10 mg iv q8h x 3d then 20 mg smoked q8h x 1d"
[cohort]
subjects = 20
controls = 10
female_fraction = 0.5
"""


def test_covariates_are_deterministic_and_matched():
    sc = loads_scenario(SC)
    a = covariates(sc, np.arange(20))
    b = covariates(sc, np.arange(10))
    np.testing.assert_array_equal(a["age_years"][:10], b["age_years"])
    assert 0 < a["female"].mean() < 1
    assert a["smoked_fraction"][0] == (3 * 20) / (9 * 10 + 3 * 20)


def test_controls_take_no_drug_and_age():
    sc = loads_scenario(SC)
    g = run_controls(sc, load_parameters("human"), EngineOptions(record_every_h=24), modules=[])
    assert g.result.dataset.sizes["subject"] == 10
    assert float(np.nanmax(g.result.dataset.activation_peak.values)) == 0.0
    assert g.brain is None
