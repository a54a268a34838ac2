"""The slow clock's time unit and the exact update rules its modules share.

The fast layer works in hours (the parameter table's internal unit); brain
modules step in days. Their linear parts are advanced exactly for inputs
held constant over the day:

    relax:       dx/dt = k (target - x)
    gated_loss:  dx/dt = k_on D (x_max - x) - k_off x
"""

from __future__ import annotations

import math

import numpy as np

#: Hours per day: modules on the daily clock multiply hourly rates by this.
HOURS_PER_DAY = 24.0


def rate_per_day(t_half_h: np.ndarray) -> np.ndarray:
    """First-order rate (1/day) from a half-life in hours (the table's internal unit)."""
    return math.log(2.0) / np.asarray(t_half_h) * HOURS_PER_DAY


def relax(x: np.ndarray, target: np.ndarray, k_per_day: np.ndarray, dt_d: float) -> np.ndarray:
    """Exact solution of ``dx/dt = k (target - x)`` over ``dt_d`` days for constant inputs."""
    return target + (x - target) * np.exp(-k_per_day * dt_d)


def gated_loss(
    x: np.ndarray, drive: np.ndarray, x_max: np.ndarray, k_on: np.ndarray, k_off: np.ndarray, dt_d
):
    """Exact step of ``dx/dt = k_on drive (x_max - x) - k_off x`` (stays in ``[0, x_max]``)."""
    k = k_on * drive + k_off
    target = k_on * drive * x_max / k
    return relax(x, target, k, dt_d)


def column(x) -> np.ndarray:
    """A per-subject value as a column ``(subjects, 1)``; scalars broadcast."""
    return np.asarray(x, dtype=float).reshape(-1, 1)


def positive(x) -> np.ndarray:
    """``max(x, 0)`` elementwise."""
    return np.maximum(np.asarray(x, dtype=float), 0.0)


def stack_regional(p: dict[str, np.ndarray], stem: str, keys: tuple[str, ...]) -> np.ndarray:
    """Stack per-region parameters ``<stem>_<key>`` into an array ``(subjects, regions)``.

    The stack is remembered in ``p`` (under ``"__stack__<stem>"``, checked against
    the arrays it was built from), since modules ask for it every day.
    """
    parts = [p[f"{stem}_{k}"] for k in keys]
    memo_key = f"__stack__{stem}"
    memo = p.get(memo_key)
    if (
        memo is not None
        and len(memo[0]) == len(parts)
        and all(a is b for a, b in zip(memo[0], parts, strict=True))
    ):
        return memo[1]
    stacked = np.stack([np.asarray(a, dtype=float) for a in parts], axis=-1)
    stacked.flags.writeable = False
    if isinstance(p, dict):
        p[memo_key] = (parts, stacked)
    return stacked
