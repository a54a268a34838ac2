"""The daily slow clock integrates brain modules exactly and checks their wiring."""

import types

import numpy as np
import pytest

from neuroadapt.engine.brain import ModuleSpecError, integrate
from neuroadapt.engine.simulate import EngineOptions, simulate
from neuroadapt.model.dose import Dose
from neuroadapt.parameters import load_parameters


def _toy():
    mod = types.ModuleType("toy")
    mod.NAME = "toy"
    mod.STATES = {"x": ("1", 0.0)}
    mod.REGIONS = ("a", "b")
    mod.INPUTS = ("activation_mean",)
    mod.OUTPUTS = {"twice": ("1", "2x")}

    def step(st, inp, p, dt):
        k = np.array([0.1, 0.2])
        target = inp["activation_mean"][:, None]
        return {"x": target + (st["x"] - target) * np.exp(-k * dt)}

    mod.step = step
    mod.observe = lambda st, inp, p: {"twice": 2 * st["x"]}
    return mod


def test_integrate_matches_the_closed_form_and_labels_regions():
    params = load_parameters("human")
    doses = [Dose(8.0 * k, "heroin", "iv", 10.0) for k in range(30)]
    res = simulate(params, doses, 20 * 24, 3, options=EngineOptions(record_every_h=24))
    cov = {"age_years": np.full(3, 30.0), "female": np.zeros(3), "smoked_fraction": np.zeros(3)}
    out = integrate([_toy()], res.dataset, {}, cov)
    a = res.dataset.activation_mean.values
    x = np.zeros(3)
    for d in range(1, a.shape[1]):
        x = a[:, d] + (x - a[:, d]) * np.exp(-0.1)
    np.testing.assert_allclose(out.toy_x.values[:, -1, 0], x)
    assert list(out.toy_region.values) == ["a", "b"]
    np.testing.assert_allclose(out.toy_twice.values, 2 * out.toy_x.values)


def test_unknown_input_is_refused():
    mod = _toy()
    mod.INPUTS = ("no_such_driver",)
    with pytest.raises(ModuleSpecError, match="no_such_driver"):
        integrate([mod], None, {}, {})
