"""Lab files of a virtual rat experiment: MED-PC IV text, zone tables and CSV tables.

One job: :func:`write_outputs` writes a protocol run
(``experiments.ratlab.RatLabResult``) as MED-PC files (profile
``neuroadapt-sa``, either layout), optional ``.MPC`` stubs, place-preference
zone tables and the design, withdrawal and override tables;
:func:`medpc_data_files` finds the data files again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from neuroadapt.atomic import write_with
from neuroadapt.engine.operant import CODES, SessionSpec
from neuroadapt.io.medpc import Header, load_profile
from neuroadapt.io.medpc.writer import (
    LAYOUTS,
    build_session,
    format_mpc_stub,
    medpc_file_name,
    write_medpc,
)
from neuroadapt.io.medpc.zones import write_zone_table

if TYPE_CHECKING:
    from neuroadapt.experiments.ratlab import RatLabResult

__all__ = [
    "CPP_SIDES",
    "LAYOUTS",
    "PROFILE",
    "START",
    "component_arrays",
    "medpc_data_files",
    "write_outputs",
]

#: Start of the first session (the date written to the MED-PC files).
START = dt.datetime(2026, 1, 5, 9, 0, 0)
PROFILE = "neuroadapt-sa"
#: Compartments of the place-preference box (drug side counterbalanced across rats).
CPP_SIDES = ("black", "white")


def _fmt_date(t: dt.datetime) -> str:
    return t.strftime("%m/%d/%y")


def _fmt_time(t: dt.datetime) -> str:
    return f"{t.hour}:{t.minute:02d}:{t.second:02d}"


def component_arrays(spec: SessionSpec, infusion_s: np.ndarray) -> dict[str, np.ndarray]:
    """Arrays I, J, K, L of a within-session unit-dose session (profile ``neuroadapt-sa``).

    I: component (1, 2, ...) of each infusion, in time order; J, K: start and
    end of each component (s); L: its unit dose (ug/kg/infusion).
    """
    comps = spec.schedule()
    starts = np.array([c.start_s for c in comps])
    ends = np.array([c.end_s for c in comps])
    which = np.searchsorted(starts, np.asarray(infusion_s, float), side="right")
    if np.any(which == 0) or np.any(np.asarray(infusion_s) >= ends[np.maximum(which - 1, 0)]):
        raise AssertionError("an infusion outside every component")  # the engine forbids it
    return {
        "I": which.astype(float),
        "J": starts,
        "K": ends,
        "L": np.array([1000.0 * c.mg_per_kg for c in comps]),
    }


def _with_components(session, spec: SessionSpec, infusion_s: np.ndarray):
    arrays = component_arrays(spec, infusion_s)
    return dataclasses.replace(
        session,
        arrays={**session.arrays, **arrays},
        columns={**session.columns, **{k: 5 for k in arrays}},
    )


def _dim_padded(session):
    """MED-PC's DIM arrays hold at least one value: an empty array holds one 0."""
    empty = {k: np.zeros(1) for k, v in session.arrays.items() if v.size == 0}
    return dataclasses.replace(session, arrays={**session.arrays, **empty}) if empty else session


def medpc_data_files(directory: str | os.PathLike[str]) -> list[Path]:
    """The MED-PC data files :func:`write_outputs` wrote under ``directory/medpc``, sorted.

    Both layouts: ``<subject>.txt`` and MED-PC's ``!YYYY-MM-DD_HHhMMm.Subject NAME``
    (not the ``.MPC`` stubs).
    """
    d = Path(directory) / "medpc"
    if not d.is_dir():
        return []
    return sorted({*d.glob("*.txt"), *d.glob("!*.Subject *")})


def _write_csv(path: Path, table: pd.DataFrame) -> Path:
    return write_with(path, lambda tmp: table.to_csv(tmp, index=False), suffix=".csv")


def write_outputs(
    result: RatLabResult,
    out: str | os.PathLike[str],
    layout: str = "neuroadapt",
    mpc_stub: bool = False,
) -> dict[str, Path]:
    """Write every operant session as MED-PC IV text and place preference as zone tables.

    Parameters
    ----------
    result
        A protocol run.
    out
        Output directory.
    layout
        ``"neuroadapt"``: ``out/medpc/<subject>.txt`` holds each rat's operant
        sessions. ``"medpc"``: MED-PC IV's own layout, one session per file
        named as MED-PC names it, ``out/medpc/!2026-01-05_09h00m.Subject R001``
        (its ``File:`` line names the file), which community parsers (MPCdata)
        read; an array with nothing to hold (I in a session without
        infusions) holds one 0, as MED-PC's ``DIM`` arrays do, and there is no
        comment line (day, phase and label are in ``tables/design.csv``).
        Both use profile ``neuroadapt-sa``.
    mpc_stub
        Also write ``out/medpc/<MSN>.MPC`` per program, a stub that declares
        the arrays (readers such as medpc2excel look for it beside the data).

    Returns
    -------
    dict
        What was written, by key: ``medpc/<file name>``, ``medpc/<MSN>.MPC``,
        ``cpp_zones`` (time in zone of every place-preference test),
        ``withdrawal`` (``tables/withdrawal.csv``, the naloxone tests) and
        ``design`` (``tables/design.csv``, the rat-by-day design).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout '{layout}': must be one of {', '.join(LAYOUTS)}")
    out = Path(out)
    profile = load_profile(PROFILE)
    names = {v: k for k, v in CODES.items()}
    paths: dict[str, Path] = {}
    s = result.sessions
    # the design row of each (subject, day), looked up once rather than by a mask per session
    rows = {
        (r.subject, r.day): r for r in s[["subject", "day", "msn", "phase", "label"]].itertuples()
    }
    by_file: dict[str, list] = {}
    for res in result.days:
        for i, spec in enumerate(res.specs):
            if spec.kind != "operant":
                continue
            subj = result.subjects[i]
            row = rows[subj, res.day]
            t0 = START + dt.timedelta(days=res.day)
            t1 = t0 + dt.timedelta(seconds=spec.duration_s)
            header = Header(
                start_date=_fmt_date(t0),
                end_date=_fmt_date(t1),
                subject=subj,
                experiment=result.protocol.name,
                group=result.groups[i],
                box=str(i % 16 + 1),
                start_time=_fmt_time(t0),
                end_time=_fmt_time(t1),
                msn=row.msn,
            )
            name = medpc_file_name(header) if layout == "medpc" else f"{subj}.txt"
            stem = name if layout == "medpc" else f"neuroadapt_{result.protocol.name}_{subj}"
            header = dataclasses.replace(header, file=f"C:\\MED-PC IV\\DATA\\{stem}")
            c = res.counters[i]
            scalars = {
                "A": c[0],
                "B": c[1],
                "C": c[2],
                "D": c[3],
                "F": c[4],
                "G": spec.unit_dose_mg_kg * 1000.0,
                "H": spec.timeout_s,
                "P": c[5],
                "S": spec.duration_s,
            }
            times, codes = res.events[i]
            session = build_session(
                profile,
                header,
                scalars,
                np.round(times, 2),
                [names[int(k)] for k in codes],
                # MED-PC's layout has no comment line: medpc2excel reads a comment with a
                # colon as array values (day, phase and label are in tables/design.csv)
                comments=()
                if layout == "medpc"
                else (f"neuroadapt day={res.day} phase={row.phase} label={row.label}",),
            )
            if spec.components:
                session = _with_components(session, spec, times[codes == CODES["infusion"]])
            if layout == "medpc":
                session = _dim_padded(session)
            by_file.setdefault(name, []).append(session)
    for name, sessions in by_file.items():
        paths[f"medpc/{name}"] = write_medpc(out / "medpc" / name, sessions, layout=layout)
    if mpc_stub:
        lengths: dict[str, dict[str, int]] = {}
        for sessions in by_file.values():
            for session in sessions:
                dims = lengths.setdefault(session.header.msn or "", {})
                for k, v in session.arrays.items():
                    dims[k] = max(dims.get(k, 1), int(v.size))
        for msn, dims in sorted(lengths.items()):
            data = format_mpc_stub(msn, dims, profile).encode("utf-8")  # CRLF kept as is
            paths[f"medpc/{msn}.MPC"] = write_with(
                out / "medpc" / f"{msn}.MPC", lambda tmp, b=data: tmp.write_bytes(b)
            )
    zone_rows = []
    for _, r in s[s["kind"] == "cpp_test"].iterrows():
        i = result.subjects.index(r["subject"])
        paired = result.zone_side[i]
        vehicle = CPP_SIDES[1 - CPP_SIDES.index(paired)]
        for zone, col in ((paired, "drug_s"), (vehicle, "vehicle_s"), ("centre", "centre_s")):
            zone_rows.append(
                {
                    "subject": r["subject"],
                    "group": r["group"],
                    "phase": r["label"],
                    "day": int(r["day"]),
                    "paired_zone": paired,
                    "vehicle_zone": vehicle,
                    "duration_s": r["duration_s"],
                    "zone": zone,
                    "time_s": float(r[col]),
                }
            )
    if zone_rows:
        paths["cpp_zones"] = write_zone_table(out / "cpp_zones.csv", pd.DataFrame(zone_rows))
    tables = out / "tables"
    nlx = s[s["withdrawal_peak_naloxone"].notna()]
    if len(nlx):
        thr = float(result.parameters()["withdrawal_sign_threshold"])
        w = nlx[["subject", "group", "day", "label", "unit_dose_mg_kg", "withdrawal_peak_naloxone"]]
        w = w.assign(signs_present=w["withdrawal_peak_naloxone"] >= thr)
        paths["withdrawal"] = _write_csv(tables / "withdrawal.csv", w)
    paths["design"] = _write_csv(
        tables / "design.csv", s.drop(columns=["withdrawal_peak_naloxone"])
    )
    if result.parameter_overrides:  # what moved away from the shipped rat table
        paths["parameter_overrides"] = _write_csv(
            tables / "parameter_overrides.csv", pd.DataFrame(result.overrides())
        )
    return paths
