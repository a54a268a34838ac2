"""``neuroadapt imaging``: simulate a study's images, and analyse simulated or real maps."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from neuroadapt.cli.common import UserError, app, console

imaging_app = typer.Typer(
    no_args_is_help=True, help="Virtual neuroimaging: synthetic maps, VBM, ROI, PET and fMRI."
)
app.add_typer(imaging_app, name="imaging")


def cohort_tables(outputs) -> dict:
    """Adapter from a scenario run to the imaging inputs (kept here, in one place).

    Reads, at the last record of users (``results``) and matched controls
    (``controls``): ``structure_gm_volume`` (fraction of a matched control's
    regional volume → change = value − 1), ``dopamine_d2_availability`` and
    ``glutamate_craving``; ages and sexes come from the cohort's covariates.
    Subjects with a missing value (e.g. died) are left out.
    """
    import pandas as pd

    from neuroadapt.experiments.cohort import covariates
    from neuroadapt.model.structure import REGIONS

    def last(ds, name, default):
        if ds is None or name not in ds:
            return None if default is None else default
        da = ds[name].isel(time=-1)
        if "structure_region" in da.dims:
            da = da.sel(structure_region=list(REGIONS))
        return np.asarray(da.values, dtype=float)

    users = outputs.result.dataset
    controls = outputs.controls.result.dataset if outputs.controls is not None else None
    n_u = users.sizes["subject"]
    n_c = controls.sizes["subject"] if controls is not None else 0
    if n_c == 0:
        raise UserError("the scenario run has no matched controls")
    years = float(users["time"].values[-1]) / 365.25
    cov_u = covariates(outputs.scenario, np.arange(n_u))
    cov_c = covariates(outputs.scenario, np.arange(n_c))
    rows, change, d2, crave = [], [], [], []
    for group, ds, cov, n in (("user", users, cov_u, n_u), ("control", controls, cov_c, n_c)):
        gm = last(ds, "structure_gm_volume", None)
        if gm is None:
            raise UserError("the scenario's results have no 'structure_gm_volume' variable")
        dd = last(ds, "dopamine_d2_availability", np.ones(n))
        cr = last(ds, "glutamate_craving", np.zeros(n))
        for i in range(n):
            if not (np.all(np.isfinite(gm[i])) and np.isfinite(dd[i]) and np.isfinite(cr[i])):
                continue
            pid = f"sub-{'U' if group == 'user' else 'C'}{i + 1:04d}"
            rows.append(
                {
                    "participant_id": pid,
                    "group": group,
                    "age": round(float(cov["age_years"][i]) + years, 2),
                    "sex": "F" if cov["female"][i] > 0.5 else "M",
                    "years_of_use": round(years, 3) if group == "user" else 0.0,
                }
            )
            change.append(gm[i] - 1.0)
            d2.append(dd[i])
            crave.append(cr[i])
    participants = pd.DataFrame(rows)
    table = pd.DataFrame(change, columns=list(REGIONS), index=participants["participant_id"])
    return {
        "participants": participants,
        "change": table,
        "d2": np.array(d2),
        "craving": np.array(crave),
    }


@imaging_app.command()
def simulate(
    scenario: Annotated[
        str, typer.Argument(help="Shipped scenario name or TOML file.")
    ] = "default",
    out: Annotated[Path | None, typer.Option("--out", help="Output folder.")] = None,
    subjects: Annotated[
        int | None, typer.Option("--subjects", help="Users (and as many controls).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    atlas: Annotated[
        str, typer.Option("--atlas", help="harvard_oxford or aal3.")
    ] = "harvard_oxford",
) -> None:
    """Simulate a cohort and write its GM maps, PET and fMRI read-outs and a report."""
    from neuroadapt.cli.core import _load
    from neuroadapt.experiments.run import resolve, run_scenario
    from neuroadapt.imaging.atlases import ATLASES
    from neuroadapt.imaging.readouts import fmri_cue_contrast, pet_bpnd
    from neuroadapt.imaging.roi import compare_groups
    from neuroadapt.imaging.synth import generate_tiv, write_cohort
    from neuroadapt.report.imaging import build_imaging_report
    from neuroadapt.scenarios import ScenarioError

    if atlas not in ATLASES:
        raise UserError(f"option '--atlas' = '{atlas}': allowed: {', '.join(ATLASES)}")
    if subjects is not None and subjects < 2:
        raise UserError(f"option '--subjects' = {subjects}: must be an integer >= 2")
    base = _load(scenario)
    try:
        sc = resolve(base, subjects=subjects, seed=seed)
    except (ScenarioError, ValueError) as exc:
        raise UserError(str(exc).splitlines()[0]) from None
    if sc.species != "human":
        raise UserError(f"scenario '{sc.name}': imaging needs a human cohort")
    cohort = sc.cohort.model_copy(update={"controls": sc.cohort.subjects})
    sc = sc.model_copy(update={"cohort": cohort})
    out_dir = out or Path("results") / f"{sc.name}-imaging"
    console.print(f"simulating {sc.cohort.subjects} users and {sc.cohort.controls} controls")
    outputs = run_scenario(sc, out_dir / "simulation")
    tables = cohort_tables(outputs)
    participants = tables["participants"]
    participants["tiv"] = generate_tiv(participants, sc.seed)
    console.print(f"writing {len(participants)} gray-matter maps to {out_dir}/")
    write_cohort(out_dir, participants, tables["change"], seed=sc.seed, atlas=atlas)
    pet, _ = pet_bpnd(participants, tables["d2"], seed=sc.seed)
    fmri = fmri_cue_contrast(participants, tables["craving"], seed=sc.seed)
    from neuroadapt.atomic import write_text

    write_text(out_dir / "pet_bpnd.tsv", pet.reset_index().to_csv(sep="\t", index=False))
    write_text(out_dir / "fmri_cue.tsv", fmri.reset_index().to_csv(sep="\t", index=False))
    truth = tables["change"].groupby(participants.set_index("participant_id")["group"]).mean()
    truth = (100 * truth).T.reset_index().rename(columns={"index": "region"})
    build_imaging_report(
        out_dir / "report.html",
        title=f"simulated imaging study of scenario '{sc.name}' (seed {sc.seed})",
        readouts=[
            (
                "PET: D2/D3 BP_ND (simplified reference tissue model)",
                compare_groups(pet, participants),
                "PET: BP_ND per striatal region from a simulated SRTM scan with noise, "
                "estimated by the basis-function method; users vs controls by ANCOVA "
                "(age, sex, TIV), Holm-corrected.",
            ),
            (
                "fMRI: drug cue > neutral (canonical HRF block design)",
                compare_groups(fmri, participants),
                "fMRI: drug-cue > neutral contrast estimates (percent signal change) per "
                "region from a simulated block design (canonical HRF, AR(1) noise); users vs "
                "controls by ANCOVA (age, sex, TIV), Holm-corrected.",
            ),
        ],
        extra=[
            (
                "Ground truth: mean regional GM change (%) by group",
                truth,
                "Ground truth: the model's regional gray-matter change that was put into "
                "the maps (percent of a matched control).",
            )
        ],
    )
    console.print(
        f"wrote {out_dir}/ (participants.tsv, sub-*/anat/*.nii.gz, ground_truth.tsv, "
        "pet_bpnd.tsv, fmri_cue.tsv, report.html); analyse with: neuroadapt imaging vbm "
        f"--maps {out_dir} --participants {out_dir}/participants.tsv"
    )


def _load_maps(maps: list[Path], participants: Path, mask: Path | None):
    from neuroadapt.imaging.load import ImagingInputError, load_maps

    try:
        return load_maps(maps, participants, mask)
    except ImagingInputError as exc:
        raise UserError(str(exc)) from None


@imaging_app.command()
def vbm(
    maps: Annotated[list[Path], typer.Option("--maps", help="Folder or NIfTI files (repeatable).")],
    participants: Annotated[Path, typer.Option("--participants", help="participants.tsv")],
    contrast: Annotated[
        str,
        typer.Option(
            "--contrast", help="users<controls, users>controls, years_of_use, -years_of_use."
        ),
    ] = "users<controls",
    permutations: Annotated[
        int, typer.Option("--permutations", help="Number of permutations.")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Permutation seed.")] = 0,
    tfce: Annotated[bool, typer.Option("--tfce/--no-tfce", help="TFCE inference.")] = True,
    two_sided: Annotated[
        bool, typer.Option("--two-sided/--one-sided", help="Test both directions.")
    ] = False,
    cluster_p: Annotated[
        float, typer.Option("--cluster-p", help="Cluster-forming p for cluster mass (0: off).")
    ] = 0.001,
    mask: Annotated[
        Path | None, typer.Option("--mask", help="Mask NIfTI (default: GM mask).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("results/vbm"),
) -> None:
    """Voxel-wise GLM with Freedman–Lane permutations (max-T, TFCE, cluster mass)."""
    from neuroadapt.imaging.load import ImagingInputError
    from neuroadapt.imaging.pipeline import run_vbm
    from neuroadapt.report.imaging import build_imaging_report

    if permutations < 0:
        raise UserError(f"option '--permutations' = {permutations}: must be >= 0")
    if not 0 <= cluster_p < 1:
        raise UserError(f"option '--cluster-p' = {cluster_p}: must be in [0, 1)")
    data = _load_maps(maps, participants, mask)
    console.print(
        f"{data.data.shape[0]} maps, {data.data.shape[1]} voxels; {permutations} permutations"
    )
    try:
        result = run_vbm(
            data,
            contrast,
            n_permutations=permutations,
            seed=seed,
            tfce=tfce,
            two_sided=two_sided,
            cluster_p=cluster_p or None,
            source=str(participants),
        )
    except ImagingInputError as exc:
        raise UserError(str(exc)) from None
    except ValueError as exc:
        raise UserError(f"{participants}: {exc}") from None
    result.write(out)
    build_imaging_report(out / "report.html", title=f"VBM of {len(data.files)} maps", vbm=result)
    console.print(
        f"{len(result.clusters)} clusters; wrote {out}/ (stat maps, clusters.tsv, report.html)"
    )


@imaging_app.command()
def roi(
    maps: Annotated[list[Path], typer.Option("--maps", help="Folder or NIfTI files (repeatable).")],
    participants: Annotated[Path, typer.Option("--participants", help="participants.tsv")],
    atlas: Annotated[
        str, typer.Option("--atlas", help="harvard_oxford or aal3.")
    ] = "harvard_oxford",
    mask: Annotated[
        Path | None, typer.Option("--mask", help="Mask NIfTI (default: GM mask).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("results/roi"),
) -> None:
    """ROI volumetry per atlas region: group comparison with effect sizes (ANCOVA)."""
    from neuroadapt.atomic import write_text
    from neuroadapt.imaging.atlases import ATLASES
    from neuroadapt.imaging.load import ImagingInputError
    from neuroadapt.imaging.pipeline import run_roi
    from neuroadapt.report.imaging import build_imaging_report

    if atlas not in ATLASES:
        raise UserError(f"option '--atlas' = '{atlas}': allowed: {', '.join(ATLASES)}")
    data = _load_maps(maps, participants, mask)
    try:
        volumes, table, test = run_roi(data, atlas, source=str(participants))
    except ImagingInputError as exc:
        raise UserError(str(exc)) from None
    write_text(out / "roi_volumes.tsv", volumes.reset_index().to_csv(sep="\t", index=False))
    write_text(out / "roi_comparison.tsv", table.to_csv(sep="\t", index=False))
    build_imaging_report(
        out / "report.html", title=f"ROI volumetry of {len(data.files)} maps", roi=(table, test)
    )
    console.print(f"wrote {out}/ (roi_volumes.tsv, roi_comparison.tsv, report.html)")
