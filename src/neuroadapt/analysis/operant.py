"""Operant self-administration metrics from tidy event tables.

Every function reads the table of :func:`neuroadapt.io.medpc.events_table`
(columns ``session``, ``time_s``, ``role``; other columns are ignored), so
the same code serves real MED-PC files and simulated sessions. Roles:
``active_press``, ``inactive_press``, ``infusion`` (for non-drug programs the
reinforcer delivery plays this role), ``timeout_start``/``timeout_end``,
``session_start``/``session_end``.

Definitions (``docs/medpc.md`` gives the sources):

* **presses in timeout** — active presses after an infusion and before the
  timeout ends: in ``(t_inf, t_inf + timeout_s)``, or between
  ``timeout_start`` and ``timeout_end`` events when the program records them.
  The press that earns an infusion has the infusion's time and is not a
  timeout press. Timeout presses are included in ``active_presses``.
* **% active** — ``100 * active / (active + inactive)`` (NaN with no presses).
* **latency to first press** — time of the first active press from the
  ``session_start`` event (or time 0).
* **first-hour load-up** — infusions in the first hour; escalation of intake
  under long access shows first in this "loading" phase (Ahmed & Koob 1998).
* **inter-infusion interval** — time between successive infusions.
* **within-session unit-dose components** — a session whose unit dose
  changes in signalled components (e.g. the within-session heroin study of
  target ``sa_naltrexone_shift``, 18-100 ug/kg/infusion in hourly
  components) is split by the components' start and
  end times: an event belongs to the component with ``start <= t < end``;
  intake is infusions x the component's unit dose.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "COMPONENT_COLUMNS",
    "component_metrics",
    "component_table",
    "cumulative_record",
    "hourly_bins",
    "inter_infusion_intervals",
    "session_metrics",
    "timeout_presses",
]

_ROLES = ("active_press", "inactive_press", "infusion")
#: Columns of :func:`component_table`.
COMPONENT_COLUMNS = ("session", "component", "start_s", "end_s", "unit_dose_ug_per_kg")


def _times(events: pd.DataFrame, role: str) -> pd.Series:
    sel = events[events["role"] == role]
    return sel.groupby("session")["time_s"].apply(lambda s: np.sort(s.to_numpy(float)))


def _start(events: pd.DataFrame) -> pd.Series:
    start = events[events["role"] == "session_start"].groupby("session")["time_s"].min()
    return start


def timeout_presses(
    active_s: np.ndarray,
    infusion_s: np.ndarray,
    timeout_s: float | None,
    windows: Sequence[tuple[float, float]] | None = None,
) -> int:
    """Number of active presses inside timeout windows.

    Parameters
    ----------
    active_s, infusion_s
        Times (s) of active presses and infusions.
    timeout_s
        Post-infusion timeout; presses in ``(t_inf, t_inf + timeout_s)`` count.
    windows
        Explicit ``(start, end)`` windows (from timeout events); used instead.

    Examples
    --------
    >>> timeout_presses(np.array([1.0, 2.0, 5.0, 30.0]), np.array([1.0]), 20.0)
    2
    """
    active_s = np.asarray(active_s, float)
    if windows is None:
        if not timeout_s:
            return 0
        windows = [(t, t + timeout_s) for t in np.asarray(infusion_s, float)]
    inside = np.zeros(active_s.size, dtype=bool)
    for lo, hi in windows:
        inside |= (active_s > lo) & (active_s < hi)
    return int(inside.sum())


def _windows(events: pd.DataFrame, session: int) -> list[tuple[float, float]] | None:
    ev = events[events["session"] == session]
    starts = np.sort(ev.loc[ev["role"] == "timeout_start", "time_s"].to_numpy(float))
    if starts.size == 0:
        return None
    ends = np.sort(ev.loc[ev["role"] == "timeout_end", "time_s"].to_numpy(float))
    out = []
    for lo in starts:
        later = ends[ends >= lo]
        out.append((lo, later[0] if later.size else np.inf))
    return out


def session_metrics(
    events: pd.DataFrame,
    sessions: pd.DataFrame | None = None,
    *,
    timeout_s: float | None = None,
    first_hour_s: float = 3600.0,
) -> pd.DataFrame:
    """One row of self-administration metrics per session.

    Parameters
    ----------
    events
        Tidy event table (``session``, ``time_s``, ``role``).
    sessions
        Optional session table (``session`` and, when known, ``timeout_s``
        and ``duration_s``); its columns are kept in the result.
    timeout_s
        Timeout used when neither ``sessions`` nor timeout events give one.
    first_hour_s
        Length of the load-up window.

    Returns
    -------
    pandas.DataFrame
        ``session``, ``infusions``, ``active_presses``, ``inactive_presses``,
        ``timeout_presses``, ``percent_active``, ``latency_first_press_s``,
        ``first_hour_infusions``, ``mean_inter_infusion_s`` (+ session columns).

    Examples
    --------
    >>> ev = pd.DataFrame({"session": 0, "time_s": [5.0, 5.0, 9.0, 12.0],
    ...                    "role": ["active_press", "infusion", "active_press",
    ...                             "inactive_press"]})
    >>> m = session_metrics(ev, timeout_s=20)
    >>> m[["infusions", "active_presses", "timeout_presses", "percent_active"]].iloc[0].tolist()
    [1.0, 2.0, 1.0, 66.66666666666667]
    """
    ids = (
        sorted(set(events["session"]) | set(sessions["session"]))
        if sessions is not None
        else sorted(set(events["session"]))
    )
    times = {role: _times(events, role) for role in _ROLES}
    start = _start(events)
    per_session_timeout = (
        sessions.set_index("session")["timeout_s"]
        if sessions is not None and "timeout_s" in sessions
        else pd.Series(dtype=float)
    )
    empty = np.array([], dtype=float)
    rows = []
    for sid in ids:
        active = times["active_press"].get(sid, empty)
        inactive = times["inactive_press"].get(sid, empty)
        infusion = times["infusion"].get(sid, empty)
        t0 = float(start.get(sid, 0.0))
        to = per_session_timeout.get(sid)
        to = timeout_s if to is None or pd.isna(to) else float(to)
        presses = active.size + inactive.size
        intervals = np.diff(infusion)
        rows.append(
            {
                "session": sid,
                "infusions": int(infusion.size),
                "active_presses": int(active.size),
                "inactive_presses": int(inactive.size),
                "timeout_presses": timeout_presses(active, infusion, to, _windows(events, sid)),
                "percent_active": 100.0 * active.size / presses if presses else np.nan,
                "latency_first_press_s": float(active[0] - t0) if active.size else np.nan,
                "first_hour_infusions": int(np.sum(infusion - t0 < first_hour_s)),
                "mean_inter_infusion_s": float(intervals.mean()) if intervals.size else np.nan,
            }
        )
    out = pd.DataFrame(rows)
    if sessions is not None:
        keep = [c for c in sessions.columns if c not in out.columns or c == "session"]
        out = sessions[keep].merge(out, on="session", how="right")
    return out


def cumulative_record(events: pd.DataFrame, role: str = "active_press") -> pd.DataFrame:
    """Cumulative count of one role over time, per session (a soft cumulative recorder).

    Returns
    -------
    pandas.DataFrame
        ``session``, ``time_s``, ``count`` (1, 2, ... at each event).
    """
    sel = events.loc[events["role"] == role, ["session", "time_s"]].sort_values(
        ["session", "time_s"], kind="stable"
    )
    sel = sel.assign(count=sel.groupby("session").cumcount() + 1)
    return sel.reset_index(drop=True)


def inter_infusion_intervals(events: pd.DataFrame) -> pd.DataFrame:
    """Intervals between successive infusions.

    Returns
    -------
    pandas.DataFrame
        ``session``, ``infusion`` (2, 3, ...: the later of the pair), ``interval_s``.
    """
    inf = events.loc[events["role"] == "infusion", ["session", "time_s"]].sort_values(
        ["session", "time_s"], kind="stable"
    )
    inf = inf.assign(
        infusion=inf.groupby("session").cumcount() + 1,
        interval_s=inf.groupby("session")["time_s"].diff(),
    )
    return inf.dropna(subset=["interval_s"])[["session", "infusion", "interval_s"]].reset_index(
        drop=True
    )


def hourly_bins(
    events: pd.DataFrame,
    bin_s: float = 3600.0,
    roles: Sequence[str] = _ROLES,
    duration_s: float | pd.Series | None = None,
) -> pd.DataFrame:
    """Counts per time bin (hourly by default), zero bins included.

    Parameters
    ----------
    events
        Tidy event table.
    bin_s
        Bin width.
    roles
        Roles counted.
    duration_s
        Session length (one number, or a Series indexed by session) so that
        empty bins at the end are listed; otherwise bins run to the last event.

    Returns
    -------
    pandas.DataFrame
        ``session``, ``bin`` (0-based), ``bin_start_s``, ``role``, ``count``.
    """
    rows = []
    for sid, ev in events.groupby("session"):
        if isinstance(duration_s, pd.Series):
            length = duration_s.get(sid)
        else:
            length = duration_s
        last = ev["time_s"].max() if len(ev) else 0.0
        length = last if length is None or pd.isna(length) else max(float(length), 0.0)
        n_bins = max(int(np.ceil(length / bin_s)), 1)
        if last > n_bins * bin_s:
            n_bins = int(last // bin_s) + 1
        for role in roles:
            t = ev.loc[ev["role"] == role, "time_s"].to_numpy(float)
            index = np.minimum(t // bin_s, n_bins - 1).astype(int)  # the end is in the last bin
            counts = np.bincount(index, minlength=n_bins)
            for b in range(n_bins):
                rows.append((sid, b, b * bin_s, role, int(counts[b])))
    return pd.DataFrame(rows, columns=["session", "bin", "bin_start_s", "role", "count"])


def component_table(
    sessions: Iterable[Any],
    first: int = 0,
    *,
    starts: str = "J",
    ends: str = "K",
    doses: str = "L",
) -> pd.DataFrame:
    """The unit-dose components of MED-PC sessions, from their arrays.

    Parameters
    ----------
    sessions
        Parsed sessions (``neuroadapt.io.medpc.Session``: anything with
        ``arrays``, a letter -> values mapping), numbered from ``first`` as in
        :func:`neuroadapt.io.medpc.events_table`.
    starts, ends, doses
        Letters of the arrays holding each component's start and end (s) and
        unit dose (ug/kg/infusion); the defaults are those of the
        ``neuroadapt-sa`` profile. Sessions without them have no components.

    Returns
    -------
    pandas.DataFrame
        :data:`COMPONENT_COLUMNS`; ``component`` counts from 1.
    """
    rows = []
    for i, s in enumerate(sessions, start=first):
        if not all(k in s.arrays for k in (starts, ends, doses)):
            continue
        t0, t1, d = (np.asarray(s.arrays[k], float) for k in (starts, ends, doses))
        if not t0.size == t1.size == d.size:
            raise ValueError(
                f"session {i}: component arrays {starts}, {ends}, {doses} differ in length"
            )
        for k in range(t0.size):
            rows.append((i, k + 1, t0[k], t1[k], d[k]))
    return pd.DataFrame(rows, columns=list(COMPONENT_COLUMNS))


def component_metrics(events: pd.DataFrame, components: pd.DataFrame) -> pd.DataFrame:
    """Responses and intake in each unit-dose component of each session.

    Parameters
    ----------
    events
        Tidy event table (``session``, ``time_s``, ``role``).
    components
        :func:`component_table` output (or any table with its columns).

    Returns
    -------
    pandas.DataFrame
        The component columns and ``duration_s``, ``infusions``,
        ``active_presses``, ``inactive_presses``, ``intake_ug_per_kg``
        (infusions x unit dose) and ``active_per_hour``.

    Examples
    --------
    >>> ev = pd.DataFrame({"session": 0, "time_s": [10.0, 10.0, 30.0, 4000.0, 4000.0],
    ...                    "role": ["active_press", "infusion", "active_press",
    ...                             "active_press", "infusion"]})
    >>> comp = pd.DataFrame({"session": 0, "component": [1, 2], "start_s": [0.0, 3600.0],
    ...                      "end_s": [3600.0, 7200.0], "unit_dose_ug_per_kg": [30.0, 100.0]})
    >>> component_metrics(ev, comp)[["active_presses", "intake_ug_per_kg"]].values.tolist()
    [[2.0, 30.0], [1.0, 100.0]]
    """
    missing = set(COMPONENT_COLUMNS) - set(components.columns)
    if missing:
        raise ValueError(f"component table lacks columns {sorted(missing)}")
    rows = []
    by_session = {sid: ev for sid, ev in events.groupby("session")}
    empty = events.iloc[:0]
    for c in components.itertuples(index=False):
        ev = by_session.get(c.session, empty)
        inside = ev[(ev["time_s"] >= c.start_s) & (ev["time_s"] < c.end_s)]
        n = {role: int((inside["role"] == role).sum()) for role in _ROLES}
        length = float(c.end_s - c.start_s)
        rows.append(
            {
                "duration_s": length,
                "infusions": n["infusion"],
                "active_presses": n["active_press"],
                "inactive_presses": n["inactive_press"],
                "intake_ug_per_kg": n["infusion"] * float(c.unit_dose_ug_per_kg),
                "active_per_hour": 3600.0 * n["active_press"] / length if length > 0 else np.nan,
            }
        )
    extra = pd.DataFrame(
        rows,
        columns=[
            "duration_s",
            "infusions",
            "active_presses",
            "inactive_presses",
            "intake_ug_per_kg",
            "active_per_hour",
        ],
    )
    return pd.concat([components.reset_index(drop=True), extra], axis=1)
