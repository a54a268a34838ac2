"""Mechanism diagrams drawn from the model's structure tables.

Nothing here is hand-placed for a particular model: nodes and arrows come
from :data:`neuroadapt.model.system.SIGNALLING_PATHWAY` and
:data:`~neuroadapt.model.system.MODULES` / :data:`~neuroadapt.model.system.COUPLINGS`,
and positions from a layered (longest-path) layout, so a pathway edge or a
module added to those tables appears in the report without editing this file.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from neuroadapt.model.system import COUPLINGS, MODULES, SIGNALLING_PATHWAY, Coupling, Module

__all__ = [
    "draw_pathway",
    "layered_layout",
    "pathway_figure",
    "structure_figure",
    "structure_png",
]

ACTIVATE = "#1b7837"
INHIBIT = "#b2182b"
CHRONIC = "#e08214"
NODE_FACE = "#f7f7f7"


def layered_layout(
    nodes: Sequence[str], edges: Iterable[tuple[str, str]], spacing: float = 1.6
) -> dict[str, tuple[float, float]]:
    """Place nodes in layers by longest path from the sources.

    Parameters
    ----------
    nodes
        Node names (order breaks ties within a layer).
    edges
        Directed ``(source, target)`` pairs; must form an acyclic graph.
    spacing
        Distance between neighbours within a layer.

    Returns
    -------
    dict
        Node to ``(position within layer, layer)``; layer 0 holds the sources.
    """
    edges = list(edges)
    layer = dict.fromkeys(nodes, 0)
    for _ in range(len(nodes)):  # Bellman-Ford style relaxation of longest paths
        changed = False
        for a, b in edges:
            if layer[b] < layer[a] + 1:
                layer[b], changed = layer[a] + 1, True
        if not changed:
            break
    else:
        raise ValueError("layered_layout: the graph has a cycle")
    pos: dict[str, tuple[float, float]] = {}
    for lay in sorted(set(layer.values())):
        members = [n for n in nodes if layer[n] == lay]
        xs = (np.arange(len(members)) - (len(members) - 1) / 2.0) * spacing
        for n, x in zip(members, xs, strict=True):
            pos[n] = (float(x), float(lay))
    return pos


def _pathway_positions(edges: Sequence) -> dict[str, tuple[float, float]]:
    """Backbone (acute) nodes in layers top-down; chronic-only nodes in a side column."""
    nodes = list(dict.fromkeys(n for e in edges for n in (e.source, e.target)))
    backbone = [e for e in edges if not e.chronic_only]
    core = list(dict.fromkeys(n for e in backbone for n in (e.source, e.target)))
    lay = layered_layout(core, [(e.source, e.target) for e in backbone])
    pos = {n: (x, -y) for n, (x, y) in lay.items()}
    side_x = max((x for x, _ in pos.values()), default=0.0) + 2.0
    for n in nodes:
        if n in pos:
            continue
        ys = [
            pos[m][1]
            for e in edges
            for m in (e.source, e.target)
            if n in (e.source, e.target) and m != n and m in pos
        ]
        pos[n] = (side_x, float(np.mean(ys)) if ys else 0.0)
    return pos


def _box(
    ax: Axes,
    xy: tuple[float, float],
    label: str,
    wrap: int,
    fontsize: float,
    face: str = NODE_FACE,
    edge: str = "#404040",
    char_w: float = 0.085,
    line_h: float = 0.2,
) -> tuple[float, float]:
    """Draw a rounded box with a wrapped label; return its (width, height) in data units."""
    lines = textwrap.wrap(label, wrap, break_long_words=False) or [label]
    w = char_w * fontsize / 9.0 * max(len(s) for s in lines) + 2.5 * char_w
    h = line_h * fontsize / 9.0 * len(lines) + 0.8 * line_h
    ax.add_patch(
        FancyBboxPatch(
            (xy[0] - w / 2, xy[1] - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor=face,
            edgecolor=edge,
            linewidth=1.0,
            zorder=2,
        )
    )
    ax.text(xy[0], xy[1], "\n".join(lines), ha="center", va="center", fontsize=fontsize, zorder=3)
    return w, h


def _edge_point(c: np.ndarray, size: tuple[float, float], d: np.ndarray) -> np.ndarray:
    """Where the ray from box centre ``c`` in direction ``d`` leaves the box."""
    w, h = size
    tx = (w / 2) / abs(d[0]) if abs(d[0]) > 1e-12 else np.inf
    ty = (h / 2) / abs(d[1]) if abs(d[1]) > 1e-12 else np.inf
    return c + d * min(tx, ty)


def _arrow(
    ax: Axes,
    p0,
    s0,
    p1,
    s1,
    sign: int,
    color: str,
    style: str = "-",
    rad: float = 0.0,
    lw: float = 1.6,
) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(p0, float), np.asarray(p1, float)
    d = (b - a) / max(np.linalg.norm(b - a), 1e-12)
    start, end = _edge_point(a, s0, d), _edge_point(b, s1, -d)
    head = "-|>,head_length=0.5,head_width=0.25" if sign > 0 else "-[,widthB=0.9,lengthB=0.0"
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle=head,
            mutation_scale=14,
            color=color,
            linewidth=lw,
            linestyle=style,
            shrinkA=1,
            shrinkB=1 if sign > 0 else 3,
            connectionstyle=f"arc3,rad={rad}",
            zorder=1,
        )
    )
    return start, end


def draw_pathway(
    ax: Axes,
    chronic: bool,
    edges: Sequence = SIGNALLING_PATHWAY,
    notes: Mapping[str, str] | None = None,
    title: str | None = None,
) -> None:
    """Draw the MOR signalling pathway under acute or chronic exposure on ``ax``.

    Parameters
    ----------
    ax
        Axes to draw on (its axis lines are hidden).
    chronic
        Draw the ``chronic_only`` edges and the nodes only they touch.
    edges
        Signed pathway edges (``source``, ``target``, ``sign``, ``chronic_only``).
    notes
        Optional text shown under a node (for example a simulated value).
    title
        Panel title.
    """
    pos = _pathway_positions(edges)
    shown = [e for e in edges if chronic or not e.chronic_only]
    visible = list(dict.fromkeys(n for e in shown for n in (e.source, e.target)))
    sizes = {}
    for n in visible:
        is_chronic_node = all(e.chronic_only for e in edges if n in (e.source, e.target))
        sizes[n] = _box(ax, pos[n], n, 15, 8.5, face="#fde0b2" if is_chronic_node else NODE_FACE)
        if notes and n in notes:
            ax.text(
                pos[n][0],
                pos[n][1] - sizes[n][1] / 2 - 0.08,
                notes[n],
                ha="center",
                va="top",
                fontsize=7.5,
                style="italic",
                color="#333333",
                zorder=3,
            )
    for e in shown:
        color = CHRONIC if e.chronic_only else (ACTIVATE if e.sign > 0 else INHIBIT)
        _arrow(
            ax,
            pos[e.source],
            sizes[e.source],
            pos[e.target],
            sizes[e.target],
            e.sign,
            color,
            "--" if e.chronic_only else "-",
        )
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 1.3, max(xs) + 1.3)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.6)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)


def _legend(ax: Axes) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=ACTIVATE, lw=1.6, label="activates (+)"),
        Line2D([], [], color=INHIBIT, lw=1.6, label="inhibits (-)"),
        Line2D([], [], color=CHRONIC, lw=1.6, ls="--", label="chronic exposure only"),
    ]
    ax.legend(handles=handles, loc="lower left", fontsize=7.5, frameon=False)


def pathway_figure(
    edges: Sequence = SIGNALLING_PATHWAY, notes: Mapping[str, Mapping[str, str]] | None = None
) -> Figure:
    """Two panels, acute and chronic: mu-opioid receptor signalling under heroin exposure.

    Parameters
    ----------
    edges
        Signed pathway edges (default: the model's :data:`SIGNALLING_PATHWAY`).
    notes
        Optional ``{"acute": {node: text}, "chronic": {node: text}}``.
    """
    notes = notes or {}
    fig = Figure(figsize=(10, 5.2))
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.9, wspace=0.05)
    axes = fig.subplots(1, 2)
    draw_pathway(axes[0], False, edges, notes.get("acute"), "acute exposure")
    draw_pathway(axes[1], True, edges, notes.get("chronic"), "chronic exposure")
    _legend(axes[1])
    fig.suptitle(
        "mu-opioid receptor signalling under acute and chronic heroin exposure", fontsize=11
    )
    return fig


def structure_figure(
    modules: Sequence[Module] = MODULES, couplings: Sequence[Coupling] = COUPLINGS
) -> Figure:
    """The model's modules and the named couplings between them, in two bands.

    The fast layer (dosing to respiration, minute resolution) runs along the
    top; the brain modules (daily clock) sit below in dependency columns.
    Couplings within a band are labelled arrows; the fast layer feeds the
    brain modules through its daily records (``model.system.DRIVERS``),
    drawn as one arrow with the driver names, and each brain module lists
    the fast-layer quantities it reads.
    """
    fast = [m for m in modules if m.kind == "fast"]
    brain = [m for m in modules if m.kind == "brain"]
    kinds = {m.name: m.kind for m in modules}
    inner = [c for c in couplings if kinds[c.source] == kinds[c.target]]
    down = [c for c in couplings if kinds[c.source] == "fast" and kinds[c.target] == "brain"]
    fig = Figure(figsize=(13, 6.4))
    fig.subplots_adjust(left=0.005, right=0.995, bottom=0.01, top=0.94)
    ax = fig.subplots()
    color, pos, sizes = "#2b5d8a", {}, {}
    for k, m in enumerate(fast):
        pos[m.name] = (k * 3.0, 0.0)
    brain_names = [m.name for m in brain]
    lay = layered_layout(
        brain_names,
        [(c.source, c.target) for c in inner if c.source in brain_names],
        spacing=1.15,
    )
    first = min(x for x, _ in lay.values())
    for name, (x, y) in lay.items():
        pos[name] = (1.2 + y * 4.2, -2.2 - (x - first))
    reads = {}
    for c in down:
        reads.setdefault(c.target, []).extend(q.strip() for q in c.quantity.split(","))
    for m in modules:
        face = "#deebf7" if m.kind == "fast" else "#e5f5e0"
        label = m.title
        if m.kind == "brain":
            label = m.title.capitalize()
        sizes[m.name] = _box(ax, pos[m.name], label, 22, 8.5, face=face, char_w=0.1, line_h=0.22)
        if m.name in reads:
            x, y = pos[m.name]
            text = "\n".join(textwrap.wrap("reads " + ", ".join(dict.fromkeys(reads[m.name])), 34))
            ax.text(x, y - sizes[m.name][1] / 2 - 0.05, text, ha="center", va="top",
                    fontsize=6.5, color="#555555", zorder=3)  # fmt: skip
    for c in inner:
        (x0, y0), (x1, y1) = pos[c.source], pos[c.target]
        skip = kinds[c.source] == "fast" and abs(x1 - x0) > 3.5
        start, end = _arrow(
            ax, (x0, y0), sizes[c.source], (x1, y1), sizes[c.target], +1, color,
            rad=-0.35 if skip else 0.0, lw=1.2,
        )  # fmt: skip
        # brain arrows are labelled near their start: several may end at one box
        xm, ym = (start + end) / 2 if kinds[c.source] == "fast" else start + 0.3 * (end - start)
        if skip:
            ym += 0.45
        label = "\n".join(textwrap.wrap(c.quantity, 22))
        ax.text(xm, ym + 0.05, label, ha="center", va="bottom", fontsize=6.5, color=color, zorder=3)
    xs = [p[0] for p in pos.values()]
    bottom = min(p[1] - sizes[n][1] / 2 for n, p in pos.items()) - 0.5
    ax.add_patch(
        FancyBboxPatch(
            (min(xs) - 1.3, -0.75), max(xs) - min(xs) + 2.6, 1.75,
            boxstyle="round,pad=0.02", facecolor="none", edgecolor="#9ecae1", ls="--", zorder=0,
        )
    )  # fmt: skip
    ax.text(min(xs) - 1.2, 0.9, "fast layer (minutes; the pharmacology kernel)", fontsize=8,
            va="top", color="#3182bd")  # fmt: skip
    top_brain = max(p[1] + sizes[n][1] / 2 for n, p in pos.items() if kinds[n] == "brain")
    ax.add_patch(
        FancyBboxPatch(
            (min(xs) - 1.3, bottom), max(xs) - min(xs) + 2.6, top_brain + 0.55 - bottom,
            boxstyle="round,pad=0.02", facecolor="none", edgecolor="#a1d99b", ls="--", zorder=0,
        )
    )  # fmt: skip
    ax.text(min(xs) - 1.2, top_brain + 0.5, "brain modules (daily clock)", fontsize=8,
            va="top", color="#31a354")  # fmt: skip
    drivers = sorted({q.strip() for c in down for q in c.quantity.split(",")})
    xmid = (min(xs) + max(xs)) / 2
    ax.add_patch(
        FancyArrowPatch(
            (xmid, -0.78), (xmid, top_brain + 0.58), arrowstyle="simple,head_width=0.9",
            mutation_scale=14, color="#bdbdbd", zorder=0,
        )
    )  # fmt: skip
    ax.text(xmid + 0.2, (top_brain - 0.2) / 2, "daily records: " + ", ".join(drivers),
            fontsize=7, color="#636363", va="center")  # fmt: skip
    ax.set_xlim(min(xs) - 1.5, max(xs) + 1.5)
    ax.set_ylim(bottom - 0.1, 1.0)
    ax.set_axis_off()
    ax.set_title(
        f"Model structure: {len(modules)} modules (model/system.py) and the couplings between them",
        fontsize=11,
    )
    return fig


def structure_png() -> str:
    """The :func:`structure_figure` as a PNG data URI, drawn once per code version."""
    from neuroadapt.report.figcache import cached_png

    return cached_png("model-structure", structure_figure)
