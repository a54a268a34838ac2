"""The calibration table as Markdown, for docs/calibration.md.

``neuroadapt calibrate --markdown docs/calibration.md`` keeps the file's text
up to its ``## Current table`` heading and rewrites everything after it: the
counts, the table, and the notes on misses and conflicts.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from neuroadapt.evidence.checks import CalibrationResult

__all__ = ["calibration_markdown", "update_calibration_doc"]

HEADING = "## Current table"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def calibration_markdown(results: list[CalibrationResult]) -> str:
    """The ``## Current table`` section: counts, one row per target, notes on misses."""
    counts = Counter(r.verdict for r in results)
    lines = [
        HEADING,
        "",
        "Generated with `neuroadapt calibrate --markdown docs/calibration.md` ("
        + ", ".join(f"{v}: {n}" for v, n in sorted(counts.items()))
        + ").",
        "",
        "| target | species | literature | model | status | verdict | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        model = f"{r.model} {r.unit}".strip()
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (r.id, r.species, r.literature, model, r.status, r.verdict, r.source)
            )
            + " |"
        )
    lines += ["", "## Notes on misses and conflicts", ""]
    for r in results:
        if r.verdict in ("explained miss", "miss", "conflict") and r.note:
            lines.append(f"- **{r.id}** ({r.verdict}): {_cell(r.note)}")
    return "\n".join(lines) + "\n"


def update_calibration_doc(path: Path, results: list[CalibrationResult]) -> str:
    """Text of ``path`` with its table section replaced (or appended)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Calibration\n\n"
    head = text.split(HEADING, 1)[0].rstrip() + "\n\n"
    return head + calibration_markdown(results)
