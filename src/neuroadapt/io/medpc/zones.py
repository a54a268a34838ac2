"""Place-preference time-in-zone tables, in the style of ANY-maze and ezTrack exports.

One row per animal and test, wide like the exports of video-tracking tools
(ANY-maze writes ``<zone> : time (s)`` columns; ezTrack's location-tracking
summary one column per region of interest):

==========================  =================================================
column                      meaning
==========================  =================================================
``Animal``                  subject identifier
``Group``                   treatment group (e.g. ``heroin 1 mg/kg``)
``Phase``                   ``pre``, ``post``, ``extinction``, ``reinstatement``
                            (or any label the protocol uses)
``Day``                     day of the protocol (integer)
``Drug-paired zone``        name of the compartment paired with the drug
``Vehicle-paired zone``     name of the compartment paired with vehicle
``Test duration (s)``       length of the test
``<zone> : time (s)``       seconds spent in each zone (one column per zone,
                            e.g. ``white : time (s)``, ``black : time (s)``,
                            ``centre : time (s)``)
==========================  =================================================

In memory the table is tidy (:data:`ZONE_COLUMNS`): one row per animal, test
and zone, which is what :mod:`neuroadapt.analysis.place_preference` reads.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from neuroadapt.atomic import write_with

__all__ = ["ZONE_COLUMNS", "ZoneTableError", "read_zone_table", "write_zone_table"]

#: Columns of the tidy in-memory form.
ZONE_COLUMNS: tuple[str, ...] = (
    "subject",
    "group",
    "phase",
    "day",
    "paired_zone",
    "vehicle_zone",
    "duration_s",
    "zone",
    "time_s",
)
_WIDE = {
    "subject": "Animal",
    "group": "Group",
    "phase": "Phase",
    "day": "Day",
    "paired_zone": "Drug-paired zone",
    "vehicle_zone": "Vehicle-paired zone",
    "duration_s": "Test duration (s)",
}
_ZONE_COL = re.compile(r"(.+?) : time \(s\)\Z")


class ZoneTableError(ValueError):
    """A time-in-zone table is invalid; the message names the column or row."""


def write_zone_table(path: str | os.PathLike[str], table: pd.DataFrame) -> Path:
    """Write a tidy time-in-zone table as a wide CSV (atomic).

    Parameters
    ----------
    path
        Destination ``.csv``.
    table
        Tidy table with :data:`ZONE_COLUMNS`.
    """
    missing = [c for c in ZONE_COLUMNS if c not in table.columns]
    if missing:
        raise ZoneTableError(f"table lacks columns {missing}")
    keys = list(_WIDE)
    wide = table.pivot_table(index=keys, columns="zone", values="time_s", aggfunc="sum", sort=False)
    wide.columns = [f"{z} : time (s)" for z in wide.columns]
    wide = wide.reset_index().rename(columns=_WIDE)
    return write_with(path, lambda tmp: wide.to_csv(tmp, index=False), suffix=".csv")


def read_zone_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a wide time-in-zone CSV into the tidy form (:data:`ZONE_COLUMNS`).

    Raises
    ------
    ZoneTableError
        A required column is missing, no ``<zone> : time (s)`` column exists, a
        time is negative or not a number, or a paired zone has no time column.
    """
    try:
        wide = pd.read_csv(path, dtype={"Animal": str, "Group": str, "Phase": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ZoneTableError(f"{path}: cannot read as CSV ({exc})") from None
    missing = [w for w in _WIDE.values() if w not in wide.columns]
    if missing:
        raise ZoneTableError(f"{path}: missing columns {missing}")
    zones = {m.group(1): c for c in wide.columns if (m := _ZONE_COL.match(str(c)))}
    if not zones:
        raise ZoneTableError(f"{path}: no '<zone> : time (s)' columns")
    for col in [*zones.values(), _WIDE["duration_s"]]:
        values = pd.to_numeric(wide[col], errors="coerce")
        if values.isna().any() or (values < 0).any():
            row = int(values[values.isna() | (values < 0)].index[0]) + 2
            raise ZoneTableError(f"{path}: column '{col}', row {row}: not a time >= 0")
    for col in ("paired_zone", "vehicle_zone"):
        unknown = set(wide[_WIDE[col]].astype(str)) - set(zones)
        if unknown:
            raise ZoneTableError(
                f"{path}: column '{_WIDE[col]}' names {sorted(unknown)}, "
                f"zones with times are {sorted(zones)}"
            )
    long = wide.rename(columns={v: k for k, v in _WIDE.items()}).melt(
        id_vars=list(_WIDE), value_vars=list(zones.values()), var_name="zone", value_name="time_s"
    )
    long["zone"] = long["zone"].map({c: z for z, c in zones.items()})
    long["day"] = long["day"].astype(int)
    long = long.sort_values(["subject", "day", "phase", "zone"], kind="stable")
    return long[list(ZONE_COLUMNS)].reset_index(drop=True)
