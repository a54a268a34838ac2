"""The report of a simulated imaging study (``neuroadapt imaging simulate``).

It shows the PET and fMRI read-outs of :func:`neuroadapt.imaging.study.image_cohort`
by group, and the ground truth that was put into the gray-matter maps.
"""

from __future__ import annotations

from pathlib import Path

from neuroadapt.imaging.roi import compare_groups
from neuroadapt.imaging.study import ImagingStudy
from neuroadapt.report.imaging import Readout, build_imaging_report

__all__ = ["study_report"]

ANCOVA = "users vs controls by ANCOVA (age, sex, TIV), Holm-corrected"


def study_report(study: ImagingStudy, path: str | Path) -> Path:
    """Write the HTML report of an imaging study; returns its path."""
    sc, participants, groups = study.scenario, study.participants, study.groups
    return build_imaging_report(
        Path(path),
        title=f"simulated imaging study of scenario '{sc.name}' at {study.when} (seed {sc.seed})",
        readouts=[
            Readout(
                "PET: D2/D3 BP_ND (simplified reference tissue model)",
                study.pet,
                groups,
                compare_groups(study.pet, participants),
                "PET: BP_ND per striatal region from a simulated SRTM scan with noise, "
                f"estimated by the basis-function method; {ANCOVA}.",
                "BP_ND",
            ),
            Readout(
                "fMRI: drug cue > neutral (canonical HRF block design)",
                study.fmri,
                groups,
                compare_groups(study.fmri, participants, relative=False),
                "fMRI: drug-cue > neutral contrast estimates (percent signal change) per "
                f"region from a simulated block design (canonical HRF, AR(1) noise); {ANCOVA}; "
                "differences in percent signal change (not in percent of the controls' mean, "
                "which is near zero).",
                "contrast (% signal change)",
            ),
        ],
        extra=[
            (
                "Ground truth: mean regional GM change (%) by group",
                study.truth(),
                f"Ground truth: the model's regional gray-matter change at {study.when} that "
                "was put into the maps (percent of a matched control).",
            )
        ],
        truth_change=(study.change, participants),
    )
