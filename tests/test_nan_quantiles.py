"""The report's column-wise quantiles against numpy's nanquantile (linear method)."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from neuroadapt.report.plotting import nan_quantiles

QS = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)


def _numpy(x, q):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        return np.nanquantile(x, q, axis=0)


@settings(max_examples=200, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 40), st.integers(1, 6)),
        elements=st.one_of(
            st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), st.just(np.nan)
        ),
    ),
    st.lists(st.sampled_from(QS), min_size=1, max_size=4),
)
def test_same_values_as_numpy(x, q):
    np.testing.assert_allclose(nan_quantiles(x, q), _numpy(x, q), rtol=1e-13, atol=1e-9)


def test_a_cohort_sized_array_is_bit_identical():
    rng = np.random.default_rng(5)
    x = rng.lognormal(size=(1000, 150))
    x[rng.random(x.shape) < 0.3] = np.nan
    x[:, 7] = np.nan  # a time at which every subject is dead
    got = nan_quantiles(x, (0.05, 0.5, 0.95))
    np.testing.assert_array_equal(got, _numpy(x, (0.05, 0.5, 0.95)))
    assert np.isnan(got[:, 7]).all()
