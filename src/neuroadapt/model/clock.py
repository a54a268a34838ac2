"""The slow clock's time unit and the exact update rules its modules share.

The fast layer works in hours (the parameter table's internal unit); brain
modules step in days. Their linear parts are advanced exactly for inputs
held constant over the day:

    relax:       dx/dt = k (target - x)
    gated_loss:  dx/dt = k_on D (x_max - x) - k_off x

Modules are stepped every day with parameters that do not change, so
quantities derived from parameters alone (daily rates, the one-step decay
``exp(-k dt)`` of a constant rate, regional stacks) are remembered in the
parameter mapping (:func:`remembered`) instead of being recomputed each day.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

import numpy as np

#: Hours per day: modules on the daily clock multiply hourly rates by this.
HOURS_PER_DAY = 24.0


def rate_per_day(t_half_h: np.ndarray) -> np.ndarray:
    """First-order rate (1/day) from a half-life in hours (the table's internal unit)."""
    return math.log(2.0) / np.asarray(t_half_h) * HOURS_PER_DAY


def relax(x: np.ndarray, target: np.ndarray, k_per_day: np.ndarray, dt_d: float) -> np.ndarray:
    """Exact solution of ``dx/dt = k (target - x)`` over ``dt_d`` days for constant inputs."""
    return relax_by(x, target, np.exp(-k_per_day * dt_d))


def relax_by(x: np.ndarray, target: np.ndarray, decay: np.ndarray) -> np.ndarray:
    """``relax`` with the decay factor ``exp(-k dt_d)`` given (see :func:`decay`)."""
    out = (x - target) * decay
    out += target  # in place: a new array either way
    return out


def gated_loss(
    x: np.ndarray, drive: np.ndarray, x_max: np.ndarray, k_on: np.ndarray, k_off: np.ndarray, dt_d
):
    """Exact step of ``dx/dt = k_on drive (x_max - x) - k_off x`` (stays in ``[0, x_max]``)."""
    gain = k_on * drive
    k = gain + k_off
    return relax(x, gain * x_max / k, k, dt_d)


def column(x) -> np.ndarray:
    """A per-subject value as a column ``(subjects, 1)``; scalars broadcast."""
    return np.asarray(x, dtype=float).reshape(-1, 1)


def across(x, n_regions: int) -> np.ndarray:
    """A per-subject value repeated across ``n_regions`` regions, shape (subjects, regions).

    Same values as the column ``x[:, None]``; numpy combines it with a regional
    array about twice as fast as it broadcasts the column, and regional states
    are stored this way.
    """
    return np.repeat(np.asarray(x, dtype=float)[:, None], n_regions, axis=1)


def positive(x) -> np.ndarray:
    """``max(x, 0)`` elementwise."""
    return np.maximum(np.asarray(x, dtype=float), 0.0)


def remembered(p: dict, key: str, build: Callable[..., np.ndarray], *sources) -> np.ndarray:
    """``build(*sources)``, remembered in ``p`` while ``sources`` are the same objects.

    Stored under ``"__memo__<key>"`` with the sources it was built from; a source
    replaced in ``p`` (another object) rebuilds it. The value is read-only.
    ``key`` must name everything else the value depends on (e.g. the step).

    Examples
    --------
    >>> p = {"t": np.array([24.0])}
    >>> a = remembered(p, "k", lambda t: np.log(2.0) / t, p["t"])
    >>> a is remembered(p, "k", lambda t: np.log(2.0) / t, p["t"])
    True
    """
    memo_key = f"__memo__{key}"
    memo = p.get(memo_key)
    if (
        memo is not None
        and len(memo[0]) == len(sources)
        and all(map(operator.is_, memo[0], sources))
    ):
        return memo[1]
    value = np.array(build(*sources))  # a copy: never a read-only view of a source
    if isinstance(p, dict):
        value.flags.writeable = False
        p[memo_key] = (sources, value)
    return value


def daily_rate(p: dict, t_half_name: str) -> np.ndarray:
    """``rate_per_day(p[t_half_name])``, remembered in ``p``."""
    return remembered(p, f"rate:{t_half_name}", rate_per_day, p[t_half_name])


def decay(p: dict, t_half_name: str, dt_d: float) -> np.ndarray:
    """``exp(-k dt_d)`` for the rate ``k`` of the half-life ``p[t_half_name]``, remembered."""
    return remembered(
        p,
        f"decay:{t_half_name}:{dt_d!r}",
        lambda t: np.exp(-rate_per_day(t) * dt_d),
        p[t_half_name],
    )


def stack_regional(p: dict[str, np.ndarray], stem: str, keys: tuple[str, ...]) -> np.ndarray:
    """Stack per-region parameters ``<stem>_<key>`` into an array ``(subjects, regions)``.

    The stack is remembered in ``p`` (:func:`remembered`), since modules ask for
    it every day.
    """
    return remembered(
        p,
        f"stack:{stem}",
        lambda *parts: np.stack([np.asarray(a, dtype=float) for a in parts], axis=-1),
        *(p[f"{stem}_{k}"] for k in keys),
    )
