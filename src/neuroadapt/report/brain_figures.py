"""Figures of the brain sections: trajectories of users, study arms and controls; effects.

Drawn from brain trajectories handed in (statistics from
:mod:`neuroadapt.analysis.brain`), never simulated: regional gray matter,
dopamine and glutamate, inflammation and affect, white-matter FA over time
(users' median and 5-95 % band, each arm's and the controls' median, with the
literature values of :mod:`neuroadapt.report.literature`), Cohen's d per
cognitive domain, and recovery with abstinence. Every legend entry carries
its group's n.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from neuroadapt.analysis.brain import FA, GM, Arm, as_arm, regions, series, time_days
from neuroadapt.analysis.effects import EffectSize
from neuroadapt.report import literature
from neuroadapt.report.findings import cognition_literature
from neuroadapt.report.plotting import (
    COLORS,
    figure_legend,
    median_band,
    no_data,
    panel_grid,
    style_panel,
)

__all__ = [
    "ARM_COLORS",
    "CONTROL_COLOR",
    "INFLAMMATION_PANELS",
    "NEURO_PANELS",
    "cognition_figure",
    "figure_literature",
    "gm_trajectory_figure",
    "inflammation_figure",
    "neurotransmitter_figure",
    "panel_literature",
    "recovery_figure",
    "white_matter_figure",
]

#: Colour of the controls' median.
CONTROL_COLOR = "#555555"


def _time_axis(t: np.ndarray) -> tuple[np.ndarray, str]:
    return (t / 365.25, "years") if t.max(initial=0.0) > 730 else (t, "days")


def _stride(n: int, most: int = 500) -> slice:
    return slice(None, None, max(1, int(np.ceil(n / most))))


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
    last = float(time_days(ds)[-1]) if ds.sizes.get("time") else 0.0
    out = []
    for var in variables:
        if var not in ds:
            continue
        keys = [var] + [f"{var}:{r}" for r in regions(ds, var) if r != var]
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
    u = as_arm(users, "users")
    c = as_arm(controls, "controls")
    split = bool(arms) and end is not None
    s = _stride(u.data.sizes["time"])
    t_all = time_days(u.data)[s]
    t, unit = _time_axis(t_all)
    scale = 365.25 if unit == "years" else 1.0
    done: dict[tuple[str, str], np.ndarray] = {}  # regions of one variable share one read

    def read(group: Arm, var: str, stride: slice) -> np.ndarray:
        if (group.name, var) not in done:
            done[group.name, var] = series(group.data, var, stride)
        return done[group.name, var]

    for ax, (var, k, title) in zip(axes, panels, strict=False):
        style_panel(ax, title)
        if var not in u.data:
            no_data(ax)
            continue
        x = read(u, var, s)
        x = x if k is None else x[..., k]
        if split:
            upto = t_all <= end + 1e-9
            median_band(ax, t[upto], x[:, upto], COLORS[0], u.label)
            for j, arm in enumerate(arms):
                if var not in arm.data:
                    continue
                sa = _stride(arm.data.sizes["time"])
                ta = time_days(arm.data)[sa]
                after = ta >= end - 1e-9
                xa = read(arm, var, sa)
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
            tc, _ = _time_axis(time_days(c.data)[sc])
            xc = read(c, var, sc)
            median_band(ax, tc, xc if k is None else xc[..., k], CONTROL_COLOR, c.label, band=False)
        if end is not None:
            ax.axvline(end / scale, color="k", ls=":", lw=0.9)
        key = var if k is None else f"{var}:{regions(u.data, var)[k]}"
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
    u = as_arm(users, "users")
    names = regions(u.data, GM) if GM in u.data else []
    rows = max(1, int(np.ceil(len(names) / 5)))
    fig, axes = panel_grid(
        (13, 2.7 * rows + 0.9), rows, 5, suptitle=True, legend=True, sharey=True, wgap=0.25
    )
    axes = axes.ravel()
    _trajectories(axes, u, controls, [(GM, k, r) for k, r in enumerate(names)], end, arms)
    for ax in axes[len(names) :]:
        ax.set_axis_off()
    if not names:
        no_data(axes[0])
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
    u = as_arm(users, "users")
    tracts = regions(u.data, FA) if FA in u.data else ["white matter"]
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
    style_panel(ax, "cognitive domains: Cohen's d, users vs controls (negative = users worse)")
    domains = list(next(iter(effects.values())).keys()) if effects else []
    if not domains:
        no_data(ax)
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
    known = cognition_literature()
    for i, dom in enumerate(domains):
        if dom in known:
            text, lo, hi, _ = known[dom]
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
        style_panel(ax, g)
        lines = curves.get(g, {})
        if not lines:
            no_data(ax, "no abstinence recorded")
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
