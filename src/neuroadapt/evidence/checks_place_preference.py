"""Calibration checks of conditioned place preference in the rat laboratory.

Each probe conditions virtual rats in the two-compartment apparatus of the rat
lab (:func:`neuroadapt.evidence.checks_rat.run_groups`: pairings confined to
the drug or the vehicle side, free-choice tests), cached for the process; a
preference is more time on the drug-paired side than in the pre-test, by a
paired t-test at the 5 % level. Mouse studies are reported as not modelled.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import stats

from neuroadapt.engine.operant import DayResult, SessionDose, SessionSpec
from neuroadapt.evidence.checks import Check, is_true, never, not_modelled
from neuroadapt.evidence.checks_rat import HOME, run_groups


def _cpp_schedule(
    drug: str,
    route: str,
    dose: float,
    pairings: int,
    minutes: float = 45,
    *,
    delay_min: float = 0.0,
    antagonist: float = 0.0,
) -> list[SessionSpec]:
    out = [SessionSpec("cpp_test", "pre", 15 * 60.0)]
    for _ in range(pairings):
        t = delay_min * 60.0
        doses = (SessionDose(t, drug, route, dose, "conditioning"),)
        if antagonist:
            doses += (SessionDose(t, "naloxone", route, antagonist, "conditioning"),)
        out.append(SessionSpec("cpp_confine", "cond", minutes * 60.0, zone="drug", doses=doses))
        out.append(SessionSpec("cpp_confine", "cond", minutes * 60.0, zone="vehicle"))
    return out


def _test(minutes: float = 15.0, prime: float = 0.0) -> SessionSpec:
    doses = (SessionDose(0.0, "morphine", "sc", prime, "prime"),) if prime else ()
    return SessionSpec("cpp_test", "test", minutes * 60.0, doses=doses)


PRIMES = (0.0, 0.5, 1.0, 2.5)


@functools.lru_cache(maxsize=1)
def mueller_probe():
    """Morphine CPP (four 45-min pairings of 5 mg/kg s.c.): groups of 10 rats.

    Group 0: post-tests every 2 weeks for 12 weeks (no extinction). Groups 1-4:
    post-test, four saline exposures of each side, an extinction test, then a
    30-min test after a morphine prime of 0, 0.5, 1.0 or 2.5 mg/kg s.c.
    """
    cond = _cpp_schedule("morphine", "sc", 5.0, 4)
    persist = list(cond)
    for _ in range(6):
        persist += [_test()] + [HOME] * 13
    persist += [_test()]
    groups = [(10, persist)]
    ext = [SessionSpec("cpp_confine", "ext", 45 * 60.0, zone=z) for z in ("drug", "vehicle")] * 4
    for prime in PRIMES:
        groups.append((10, cond + [_test()] + ext + [_test(), _test(30.0, prime)]))
    return run_groups(groups, pairs=[("morphine", "sc")])


def _zone(days: list[DayResult], day: int, rats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = days[day].zone_s[rats]
    return z[:, 0], z[:, 1]


def cpp_present(drug_test: np.ndarray, drug_pre: np.ndarray) -> bool:
    """CPP: more time on the drug-paired side than in the pre-test, paired t-test p < 0.05."""
    return bool(stats.ttest_rel(drug_test, drug_pre, alternative="greater").pvalue < 0.05)


def _cpp_percent() -> float:
    """Percent change of group mean drug-side time, post vs pre (5 mg/kg, 4 pairings)."""
    days, g = mueller_probe()
    rats = np.flatnonzero(g >= 1)
    pre, _ = _zone(days, 0, rats)
    post, _ = _zone(days, 9, rats)
    return float(100.0 * (post.mean() - pre.mean()) / pre.mean())


def _persistence_weeks() -> float:
    days, g = mueller_probe()
    rats = np.flatnonzero(g == 0)
    pre, _ = _zone(days, 0, rats)
    weeks = 0.0
    for k in range(7):
        post, _ = _zone(days, 9 + 14 * k, rats)
        if cpp_present(post, pre):
            weeks = 2.0 * k
        else:
            break
    return weeks


def _prime_threshold_mg() -> float:
    days, g = mueller_probe()
    for k, prime in enumerate(PRIMES):
        if not prime:
            continue
        rats = np.flatnonzero(g == k + 1)
        drug_pre, _ = _zone(days, 0, rats)
        test, _ = _zone(days, _mueller_test_day(), rats)
        test_pct = test / 1800.0
        pre_pct = drug_pre / 900.0
        if cpp_present(test_pct, pre_pct):
            return prime
    return math.nan


def _mueller_test_day() -> int:
    return 9 + 8 + 1 + 1  # conditioning (9 days incl. pre), post, 8 exposures, ext test, test


def _extinguished() -> bool:
    days, g = mueller_probe()
    rats = np.flatnonzero(g == 1)
    pre, _ = _zone(days, 0, rats)
    ext, _ = _zone(days, _mueller_test_day() - 1, rats)
    return not cpp_present(ext, pre)


@functools.lru_cache(maxsize=1)
def bardo_probe():
    """One IV morphine pairing (8 mg/kg, 30 min): alone, with naloxone 2 mg/kg IV, or at 29 min."""
    groups = [
        (12, _cpp_schedule("morphine", "iv", 8.0, 1, 30) + [_test()]),
        (12, _cpp_schedule("morphine", "iv", 8.0, 1, 30, antagonist=2.0) + [_test()]),
        (12, _cpp_schedule("morphine", "iv", 8.0, 1, 30, delay_min=29.0) + [_test()]),
    ]
    return run_groups(groups, pairs=[("morphine", "iv"), ("naloxone", "iv")])


def _bardo() -> float:
    days, g = bardo_probe()
    ok = []
    for k in range(3):
        rats = np.flatnonzero(g == k)
        pre, _ = _zone(days, 0, rats)
        post, _ = _zone(days, 3, rats)
        ok.append(cpp_present(post, pre))
    return float(ok[0] and not ok[1] and not ok[2])


_MOUSE = (
    "Not modelled: the model has rat and human parameter sets only; a mouse CPP (OF1 mice, "
    "IP morphine) needs mouse pharmacokinetics and is not simulated with rat numbers."
)


CHECKS: tuple[Check, ...] = (
    Check(
        "cpp_magnitude_range_blander",
        "calibrated",
        _cpp_percent,
        lambda m, t: t.low <= m <= t.high,
        "inside the reported range",
        "%",
        "Percent change of the group mean drug-side time, post- vs pre-test, after four 45-min "
        "pairings of morphine 5 mg/kg s.c. (40 rats).",
    ),
    Check(
        "cpp_rat_persistence_mueller",
        "validation",
        _persistence_weeks,
        lambda m, t: m >= t.value,
        "CPP (paired t-test p < 0.05 vs pre-test) in every 2-weekly test up to 12 weeks",
        "week",
    ),
    Check(
        "cpp_rat_prime_threshold_mueller",
        "validation",
        _prime_threshold_mg,
        lambda m, t: 0.5 < m <= 2.5 and _extinguished(),
        "lowest effective prime above 0.5 and at most 2.5 mg/kg, after extinction abolished CPP",
        "mg/kg",
        "Extinction: four 45-min drug-free exposures of each side; a prime reinstates when the "
        "drug-side share of the 30-min test exceeds the pre-test share (paired t-test p < 0.05).",
    ),
    Check(
        "cpp_single_trial_bardo",
        "validation",
        _bardo,
        is_true,
        "CPP after one pairing; none with naloxone, none with morphine at 29 of 30 min",
        "",
    ),
    Check(
        "cpp_mouse_threshold_dose",
        "not modelled",
        not_modelled,
        never,
        "not computable",
        "mg/kg",
        _MOUSE,
        explained=True,
    ),
    Check(
        "cpp_mouse_persistence_dose",
        "not modelled",
        not_modelled,
        never,
        "not computable",
        "",
        _MOUSE,
        explained=True,
    ),
)
