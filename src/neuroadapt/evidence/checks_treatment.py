"""Calibration checks of treatment: maintenance, antagonists, naloxone programmes.

Treatment trials need treatments inside life courses (issue 13), which the
model does not have yet: they are reported as not modelled, with no value.
Buprenorphine receptor occupancy is computed with the engine on the typical
subject under a scheduled regimen (:mod:`neuroadapt.evidence.probes`).
"""

from __future__ import annotations

from neuroadapt.evidence import probes as P
from neuroadapt.evidence.checks import Check, within_abs
from neuroadapt.evidence.longterm_probe import not_modelled_check, treatment_check

CHECKS: tuple[Check, ...] = (
    # ------------------------------------------------------------ treatment
    treatment_check("trt_xbot_relapse_itt_xrntx", "%"),
    treatment_check("trt_xbot_relapse_itt_bup", "%"),
    treatment_check("trt_xbot_relapse_pp_xrntx", "%"),
    treatment_check("trt_xbot_relapse_pp_bup", "%"),
    treatment_check("trt_xbot_induction_failure_xrntx", "%"),
    treatment_check("trt_xbot_induction_failure_bup", "%"),
    treatment_check("trt_bup_retention_low_mattick", "RR"),
    treatment_check("trt_bup_retention_med_mattick", "RR"),
    treatment_check("trt_bup_retention_high_mattick", "RR"),
    treatment_check("trt_bup_high_urine_smd_mattick", "SMD"),
    treatment_check("trt_bup_vs_mmt_retention_mattick", "RR"),
    treatment_check("trt_methadone_high_dose_retention_faggiano", "RR"),
    not_modelled_check(
        "trt_mmt_below_80mg_share",
        "%",
        "Not modelled: a prescribing practice of US programmes, not a consequence of the model.",
    ),
    Check(
        "trt_bup_occupancy_2mg_greenwald",
        "validation",
        lambda: P.buprenorphine_occupancy(P.params("human"), 2.0),
        within_abs(16.0),
        "±16 percentage points (2 SEM): occupancy 4 h after the 14th daily sublingual dose",
        "%",
    ),
    Check(
        "trt_bup_occupancy_16mg_greenwald",
        "validation",
        lambda: P.buprenorphine_occupancy(P.params("human"), 16.0),
        within_abs(4.0),
        "±4 percentage points (2 SEM): occupancy 4 h after the 14th daily sublingual dose",
        "%",
        "Above the whole-brain figure: the model gives receptor occupancy, while a whole-brain "
        "PET average is diluted by non-specific binding and partial volume; Greenwald's "
        "regions reached 94-98 % at 32 mg.",
        explained=True,
    ),
    Check(
        "trt_bup_occupancy_32mg_greenwald",
        "validation",
        lambda: P.buprenorphine_occupancy(P.params("human"), 32.0),
        within_abs(4.0),
        "±4 percentage points (2 SEM): occupancy 4 h after the 14th daily sublingual dose",
        "%",
        "Above the whole-brain figure, inside the 94-98 % of Greenwald's regions of interest "
        "(the whole-brain average is diluted by non-specific binding and partial volume).",
        explained=True,
    ),
    not_modelled_check(
        "trt_bup_withdrawal_availability_greenwald",
        "% availability",
        "Not modelled: withdrawal suppression on buprenorphine needs induction of a dependent "
        "person onto buprenorphine (a treatment in the life course, issue 13).",
    ),
    treatment_check("trt_xrntx_abstinence_krupitsky", "%"),
    treatment_check(
        "trt_placebo_abstinence_krupitsky",
        "%",
        "The detoxified arm is the closest analogue (see cli_abstinent_2_3yr_smyth), but "
        "weekly urine-confirmed abstinence and trial dropout are not recorded.",
    ),
    treatment_check("trt_lapse_dropout_hr_placebo", "HR"),
    treatment_check("trt_ntx_implant_retention_krupitsky", "%"),
    treatment_check("trt_hat_retention_naomi", "%"),
    treatment_check("trt_mmt_retention_naomi", "%"),
    treatment_check("trt_hat_retention_german", "%"),
    treatment_check("trt_mmt_retention_german", "%"),
    treatment_check("trt_riott_negative_urine_heroin", "%"),
    treatment_check("trt_riott_negative_urine_oral", "%"),
    treatment_check("trt_hat_retention_rr_ferri", "RR"),
    treatment_check("trt_hat_mortality_swiss", "%/year"),
    not_modelled_check(
        "trt_naloxone_high_rr_walley",
        "RR",
        "Not modelled: needs the bystander naloxone probability as a function of programme "
        "enrolment per 100,000, which no source gives; the life course takes a fixed rescue "
        "probability.",
    ),
    not_modelled_check(
        "trt_naloxone_low_rr_walley",
        "RR",
        "Not modelled: as trt_naloxone_high_rr_walley (enrolment-to-rescue mapping unknown).",
    ),
    not_modelled_check(
        "trt_ibudilast_liking_metz",
        "",
        "Not modelled: ibudilast (a glial attenuator) is not a drug of the model.",
    ),
    not_modelled_check(
        "trt_nac_mmt_depression",
        "",
        "Not modelled: N-acetylcysteine on methadone needs both treatments in the life course "
        "(issue 13) and a depression score.",
    ),
)
