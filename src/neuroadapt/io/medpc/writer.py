r"""Write sessions as MED-PC IV text, atomically.

The layout is MED-PC IV's: a ``File:`` line and two blank lines, then per
session the header fields, the scalars (``C:       0.000``, alphabetical),
the arrays (``A:`` and rows ``     0:    10602.001 ...`` five values a row by
default, alphabetical), comment lines (``\...``), two blank lines between
sessions, CRLF line ends. Numbers are written with three decimals as MED-PC
does; a value that three decimals cannot hold exactly is written in full
(``repr``), so ``parse_medpc(format_medpc(s))`` gives back exactly ``s``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from neuroadapt.atomic import write_with
from neuroadapt.io.medpc.events import encode_events
from neuroadapt.io.medpc.model import HEADER_FIELDS, Header, Session
from neuroadapt.io.medpc.profile import Profile

__all__ = ["build_session", "format_medpc", "format_value", "write_medpc"]

_EOL = "\r\n"


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


def format_medpc(sessions: Iterable[Session], columns: int | None = 5) -> str:
    """MED-PC IV text of one or several sessions (one file).

    Parameters
    ----------
    sessions
        The sessions, in file order. A ``File:`` line is written before the
        first session and again wherever the sessions' ``file`` field changes.
    columns
        Values per array row (MED-PC's default is 5); ``None`` keeps each
        array's layout as read.
    """
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


def write_medpc(
    path: str | os.PathLike[str], sessions: Iterable[Session], columns: int | None = 5
) -> Path:
    """Write sessions to ``path`` as MED-PC IV text (atomic; UTF-8, CRLF)."""
    data = format_medpc(sessions, columns).encode("utf-8")
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
