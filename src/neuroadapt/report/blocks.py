"""Blocks of the report's data-driven sections: paragraphs, figures, tables, notes.

A section built in Python (the brain sections, the behaviour section) is a
list of blocks, each a dict with a ``kind`` the template draws (``p``,
``img``, ``table``, ``desc``, ``note``; ``html`` for trusted markup), made
by the functions here. :func:`literature_blocks` adds the table of the
calibration rows a scale is held to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

__all__ = [
    "LITERATURE_HEADER",
    "Block",
    "description_block",
    "image_block",
    "literature_blocks",
    "literature_rows",
    "note_block",
    "paragraph_block",
    "table_block",
]

Block = dict[str, Any]


def paragraph_block(text: str) -> Block:
    """A paragraph of text."""
    return {"kind": "p", "text": text}


def image_block(fig: Figure, alt: str) -> Block:
    """A figure, embedded as a PNG, with its alternative text."""
    from neuroadapt.report.plotting import to_data_uri

    return {"kind": "img", "src": to_data_uri(fig), "alt": alt}


def table_block(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Block:
    """A table: its header and rows of text."""
    return {"kind": "table", "header": list(header), "rows": [list(r) for r in rows]}


def description_block(text: str) -> Block:
    """The description under a figure or table."""
    return {"kind": "desc", "text": text}


def note_block(text: str) -> Block:
    """A note saying why something is not shown."""
    return {"kind": "note", "text": text}


def literature_rows(
    calibration: Sequence[Mapping[str, Any]], scales: Sequence[str], cite: Callable[[str, str], str]
) -> list[list[str]]:
    """Rows of :data:`LITERATURE_HEADER` for the calibration rows of ``scales``.

    ``cite(source, user)`` returns the citation marker of a source.
    """
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


#: Columns of the literature table of a scale.
LITERATURE_HEADER = (
    "finding",
    "species",
    "literature value",
    "model (calibration protocol)",
    "verdict",
    "source",
)


def literature_blocks(
    calibration: Sequence[Mapping[str, Any]], scales: Sequence[str], cite: Callable[[str, str], str]
) -> list[Block]:
    """A paragraph and the table of the literature ``scales`` are held to (none without rows)."""
    rows = literature_rows(calibration, scales, cite)
    if not rows:
        return []
    return [
        paragraph_block(
            "The literature this scale is held to, with the model's value under each "
            "study's own protocol (from the calibration run):"
        ),
        table_block(LITERATURE_HEADER, rows),
    ]
