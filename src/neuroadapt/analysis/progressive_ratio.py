"""Progressive-ratio schedules and the breakpoint.

Richardson & Roberts (1996, J Neurosci Methods 66:1-11) step the response
requirement of the j-th reinforcer as ``round(5 * exp(0.2 * j) - 5)``:
1, 2, 4, 6, 9, 12, 15, 20, 25, 32, 40, 50, 62, 77, 95, 118, 145, 178, ...

**Breakpoint** (the definition used here): the response requirement of the
last ratio completed — the ratio that earned the final infusion — in a
session that ends when no infusion is earned within the *limited hold*
(commonly 1 h). Infusions after a gap longer than the limited hold (measured
from the session start or the previous infusion) do not count. Some papers
report the number of ratios completed instead; both are returned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["breakpoints", "richardson_roberts"]


def richardson_roberts(n: int) -> np.ndarray:
    """The first ``n`` response requirements of the Richardson & Roberts (1996) series.

    >>> richardson_roberts(12).tolist()
    [1, 2, 4, 6, 9, 12, 15, 20, 25, 32, 40, 50]
    """
    j = np.arange(1, n + 1)
    return np.floor(5.0 * np.exp(0.2 * j) - 5.0 + 0.5).astype(np.int64)


def breakpoints(
    events: pd.DataFrame,
    limited_hold_s: float | None = 3600.0,
    series: np.ndarray | None = None,
) -> pd.DataFrame:
    """Breakpoint per session from the infusion times.

    Parameters
    ----------
    events
        Tidy event table (``session``, ``time_s``, ``role``).
    limited_hold_s
        Session ends when no infusion comes within this time; ``None``: no hold.
    series
        Response requirements (default Richardson & Roberts).

    Returns
    -------
    pandas.DataFrame
        ``session``, ``ratios_completed``, ``breakpoint`` (0 when none completed),
        ``last_infusion_s``.

    Examples
    --------
    >>> ev = pd.DataFrame({"session": 0, "time_s": [60.0, 200.0, 900.0, 9000.0],
    ...                    "role": "infusion"})
    >>> breakpoints(ev).iloc[0].tolist()
    [0.0, 3.0, 4.0, 900.0]
    """
    rows = []
    for sid, ev in events.groupby("session"):
        start = ev.loc[ev["role"] == "session_start", "time_s"].min()
        t0 = 0.0 if pd.isna(start) else float(start)
        inf = np.sort(ev.loc[ev["role"] == "infusion", "time_s"].to_numpy(float))
        if limited_hold_s is not None and inf.size:
            gaps = np.diff(np.concatenate([[t0], inf]))
            late = np.flatnonzero(gaps > limited_hold_s)
            if late.size:
                inf = inf[: late[0]]
        n = inf.size
        req = series if series is not None else richardson_roberts(max(n, 1))
        if n > len(req):
            raise ValueError(f"session {sid}: {n} infusions but the series has {len(req)} steps")
        rows.append(
            {
                "session": sid,
                "ratios_completed": n,
                "breakpoint": int(req[n - 1]) if n else 0,
                "last_infusion_s": float(inf[-1]) if n else np.nan,
            }
        )
    return pd.DataFrame(rows)
