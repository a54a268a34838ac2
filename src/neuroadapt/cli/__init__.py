"""Command-line interface: thin subcommands over library calls.

User errors (a bad scenario, an unknown name, a bad option value) print one
line and exit with status 2; no traceback. Each group of subcommands lives in
its own module and registers itself on :data:`neuroadapt.cli.common.app`.
"""

from __future__ import annotations

import sys

import typer

from neuroadapt.cli import (
    core,  # noqa: F401  (registers run, scenarios, params, ...)
    experiment,  # noqa: F401  (registers experiment and experiments)
    imaging,  # noqa: F401  (registers the imaging sub-app)
    medpc,  # noqa: F401  (registers the medpc group)
)
from neuroadapt.cli.common import UserError, app, console

__all__ = ["app", "main", "UserError"]


def main() -> None:
    """Entry point: run the app and exit with its status.

    User errors (one line, status 2) and interruptions are handled by the app
    itself (:class:`neuroadapt.cli.common._App`), so that it behaves the same in-process.
    """
    try:
        status = app(standalone_mode=False)
    except UserError as exc:  # raised while parsing, before any command runs
        console.print(f"error: {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # usage errors of the command-line parser
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code)
        if type(exc).__name__ == "Abort":
            sys.exit(1)
        raise
    # without standalone mode, typer returns the status of typer.Exit instead of exiting
    sys.exit(status if isinstance(status, int) else 0)
