"""Typed MED-PC sessions: header fields, scalars A–Z and arrays, as parsed.

Values are kept as MED-PC wrote them (floats, arrays in file order, padding and
sentinels included); meaning is added later by a :class:`~.profile.Profile`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuroadapt.io.medpc.errors import SkippedSession

__all__ = ["HEADER_FIELDS", "Header", "MedPCFile", "Session"]

#: Header fields of MED-PC IV, in the order it writes them (``File`` once per file).
HEADER_FIELDS: tuple[str, ...] = (
    "File",
    "Start Date",
    "End Date",
    "Subject",
    "Experiment",
    "Group",
    "Box",
    "Start Time",
    "End Time",
    "MSN",
)
_ATTR = {name: name.lower().replace(" ", "_") for name in HEADER_FIELDS}


@dataclass(frozen=True)
class Header:
    """The header of one session; every field is the text after ``Name:``, stripped.

    ``None`` means the field was absent. ``file`` is the ``File:`` line of the
    file the session came from (MED-PC writes it once per file).
    """

    file: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    subject: str | None = None
    experiment: str | None = None
    group: str | None = None
    box: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    msn: str | None = None

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> Header:
        """Build from a mapping keyed by the MED-PC names (``"Start Date"``...)."""
        return cls(**{_ATTR[k]: v for k, v in fields.items() if k in _ATTR})

    def as_fields(self) -> dict[str, str]:
        """The fields that are present, keyed by their MED-PC names, in file order."""
        out = {}
        for name in HEADER_FIELDS:
            value = getattr(self, _ATTR[name])
            if value is not None:
                out[name] = value
        return out

    @property
    def start(self) -> dt.datetime | None:
        """Start date and time (``MM/DD/YY`` and ``H:MM:SS``), or ``None`` if unreadable."""
        return _datetime(self.start_date, self.start_time)

    @property
    def end(self) -> dt.datetime | None:
        """End date and time, or ``None`` if unreadable."""
        return _datetime(self.end_date, self.end_time)

    @property
    def group_fields(self) -> dict[str, str]:
        """``Key: value`` pairs packed into the Group line after ``/``.

        Some labs put several fields on the one ``Group:`` line
        (``Group: 6/ Sex: Male/ Genotype: TetO1B``); this returns
        ``{"Group": "6", "Sex": "Male", "Genotype": "TetO1B"}``. A plain group
        gives ``{"Group": value}``.
        """
        if self.group is None:
            return {}
        parts = [p.strip() for p in self.group.split("/")]
        out = {"Group": parts[0]}
        for part in parts[1:]:
            key, sep, value = part.partition(":")
            if sep and key.strip():
                out[key.strip()] = value.strip()
        return out


def _datetime(date: str | None, time: str | None) -> dt.datetime | None:
    if not date:
        return None
    for fmt in ("%m/%d/%y", "%m/%d/%Y"):
        try:
            day = dt.datetime.strptime(date.strip(), fmt)
            break
        except ValueError:
            continue
    else:
        return None
    if time:
        try:
            clock = dt.datetime.strptime(time.strip(), "%H:%M:%S").time()
        except ValueError:
            return None
        day = dt.datetime.combine(day.date(), clock)
    return day


@dataclass(frozen=True, eq=False)
class Session:
    r"""One MED-PC session.

    Attributes
    ----------
    header : Header
        Header fields.
    scalars : dict[str, float]
        Single-value variables by letter, in the order read.
    arrays : dict[str, numpy.ndarray]
        Array variables by letter (float64, every value written, padding included).
    columns : dict[str, int]
        Values per row of each array as written (1 for ``DISKCOLUMNS = 1``, 5 by
        default, 6 in some programs).
    comments : tuple[str, ...]
        Comment lines (``\...``) that followed the session, without the backslash.
    line : int
        Line where the session starts in its file (0 for sessions built in memory).
    """

    header: Header = field(default_factory=Header)
    scalars: dict[str, float] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    columns: dict[str, int] = field(default_factory=dict)
    comments: tuple[str, ...] = ()
    line: int = 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Session):
            return NotImplemented
        return (
            self.header == other.header
            and self.scalars == other.scalars
            and self.arrays.keys() == other.arrays.keys()
            and all(np.array_equal(self.arrays[k], other.arrays[k]) for k in self.arrays)
            and self.comments == other.comments
        )

    __hash__ = None  # type: ignore[assignment]

    def variable(self, letter: str) -> float | np.ndarray:
        """The scalar or array stored under ``letter``.

        Raises
        ------
        KeyError
            If the session has no such variable.
        """
        if letter in self.scalars:
            return self.scalars[letter]
        return self.arrays[letter]

    def describe(self) -> dict[str, object]:
        """Header fields and variables as parsed: scalars with values, arrays with lengths."""
        return {
            "line": self.line,
            "header": self.header.as_fields(),
            "group_fields": self.header.group_fields,
            "scalars": dict(self.scalars),
            "arrays": {
                k: {"length": int(v.size), "columns": self.columns.get(k, 5)}
                for k, v in self.arrays.items()
            },
            "comments": list(self.comments),
        }


@dataclass(frozen=True)
class MedPCFile:
    """What the reader found in one file: the sessions and the sessions it skipped."""

    path: Path | None
    sessions: tuple[Session, ...]
    skipped: tuple[SkippedSession, ...] = ()

    def __len__(self) -> int:
        return len(self.sessions)

    def __iter__(self):
        return iter(self.sessions)

    def __getitem__(self, i: int) -> Session:
        return self.sessions[i]

    def describe(self) -> dict[str, object]:
        """JSON-ready description (``neuroadapt medpc inspect --json``)."""
        return {
            "path": None if self.path is None else str(self.path),
            "sessions": [s.describe() for s in self.sessions],
            "skipped": [s.as_dict() for s in self.skipped],
        }
