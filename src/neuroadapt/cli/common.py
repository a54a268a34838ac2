"""What every subcommand shares: the app, the consoles and the user-error type."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from typer.core import TyperGroup

from neuroadapt import __version__


class UserError(Exception):
    """An error in what the user asked for; printed as one line, exit status 2."""


class _App(TyperGroup):
    """The top-level command group: a user error becomes one line on stderr and exit status 2.

    Handled here rather than in :func:`neuroadapt.cli.main`, so that the app
    behaves the same when called in-process (Typer's ``CliRunner``, a
    notebook) as ``python -m neuroadapt`` does.
    """

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            console.print(f"error: {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            console.print("interrupted; finished chunks are kept in the output's .checkpoint/")
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=_App,
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="neuroadapt: a laboratory for the neurological consequences of chronic heroin use.",
)
#: Progress, status and errors go to stderr; human-readable tables to stdout.
#: Markup is off: paths, names and text from the user or the data print as
#: they are (``--out 'o[/x]'`` is a folder name, not a style tag); styles are
#: given as ``rich.text.Text`` objects. Messages are not broken at the width
#: (a path in a log stays whole); the terminal wraps them.
console = Console(stderr=True, markup=False, soft_wrap=True)
out_console = Console(markup=False)


def print_table(table: Table, console: Console | None = None) -> None:
    """Print a human-readable table on stdout (or ``console``) without losing a character.

    On a terminal the table fits its width, cells folding onto more lines
    where they must (columns should be ``overflow="fold"``). Elsewhere (a pipe,
    a file) there is no width to fit: the table is printed at its natural
    width, one line per row, rather than at rich's 80-column default.
    """
    console = console or out_console
    if not console.is_terminal:
        wide = Console(file=console.file, markup=False, width=_UNBOUNDED)
        width = Measurement.get(wide, wide.options, table).maximum
        console = Console(file=console.file, markup=False, width=max(width, 1))
    console.print(table)


#: A width no table reaches (rich needs a number to measure against).
_UNBOUNDED = 1_000_000


def print_data(text: str) -> None:
    """Write machine-readable output (CSV, JSON) to stdout as is.

    Never through rich, which would wrap long lines at the terminal's width
    (80 columns when stdout is a pipe or a file).
    """
    sys.stdout.write(text)
    sys.stdout.flush()


def checked_out_dir(out: Path) -> Path:
    """The output folder, created and checked writable before any work (one-line error).

    Also removes temporaries that a killed earlier run left there
    (``experiments.run.check_out_dir``).
    """
    from neuroadapt.experiments.run import OutputDirError, check_out_dir

    try:
        return check_out_dir(out)
    except OutputDirError as exc:
        raise UserError(f"option '--out' = '{out}': {exc.reason}") from None


#: Options several subcommands share.
ScenarioArgument = Annotated[str, typer.Argument(help="Shipped scenario name or TOML file.")]
SeedOption = Annotated[int | None, typer.Option("--seed", help="Random seed.")]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a parameter: NAME=VALUE in the parameter table's unit (repeatable; "
        "`neuroadapt params` lists names, units and bounds).",
    ),
]


def parse_sets(items: list[str] | None) -> dict[str, float]:
    """``--set NAME=VALUE`` options as a mapping, or a one-line error."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip()
        try:
            value = float(text)
        except ValueError:
            value = None
        if not sep or not name or value is None:
            raise UserError(f"option '--set' = '{item}': must be NAME=VALUE with VALUE a number")
        out[name] = value
    return out


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
