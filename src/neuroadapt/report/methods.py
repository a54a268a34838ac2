"""The report's methods text: the methods paragraph and the regimen line, from the inputs used.

:func:`methods_paragraph` fills :data:`METHODS_SENTENCES` with the values,
units and citations of the parameter set actually used;
:func:`regimen_text` states the scenario's regimen (or its behaviour model).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from neuroadapt.parameters import ParameterSet
from neuroadapt.report.references import References

__all__ = ["METHODS_SENTENCES", "methods_paragraph", "regimen_text"]

#: Sentences of the methods paragraph; ``{name}`` is value and unit, ``{name:%}`` a percentage.
#: A sentence is left out when the parameter set lacks one of its parameters.
METHODS_SENTENCES: tuple[str, ...] = (
    "Heroin doses (mg of base) entered blood directly when injected intravenously, or from "
    "absorption depots: smoked heroin with a bioavailability of {f_heroin_smoked:%}, intranasal "
    "{f_heroin_intranasal:%} and intramuscular heroin absorbed at {ka_heroin_im}; oral heroin "
    "delivered only morphine, {f_heroin_oral_as_morphine:%} of the dose.",
    "Heroin was deacetylated to 6-monoacetylmorphine (6-MAM) with a half-life of "
    "{t_half_heroin} and a blood clearance of {cl_heroin}; 6-MAM had a half-life of "
    "{t_half_6mam} and a volume of distribution of {v_6mam}, and {frac_6mam_to_morphine:%} of "
    "it formed morphine.",
    "Morphine was cleared at {cl_morphine} with a half-life of {t_half_morphine}; "
    "{frac_morphine_to_m6g:%} of it formed active morphine-6-glucuronide and "
    "{frac_morphine_to_m3g:%} inactive morphine-3-glucuronide.",
    "Each active species reached a brain effect site with an equilibration half-time of "
    "{t_half_ke0_heroin} (heroin), {t_half_ke0_6mam} (6-MAM, brain partition {kp_6mam}) and "
    "{t_half_ke0_morphine} (morphine).",
    "All ligands competed for one population of mu-opioid receptors at equilibrium, with an "
    "in-vivo morphine dissociation constant of {kd_morphine} and dissociation constants "
    "relative to morphine of {affinity_ratio_heroin} (heroin), {affinity_ratio_6mam} (6-MAM) "
    "and {affinity_ratio_naloxone} (naloxone); receptor activation followed the operational "
    "model with efficacies of {efficacy_6mam} (6-MAM) and {efficacy_morphine} (morphine).",
    "Activated receptors inhibited adenylyl cyclase by at most {ac_imax:%}; adenylyl-cyclase "
    "superactivation compensated {ac_gain:%} of the inhibition at steady state, through a fast "
    "component with a half-time of {t_half_ac_fast} and a slow component ({frac_ac_slow:%} of "
    "the total) with a half-time of {t_half_ac_slow}. Tolerance is the resulting right-shift "
    "(1 + U); the cAMP overshoot above the drug-free level when the drug falls is the "
    "withdrawal index.",
    "Agonist occupancy depressed the wakefulness drive ({wake_fraction:%} of resting "
    "ventilation) and the CO2 chemoreflex (normalised CO2 sensitivity {co2_sensitivity}) from "
    "a resting PaCO2 of {paco2_baseline}; respiratory tolerance multiplied the occupancy odds "
    "by 1 + {resp_tolerance_gain} U.",
    "Arterial PO2 followed ventilation with a time constant of {tau_o2}; an overdose episode "
    "began when PaO2 fell below {pao2_overdose}, and cardiac arrest followed when PaO2 stayed "
    "below {pao2_arrest} for {arrest_delay}.",
    "Naloxone had a half-life of {t_half_naloxone} and an intramuscular bioavailability of "
    "{f_naloxone_im:%}.",
)
_PLACEHOLDER = re.compile(r"\{(\w+)(:%)?\}")


def _value_text(row: Mapping[str, Any], percent: bool) -> str:
    value = float(row["value"])
    unit = str(row["unit"])
    if percent:
        return f"{100 * value:.3g}%"
    if unit in ("dimensionless", "1", ""):
        return f"{value:.3g}"
    return f"{value:.3g} {unit}"


def methods_paragraph(
    params: ParameterSet, refs: References, variability: float | None = None
) -> list[str]:
    """Sentences of the methods paragraph, built from the parameters used, with citations.

    Parameters
    ----------
    params
        The parameter set used (values, units and sources are read from it).
    refs
        Reference list that receives the sources; citation markers refer to it.
    variability
        Scale on inter-individual variability used for the cohort, if any.
    """
    rows = {r["name"]: r for r in params.to_rows()}
    out = []
    for template in METHODS_SENTENCES:
        names = [m.group(1) for m in _PLACEHOLDER.finditer(template)]
        if not all(n in rows for n in names):
            continue

        def fill(m: re.Match) -> str:
            row = rows[m.group(1)]
            marker = refs.marker(str(row["source"]), m.group(1))
            return _value_text(row, bool(m.group(2))) + (f" {marker}" if marker else "")

        out.append(_PLACEHOLDER.sub(fill, template))
    if variability is not None:
        out.append(
            "Each parameter varied log-normally between subjects with its tabulated coefficient "
            f"of variation scaled by {variability:g}, clipped to its plausible range."
        )
    out.append(
        "Linear pharmacokinetics were solved in closed form between doses; receptor, cAMP and "
        "respiratory read-outs were evaluated from the closed-form concentrations, and slow "
        "adaptation states were advanced on a coarser clock driven by exposure integrals."
    )
    return out


def regimen_text(scenario: Any) -> str:
    """The scenario's regimen, or a summary of its [behaviour] table."""
    b = getattr(scenario, "behaviour", None)
    if b is not None:
        return (
            f"decided by each person (behaviour model): {b.route}, starting at "
            f"{b.start_dose_mg:g} mg per use; use {b.use}, then {b.abstinent_fraction:.0%} "
            f"detoxified ({b.detox}) and followed for {b.follow_up}"
        )
    return str(getattr(scenario, "regimen", "") or "")
