"""The text of the report's section "What this model cannot do" — edit it here, and only here.

One sentence per item. Every report shows :data:`DEFAULT_LIMITATIONS`, then
:data:`LIFECOURSE_LIMITATIONS` for scenarios whose people decide their own
use ([behaviour] table) or :data:`SCHEDULED_LIMITATIONS` for scenarios with a
regimen (:func:`neuroadapt.report.html.render_report` chooses; its
``limitations`` argument replaces all of them). The template renders each
item as one bullet; nothing else in the report writes into this section.
"""

from __future__ import annotations

__all__ = ["DEFAULT_LIMITATIONS", "LIFECOURSE_LIMITATIONS", "SCHEDULED_LIMITATIONS"]

# ---------------------------------------------------------------- editable text starts
DEFAULT_LIMITATIONS: tuple[str, ...] = (
    "Receptor binding is at equilibrium with the effect-site concentration (no explicit "
    "association and dissociation kinetics; buprenorphine's slow dissociation is an "
    "effect-site delay).",
    "Every drug and metabolite is one-compartment (heroin, 6-MAM and morphine are fitted in "
    "the literature with two compartments); brain entry is an effect compartment, not a "
    "physiological blood-brain barrier model.",
    "CO2 is quasi-steady (PaCO2 follows ventilation instantly); only PaO2 has a lag.",
    "Cardiac arrest is a threshold rule (PaO2 below a level for a fixed time), not a "
    "cardiovascular model; hypoxic brain injury is an event rule driven by daily minutes of "
    "hypoxia, not a model of cerebral perfusion.",
    "Tolerance is one mechanism (adenylyl-cyclase superactivation with two time constants); "
    "receptor desensitisation, internalisation and down-regulation are not modelled.",
    "Gray-matter loss has a fast component that appears within weeks of starting use and "
    "then grows with the years of use; human studies relate loss to duration only over "
    "years, so this early step is not checked against data.",
    "Several parameters come from rats, dogs or cells and are used for humans where the "
    "parameter table says so; many are stated assumptions (listed under Assumptions).",
    "Inter-individual variability is log-normal and independent between parameters (no "
    "covariance, no covariates other than body weight).",
)

#: Added for scenarios with a regimen (doses on a schedule).
SCHEDULED_LIMITATIONS: tuple[str, ...] = (
    "Doses follow the scenario's regimen: the virtual person does not decide, so craving, "
    "anhedonia and negative affect do not feed back on use (scenarios with a [behaviour] "
    "table simulate that).",
    "The brain scales (dopamine, glutamate, neuroinflammation, affect, structure, white "
    "matter, cognition) run on a daily clock driven by daily exposure integrals of the fast "
    "layer; in scheduled runs they exist only for runs recorded every day.",
)

#: Added for life courses (people who decide their own use).
LIFECOURSE_LIMITATIONS: tuple[str, ...] = (
    "Use decisions follow a few rules (dose titrated to tolerance and the hedonic deficit, "
    "a lapse hazard in the urge to use, relapse as 3 use days in 7); the three lapse-hazard "
    "parameters are fitted to the lapse incidence after detoxification (Ducray), which is "
    "therefore a calibrated target, not a validation.",
    "Tolerance is shallow (about a 1.5-fold right shift), so overdoses after lost tolerance "
    "are several times more frequent than in people who keep using but rarely fatal: deaths "
    "after detoxification (Strang 2003) are not reproduced.",
    "Deaths from other causes are a hazard on a general-population life table (United "
    "States 2019, by age and sex) times an excess while using, fitted to the non-overdose "
    "part of the pooled mortality of opioid users (Degenhardt 2011 times the NTORS share; a "
    "calibrated target), and an assumed smaller excess after stopping; the excess does not "
    "depend on route, infections, years of use or treatment.",
    "Overdose deaths of people who keep using are far rarer than in cohorts (NTORS: 68 % of "
    "deaths were overdoses), so all-cause mortality falls short of the published figure of "
    "about 20 per 1,000 person-years (the calibration table gives the numbers).",
    "The dose a person uses does not change their risk of relapse (Smyth 2010 reports an "
    "odds ratio of 2.2).",
)
# ---------------------------------------------------------------- editable text ends
