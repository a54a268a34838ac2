"""The daily clock's shared helpers: remembered parameter-derived arrays and exact updates."""

import numpy as np

from neuroadapt.model import white_matter
from neuroadapt.model.clock import daily_rate, decay, rate_per_day, relax, relax_by, remembered
from neuroadapt.streams import uniform_hash


def test_remembered_is_rebuilt_when_a_source_is_replaced():
    p = {"t": np.array([12.0, 24.0])}
    first = remembered(p, "k", lambda t: 2.0 * t, p["t"])
    assert remembered(p, "k", lambda t: 2.0 * t, p["t"]) is first
    assert not first.flags.writeable
    p["t"] = np.array([1.0, 2.0])
    np.testing.assert_array_equal(remembered(p, "k", lambda t: 2.0 * t, p["t"]), [2.0, 4.0])
    assert p["t"].flags.writeable  # never made read-only itself


def test_decay_and_relax_by_equal_the_exact_update_bitwise():
    rng = np.random.default_rng(0)
    p = {"t_half": rng.uniform(1.0, 1e4, 50)}
    x, target = rng.uniform(0, 1, 50), rng.uniform(0, 1, 50)
    for dt in (1.0, 30.0, 0.25):
        k = rate_per_day(p["t_half"])
        np.testing.assert_array_equal(daily_rate(p, "t_half"), k)
        np.testing.assert_array_equal(decay(p, "t_half", dt), np.exp(-k * dt))
        expect = target + (x - target) * np.exp(-k * dt)
        np.testing.assert_array_equal(relax_by(x, target, decay(p, "t_half", dt)), expect)
        np.testing.assert_array_equal(relax(x, target, k, dt), expect)


def test_white_matter_day_draws_equal_uniform_hash():
    rng = np.random.default_rng(1)
    n = 1000
    ids = rng.integers(0, 2**40, n)
    p = {"subject_index": ids, "stream_seed": np.full(n, 2**33 + 11)}
    day = rng.integers(0, 100_000, n).astype(float)
    mask = rng.uniform(size=n) < 0.3
    for purpose in range(1, 7):
        draws = white_matter._DayDraws(p, n, day)
        got = draws.where(mask, purpose, 2.0)
        want = uniform_hash(2**33 + 11, ids, day, purpose)
        np.testing.assert_array_equal(got[mask], want[mask])
        assert np.all(got[~mask] == 2.0)
