r"""Write sessions as MED-PC IV text, atomically.

Two layouts (``layout=``):

``"neuroadapt"`` (default)
    any number of sessions in one file: a ``File:`` line and two blank lines,
    then per session the header fields, the scalars (``C:       0.000``,
    alphabetical), the arrays (``A:`` and rows ``     0:    10602.001 ...``
    five values a row by default, alphabetical), comment lines (``\...``), two
    blank lines between sessions, CRLF line ends.
``"medpc"``
    MED-PC IV's own data file, byte for byte as MED-PC writes it: one session
    per file, named ``!YYYY-MM-DD_HHhMMm.Subject NAME`` (:func:`medpc_file_name`),
    whose ``File:`` line names that file and is followed by MED-PC's blank
    lines (``LF``, then ``CR CR LF``, which readers such as MPCdata look for).
    Every array holds at least one value, as MED-PC's ``DIM`` arrays do.

Numbers are written with three decimals as MED-PC does; a value that three
decimals cannot hold exactly is written in full (``repr``), so
``parse_medpc(format_medpc(s))`` gives back exactly ``s``.
:func:`format_mpc_stub` writes a stub program (``<MSN>.MPC``) that declares
the arrays, for readers that look for the program beside the data
(medpc2excel).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from neuroadapt.atomic import write_with
from neuroadapt.io.medpc.events import encode_events
from neuroadapt.io.medpc.model import HEADER_FIELDS, Header, Session
from neuroadapt.io.medpc.profile import Profile

__all__ = [
    "LAYOUTS",
    "build_session",
    "format_medpc",
    "format_mpc_stub",
    "format_value",
    "medpc_file_name",
    "write_medpc",
]

_EOL = "\r\n"
#: The layouts :func:`format_medpc` writes.
Layout = Literal["neuroadapt", "medpc"]
LAYOUTS: tuple[str, ...] = get_args(Layout)
#: What MED-PC writes after the ``File:`` line: CRLF, then a line of LF, then CR CR LF.
_MEDPC_AFTER_FILE = "\r\n\n\r\r\n"
_FILE_NAME_FORBIDDEN = set('/\\:*?"<>|\0')


def format_value(value: float) -> str:
    """MED-PC's three-decimal form, or the exact form when three decimals would round.

    >>> format_value(9544.001), format_value(2.0), format_value(0.1234)
    ('9544.001', '2.000', '0.1234')
    """
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"MED-PC cannot store {v}")
    text = f"{v:.3f}"
    return text if float(text) == v else repr(v)


def _session_lines(session: Session, columns: int | None) -> list[str]:
    lines = []
    for name, value in session.header.as_fields().items():
        if name in ("Start Time", "End Time"):
            lines.append(f"{name}: {value:>8}")  # MED-PC pads the hour: ' 8:39:51'
        elif name != "File":
            lines.append(f"{name}: {value}")
    for letter in sorted(session.scalars):
        lines.append(f"{letter}: {format_value(session.scalars[letter]):>11}")
    for letter in sorted(session.arrays):
        values = np.asarray(session.arrays[letter], dtype=float).ravel()
        width = columns or session.columns.get(letter) or 5
        lines.append(f"{letter}:")
        for start in range(0, values.size, width):
            row = "".join(f" {format_value(v):>12}" for v in values[start : start + width])
            lines.append(f"{start:>6}:{row}")
    lines.extend("\\" + c for c in session.comments)
    return lines


def format_medpc(
    sessions: Iterable[Session], columns: int | None = 5, layout: Layout = "neuroadapt"
) -> str:
    """MED-PC IV text of one or several sessions (one file).

    Parameters
    ----------
    sessions
        The sessions, in file order. A ``File:`` line is written before the
        first session and again wherever the sessions' ``file`` field changes.
    columns
        Values per array row (MED-PC's default is 5); ``None`` keeps each
        array's layout as read.
    layout
        ``"neuroadapt"`` or ``"medpc"`` (see the module docstring).

    Raises
    ------
    ValueError
        An unknown layout; for ``"medpc"``, not exactly one session, a session
        without a ``File:`` field, or an empty array.
    """
    sessions = list(sessions)
    if layout == "medpc":
        return _medpc_layout(sessions, columns)
    if layout != "neuroadapt":
        raise ValueError(f"layout '{layout}': must be one of {', '.join(LAYOUTS)}")
    out: list[str] = []
    current_file: object = object()
    for i, session in enumerate(sessions):
        if session.header.file != current_file:
            current_file = session.header.file
            if session.header.file is not None:
                out += [f"File: {session.header.file}", "", ""]
            elif i:
                out += ["", ""]
        elif i:
            out += ["", ""]
        out += _session_lines(session, columns)
    return _EOL.join(out) + _EOL


def _medpc_layout(sessions: list[Session], columns: int | None) -> str:
    if len(sessions) != 1:
        raise ValueError(f"layout 'medpc' holds one session per file, not {len(sessions)}")
    (session,) = sessions
    if session.header.file is None:
        raise ValueError("layout 'medpc' needs the session's File: field")
    empty = sorted(k for k, v in session.arrays.items() if np.size(v) == 0)
    if empty:
        raise ValueError(
            f"layout 'medpc': arrays {', '.join(empty)} are empty; MED-PC's DIM arrays hold "
            "at least one value (pad them)"
        )
    body = _EOL.join(_session_lines(session, columns)) + _EOL
    return f"File: {session.header.file}{_MEDPC_AFTER_FILE}{body}"


def medpc_file_name(header: Header) -> str:
    """The name MED-PC gives a session's data file: ``!YYYY-MM-DD_HHhMMm.Subject NAME``.

    >>> medpc_file_name(Header(subject="R001", start_date="01/05/26", start_time="9:00:00"))
    '!2026-01-05_09h00m.Subject R001'

    Raises
    ------
    ValueError
        A header without a readable start date and time or a subject, or a
        subject with a character no file name may hold.
    """
    start = header.start
    if start is None or header.start_time is None or not header.subject:
        raise ValueError("a MED-PC file name needs Start Date, Start Time and Subject")
    bad = sorted(_FILE_NAME_FORBIDDEN & set(header.subject))
    if bad:
        raise ValueError(f"subject '{header.subject}' holds {bad!r}, not allowed in file names")
    return f"!{start:%Y-%m-%d_%Hh%Mm}.Subject {header.subject}"


def format_mpc_stub(msn: str, arrays: Mapping[str, int], profile: Profile | None = None) -> str:
    r"""A stub MedState program ``<msn>.MPC`` that declares the arrays the data hold.

    Readers such as medpc2excel name the arrays of a data file from the
    ``DIM`` lines of its program, which they look for beside the data. The
    stub is a declaration, not a program MED-PC could run: it holds comment
    lines (``\ ...``) and one ``DIM X = n \ meaning`` per array.

    Parameters
    ----------
    msn
        The program name (the sessions' ``MSN:`` field).
    arrays
        Letter -> the largest number of values any session stores in it.
    profile
        Gives each letter's meaning (else the letter stands alone).

    >>> print(format_mpc_stub("P1", {"E": 120}), end="")  # doctest: +NORMALIZE_WHITESPACE
    \ P1.MPC: a stub written by neuroadapt, not a program MED-PC can run.
    \ It declares the arrays of the data files whose MSN is P1,
    \ for readers that name the arrays from the program (medpc2excel).
    DIM E = 119  \ E
    """
    if not msn or set(msn) & _FILE_NAME_FORBIDDEN:
        raise ValueError(f"MSN '{msn}': cannot name a .MPC file")
    who = f" (profile {profile.name})" if profile is not None else ""
    lines = [
        f"\\ {msn}.MPC: a stub written by neuroadapt, not a program MED-PC can run.",
        f"\\ It declares the arrays of the data files whose MSN is {msn}{who},",
        "\\ for readers that name the arrays from the program (medpc2excel).",
    ]
    if profile is not None and profile.scalars:
        lines.append("\\ Scalars:")
        lines += [f"\\   {k} = {v}" for k, v in sorted(profile.scalars.items())]
    for letter in sorted(arrays):
        n = int(arrays[letter])
        if n < 1:
            raise ValueError(f"array {letter}: DIM needs at least one value")
        meaning = (profile.meaning(letter) if profile is not None else None) or letter
        # medpc2excel takes the name up to the first run of two spaces
        lines.append(f"DIM {letter} = {n - 1}  \\ {' '.join(meaning.split())}")
    return _EOL.join(lines) + _EOL


def write_medpc(
    path: str | os.PathLike[str],
    sessions: Iterable[Session],
    columns: int | None = 5,
    layout: Layout = "neuroadapt",
) -> Path:
    """Write sessions to ``path`` as MED-PC IV text (atomic; UTF-8, CRLF).

    With ``layout="medpc"`` the one session's ``File:`` field should end in
    the file's name (:func:`medpc_file_name`); a mismatch is an error.
    """
    sessions = list(sessions)
    if layout == "medpc" and sessions and sessions[0].header.file is not None:
        named = sessions[0].header.file.replace("\\", "/").rsplit("/", 1)[-1]
        if named != Path(path).name:
            raise ValueError(f"File: field names '{named}' but the file is '{Path(path).name}'")
    data = format_medpc(sessions, columns, layout).encode("utf-8")
    return write_with(path, lambda tmp: tmp.write_bytes(data))


def build_session(
    profile: Profile,
    header: Header | Mapping[str, str],
    scalars: Mapping[str, float],
    times_s: Sequence[float] | np.ndarray,
    events: Sequence[str],
    comments: Sequence[str] = (),
) -> Session:
    """A session whose event arrays hold ``events`` in the profile's encoding.

    Parameters
    ----------
    profile
        Gives the encoding and the code of each event name.
    header
        A :class:`Header` or a mapping keyed by MED-PC field names.
    scalars
        Letter -> value (e.g. the counters); the profile's ``count_scalar`` is
        set to the number of events written.
    times_s, events
        Event times in seconds from session start and event names.

    Raises
    ------
    ValueError
        An event name the profile has no code for, or times the encoding cannot hold.
    """
    if profile.events is None:
        raise ValueError(f"profile '{profile.name}' defines no events")
    spec = profile.events
    code_of = {name: code for code, name in spec.codes.items()}
    unknown = sorted(set(events) - set(code_of))
    if unknown:
        raise ValueError(f"profile '{profile.name}' has no code for events {unknown}")
    codes = np.array([code_of[e] for e in events], dtype=np.int64)
    arrays = encode_events(times_s, codes, spec)
    out_scalars = dict(scalars)
    if spec.count_scalar is not None:
        out_scalars[spec.count_scalar] = float(len(events))
    if not isinstance(header, Header):
        header = Header.from_fields({k: v for k, v in header.items() if k in HEADER_FIELDS})
    return Session(
        header=header,
        scalars=out_scalars,
        arrays=dict(arrays),
        columns={k: 5 for k in arrays},
        comments=tuple(comments),
    )
