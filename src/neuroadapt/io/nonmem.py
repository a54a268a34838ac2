"""NONMEM-style event tables: dose and observation records that pharmacometric tools read.

One row per record with the standard data items:

======  =============================================================
ID      subject number
TIME    hours
AMT     amount, mg (or mg/kg with ``AMTU = "mg/kg"``; see below); 0 on observations
CMT     dosing compartment (:func:`cmt_table`); 0 (default) on observations
EVID    1 = dose; 0 = observation (ignored on reading)
MDV     1 = dose record (no DV); 0 = observation record
DV      observed value; missing (``.``) in the tables written here
RATE    AMT / infusion duration (mg/h); 0 = bolus
ADDL    number of additional doses
II      interval between the additional doses, hours
======  =============================================================

``CMT`` numbers one (drug, route) pair each, fixed for ever in the drug table's
ledger ``model/cmt.csv`` (a new drug or route appends numbers; see
:func:`neuroadapt.model.routes.dosing_compartments`); :func:`cmt_table` lists
them (and docs/formats.md prints the map). Observation rows are written at the
requested times (``observation_times_h``) with ``DV`` missing, so that a
pharmacometric tool can simulate or fit at them; a table needs at least one
per subject to be read as a NONMEM dataset (pharmpy drops subjects without).
At equal times the observation comes first (a trough, before the dose).

NONMEM tables are numeric. Weight-based amounts (``mg/kg``) are converted to
mg when body weights are given; otherwise they are kept and flagged in an extra
string column ``AMTU`` (drop it in ``$INPUT`` before NONMEM reads the file).
Writing compresses regular repeats into one row with ``ADDL``/``II``; reading
expands them again, so ``nonmem_to_events(events_to_nonmem(ev))`` gives the
events back (infusion durations exactly when they are whole seconds, otherwise
to floating-point rounding, since only ``RATE = AMT / duration`` is stored).
``TIME`` and ``II`` are written as the shortest decimal within two units in
the last place (``36.300000000000004`` is written ``36.3``), so they read back
equal to floating-point rounding. :func:`write_nonmem_csv` also writes a
pharmpy ``.datainfo`` file beside the table (column types and units, ``AMTU``
dropped), which ``pharmpy`` reads with the dataset.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from neuroadapt.atomic import write_text
from neuroadapt.model.dose import Dose
from neuroadapt.model.routes import cmt_number, cmt_pair, dosing_compartments
from neuroadapt.scenarios.regimen import sort_events

#: How a missing value (a dose row's DV) is written, read and declared to pharmpy.
MISSING = "."

__all__ = [
    "NONMEM_COLUMNS",
    "NonmemError",
    "cmt_table",
    "events_to_nonmem",
    "nonmem_to_events",
    "read_nonmem_csv",
    "write_nonmem_csv",
]

#: Columns written, in order (``AMTU`` is appended when weight-based amounts remain).
NONMEM_COLUMNS: tuple[str, ...] = (
    "ID",
    "TIME",
    "AMT",
    "CMT",
    "EVID",
    "MDV",
    "DV",
    "RATE",
    "ADDL",
    "II",
)
_REQUIRED = ("ID", "TIME", "AMT", "CMT", "EVID")


class NonmemError(ValueError):
    """A NONMEM-style table is invalid; the message is one line.

    Parameters
    ----------
    column : str
        The offending column.
    row : int or None
        1-based data row (the header is not counted), ``None`` for the whole table.
    value : object
        The offending value.
    allowed : str
        What would have been accepted.
    """

    def __init__(self, column: str, row: int | None, value: object, allowed: str):
        self.column, self.row, self.value, self.allowed = column, row, value, allowed
        where = f"row {row}, " if row is not None else ""
        super().__init__(f"NONMEM table: {where}column '{column}' = {value!r}: {allowed}")


# ----------------------------------------------------------------- writing
def _rate(amount: float, duration: float) -> float:
    """Return a RATE for which ``amount / RATE == duration`` exactly, when one exists nearby."""
    rate = amount / duration
    if not 0 < rate < math.inf:
        raise NonmemError(
            "RATE",
            None,
            rate,
            f"a positive finite AMT / duration ({amount} mg over {duration} h cannot be written)",
        )
    candidate = rate
    for _ in range(8):
        if amount / candidate == duration:
            return candidate
        candidate = float(
            np.nextafter(candidate, np.inf if amount / candidate > duration else -np.inf)
        )
    return rate


def _duration(amount: float, rate: float) -> float:
    """Infusion duration ``AMT / RATE``, snapped to whole hours, minutes or seconds.

    ``AMT / RATE`` can be one rounding away from the duration that was written;
    a whole number of seconds that gives back the same RATE is taken instead.
    """
    duration = amount / rate
    for per_hour in (1.0, 60.0, 3600.0):
        nice = round(duration * per_hour) / per_hour
        if nice > 0 and abs(nice - duration) <= 1e-12 * duration and _rate(amount, nice) == rate:
            return nice
    return duration


def _weight(body_weight_kg: float | Mapping[int, float] | None, sid: int) -> float | None:
    if body_weight_kg is None or not isinstance(body_weight_kg, Mapping):
        return body_weight_kg
    if sid not in body_weight_kg:
        raise NonmemError("ID", None, sid, "a body weight for every subject")
    return body_weight_kg[sid]


def _compress(events: list[Dose]) -> list[tuple[Dose, int, float]]:
    """Group regular repeats: (first event, number of additional doses, interval)."""
    runs: list[list] = []  # [first event, n doses, interval]
    open_run: dict[tuple, list] = {}
    for ev in events:
        key = (ev.drug, ev.route, ev.amount, ev.unit, ev.duration_h)
        run = open_run.get(key)
        if run is not None:
            first, n, ii = run
            if n == 1 and ev.time_h > first.time_h:
                run[1], run[2] = 2, ev.time_h - first.time_h
                continue
            if n > 1 and ev.time_h == first.time_h + n * ii:
                run[1] += 1
                continue
        run = [ev, 1, 0.0]
        runs.append(run)
        open_run[key] = run
    return [(first, n - 1, ii) for first, n, ii in runs]


def _short(x: float) -> float:
    """Return the shortest decimal within two units in the last place of ``x``.

    ``36.3`` for ``36.300000000000004``; ``x`` itself when none is shorter.
    """
    if not math.isfinite(x) or x == 0:
        return x
    tol = 2 * math.ulp(x)
    for digits in range(16):
        y = round(x, digits)
        if abs(y - x) <= tol:
            return y
    return x


def _observations(
    times: Sequence[float] | Mapping[int, Sequence[float]] | None, ids: Sequence[int]
) -> dict[int, list[float]]:
    if times is None:
        return {}
    if isinstance(times, Mapping):
        per_id = {int(k): list(v) for k, v in times.items()}
        unknown = sorted(set(per_id) - set(ids))
        if unknown:
            raise NonmemError("ID", None, unknown[0], f"one of the dosed subjects {sorted(ids)}")
    else:
        per_id = {i: list(times) for i in ids}
    out = {}
    for sid, given in per_id.items():
        out[sid] = [
            _num(t, "TIME", None, allowed="observation times as finite hours") for t in given
        ]
    return out


def cmt_table() -> pd.DataFrame:
    """The ``CMT`` map: one row per dosing compartment (``CMT``, ``DRUG``, ``ROUTE``).

    ``CMT = 0`` (observation rows) is NONMEM's default observation compartment.
    """
    pairs = dosing_compartments()
    return pd.DataFrame(
        {
            "CMT": [cmt_number(d, r) for d, r in pairs],
            "DRUG": [d for d, _ in pairs],
            "ROUTE": [r for _, r in pairs],
        }
    )


def events_to_nonmem(
    events: Sequence[Dose] | Mapping[int, Sequence[Dose]],
    subject_ids: Sequence[int] | None = None,
    body_weight_kg: float | Mapping[int, float] | None = None,
    compress: bool = True,
    observation_times_h: Sequence[float] | Mapping[int, Sequence[float]] | None = None,
) -> pd.DataFrame:
    """Write dose events (and observation times) as a NONMEM-style table.

    Parameters
    ----------
    events : sequence of neuroadapt.model.dose.Dose, or mapping ID -> sequence of Dose
        One schedule (given to every subject in ``subject_ids``) or one per subject.
    subject_ids : sequence of int, optional
        IDs that receive a shared schedule; default ``[1]``.
    body_weight_kg : float or mapping ID -> float, optional
        Converts ``mg/kg`` amounts to mg. Without it they stay in mg/kg and an
        ``AMTU`` column says so.
    compress : bool
        Fold regular repeats into ``ADDL``/``II`` (default).
    observation_times_h : sequence of float, or mapping ID -> sequence of float, optional
        Times (h) of observation rows (``EVID = 0``, ``MDV = 0``, ``DV`` missing):
        the same for every subject, or per subject (IDs among those dosed).

    Returns
    -------
    pandas.DataFrame
        Columns ``ID, TIME, AMT, CMT, EVID, MDV, DV, RATE, ADDL, II`` (+ ``AMTU``),
        sorted by ID and TIME, observations before doses at equal times.
    """
    if isinstance(events, Mapping):
        if subject_ids is not None:
            raise NonmemError("ID", None, list(subject_ids), "none with per-subject events")
        schedules = {int(k): list(v) for k, v in events.items()}
    else:
        schedules = {int(i): list(events) for i in (subject_ids or [1])}
    observed = _observations(observation_times_h, list(schedules))
    rows = []
    for sid, evs in schedules.items():
        bw = _weight(body_weight_kg, sid)
        if bw is not None:
            evs = [
                Dose(e.time_h, e.drug, e.route, e.amount * bw, "mg", e.duration_h)
                if e.unit == "mg/kg"
                else e
                for e in evs
            ]
        evs = sort_events(evs)
        groups = _compress(evs) if compress else [(e, 0, 0.0) for e in evs]
        for ev, addl, ii in groups:
            rate = _rate(ev.amount, ev.duration_h) if ev.duration_h > 0 and ev.amount > 0 else 0.0
            rows.append(
                (
                    sid,
                    _short(ev.time_h),
                    ev.amount,
                    cmt_number(ev.drug, ev.route),
                    1,
                    1,
                    math.nan,
                    rate,
                    addl,
                    _short(ii),
                    ev.unit,
                )
            )
        for t in observed.get(sid, []):
            rows.append((sid, _short(t), 0.0, 0, 0, 0, math.nan, 0.0, 0, 0.0, "mg"))
    df = pd.DataFrame(rows, columns=[*NONMEM_COLUMNS, "AMTU"])
    df = df.sort_values(["ID", "TIME", "EVID", "CMT"], kind="stable", ignore_index=True)
    df = df.astype(
        {
            "ID": "int64",
            "TIME": "float64",
            "AMT": "float64",
            "CMT": "int64",
            "EVID": "int64",
            "MDV": "int64",
            "DV": "float64",
            "RATE": "float64",
            "ADDL": "int64",
            "II": "float64",
        }
    )
    return df if (df["AMTU"] == "mg/kg").any() else df.drop(columns="AMTU")


# ----------------------------------------------------------------- reading
def _num(
    value: object,
    column: str,
    row: int,
    integer: bool = False,
    low: float | None = None,
    allowed: str = "a number",
) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        x = math.nan
    if not math.isfinite(x) or (integer and not x.is_integer()) or (low is not None and x < low):
        raise NonmemError(column, row, value, allowed)
    return x


def nonmem_to_events(df: pd.DataFrame) -> dict[int, list[Dose]]:
    """Read dose events from a NONMEM-style table, expanding ``ADDL``/``II`` and ``RATE``.

    Parameters
    ----------
    df : pandas.DataFrame
        Needs ``ID, TIME, AMT, CMT, EVID``; ``RATE, ADDL, II, AMTU`` are optional
        (0 and ``"mg"`` when absent). Column names are case-insensitive.
        ``EVID = 0`` rows (observations) are ignored.

    Returns
    -------
    dict
        Subject ID -> events sorted by time (:func:`sort_events` order).

    Raises
    ------
    NonmemError
        One line naming the row, column and value: a missing column, an unknown
        ``CMT``, a negative ``AMT``, ``RATE = -1``/``-2`` (modelled rate or
        duration, not supported), ``ADDL > 0`` without ``II > 0`` and similar.
    """
    df = df.rename(columns=lambda c: str(c).strip().upper())
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise NonmemError(
            missing[0], None, "(missing)", "required columns: " + ", ".join(_REQUIRED)
        )
    out: dict[int, list[Dose]] = {}
    for i, rec in enumerate(df.to_dict("records"), start=1):
        evid = _num(rec["EVID"], "EVID", i, True, allowed="0 (observation) or 1 (dose)")
        if evid == 0:
            continue
        if evid != 1:
            raise NonmemError(
                "EVID",
                i,
                rec["EVID"],
                "0 (observation) or 1 (dose); resets (EVID 2-4) are not supported",
            )
        sid = int(_num(rec["ID"], "ID", i, True, allowed="an integer subject ID"))
        time = _num(rec["TIME"], "TIME", i, allowed="a finite time in hours")
        amt = _num(rec["AMT"], "AMT", i, low=0.0, allowed="an amount >= 0")
        cmt = int(_num(rec["CMT"], "CMT", i, True, allowed="an integer compartment number"))
        try:
            drug, route = cmt_pair(cmt)
        except ValueError as err:
            raise NonmemError("CMT", i, rec["CMT"], str(err).split("(")[-1].rstrip(")")) from None
        rate = _num(rec.get("RATE", 0.0), "RATE", i, allowed="a finite rate")
        if rate < 0:
            raise NonmemError(
                "RATE",
                i,
                rec["RATE"],
                "0 (bolus) or > 0 (mg/h); modelled rate/duration (RATE = -1, -2) is not supported",
            )
        addl = int(_num(rec.get("ADDL", 0), "ADDL", i, True, 0.0, "an integer >= 0"))
        ii = _num(rec.get("II", 0.0), "II", i, low=0.0, allowed="an interval >= 0 hours")
        if addl > 0 and ii <= 0:
            raise NonmemError("II", i, rec.get("II", 0.0), "an interval > 0 when ADDL > 0")
        unit = rec.get("AMTU", "mg")
        unit = "mg" if unit is None or (isinstance(unit, float) and math.isnan(unit)) else unit
        if unit not in ("mg", "mg/kg"):
            raise NonmemError("AMTU", i, unit, "'mg' or 'mg/kg'")
        duration = _duration(amt, rate) if rate > 0 else 0.0
        out.setdefault(sid, []).extend(
            Dose(time + k * ii, drug, route, amt, unit, duration) for k in range(addl + 1)
        )
    return {sid: sort_events(evs) for sid, evs in sorted(out.items())}


# ----------------------------------------------------------------- files
def read_nonmem_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a NONMEM-style CSV (``.`` means missing; floats read back exactly)."""
    # pandas >= 3 parses floats exactly by default and deprecates the option
    exact = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
    df = pd.read_csv(path, na_values=[MISSING], skipinitialspace=True, **exact)
    return df.rename(columns=lambda c: str(c).strip().upper())


#: pharmpy datainfo of each column written: (type, scale, unit; ``None`` for none).
_DATAINFO: dict[str, tuple[str, str, str | None]] = {
    "ID": ("id", "nominal", "1"),
    "TIME": ("idv", "ratio", "h"),
    "AMT": ("dose", "ratio", "mg"),
    "CMT": ("compartment", "nominal", None),
    "EVID": ("event", "nominal", None),
    "MDV": ("mdv", "nominal", "1"),
    "DV": ("dv", "ratio", None),
    "RATE": ("rate", "ratio", "mg/h"),
    "ADDL": ("additional", "ratio", None),
    "II": ("ii", "ratio", "h"),
}


def _datainfo(df: pd.DataFrame, csv_name: str) -> dict:
    """A pharmpy DataInfo (JSON schema version 1) describing the columns of ``df``."""
    columns = []
    for name in df.columns:
        kind, scale, unit = _DATAINFO.get(name, ("unknown", "nominal", None))
        if name == "AMT" and "AMTU" in df.columns:
            unit = None  # mg or mg/kg by row
        numeric = pd.api.types.is_numeric_dtype(df[name])
        columns.append(
            {
                "name": name,
                "drop": not numeric,  # NONMEM reads numbers only (AMTU)
                "datatype": ("int32" if pd.api.types.is_integer_dtype(df[name]) else "float64")
                if numeric
                else "str",
                "variable_id": None,
                "variable_mapping": {
                    "name": name,
                    "type": kind,
                    "scale": scale,
                    "count": False,
                    "properties": {} if unit is None else {"unit": unit},
                },
            }
        )
    return {
        "columns": columns,
        "path": csv_name,
        "separator": ",",
        "missing_data_token": MISSING,
        "provenance": {"operations": []},
        "__version__": 1,
    }


def write_nonmem_csv(df: pd.DataFrame, path: str | os.PathLike[str], datainfo: bool = True) -> None:
    """Write a NONMEM-style CSV atomically (``.`` for missing values).

    Parameters
    ----------
    df : pandas.DataFrame
        A table from :func:`events_to_nonmem`.
    path : path-like
        The CSV file.
    datainfo : bool
        Also write pharmpy's description of the columns (types, units; ``AMTU``
        dropped) to ``path`` with the suffix ``.datainfo``, where pharmpy looks
        for it (default).
    """
    target = Path(path)
    write_text(target, df.to_csv(index=False, na_rep=MISSING, lineterminator="\n"))
    if datainfo:
        write_text(
            target.with_suffix(".datainfo"), json.dumps(_datainfo(df, target.name), indent=2)
        )
