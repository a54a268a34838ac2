"""Brain-scale sections of the report: structure, neurotransmitters, inflammation, cognition.

Everything here draws or tabulates brain trajectories handed in (the users'
cohort dataset and, when the scenario had matched controls, the controls'
dataset); nothing is simulated. Variables are named ``<module>_<name>`` as
written by :func:`neuroadapt.engine.brain.integrate` (``structure_gm_volume``
with dim ``structure_region``, ``white_matter_fa`` with ``white_matter_region``,
``cognition_z`` with ``cognition_region``, ...). Every function copes with a
dataset that lacks some or all of them (rat scenarios, records not daily).

Conventions
-----------
End of use
    The last recorded day on which any living subject's daily mean MOR
    activation (``activation_mean``) exceeded :data:`USE_THRESHOLD` of the
    cohort's peak daily mean (and :data:`MIN_ACTIVATION`); residual drug keeps
    it above zero, at float precision, for weeks after the last dose.
Effect size
    Cohen's d of users vs controls, negative when users are lower: mean
    difference over the users' population SD, ``sqrt(sd_pop**2 + var_users)``,
    where ``sd_pop`` is the between-person SD the model does not simulate
    (``str_population_cv`` for gray matter, ``wm_population_cv`` for FA, 1 for
    cognitive z, already in control SDs). This is the convention of the
    calibration checks (:mod:`neuroadapt.evidence.checks_structure`).
    Without controls the comparison is with the matched-control value itself
    (1 for fractions of a matched control, 0 for z).
Interval
    5-95 % of :data:`N_BOOT` bootstrap resamples over subjects (users and
    controls resampled independently, seed :data:`BOOT_SEED`): the spread
    that comes from between-subject parameter variability in a cohort of
    this size.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from neuroadapt.model import structure
from neuroadapt.report import literature
from neuroadapt.report.figures import (
    COLORS,
    _nodata,
    _small,
    figure_legend,
    median_band,
    panel_grid,
)

__all__ = [
    "BRAIN_HEADINGS",
    "BRAIN_MODULE_PREFIXES",
    "BRAIN_SECTIONS",
    "N_BOOT",
    "STRUCTURE_FINDINGS",
    "Arm",
    "EffectSize",
    "cognition_figure",
    "effect_size",
    "end_of_use",
    "gm_trajectory_figure",
    "has_brain",
    "inflammation_figure",
    "injury_counts",
    "neurotransmitter_figure",
    "recovery_curves",
    "recovery_figure",
    "region_effects",
    "white_matter_figure",
]

#: The brain sections: ``(id, title)``.
BRAIN_SECTIONS: tuple[tuple[str, str], ...] = (
    ("brain-structure", "Structural and functional abnormalities"),
    ("neurotransmitters", "Neurotransmitter dysregulation"),
    ("signalling-pathway", "The signalling pathway"),
    ("neuroinflammation", "Neuroinflammation"),
    ("cognition", "Cognitive and neurological consequences"),
    ("recovery", "Recovery with abstinence"),
)
BRAIN_HEADINGS: tuple[str, ...] = tuple(title for _, title in BRAIN_SECTIONS)
BRAIN_MODULE_PREFIXES: tuple[str, ...] = (
    "dopamine_",
    "glutamate_",
    "inflammation_",
    "affect_",
    "structure_",
    "white_matter_",
    "cognition_",
)
USE_THRESHOLD = 0.01
#: Daily mean activation below this is never use (float residue of a long-gone dose).
MIN_ACTIVATION = 1e-6
N_BOOT = 500
BOOT_SEED = 0
#: |d| below this is "no significant difference" in a typical study of ~30 per group.
D_SIGNIFICANT = 0.5
CONTROL_COLOR = "#555555"

GM = "structure_gm_volume"
GM_DENSITY = "structure_gm_density"
FA = "white_matter_fa"
COG = "cognition_z"


def has_brain(ds: xr.Dataset | None) -> bool:
    """Whether a dataset holds any brain-scale variable."""
    return ds is not None and any(str(v).startswith(BRAIN_MODULE_PREFIXES) for v in ds.data_vars)


def _times(ds: xr.Dataset) -> np.ndarray:
    return ds["time"].values.astype(float)


def _alive(ds: xr.Dataset) -> np.ndarray:
    """``subject x time`` mask of living subjects (all true without ``alive``)."""
    if "alive" in ds:
        return np.nan_to_num(ds["alive"].transpose("subject", "time").values.astype(float)) > 0.5
    return np.ones((ds.sizes["subject"], ds.sizes["time"]), dtype=bool)


def _series(ds: xr.Dataset, var: str, times: slice | int | None = None) -> np.ndarray:
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
    mask = _alive(sub)
    return np.where(mask.reshape(mask.shape + (1,) * (x.ndim - 2)), x, np.nan)


def _regions(ds: xr.Dataset, var: str) -> list[str]:
    extra = [d for d in ds[var].dims if d not in ("subject", "time")]
    return [str(r) for r in ds[extra[0]].values] if extra else [var]


def end_of_use(ds: xr.Dataset) -> float | None:
    """Day of the last use (see the module doc); None without any use or ``activation_mean``."""
    if "activation_mean" not in ds or not ds.sizes.get("time"):
        return None
    act = np.nan_to_num(_series(ds, "activation_mean"))
    peak = act.max() if act.size else 0.0
    used = np.nonzero((act > max(USE_THRESHOLD * peak, MIN_ACTIVATION)).any(axis=0))[0]
    return float(_times(ds)[used[-1]]) if used.size else None


def _index(ds: xr.Dataset, day: float) -> int:
    t = _times(ds)
    return int(np.clip(np.searchsorted(t, day - 1e-9), 0, len(t) - 1))


# ------------------------------------------------------------------ effect sizes
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


def _at(ds: xr.Dataset | None, var: str, day: float) -> np.ndarray | None:
    if ds is None or var not in ds:
        return None
    return _series(ds, var, _index(ds, day))[:, 0]


def region_effects(
    users: xr.Dataset,
    controls: xr.Dataset | None,
    var: str,
    day: float,
    *,
    reference: float,
    sd_pop: float,
) -> dict[str, EffectSize]:
    """Effect size per region (or the one value) of ``var`` at ``day``."""
    u = _at(users, var, day)
    if u is None:
        return {}
    c = _at(controls, var, day)
    u2 = u.reshape(u.shape[0], -1)
    c2 = None if c is None else c.reshape(c.shape[0], -1)
    return {
        name: effect_size(
            u2[:, k], None if c2 is None else c2[:, k], reference=reference, sd_pop=sd_pop
        )
        for k, name in enumerate(_regions(users, var))
    }


# ------------------------------------------------------------------ structural table
@dataclass(frozen=True)
class Finding:
    """A structural finding of the literature and how the model is read against it."""

    target: str
    regions: tuple[str, ...]
    method: str
    var: str
    when: str  # "end", "end+30" or "last"
    expect: str  # "lower" or "none" (per region); "progressive"; "partial"
    fallback: str  # finding text when the calibration rows lack the target
    source: str


_ALL_GM = structure.REGIONS
STRUCTURE_FINDINGS: tuple[Finding, ...] = (
    Finding(
        "str_gm_density_lower_lyoo",
        ("prefrontal cortex", "insula", "temporal cortex"),
        "VBM (gray-matter density)",
        GM_DENSITY,
        "end",
        "lower",
        "gray-matter density lower in bilateral PFC, insula and superior temporal cortex",
        "Lyoo 2006 Psychopharmacology",
    ),
    Finding(
        "str_nacc_volume_seifert",
        ("nucleus accumbens",),
        "volumetry (3 T MRI)",
        GM,
        "end",
        "lower",
        "left nucleus accumbens volume lower in heroin dependence",
        "Seifert 2015",
    ),
    Finding(
        "str_insula_putamen_bach",
        ("insula", "putamen"),
        "VBM (gray-matter volume)",
        GM,
        "end",
        "lower",
        "insula and putamen GMV lower in opioid maintenance",
        "Bach 2019 Eur Arch Psychiatry Clin Neurosci",
    ),
    Finding(
        "str_insula_postmortem_muller",
        ("insula",),
        "post-mortem volumetry",
        GM,
        "end",
        "lower",
        "anterior insula relative volume -24 % in heroin addicts vs controls",
        "Müller 2023 Eur Arch Psychiatry Clin Neurosci",
    ),
    Finding(
        "str_gm_duration_yuan",
        ("prefrontal cortex", "anterior cingulate", "temporal cortex"),
        "VBM (gray-matter density)",
        GM_DENSITY,
        "end",
        "progressive",
        "gray-matter density falls with duration of heroin use",
        "Yuan 2009 Brain Cogn",
    ),
    Finding(
        "str_gm_recovery_wang2012",
        ("prefrontal cortex", "anterior cingulate"),
        "VBM (gray-matter density), 3 days vs 1 month abstinent",
        GM_DENSITY,
        "end+30",
        "partial",
        "GM density deficits partly recover between 3 days and 1 month of abstinence",
        "Wang X 2012",
    ),
    Finding(
        "str_meta_abstinence_wollman",
        _ALL_GM,
        "VBM meta-regression (12 studies)",
        GM,
        "last",
        "wollman",
        "with longer abstinence no significant GM reduction remains except precuneus",
        "Wollman 2017 Am J Drug Alcohol Abuse",
    ),
)
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


def _pop_sd(params: Any, name: str) -> float:
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
    people who stayed abstinent), else ``users``.
    """
    u = _arm(users, "users")
    c = _arm(controls, "controls")
    after = later or u
    end = end_of_use(u.data) if end is None else end
    if end is None or GM not in u.data:
        return []
    t = _times(u.data)
    last = float(t[-1])
    first_use = float(t[0])
    sd_pop = _pop_sd(params, "str_population_cv")
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
        finding = str(row.get("quantity") or f.fallback)
        lit = str(row.get("literature") or "")
        if lit and lit != finding:
            finding = f"{finding}: {lit}"
        src = ", ".join(str(row.get(k, "")).strip() for k in ("source", "ref") if row.get(k))
        reference = f"{row.get('source') or f.source} {cite(src or f.source, f.target)}".strip()
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


# ------------------------------------------------------------------ figures
def _time_axis(t: np.ndarray) -> tuple[np.ndarray, str]:
    return (t / 365.25, "years") if t.max(initial=0.0) > 730 else (t, "days")


def _stride(n: int, most: int = 500) -> slice:
    return slice(None, None, max(1, int(np.ceil(n / most))))


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


def _arm(x: xr.Dataset | Arm | None, name: str) -> Arm | None:
    return x if isinstance(x, Arm) or x is None else Arm(name, x)


#: Colours of the arms drawn after the end of use, by position.
ARM_COLORS = (COLORS[1], COLORS[4], COLORS[2], COLORS[3])


def panel_literature(key: str, end: float | None, last: float) -> list[literature.Placed]:
    """Literature values at a stated time for one panel (``var`` or ``var:region``).

    See :data:`neuroadapt.report.literature.MARKERS`; none without an end of use.
    """
    if end is None:
        return []
    return literature.place(key, {"start": 0.0, "end of use": end, "discharge": end}, last)


def figure_literature(ds: xr.Dataset, variables: Sequence[str], end: float | None) -> list:
    """Every literature value drawn on the panels of ``variables`` (for the caption)."""
    last = float(_times(ds)[-1]) if ds.sizes.get("time") else 0.0
    out = []
    for var in variables:
        if var not in ds:
            continue
        keys = [var] + [f"{var}:{r}" for r in _regions(ds, var) if r != var]
        out += [p for k in keys for p in panel_literature(k, end, last)]
    return out


def _trajectories(
    axes: Sequence[Axes],
    users: xr.Dataset | Arm,
    controls: xr.Dataset | Arm | None,
    panels: Sequence[tuple[str, int | None, str]],
    end: float | None,
    arms: Sequence[Arm] = (),
) -> None:
    """One panel per ``(var, region index or None, title)``.

    Users' median and 5-95 % band (up to the end of use when ``arms`` are given,
    then each arm's median), controls' median; every legend entry carries its n.
    """
    u = _arm(users, "users")
    c = _arm(controls, "controls")
    split = bool(arms) and end is not None
    s = _stride(u.data.sizes["time"])
    t_all = _times(u.data)[s]
    t, unit = _time_axis(t_all)
    scale = 365.25 if unit == "years" else 1.0
    read: dict[tuple[str, str], np.ndarray] = {}  # regions of one variable share one read

    def series(group: Arm, var: str, stride: slice) -> np.ndarray:
        if (group.name, var) not in read:
            read[group.name, var] = _series(group.data, var, stride)
        return read[group.name, var]

    for ax, (var, k, title) in zip(axes, panels, strict=False):
        _small(ax, title)
        if var not in u.data:
            _nodata(ax)
            continue
        x = series(u, var, s)
        x = x if k is None else x[..., k]
        if split:
            upto = t_all <= end + 1e-9
            median_band(ax, t[upto], x[:, upto], COLORS[0], u.label)
            for j, arm in enumerate(arms):
                if var not in arm.data:
                    continue
                sa = _stride(arm.data.sizes["time"])
                ta = _times(arm.data)[sa]
                after = ta >= end - 1e-9
                xa = series(arm, var, sa)
                xa = xa if k is None else xa[..., k]
                median_band(
                    ax,
                    ta[after] / scale,
                    xa[:, after],
                    ARM_COLORS[j % len(ARM_COLORS)],
                    arm.label,
                    band=False,
                )
        else:
            median_band(ax, t, x, COLORS[0], u.label)
        if c is not None and var in c.data:
            sc = _stride(c.data.sizes["time"])
            tc, _ = _time_axis(_times(c.data)[sc])
            xc = series(c, var, sc)
            median_band(ax, tc, xc if k is None else xc[..., k], CONTROL_COLOR, c.label, band=False)
        if end is not None:
            ax.axvline(end / scale, color="k", ls=":", lw=0.9)
        key = var if k is None else f"{var}:{_regions(u.data, var)[k]}"
        placed = panel_literature(key, end, float(t_all[-1]) if t_all.size else 0.0)
        if placed:
            literature.draw(ax, placed, scale)
            ax.legend(*_own_handles(ax, placed), fontsize=7, loc="lower left")
        ax.set_xlabel(unit, fontsize=8)


def _own_handles(ax: Axes, placed: Sequence[literature.Placed]) -> tuple[list, list[str]]:
    """Handles and labels of the literature markers only (groups are in the figure legend)."""
    names = {f"{p.label}: {p.value_text}" for p in placed}
    pairs = [
        (h, lab) for h, lab in zip(*ax.get_legend_handles_labels(), strict=True) if lab in names
    ]
    return [h for h, _ in pairs], [lab for _, lab in pairs]


def gm_trajectory_figure(
    users: xr.Dataset | Arm,
    controls: xr.Dataset | Arm | None = None,
    end: float | None = None,
    arms: Sequence[Arm] = (),
) -> Figure:
    """Regional gray-matter volume over time: users' median and 5-95 %, controls' median.

    With ``arms``, the users are drawn up to ``end`` and each arm's median after it.
    """
    u = _arm(users, "users")
    regions = _regions(u.data, GM) if GM in u.data else []
    rows = max(1, int(np.ceil(len(regions) / 5)))
    fig, axes = panel_grid(
        (13, 2.7 * rows + 0.9), rows, 5, suptitle=True, legend=True, sharey=True, wgap=0.25
    )
    axes = axes.ravel()
    _trajectories(axes, u, controls, [(GM, k, r) for k, r in enumerate(regions)], end, arms)
    for ax in axes[len(regions) :]:
        ax.set_axis_off()
    if not regions:
        _nodata(axes[0])
    figure_legend(fig, axes)
    fig.suptitle(
        "gray-matter volume, fraction of a matched control's (dotted: end of use)", fontsize=10
    )
    return fig


NEURO_PANELS: tuple[tuple[str, str], ...] = (
    ("dopamine_d2_availability", "striatal D2/D3 availability (x naive)"),
    ("dopamine_da_tonic", "tonic NAc dopamine (x naive)"),
    ("dopamine_anhedonia", "anhedonia (0-1)"),
    ("dopamine_da_phasic_peak", "daily peak NAc dopamine (% basal)"),
    ("glutamate_glt1", "NAc GLT-1 (x naive)"),
    ("glutamate_xct", "NAc xCT (x naive)"),
    ("glutamate_cue_glutamate", "cue-evoked glutamate (x naive)"),
    ("glutamate_craving", "cue-induced craving (0-1)"),
)
INFLAMMATION_PANELS: tuple[tuple[str, str], ...] = (
    ("inflammation_glial_activation", "microglia/astrocyte activation (0-1)"),
    ("inflammation_cytokines", "pro-inflammatory cytokines (fold)"),
    ("affect_negative_affect", "negative affect (0-1)"),
    ("affect_stress", "stress-system recruitment (0-1)"),
)


def _panel_figure(
    users: xr.Dataset | Arm,
    controls: xr.Dataset | Arm | None,
    end: float | None,
    panels: Sequence[tuple[str, str]],
    ncols: int,
    arms: Sequence[Arm] = (),
) -> Figure:
    rows = int(np.ceil(len(panels) / ncols))
    fig, axes = panel_grid((13, 2.9 * rows + 0.5), rows, ncols, legend=True)
    axes = axes.ravel()
    _trajectories(axes, users, controls, [(v, None, title) for v, title in panels], end, arms)
    figure_legend(fig, axes)
    return fig


def neurotransmitter_figure(
    users: xr.Dataset | Arm,
    controls: xr.Dataset | Arm | None = None,
    end: float | None = None,
    arms: Sequence[Arm] = (),
) -> Figure:
    """Dopamine (top) and glutamate (bottom) trajectories of users and controls."""
    return _panel_figure(users, controls, end, NEURO_PANELS, 4, arms)


def inflammation_figure(
    users: xr.Dataset | Arm,
    controls: xr.Dataset | Arm | None = None,
    end: float | None = None,
    arms: Sequence[Arm] = (),
) -> Figure:
    """Glial activation, cytokines and the affect they feed, users and controls."""
    return _panel_figure(users, controls, end, INFLAMMATION_PANELS, 4, arms)


def white_matter_figure(
    users: xr.Dataset | Arm,
    controls: xr.Dataset | Arm | None = None,
    end: float | None = None,
    arms: Sequence[Arm] = (),
) -> Figure:
    """Fractional anisotropy per tract over time."""
    u = _arm(users, "users")
    tracts = _regions(u.data, FA) if FA in u.data else ["white matter"]
    fig, axes = panel_grid((13, 3.3), 1, len(tracts), legend=True, sharey=True, wgap=0.25)
    axes = axes.ravel()
    _trajectories(
        axes,
        u,
        controls,
        [(FA, k if FA in u.data else None, f"FA: {r}") for k, r in enumerate(tracts)],
        end,
        arms,
    )
    figure_legend(fig, axes)
    return fig


#: Literature on cognitive domains: domain -> (text, low d, high d, calibration target);
#: negative d = users worse; None bounds: no range given (drawn as a label only).
COGNITION_LITERATURE: dict[str, tuple[str, float | None, float | None, str]] = {
    "decision_making": (
        "risky decision making SMD -0.59 (95 % CI -0.85 to -0.33)",
        -0.849,
        -0.330,
        "cog_risky_dm_smd_chen",
    ),
    "verbal_working_memory": ("medium effect", -0.9, -0.3, "cog_domains_baldacchino"),
    "verbal_fluency": (
        "medium effect (cognitive flexibility)",
        -0.9,
        -0.3,
        "cog_domains_baldacchino",
    ),
    "complex_psychomotor": (
        "largest deficit of all domains",
        None,
        None,
        "cog_psychomotor_largest_wollman",
    ),
    "processing_speed": ("no deficit", -0.1, 0.1, "cog_psychomotor_largest_wollman"),
}


def cognition_figure(
    effects: Mapping[str, Mapping[str, EffectSize]], colors: Sequence[str] | None = None
) -> Figure:
    """Cohen's d per cognitive domain (bars, 90 % intervals) at one or more time points.

    ``effects`` maps a legend label (time point and group with its n) to the
    effects per domain; ``colors`` gives each its bar colour. Literature ranges
    are drawn as hatched boxes and findings as labels; the legend sits below.
    """
    legend_rows = int(np.ceil((len(effects) + 1) / 2))
    height = 4.4 + 0.2 * legend_rows
    # room below for the two-line domain names and the legend
    fig, axes = panel_grid((12, height), 1, 1, bottom=0.95 + 0.2 * legend_rows)
    ax = axes[0, 0]
    _small(ax, "cognitive domains: Cohen's d, users vs controls (negative = users worse)")
    domains = list(next(iter(effects.values())).keys()) if effects else []
    if not domains:
        _nodata(ax)
        return fig
    colors = list(colors or COLORS)
    x = np.arange(len(domains))
    w = 0.8 / len(effects)
    for j, (label, eff) in enumerate(effects.items()):
        d = np.array([eff[k].d for k in domains])
        lo = np.array([eff[k].d_lo for k in domains])
        hi = np.array([eff[k].d_hi for k in domains])
        pos = x - 0.4 + w * (j + 0.5)
        ax.bar(pos, d, w * 0.9, color=colors[j % len(colors)], label=f"model: {label}")
        ax.errorbar(pos, d, yerr=[d - lo, hi - d], fmt="none", ecolor="k", lw=0.8, capsize=2)
    first = True
    for i, dom in enumerate(domains):
        if dom in COGNITION_LITERATURE:
            text, lo, hi, _ = COGNITION_LITERATURE[dom]
            if lo is not None and hi is not None:
                ax.add_patch(_box(i, lo, hi, first))
                first = False
            ax.text(
                i, 0.04, textwrap.fill(text, 20), ha="center", va="bottom", fontsize=6, color="#333"
            )
    ax.axhline(0, color="k", lw=0.7)
    ax.set_xticks(x, [d.replace("_", "\n") for d in domains], fontsize=7.5)
    ax.set_ylabel("Cohen's d", fontsize=8)
    lo, hi = ax.get_ylim()
    ax.set_ylim(min(-1.4, lo), max(0.7, hi))
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=7, frameon=False)
    return fig


def _box(i: float, lo: float, hi: float, label: bool):
    from matplotlib.patches import Rectangle

    return Rectangle(
        (i - 0.45, lo),
        0.9,
        hi - lo,
        facecolor="none",
        edgecolor="#777",
        hatch="///",
        lw=0.8,
        label="literature" if label else None,
    )


# ------------------------------------------------------------------ neurological events
INJURY_VARS: tuple[tuple[str, str], ...] = (
    ("white_matter_tle_max_stage", "toxic leukoencephalopathy (any stage)"),
    ("white_matter_tle_dead", "fatal toxic leukoencephalopathy"),
    ("white_matter_hypoxic_injury", "hypoxic-ischaemic brain lesion"),
    ("white_matter_pallidal_injury", "globus pallidus lesion"),
    ("white_matter_dphl", "delayed post-hypoxic leukoencephalopathy"),
)


def _ever(ds: xr.Dataset, var: str) -> np.ndarray:
    x = np.nan_to_num(ds[var].values.astype(float))
    return (x.reshape(x.shape[0], -1) > 0).any(axis=1) if x.size else np.zeros(0, bool)


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
    groups = [g for g in (_arm(users, "users"), *arms, _arm(controls, "controls")) if g]
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
            ever = _ever(g.data, var)
            n = max(ever.size, 1)
            row.append(f"{int(ever.sum())} of {ever.size} ({100 * ever.sum() / n:.1f} %)")
        out.append(row)
    return header, out


# ------------------------------------------------------------------ recovery
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
    t = _times(users)
    i0 = _index(users, end)
    days = t[i0:] - t[i0]
    out: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    if days.size < 2:
        return out
    for group, var, ref, prefix in RECOVERY_MEASURES:
        if var not in users:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mu = np.nanmean(_series(users, var, slice(i0, None)), axis=0)
            if controls is not None and var in controls:
                mc = np.nanmean(_series(controls, var), axis=0)
                mc = mc[[_index(controls, d) for d in t[i0:]]]
            else:
                mc = np.full_like(mu, ref)
        deficit = (mu - mc).reshape(days.size, -1)
        names = _regions(users, var)
        for k in range(deficit.shape[1]):
            d0 = deficit[0, k]
            if not np.isfinite(d0) or abs(d0) < 1e-9:
                continue
            label = prefix or names[k].replace("_", " ")
            out.setdefault(group, {})[label] = (days, deficit[:, k] / d0)
    return out


def recovery_figure(curves: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]]) -> Figure:
    """One panel per group of measures: fraction of the end-of-use deficit remaining."""
    groups = list(curves) or ["recovery"]
    most = max((len(v) for v in curves.values()), default=1)
    # legends sit under their panels (two columns), so none covers a curve or a neighbour
    below = 0.55 + 0.16 * -(-most // 2)
    fig, axes = panel_grid(
        (13, 3.0 + below), 1, len(groups), sharey=True, wgap=0.25, left=0.75, bottom=below
    )
    axes = axes.ravel()
    for ax, g in zip(axes, groups, strict=True):
        _small(ax, g)
        lines = curves.get(g, {})
        if not lines:
            _nodata(ax, "no abstinence recorded")
            continue
        for j, (label, (days, frac)) in enumerate(lines.items()):
            s = _stride(days.size)
            ax.plot(
                days[s],
                frac[s],
                lw=1.2,
                label=label,
                color=COLORS[j % len(COLORS)],
                ls="-" if j < len(COLORS) else "--",
            )
        ax.axhline(0, color="k", lw=0.6)
        ax.axhline(0.5, color="grey", lw=0.6, ls=":")
        ax.set_xlabel("days since stopping", fontsize=8)
        ax.legend(
            fontsize=6.5,
            frameon=False,
            ncol=2,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.16),
        )
    axes[0].set_ylabel("fraction of end-of-use deficit remaining", fontsize=8)
    return fig


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


# ------------------------------------------------------------------ sections
Block = dict[str, Any]


def _p(text: str) -> Block:
    return {"kind": "p", "text": text}


def _img(fig: Figure, alt: str) -> Block:
    from neuroadapt.report.figures import to_data_uri

    return {"kind": "img", "src": to_data_uri(fig), "alt": alt}


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Block:
    return {"kind": "table", "header": list(header), "rows": [list(r) for r in rows]}


def _desc(text: str) -> Block:
    return {"kind": "desc", "text": text}


def _note(text: str) -> Block:
    return {"kind": "note", "text": text}


def _literature_rows(
    calibration: Sequence[Mapping[str, Any]], scales: Sequence[str], cite: Callable[[str, str], str]
) -> list[list[str]]:
    rows = []
    for r in calibration:
        if r.get("scale") not in scales:
            continue
        src = ", ".join(str(r.get(k, "")).strip() for k in ("source", "ref") if r.get(k))
        lit = str(r.get("literature", ""))
        model = str(r.get("model", ""))
        unit = str(r.get("unit", ""))
        rows.append(
            [
                str(r.get("quantity", "")),
                str(r.get("species", "")),
                "" if lit == r.get("quantity") else lit,
                f"{model} {unit}".strip() if model not in ("", "yes", "no") else model,
                str(r.get("verdict", "")),
                f"{r.get('source', '')} {cite(src, str(r.get('id'))) if src else ''}",
            ]
        )
    return rows


LIT_HEADER = (
    "finding",
    "species",
    "literature value",
    "model (calibration protocol)",
    "verdict",
    "source",
)


def _lit_block(calibration, scales, cite) -> list[Block]:
    rows = _literature_rows(calibration, scales, cite)
    if not rows:
        return []
    return [
        _p(
            "The literature this scale is held to, with the model's value under each "
            "study's own protocol (from the calibration run):"
        ),
        _table(LIT_HEADER, rows),
    ]


def _fmt_day(day: float) -> str:
    return f"day {day:g}" + (f" ({day / 365.25:.1f} years)" if day >= 365 else "")


def _comparison_text(controls: Arm | None) -> str:
    if controls is not None:
        return (
            f"Users are compared with the matched drug-free {controls.label}, simulated "
            "with the same covariates and their own parameter draws."
        )
    return (
        "No matched controls were simulated (cohort.controls = 0): users are compared "
        "with the matched-control value itself (gray-matter volume and FA are already "
        "fractions of a matched control's, so 1.0; cognitive z 0), with no control "
        "variance beyond the population SD."
    )


def _groups_text(users: Arm, arms: Sequence[Arm], later: Arm | None) -> str:
    """Who each figure and table reads, with the n of every group."""
    if not arms:
        return f"Figures and tables read all {users.label}; the living enter each statistic."
    text = (
        f"Figures show all {users.label} up to the end of use and then, separately, the "
        f"people alive at the end of use by what they did afterwards: "
        + "; ".join(a.label for a in arms)
        + ". Tables at the end of use read every user alive on that day"
    )
    if later is not None:
        text += (
            f"; findings after the end of use (abstinence) and the recovery section read "
            f"the {later.label}"
        )
    return text + "."


def brain_sections(
    users: xr.Dataset,
    controls: xr.Dataset | None,
    calibration: Sequence[Mapping[str, Any]],
    params: Any,
    cite: Callable[[str, str], str] = lambda s, u: "",
    pathway_anchor: str | None = None,
    end: float | None = None,
    arms: Mapping[str, xr.Dataset] | None = None,
    recovering: tuple[str, xr.Dataset] | None = None,
) -> list[dict[str, Any]]:
    """The six brain sections (:data:`BRAIN_SECTIONS`) as ``{"id", "title", "blocks"}`` dicts.

    Without brain variables each section holds one note saying why. ``end``
    gives the day use ended (life courses); by default it is found from the
    daily MOR activation. ``arms`` (name -> dataset, subsets of ``users``) are
    drawn separately after ``end``; ``recovering`` (name, dataset) is the group
    recovery with abstinence is read from (default: all users). Every group is
    labelled with its n.
    """
    if not has_brain(users):
        why = (
            "The cohort dataset holds no brain-scale variables (they are integrated on the "
            "daily clock for human cohorts recorded every 1 d; rat scenarios and other "
            "record intervals have none)."
        )
        return [{"id": i, "title": h, "blocks": [_note(why)]} for i, h in BRAIN_SECTIONS]
    u = Arm("users", users)
    c = Arm("controls", controls) if controls is not None and has_brain(controls) else None
    split = [Arm(k, v) for k, v in (arms or {}).items() if has_brain(v)]
    later = Arm(*recovering) if recovering is not None else None
    rec = later or u
    given = end is not None
    end = end_of_use(users) if end is None else end
    last = float(_times(users)[-1])
    if end is None:
        end_txt = "no use was recorded, so there is no end of use"
    elif given:
        end_txt = f"end of use: {_fmt_day(end)}, when the detoxified arm stopped"
    else:
        end_txt = (
            f"end of use: {_fmt_day(end)}, the last day on which any living subject's daily "
            f"mean MOR activation exceeded {100 * USE_THRESHOLD:g} % of the cohort's peak"
        )
    comp = f"{_comparison_text(c)} {_groups_text(u, split, later)}"
    eff_txt = (
        "Cohen's d is the users' mean minus the controls' mean over the users' population SD, "
        "sqrt(SD_pop^2 + between-subject variance of the simulated users), where SD_pop is the "
        "between-person spread the model does not simulate (str_population_cv for gray "
        "matter, wm_population_cv for FA, 1 for cognitive z) — the convention of the "
        "calibration checks; negative d means users are lower. Brackets: 90 % interval, the "
        f"5-95 % of {N_BOOT} bootstrap resamples over subjects (seed {BOOT_SEED}), i.e. the "
        "spread from between-subject parameter variability in a cohort of this size."
    )
    band_txt = (
        f"{u.label[0].upper()}{u.label[1:]}: median and 5-95 % band over the living"
        + (" up to the end of use, then each arm's median (legend)" if split else "")
        + (f"; grey line: {c.label} median" if c is not None else "")
        + "; dotted line: end of use."
    )
    sections: list[dict[str, Any]] = []

    def add(k: int, blocks: list[Block]) -> None:
        sections.append(
            {"id": BRAIN_SECTIONS[k][0], "title": BRAIN_SECTIONS[k][1], "blocks": blocks}
        )

    # 1 structure
    blocks: list[Block] = [_p(f"{comp} {end_txt[0].upper()}{end_txt[1:]}.")]
    rows = structure_table(u, c, calibration, params, cite, end=end, later=later) if end else []
    if rows:
        blocks += [
            _table(
                (
                    "region",
                    "observed change in the literature",
                    "method",
                    "reference",
                    "model time point and group",
                    "model Cohen's d (90 %)",
                    "model % difference of the mean (90 %)",
                    "matches the literature",
                    "calibration verdict",
                ),
                rows,
            ),
            _desc(
                f"Model columns: gray-matter volume (density for VBM density studies) of "
                f"this run's cohort. {eff_txt} 'Matches': the 90 % interval of d lies below 0 "
                "for a reported reduction; for the Wollman 2017 meta-regression, precuneus "
                f"d <= -{D_SIGNIFICANT} and every other region |d| < {D_SIGNIFICANT} at the "
                "last recorded day; for Yuan 2009, d larger at the end of use than half-way; "
                "for Wang 2012, d smaller at 1 month than at 3 days of abstinence. The "
                "calibration verdict is the check under the study's own protocol (10 years "
                "of use), not this run."
            ),
        ]
    elif GM in users:
        blocks.append(_note("No use was recorded, so there is no end-of-use comparison."))
    if GM in users:
        blocks += [
            _img(gm_trajectory_figure(u, c, end, split), "regional gray matter"),
            _desc(
                "Regional gray-matter volume (fraction of a matched control's) over the whole "
                f"run, including recovery after use stops. {band_txt} "
                + literature.caption(
                    figure_literature(users, [GM], end), cite, "gray-matter volume"
                )
            ),
        ]
    else:
        blocks.append(_note("Gray-matter structure was not integrated in this run."))
    add(0, blocks)

    # 2 neurotransmitters
    blocks = [
        _img(neurotransmitter_figure(u, c, end, split), "dopamine and glutamate trajectories"),
        _desc(
            "Top: dopamine (striatal D2/D3 availability, tonic NAc dopamine, "
            "anhedonia, daily peak dopamine surge); bottom: glutamate (GLT-1 and xCT "
            "in the NAc core, cue-evoked glutamate spill-over, cue-induced craving, "
            f"which incubates over early abstinence). {band_txt} "
            + literature.caption(
                figure_literature(users, [v for v, _ in NEURO_PANELS], end),
                cite,
                "these dopamine and glutamate measures",
            )
        ),
    ]
    inc = _incubation_text(rec, end)
    if inc:
        blocks.append(_p(inc))
    blocks += _lit_block(calibration, ("dopamine", "glutamate"), cite)
    add(1, blocks)

    # 3 signalling pathway
    link = (
        (
            f'<a href="{pathway_anchor}">mu-opioid receptor signalling under acute and '
            "chronic heroin exposure</a>"
        )
        if pathway_anchor
        else ("mu-opioid receptor signalling under acute and chronic heroin exposure")
    )
    add(
        2,
        [
            {
                "kind": "html",
                "text": (
                    "The receptor-to-cAMP pathway (Gi/o inhibition of adenylyl "
                    "cyclase, its superactivation with chronic exposure, and the cAMP "
                    "overshoot of withdrawal) is drawn, beside the simulated cAMP, in the "
                    f"section {link}; it is not repeated here. Its daily read-outs (mean "
                    "and peak MOR activation, withdrawal) are the drivers of every brain "
                    "scale in this part of the report."
                ),
            }
        ],
    )

    # 4 inflammation
    blocks = [
        _img(inflammation_figure(u, c, end, split), "neuroinflammation"),
        _desc(
            "Microglia/astrocyte activation and pro-inflammatory cytokines (fold of "
            f"naive), and the negative affect and stress-system recruitment they feed. {band_txt} "
            + literature.caption(
                figure_literature(users, [v for v, _ in INFLAMMATION_PANELS], end),
                cite,
                "these inflammation and affect measures",
            )
        ),
    ]
    blocks += _lit_block(calibration, ("inflammation",), cite)
    add(3, blocks)

    # 5 cognition and neurology
    add(
        4,
        _cognition_blocks(
            u,
            c,
            split,
            calibration,
            params,
            cite,
            end,
            last,
            _comparison_text(c),
            eff_txt,
            band_txt,
        ),
    )

    # 6 recovery
    blocks = []
    curves = (
        recovery_curves(rec.data, None if c is None else c.data, end)
        if end is not None and end < last
        else {}
    )
    if curves:
        blocks += [
            _p(
                f"Recovery is read from the {rec.label}"
                + (
                    " (lapses included): people who relapsed or kept using are not recovering."
                    if later is not None
                    else "."
                )
            ),
            _img(recovery_figure(curves), "recovery with abstinence"),
            _desc(
                f"Fraction of the end-of-use deficit remaining ({rec.label}: mean minus "
                "controls' mean, over the same difference at the end of use) against "
                "days since stopping; 0 = back to control level, dotted line = half. "
                "Gray matter per region, FA per tract, D2/D3 availability, GLT-1, "
                "cognitive composite and domains."
            ),
            _table(
                (
                    "measure",
                    "days to half recovery",
                    "remaining at 30 d",
                    "remaining at 90 d",
                    "remaining at 1 year",
                    "remaining at the last day",
                ),
                recovery_table(curves),
            ),
        ]
    else:
        blocks.append(
            _note(
                "No abstinence after use was recorded in this run, so there is no recovery to show."
            )
        )
    add(5, blocks)
    return sections


def _incubation_text(users: Arm, end: float | None) -> str:
    var = "glutamate_craving"
    ds = users.data
    if end is None or var not in ds:
        return ""
    x = _series(ds, var)
    i0 = _index(ds, end)
    if i0 >= x.shape[1] - 1:
        return ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(x, axis=0)
    after = med[i0:]
    if not np.isfinite(med[i0]) or not np.isfinite(after).any():
        return ""
    k = int(np.nanargmax(after))
    t = _times(ds) - _times(ds)[i0]
    text = f"Median cue-induced craving of the {users.label} is {med[i0]:.2f} at the end of use"
    if k > 0:
        text += (
            f"; after stopping it peaks at {after[k]:.2f} on day {t[i0 + k]:g} of "
            f"abstinence ({100 * (after[k] / med[i0] - 1) if med[i0] else np.nan:+.0f} %)"
        )
    else:
        text += " and does not rise after stopping"
    j = _index(ds, _times(ds)[i0] + 30.0)
    if t[j] >= 30.0:
        text += f"; at 30 days of abstinence it is {med[j]:.2f}"
    return text + "."


def _cognition_blocks(
    users: Arm,
    controls: Arm | None,
    arms: Sequence[Arm],
    calibration,
    params,
    cite,
    end,
    last,
    comp,
    eff_txt,
    band_txt,
) -> list[Block]:
    blocks: list[Block] = []
    ds, cds = users.data, None if controls is None else controls.data
    if COG in ds and end is not None:
        effects = {
            f"end of use ({_fmt_day(end)}), {users.label}": region_effects(
                ds, cds, COG, end, reference=0.0, sd_pop=1.0
            )
        }
        colors = [COLORS[0]]
        if last > end:
            for j, arm in enumerate(arms or (users,)):
                effects[f"last recorded day ({_fmt_day(last)}), {arm.label}"] = region_effects(
                    arm.data, cds, COG, last, reference=0.0, sd_pop=1.0
                )
                colors.append(ARM_COLORS[j % len(ARM_COLORS)] if arms else COLORS[1])
        blocks += [
            _p(comp),
            _img(cognition_figure(effects, colors), "cognitive domains"),
            _desc(
                f"Bars: the model's Cohen's d per domain for each group and time point (legend, "
                f"with n). {eff_txt} Hatched boxes: the literature's range where it gives one; "
                "labels: the finding."
            ),
        ]
        end_eff = next(iter(effects.values()))
        ids = {str(r.get("id")): r for r in calibration if r.get("scale") == "cognition"}
        worst = min(end_eff, key=lambda k: end_eff[k].d)
        rows = []
        for dom, es in end_eff.items():
            lit = COGNITION_LITERATURE.get(dom)
            if lit is None:
                rows.append([dom.replace("_", " "), es.text_d(), "", "", ""])
                continue
            text, lo, hi, target = lit
            row = ids.get(target, {})
            src = ", ".join(str(row.get(k, "")).strip() for k in ("source", "ref") if row.get(k))
            ref = f"{row.get('source', target)} {cite(src, target) if src else ''}".strip()
            if lo is None:
                ok = "yes" if dom == worst else f"no (largest: {worst.replace('_', ' ')})"
            else:
                ok = "yes" if lo <= es.d <= hi else "no"
            rows.append([dom.replace("_", " "), es.text_d(), text, ref, ok])
        blocks.append(
            _table(
                (
                    "domain",
                    f"model d at end of use (90 %), {users.label}",
                    "literature",
                    "reference",
                    "matches",
                ),
                rows,
            )
        )
    elif COG in ds:
        blocks.append(_note("No use was recorded, so there is no end-of-use comparison."))
    else:
        blocks.append(_note("Cognition was not integrated in this run."))
    blocks += _lit_block(calibration, ("cognition",), cite)
    if FA in ds:
        blocks += [
            _img(white_matter_figure(users, controls, end, arms), "white-matter FA"),
            _desc(
                f"Fractional anisotropy per tract (fraction of a matched control's). {band_txt} "
                + literature.caption(
                    figure_literature(ds, [FA], end), cite, "fractional anisotropy"
                )
            ),
        ]
        if end is not None:
            fa = region_effects(
                ds, cds, FA, end, reference=1.0, sd_pop=_pop_sd(params, "wm_population_cv")
            )
            blocks.append(
                _table(
                    (
                        "tract",
                        f"model Cohen's d at end of use (90 %), {users.label}",
                        "model % difference (90 %)",
                    ),
                    [[k, v.text_d(), v.text_pct()] for k, v in fa.items()],
                )
            )
    header, counts = injury_counts(users, controls, arms)
    if counts:
        blocks += [
            _p(
                "People with each neurological event at any time in the run, of everyone in "
                "each group (the dead included):"
            ),
            _table(header, counts),
        ]
    blocks += _lit_block(calibration, ("white_matter",), cite)
    return blocks
