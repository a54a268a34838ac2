"""Decode time-stamped events with a profile into tidy tables, and encode them back.

:func:`events_table` gives one row per event (``session``, ``subject``,
``time_s``, ``code``, ``event``, ``role``) — the table every function of
:mod:`neuroadapt.analysis` reads, for real and simulated sessions alike.
:func:`sessions_table` gives one row per session (header fields, duration,
timeout and the profile's named scalars). :func:`encode_events` is the
inverse of decoding, used by the writer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from neuroadapt.io.medpc.errors import MedPCError
from neuroadapt.io.medpc.model import Session
from neuroadapt.io.medpc.profile import EventSpec, Profile

__all__ = [
    "EVENT_COLUMNS",
    "decode_session",
    "encode_events",
    "events_table",
    "sessions_table",
]

#: Columns of :func:`events_table`, in order.
EVENT_COLUMNS: tuple[str, ...] = ("session", "subject", "time_s", "code", "event", "role")


def _stored(session: Session, letter: str, spec: EventSpec) -> np.ndarray:
    if letter not in session.arrays:
        raise MedPCError(
            f"profile expects array {letter} for events; the session has "
            f"{', '.join(session.arrays) or 'no arrays'}",
            line=session.line,
        )
    values = session.arrays[letter]
    if spec.count_scalar is not None and spec.count_scalar in session.scalars:
        count = session.scalars[spec.count_scalar]
        if 0 <= count <= values.size and float(count).is_integer():
            values = values[: int(count)]
    if spec.sentinels:
        hit = np.flatnonzero(np.isin(values, np.asarray(spec.sentinels, dtype=float)))
        if hit.size:
            values = values[: hit[0]]
    nonzero = np.flatnonzero(values != 0)
    return values[: nonzero[-1] + 1] if nonzero.size else values[:0]


def decode_session(session: Session, spec: EventSpec) -> tuple[np.ndarray, np.ndarray]:
    """Times (s) and integer codes of one session's events, in stored order.

    Parameters
    ----------
    session
        A parsed session.
    spec
        The profile's event specification.

    Returns
    -------
    (times_s, codes)
        Float seconds and int64 codes.

    Raises
    ------
    MedPCError
        If the array is missing, or a value does not fit the encoding
        (negative, not an integer where one is required, code out of range).

    Examples
    --------
    >>> from neuroadapt.io.medpc.profile import EventSpec
    >>> spec = EventSpec(encoding="fraction", array="A", time_unit_s=0.002)
    >>> s = Session(arrays={"A": np.array([9544.001, 9599.036, 0.0])})
    >>> decode_session(s, spec)
    (array([19.088, 19.198]), array([ 1, 36]))
    """
    if spec.encoding == "paired":
        codes_raw = _stored(session, spec.code_array, spec)  # type: ignore[arg-type]
        times_raw = _stored(session, spec.time_array, spec)  # type: ignore[arg-type]
        n = max(codes_raw.size, times_raw.size)
        codes_raw = np.pad(codes_raw, (0, n - codes_raw.size))
        times_raw = np.pad(times_raw, (0, n - times_raw.size))
        if np.any(codes_raw != np.round(codes_raw)):
            raise MedPCError(
                f"array {spec.code_array}: event codes must be whole numbers", line=session.line
            )
        codes = codes_raw.astype(np.int64)
        units = times_raw
    else:
        values = _stored(session, spec.array, spec)  # type: ignore[arg-type]
        if np.any(values < 0) or not np.all(np.isfinite(values)):
            raise MedPCError(
                f"array {spec.array}: negative value where a packed time and code is expected "
                "(missing sentinel in the profile?)",
                line=session.line,
            )
        if spec.encoding == "fraction":
            units = np.floor(values)
            scale = 10**spec.code_digits
            codes = np.rint((values - units) * scale).astype(np.int64)
            carry = codes >= scale  # 12.9999999 written for 13.000
            units = units + carry
            codes = np.where(carry, 0, codes)
        elif spec.encoding == "integer":
            if np.any(values != np.round(values)):
                raise MedPCError(
                    f"array {spec.array}: integer-packed events must be whole numbers",
                    line=session.line,
                )
            packed = values.astype(np.int64)
            units = (packed // spec.multiplier).astype(float)
            codes = packed % spec.multiplier
        else:  # code_prefix
            codes = np.floor(values / spec.multiplier + 1e-9).astype(np.int64)
            units = np.round(values - codes * spec.multiplier, 9)
    if spec.intervals:
        units = np.cumsum(units)
    times = units * spec.time_unit_s
    if spec.relative_to_first and times.size:
        times = times - times[0]
    return np.round(times, 9), codes


def events_table(sessions: Iterable[Session], profile: Profile, first: int = 0) -> pd.DataFrame:
    """Decode every session's events into one tidy table.

    Parameters
    ----------
    sessions
        Parsed sessions (from one or several files).
    profile
        The program's profile; it must have an ``[events]`` section.
    first
        Number of the first session (the ``session`` column counts from it).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EVENT_COLUMNS`, one row per event, sorted by time
        within each session (stable, so simultaneous events keep file order).
        ``role`` is the analysis role of the event (``active_press``, ...) or
        missing.
    """
    if profile.events is None:
        raise MedPCError(f"profile '{profile.name}' defines no time-stamped events")
    spec = profile.events
    frames = []
    for i, session in enumerate(sessions, start=first):
        times, codes = decode_session(session, spec)
        order = np.argsort(times, kind="stable")
        names = [spec.name(int(c)) for c in codes[order]]
        frames.append(
            pd.DataFrame(
                {
                    "session": np.full(times.size, i, dtype=np.int64),
                    "subject": session.header.subject,
                    "time_s": times[order],
                    "code": codes[order],
                    "event": names,
                    "role": [profile.roles.of(n) for n in names],
                }
            )
        )
    if not frames:
        return pd.DataFrame({c: [] for c in EVENT_COLUMNS})
    table = pd.concat(frames, ignore_index=True)
    table["role"] = table["role"].astype("string")
    table["subject"] = table["subject"].astype("string")
    return table[list(EVENT_COLUMNS)]


def sessions_table(
    sessions: Iterable[Session], profile: Profile | None = None, first: int = 0
) -> pd.DataFrame:
    """One row per session: header fields, start, duration and timeout, named scalars.

    ``duration_s`` comes from the profile's ``duration_scalar``, else from the
    header's start and end times; ``timeout_s`` from ``timeout_scalar`` or the
    fixed ``timeout_s``. Named scalars get columns named by the profile.
    """
    rows = []
    for i, s in enumerate(sessions, start=first):
        h = s.header
        row: dict[str, object] = {
            "session": i,
            "subject": h.subject,
            "experiment": h.experiment,
            "group": h.group,
            "box": h.box,
            "msn": h.msn,
            "start": h.start,
            "file": h.file,
        }
        duration = None
        if h.start is not None and h.end is not None:
            span = (h.end - h.start).total_seconds()
            duration = span + 86400 if span < 0 else span
        timeout = None
        if profile is not None:
            ss = profile.session
            if ss.duration_scalar in s.scalars:
                duration = s.scalars[ss.duration_scalar] * ss.duration_unit_s
            timeout = ss.timeout_s
            if ss.timeout_scalar in s.scalars:
                timeout = s.scalars[ss.timeout_scalar] * ss.timeout_unit_s
            for letter, meaning in profile.scalars.items():
                if letter in s.scalars:
                    row[meaning] = s.scalars[letter]
        row["duration_s"] = duration
        row["timeout_s"] = timeout
        rows.append(row)
    return pd.DataFrame(rows)


def encode_events(
    times_s: Sequence[float] | np.ndarray,
    codes: Sequence[int] | np.ndarray,
    spec: EventSpec,
) -> dict[str, np.ndarray]:
    """Store events the way ``spec`` describes (the inverse of :func:`decode_session`).

    Times are rounded to the profile's clock (``time_unit_s``).

    Returns
    -------
    dict
        Array letter -> stored values (one array, or two for ``paired``).

    Raises
    ------
    ValueError
        Negative times, codes that do not fit the encoding, or times not in order
        when the encoding stores intervals.
    """
    t = np.asarray(times_s, dtype=float)
    c = np.asarray(codes, dtype=np.int64)
    if t.shape != c.shape:
        raise ValueError("times and codes differ in length")
    if np.any(t < 0) or np.any(c < 0):
        raise ValueError("times and codes must be >= 0")
    whole = spec.encoding in ("fraction", "integer")
    units = np.rint(t / spec.time_unit_s) if whole else np.round(t / spec.time_unit_s, 6)
    if spec.intervals:
        if np.any(np.diff(units) < 0):
            raise ValueError("interval encoding needs events in time order")
        units = np.diff(units, prepend=0.0)
    if spec.encoding == "paired":
        return {spec.code_array: c.astype(float), spec.time_array: units}  # type: ignore[dict-item]
    if spec.encoding == "fraction":
        scale = 10**spec.code_digits
        if np.any(c >= scale) or np.any(c == 0):
            raise ValueError(f"fraction encoding holds codes 1..{scale - 1}")
        values = units + c / scale
    elif spec.encoding == "integer":
        if np.any(c >= spec.multiplier):
            raise ValueError(f"integer encoding holds codes below {spec.multiplier}")
        values = units * spec.multiplier + c
    else:
        if np.any(units >= spec.multiplier) or np.any(c == 0):
            raise ValueError(
                f"code_prefix encoding needs codes >= 1 and times below {spec.multiplier} units"
            )
        values = c * spec.multiplier + units
    return {spec.array: values}  # type: ignore[dict-item]
