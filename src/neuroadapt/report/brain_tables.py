"""Tables of the brain sections: structure vs the literature, neurological events, recovery.

Rows of text from brain trajectories handed in (statistics from
:mod:`neuroadapt.analysis.brain`); nothing is simulated or drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from neuroadapt.analysis.brain import (
    GM,
    Arm,
    as_arm,
    end_of_use,
    ever,
    region_effects,
    time_days,
)
from neuroadapt.analysis.effects import EffectSize
from neuroadapt.report.findings import D_SIGNIFICANT, STRUCTURE_FINDINGS, Finding, target_row

__all__ = [
    "INJURY_VARS",
    "WHEN_TEXT",
    "injury_counts",
    "pop_sd",
    "recovery_table",
    "structure_table",
]

#: What each time point of :class:`~neuroadapt.report.findings.Finding` is called.
WHEN_TEXT = {"end": "end of use", "end+30": "1 month abstinent", "last": "last recorded day"}


def _when_day(when: str, end: float, last: float) -> float | None:
    if when == "end":
        return end
    if when == "end+30":
        return end + 30.0 if end + 30.0 <= last else None
    return last if last > end else None


def _verdict(f: Finding, region: str, es: EffectSize, extra: EffectSize | None) -> str:
    if not np.isfinite(es.d):
        return "n/a"
    lower = "yes" if es.d_hi < 0 else ("direction only (interval includes 0)" if es.d < 0 else "no")
    if f.expect == "lower":
        return lower
    if f.expect == "wollman":
        if region == "precuneus":
            return "yes" if es.d <= -D_SIGNIFICANT else "no (d > -0.5)"
        return "yes" if abs(es.d) < D_SIGNIFICANT else "no (|d| >= 0.5 remains)"
    if extra is None or not np.isfinite(extra.d):
        return lower
    if f.expect == "progressive":  # extra: half-way through use
        return "yes" if es.d < extra.d < 0 else f"no (d at half-use {extra.d:+.2f})"
    if f.expect == "partial":  # extra: 3 days abstinent
        return "yes" if extra.d < es.d < 0 else f"no (d at 3 days {extra.d:+.2f})"
    return lower


def pop_sd(params: Any, name: str) -> float:
    """The population SD parameter ``name`` of ``params`` (0 when there is none)."""
    try:
        return float(params[name])
    except (KeyError, TypeError, IndexError):
        return 0.0


def structure_table(
    users: xr.Dataset | Arm,
    controls: xr.Dataset | Arm | None,
    calibration: Sequence[Mapping[str, Any]],
    params: Any,
    cite: Callable[[str, str], str] = lambda s, u: "",
    end: float | None = None,
    later: Arm | None = None,
) -> list[list[str]]:
    """Rows of the whitepaper-style structural table (see :data:`STRUCTURE_FINDINGS`).

    Columns: region, finding, method, reference, model time point (with the group
    read and its n), model Cohen's d (90 %), model % difference (90 %), matches
    the literature, calibration verdict. ``end`` is the day use ended (found from
    the daily activation when not given). Findings at the end of use read
    ``users``; findings after it (abstinence) read ``later`` when given (the
    people who stayed abstinent), else ``users``. A finding missing from the
    calibration rows is described from the shipped target table.
    """
    u = as_arm(users, "users")
    c = as_arm(controls, "controls")
    after = later or u
    end = end_of_use(u.data) if end is None else end
    if end is None or GM not in u.data:
        return []
    t = time_days(u.data)
    last = float(t[-1])
    first_use = float(t[0])
    sd_pop = pop_sd(params, "str_population_cv")
    rows_by_id = {str(r.get("id")): r for r in calibration if r.get("scale") == "structure"}
    out = []
    cache: dict[tuple[str, str, float], dict[str, EffectSize]] = {}

    def eff(arm: Arm, var: str, day: float) -> dict[str, EffectSize]:
        key = (arm.name, var, day)
        if key not in cache:
            cache[key] = region_effects(
                arm.data, None if c is None else c.data, var, day, reference=1.0, sd_pop=sd_pop
            )
        return cache[key]

    for f in STRUCTURE_FINDINGS:
        day = _when_day(f.when, end, last)
        if f.var not in u.data or day is None:
            continue
        arm = u if f.when == "end" else after
        row = rows_by_id.get(f.target, {})
        described = row or target_row(f.target)
        finding = str(described.get("quantity") or f.target)
        lit = str(described.get("literature") or "")
        if lit and lit != finding:
            finding = f"{finding}: {lit}"
        src = ", ".join(
            str(described.get(k, "")).strip() for k in ("source", "ref") if described.get(k)
        )
        reference = f"{described.get('source', '')} {cite(src, f.target) if src else ''}".strip()
        effects = eff(arm, f.var, day)
        extra: dict[str, EffectSize] = {}
        if f.expect == "progressive":
            extra = eff(arm, f.var, first_use + (end - first_use) / 2.0)
        elif f.expect == "partial":
            extra = eff(arm, f.var, end + 3.0)
        for region in f.regions:
            es = effects.get(region)
            if es is None:
                continue
            out.append(
                [
                    region,
                    finding,
                    f.method,
                    reference,
                    f"{WHEN_TEXT[f.when]} (day {day:g}); {arm.name}, n = {es.n_users} alive",
                    es.text_d(),
                    es.text_pct(),
                    _verdict(f, region, es, extra.get(region)),
                    str(row.get("verdict", "")) or "not in calibration",
                ]
            )
    return out


#: Neurological events counted per group: (variable, label).
INJURY_VARS: tuple[tuple[str, str], ...] = (
    ("white_matter_tle_max_stage", "toxic leukoencephalopathy (any stage)"),
    ("white_matter_tle_dead", "fatal toxic leukoencephalopathy"),
    ("white_matter_hypoxic_injury", "hypoxic-ischaemic brain lesion"),
    ("white_matter_pallidal_injury", "globus pallidus lesion"),
    ("white_matter_dphl", "delayed post-hypoxic leukoencephalopathy"),
)


def injury_counts(
    users: xr.Dataset | Arm,
    controls: xr.Dataset | Arm | None = None,
    arms: Sequence[Arm] = (),
) -> tuple[list[str], list[list[str]]]:
    """People with each neurological event at any time in the run, per group.

    Returns the header (``event``, then each group's label with its n: the
    users, each arm in ``arms``, the controls) and one row per event with
    ``k of n (%)``, where n is everyone in the group, the dead included.
    """
    groups = [g for g in (as_arm(users, "users"), *arms, as_arm(controls, "controls")) if g]
    header = ["event", *(g.label for g in groups)]
    out = []
    for var, label in INJURY_VARS:
        if var not in groups[0].data:
            continue
        row = [label]
        for g in groups:
            if var not in g.data:
                row.append("n/a")
                continue
            had = ever(g.data, var)
            n = max(had.size, 1)
            row.append(f"{int(had.sum())} of {had.size} ({100 * had.sum() / n:.1f} %)")
        out.append(row)
    return header, out


def recovery_table(
    curves: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]],
) -> list[list[str]]:
    """``[measure, days to half recovery, remaining at 30 d, 90 d, 1 y and the last day]``."""
    rows = []
    for group, lines in curves.items():
        for label, (days, frac) in lines.items():
            half = np.nonzero(frac <= 0.5)[0]

            def at(day: float, days=days, frac=frac) -> str:
                if day > days[-1]:
                    return "n/a"
                return f"{100 * frac[int(np.searchsorted(days, day - 1e-9))]:.0f} %"

            rows.append(
                [
                    f"{group}: {label}",
                    f"{days[half[0]]:g}" if half.size else f"> {days[-1]:g}",
                    at(30.0),
                    at(90.0),
                    at(365.0),
                    at(float(days[-1])),
                ]
            )
    return rows
