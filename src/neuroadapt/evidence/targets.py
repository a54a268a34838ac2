"""Calibration targets: published quantitative findings the model is held to.

``targets.csv`` beside this module is a copy of the project's literature
target table (``shared/literature/targets.csv``; a test checks that the two
agree when the shared folder is present). ``extra_targets.csv`` holds
findings the developers read and added themselves, in the same format.
Each row carries its citation; the report and ``neuroadapt calibrate``
cite the original paper, not the table.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class Target:
    """One published finding."""

    id: str
    scale: str
    species: str
    quantity: str
    kind: str
    value: float
    low: float
    high: float
    unit: str
    condition: str
    source: str
    ref: str
    confidence: str

    def literature_text(self) -> str:
        """The literature value as a short human-readable string."""
        if self.kind in ("direction", "shape") and math.isnan(self.value):
            return self.quantity
        if not math.isnan(self.value):
            text = f"{self.value:g} {self.unit}".strip()
            if not math.isnan(self.low):
                text += f" ({self.low:g}-{self.high:g})"
            return text
        return f"{self.low:g}-{self.high:g} {self.unit}".strip()


def _num(text: str) -> float:
    return float(text) if text not in ("", None) else math.nan


TARGET_FILES = ("targets.csv", "extra_targets.csv")


@cache
def load_targets(names: tuple[str, ...] = TARGET_FILES) -> dict[str, Target]:
    """Load every target of the given files, keyed by id."""
    rows = []
    for name in names:
        text = files("neuroadapt.evidence").joinpath(name).read_text(encoding="utf-8")
        rows.extend(csv.DictReader(text.splitlines()))
    out: dict[str, Target] = {}
    for row in rows:
        if row["id"] in out:
            raise ValueError(f"target id '{row['id']}' appears twice")
        out[row["id"]] = Target(
            id=row["id"],
            scale=row["scale"],
            species=row["species"],
            quantity=row["quantity"],
            kind=row["kind"],
            value=_num(row["value"]),
            low=_num(row["low"]),
            high=_num(row["high"]),
            unit=row["unit"],
            condition=row["condition"],
            source=row["source"],
            ref=row["pmid_or_doi"],
            confidence=row["confidence"],
        )
    return out
