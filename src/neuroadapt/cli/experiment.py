"""``neuroadapt experiment``: run a rat-lab protocol, write MED-PC files, tables and a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from neuroadapt.cli.common import (
    SeedOption,
    SetOption,
    UserError,
    app,
    checked_out_dir,
    console,
    parse_sets,
    print_table,
)
from neuroadapt.cli.progress import stages


def _list() -> None:
    from neuroadapt.experiments.ratlab import list_protocols

    table = Table(Column("protocol", overflow="fold"), Column("description", overflow="fold"))
    for name, desc in list_protocols():
        table.add_row(name, desc)
    print_table(table)


@app.command("experiments")
def experiments() -> None:
    """List the shipped rat-lab protocols."""
    _list()


@app.command("experiment")
def experiment(
    name: Annotated[
        str | None, typer.Argument(help="Shipped protocol name or a protocol TOML file.")
    ] = None,
    animals: Annotated[
        int | None, typer.Option("--animals", help="Rats in all (default: the protocol's).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output directory (default results/<name>/).")
    ] = None,
    seed: SeedOption = None,
    set_: SetOption = None,
    list_: Annotated[bool, typer.Option("--list", help="List the shipped protocols.")] = False,
    medpc_layout: Annotated[
        str,
        typer.Option(
            "--medpc-layout",
            help="'neuroadapt': one file per rat; 'medpc': MED-PC's own, one file per session "
            "named !YYYY-MM-DD_HHhMMm.Subject NAME (docs/ratlab.md).",
        ),
    ] = "neuroadapt",
    mpc_stub: Annotated[
        bool,
        typer.Option("--mpc-stub", help="Also write <MSN>.MPC stubs declaring the arrays."),
    ] = False,
) -> None:
    """Run a virtual rat experiment closed loop; write MED-PC files, zone tables and report.html."""
    from neuroadapt.experiments.ratlab import (
        LAYOUTS,
        ProtocolError,
        load_protocol,
        run_protocol,
    )
    from neuroadapt.experiments.ratlab import write_outputs as write_lab_files
    from neuroadapt.parameters import ParameterError, load_parameters
    from neuroadapt.report.html import overrides_warning
    from neuroadapt.report.ratlab import write_lab_report

    if list_:
        _list()
        return
    if name is None:
        raise UserError("give a protocol name (see 'neuroadapt experiment --list')")
    sets = parse_sets(set_)
    if sets:  # checked before any work
        try:
            load_parameters("rat").with_table_values(sets)
        except ParameterError as exc:
            raise UserError(f"option '--set': {exc}") from None
    if animals is not None and animals < 1:
        raise UserError(f"option '--animals' = {animals}: must be >= 1")
    if medpc_layout not in LAYOUTS:
        raise UserError(
            f"option '--medpc-layout' = '{medpc_layout}': must be one of {', '.join(LAYOUTS)}"
        )
    try:
        protocol = load_protocol(name)
        directory = out or Path("results") / protocol.name
        checked_out_dir(directory)
        with stages(console) as progress:
            days = progress.stage(f"running {protocol.name}", counts="day {done}")
            result = run_protocol(
                protocol, animals=animals, seed=seed, progress=days, parameters=sets
            )
    except (ProtocolError, ParameterError) as exc:
        raise UserError(str(exc)) from None
    write_lab_files(result, directory, layout=medpc_layout, mpc_stub=mpc_stub)
    methods = (
        f"{len(result.subjects)} virtual rats ({', '.join(sorted(set(result.groups)))}), seed "
        f"{result.seed}, simulated closed loop by neuroadapt.engine.operant: every lever press "
        "and infusion resolved on a 1-s clock from each rat's own pharmacokinetics, receptor "
        "activation, tolerance and brain state (docs/ratlab.md); sessions written as MED-PC IV "
        "files and analysed with neuroadapt.analysis as real files are."
        + (
            " " + overrides_warning(result.overrides(), whole_report=False)
            if result.parameter_overrides
            else ""
        )
    )
    fraction = next(
        (p.fraction for g in protocol.groups for p in g.phases if p.kind == "extinction"), 0.25
    )
    report = write_lab_report(directory, protocol.name, protocol.description, methods, fraction)
    console.print(f"wrote {str(directory)}/ (medpc/, tables/, {report.name})")
