"""The core subcommands: run, scenarios, params, calibrate, export-sbml."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table
from rich.text import Text

from neuroadapt.cli.common import (
    ScenarioArgument,
    SeedOption,
    SetOption,
    UserError,
    app,
    checked_out_dir,
    console,
    out_console,
    parse_sets,
    print_data,
    print_table,
)
from neuroadapt.cli.progress import stages

#: How the calibration's progress counts its groups of checks.
GROUPS = "{done}/{total} groups"

WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        help="Worker processes for large cohorts and the calibration "
        "(default: $NEUROADAPT_WORKERS, else one per CPU). Results do not depend on it.",
    ),
]


SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Address of a Dask scheduler (e.g. tcp://10.0.0.5:8786; default: "
        "$NEUROADAPT_SCHEDULER, else local processes). Results do not depend on it.",
    ),
]


def _set_scheduler(address: str | None) -> None:
    """Check ``--scheduler`` (or ``$NEUROADAPT_SCHEDULER``): the cluster must answer now."""
    from neuroadapt.engine.workers import SCHEDULER_ENV, dask_client, scheduler_address

    if address is not None:
        os.environ[SCHEDULER_ENV] = address
    address = scheduler_address()
    if address is None:
        return
    try:
        dask_client(address)
    except ValueError as exc:
        raise UserError(f"option '--scheduler': {exc}") from None


def _set_workers(workers: int | None) -> None:
    """Check ``--workers`` (or ``$NEUROADAPT_WORKERS``) and make it the default here."""
    import os

    from neuroadapt.engine.workers import WORKERS_ENV, default_workers

    if workers is not None:
        if workers < 1:
            raise UserError(f"option '--workers' = {workers}: must be an integer >= 1")
        os.environ[WORKERS_ENV] = str(workers)
    try:
        default_workers()
    except ValueError as exc:
        raise UserError(str(exc)) from None


def resolved_scenario(
    scenario: str,
    subjects: int | None,
    seed: int | None,
    parameters: dict[str, float] | None = None,
):
    """The scenario with the command line's --subjects, --seed and --set, or a one-line error."""
    from neuroadapt.experiments.run import resolve
    from neuroadapt.scenarios import ScenarioError

    base = _load(scenario)
    if subjects is not None and subjects < 1:
        raise UserError(f"option '--subjects' = {subjects}: must be an integer >= 1")
    if seed is not None and seed < 0:
        raise UserError(f"option '--seed' = {seed}: must be an integer >= 0")
    try:
        return resolve(base, subjects=subjects, seed=seed, parameters=parameters)
    except (ScenarioError, ValueError) as exc:
        raise UserError(str(exc).splitlines()[0]) from None


def _load(scenario: str):
    from neuroadapt.scenarios import ScenarioError, load_scenario

    try:
        return load_scenario(scenario)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None


@app.command()
def run(
    scenario: ScenarioArgument = "default",
    out: Annotated[Path | None, typer.Option("--out", help="Output directory.")] = None,
    subjects: Annotated[
        int | None, typer.Option("--subjects", help="Cohort size (and matched controls, if any).")
    ] = None,
    seed: SeedOption = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip the HTML report.")] = False,
    workers: WorkersOption = None,
    set_: SetOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Simulate a scenario and write results, tables and the HTML report."""
    _set_scheduler(scheduler)
    _set_workers(workers)
    sc = resolved_scenario(scenario, subjects, seed, parse_sets(set_))
    from neuroadapt.api import report_inputs, write_report
    from neuroadapt.engine.simulate import NonFiniteError
    from neuroadapt.experiments.run import run_scenario, start_workers

    out_dir = out or Path("results") / sc.name
    checked_out_dir(out_dir)  # before any work
    start_workers(sc)  # they import neuroadapt while the caches are read
    with stages(console) as progress:
        # what the report takes from caches is read first: HDF5 reads would wait for
        # the thread that writes results.nc (h5py has one lock)
        inputs = (
            None
            if no_report
            else report_inputs(sc, stage=lambda what: progress.stage(what, counts=GROUPS))
        )
        controls = f" and {sc.cohort.controls} controls" if sc.cohort.controls else ""
        simulated = progress.stage(f"simulating {sc.cohort.subjects} subjects{controls}")
        try:
            # results.nc and controls.nc are written while the report is drawn
            outputs = run_scenario(sc, out_dir, progress=simulated, background=not no_report)
        except NonFiniteError as exc:
            raise UserError(f"scenario '{scenario}': {exc}") from None
        try:
            if inputs is not None:
                progress.stage("report")
                write_report(outputs, out_dir / "report.html", inputs)
        finally:
            if outputs.pending is not None and not outputs.pending.done():
                progress.stage("writing results.nc")
            outputs.wait_for_files()
    console.print(
        f"wrote {out_dir}/ (results.nc, tables/, scenario.toml, provenance.json"
        + ("" if no_report else ", report.html")
        + ")"
    )


@app.command()
def scenarios() -> None:
    """List the shipped scenarios."""
    from neuroadapt.scenarios import list_shipped

    table = Table(Column("name", overflow="fold"), Column("description", overflow="fold"))
    for name, desc in list_shipped():
        table.add_row(name, " ".join(desc.split()))
    print_table(table)


@app.command()
def params(
    species: Annotated[str, typer.Option("--species", help="human or rat.")] = "human",
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Print the parameter table: value, unit, variability, source."""
    from neuroadapt.parameters import ParameterError, load_parameters

    try:
        ps = load_parameters(species)
    except ParameterError as exc:
        raise UserError(f"option '--species' = '{species}': {exc}") from None
    rows = ps.to_rows()
    if csv:
        import pandas as pd

        print_data(pd.DataFrame(rows).to_csv(index=False))
        return
    table = Table(
        *(Column(c, overflow="fold") for c in ("name", "value", "unit", "cv", "fitted", "source")),
        title=f"{species} parameters",
    )
    for r in rows:
        table.add_row(
            r["name"],
            f"{r['value']:g}",
            r["unit"],
            f"{r['cv']:g}",
            "yes" if r["fitted"] else "",
            r["source"],
        )
    print_table(table)


def _calibration_overrides(sets: dict[str, float]) -> dict[str, dict[str, float]]:
    """``--set`` of ``calibrate`` by species, checked, and set for this process and its workers.

    The overrides go to ``$NEUROADAPT_PARAMETERS`` (``parameters.OVERRIDES_ENV``),
    which every ``load_parameters`` call and every cache key reads.
    """
    from neuroadapt.parameters import ParameterError, load_parameters
    from neuroadapt.parameters.table import OVERRIDES_ENV, SPECIES

    by_species: dict[str, dict[str, float]] = {}
    for key, value in sets.items():
        species, dot, name = key.partition(".")
        if not dot or species not in SPECIES:
            species, name = "human", key
        by_species.setdefault(species, {})[name] = value
    for species, values in by_species.items():
        try:
            load_parameters(species).with_table_values(values)
        except ParameterError as exc:
            raise UserError(f"option '--set' ({species} table): {exc}") from None
    if by_species:
        os.environ[OVERRIDES_ENV] = json.dumps(by_species, sort_keys=True)
    return by_species


@app.command()
def calibrate(
    out: Annotated[Path, typer.Option("--out", help="Where to write calibration.json.")] = Path(
        "results/calibration.json"
    ),
    refit: Annotated[
        bool, typer.Option("--refit", help="Also re-derive fitted parameters.")
    ] = False,
    markdown: Annotated[
        Path | None,
        typer.Option("--markdown", help="Rewrite the table section of this Markdown file."),
    ] = None,
    workers: WorkersOption = None,
    set_: SetOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Evaluate the model against every covered literature target.

    Exits 1 if any target is missed without an explanation. ``--set NAME=VALUE``
    overrides the human table, ``--set rat.NAME=VALUE`` the rat table.
    """
    _set_scheduler(scheduler)
    _set_workers(workers)
    sets = parse_sets(set_)
    if sets and markdown is not None:
        raise UserError(
            f"option '--markdown' = '{markdown}': cannot be combined with '--set' (the "
            "documented table is that of the shipped parameters)"
        )
    overrides = _calibration_overrides(sets)
    from neuroadapt.atomic import write_text
    from neuroadapt.evidence.calibration import evaluate, unexplained_misses

    with stages(console) as progress:
        evaluated = progress.stage("evaluating the calibration targets", counts=GROUPS)
        results = evaluate(progress=evaluated)
    print_table(_calibration_table(results))
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    out_console.print(", ".join(f"{v}: {n}" for v, n in sorted(counts.items())))
    payload: dict = {"results": [r.as_dict() for r in results], "counts": counts}
    if overrides:
        payload["parameter_overrides"] = overrides
        console.print(
            "parameters overridden (--set): "
            + "; ".join(f"{sp}.{k} = {v:g}" for sp, kv in overrides.items() for k, v in kv.items())
            + ". These verdicts are not those of the shipped table."
        )
    if refit:
        from neuroadapt.evidence.fit import refit as do_refit

        rows = do_refit()
        payload["refit"] = rows
        for row in rows:
            out_console.print(
                f"refit {row['parameter']} ({row['species']}): table "
                f"{row['table']:.4g}, fitted {row['fitted']:.4g} (internal units)"
            )
    write_text(out, json.dumps(payload, indent=2))
    console.print(f"wrote {out}")
    if markdown is not None:
        from neuroadapt.evidence.markdown import update_calibration_doc

        if markdown.exists() and not markdown.is_file():
            raise UserError(f"option '--markdown' = '{markdown}': exists and is not a file")
        write_text(markdown, update_calibration_doc(markdown, results))
        console.print(f"wrote {markdown}")
    missed = unexplained_misses(results)
    if missed:
        console.print(f"unexplained misses: {', '.join(r.id for r in missed)}")
        raise typer.Exit(1)


def _calibration_table(results) -> Table:
    """The calibration results as a table whose cells wrap rather than lose characters."""
    colour = {"pass": "green", "miss": "red", "explained miss": "yellow", "conflict": "magenta"}
    table = Table(
        *(
            Column(name, overflow="fold")
            for name in ("target", "species", "literature", "model", "status", "verdict", "source")
        )
    )
    for r in results:
        table.add_row(
            r.id,
            r.species,
            r.literature,
            f"{r.model} {r.unit}".strip(),
            r.status,
            Text(r.verdict, style=colour[r.verdict]),
            r.source,
        )
    return table


@app.command("export-sbml")
def export_sbml(
    out: Annotated[Path, typer.Option("--out", help="SBML file to write.")] = Path(
        "neuroadapt.xml"
    ),
    scenario: Annotated[
        str, typer.Option("--scenario", help="Scenario whose doses become events.")
    ] = "tolerance-and-abstinence",
) -> None:
    """Export the model as SBML (typical subject; the scenario's doses become events).

    A ``[behaviour]`` scenario exports the typical person's habitual use
    (its start dose and route, ``uses_per_day`` doses a day, for the use phase).
    """
    from neuroadapt.engine.sbml import habitual_doses, write_sbml
    from neuroadapt.experiments.run import scenario_params

    sc = _load(scenario)
    params = scenario_params(sc)
    doses = sc.all_events()
    if sc.behaviour is not None:
        doses = habitual_doses(params, sc.behaviour) + doses  # plus any treatments
    try:
        write_sbml(out, params, doses)
    except (NotImplementedError, ValueError) as exc:
        raise UserError(f"scenario '{scenario}': {exc}") from None
    console.print(f"wrote {out}")
