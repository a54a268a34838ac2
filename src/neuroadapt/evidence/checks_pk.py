"""Calibration checks of pharmacokinetics: heroin, its metabolites, morphine and naloxone.

Each check runs the engine on the typical subject (human or rat parameter set)
with a scheduled regimen through :mod:`neuroadapt.evidence.probes` and reads
one number off the result: half-lives, clearances, bioavailabilities and
potency ratios of routes, the time to peak in the brain, the order of brain
uptake. The receptor, signalling and respiration checks are in
:mod:`.checks_pharmacology`.
"""

from __future__ import annotations

import math

import numpy as np

from neuroadapt.evidence import probes as P
from neuroadapt.evidence.checks import Check, at_most, in_range, is_true, parameter_value, within
from neuroadapt.model.dose import Dose


def _hp():
    return P.params("human")


def _rp():
    return P.params("rat")


# --------------------------------------------------------------------------- PK
def _heroin_t_half() -> float:
    p = _hp()
    t = P.minute_grid(1.0, 0.1)
    ds = P.run(p, [Dose(0.0, "heroin", "iv", 20.0)], t)
    return 60.0 * P.terminal_half_life(t, ds.conc_heroin.values, 5 / 60, 20 / 60)


def _6mam_t_half() -> float:
    p = _hp()
    t = P.minute_grid(4.0, 1.0)
    ds = P.run(p, [Dose(0.0, "heroin", "iv", 20.0)], t)
    return 60.0 * P.terminal_half_life(t, ds.conc_6mam.values, 1.0, 3.0)


def _morphine_t_half() -> float:
    p = _hp()
    t = P.minute_grid(12.0, 5.0)
    ds = P.run(p, [Dose(0.0, "morphine", "iv", 10.0)], t)
    return P.terminal_half_life(t, ds.conc_morphine.values, 2.0, 12.0)


def _glucuronide_t_half(species: str, hours: float) -> float:
    p = _hp()
    t = P.minute_grid(hours, 10.0)
    ds = P.run(p, [Dose(0.0, "morphine", "iv", 10.0)], t)
    return P.terminal_half_life(t, ds[f"conc_{species}"].values, hours * 0.6, hours)


def _morphine_clearance() -> float:
    p = _hp()
    t = P.minute_grid(48.0, 5.0)
    ds = P.run(p, [Dose(0.0, "morphine", "iv", 10.0)], t)
    dose_umol = 10.0 / p["mw_morphine"] * 1000.0
    return dose_umol / (P.auc(t, ds.conc_morphine.values) / 1000.0)  # L/h


def _route_auc_ratio(route: str, ref_route: str, species: str = "heroin", drug="heroin") -> float:
    p = _hp()
    t = P.minute_grid(3.0, 0.25)
    a = P.auc(t, P.run(p, [Dose(0.0, drug, route, 20.0)], t)[f"conc_{species}"].values)
    b = P.auc(t, P.run(p, [Dose(0.0, drug, ref_route, 20.0)], t)[f"conc_{species}"].values)
    return a / b


def _oral_heroin_vs_oral_morphine() -> float:
    p = _hp()
    t = P.minute_grid(48.0, 5.0)
    a = P.auc(t, P.run(p, [Dose(0.0, "heroin", "oral", 20.0)], t).conc_morphine.values)
    b = P.auc(t, P.run(p, [Dose(0.0, "morphine", "oral", 20.0)], t).conc_morphine.values)
    return a / b


def _oral_heroin_absolute_f() -> float:
    p = _hp()
    t = P.minute_grid(48.0, 5.0)
    a = P.auc(t, P.run(p, [Dose(0.0, "heroin", "oral", 20.0)], t).conc_morphine.values)
    mg_morphine = 20.0 / p["mw_heroin"] * p["mw_morphine"]
    b = P.auc(t, P.run(p, [Dose(0.0, "morphine", "iv", mg_morphine)], t).conc_morphine.values)
    return 100.0 * a / b


def _intranasal_tmax() -> float:
    p = _hp()
    t = P.minute_grid(0.5, 0.1)
    return 60.0 * P.tmax(
        t, P.run(p, [Dose(0.0, "heroin", "intranasal", 12.0)], t).conc_heroin.values
    )


def _naloxone_clearance() -> float:
    p = _hp()
    t = P.minute_grid(24.0, 2.0)
    ds = P.run(p, [Dose(0.0, "naloxone", "iv", 2.0)], t)
    return (2.0 / p["mw_naloxone"] * 1000.0) / (P.auc(t, ds.conc_naloxone.values) / 1000.0)


def _rat_ecf_tmax(species: str) -> float:
    p = _rp()
    t = P.minute_grid(1.5, 0.1)
    ds = P.run(p, [Dose(0.0, "heroin", "iv", 0.3, unit="mg/kg")], t)
    return 60.0 * P.tmax(t, ds[f"pk_{species}_brain"].values)


def _rat_crossover() -> float:
    p = _rp()
    t = P.minute_grid(3.0, 0.25)
    ds = P.run(p, [Dose(0.0, "heroin", "iv", 0.3, unit="mg/kg")], t)
    cross = np.nonzero((t > 5 / 60) & (ds.pk_morphine_brain.values > ds.pk_6mam_brain.values))[0]
    return 60.0 * t[cross[0]] if len(cross) else math.inf


def _uptake_order() -> float:
    p = _rp()
    return float(p["t_half_ke0_heroin"] < p["t_half_ke0_methadone"] < p["t_half_ke0_morphine"])


CHECKS: tuple[Check, ...] = (
    Check(
        "pk_heroin_thalf_rook",
        "conflict",
        _heroin_t_half,
        within(0.2),
        "±20 %",
        "min",
        "Position: elimination half-life 3 min after IV heroin (Inturrisi 1984; consistent "
        "with Gyr 2000 and the 2-6 min clinical range). Rook's 7.6 min is the terminal phase "
        "of a two-compartment fit in a population of mostly inhalers, which includes "
        "redistribution and pulmonary absorption; the one-compartment model cannot hold both.",
        explained=True,
    ),
    Check("pk_6mam_thalf_rook", "input", _6mam_t_half, within(0.1), "±10 %", "min"),
    Check("pk_morphine_cl_rook", "input", _morphine_clearance, within(0.1), "±10 %", "L/h"),
    Check(
        "pk_heroin_f_inhaled_rook",
        "input",
        lambda: 100 * _route_auc_ratio("smoked", "iv"),
        within(0.1),
        "±10 %",
        "%",
    ),
    Check("pk_heroin_thalf_iv_inturrisi", "input", _heroin_t_half, within(0.15), "±15 %", "min"),
    Check(
        "pk_oral_heroin_morphine_ratio_inturrisi",
        "conflict",
        _oral_heroin_vs_oral_morphine,
        within(0.25),
        "±25 %",
        "fraction",
        "Position: absolute morphine bioavailability from oral heroin 56-67 % (Halbsguth "
        "2008; Girardin 2003, high-dose heroin-assisted treatment). With oral morphine F 24 % "
        "(Hoskin 1989) this implies more morphine from oral heroin than from oral morphine; "
        "Inturrisi's low-dose ratio of 0.79 cannot hold at the same time.",
        explained=True,
    ),
    Check(
        "pk_heroin_f_im_girardin",
        "not modelled",
        lambda: 100 * _route_auc_ratio("im", "iv"),
        within(0.3),
        "±30 %",
        "%",
        "A first-order absorption model cannot give a heroin AUC above the IV AUC; Girardin's "
        "380 % reflects slower hydrolysis of heroin absorbed from muscle than of heroin "
        "injected into blood, which a single heroin clearance cannot represent.",
        explained=True,
    ),
    Check(
        "pk_morphine_f_oral_heroin_halbsguth",
        "input",
        _oral_heroin_absolute_f,
        in_range(0.5),
        "reported range ± half its width",
        "%",
    ),
    Check(
        "pk_heroin_tmax_intranasal_cone",
        "calibrated",
        _intranasal_tmax,
        at_most(5.0),
        "≤ 5 min",
        "min",
    ),
    Check(
        "pk_intranasal_im_potency_cone",
        "input",
        lambda: _route_auc_ratio("intranasal", "im"),
        within(0.15),
        "±15 %",
        "ratio",
    ),
    Check("pk_morphine_thalf_iv_stuart", "input", _morphine_t_half, within(0.1), "±10 %", "h"),
    Check(
        "pk_m3g_thalf",
        "input",
        lambda: _glucuronide_t_half("m3g", 72.0),
        within(0.15),
        "±15 %",
        "h",
    ),
    Check(
        "pk_m6g_thalf",
        "input",
        lambda: _glucuronide_t_half("m6g", 48.0),
        in_range(0.5),
        "reported range ± half its width",
        "h",
    ),
    Check("pk_naloxone_cl_dowling", "input", _naloxone_clearance, within(0.1), "±10 %", "L/h"),
    Check(
        "pk_heroin_brain_uptake_oldendorf",
        "validation",
        _uptake_order,
        is_true,
        "heroin equilibrates faster than methadone, methadone faster than morphine",
        "order",
        "The brain uptake index is a single-pass extraction, which the effect-compartment "
        "model does not have; the check is the ranking heroin > methadone > morphine that "
        "Oldendorf reported.",
    ),
    Check(
        "pk_6mam_tmax_ecf_gottas",
        "calibrated",
        lambda: _rat_ecf_tmax("6mam"),
        within(0.2),
        "±20 %",
        "min",
    ),
    Check(
        "pk_morphine_tmax_ecf_gottas",
        "calibrated",
        lambda: _rat_ecf_tmax("morphine"),
        within(0.25),
        "±25 %",
        "min",
    ),
    Check(
        "pk_morphine_6mam_crossover_gottas",
        "validation",
        _rat_crossover,
        lambda m, t: 20.0 <= m <= 90.0,
        "20-90 min",
        "min",
    ),
    Check(
        "pk_heroin_hydrolysis_site_boix",
        "input",
        lambda: 1.0,
        is_true,
        "structural",
        "",
        "Structural: heroin is converted in blood; brain 6-MAM comes from "
        "blood 6-MAM through its own effect site.",
    ),
    Check(
        "pk_morphine_t_half_ke0_dahan",
        "input",
        parameter_value("t_half_ke0_morphine"),
        within(0.05),
        "±5 %",
        "h",
    ),
)
