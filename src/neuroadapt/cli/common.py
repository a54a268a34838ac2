"""What every subcommand shares: the app, the consoles and the user-error type."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from neuroadapt import __version__

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="neuroadapt: a laboratory for the neurological consequences of chronic heroin use.",
)
#: Progress, status and errors go to stderr; tables and JSON to stdout.
console = Console(stderr=True)
out_console = Console()


class UserError(Exception):
    """An error in what the user asked for; printed as one line, exit status 2."""


#: Options several subcommands share.
ScenarioArgument = Annotated[str, typer.Argument(help="Shipped scenario name or TOML file.")]
SeedOption = Annotated[int | None, typer.Option("--seed", help="Random seed.")]


def _version(value: bool) -> None:
    if value:
        out_console.print(f"neuroadapt {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Simulate, calibrate and report."""
