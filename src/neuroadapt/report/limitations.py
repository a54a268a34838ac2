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
    "Tolerance has three components (adenylyl-cyclase superactivation, receptor-level and "
    "circuit-level adaptation) with linear kinetics; their half-times and gains are stated "
    "assumptions, not fitted to human tolerance curves, and in scheduled regimens the "
    "receptor and circuit components are recorded but do not act on the pharmacology.",
    "Gray-matter loss has a reversible component built over months (half-time 180 days) "
    "and a slow one that grows with the years of use; human studies relate loss to duration "
    "only over years, so the first year's loss (about 4 % averaged over regions, 0.4 % in the "
    "first month) is not checked "
    "against longitudinal data; inflammation, negative affect and GLT-1 still reach their "
    "plateau within months of use for lack of duration data with magnitudes.",
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
    "Use decisions follow a few rules (dose titrated to the tolerance to euphoria and the "
    "hedonic deficit, a lapse hazard in the urge to use, relapse as 3 use days in 7, a "
    "constant hazard of stopping after the planned use); the lapse and stopping parameters "
    "and the escalation exponent are fitted to lapse and abstinence after detoxification "
    "(Smyth, Ducray) and to the yearly share of users with a non-fatal overdose (Colledge), "
    "which are therefore calibrated targets, not validations. Regular users do not stop "
    "during the planned years of use; after them they stop with a constant hazard, so deaths "
    "after stopping (lapses on lost tolerance) appear only from then on.",
    "A single deep overdose is fatal through one threshold: below a PaO2 of 28 mmHg "
    "(pao2_hypoxic_depression) brain hypoxia depresses breathing further until a rescuer "
    "gives naloxone or the heart stops. The threshold is the same for everyone and is fitted "
    "to the case fatality of overdose (about 5 %), which is therefore a calibrated target. "
    "Cardiac and hypoxic tolerance do not vary between people, and the caution after a "
    "survived overdose (doses 40 % smaller per recent overdose, halving every 180 days) is "
    "the same for everyone. Its form is an assumption and its two numbers are fitted to the "
    "all-cause mortality of regular opioid users (Degenhardt 2011), which is therefore a "
    "calibrated target; nothing else (treatment entry, a change of route, using with "
    "others) follows an overdose.",
    "The first year of use has a higher death rate than later years: the most sensitive "
    "people die as doses escalate faster than their respiratory tolerance; whether cohorts "
    "show such an early peak is not checked.",
    "Long-term doses stay well below heroin-assisted treatment (under 100 mg against about "
    "500 mg a day): respiratory tolerance stays incomplete, and only a small escalation keeps "
    "overdose in the published range.",
    "Co-use of benzodiazepines or alcohol is a fixed trait with a constant weaker chemoreflex, "
    "not days of co-use; fentanyl adulteration is a share of batches with one fixed content, "
    "and the fentanyl content of street heroin is an assumption.",
    "Deaths from other causes are a hazard on a general-population life table (United "
    "States 2019, by age and sex) times an excess while using, fitted to the non-overdose "
    "part of the pooled mortality of opioid users (Degenhardt 2011 times the NTORS share; a "
    "calibrated target), and an assumed smaller excess after stopping; the excess does not "
    "depend on route, infections, years of use or treatment.",
    "Treatments (methadone, buprenorphine, naltrexone, heroin-assisted treatment, naloxone "
    "programmes) do not act in life courses yet, so treatment-trial and in/out-of-treatment "
    "mortality targets are not modelled.",
)
# ---------------------------------------------------------------- editable text ends
