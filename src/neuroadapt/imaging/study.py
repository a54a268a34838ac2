"""An imaging study of a simulated cohort: who is scanned when, and the files a scanner site writes.

:func:`cohort_tables` reads a run (users and matched controls, simulated or
read back with ``neuroadapt.experiments.run.load_run``) at each participant's
scan day; :func:`image_cohort` writes the BIDS dataset (gray-matter maps,
participants, ground truth) and the PET and fMRI read-outs, and returns what
the study's report shows (``neuroadapt.report.imaging.study_report``).
A run is passed in, never simulated here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "ARMS",
    "ImagingStudy",
    "ScanError",
    "check_comparable",
    "check_scan_options",
    "cohort_tables",
    "image_cohort",
    "imaging_day",
    "years_of_use",
]


class ScanError(ValueError):
    """A scan option that cannot act on this run; the message is one line."""


#: Arms of a life-course scenario's users (the ``arm`` variable of results.nc).
ARMS = ("continued use", "abstinence")


def check_scan_options(scenario, day: float | None, arm: str | None) -> None:
    """Check ``--day`` and ``--arm`` against the scenario before anything is simulated.

    The run records from day 0 to the scenario's end (``total_duration_h``)
    every ``outputs.record_every``; ``--day`` must fall within that span (one
    record step of slack, as :func:`imaging_day` picks the nearest record),
    ``--arm`` needs a life course. Brain variables exist only for life courses
    and for regimen scenarios recorded daily.
    """
    if arm is not None:
        if arm not in ARMS:
            raise ScanError(f"option '--arm' = '{arm}': allowed: {', '.join(ARMS)}")
        if scenario.behaviour is None:
            raise ScanError(
                f"option '--arm': scenario '{scenario.name}' has no arms (no life course)"
            )
    step = scenario.outputs.record_every_h() / 24.0
    if scenario.behaviour is None and abs(step - 1.0) > 1e-9:
        raise ScanError(
            f"scenario '{scenario.name}': outputs.record_every = "
            f"'{scenario.outputs.record_every}'; imaging needs a life course or daily records "
            "('1d'), which carry the brain variables"
        )
    end = scenario.total_duration_h() / 24.0
    if day is not None and not -step <= day <= end + step:
        raise ScanError(f"option '--day' = {day:g}: the run records days 0 to {end:g}")


def imaging_day(scenario, times: np.ndarray, day: float | None, arm: str | None) -> float:
    """The recorded day a cohort is imaged at (the record nearest to the requested day).

    Default: the end of use (``behaviour.days()[0]``) for life-course
    scenarios, the end of follow-up when an arm is chosen, else the last record.
    """
    b = scenario.behaviour
    if day is None:
        if b is not None and arm is None:
            day = float(b.days()[0])
        else:
            day = float(times[-1])
    step = float(np.median(np.diff(times))) if times.size > 1 else 0.0
    if not times[0] - step <= day <= times[-1] + step:
        raise ScanError(
            f"option '--day' = {day:g}: the run recorded days {times[0]:g} to {times[-1]:g}"
        )
    return float(times[np.argmin(np.abs(times - day))])


def years_of_use(scenario, day: float, arm: str | None) -> float:
    """Years of use at the imaging day, from the scenario's plan.

    Life courses: use runs from day 0 to the end of use; afterwards the
    abstinence arm stops (lapses and relapses are not counted) and the
    continued-use arm goes on. Other scenarios: the imaging day.
    """
    b = scenario.behaviour
    if b is None:
        return day / 365.25
    use_days = float(b.days()[0])
    if day <= use_days or arm == "continued use":
        return day / 365.25
    return use_days / 365.25


def _scan_days(outputs, times, n, day, arm, own_years) -> np.ndarray:
    """The recorded day each subject index is imaged at (see :func:`cohort_tables`)."""
    from neuroadapt.imaging.synth import years_of_use_at_scan

    sc = outputs.scenario
    if own_years and day is None and arm is None and sc.behaviour is not None:
        years = years_of_use_at_scan(n, sc.seed, sc.behaviour.days()[0] / 365.25)
        return times[np.argmin(np.abs(times[None, :] - 365.25 * years[:, None]), axis=1)]
    return np.full(n, imaging_day(sc, times, day, arm))


def cohort_tables(
    outputs, day: float | None = None, arm: str | None = None, own_years: bool = True
) -> dict:
    """Adapter from a scenario run to the imaging inputs (the one place that reads a run).

    Reads, at each subject's imaging day, users (``results``) and matched
    controls (``controls``): ``structure_gm_volume`` (fraction of a matched
    control's regional volume → change = value − 1),
    ``dopamine_d2_availability`` and ``glutamate_craving``.

    Imaging days: for a life course without ``day`` and ``arm`` (and with
    ``own_years``), each user at their own years of use
    (:func:`neuroadapt.imaging.synth.years_of_use_at_scan`: uniform between
    1 year and the planned use; the nearest record), each matched control on
    its user's day; otherwise everyone on one day (:func:`imaging_day`).
    Ages are the cohort's ages at the start plus the imaging day, sexes the
    cohort's; years of use follow from the day (:func:`years_of_use`). Users
    who died before their day (``alive`` = 0) or have a missing value are left
    out; with ``arm``, only the users of that arm (``"continued use"`` or
    ``"abstinence"``) are imaged.

    Returns
    -------
    dict
        ``participants``, ``change`` (participants × regions), ``d2``,
        ``craving`` (arrays in the participants' order), ``day`` (the recorded
        day when everyone is imaged on one day, else None), ``arm``,
        ``years_of_use`` (per participant, 0 for controls) and ``when`` (words).
    """
    import pandas as pd

    from neuroadapt.model.structure import REGIONS
    from neuroadapt.scenarios.covariates import covariates

    users = outputs.result.dataset
    controls = outputs.controls
    n_u = users.sizes["subject"]
    n_c = controls.sizes["subject"] if controls is not None else 0
    if n_c == 0:
        raise ScanError("the scenario run has no matched controls")
    check_scan_options(outputs.scenario, day, arm)
    if arm is not None and "arm" not in users:
        raise ScanError(f"option '--arm': scenario '{outputs.scenario.name}' has no arms")
    times = np.asarray(users["time"].values, dtype=float)
    days = _scan_days(outputs, times, max(n_u, n_c), day, arm, own_years)
    t_index = np.searchsorted(times, days)

    def at(ds, name, default, n):
        if name not in ds:
            return default
        da = ds[name]
        if "structure_region" in da.dims:
            da = da.sel(structure_region=list(REGIONS))
        da = da.transpose("subject", "time", ...)
        return np.asarray(da.values, dtype=float)[np.arange(n), t_index[:n]]

    rows, change, d2, crave = [], [], [], []
    for group, ds, n in (("user", users, n_u), ("control", controls, n_c)):
        cov = covariates(outputs.scenario, np.arange(n))
        gm = at(ds, "structure_gm_volume", None, n)
        if gm is None:
            raise ScanError("the scenario's results have no 'structure_gm_volume' variable")
        dd = at(ds, "dopamine_d2_availability", np.ones(n), n)
        cr = at(ds, "glutamate_craving", np.zeros(n), n)
        alive = at(ds, "alive", np.ones(n), n) > 0.5
        keep = alive & np.all(np.isfinite(gm), axis=1) & np.isfinite(dd) & np.isfinite(cr)
        if group == "user" and arm is not None:
            keep &= np.asarray(ds["arm"].values) == arm
        for i in np.flatnonzero(keep):
            pid = f"sub-{'U' if group == 'user' else 'C'}{i + 1:04d}"
            used = years_of_use(outputs.scenario, days[i], arm) if group == "user" else 0.0
            rows.append(
                {
                    "participant_id": pid,
                    "group": group,
                    "age": round(float(cov["age_years"][i]) + days[i] / 365.25, 2),
                    "sex": "F" if cov["female"][i] > 0.5 else "M",
                    "years_of_use": round(used, 3),
                }
            )
            change.append(gm[i] - 1.0)
            d2.append(dd[i])
            crave.append(cr[i])
    participants = pd.DataFrame(rows)
    if participants.empty or not (participants["group"] == "user").any():
        raise ScanError(f"no living user to image at day {days[0]:g}")
    table = pd.DataFrame(change, columns=list(REGIONS), index=participants["participant_id"])
    used = participants["years_of_use"][participants["group"] == "user"]
    one_day = float(days[0]) if np.all(days == days[0]) else None
    if one_day is not None:
        when = f"day {one_day:g}" + (f", arm '{arm}'" if arm else "")
    else:
        when = (
            f"each user's own years of use ({used.min():.1f}-{used.max():.1f} years, "
            f"days {days.min():g}-{days.max():g})"
        )
    return {
        "participants": participants,
        "change": table,
        "d2": np.array(d2),
        "craving": np.array(crave),
        "day": one_day,
        "arm": arm,
        "years_of_use": participants["years_of_use"].to_numpy(),
        "when": when,
    }


#: Fewest living users, and matched controls, a study compares: the ANCOVA has an
#: intercept, the group and up to three covariates (age, sex, TIV), and needs at
#: least one residual degree of freedom (6 participants in all).
MIN_PER_GROUP = 3


def check_comparable(participants: pd.DataFrame) -> None:
    """Enough living users and controls for the group comparisons, or a :class:`ScanError`."""
    counts = participants["group"].value_counts()
    users, controls = int(counts.get("user", 0)), int(counts.get("control", 0))
    if min(users, controls) < MIN_PER_GROUP:
        raise ScanError(
            f"{users} living users and {controls} controls to image: the group comparisons "
            f"(ANCOVA on age, sex and TIV) need at least {MIN_PER_GROUP} of each"
        )


@dataclass
class ImagingStudy:
    """What :func:`image_cohort` wrote, for the study's report."""

    scenario: object
    participants: pd.DataFrame
    change: pd.DataFrame
    pet: pd.DataFrame
    fmri: pd.DataFrame
    when: str
    day: float | None

    @property
    def groups(self) -> pd.Series:
        """Each participant's group ("user" or "control"), by participant_id."""
        return self.participants.set_index("participant_id")["group"]

    def truth(self) -> pd.DataFrame:
        """Mean regional gray-matter change (%) by group: what was put into the maps."""
        mean = self.change.groupby(self.groups).mean()
        return (100 * mean).T.reset_index().rename(columns={"index": "region"})


def image_cohort(
    outputs,
    out_dir: str | Path,
    *,
    atlas: str = "harvard_oxford",
    day: float | None = None,
    arm: str | None = None,
    ignore: tuple[str, ...] = (),
    progress: Callable[[int, int], None] | None = None,
    tables: dict | None = None,
) -> ImagingStudy:
    """Image a run's cohort: BIDS gray-matter maps, participants, PET BP_ND and fMRI contrasts.

    Parameters
    ----------
    outputs
        A run with matched controls (``RunOutputs``, simulated or loaded).
    out_dir
        The BIDS folder.
    atlas, day, arm
        As ``neuroadapt imaging simulate --atlas --day --arm``.
    ignore
        Paths written to ``.bidsignore`` (e.g. the simulation's own folder).
    progress
        Called with (maps written, maps) while the maps are written.
    tables
        :func:`cohort_tables` of the same run, day and arm, if already read.

    Raises
    ------
    ScanError
        If a scan option cannot act on this run.
    """
    from neuroadapt.imaging.bids import write_phenotype
    from neuroadapt.imaging.readouts import fmri_cue_contrast, pet_bpnd
    from neuroadapt.imaging.synth import generate_tiv, write_cohort

    sc = outputs.scenario
    tables = tables or cohort_tables(outputs, day=day, arm=arm)
    participants = tables["participants"]
    check_comparable(participants)
    participants["tiv"] = generate_tiv(participants, sc.seed)
    write_cohort(
        Path(out_dir),
        participants,
        tables["change"],
        seed=sc.seed,
        atlas=atlas,
        ignore=ignore,
        progress=progress,
    )
    pet, _ = pet_bpnd(participants, tables["d2"], seed=sc.seed)
    fmri = fmri_cue_contrast(participants, tables["craving"], seed=sc.seed)
    write_phenotype(Path(out_dir), "pet_bpnd", pet, "D2/D3 binding potential BP_ND (SRTM)", "1")
    cue = "fMRI drug cue > neutral contrast estimate"
    write_phenotype(Path(out_dir), "fmri_cue", fmri, cue, "percent signal change")
    return ImagingStudy(
        sc, participants, tables["change"], pet, fmri, tables["when"], tables["day"]
    )
