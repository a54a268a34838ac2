"""``neuroadapt medpc``: inspect MED-PC files, summarise sessions, export CSV.

Every string that comes from a file or the user (subjects, MSNs, paths) is
printed through consoles with rich markup off (``cli.common``), so that
``Subject: [/x]`` cannot break the output and ``[link=...]`` stays text.
"""

from __future__ import annotations

import fnmatch
import json
import math
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from neuroadapt.cli.common import UserError, app, console, print_data, print_table

medpc_app = typer.Typer(
    no_args_is_help=True, help="MED-PC files: inspect, summarise with a profile, export CSV."
)
app.add_typer(medpc_app, name="medpc")


def _max_bytes(max_mb: float) -> int:
    if not math.isfinite(max_mb) or max_mb <= 0:
        raise UserError(f"option '--max-mb' = {max_mb}: must be a number > 0 (MiB)")
    return max(1, int(max_mb * 2**20))


def _read(path: Path, max_bytes: int):
    from neuroadapt.io.medpc import MedPCError, read_medpc

    if not path.exists():
        raise UserError(f"file '{path}': does not exist")
    try:
        result = read_medpc(path, max_bytes=max_bytes)
    except MedPCError as exc:
        raise UserError(f"file {exc}") from None
    for skip in result.skipped:
        console.print(
            f"warning: {path}: skipped the session starting at line {skip.start_line} "
            f"(line {skip.line}: {skip.reason})",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    return result


def _profile(name: str):
    from neuroadapt.io.medpc import ProfileError, load_profile

    try:
        return load_profile(name)
    except ProfileError as exc:
        raise UserError(f"option '--profile' = '{name}': {exc}") from None


def _parsed(files: list[Path], max_bytes: int) -> list[tuple[Path, object]]:
    return [(path, _read(path, max_bytes)) for path in files]


def _check_msn(path: Path, result, profile) -> None:
    if profile.msn:
        for s in result.sessions:
            msn = s.header.msn or ""
            if not any(fnmatch.fnmatchcase(msn, pat) for pat in profile.msn):
                console.print(
                    f"warning: {path}: MSN '{msn}' (line {s.line}) is not one of profile "
                    f"'{profile.name}''s programs ({', '.join(profile.msn)})",
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )


def _tables(files: list[Path], profile_name: str, max_bytes: int):
    """Profile, parsed files (path, result) read once, and the events and sessions tables."""
    import pandas as pd

    from neuroadapt.io.medpc import MedPCError, events_table, sessions_table

    profile = _profile(profile_name)
    if profile.events is None:
        raise UserError(f"option '--profile' = '{profile_name}': defines no events")
    events, sessions = [], []
    first = 0
    parsed = _parsed(files, max_bytes)
    for path, result in parsed:
        try:
            ev = events_table(result.sessions, profile, first=first)
        except MedPCError as exc:
            raise UserError(f"file '{path}', profile '{profile.name}': {exc.message}") from None
        _check_msn(path, result, profile)
        st = sessions_table(result.sessions, profile, first=first)
        st.insert(1, "path", str(path))
        events.append(ev)
        sessions.append(st)
        first += len(result)
    return (
        profile,
        parsed,
        pd.concat(events, ignore_index=True),
        pd.concat(sessions, ignore_index=True),
    )


FilesArg = Annotated[list[Path], typer.Argument(help="MED-PC files.")]
ProfileOpt = Annotated[
    str, typer.Option("--profile", help="Shipped profile name or TOML file (see 'profiles').")
]
MaxMbOpt = Annotated[
    float,
    typer.Option("--max-mb", help="Largest file read, MiB (guards against a wrong path)."),
]
#: neuroadapt.io.medpc.MAX_BYTES in MiB (a test checks they agree; not imported here,
#: which keeps the command line's start-up light).
_DEFAULT_MB = 64.0


@medpc_app.command()
def inspect(
    file: Annotated[Path, typer.Argument(help="A MED-PC file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    max_mb: MaxMbOpt = _DEFAULT_MB,
) -> None:
    """Each session's header fields and variables as parsed, and skipped sessions."""
    result = _read(file, _max_bytes(max_mb))
    if as_json:
        # the reader admits finite values only, so this is standard JSON (no Infinity/NaN)
        print_data(json.dumps(result.describe(), indent=2, allow_nan=False) + "\n")
        return
    for i, s in enumerate(result.sessions):
        h = s.header
        title = f"session {i} (line {s.line}): {h.subject} {h.start_date} {h.msn}"
        table = Table(
            Column("variable", overflow="fold"),
            Column("value / length", overflow="fold"),
            title=title,
        )
        for k, v in s.scalars.items():
            table.add_row(k, f"{v:g}")
        for k, a in s.arrays.items():
            table.add_row(k, f"array[{a.size}] ({s.columns.get(k, 5)} per row)")
        print_table(table)


@medpc_app.command()
def profiles() -> None:
    """List the shipped profiles."""
    from neuroadapt.io.medpc import list_profiles

    table = Table(Column("name", overflow="fold"), Column("description", overflow="fold"))
    for name, desc in list_profiles():
        table.add_row(name, desc)
    print_table(table)


@medpc_app.command()
def summarize(
    files: FilesArg,
    profile: Annotated[
        str,
        typer.Option(
            "--profile",
            help="Shipped profile name or TOML file (see 'profiles'); the default, 'generic', "
            "reports every scalar and array under its letter.",
        ),
    ] = "generic",
    out: Annotated[Path | None, typer.Option("--out", help="Write the table as CSV.")] = None,
    timeout_s: Annotated[
        float | None,
        typer.Option(
            "--timeout-s", help="Timeout when the profile gives none (self-administration only)."
        ),
    ] = None,
    progressive_ratio: Annotated[
        bool,
        typer.Option(
            "--progressive-ratio",
            help="Add PR breakpoints (Richardson & Roberts; self-administration only).",
        ),
    ] = False,
    max_mb: MaxMbOpt = _DEFAULT_MB,
) -> None:
    """One row per session: SA metrics with an SA profile, else variables as they are.

    Self-administration metrics (infusions, presses in timeout, ...) need a
    profile with ``summary = "self_administration"``; any other profile (by
    default ``generic``) reports every scalar and array under its letter and
    event counts by name (docs/medpc.md defines each).
    """
    from neuroadapt.analysis import breakpoints, session_metrics
    from neuroadapt.io.medpc import MedPCError, combine_summaries, summary_table

    if timeout_s is not None and not (math.isfinite(timeout_s) and timeout_s >= 0):
        raise UserError(f"option '--timeout-s' = {timeout_s}: must be a finite number >= 0")
    if out is not None and out.is_dir():
        raise UserError(f"option '--out' = '{out}': is a directory; give a .csv file")
    max_bytes = _max_bytes(max_mb)
    prof = _profile(profile)
    if prof.summary == "self_administration":
        _, _, events, sessions = _tables(files, profile, max_bytes)
        metrics = session_metrics(events, sessions, timeout_s=timeout_s)
        if progressive_ratio:
            metrics = metrics.merge(breakpoints(events), on="session", how="left")
    else:
        flags = {"--timeout-s": timeout_s is not None, "--progressive-ratio": progressive_ratio}
        for flag, given in flags.items():
            if given:
                raise UserError(
                    f"option '{flag}': needs a self-administration profile; profile "
                    f"'{prof.name}' has summary '{prof.summary}' (see docs/medpc.md)"
                )
        tables, first = [], 0
        for path, result in _parsed(files, max_bytes):
            try:
                table = summary_table(result.sessions, prof, first=first)
            except MedPCError as exc:
                raise UserError(f"file '{path}', profile '{prof.name}': {exc.message}") from None
            _check_msn(path, result, prof)
            table.insert(1, "path", str(path))
            tables.append(table)
            first += len(result)
        metrics = combine_summaries(tables)
    if out is not None:
        from neuroadapt.atomic import write_with

        write_with(out, lambda tmp: metrics.to_csv(tmp, index=False), suffix=".csv")
        console.print(f"wrote {str(out)} ({len(metrics)} sessions)")
    else:
        sys.stdout.write(metrics.to_csv(index=False))


@medpc_app.command("to-csv")
def to_csv(
    files: FilesArg,
    profile: ProfileOpt,
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    max_mb: MaxMbOpt = _DEFAULT_MB,
) -> None:
    """Write events.csv (one row per event) and sessions.csv (header and named scalars)."""
    import pandas as pd

    from neuroadapt.atomic import write_with

    if out.exists() and not out.is_dir():
        raise UserError(f"option '--out' = '{out}': exists and is not a directory")
    prof, parsed, events, sessions = _tables(files, profile, _max_bytes(max_mb))
    events = events.merge(sessions[["session", "path"]], on="session", how="left")
    scalars = []
    for path, result in parsed:
        for s in result.sessions:
            for letter, value in s.scalars.items():
                scalars.append((str(path), s.line, letter, prof.meaning(letter), value))
    scalar_table = pd.DataFrame(scalars, columns=["path", "line", "letter", "meaning", "value"])
    for name, table in (("events", events), ("sessions", sessions), ("scalars", scalar_table)):
        write_with(out / f"{name}.csv", lambda tmp, t=table: t.to_csv(tmp, index=False), ".csv")
    console.print(f"wrote {str(out)}/ (events.csv: {len(events)} rows, sessions.csv, scalars.csv)")
