"""Calibration checks of tolerance: doses over a using career, and respiration on methadone.

Daily heroin doses of regular users and the difference of euphoric and
respiratory tolerance come from the long-term life-course probe
(:mod:`neuroadapt.evidence.longterm_probe`); the methadone chemoreflex and
ventilation and the potency of routes are computed with the engine on the
typical subject (:mod:`neuroadapt.evidence.probes`).
"""

from __future__ import annotations

from neuroadapt.evidence import probes as P
from neuroadapt.evidence.checks import Check, at_most, between, holds, is_true, within, within_abs
from neuroadapt.evidence.longterm_probe import USE_END_D, needs, probe_check, probe_dataset
from neuroadapt.evidence.longterm_quantities import (
    euphoric_tolerance_exceeds_respiratory,
    max_daily_dose,
    median_daily_dose,
)

CHECKS: tuple[Check, ...] = (
    # ------------------------------------------------------------ tolerance
    probe_check(
        "tol_hat_daily_dose_swiss",
        lambda: median_daily_dose(probe_dataset(), USE_END_D - 365.0, USE_END_D),
        between(250.0, 900.0),
        "500-600 mg/day ± 50 % (250-900): median over users of their mean daily heroin in "
        "regular use in year 10",
        "mg/day",
        "Too low (under 100 mg a day): the escalation exponent fitted to non-fatal overdose "
        "(0.21) keeps doses close to the incomplete respiratory tolerance, so the median user "
        "takes less than a fifth of the Swiss dose after years; prescribed heroin in the "
        "Swiss trials was free, supervised and pure, and its patients were selected "
        "long-term users (the primary cohort's mean is 474 mg/day "
        "IV, PMID:14665805).",
    ),
    probe_check(
        "tol_hat_max_dose_dutch",
        lambda: max_daily_dose(probe_dataset(), 0.0, USE_END_D),
        at_most(1000.0),
        "≤ 1000 mg/day (highest 30-day mean daily heroin of any user in years 1-10)",
        "mg/day",
        "Validation, not an input: dose_max (150 mg per use) is an assumption from Dublin "
        "street use, not from Blanken 2005.",
        explained=False,
    ),
    Check(
        "tol_hcvr_ratio_mmt_teichtahl",
        "validation",
        lambda: P.methadone_co2_response_ratio(P.params("human")),
        within_abs(0.15),
        "±0.15 (chemoreflex slope on day 28 of oral methadone 80 mg/day, mean of 0-4 h after "
        "the dose, over a drug-free person's; a ratio of 1 must fail, as p = 0.01)",
        "fold",
        "Too strong a depression: respiratory tolerance in the model is a partial right-shift "
        "(resp_tolerance_gain) of the same AC superactivation, so 80 mg/day still takes most "
        "of the chemoreflex slope; stable methadone patients keep three quarters of it.",
        explained=True,
    ),
    Check(
        "tol_resp_tolerance_mmt",
        "validation",
        lambda: (lambda f: float(f[1] < 0.5 * f[0]))(
            P.methadone_ventilation_falls(P.params("human"))
        ),
        is_true,
        "the fall of ventilation after the day-28 dose of oral methadone 60 mg/day is less "
        "than half that after a single 10 mg dose (an analgesic dose) in a drug-free person",
        "",
        "Fails: the maintained person's daily 60 mg still lowers ventilation by about as much "
        "as 10 mg does in a drug-free person (about 5 % of rest each), where the study saw no "
        "change. Respiratory tolerance is a partial right-shift (resp_tolerance_gain) of the "
        "euphoric one; see tol_hcvr_ratio_mmt_teichtahl.",
        explained=True,
    ),
    probe_check(
        "tol_differential_euphoria_resp",
        needs(lambda: euphoric_tolerance_exceeds_respiratory(probe_dataset(), USE_END_D)),
        holds,
        "median euphoric right-shift above the respiratory one in regular users at year 10",
        "",
        "Median over users of the share of records in regular use where the respiratory "
        "shift (tolerance_respiratory) is below the euphoric one (tolerance_euphoric): the "
        "circuit-level component (model.tolerance) acts on euphoria only and the receptor "
        "level on respiration by a fifth.",
    ),
    Check(
        "tol_iv_in_potency_comer",
        "validation",
        lambda: P.route_potency_ratio(P.params("human"), "intranasal", "iv"),
        within(0.5),
        "±50 % (intranasal heroin dose matching the 0-6 h agonist occupancy of 5 mg IV, over 5)",
        "fold",
        "Below the reported 4-fold: the model's intranasal bioavailability and absorption "
        "(f_heroin_intranasal, ka) set the ratio; Comer measured potency by breakpoints in "
        "morphine-maintained users, where the brief IV peak counts more than the area.",
        explained=True,
    ),
)
