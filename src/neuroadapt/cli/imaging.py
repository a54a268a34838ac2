"""``neuroadapt imaging``: simulate a study's images, and analyse simulated or real maps."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from neuroadapt.cli.common import (
    ScenarioArgument,
    SeedOption,
    UserError,
    app,
    checked_out_dir,
    console,
)
from neuroadapt.cli.progress import stages

imaging_app = typer.Typer(
    no_args_is_help=True, help="Virtual neuroimaging: synthetic maps, VBM, ROI, PET and fMRI."
)
app.add_typer(imaging_app, name="imaging")


def _check_scan(scenario, day: float | None, arm: str | None) -> None:
    """``--day`` and ``--arm`` checked against the scenario, or a one-line error."""
    from neuroadapt.imaging.study import ScanError, check_scan_options

    try:
        check_scan_options(scenario, day, arm)
    except ScanError as exc:
        raise UserError(str(exc)) from None


def _cohort_tables(outputs, **options) -> dict:
    """:func:`neuroadapt.imaging.study.cohort_tables`, or a one-line error."""
    from neuroadapt.imaging.study import ScanError, cohort_tables

    try:
        return cohort_tables(outputs, **options)
    except ScanError as exc:
        raise UserError(str(exc)) from None


def _human_scenario(scenario: str, subjects: int | None, seed: int | None):
    """The resolved scenario, or a one-line error (bad scenario, options or species)."""
    from neuroadapt.cli.core import resolved_scenario

    sc = resolved_scenario(scenario, subjects, seed)
    if sc.species != "human":
        raise UserError(f"scenario '{sc.name}': imaging needs a human cohort")
    return sc


def _simulated(sc, folder: Path, progress):
    """Run the scenario for imaging; a non-finite output of a living subject is one line."""
    from neuroadapt.engine.simulate import NonFiniteError
    from neuroadapt.experiments.run import run_scenario

    try:
        return run_scenario(sc, folder, progress=progress)
    except NonFiniteError as exc:
        raise UserError(f"scenario '{sc.name}': {exc}") from None


def _saved(folder: Path, scenario: str, subjects: int | None, seed: int | None):
    """The saved run in ``folder`` (``--from``), or a one-line error."""
    from neuroadapt.experiments.run import SavedRunError, load_run

    for name, given in (("SCENARIO", scenario != "default"), ("--subjects", subjects is not None),
                        ("--seed", seed is not None)):  # fmt: skip
        if given:
            raise UserError(
                f"option '{name}' cannot act with '--from' (the saved run fixes the scenario)"
            )
    try:
        outputs = load_run(folder)
    except SavedRunError as exc:
        raise UserError(f"option '--from' = '{folder}': {exc}") from None
    if outputs.scenario.species != "human":
        raise UserError(f"option '--from' = '{folder}': imaging needs a human cohort")
    return outputs


@imaging_app.command()
def simulate(
    scenario: ScenarioArgument = "default",
    out: Annotated[Path | None, typer.Option("--out", help="Output folder.")] = None,
    subjects: Annotated[
        int | None, typer.Option("--subjects", help="Users (and as many controls).")
    ] = None,
    seed: SeedOption = None,
    atlas: Annotated[
        str, typer.Option("--atlas", help="harvard_oxford or aal3.")
    ] = "harvard_oxford",
    day: Annotated[
        float | None,
        typer.Option(
            "--day",
            help="Day of the scan for everyone (nearest record; default: for a life course "
            "each user at their own years of use, else the last record).",
        ),
    ] = None,
    arm: Annotated[
        str | None,
        typer.Option(
            "--arm",
            help="Image only the users of this arm: 'continued use' or 'abstinence' "
            "(default day then: end of follow-up).",
        ),
    ] = None,
    from_: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Image a saved run (a folder written by 'neuroadapt run', with matched "
            "controls) instead of simulating; SCENARIO, --subjects and --seed then cannot act.",
        ),
    ] = None,
) -> None:
    """Simulate a cohort and write its GM maps, PET and fMRI read-outs and a report.

    A life-course scenario (one with a behaviour table) images each user at
    their own years of use, drawn between 1 year and the planned use;
    ``--day`` images everyone on one recorded day and ``--arm`` one arm at the
    end of follow-up. Every option is checked before the simulation starts.
    """
    from neuroadapt.imaging.atlases import ATLASES
    from neuroadapt.imaging.study import MIN_PER_GROUP, ScanError, image_cohort
    from neuroadapt.report.imaging_study import study_report

    if atlas not in ATLASES:
        raise UserError(f"option '--atlas' = '{atlas}': allowed: {', '.join(ATLASES)}")
    if from_ is not None:
        outputs = _saved(from_, scenario, subjects, seed)
        sc = outputs.scenario
        _check_scan(sc, day, arm)
        out_dir = out or Path("results") / f"{sc.name}-imaging"
        checked_out_dir(out_dir)
    else:
        if subjects is not None and subjects < MIN_PER_GROUP:
            raise UserError(
                f"option '--subjects' = {subjects}: must be an integer >= {MIN_PER_GROUP}"
            )
        sc = _human_scenario(scenario, subjects, seed)
        _check_scan(sc, day, arm)
        cohort = sc.cohort.model_copy(update={"controls": sc.cohort.subjects})
        sc = sc.model_copy(update={"cohort": cohort})
        out_dir = out or Path("results") / f"{sc.name}-imaging"
        checked_out_dir(out_dir)
        with stages(console) as progress:
            n = f"{sc.cohort.subjects} users and {sc.cohort.controls} controls"
            simulated = progress.stage(f"simulating {n}")
            outputs = _simulated(sc, out_dir / "simulation", simulated)
    tables = _cohort_tables(outputs, day=day, arm=arm)
    users = tables["participants"]["group"] == "user"
    used = tables["participants"].loc[users, "years_of_use"]
    one_day = f" ({used.iloc[0]:.2f} years of use)" if tables["day"] is not None else ""
    console.print(f"imaging at {tables['when']}{one_day}: {int(users.sum())} living users")
    with stages(console) as progress:
        n = len(tables["participants"])
        maps = progress.stage(f"writing {n} gray-matter maps to {out_dir}/")
        try:  # too few to compare is refused before any map is written
            study = image_cohort(
                outputs,
                out_dir,
                atlas=atlas,
                ignore=("simulation/", "report.html"),
                progress=maps,
                tables=tables,
            )
        except ScanError as exc:
            raise UserError(str(exc)) from None
    study_report(study, out_dir / "report.html")
    console.print(
        f"wrote {out_dir}/ (participants.tsv, participants.json, sub-*/anat/*.nii.gz and .json, "
        "ground_truth.tsv, phenotype/pet_bpnd.tsv, phenotype/fmri_cue.tsv, report.html); "
        f"analyse with: neuroadapt imaging vbm --maps {out_dir} --participants "
        f"{out_dir}/participants.tsv"
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
    """Voxel-wise GLM with Freedman–Lane permutations (max-T, TFCE, cluster mass).

    On a simulated cohort (``ground_truth.tsv`` beside the participants table)
    the report also compares the findings with the regions where the model
    put loss.
    """
    from neuroadapt.atomic import write_text
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
        with stages(console) as progress:
            permuted = progress.stage("permutations", total=permutations)
            result = run_vbm(
                data,
                contrast,
                n_permutations=permutations,
                seed=seed,
                tfce=tfce,
                two_sided=two_sided,
                cluster_p=cluster_p or None,
                source=str(participants),
                progress=permuted,
            )
    except ImagingInputError as exc:
        raise UserError(str(exc)) from None
    except ValueError as exc:
        raise UserError(f"{participants}: {exc}") from None
    result.write(out)
    comparison = _truth_comparison(result, participants)
    if comparison is not None:
        import json

        write_text(out / "truth_comparison.tsv", comparison.regions.to_csv(sep="\t", index=False))
        write_text(out / "truth_summary.json", json.dumps(comparison.summary, indent=2))
        console.print(comparison.text())
    build_imaging_report(
        out / "report.html", title=f"VBM of {len(data.files)} maps", vbm=result, truth=comparison
    )
    console.print(
        f"{len(result.clusters)} clusters; wrote {str(out)}/ (stat maps, clusters.tsv, "
        + ("truth_comparison.tsv, truth_summary.json, " if comparison is not None else "")
        + "report.html)"
    )


def _truth_comparison(result, participants: Path):
    """Findings against ``ground_truth.tsv`` beside the participants table (simulated cohorts).

    The atlas that carried the change is read from ``dataset_description.json``.
    Returns None for real data (no ground truth) or contrasts other than
    ``users<controls``.
    """
    import json

    import pandas as pd

    from neuroadapt.imaging.truth import compare_with_truth, mean_change

    path = participants.parent / "ground_truth.tsv"
    if not path.is_file() or result.settings["contrast"] != "users<controls":
        return None
    described = participants.parent / "dataset_description.json"
    atlas = "harvard_oxford"
    if described.is_file():
        atlas = json.loads(described.read_text(encoding="utf-8")).get("Atlas", atlas)
    try:
        change = mean_change(pd.read_csv(path, sep="\t"), result.maps.participants)
    except (ValueError, KeyError) as exc:
        raise UserError(f"{path}: {exc}") from None
    positive = result.glm.t_ > 0
    significant = {"max-T": (result.glm.p_max_t_ < result.alpha) & positive}
    if result.glm.tfce:
        significant["TFCE"] = (result.glm.p_tfce_ < result.alpha) & positive
    return compare_with_truth(significant, result.maps.mask, result.maps.affine, change, atlas)


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
    console.print(f"wrote {str(out)}/ (roi_volumes.tsv, roi_comparison.tsv, report.html)")


def _slab_mask(slab_mm: str | None) -> np.ndarray | None:
    """The GM mask restricted to MNI z in [z0, z1] mm (None: the whole mask)."""
    if slab_mm is None:
        return None
    from neuroadapt.imaging.atlases import gm_mask

    try:
        z0, z1 = (float(v) for v in slab_mm.split(":"))
    except ValueError:
        raise UserError(f"option '--slab-mm' = '{slab_mm}': expected Z0:Z1, e.g. -12:16") from None
    img = gm_mask()
    mask = np.asarray(img.dataobj) > 0
    z = img.affine[2, 2] * np.arange(mask.shape[2]) + img.affine[2, 3]
    mask &= ((z >= z0) & (z <= z1))[None, None, :]
    if not mask.any():
        raise UserError(f"option '--slab-mm' = '{slab_mm}': no gray-matter voxel in that slab")
    return mask


def _parse_effects(effects: list[str]) -> dict[str, float]:
    from neuroadapt.model.structure import REGIONS

    out = {}
    for item in effects:
        region, _, value = item.rpartition("=")
        if region not in REGIONS:
            raise UserError(
                f"option '--effect' = '{item}': expected REGION=CHANGE with a region among "
                + ", ".join(REGIONS)
            )
        try:
            out[region] = float(value)
        except ValueError:
            raise UserError(f"option '--effect' = '{item}': '{value}' is not a number") from None
    return out


@imaging_app.command()
def validate(
    null_cohorts: Annotated[
        int, typer.Option("--null-cohorts", help="Cohorts without any effect (FWE).")
    ] = 200,
    cohorts: Annotated[
        int, typer.Option("--cohorts", help="Cohorts with the effect (sensitivity).")
    ] = 0,
    subjects: Annotated[int, typer.Option("--subjects", help="Users (and as many controls).")] = 20,
    permutations: Annotated[
        int, typer.Option("--permutations", help="Permutations per cohort.")
    ] = 100,
    slab_mm: Annotated[
        str | None,
        typer.Option("--slab-mm", help="Restrict the GM mask to MNI z in Z0:Z1 mm (cheaper)."),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            help="Draw the users' regional changes from this scenario's users "
            "(imaged on one day: --day, default the end of use).",
        ),
    ] = None,
    pool: Annotated[
        int | None, typer.Option("--pool", help="Users simulated for the pool (default 200).")
    ] = None,
    day: Annotated[
        float | None, typer.Option("--day", help="Day of the scan of the pool (with --scenario).")
    ] = None,
    effect: Annotated[
        list[str] | None,
        typer.Option("--effect", help="REGION=CHANGE (fraction, e.g. 'putamen=-0.1'); repeatable."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Base seed.")] = 0,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path(
        "results/imaging-validation"
    ),
) -> None:
    """Validate the statistics: FWE over null cohorts and sensitivity per region."""
    import json

    from neuroadapt.atomic import write_text
    from neuroadapt.imaging.validation import validate as run_validation
    from neuroadapt.report.imaging import build_imaging_report, validation_sections

    if min(null_cohorts, cohorts) < 0 or null_cohorts + cohorts == 0:
        raise UserError("options '--null-cohorts' and '--cohorts': need at least one cohort")
    if subjects < 3 or permutations < 1:
        raise UserError("options '--subjects' >= 3 and '--permutations' >= 1 are required")
    if scenario is None:
        for name, value in (("--pool", pool), ("--day", day)):
            if value is not None:
                raise UserError(f"option '{name}' = {value:g}: acts only with '--scenario'")
    elif not cohorts:
        raise UserError("option '--scenario': acts only with '--cohorts' >= 1")
    effects = _parse_effects(effect or [])
    if cohorts and scenario is None and not effects:
        raise UserError("option '--cohorts': give '--scenario' or '--effect'")
    mask = _slab_mask(slab_mm)
    checked_out_dir(out)
    pool_table, source = None, "given effects"
    if scenario is not None:
        pool = 200 if pool is None else pool
        sc = _human_scenario(scenario, pool, None)
        _check_scan(sc, day, None)
        sc = sc.model_copy(update={"cohort": sc.cohort.model_copy(update={"controls": 2})})
        with stages(console) as progress:
            simulated = progress.stage(
                f"simulating {pool} users of scenario '{sc.name}' for the pool of changes"
            )
            outputs = _simulated(sc, out / "simulation", simulated)
        tables = _cohort_tables(outputs, day=day, own_years=False)
        users = tables["participants"]["group"].to_numpy() == "user"
        pool_table = tables["change"][users]
        source = f"{len(pool_table)} living users of scenario '{sc.name}' at {tables['when']}"
    console.print(
        f"{cohorts} effect and {null_cohorts} null cohorts of {subjects}+{subjects} subjects, "
        f"{permutations} permutations each"
    )
    with stages(console) as progress:
        done = progress.stage("analysing the cohorts")
        result = run_validation(
            effects, n_users=subjects, n_controls=subjects, n_cohorts=cohorts,
            n_null=null_cohorts, n_permutations=permutations, mask=mask, seed=seed,
            user_changes=pool_table,
            progress=done,
        )  # fmt: skip
    settings = dict(result.settings, slab_mm=slab_mm, changes=source)
    write_text(out / "fwe.tsv", result.fwe.to_csv(sep="\t", index=False))
    write_text(out / "sensitivity.tsv", result.sensitivity.to_csv(sep="\t", index=False))
    record = {
        "settings": settings,
        "fwe": result.fwe.to_dict(orient="records"),
        "sensitivity": result.sensitivity.to_dict(orient="records"),
        "outside": result.outside,
    }
    write_text(out / "validation.json", json.dumps(record, indent=2, default=float))
    build_imaging_report(
        out / "report.html",
        title=f"validation of the voxel-wise statistics (seed {seed})",
        extra=validation_sections(result, settings),
    )
    for row in result.fwe.itertuples():
        if null_cohorts:
            console.print(
                f"FWE {row.inference}: {row.false_positive_cohorts}/{row.null_cohorts} = "
                f"{row.rate:.3f} (95 % CI {row.ci95_low:.3f}-{row.ci95_high:.3f})"
            )
    console.print(f"wrote {str(out)}/ (fwe.tsv, sensitivity.tsv, validation.json, report.html)")
