"""A per-session summary that names nothing it does not know: the generic profile's.

:func:`summary_table` reports each session's header, every scalar (under the
profile's name for it, else its letter), every array's number of values
(``E_length``) and, when the profile decodes events, the number of events of
each name (``n_lick``). It makes no claim about what the task is; the
self-administration metrics of :func:`neuroadapt.analysis.session_metrics`
are for profiles that say ``summary = "self_administration"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from neuroadapt.io.medpc.events import decode_session, sessions_table
from neuroadapt.io.medpc.model import Session
from neuroadapt.io.medpc.profile import Profile, load_profile

__all__ = ["combine_summaries", "summary_table"]

_LETTER = re.compile(r"[A-Z]\Z")
_LENGTH = re.compile(r"[A-Z]_length\Z")


def summary_table(
    sessions: Iterable[Session], profile: Profile | None = None, first: int = 0
) -> pd.DataFrame:
    """One row per session: header, scalars and array lengths as they are, event counts.

    Parameters
    ----------
    sessions
        Parsed sessions.
    profile
        Names for letters and, with ``[events]``, how to decode them; default
        the shipped ``generic`` profile (letters only, no events).
    first
        Number of the first session (the ``session`` column counts from it).

    Returns
    -------
    pandas.DataFrame
        The :func:`~neuroadapt.io.medpc.sessions_table` columns (without
        ``timeout_s`` when the profile names no timeout), then one
        column per scalar letter the profile does not name (alphabetical), one
        ``<letter>_length`` per array (nullable integers), and with events ``events`` (all) and
        ``n_<event>`` per event name (0 where a session has none). A variable
        a session lacks is missing (NaN), not 0.

    Raises
    ------
    MedPCError
        If the profile's events cannot be decoded from a session.

    Examples
    --------
    >>> s = Session(scalars={"A": 3.0}, arrays={"E": np.zeros(5)})
    >>> row = summary_table([s]).iloc[0]
    >>> float(row["A"]), int(row["E_length"])
    (3.0, 5)
    """
    profile = load_profile("generic") if profile is None else profile
    sessions = list(sessions)
    base = sessions_table(sessions, profile, first=first)
    if profile.session.timeout_scalar is None and profile.session.timeout_s is None:
        base = base.drop(columns="timeout_s")  # the profile knows of no timeout
    rows, letters, arrays, names = [], set(), set(), set()
    for s in sessions:
        row: dict[str, float] = {}
        for letter, value in s.scalars.items():
            if letter not in profile.scalars:
                row[letter] = value
                letters.add(letter)
        for letter, values in s.arrays.items():
            row[f"{letter}_length"] = values.size
            arrays.add(f"{letter}_length")
        if profile.events is not None:
            _, codes = decode_session(s, profile.events)
            row["events"] = codes.size
            found, counts = np.unique(codes, return_counts=True)
            for code, n in zip(found, counts, strict=True):
                name = f"n_{profile.events.name(int(code))}"
                row[name] = row.get(name, 0) + int(n)  # two codes may share a name
                names.add(name)
        rows.append(row)
    columns = sorted(letters) + sorted(arrays)
    if profile.events is not None:
        columns += ["events", *sorted(names)]
    extra = pd.DataFrame(rows, columns=columns, index=base.index)
    return combine_summaries([pd.concat([base, extra], axis=1)])


def combine_summaries(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Stack :func:`summary_table` outputs (e.g. one per file) into one table.

    Columns come in one order whatever the files hold: the session columns
    (first seen first), scalar letters, ``<letter>_length``, ``events``, then
    ``n_<event>``; an event a file never saw counts 0 there, a variable a
    session lacks stays missing.
    """
    table = pd.concat(list(tables), ignore_index=True) if len(tables) else pd.DataFrame()
    cols = list(table.columns)
    letters = sorted(c for c in cols if _LETTER.match(c))
    lengths = sorted(c for c in cols if _LENGTH.match(c))
    counts = sorted(c for c in cols if c.startswith("n_"))
    events = ["events"] if "events" in cols else []
    tail = [*letters, *lengths, *events, *counts]
    table = table[[c for c in cols if c not in tail] + tail]
    table[lengths] = table[lengths].astype("Int64")  # lengths; a missing array stays <NA>
    table[counts] = table[counts].fillna(0).astype(np.int64)
    if events:
        table["events"] = table["events"].astype("Int64")
    return table
