"""Extinction to a stated criterion, and reinstatement against the extinction baseline.

**Extinction criterion** (parameterised; defaults follow a common rule, e.g.
Shaham et al. 2003, Psychopharmacology 168:3-20, for the reinstatement
model): extinction is met on the first session that completes
``consecutive`` sessions (default 2) in a row with active presses at or below
``fraction`` (default 0.25) of the self-administration baseline — the mean of
the last ``baseline_sessions`` (default 3) self-administration sessions — or,
when ``max_presses`` is given, at or below that absolute number (the stricter
of the two applies when both are set).

**Reinstatement**: active presses in the test minus the extinction baseline,
the mean of the last ``baseline_sessions`` extinction sessions (also the
ratio test / baseline).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["extinction_criterion", "reinstatement"]


def extinction_criterion(
    daily: pd.DataFrame,
    *,
    phase: str = "phase",
    value: str = "active_presses",
    training: str = "self_administration",
    extinction: str = "extinction",
    fraction: float | None = 0.25,
    max_presses: float | None = None,
    consecutive: int = 2,
    baseline_sessions: int = 3,
) -> pd.DataFrame:
    """Whether and when each subject met the extinction criterion.

    Parameters
    ----------
    daily
        One row per subject and session: ``subject``, ``day``, ``phase`` and
        the ``value`` column.
    fraction, max_presses, consecutive, baseline_sessions
        The criterion (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        ``subject``, ``baseline``, ``threshold``, ``met``, ``day_met``,
        ``sessions_to_criterion``.
    """
    if fraction is None and max_presses is None:
        raise ValueError("give fraction, max_presses or both")
    if consecutive < 1 or baseline_sessions < 1:
        raise ValueError("consecutive and baseline_sessions must be >= 1")
    rows = []
    for subject, d in daily.sort_values("day", kind="stable").groupby("subject", sort=True):
        sa = d.loc[d[phase] == training, value].tail(baseline_sessions)
        ext = d[d[phase] == extinction]
        baseline = float(sa.mean()) if len(sa) else np.nan
        limits = []
        if fraction is not None and not np.isnan(baseline):
            limits.append(fraction * baseline)
        if max_presses is not None:
            limits.append(max_presses)
        threshold = min(limits) if limits else np.nan
        below = (ext[value].to_numpy(float) <= threshold).astype(int)
        run = 0
        met_at = None
        for i, b in enumerate(below):
            run = run + 1 if b else 0
            if run >= consecutive:
                met_at = i
                break
        rows.append(
            {
                "subject": subject,
                "baseline": baseline,
                "threshold": threshold,
                "met": met_at is not None,
                "day_met": ext["day"].iloc[met_at] if met_at is not None else np.nan,
                "sessions_to_criterion": met_at + 1 if met_at is not None else np.nan,
            }
        )
    return pd.DataFrame(rows)


def reinstatement(
    daily: pd.DataFrame,
    *,
    test: str = "reinstatement",
    phase: str = "phase",
    value: str = "active_presses",
    extinction: str = "extinction",
    baseline_sessions: int = 3,
) -> pd.DataFrame:
    """Test responding against the extinction baseline, per subject.

    Returns
    -------
    pandas.DataFrame
        ``subject``, ``extinction_baseline``, ``test``, ``difference``, ``ratio``.
        With several test sessions per subject their mean is used.
    """
    rows = []
    for subject, d in daily.sort_values("day", kind="stable").groupby("subject", sort=True):
        base = d.loc[d[phase] == extinction, value].tail(baseline_sessions)
        tests = d.loc[d[phase] == test, value]
        if not len(tests):
            continue
        b = float(base.mean()) if len(base) else np.nan
        t = float(tests.mean())
        rows.append(
            {
                "subject": subject,
                "extinction_baseline": b,
                "test": t,
                "difference": t - b,
                "ratio": t / b if b else np.nan,
            }
        )
    return pd.DataFrame(rows)
