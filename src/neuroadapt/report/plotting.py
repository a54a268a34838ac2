"""Shared drawing helpers of the report's figures: panel grids, legends, bands, PNG URIs.

Every figure of the report is built on these, without pyplot, so no global
state or GUI backend is involved: :func:`panel_grid` lays out panels on fixed
margins, :func:`style_panel` and :func:`no_data` dress one panel,
:func:`median_band` draws a median and 5-95 % band over subjects (with
:func:`nan_quantiles`, numpy's quantiles of every column at once) and
:func:`to_data_uri` renders a figure as an embedded PNG.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from neuroadapt.report.rendering import figure_uri

__all__ = [
    "COLORS",
    "figure_legend",
    "median_band",
    "nan_quantiles",
    "no_data",
    "panel_grid",
    "style_panel",
    "to_data_uri",
]

#: The colours of the groups and lines of every figure, in order.
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


def to_data_uri(fig: Figure, dpi: int = 96) -> str:
    """Render a figure as a ``data:image/png;base64,...`` URI.

    Inside :func:`neuroadapt.report.rendering.deferred_figures` this is a
    placeholder that a worker process's PNG replaces when the report is done.
    """
    return figure_uri(fig, dpi)


#: Margins of the panel grids in inches: left (tick labels and y label), right, top
#: (panel titles), bottom (x label), and the gaps between panels.
MARGINS_IN = {"left": 0.62, "right": 0.18, "top": 0.34, "bottom": 0.46, "wgap": 0.58, "hgap": 0.72}
#: Extra room (inches) for a figure title and for a legend row under the panels.
SUPTITLE_IN = 0.3
LEGEND_IN = 0.32


def panel_grid(
    figsize: tuple[float, float],
    rows: int,
    cols: int,
    *,
    suptitle: bool = False,
    legend: bool = False,
    left: float | None = None,
    right: float | None = None,
    bottom: float | None = None,
    wgap: float | None = None,
    **kwargs: Any,
) -> tuple[Figure, np.ndarray]:
    """A figure with a ``rows x cols`` grid of panels on fixed margins (in inches).

    Fixed margins replace matplotlib's constrained layout, which measured every
    text on every draw and was most of the report's time; the margins fit the
    small fonts used here (:func:`style_panel`). ``suptitle`` and ``legend`` reserve
    room for a figure title and a legend row below the panels; ``left``,
    ``right``, ``bottom`` and ``wgap`` (inches) replace the margins of
    :data:`MARGINS_IN`; ``kwargs`` go to
    :meth:`~matplotlib.figure.Figure.subplots` (``sharey``, ``width_ratios``...).
    """
    w, h = figsize
    m = MARGINS_IN
    top = m["top"] + (SUPTITLE_IN if suptitle else 0.0)
    bottom = (m["bottom"] if bottom is None else bottom) + (LEGEND_IN if legend else 0.0)
    lft = m["left"] if left is None else left
    r = m["right"] if right is None else right
    gap_w = m["wgap"] if wgap is None else wgap
    aw = (w - lft - r - gap_w * (cols - 1)) / cols
    ah = (h - top - bottom - m["hgap"] * (rows - 1)) / rows
    fig = Figure(figsize=figsize)
    axes = fig.subplots(
        rows,
        cols,
        squeeze=False,
        gridspec_kw={
            "left": lft / w,
            "right": 1 - r / w,
            "top": 1 - top / h,
            "bottom": bottom / h,
            "wspace": gap_w / aw,
            "hspace": m["hgap"] / ah,
        },
        **kwargs,
    )
    return fig, axes


def figure_legend(fig: Figure, axes: Iterable[Axes], fontsize: float = 8) -> None:
    """One legend row at the bottom of the figure from the first panel that has entries."""
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            fig.legend(
                handles,
                labels,
                loc="lower center",
                ncol=len(labels),
                fontsize=fontsize,
                frameon=False,
                bbox_to_anchor=(0.5, 0.0),
            )
            return


def no_data(ax: Axes, text: str = "not recorded") -> None:
    """Blank a panel with a grey note in its middle (``not recorded`` by default)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def style_panel(ax: Axes, title: str) -> None:
    """A panel's title, tick labels and grid in the report's small style."""
    ax.set_title(title, fontsize=9.5)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.25)


def nan_quantiles(x: np.ndarray, q: Iterable[float]) -> np.ndarray:
    """``np.nanquantile(x, q, axis=0)`` (linear method) of a 2-D array, all columns at once.

    numpy's nanquantile loops over the columns of an array with NaNs in Python
    (about 15 ms for 1,000 subjects x 150 times); one sort of the whole array,
    where NaNs go last, gives every column's order statistics at once. The
    virtual index ``(n - 1) q`` and the interpolation are numpy's
    ("linear", Hyndman and Fan's method 7), so the values are the same
    (tested against numpy). An all-NaN column gives NaN.
    """
    s = np.sort(np.asarray(x, dtype=float), axis=0)
    n = (~np.isnan(s)).sum(axis=0)  # values per column: they come first
    qs = np.asarray(list(q), dtype=float)[:, None]
    h = (n[None, :] - 1) * qs
    lo = np.floor(h)
    gamma = h - lo
    top = np.maximum(n - 1, 0)[None, :]
    i0 = np.clip(lo, 0, top).astype(np.int64)
    i1 = np.clip(lo + 1, 0, top).astype(np.int64)
    a = np.take_along_axis(s, i0, axis=0)
    b = np.take_along_axis(s, i1, axis=0)
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1.0 - gamma), out=out, where=gamma >= 0.5)
    out[:, n == 0] = np.nan
    return out


def median_band(
    ax: Axes,
    t: np.ndarray,
    x: np.ndarray,
    color: str,
    label: str,
    band: bool = True,
    band_label: str | None = None,
    alpha: float = 0.22,
    lw: float = 1.4,
) -> None:
    """Median and 5-95 % band over subjects (``x``: subject x time) on ``ax``."""
    with np.errstate(invalid="ignore"):  # infinite values interpolate to NaN, as in numpy
        q = nan_quantiles(x, (0.05, 0.5, 0.95))
    q[:, ~np.isfinite(x).any(axis=0)] = np.nan
    if band:
        ax.fill_between(t, q[0], q[2], color=color, alpha=alpha, lw=0, label=band_label)
    ax.plot(t, q[1], color=color, lw=lw, label=label)
