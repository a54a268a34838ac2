"""Statistics of simulated brain trajectories: living subjects, end of use, effects, recovery.

The functions read brain trajectories handed in (a cohort dataset and,
when the scenario had matched controls, the controls' dataset); nothing is
simulated or drawn. Variables are named ``<module>_<name>`` as written by
:func:`neuroadapt.engine.brain.integrate` (``structure_gm_volume`` with dim
``structure_region``, ``white_matter_fa`` with ``white_matter_region``,
``cognition_z`` with ``cognition_region``, ...). Every function copes with a
dataset that lacks some or all of them (rat scenarios, records not daily).

Conventions
-----------
End of use
    The last recorded day on which any living subject's daily mean MOR
    activation (``activation_mean``) exceeded :data:`USE_THRESHOLD` of the
    cohort's peak daily mean (and :data:`MIN_ACTIVATION`); residual drug keeps
    it above zero, at float precision, for weeks after the last dose.
Effect size and interval
    Those of :mod:`neuroadapt.analysis.effects`, per region and at one day.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

from neuroadapt.analysis.effects import EffectSize, effect_size
from neuroadapt.model import system

__all__ = [
    "BRAIN_MODULE_PREFIXES",
    "COG",
    "FA",
    "GM",
    "GM_DENSITY",
    "MIN_ACTIVATION",
    "RECOVERY_MEASURES",
    "USE_THRESHOLD",
    "Arm",
    "alive_mask",
    "as_arm",
    "end_of_use",
    "ever",
    "has_brain",
    "recovery_curves",
    "region_effects",
    "regions",
    "series",
    "time_days",
    "time_index",
    "values_at",
]

#: Name prefixes of the brain-scale variables of a cohort dataset (from the registry).
#: The tolerance module is left out: its prefix is also that of the fast layer's
#: ``tolerance_shift``, which every cohort has.
BRAIN_MODULE_PREFIXES: tuple[str, ...] = tuple(
    f"{name}_" for name in system.BRAIN_MODULE_NAMES if name != "tolerance"
)
#: Fraction of the cohort's peak daily mean activation above which a day is use.
USE_THRESHOLD = 0.01
#: Daily mean activation below this is never use (float residue of a long-gone dose).
MIN_ACTIVATION = 1e-6

GM = "structure_gm_volume"
GM_DENSITY = "structure_gm_density"
FA = "white_matter_fa"
COG = "cognition_z"


@dataclass(frozen=True)
class Arm:
    """A named group of subjects (users, one arm of a study, controls) and its data."""

    name: str
    data: xr.Dataset

    @property
    def n(self) -> int:
        """Number of people in the group (the living among them enter each statistic)."""
        return int(self.data.sizes.get("subject", 0))

    @property
    def label(self) -> str:
        """``name (n = N)``, as every table header and legend shows a group."""
        return f"{self.name} (n = {self.n})"


def as_arm(x: xr.Dataset | Arm | None, name: str) -> Arm | None:
    """``x`` as an :class:`Arm` (a dataset is named ``name``); None stays None."""
    return x if isinstance(x, Arm) or x is None else Arm(name, x)


def has_brain(ds: xr.Dataset | None) -> bool:
    """Whether a dataset holds any brain-scale variable."""
    return ds is not None and any(str(v).startswith(BRAIN_MODULE_PREFIXES) for v in ds.data_vars)


def time_days(ds: xr.Dataset) -> np.ndarray:
    """The recorded times (days) as floats."""
    return ds["time"].values.astype(float)


def alive_mask(ds: xr.Dataset) -> np.ndarray:
    """``subject x time`` mask of living subjects (all true without ``alive``)."""
    if "alive" in ds:
        return np.nan_to_num(ds["alive"].transpose("subject", "time").values.astype(float)) > 0.5
    return np.ones((ds.sizes["subject"], ds.sizes["time"]), dtype=bool)


def series(ds: xr.Dataset, var: str, times: slice | int | None = None) -> np.ndarray:
    """``subject x time [x region]`` float array, NaN where the subject is dead.

    ``times`` selects recorded times before anything is copied (an int keeps the time axis).
    """
    sel = slice(None) if times is None else times
    if isinstance(sel, int):
        sel = slice(sel, sel + 1)
    sub = ds[[var, "alive"] if "alive" in ds else [var]].isel(time=sel)
    da = sub[var]
    dims = ["subject", "time", *[d for d in da.dims if d not in ("subject", "time")]]
    x = da.transpose(*dims).values.astype(float)
    mask = alive_mask(sub)
    return np.where(mask.reshape(mask.shape + (1,) * (x.ndim - 2)), x, np.nan)


def regions(ds: xr.Dataset, var: str) -> list[str]:
    """The regions of ``var`` (its one non-subject, non-time dim), or ``[var]`` without one."""
    extra = [d for d in ds[var].dims if d not in ("subject", "time")]
    return [str(r) for r in ds[extra[0]].values] if extra else [var]


def end_of_use(ds: xr.Dataset) -> float | None:
    """Day of the last use (see the module doc); None without any use or ``activation_mean``."""
    if "activation_mean" not in ds or not ds.sizes.get("time"):
        return None
    act = np.nan_to_num(series(ds, "activation_mean"))
    peak = act.max() if act.size else 0.0
    used = np.nonzero((act > max(USE_THRESHOLD * peak, MIN_ACTIVATION)).any(axis=0))[0]
    return float(time_days(ds)[used[-1]]) if used.size else None


def time_index(ds: xr.Dataset, day: float) -> int:
    """Index of the first recorded time at or after ``day`` (clipped to the record)."""
    t = time_days(ds)
    return int(np.clip(np.searchsorted(t, day - 1e-9), 0, len(t) - 1))


def values_at(ds: xr.Dataset | None, var: str, day: float) -> np.ndarray | None:
    """``subject [x region]`` values of ``var`` at ``day`` (NaN for the dead); None if absent."""
    if ds is None or var not in ds:
        return None
    return series(ds, var, time_index(ds, day))[:, 0]


def region_effects(
    users: xr.Dataset,
    controls: xr.Dataset | None,
    var: str,
    day: float,
    *,
    reference: float,
    sd_pop: float,
) -> dict[str, EffectSize]:
    """Effect size per region (or the one value) of ``var`` at ``day``.

    Parameters
    ----------
    users, controls
        The users' and (or None) the controls' datasets.
    var, day
        The variable and the day it is read at.
    reference, sd_pop
        As in :func:`neuroadapt.analysis.effects.effect_size`.

    Returns
    -------
    dict
        Region name -> effect size; empty when ``users`` lacks ``var``.
    """
    u = values_at(users, var, day)
    if u is None:
        return {}
    c = values_at(controls, var, day)
    u2 = u.reshape(u.shape[0], -1)
    c2 = None if c is None else c.reshape(c.shape[0], -1)
    return {
        name: effect_size(
            u2[:, k], None if c2 is None else c2[:, k], reference=reference, sd_pop=sd_pop
        )
        for k, name in enumerate(regions(users, var))
    }


def ever(ds: xr.Dataset, var: str) -> np.ndarray:
    """Per subject: whether ``var`` was ever above zero in the run (the dead included)."""
    x = np.nan_to_num(ds[var].values.astype(float))
    return (x.reshape(x.shape[0], -1) > 0).any(axis=1) if x.size else np.zeros(0, bool)


#: Measures for recovery curves: (group, var, matched-control value, label prefix).
RECOVERY_MEASURES: tuple[tuple[str, str, float, str], ...] = (
    ("gray matter", GM, 1.0, ""),
    ("white matter FA", FA, 1.0, ""),
    ("neurochemistry", "dopamine_d2_availability", 1.0, "D2/D3 availability"),
    ("neurochemistry", "glutamate_glt1", 1.0, "GLT-1"),
    ("cognition", "cognition_z_composite", 0.0, "composite z"),
    ("cognition", COG, 0.0, ""),
)


def recovery_curves(
    users: xr.Dataset, controls: xr.Dataset | None, end: float
) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Fraction of the end-of-use deficit remaining vs days since stopping.

    The deficit is the users' mean (living subjects) minus the controls' mean at
    the same day (or the matched-control value without controls); the fraction is
    that deficit over the deficit at the end of use. Returns ``{group: {label:
    (days since stopping, fraction)}}``; a measure with no deficit at the end
    of use is left out.
    """
    t = time_days(users)
    i0 = time_index(users, end)
    days = t[i0:] - t[i0]
    out: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    if days.size < 2:
        return out
    for group, var, ref, prefix in RECOVERY_MEASURES:
        if var not in users:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mu = np.nanmean(series(users, var, slice(i0, None)), axis=0)
            if controls is not None and var in controls:
                mc = np.nanmean(series(controls, var), axis=0)
                mc = mc[[time_index(controls, d) for d in t[i0:]]]
            else:
                mc = np.full_like(mu, ref)
        deficit = (mu - mc).reshape(days.size, -1)
        names = regions(users, var)
        for k in range(deficit.shape[1]):
            d0 = deficit[0, k]
            if not np.isfinite(d0) or abs(d0) < 1e-9:
                continue
            label = prefix or names[k].replace("_", " ")
            out.setdefault(group, {})[label] = (days, deficit[:, k] / d0)
    return out
