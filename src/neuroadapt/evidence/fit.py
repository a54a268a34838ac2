"""Re-derive every parameter marked ``fitted`` in the table from its target.

``neuroadapt calibrate --refit`` prints the tabulated and the re-fitted value
of each; a test checks they agree, so the table cannot drift from its
stated calibration. Each fit is one-dimensional (root finding on the probe
that the calibration table uses), and fits run in an order in which later
ones see earlier results.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from neuroadapt.evidence import probes as P
from neuroadapt.evidence.targets import load_targets
from neuroadapt.model import mortality as M
from neuroadapt.model.dose import Dose
from neuroadapt.model.respiration import paco2
from neuroadapt.parameters import ParameterSet
from neuroadapt.parameters.life_table import load_life_table
from neuroadapt.scenarios import load_scenario


@dataclass(frozen=True)
class Fit:
    """Fitted parameters, their targets, and the probe that maps parameters to model values."""

    parameters: tuple[str, ...]
    species: str
    targets: tuple[str, ...]
    values: tuple[float, ...]
    probe: Callable[[ParameterSet], tuple[float, ...]]


def _rat_gottas_tmax_min(p: ParameterSet) -> tuple[float, ...]:
    """Blood 6-MAM, blood morphine, ECF 6-MAM and ECF morphine Tmax (min) after IV heroin."""
    t = P.minute_grid(1.5, 0.05)
    ds = P.run(p, [Dose(0.0, "heroin", "iv", 0.3, unit="mg/kg")], t)
    keys = ("conc_6mam", "conc_morphine", "pk_6mam_brain", "pk_morphine_brain")
    return tuple(60.0 * P.tmax(t, ds[k].values) for k in keys)


def _naloxone_im_tmax_h(p: ParameterSet) -> tuple[float, ...]:
    t = P.minute_grid(2.0, 0.05)
    ds = P.run(p, [Dose(0.0, "naloxone", "im", 0.4)], t)
    return (P.tmax(t, ds.conc_naloxone.values),)


def _baseline_pao2(p: ParameterSet) -> tuple[float, ...]:
    pa_o2 = (
        p["fio2"] * (p["p_barometric"] - p["p_water"])
        - paco2(1.0, p["paco2_baseline"]) / p["resp_quotient"]
    )
    return (pa_o2 - p["aa_gradient"],)


@functools.lru_cache(maxsize=1)
def _reference_background_per_year() -> float:
    """General-population deaths per person-year in the reference group of the fit below.

    The reference group is the shipped default cohort, read from its scenario:
    its mean age half-way through its years of use (28 + 5 = 33 years) and
    its share of women (0.3).
    """
    sc = load_scenario("default")
    use_years = round(sc.behaviour.days()[0] / M.DAYS_PER_YEAR)  # "10y" is 3652 days
    age = np.full(2, sc.cohort.age_years_mean + use_years / 2.0)
    female = sc.cohort.female_fraction
    mu = M.background_hazard(load_life_table(), age, np.array([0.0, 1.0])) * M.DAYS_PER_YEAR
    return float((1.0 - female) * mu[0] + female * mu[1])


def _non_overdose_mortality_per_1000py(p: ParameterSet) -> tuple[float, ...]:
    """Non-overdose deaths per 1000 PY while using, in the reference group (closed form)."""
    return (1000.0 * _reference_background_per_year() * (1.0 + p["mortality_excess_using"]),)


def _non_overdose_target_per_1000py() -> float:
    """Degenhardt 2011's all-cause rate times the share of NTORS deaths not due to overdose."""
    t = load_targets()
    cmr = t["cli_cmr_opioid_degenhardt"].value  # per 100 PY
    od_share = t["cli_od_share_deaths_ntors"].value / 100.0
    return 10.0 * cmr * (1.0 - od_share)


FITS: tuple[Fit, ...] = (
    Fit(("aa_gradient",), "human", ("resp_baseline_pao2_mann",), (95.0,), _baseline_pao2),
    Fit(
        ("t_half_heroin", "t_half_6mam", "t_half_ke0_6mam", "t_half_ke0_morphine"),
        "rat",
        (
            "Gottas 2013 blood 6-MAM Tmax",
            "Gottas 2013 blood morphine Tmax",
            "pk_6mam_tmax_ecf_gottas",
            "pk_morphine_tmax_ecf_gottas",
        ),
        (2.0, 12.6, 4.3, 21.3),
        _rat_gottas_tmax_min,
    ),
    Fit(
        ("affinity_ratio_naloxone",),
        "human",
        ("rec_naloxone_occupancy_2mg_in_johansson",),
        (67.0,),
        lambda p: (P.naloxone_peak_occupancy(p, 2.0),),
    ),
    Fit(
        ("ka_naloxone_im",),
        "human",
        ("NARCAN label: IM naloxone Tmax 0.5 h",),
        (0.5,),
        _naloxone_im_tmax_h,
    ),
    Fit(
        ("mortality_excess_using",),
        "human",
        ("cli_cmr_opioid_degenhardt x (1 - cli_od_share_deaths_ntors)",),
        (_non_overdose_target_per_1000py(),),
        _non_overdose_mortality_per_1000py,
    ),
)


def refit(fits: tuple[Fit, ...] = FITS) -> list[dict[str, object]]:
    """Fit each group (least squares on log parameters within bounds).

    Returns one row per parameter: table value, re-fitted value (internal
    units) and the residual model values of its group.
    """
    rows: list[dict[str, object]] = []
    for f in fits:
        base = P.params(f.species)
        spec = [base.params[k] for k in f.parameters]
        lo = np.log([q.lower for q in spec])
        hi = np.log([q.upper for q in spec])
        x0 = np.clip(np.log([q.value for q in spec]), lo + 1e-9, hi - 1e-9)
        target = np.asarray(f.values)

        def resid(
            x: np.ndarray, f: Fit = f, base: ParameterSet = base, target: np.ndarray = target
        ) -> np.ndarray:
            vals = dict(zip(f.parameters, np.exp(x), strict=True))
            return (np.asarray(f.probe(base.with_values(**vals))) - target) / target

        sol = least_squares(resid, x0, bounds=(lo, hi), diff_step=0.02, xtol=1e-8)
        model = np.asarray(
            f.probe(base.with_values(**dict(zip(f.parameters, np.exp(sol.x), strict=True))))
        )
        for k, q, x in zip(f.parameters, spec, np.exp(sol.x), strict=True):
            rows.append(
                {
                    "parameter": k,
                    "species": f.species,
                    "targets": "; ".join(f.targets),
                    "table": q.value,
                    "fitted": float(x),
                    "target_values": list(f.values),
                    "model_values": [round(float(v), 4) for v in model],
                }
            )
    return rows
