"""Effect sizes of a group against its controls: Cohen's d and % difference, bootstrapped.

Conventions
-----------
Effect size
    Cohen's d of users vs controls, negative when users are lower: mean
    difference over the users' population SD, ``sqrt(sd_pop**2 + var_users)``,
    where ``sd_pop`` is the between-person SD a model does not simulate (for
    the brain scales ``str_population_cv`` for gray matter,
    ``wm_population_cv`` for FA, 1 for cognitive z, already in control SDs).
    This is the convention of the calibration checks
    (:mod:`neuroadapt.evidence.checks_structure`). Without controls the
    comparison is with the matched-control value itself (1 for fractions of a
    matched control, 0 for z).
Interval
    5-95 % of :data:`N_BOOT` bootstrap resamples over subjects (users and
    controls resampled independently, seed :data:`BOOT_SEED`): the spread
    that comes from between-subject parameter variability in a cohort of
    this size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BOOT_SEED", "N_BOOT", "EffectSize", "effect_size"]

#: Bootstrap resamples over subjects behind every interval.
N_BOOT = 500
#: Seed of the bootstrap (fixed: same data, same interval).
BOOT_SEED = 0


@dataclass(frozen=True)
class EffectSize:
    """Users vs controls at one time: Cohen's d and % difference of means, with 90 % intervals."""

    d: float
    d_lo: float
    d_hi: float
    pct: float
    pct_lo: float
    pct_hi: float
    n_users: int
    n_controls: int

    def text_d(self) -> str:
        """``d (low to high)``, or ``n/a``."""
        return (
            f"{self.d:+.2f} ({self.d_lo:+.2f} to {self.d_hi:+.2f})"
            if np.isfinite(self.d)
            else "n/a"
        )

    def text_pct(self) -> str:
        """``% (low to high)``, or ``n/a``."""
        return (
            f"{self.pct:+.1f} % ({self.pct_lo:+.1f} to {self.pct_hi:+.1f})"
            if np.isfinite(self.pct)
            else "n/a"
        )


def _d_pct(u: np.ndarray, c: np.ndarray | float, sd_pop: float) -> tuple[float, float]:
    mu = float(np.mean(u))
    mc = float(np.mean(c))
    sd = float(np.sqrt(sd_pop**2 + np.var(u)))
    d = (mu - mc) / sd if sd > 0 else np.nan
    pct = 100.0 * (mu / mc - 1.0) if mc != 0 else np.nan
    return d, pct


def effect_size(
    users: np.ndarray,
    controls: np.ndarray | None,
    *,
    reference: float,
    sd_pop: float,
    n_boot: int = N_BOOT,
    seed: int = BOOT_SEED,
) -> EffectSize:
    """Cohen's d and % difference of users vs controls (or vs ``reference`` without controls).

    Parameters
    ----------
    users, controls
        Values per subject (NaN, e.g. dead subjects, are dropped).
    reference
        The matched-control value used when ``controls`` is None or empty.
    sd_pop
        Between-person SD not simulated by the model (see the module doc).
    n_boot, seed
        Bootstrap resamples over subjects and their seed (fixed: same data, same interval).

    Returns
    -------
    EffectSize
        d and % difference with their 90 % bootstrap intervals and the group sizes
        (NaN throughout when no user has a value).
    """
    u = np.asarray(users, float)
    u = u[np.isfinite(u)]
    c = None if controls is None else np.asarray(controls, float)
    if c is not None:
        c = c[np.isfinite(c)]
    if c is not None and c.size == 0:
        c = None
    if u.size == 0:
        return EffectSize(*([np.nan] * 6), 0, 0 if c is None else c.size)
    d, pct = _d_pct(u, reference if c is None else c, sd_pop)
    # every resample of each group drawn at once, users and controls from their own
    # streams, then evaluated at once
    rng_u, rng_c = np.random.default_rng(seed).spawn(2)
    iu = rng_u.integers(0, u.size, (n_boot, u.size))
    ic = None if c is None else rng_c.integers(0, c.size, (n_boot, c.size))
    ub = u[iu]
    mu = ub.mean(axis=1)
    mc = np.full(n_boot, float(reference)) if ic is None else c[ic].mean(axis=1)
    sd = np.sqrt(sd_pop**2 + ub.var(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = np.stack(
            [
                np.where(sd > 0, (mu - mc) / sd, np.nan),
                np.where(mc != 0, 100.0 * (mu / mc - 1.0), np.nan),
            ],
            axis=1,
        )
    (d_lo, d_hi), (p_lo, p_hi) = (
        np.nanquantile(col, [0.05, 0.95]) if np.isfinite(col).any() else (np.nan, np.nan)
        for col in boot.T
    )
    return EffectSize(
        d,
        float(d_lo),
        float(d_hi),
        pct,
        float(p_lo),
        float(p_hi),
        int(u.size),
        0 if c is None else int(c.size),
    )
