"""Shapes of the rat-lab protocols (small versions of the calibration probes)."""

from __future__ import annotations

import numpy as np
import pytest

from neuroadapt.evidence import checks_place_preference as CPP
from neuroadapt.evidence import checks_rat as C


def test_escalation_with_long_but_not_short_access():
    assert C._escalation_ratio(1, "total") > 1.3
    assert C._escalation_ratio(1, "first_hour") > 1.3
    assert 0.8 < C._escalation_ratio(0, "total") < 1.25


@pytest.mark.slow
def test_reinstatement_above_extinction_baseline():
    for group in (1, len(C.IV_PRIMES_UG)):  # 25 ug/kg IV prime, footshock
        test, base = C._rein_group(group)
        assert test.mean() > 2 * base.mean()
    test, base = C._rein_group(0)  # no prime: no reinstatement
    assert not C.reinstates(test, base)


@pytest.mark.slow
def test_extinction_lowers_responding_and_cpp_extinguishes():
    days, _ = C.extinction_probe()
    presses = np.array([d.counters[:, 0].mean() for d in days])
    assert presses[-5:].mean() < 0.5 * presses[7:10].mean()
    assert CPP._extinguished()
